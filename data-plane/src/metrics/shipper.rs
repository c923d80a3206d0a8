//! The shipper: every `interval` (10 s by default) and just after each minute boundary it
//! drains the registry's minute slots into a `MetricsShipment` (`node_instance` = a fresh
//! UUID per process, `seq` 1, 2, 3, …) and sends it with `MetricsIngest.Ship` to the
//! control plane.
//!
//! Shipments queue in order in a bounded backlog (`max_backlog`, 1 h of 10 s drains by
//! default) and the head is sent until the control plane accepts it: a failed call is
//! retried later with backoff with the *same* seq and content, so the control plane, which
//! applies each (node_instance, seq) once, never counts a request twice. When the backlog is
//! full, a new drain is merged into the newest queued shipment (which has never been sent:
//! only the head is) instead of dropping anything, so counts stay exact through any outage;
//! `apigw_metrics_backlog_merges_total` counts those merges. A shipment the control plane
//! refuses as invalid (`InvalidArgument`) is dropped and counted as rejected, so one bad
//! shipment cannot block the queue forever. On shutdown it drains and ships one last
//! time, waiting at most `final_wait`. It runs on its own task: request handling never
//! waits for it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apigw_proto::metrics::metrics_ingest_client::MetricsIngestClient;
use apigw_proto::metrics::{MetricsShipment, MinuteSeries};
use apigw_sketch::Sketch;
use tokio::time::Instant;
use tonic::transport::Channel;

use super::{current_minute, Registry};
use crate::config_client::Backoff;

/// How often the shipper drains (it also drains just after every minute boundary).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// Backlog bound: one hour of 10 s drains.
pub const DEFAULT_MAX_BACKLOG: usize = 360;
/// How long one `Ship` call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the last shipment at shutdown may take, retries included.
pub const FINAL_WAIT: Duration = Duration::from_secs(5);

/// The shipper's counters (shown on `/metrics`).
#[derive(Debug, Default)]
pub struct ShipperStats {
    /// Shipments accepted.
    pub ok: AtomicU64,
    /// Calls that failed (and will be retried).
    pub failed: AtomicU64,
    /// Shipments refused as invalid (dropped).
    pub rejected: AtomicU64,
    /// Drains merged into the newest queued shipment because the backlog was full.
    pub merged: AtomicU64,
    /// Shipments queued now.
    pub backlog: AtomicU64,
}

/// Why the shipper could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShipperError {
    /// The metrics URL is not a valid endpoint.
    #[error("invalid metrics URL {url:?}: {source}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        source: tonic::transport::Error,
    },
}

/// Why sending the queue stopped short.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// The control plane answered with an error (or the call failed).
    #[error("ship seq {seq}: {status}")]
    Status {
        /// The shipment's seq.
        seq: u64,
        /// The error.
        status: tonic::Status,
    },
    /// The call took longer than [`CALL_TIMEOUT`].
    #[error("ship seq {0}: timed out")]
    Timeout(u64),
    /// The control plane answered, but its applied seq is below the shipment's.
    #[error("ship seq {seq}: control plane reports applied seq {applied}")]
    NotApplied {
        /// The shipment's seq.
        seq: u64,
        /// What it says it applied.
        applied: u64,
    },
}

/// How the shipper behaves.
#[derive(Debug, Clone)]
pub struct ShipperConfig {
    /// The control plane's gRPC URL, or several replicas' (comma separated): a failed
    /// shipment is retried through the next.
    pub url: String,
    /// How an `https://` URL is verified (and the node's client certificate).
    pub tls: crate::control_plane_tls::ControlPlaneTls,
    /// The node's configured id.
    pub node_id: String,
    /// Drain interval.
    pub interval: Duration,
    /// Backlog bound (at least 2).
    pub max_backlog: usize,
}

/// Drains the registry and ships to the control plane.
#[derive(Debug)]
pub struct Shipper {
    registry: Arc<Registry>,
    clients: crate::control_plane_tls::Replicas<MetricsIngestClient<Channel>>,
    node_id: String,
    instance: String,
    next_seq: u64,
    backlog: VecDeque<MetricsShipment>,
    max_backlog: usize,
    interval: Duration,
}

impl Shipper {
    /// A shipper for `registry`; the channel connects lazily (and reconnects by itself).
    pub fn new(registry: Arc<Registry>, config: ShipperConfig) -> Result<Self, ShipperError> {
        let clients = crate::control_plane_tls::Replicas::connect_lazy(
            &config.tls,
            &config.url,
            MetricsIngestClient::new,
        )
        .map_err(|(url, source)| ShipperError::InvalidUrl { url, source })?;
        Ok(Shipper {
            registry,
            clients,
            node_id: config.node_id,
            instance: uuid::Uuid::new_v4().to_string(),
            next_seq: 1,
            backlog: VecDeque::new(),
            max_backlog: config.max_backlog.max(2),
            interval: config.interval.max(Duration::from_millis(100)),
        })
    }

    /// This process's `node_instance`.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Shipments queued.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// Drains what was counted into a new shipment at the back of the backlog (none when
    /// nothing was counted), or into the newest queued one when the backlog is full.
    pub fn drain(&mut self) {
        let series = self.registry.drain(current_minute());
        if series.is_empty() {
            return;
        }
        if self.backlog.len() >= self.max_backlog {
            if let Some(newest) = self.backlog.back_mut() {
                newest.series = merge(std::mem::take(&mut newest.series), series);
                self.registry.shipper.merged.fetch_add(1, Relaxed);
                return;
            }
        }
        self.backlog.push_back(MetricsShipment {
            node_id: self.node_id.clone(),
            node_instance: self.instance.clone(),
            seq: self.next_seq,
            series,
        });
        self.next_seq += 1;
        self.registry
            .shipper
            .backlog
            .store(self.backlog.len() as u64, Relaxed);
    }

    /// Sends queued shipments, oldest first, until the queue is empty or one fails (it
    /// stays at the head, unchanged, for the next attempt).
    pub async fn ship(&mut self) -> Result<(), ShipError> {
        let stats = &self.registry.shipper;
        while let Some(head) = self.backlog.front() {
            let seq = head.seq;
            let call = self.clients.current().ship(head.clone());
            let outcome = match tokio::time::timeout(CALL_TIMEOUT, call).await {
                Ok(Ok(ack)) if ack.get_ref().applied_seq >= seq => Ok(()),
                Ok(Ok(ack)) => Err(ShipError::NotApplied {
                    seq,
                    applied: ack.get_ref().applied_seq,
                }),
                Ok(Err(status)) if status.code() == tonic::Code::InvalidArgument => {
                    tracing::error!(seq, %status, "metrics shipment rejected; dropping it");
                    stats.rejected.fetch_add(1, Relaxed);
                    self.backlog.pop_front();
                    continue;
                }
                Ok(Err(status)) => {
                    self.clients.failed();
                    Err(ShipError::Status { seq, status })
                }
                Err(_) => {
                    self.clients.failed();
                    Err(ShipError::Timeout(seq))
                }
            };
            match outcome {
                Ok(()) => {
                    stats.ok.fetch_add(1, Relaxed);
                    self.backlog.pop_front();
                    stats.backlog.store(self.backlog.len() as u64, Relaxed);
                }
                Err(error) => {
                    stats.failed.fetch_add(1, Relaxed);
                    return Err(error);
                }
            }
        }
        stats.backlog.store(0, Relaxed);
        Ok(())
    }

    /// Runs until `stop` resolves, then drains and ships a last time (at most
    /// [`FINAL_WAIT`]).
    pub async fn run(mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut backoff = Backoff::default();
        let mut retry_at: Option<Instant> = None;
        let mut next_drain = Instant::now() + self.interval;
        loop {
            let boundary = next_minute_boundary();
            let drain_at = next_drain.min(boundary);
            let wake = retry_at.map_or(drain_at, |r| r.min(drain_at));
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = &mut stop => break,
            }
            let now = Instant::now();
            if now >= drain_at {
                self.drain();
                next_drain = now + self.interval;
            }
            if self.backlog.is_empty() || retry_at.is_some_and(|r| now < r) {
                continue;
            }
            match self.ship().await {
                Ok(()) => {
                    if retry_at.take().is_some() {
                        tracing::info!("metrics shipments accepted again");
                    }
                    backoff.reset();
                }
                Err(error) => {
                    // Once per outage at warn; each retry at debug.
                    if retry_at.is_none() {
                        tracing::warn!(%error, backlog = self.backlog.len(), "metrics shipment failed; retrying with backoff");
                    } else {
                        tracing::debug!(%error, backlog = self.backlog.len(), "metrics shipment failed again");
                    }
                    retry_at = Some(Instant::now() + backoff.next_delay());
                }
            }
        }
        self.drain();
        let deadline = Instant::now() + FINAL_WAIT;
        while !self.backlog.is_empty() {
            match tokio::time::timeout_at(deadline, self.ship()).await {
                Ok(Ok(())) => break,
                Ok(Err(error)) => tracing::warn!(%error, "last metrics shipment failed"),
                Err(_) => break,
            }
            if tokio::time::timeout_at(deadline, tokio::time::sleep(backoff.next_delay()))
                .await
                .is_err()
            {
                break;
            }
        }
        if self.backlog.is_empty() {
            tracing::info!("metrics shipped");
        } else {
            tracing::warn!(
                backlog = self.backlog.len(),
                "metrics not shipped before shutdown"
            );
        }
    }
}

/// Just after the next minute boundary (UTC), when the finished minute's slots are drained.
fn next_minute_boundary() -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let into = Duration::from_nanos((now.as_nanos() % 60_000_000_000) as u64);
    Instant::now() + (Duration::from_secs(60) - into) + Duration::from_millis(50)
}

/// `a` and `b` as one list: entries for the same minute and series added up (sketches
/// merged).
pub fn merge(a: Vec<MinuteSeries>, b: Vec<MinuteSeries>) -> Vec<MinuteSeries> {
    type Key = (i64, String, String, String, String);
    let mut by_key: BTreeMap<Key, MinuteSeries> = BTreeMap::new();
    for m in a.into_iter().chain(b) {
        let key = (
            m.minute,
            m.api_id.clone(),
            m.stage.clone(),
            m.resource.clone(),
            m.method.clone(),
        );
        match by_key.get_mut(&key) {
            None => {
                by_key.insert(key, m);
            }
            Some(into) => {
                into.api_name = m.api_name;
                into.count += m.count;
                into.error_4xx += m.error_4xx;
                into.error_5xx += m.error_5xx;
                into.cache_hit += m.cache_hit;
                into.cache_miss += m.cache_miss;
                into.latency = merge_sketch(into.latency.take(), m.latency);
                into.integration_latency =
                    merge_sketch(into.integration_latency.take(), m.integration_latency);
            }
        }
    }
    by_key.into_values().collect()
}

fn merge_sketch(
    a: Option<apigw_proto::metrics::Sketch>,
    b: Option<apigw_proto::metrics::Sketch>,
) -> Option<apigw_proto::metrics::Sketch> {
    let decode = |s: Option<apigw_proto::metrics::Sketch>| {
        s.and_then(|s| Sketch::from_proto(&s).ok())
            .unwrap_or_default()
    };
    let mut merged = decode(a);
    merged.merge(&decode(b));
    Some(merged.to_proto())
}

#[cfg(test)]
mod tests {
    //! The shipper against an in-process `MetricsIngest` server that fails on demand.

    use std::sync::Mutex;

    use apigw_proto::metrics::metrics_ingest_server::{MetricsIngest, MetricsIngestServer};
    use apigw_proto::metrics::ShipmentAck;
    use tokio_stream::wrappers::TcpListenerStream;

    use super::*;
    use crate::metrics::series::{Observation, SeriesKey};

    /// Records every call; fails while `fail` is above zero.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<(MetricsShipment, bool)>>,
        fail: AtomicU64,
    }

    struct Service(Arc<Recorder>);

    #[tonic::async_trait]
    impl MetricsIngest for Service {
        async fn ship(
            &self,
            request: tonic::Request<MetricsShipment>,
        ) -> Result<tonic::Response<ShipmentAck>, tonic::Status> {
            let shipment = request.into_inner();
            let fail = self
                .0
                .fail
                .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
                .is_ok();
            let seq = shipment.seq;
            self.0.calls.lock().unwrap().push((shipment, !fail));
            if fail {
                return Err(tonic::Status::unavailable("down for the test"));
            }
            Ok(tonic::Response::new(ShipmentAck { applied_seq: seq }))
        }
    }

    async fn server() -> (Arc<Recorder>, String) {
        let recorder = Arc::new(Recorder::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let service = MetricsIngestServer::new(Service(Arc::clone(&recorder)));
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        (recorder, url)
    }

    fn record(registry: &Registry, statuses: &[u16]) {
        let series = registry.series(SeriesKey {
            api_id: "a1".into(),
            api_name: "pets".into(),
            stage: "prod".into(),
            detail: None,
            websocket: false,
            http_api: false,
        });
        for status in statuses {
            series.record(&Observation {
                status: *status,
                response_type: None,
                function_invoked: false,
                latency: Duration::from_millis(4),
                integration_latency: None,
                minute: current_minute(),
                cache_hit: None,
                data_processed: 0,
            });
        }
    }

    fn shipper(registry: &Arc<Registry>, url: &str, max_backlog: usize) -> Shipper {
        Shipper::new(
            Arc::clone(registry),
            ShipperConfig {
                url: url.into(),
                tls: Default::default(),
                node_id: "n1".into(),
                interval: DEFAULT_INTERVAL,
                max_backlog,
            },
        )
        .unwrap()
    }

    /// (count, 4XX, 5XX) over the accepted shipments.
    fn accepted_totals(recorder: &Recorder) -> (u64, u64, u64) {
        let calls = recorder.calls.lock().unwrap();
        let mut t = (0, 0, 0);
        for m in calls
            .iter()
            .filter(|(_, ok)| *ok)
            .flat_map(|(s, _)| &s.series)
        {
            t = (t.0 + m.count, t.1 + m.error_4xx, t.2 + m.error_5xx);
        }
        t
    }

    #[tokio::test]
    async fn a_failed_shipment_is_retried_unchanged_and_nothing_is_lost_or_doubled() {
        let (recorder, url) = server().await;
        let registry = Arc::new(Registry::new());
        let mut shipper = shipper(&registry, &url, DEFAULT_MAX_BACKLOG);

        record(&registry, &[200, 200, 404]);
        shipper.drain();
        recorder.fail.store(1, Relaxed);
        assert!(shipper.ship().await.is_err());
        assert_eq!(shipper.backlog(), 1);

        record(&registry, &[500, 200]);
        shipper.drain();
        assert_eq!(shipper.backlog(), 2);
        shipper.ship().await.unwrap();
        assert_eq!(shipper.backlog(), 0);
        shipper.drain();
        assert_eq!(shipper.backlog(), 0, "nothing counted: no shipment");

        let calls = recorder.calls.lock().unwrap().clone();
        let seqs: Vec<_> = calls.iter().map(|(s, ok)| (s.seq, *ok)).collect();
        assert_eq!(seqs, [(1, false), (1, true), (2, true)]);
        assert_eq!(calls[0].0, calls[1].0, "the retry is the same shipment");
        assert_eq!(calls[0].0.node_instance, shipper.instance());
        assert_eq!(accepted_totals(&recorder), (5, 1, 1));
        let latencies: u64 = calls
            .iter()
            .filter(|(_, ok)| *ok)
            .flat_map(|(s, _)| &s.series)
            .map(|m| m.latency.as_ref().map_or(0, |l| l.count))
            .sum();
        assert_eq!(latencies, 5);
        assert_eq!(registry.shipper.ok.load(Relaxed), 2);
        assert_eq!(registry.shipper.failed.load(Relaxed), 1);
    }

    #[tokio::test]
    async fn a_full_backlog_merges_into_the_newest_shipment() {
        let (recorder, url) = server().await;
        let registry = Arc::new(Registry::new());
        let mut shipper = shipper(&registry, &url, 2);
        recorder.fail.store(100, Relaxed);
        for _ in 0..5 {
            record(&registry, &[200, 503]);
            shipper.drain();
            let _ = shipper.ship().await;
        }
        assert_eq!(shipper.backlog(), 2);
        assert_eq!(registry.shipper.merged.load(Relaxed), 3);
        recorder.fail.store(0, Relaxed);
        shipper.ship().await.unwrap();
        assert_eq!(accepted_totals(&recorder), (10, 0, 5));
        let seqs: Vec<_> = recorder
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(s, _)| s.seq)
            .collect();
        assert_eq!(seqs, [1, 2]);
    }

    #[tokio::test]
    async fn stopping_ships_what_is_left() {
        let (recorder, url) = server().await;
        let registry = Arc::new(Registry::new());
        let shipper = shipper(&registry, &url, DEFAULT_MAX_BACKLOG);
        record(&registry, &[200, 201, 429]);
        shipper.run(async {}).await;
        assert_eq!(accepted_totals(&recorder), (3, 1, 0));
    }
}
