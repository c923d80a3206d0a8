//! `GET /metrics`: every series and node-wide counter in the Prometheus text exposition
//! format (version 0.0.4). `docs/metrics.md` lists the names and labels.
//!
//! Written by hand rather than with the `prometheus` or `prometheus-client` crates: with
//! them, the per-request `status` label is a hash lookup behind a lock (their vectors
//! resolve label values per call), and `prometheus-client`'s histograms take a lock per
//! observation; here every counter a request touches is an atomic resolved at
//! config-apply time, and the text format itself is a few lines.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HeaderValue, CONTENT_TYPE};
use http::Response;

use apigw_gateway::body::Body;

use super::series::{push_label, Histogram, BUCKETS};
use super::Registry;
use crate::limits::Limiter;

/// The exposition format's content type.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `/metrics` response.
pub fn response(registry: &Registry, limiter: &Limiter) -> Response<Body> {
    let mut response = Response::new(Body::full(render(registry, limiter)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_TEXT));
    response
}

/// Renders everything.
pub fn render(registry: &Registry, limiter: &Limiter) -> String {
    let series = registry.all();
    let mut out = String::with_capacity(4096 + series.len() * 2048);

    header(
        &mut out,
        "apigw_requests_total",
        "counter",
        "Requests served, by API, stage and HTTP status (and method and resource when the stage turns on detailed metrics).",
    );
    for s in &series {
        for (status, n) in s.statuses() {
            let _ = writeln!(
                out,
                "apigw_requests_total{{{},status=\"{status}\"}} {n}",
                s.labels
            );
        }
    }

    header(
        &mut out,
        "apigw_latency_seconds",
        "histogram",
        "Latency: from the request's arrival to its response head, by API, stage and HTTP status.",
    );
    for s in &series {
        for (status, h) in s.histograms() {
            let labels = format!("{},status=\"{status}\"", s.labels);
            histogram(&mut out, "apigw_latency_seconds", &labels, &h.latency);
        }
    }
    header(
        &mut out,
        "apigw_integration_latency_seconds",
        "histogram",
        "IntegrationLatency: the integration's part of requests that reached it.",
    );
    for s in &series {
        for (status, h) in s.histograms() {
            let labels = format!("{},status=\"{status}\"", s.labels);
            histogram(
                &mut out,
                "apigw_integration_latency_seconds",
                &labels,
                &h.integration_latency,
            );
        }
    }

    header(
        &mut out,
        "apigw_gateway_responses_total",
        "counter",
        "Requests the gateway itself answered, by gateway response type (THROTTLED, QUOTA_EXCEEDED, INTEGRATION_TIMEOUT, ...).",
    );
    for s in &series {
        for (kind, n) in s.responses() {
            let _ = writeln!(
                out,
                "apigw_gateway_responses_total{{{},type=\"{kind}\"}} {n}",
                s.labels
            );
        }
    }

    header(
        &mut out,
        "apigw_function_invocations_total",
        "counter",
        "Calls of function (AWS, AWS_PROXY Lambda) integrations.",
    );
    for s in &series {
        let n = s.functions();
        if n > 0 {
            let _ = writeln!(out, "apigw_function_invocations_total{{{}}} {n}", s.labels);
        }
    }

    header(
        &mut out,
        "apigw_cache_requests_total",
        "counter",
        "Requests of cached methods, by whether the stage cache answered (result=\"hit\") or not (\"miss\").",
    );
    for s in &series {
        let (hits, misses) = s.cache();
        if hits + misses > 0 {
            let _ = writeln!(
                out,
                "apigw_cache_requests_total{{{},result=\"hit\"}} {hits}",
                s.labels
            );
            let _ = writeln!(
                out,
                "apigw_cache_requests_total{{{},result=\"miss\"}} {misses}",
                s.labels
            );
        }
    }

    header(
        &mut out,
        "apigw_websocket_events_total",
        "counter",
        "WebSocket API events by API, stage (and route with detailed metrics): event=\"connect\" (ConnectCount), \"message\" (MessageCount, both directions), \"client_error\", \"integration_error\", \"execution_error\".",
    );
    for s in &series {
        for (event, n) in s.ws_events() {
            let _ = writeln!(
                out,
                "apigw_websocket_events_total{{{},event=\"{}\"}} {n}",
                s.labels,
                event.label()
            );
        }
    }
    header(
        &mut out,
        "apigw_websocket_integration_latency_seconds",
        "histogram",
        "WebSocket IntegrationLatency: the integration's time for $connect, messages and $disconnect (not MOCK).",
    );
    for s in series.iter().filter(|s| s.key.websocket) {
        histogram(
            &mut out,
            "apigw_websocket_integration_latency_seconds",
            &s.labels,
            s.ws_integration_latency(),
        );
    }

    counter(
        &mut out,
        "apigw_requests_unrouted_total",
        "Requests that named no API stage deployed on this node (or a non-invoke host path other than the node's endpoints).",
        registry.unknown_stage.load(Relaxed),
    );

    let applied_at = registry.config_applied_at.load(Relaxed);
    gauge(
        &mut out,
        "apigw_config_version",
        "The config version applied last (0: none yet).",
        registry.config_version.load(Relaxed) as f64,
    );
    gauge(
        &mut out,
        "apigw_config_applied_timestamp_seconds",
        "When the last config was applied (Unix seconds; 0: never).",
        applied_at as f64,
    );
    if applied_at > 0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        gauge(
            &mut out,
            "apigw_config_age_seconds",
            "Seconds since the last config was applied.",
            (now as i64 - applied_at).max(0) as f64,
        );
    }

    let builds = &registry.config_builds;
    counter(
        &mut out,
        "apigw_config_stages_compiled_total",
        "Stages compiled to build served configs (a delta compiles only the stages it upserts).",
        builds.stages_compiled.load(Relaxed),
    );
    gauge(
        &mut out,
        "apigw_config_last_full_update_bytes",
        "Encoded size of the last full config update received (0: none yet).",
        builds.full_bytes.load(Relaxed) as f64,
    );
    gauge(
        &mut out,
        "apigw_config_last_full_build_seconds",
        "Time to build the state of the last full config update (compile, off the request threads).",
        builds.full_build_us.load(Relaxed) as f64 / 1e6,
    );
    gauge(
        &mut out,
        "apigw_config_last_delta_bytes",
        "Encoded size of the last config delta received (0: none yet).",
        builds.delta_bytes.load(Relaxed) as f64,
    );
    gauge(
        &mut out,
        "apigw_config_last_delta_build_seconds",
        "Time to build the state of the last config delta.",
        builds.delta_build_us.load(Relaxed) as f64 / 1e6,
    );

    let opened = registry.connections_opened.load(Relaxed);
    let closed = registry.connections_closed.load(Relaxed);
    counter(
        &mut out,
        "apigw_connections_total",
        "Client connections accepted.",
        opened,
    );
    gauge(
        &mut out,
        "apigw_open_connections",
        "Client connections open now.",
        opened.saturating_sub(closed) as f64,
    );

    counter(
        &mut out,
        "apigw_redis_admission_calls_total",
        "Round trips to Redis for admission (token buckets, quotas, usage counts); leases and memos spare most.",
        limiter.redis_calls(),
    );
    counter(
        &mut out,
        "apigw_redis_admissions_total",
        "Admissions sent to Redis in those round trips: concurrent requests of a node share one call, so admissions / calls is the mean batch.",
        limiter.redis_admissions(),
    );
    counter(
        &mut out,
        "apigw_redis_fallback_admissions_total",
        "Admissions decided locally because Redis was unreachable (the node's share of each limit, or refused with --limits-fail-closed).",
        limiter.fallback_admissions(),
    );
    gauge(
        &mut out,
        "apigw_redis_up",
        "1 while the limits are shared through Redis, 0 while the node falls back (or runs without Redis).",
        if limiter.shared() { 1.0 } else { 0.0 },
    );

    let stats = &registry.shipper;
    header(
        &mut out,
        "apigw_metrics_shipments_total",
        "counter",
        "Per-minute metrics shipments sent to the control plane, by result (ok, failed: retried, rejected: dropped).",
    );
    for (result, n) in [
        ("ok", stats.ok.load(Relaxed)),
        ("failed", stats.failed.load(Relaxed)),
        ("rejected", stats.rejected.load(Relaxed)),
    ] {
        let _ = writeln!(
            out,
            "apigw_metrics_shipments_total{{result=\"{result}\"}} {n}"
        );
    }
    gauge(
        &mut out,
        "apigw_metrics_backlog_shipments",
        "Shipments waiting to be accepted by the control plane.",
        stats.backlog.load(Relaxed) as f64,
    );
    counter(
        &mut out,
        "apigw_metrics_backlog_merges_total",
        "Drains merged into the newest queued shipment because the backlog was full (nothing is dropped).",
        stats.merged.load(Relaxed),
    );
    let logs = &registry.logs;
    counter(
        &mut out,
        "apigw_log_lines_written_total",
        "Access and execution log lines handed to the node's log writer.",
        logs.written.load(Relaxed),
    );
    counter(
        &mut out,
        "apigw_log_lines_dropped_total",
        "Access and execution log lines dropped: the writer's queue was full, or the shipper's backlog overflowed.",
        logs.dropped.load(Relaxed),
    );
    counter(
        &mut out,
        "apigw_log_shipments_total",
        "Log shipments accepted by the control plane.",
        logs.shipped.load(Relaxed),
    );
    counter(
        &mut out,
        "apigw_log_ship_failures_total",
        "Log shipment calls that failed (each is retried with the same seq).",
        logs.ship_failures.load(Relaxed),
    );
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    let (cumulative, sum) = h.read();
    let total = cumulative[BUCKETS.len()];
    if total == 0 {
        return;
    }
    for (bound, n) in BUCKETS.iter().zip(cumulative.iter()) {
        let mut le = String::new();
        push_label(&mut le, "le", &bound.to_string());
        let _ = writeln!(out, "{name}_bucket{{{labels},{le}}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {total}");
}
