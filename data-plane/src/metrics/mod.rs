//! The node's request metrics (issue 15): one end-of-request hook feeding both the
//! Prometheus `/metrics` endpoint ([`prometheus`]) and the per-minute series the
//! [`shipper`] sends to the control plane.
//!
//! Series live in a [`Registry`] keyed by their labels (API id and name, stage, and resource
//! and method when the stage's method settings turn detailed metrics on), so counters stay
//! monotonic across config updates. When the config client applies a config,
//! [`Registry::attach`] resolves each new compiled stage's and method's series and hangs it
//! on the object's `hook_slot`; a request then finds its series through the method (or,
//! when no route matched, the stage) it was served by: no lock, no hash, no allocation,
//! only atomic adds (see [`series`]). Each request is counted in exactly one series: its
//! method's when detailed metrics are on for it, else its stage's.

pub mod prometheus;
pub mod series;
pub mod shipper;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apigw_gateway::compile::websocket::{WsRoute, WsStage};
use apigw_gateway::compile::{CompiledMethod, CompiledStage, Integration};
use apigw_gateway::phases::end::{RequestEnd, RequestSummary};
use apigw_gateway::state::GatewayState;
use apigw_proto::metrics::MinuteSeries;

use crate::request_log::RequestLog;
use series::{Observation, Series, SeriesKey, WsEvent, HTTP_API_METHOD, WEBSOCKET_METHOD};

/// The current minute (Unix seconds / 60, UTC).
pub fn current_minute() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    (secs / 60) as i64
}

/// Every series of this node, and the node-wide counters beside them.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    /// Requests for an API id or stage that is not deployed here.
    pub unknown_stage: AtomicU64,
    /// The config version applied last, and when (Unix seconds; 0 = never).
    pub config_version: AtomicU64,
    /// See [`Registry::config_version`].
    pub config_applied_at: AtomicI64,
    /// What building the served states took (issue 22's scale measurements and the proof
    /// that a delta recompiles only the stages it names).
    pub config_builds: ConfigBuilds,
    /// Connections accepted, and connections closed.
    pub connections_opened: AtomicU64,
    /// See [`Registry::connections_opened`].
    pub connections_closed: AtomicU64,
    /// The shipper's counters.
    pub shipper: shipper::ShipperStats,
    /// The access and execution logs' counters.
    pub logs: Arc<crate::logs::LogStats>,
}

/// Counters of config builds: stages compiled in all, and the last full and delta
/// update's size and build time.
#[derive(Debug, Default)]
pub struct ConfigBuilds {
    /// Stages compiled since the node started.
    pub stages_compiled: AtomicU64,
    /// The last full update's encoded size, and its build time in microseconds.
    pub full_bytes: AtomicU64,
    /// See [`ConfigBuilds::full_bytes`].
    pub full_build_us: AtomicU64,
    /// The last delta's encoded size, and its build time in microseconds.
    pub delta_bytes: AtomicU64,
    /// See [`ConfigBuilds::delta_bytes`].
    pub delta_build_us: AtomicU64,
}

impl ConfigBuilds {
    fn record(&self, stats: &crate::config_client::UpdateStats) {
        self.stages_compiled
            .fetch_add(stats.stages_compiled as u64, Relaxed);
        let us = u64::try_from(stats.build.as_micros()).unwrap_or(u64::MAX);
        let (bytes, build) = if stats.full {
            (&self.full_bytes, &self.full_build_us)
        } else {
            (&self.delta_bytes, &self.delta_build_us)
        };
        bytes.store(stats.bytes as u64, Relaxed);
        build.store(us, Relaxed);
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_key: HashMap<SeriesKey, Arc<Series>>,
    /// In creation order (what `/metrics` and the shipper walk).
    all: Vec<Arc<Series>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The series for `key`, created on first use.
    pub fn series(&self, key: SeriesKey) -> Arc<Series> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = inner.by_key.get(&key) {
            return Arc::clone(series);
        }
        let series = Arc::new(Series::new(key.clone(), current_minute()));
        inner.by_key.insert(key, Arc::clone(&series));
        inner.all.push(Arc::clone(&series));
        series
    }

    /// Every series, in creation order.
    pub fn all(&self) -> Vec<Arc<Series>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .all
            .clone()
    }

    /// Drains every series' minute slots (see [`Series::drain`]).
    pub fn drain(&self, current_minute: i64) -> Vec<MinuteSeries> {
        let mut out = Vec::new();
        for series in self.all() {
            series.drain(current_minute, &mut out);
        }
        out
    }

    /// Hangs its series on every stage and method of `state` that has none yet (the ones
    /// compiled for this config). Called by the config client before the state is
    /// swapped in.
    ///
    /// A stage's own series is attached after its methods', so a stage that has one was
    /// attached whole before and its methods are not walked again: a delta costs a look
    /// at each stage, not at each of the state's methods (300,000 at 10,000 APIs of the
    /// scale generator's shape). A stage whose series a request attached first (a state
    /// stored without this call, as tests do) gets its methods' from
    /// [`Registry::series_of`] instead.
    pub fn attach(&self, state: &GatewayState) {
        for stage in state.stages().flat_map(|s| s.variants()) {
            if stage.hook_slot.is_set() {
                continue;
            }
            for resource in stage.routes.routes() {
                for method in resource.iter() {
                    if !method.hook_slot.is_set() {
                        method.hook_slot.attach(self.method_series(stage, method));
                    }
                }
            }
            stage.hook_slot.attach(self.series(stage_key(stage)));
        }
        for stage in state.ws.values().flat_map(HashMap::values) {
            if !stage.hook_slot.is_set() {
                stage.hook_slot.attach(self.series(ws_key(stage, None)));
            }
            for route in stage.routes.values() {
                if !route.hook_slot.is_set() {
                    let detail = route.detailed_metrics.then_some(&*route.key);
                    route.hook_slot.attach(self.series(ws_key(stage, detail)));
                }
            }
        }
    }

    /// Notes that config `version` was applied now.
    pub fn applied(&self, version: u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        self.config_version.store(version, Relaxed);
        self.config_applied_at
            .store(i64::try_from(now).unwrap_or(i64::MAX), Relaxed);
    }

    fn method_series(&self, stage: &CompiledStage, method: &CompiledMethod) -> Arc<Series> {
        let mut key = stage_key(stage);
        if method.metrics_enabled {
            key.detail = Some(match &method.route_key {
                // An HTTP API's route: CloudWatch's `Route` dimension is its route key.
                Some(route_key) if key.http_api => (route_key.clone(), HTTP_API_METHOD.into()),
                _ => (method.resource_path.clone(), method.http_method.clone()),
            });
        }
        self.series(key)
    }

    /// The series of a request: its method's, else its stage's. Attached at config-apply
    /// time; resolved here (once per compiled object) only for a state that was stored
    /// without [`Registry::attach`].
    #[inline]
    fn series_of<'a>(&self, s: &'a RequestSummary<'_>) -> Option<&'a Series> {
        if let Some(method) = s.method {
            if let Some(series) = method.hook_slot.get::<Series>() {
                return Some(series);
            }
            let stage = s.stage?;
            method.hook_slot.attach(self.method_series(stage, method));
            return method.hook_slot.get::<Series>();
        }
        let stage = s.stage?;
        if let Some(series) = stage.hook_slot.get::<Series>() {
            return Some(series);
        }
        stage.hook_slot.attach(self.series(stage_key(stage)));
        stage.hook_slot.get::<Series>()
    }
}

impl crate::config_client::OnApply for Registry {
    fn prepare(&self, next: &GatewayState) {
        self.attach(next);
    }

    fn applied(&self, version: u64) {
        Registry::applied(self, version);
    }

    fn built(&self, stats: &crate::config_client::UpdateStats) {
        self.config_builds.record(stats);
    }
}

/// A stage's series key; a canary's requests are a series of their own, whose `Stage`
/// dimension is `{stage}/Canary` as in API Gateway's CloudWatch metrics.
fn stage_key(stage: &CompiledStage) -> SeriesKey {
    SeriesKey {
        api_id: stage.api_id.clone(),
        api_name: stage.api_name.clone(),
        stage: if stage.is_canary {
            format!("{}/Canary", stage.stage_name).into()
        } else {
            stage.stage_name.clone()
        },
        detail: None,
        websocket: false,
        http_api: stage.http.is_some(),
    }
}

/// A WebSocket series' key: the stage's, or one route's (detailed metrics).
fn ws_key(stage: &WsStage, route: Option<&str>) -> SeriesKey {
    SeriesKey {
        api_id: stage.api_id.clone(),
        api_name: "".into(),
        stage: stage.stage_name.clone(),
        detail: route.map(|r| (r.into(), WEBSOCKET_METHOD.into())),
        websocket: true,
        http_api: false,
    }
}

/// Records a WebSocket event in the stage's series (events that belong to no route:
/// `@connections` sends, refusals before a route is known). Nothing when metrics are off.
#[inline]
pub fn ws_stage_event(stage: &WsStage, event: WsEvent) {
    if let Some(series) = stage.hook_slot.get::<Series>() {
        series.record_ws(event, current_minute());
    }
}

/// Records a WebSocket event in a route's series: its own with detailed metrics, else
/// the stage's (attached to the route when the config was applied).
#[inline]
pub fn ws_route_event(route: &WsRoute, event: WsEvent) {
    if let Some(series) = route.hook_slot.get::<Series>() {
        series.record_ws(event, current_minute());
    }
}

/// Records a route's IntegrationLatency.
#[inline]
pub fn ws_route_latency(route: &WsRoute, d: Duration) {
    if let Some(series) = route.hook_slot.get::<Series>() {
        series.record_ws_latency(d, current_minute());
    }
}

/// The node's end-of-request hook: metrics, and the debug request log when enabled.
#[derive(Debug)]
pub struct MetricsHook {
    registry: Arc<Registry>,
    log: Option<RequestLog>,
}

impl MetricsHook {
    /// Records into `registry`; also logs each request when debug logging is on.
    pub fn new(registry: Arc<Registry>) -> Self {
        MetricsHook {
            registry,
            log: RequestLog::enabled().then_some(RequestLog),
        }
    }
}

impl RequestEnd for MetricsHook {
    fn request_end(&self, s: &RequestSummary<'_>) {
        if let Some(log) = &self.log {
            log.request_end(s);
        }
        let Some(series) = self.registry.series_of(s) else {
            // No stage and no error: the node's own endpoints (health, metrics).
            if s.error.is_some() {
                self.registry.unknown_stage.fetch_add(1, Relaxed);
            }
            return;
        };
        let function_invoked = s.integration_latency.is_some()
            && s.method.is_some_and(|m| {
                matches!(
                    m.integration,
                    Integration::Function(_)
                        | Integration::FunctionProxy(_)
                        | Integration::HttpApiFunction(_)
                )
            });
        series.record(&Observation {
            status: s.status.as_u16(),
            response_type: s.error.map(|e| e.response_type()),
            function_invoked,
            latency: s.latency,
            integration_latency: s.integration_latency,
            minute: current_minute(),
            cache_hit: s
                .cache
                .map(|c| c == apigw_gateway::phases::cache::Outcome::Hit),
            // DataProcessed: the request body as received and the response body as sent,
            // when their lengths are known at the response head (docs/metrics.md).
            data_processed: s.request.body_length.unwrap_or(0) + s.response_length.unwrap_or(0),
        });
    }
}
