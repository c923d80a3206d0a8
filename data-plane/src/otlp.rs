//! OTLP export of the spans of stages with `tracingEnabled` (SPEC §10, issue 16).
//!
//! The engine decides and records ([`apigw_gateway::spans`]); this module owns the
//! exporter. Each sampled request becomes a server span `{METHOD} {resourcePath}` with
//! child spans for the authorizer, the throttle/quota step (when there was something to
//! check: a Redis round trip unless a leased bucket answered) and the integration. The
//! spans go through a bounded queue (`--otlp-queue-size`; when it is full, spans are dropped
//! and counted: [`OtlpSink::dropped`], and a warning says how many) to one task that sends
//! them in batches of at most `--otlp-batch-size` at least every `--otlp-export-interval-ms`,
//! with OpenTelemetry's OTLP exporter over gRPC (tonic) or HTTP/protobuf (hyper).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use apigw_gateway::compile::Integration;
use apigw_gateway::spans::{FinishedTrace, Sampler, SpanSink, Timed, Tracer};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use opentelemetry_sdk::Resource;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cli::{Args, OtlpProtocol};

/// Why the exporter could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the OTLP span exporter: {0}")]
pub struct OtlpError(#[from] opentelemetry_otlp::ExporterBuildError);

/// Enqueues finished requests' spans for export.
#[derive(Debug)]
pub struct OtlpSink {
    queue: mpsc::Sender<SpanData>,
    dropped: Arc<AtomicU64>,
    scope: InstrumentationScope,
}

impl OtlpSink {
    /// Spans dropped so far because the queue was full (or the exporter gone).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn push(&self, span: SpanData) {
        if self.queue.try_send(span).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn span(
        &self,
        trace_id: TraceId,
        span_id: [u8; 8],
        parent: Option<[u8; 8]>,
        remote_parent: bool,
        kind: SpanKind,
        name: Cow<'static, str>,
        (start, end): (SystemTime, SystemTime),
        attributes: Vec<KeyValue>,
        status: Status,
    ) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                trace_id,
                SpanId::from_bytes(span_id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: parent.map_or(SpanId::INVALID, SpanId::from_bytes),
            parent_span_is_remote: remote_parent,
            span_kind: kind,
            name,
            start_time: start,
            end_time: end,
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: self.scope.clone(),
        }
    }

    fn child(
        &self,
        t: &FinishedTrace<'_>,
        span_id: [u8; 8],
        timed: Option<&Timed>,
        kind: SpanKind,
        name: &'static str,
        attributes: Vec<KeyValue>,
    ) {
        let Some(timed) = timed else { return };
        let status = if timed.failed {
            Status::error("")
        } else {
            Status::Unset
        };
        self.push(self.span(
            TraceId::from_bytes(t.spans.trace_id),
            span_id,
            Some(t.spans.span_id),
            false,
            kind,
            Cow::Borrowed(name),
            (timed.start, timed.end),
            attributes,
            status,
        ));
    }
}

impl SpanSink for OtlpSink {
    fn finish(&self, t: &FinishedTrace<'_>) {
        let spans = t.spans;
        let trace_id = TraceId::from_bytes(spans.trace_id);
        let route = t.method.map(|m| &*m.resource_path);
        let name = match route {
            Some(route) => format!("{} {route}", spans.http_method),
            None => spans.http_method.to_string(),
        };
        let mut attributes = vec![
            KeyValue::new("http.request.method", spans.http_method.to_string()),
            KeyValue::new("http.response.status_code", i64::from(t.status.as_u16())),
            KeyValue::new("apigw.api_id", t.stage.api_id.to_string()),
            KeyValue::new("apigw.stage", t.stage.stage_name.to_string()),
            KeyValue::new("apigw.request_id", t.ctx.request_id_str().to_owned()),
        ];
        if let Some(route) = route {
            attributes.push(KeyValue::new("http.route", route.to_owned()));
        }
        if let Some(key) = t.ctx.api_key_id.get() {
            attributes.push(KeyValue::new("apigw.api_key_id", key.to_string()));
        }
        let status = if t.status.is_server_error() {
            Status::error("")
        } else {
            Status::Unset
        };
        self.push(self.span(
            trace_id,
            spans.span_id,
            spans.parent_span_id,
            spans.parent_span_id.is_some(),
            SpanKind::Server,
            Cow::Owned(name),
            (t.ctx.received_at, t.end),
            attributes,
            status,
        ));
        self.child(
            t,
            spans.authorizer_span_id,
            spans.authorizer.get(),
            SpanKind::Internal,
            "authorizer",
            Vec::new(),
        );
        self.child(
            t,
            spans.limits_span_id,
            spans.limits.get(),
            SpanKind::Client,
            "throttle/quota",
            vec![KeyValue::new("db.system.name", "redis")],
        );
        let integration = t.method.map_or("", |m| integration_type(&m.integration));
        self.child(
            t,
            spans.integration_span_id,
            spans.integration.get(),
            SpanKind::Client,
            "integration",
            vec![KeyValue::new("apigw.integration.type", integration)],
        );
    }
}

fn integration_type(integration: &Integration) -> &'static str {
    match integration {
        Integration::Mock(_) => "MOCK",
        Integration::Http(_) => "HTTP",
        Integration::HttpProxy(_) => "HTTP_PROXY",
        Integration::Function(_) => "AWS",
        Integration::FunctionProxy(_) | Integration::HttpApiFunction(_) => "AWS_PROXY",
        Integration::HttpApiProxy(_) => "HTTP_PROXY",
        Integration::Unsupported(_) | Integration::Missing | Integration::Misconfigured(_) => "",
    }
}

/// The endpoint spans are sent to: the traces endpoint as given, else the base endpoint
/// (plus `/v1/traces` over HTTP). `None` when neither is set: no export.
pub fn traces_endpoint(args: &Args) -> Option<String> {
    let non_empty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(endpoint) = non_empty(&args.otlp_traces_endpoint) {
        return Some(endpoint);
    }
    let base = non_empty(&args.otlp_endpoint)?;
    Some(match args.otlp_protocol {
        OtlpProtocol::Grpc => base,
        OtlpProtocol::HttpProtobuf => format!("{}/v1/traces", base.trim_end_matches('/')),
    })
}

/// Builds the node's tracer: the sampler from `--trace-sample-ratio` and, when an OTLP
/// endpoint is configured, the exporter task. Without an endpoint, stages with
/// `tracingEnabled` still propagate trace headers, and no span leaves the node.
/// The exporter task ends once the tracer is dropped and the queue is sent.
pub fn start(args: &Args) -> Result<(Tracer, Option<JoinHandle<()>>), OtlpError> {
    let sampler = Sampler::ratio(args.trace_sample_ratio);
    let Some(endpoint) = traces_endpoint(args) else {
        return Ok((
            Tracer {
                sampler,
                sink: Arc::new(NoExport),
            },
            None,
        ));
    };
    let timeout = Duration::from_secs(10);
    let mut exporter = match args.otlp_protocol {
        OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .with_timeout(timeout)
            .build()?,
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(
                opentelemetry_http::hyper::HyperClient::with_default_connector(timeout, None),
            )
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint.clone())
            .with_timeout(timeout)
            .build()?,
    };
    exporter.set_resource(
        &Resource::builder()
            .with_service_name(args.otel_service_name.clone())
            .build(),
    );
    let (queue, rx) = mpsc::channel(args.otlp_queue_size.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let sink = Arc::new(OtlpSink {
        queue,
        dropped: Arc::clone(&dropped),
        scope: InstrumentationScope::builder("apigw-data-plane")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    });
    tracing::info!(%endpoint, protocol = ?args.otlp_protocol, ratio = args.trace_sample_ratio, "exporting traces by OTLP");
    let task = tokio::spawn(export_loop(
        exporter,
        rx,
        dropped,
        args.otlp_batch_size.max(1),
        Duration::from_millis(args.otlp_export_interval_ms.max(1)),
    ));
    let tracer = Tracer { sampler, sink };
    Ok((tracer, Some(task)))
}

/// Sends queued spans in batches: when a batch is full, and every `interval`.
async fn export_loop(
    exporter: opentelemetry_otlp::SpanExporter,
    mut rx: mpsc::Receiver<SpanData>,
    dropped: Arc<AtomicU64>,
    batch_size: usize,
    interval: Duration,
) {
    let mut batch = Vec::with_capacity(batch_size);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported_drops = 0;
    loop {
        let closed = tokio::select! {
            span = rx.recv() => match span {
                Some(span) => {
                    batch.push(span);
                    if batch.len() < batch_size {
                        continue;
                    }
                    false
                }
                None => true,
            },
            _ = tick.tick() => false,
        };
        if !batch.is_empty() {
            let spans = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            let count = spans.len();
            if let Err(error) = exporter.export(spans).await {
                tracing::warn!(%error, spans = count, "OTLP export failed; spans dropped");
            }
        }
        let dropped = dropped.load(Ordering::Relaxed);
        if dropped > reported_drops {
            tracing::warn!(
                dropped = dropped - reported_drops,
                total = dropped,
                "span queue full: spans dropped"
            );
            reported_drops = dropped;
        }
        if closed {
            return;
        }
    }
}

/// Tracing without an exporter: headers are propagated, spans go nowhere.
struct NoExport;

impl SpanSink for NoExport {
    fn finish(&self, _trace: &FinishedTrace<'_>) {}
}
