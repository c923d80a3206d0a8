//! One metrics series: what a node counts for an API stage, or for one method of it when
//! the stage turns detailed metrics on. It holds both views of the same requests:
//!
//! - the Prometheus counters and histograms (monotonic for the process's life), and
//! - two per-minute slots for the control plane, chosen by the parity of the minute (UTC)
//!   the request finished in, each tagged with its minute.
//!
//! Recording is atomic adds only (no lock, no allocation). The minute slots work so: the
//! slot of minute `m` is `m % 2`; the shipper drains a slot (swapping its counters to zero)
//! and, once its minute is over, re-tags it for the next minute of the same parity (`m + 2`),
//! a whole minute before any request can need it. A request whose slot still carries an
//! older tag (the shipper was stalled for over a minute, or the clock jumped) re-tags it
//! itself with a compare-and-swap: what was left in it is then shipped under the newer
//! minute. Either way every request is counted exactly once; only its minute can be off,
//! and only in those cases (and for a request that read the clock in the last instants of a
//! minute but added after the shipper's drain at the boundary: it ships with the next
//! minute of its parity).

use std::sync::atomic::{
    AtomicI64, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::OnceLock;
use std::time::Duration;

use apigw_gateway::error::{ResponseType, ALL_TYPES};
use apigw_proto::metrics::MinuteSeries;
use apigw_sketch::AtomicSketch;

/// What identifies a series (its labels). `detail` is `(resource path, HTTP method)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// The API id.
    pub api_id: Box<str>,
    /// The API's name (CloudWatch's `ApiName`).
    pub api_name: Box<str>,
    /// The stage name.
    pub stage: Box<str>,
    /// `(resource, method)` when detailed metrics are on for the method; for a WebSocket
    /// series, `(route key, WEBSOCKET_METHOD)` when they are on for the route.
    pub detail: Option<(Box<str>, Box<str>)>,
    /// A WebSocket API's series (shipped with `method = WEBSOCKET_METHOD`, see
    /// [`WsEvent`]).
    pub websocket: bool,
    /// An HTTP API's series (shipped with `method = HTTP_API_METHOD`; `detail` is then
    /// `(route key, HTTP_API_METHOD)` when detailed metrics are on for the route).
    pub http_api: bool,
}

/// The `method` that marks a WebSocket API's series in a shipment (no REST method has
/// this name); `resource` is then the route key, or empty for the stage's own series.
pub use apigw_proto::metrics::WEBSOCKET_METHOD;

/// The `method` that marks an HTTP API's series in a shipment; `resource` is then the
/// route key (`GET /pets`), or empty for the stage's own series.
pub use apigw_proto::metrics::HTTP_API_METHOD;

/// What a WebSocket series counts. They travel in the per-minute slots' counters (the
/// shipment has no fields of their own, see `metrics.proto`): MessageCount in `count`,
/// ConnectCount in `cache_hit`, IntegrationError in `cache_miss`, ClientError in
/// `error_4xx`, ExecutionError in `error_5xx`; IntegrationLatency in `integration_latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsEvent {
    /// A connection accepted through `$connect` (ConnectCount).
    Connect,
    /// A message from or to a client (MessageCount).
    Message,
    /// A 4XX the gateway answered before the integration (ClientError).
    ClientError,
    /// The integration answered a status of 400 or more (IntegrationError).
    IntegrationError,
    /// Calling the integration failed (ExecutionError).
    ExecutionError,
}

impl WsEvent {
    /// Every event, in the order of the Prometheus counters.
    pub const ALL: [WsEvent; 5] = [
        WsEvent::Connect,
        WsEvent::Message,
        WsEvent::ClientError,
        WsEvent::IntegrationError,
        WsEvent::ExecutionError,
    ];

    /// Its Prometheus `event` label.
    pub fn label(self) -> &'static str {
        match self {
            WsEvent::Connect => "connect",
            WsEvent::Message => "message",
            WsEvent::ClientError => "client_error",
            WsEvent::IntegrationError => "integration_error",
            WsEvent::ExecutionError => "execution_error",
        }
    }
}

/// Upper bounds (seconds) of the latency histograms' buckets (`+Inf` follows).
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const BUCKETS_NS: [u64; 14] = {
    let mut ns = [0u64; 14];
    let mut i = 0;
    while i < 14 {
        ns[i] = (BUCKETS[i] * 1e9) as u64;
        i += 1;
    }
    ns
};

/// Lowest status code with its own counter; codes below or above the range count as 999
/// (hyper never sends them).
const STATUS_MIN: u16 = 100;
const STATUS_MAX: u16 = 999;

/// A Prometheus histogram of durations: per-bucket counts (not cumulative; summed when
/// rendered) and the sum in nanoseconds.
#[derive(Debug)]
pub struct Histogram {
    /// `BUCKETS.len() + 1` buckets, the last one `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one duration.
    #[inline]
    pub fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BUCKETS_NS
            .iter()
            .position(|bound| ns <= *bound)
            .unwrap_or(BUCKETS_NS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// Cumulative counts per bucket (the last is the total) and the sum in seconds.
    pub fn read(&self) -> ([u64; BUCKETS.len() + 1], f64) {
        let mut cumulative = [0u64; BUCKETS.len() + 1];
        let mut total = 0u64;
        for (i, bucket) in self.buckets.iter().enumerate() {
            total += bucket.load(Relaxed);
            cumulative[i] = total;
        }
        (cumulative, self.sum_ns.load(Relaxed) as f64 / 1e9)
    }
}

/// The Latency and IntegrationLatency histograms of one status code of a series.
#[derive(Debug, Default)]
pub struct StatusHistograms {
    /// Latency.
    pub latency: Histogram,
    /// IntegrationLatency (requests that reached an integration).
    pub integration_latency: Histogram,
}

/// What a series counts for one status code: made by the first request with it.
#[derive(Debug, Default)]
struct StatusCell {
    count: AtomicU64,
    histograms: StatusHistograms,
}

/// The status codes of one hundred (`2xx`, ...), each cell made by its first request.
type StatusBlock = [OnceLock<Box<StatusCell>>; 100];

/// Hundreds of status codes (`1xx` to `9xx`).
const STATUS_CLASSES: usize = (STATUS_MAX / 100) as usize;

/// One minute's counts (see the module doc for how slots turn over).
#[derive(Debug)]
struct MinuteSlot {
    /// The minute (Unix seconds / 60) the slot counts for.
    minute: AtomicI64,
    count: AtomicU64,
    error_4xx: AtomicU64,
    error_5xx: AtomicU64,
    cache_hit: AtomicU64,
    cache_miss: AtomicU64,
    latency: AtomicSketch,
    integration_latency: AtomicSketch,
    /// HTTP API series: request and response body bytes (DataProcessed).
    data_processed: AtomicU64,
}

impl MinuteSlot {
    fn new(minute: i64) -> Self {
        MinuteSlot {
            minute: AtomicI64::new(minute),
            count: AtomicU64::new(0),
            error_4xx: AtomicU64::new(0),
            error_5xx: AtomicU64::new(0),
            cache_hit: AtomicU64::new(0),
            cache_miss: AtomicU64::new(0),
            latency: AtomicSketch::new(),
            integration_latency: AtomicSketch::new(),
            data_processed: AtomicU64::new(0),
        }
    }
}

/// What one finished request contributes to its series.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    /// The status sent.
    pub status: u16,
    /// The gateway response type, when the gateway itself answered.
    pub response_type: Option<ResponseType>,
    /// Whether the method's integration is a function (`AWS`, `AWS_PROXY`) that was called.
    pub function_invoked: bool,
    /// Arrival to response head.
    pub latency: Duration,
    /// The integration's part, when the request reached it.
    pub integration_latency: Option<Duration>,
    /// The minute (Unix seconds / 60, UTC) the request finished in.
    pub minute: i64,
    /// For a method the stage caches: whether the cache answered (`Some(true)`, a hit).
    pub cache_hit: Option<bool>,
    /// Request and response body bytes (kept by HTTP API series only: DataProcessed).
    pub data_processed: u64,
}

/// A series: labels, Prometheus counters, per-minute slots.
#[derive(Debug)]
pub struct Series {
    /// Its identity.
    pub key: SeriesKey,
    /// The key rendered as Prometheus labels (`api_id="…",api_name="…",stage="…"[,…]`).
    pub labels: Box<str>,
    /// Requests and their latency histograms by status code (`STATUS_MIN..=STATUS_MAX`),
    /// by hundred (`statuses[0]` is `1xx`): a hundred's block is made by its first request
    /// and a code's cell by the first request with it, so a series holds only the codes it
    /// answered (a block per hundred, a cell per code; all 900 codes took 22 KiB per series
    /// before, with one series per deployed stage: issue 22). Never an allocation per
    /// request.
    statuses: [OnceLock<Box<StatusBlock>>; STATUS_CLASSES],
    /// Gateway responses by type (index = `ResponseType as usize`, the order of `ALL_TYPES`).
    responses: [AtomicU64; ALL_TYPES.len()],
    /// Function integrations called.
    functions: AtomicU64,
    /// Stage cache hits and misses.
    cache: [AtomicU64; 2],
    /// WebSocket events (index: `WsEvent as usize`), for Prometheus.
    ws_events: [AtomicU64; 5],
    /// WebSocket IntegrationLatency, for Prometheus.
    ws_integration_latency: Histogram,
    slots: [MinuteSlot; 2],
}

impl Series {
    /// A new series whose slots are tagged for `minute` and the one after.
    pub fn new(key: SeriesKey, minute: i64) -> Self {
        let labels = labels(&key).into();
        let (even, odd) = if minute % 2 == 0 {
            (minute, minute + 1)
        } else {
            (minute + 1, minute)
        };
        Series {
            key,
            labels,
            statuses: std::array::from_fn(|_| OnceLock::new()),
            responses: std::array::from_fn(|_| AtomicU64::new(0)),
            functions: AtomicU64::new(0),
            cache: [AtomicU64::new(0), AtomicU64::new(0)],
            ws_events: std::array::from_fn(|_| AtomicU64::new(0)),
            ws_integration_latency: Histogram::default(),
            slots: [MinuteSlot::new(even), MinuteSlot::new(odd)],
        }
    }

    /// Records one request: atomic adds only.
    #[inline]
    pub fn record(&self, o: &Observation) {
        let status = usize::from(o.status.clamp(STATUS_MIN, STATUS_MAX));
        if let Some(block) = self.statuses.get(status / 100 - 1) {
            let block = block.get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
            let cell = block[status % 100].get_or_init(Box::default);
            cell.count.fetch_add(1, Relaxed);
            cell.histograms.latency.record(o.latency);
            if let Some(d) = o.integration_latency {
                cell.histograms.integration_latency.record(d);
            }
        }
        if let Some(t) = o.response_type {
            if let Some(counter) = self.responses.get(t as usize) {
                counter.fetch_add(1, Relaxed);
            }
        }
        if o.function_invoked {
            self.functions.fetch_add(1, Relaxed);
        }
        if let Some(hit) = o.cache_hit {
            self.cache[usize::from(!hit)].fetch_add(1, Relaxed);
        }

        let slot = self.slot(o.minute);
        // The count before the error (Release), and the drain takes the errors (Acquire)
        // before the count: a drain that sees a request's error sees its count too. A drain
        // can still fall between the two adds (it ships the count, the next one the error),
        // so one shipment may carry more errors than requests; the minute's sums in the
        // control plane are exact once both have shipped.
        slot.count.fetch_add(1, Relaxed);
        match o.status {
            400..=499 => {
                slot.error_4xx.fetch_add(1, Release);
            }
            500..=599 => {
                slot.error_5xx.fetch_add(1, Release);
            }
            _ => {}
        }
        match o.cache_hit {
            Some(true) => {
                slot.cache_hit.fetch_add(1, Relaxed);
            }
            Some(false) => {
                slot.cache_miss.fetch_add(1, Relaxed);
            }
            None => {}
        }
        slot.latency.record(o.latency);
        if let Some(d) = o.integration_latency {
            slot.integration_latency.record(d);
        }
        if self.key.http_api && o.data_processed > 0 {
            slot.data_processed.fetch_add(o.data_processed, Relaxed);
        }
    }

    /// The slot of `minute`, re-tagged for it if it still carries an older minute.
    #[inline]
    fn slot(&self, minute: i64) -> &MinuteSlot {
        let slot = &self.slots[minute.rem_euclid(2) as usize];
        let mut tag = slot.minute.load(Relaxed);
        while tag != minute {
            match slot
                .minute
                .compare_exchange_weak(tag, minute, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(now) => tag = now,
            }
        }
        slot
    }

    /// Records one WebSocket event in `minute`: atomic adds only.
    #[inline]
    pub fn record_ws(&self, event: WsEvent, minute: i64) {
        if let Some(counter) = self.ws_events.get(event as usize) {
            counter.fetch_add(1, Relaxed);
        }
        let slot = self.slot(minute);
        let counter = match event {
            WsEvent::Message => &slot.count,
            WsEvent::Connect => &slot.cache_hit,
            WsEvent::IntegrationError => &slot.cache_miss,
            WsEvent::ClientError => &slot.error_4xx,
            WsEvent::ExecutionError => &slot.error_5xx,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// Records one WebSocket IntegrationLatency in `minute`.
    #[inline]
    pub fn record_ws_latency(&self, d: Duration, minute: i64) {
        self.ws_integration_latency.record(d);
        self.slot(minute).integration_latency.record(d);
    }

    /// WebSocket events counted, for the events counted at least once.
    pub fn ws_events(&self) -> impl Iterator<Item = (WsEvent, u64)> + '_ {
        WsEvent::ALL
            .into_iter()
            .zip(self.ws_events.iter())
            .map(|(e, c)| (e, c.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
    }

    /// The WebSocket IntegrationLatency histogram.
    pub fn ws_integration_latency(&self) -> &Histogram {
        &self.ws_integration_latency
    }

    /// Takes what both slots counted since the last drain (at most one [`MinuteSeries`]
    /// per slot, none for an empty one), and re-tags a slot whose minute is before
    /// `current` for the next minute of its parity.
    pub fn drain(&self, current: i64, out: &mut Vec<MinuteSeries>) {
        for slot in &self.slots {
            let minute = slot.minute.load(Relaxed);
            let error_4xx = slot.error_4xx.swap(0, Acquire);
            let error_5xx = slot.error_5xx.swap(0, Acquire);
            let count = slot.count.swap(0, Relaxed);
            let cache_hit = slot.cache_hit.swap(0, Relaxed);
            let cache_miss = slot.cache_miss.swap(0, Relaxed);
            let latency = slot.latency.drain();
            let integration = slot.integration_latency.drain();
            let data_processed = slot.data_processed.swap(0, Relaxed);
            if minute < current {
                let next = if (current - minute) % 2 == 0 {
                    current
                } else {
                    current + 1
                };
                let _ = slot.minute.compare_exchange(minute, next, Relaxed, Relaxed);
            }
            if count == 0
                && error_4xx == 0
                && error_5xx == 0
                && cache_hit == 0
                && cache_miss == 0
                && latency.is_none()
                && integration.is_none()
                && data_processed == 0
            {
                continue;
            }
            let (resource, method) = match &self.key.detail {
                Some((resource, method)) => (resource.to_string(), method.to_string()),
                None if self.key.websocket => (String::new(), WEBSOCKET_METHOD.to_string()),
                None if self.key.http_api => (String::new(), HTTP_API_METHOD.to_string()),
                None => (String::new(), String::new()),
            };
            out.push(MinuteSeries {
                minute: minute * 60,
                api_id: self.key.api_id.to_string(),
                api_name: self.key.api_name.to_string(),
                stage: self.key.stage.to_string(),
                resource,
                method,
                count,
                error_4xx,
                error_5xx,
                cache_hit,
                cache_miss,
                latency: Some(latency.unwrap_or_default().to_proto()),
                integration_latency: Some(integration.unwrap_or_default().to_proto()),
                data_processed,
            });
        }
    }

    /// The status codes answered, with their cells, in order.
    fn cells(&self) -> impl Iterator<Item = (u16, &StatusCell)> + '_ {
        (100u16..)
            .step_by(100)
            .zip(self.statuses.iter())
            .filter_map(|(hundred, block)| Some((hundred, block.get()?)))
            .flat_map(|(hundred, block)| {
                (hundred..)
                    .zip(block.iter())
                    .filter_map(|(status, cell)| Some((status, &**cell.get()?)))
            })
    }

    /// Requests by status code, for the ones counted at least once.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.cells()
            .map(|(status, c)| (status, c.count.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
    }

    /// The latency histograms of the status codes counted at least once.
    pub fn histograms(&self) -> impl Iterator<Item = (u16, &StatusHistograms)> + '_ {
        self.cells().map(|(status, c)| (status, &c.histograms))
    }

    /// Gateway responses by type name, for the types counted at least once.
    pub fn responses(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.responses
            .iter()
            .zip(ALL_TYPES.iter())
            .map(|(c, (_, name))| (*name, c.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
    }

    /// Function integrations called.
    pub fn functions(&self) -> u64 {
        self.functions.load(Relaxed)
    }

    /// Stage cache hits and misses.
    pub fn cache(&self) -> (u64, u64) {
        (self.cache[0].load(Relaxed), self.cache[1].load(Relaxed))
    }
}

/// `api_id="…",api_name="…",stage="…"` plus `method="…",resource="…"` when detailed
/// (`route="…"` for an HTTP API's route; WebSocket series have no `api_name`).
fn labels(key: &SeriesKey) -> String {
    let mut out = String::new();
    if key.http_api {
        push_label(&mut out, "api_id", &key.api_id);
        push_label(&mut out, "api_name", &key.api_name);
        push_label(&mut out, "stage", &key.stage);
        if let Some((route, _)) = &key.detail {
            push_label(&mut out, "route", route);
        }
        return out;
    }
    if key.websocket {
        push_label(&mut out, "api_id", &key.api_id);
        push_label(&mut out, "stage", &key.stage);
        if let Some((route, _)) = &key.detail {
            push_label(&mut out, "route", route);
        }
        return out;
    }
    push_label(&mut out, "api_id", &key.api_id);
    push_label(&mut out, "api_name", &key.api_name);
    push_label(&mut out, "stage", &key.stage);
    if let Some((resource, method)) = &key.detail {
        push_label(&mut out, "method", method);
        push_label(&mut out, "resource", resource);
    }
    out
}

/// Appends `,name="value"` (no comma first), escaping as the text format requires.
pub fn push_label(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SeriesKey {
        SeriesKey {
            api_id: "a1".into(),
            api_name: "pets \"v2\"".into(),
            stage: "prod".into(),
            detail: None,
            websocket: false,
            http_api: false,
        }
    }

    fn obs(status: u16, minute: i64) -> Observation {
        Observation {
            status,
            response_type: None,
            function_invoked: false,
            latency: Duration::from_millis(3),
            integration_latency: Some(Duration::from_millis(2)),
            minute,
            cache_hit: None,
            data_processed: 10,
        }
    }

    #[test]
    fn response_type_indexes_follow_all_types() {
        for (i, (t, _)) in ALL_TYPES.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            &*Series::new(key(), 0).labels,
            r#"api_id="a1",api_name="pets \"v2\"",stage="prod""#
        );
    }

    #[test]
    fn minutes_are_counted_apart_and_slots_turn_over() {
        let s = Series::new(key(), 100);
        for _ in 0..3 {
            s.record(&obs(200, 100));
        }
        s.record(&obs(404, 101));
        s.record(&obs(502, 101));
        let mut out = Vec::new();
        s.drain(101, &mut out);
        out.sort_by_key(|m| m.minute);
        let got: Vec<_> = out
            .iter()
            .map(|m| (m.minute / 60, m.count, m.error_4xx, m.error_5xx))
            .collect();
        assert_eq!(got, [(100, 3, 0, 0), (101, 2, 1, 1)]);
        assert_eq!(out[0].latency.as_ref().map(|l| l.count), Some(3));
        // DataProcessed is an HTTP API series' alone.
        assert!(out.iter().all(|m| m.data_processed == 0));
        // Minute 100's slot was re-tagged for 102; 101's stays.
        s.record(&obs(200, 102));
        s.record(&obs(200, 101));
        let mut out = Vec::new();
        s.drain(102, &mut out);
        out.sort_by_key(|m| m.minute);
        let got: Vec<_> = out.iter().map(|m| (m.minute / 60, m.count)).collect();
        assert_eq!(got, [(101, 1), (102, 1)]);
        // A stalled shipper: the request re-tags the slot itself, nothing is lost.
        s.record(&obs(200, 104));
        s.record(&obs(200, 106));
        let mut out = Vec::new();
        s.drain(106, &mut out);
        assert_eq!(out.iter().map(|m| m.count).sum::<u64>(), 2);
        assert_eq!(s.statuses().map(|(_, n)| n).sum::<u64>(), 9);
    }

    #[test]
    fn concurrent_drains_lose_nothing() {
        let s = std::sync::Arc::new(Series::new(key(), 7));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let s = std::sync::Arc::clone(&s);
                std::thread::spawn(move || {
                    for i in 0..20_000u32 {
                        s.record(&obs(if i % 2 == 0 { 500 } else { 404 }, 7));
                    }
                })
            })
            .collect();
        let mut shipped = Vec::new();
        while writers.iter().any(|w| !w.is_finished()) {
            let mut out = Vec::new();
            s.drain(7, &mut out);
            shipped.extend(out);
        }
        for w in writers {
            w.join().unwrap();
        }
        s.drain(7, &mut shipped);
        let total: u64 = shipped.iter().map(|m| m.count).sum();
        let errors: u64 = shipped.iter().map(|m| m.error_4xx + m.error_5xx).sum();
        let latencies: u64 = shipped
            .iter()
            .map(|m| m.latency.as_ref().map_or(0, |l| l.count))
            .sum();
        assert_eq!((total, errors, latencies), (40_000, 40_000, 40_000));
    }

    #[test]
    fn websocket_events_ship_in_their_counters() {
        let stage = Series::new(
            SeriesKey {
                websocket: true,
                api_name: "".into(),
                ..key()
            },
            50,
        );
        // A slot with only a connect still ships (no message counted in it).
        stage.record_ws(WsEvent::Connect, 50);
        let mut out = Vec::new();
        stage.drain(50, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (
                out[0].cache_hit,
                out[0].count,
                out[0].method.as_str(),
                out[0].resource.as_str()
            ),
            (1, 0, WEBSOCKET_METHOD, "")
        );
        let route = Series::new(
            SeriesKey {
                websocket: true,
                detail: Some(("echo".into(), WEBSOCKET_METHOD.into())),
                ..key()
            },
            50,
        );
        for event in [
            WsEvent::Message,
            WsEvent::Message,
            WsEvent::ClientError,
            WsEvent::IntegrationError,
            WsEvent::ExecutionError,
        ] {
            route.record_ws(event, 51);
        }
        route.record_ws_latency(Duration::from_millis(7), 51);
        let mut out = Vec::new();
        route.drain(51, &mut out);
        let m = &out[0];
        assert_eq!(
            (m.count, m.error_4xx, m.cache_miss, m.error_5xx, m.cache_hit),
            (2, 1, 1, 1, 0)
        );
        assert_eq!(
            (m.resource.as_str(), m.method.as_str()),
            ("echo", WEBSOCKET_METHOD)
        );
        assert_eq!(m.integration_latency.as_ref().map(|l| l.count), Some(1));
        assert_eq!(&*route.labels, r#"api_id="a1",stage="prod",route="echo""#);
        assert_eq!(route.ws_events().count(), 4);
    }

    #[test]
    fn http_api_series_ship_marked_with_their_route() {
        let stage = Series::new(
            SeriesKey {
                http_api: true,
                ..key()
            },
            60,
        );
        stage.record(&obs(200, 60));
        let route = Series::new(
            SeriesKey {
                http_api: true,
                detail: Some(("GET /pets".into(), HTTP_API_METHOD.into())),
                ..key()
            },
            60,
        );
        route.record(&obs(404, 60));
        let mut out = Vec::new();
        stage.drain(60, &mut out);
        route.drain(60, &mut out);
        let got: Vec<_> = out
            .iter()
            .map(|m| {
                (
                    m.resource.as_str(),
                    m.method.as_str(),
                    m.count,
                    m.error_4xx,
                    m.data_processed,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("", HTTP_API_METHOD, 1, 0, 10),
                ("GET /pets", HTTP_API_METHOD, 1, 1, 10)
            ]
        );
        assert_eq!(
            &*route.labels,
            r#"api_id="a1",api_name="pets \"v2\"",stage="prod",route="GET /pets""#
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.record(Duration::from_micros(500));
        h.record(Duration::from_millis(20));
        h.record(Duration::from_secs(60));
        let (cumulative, sum) = h.read();
        assert_eq!(cumulative[0], 1);
        assert_eq!(cumulative[4], 2);
        assert_eq!(cumulative[BUCKETS.len() - 1], 2);
        assert_eq!(cumulative[BUCKETS.len()], 3);
        assert!((sum - 60.0205).abs() < 1e-9);
    }
}
