//! The log shipper: at least every second (sooner when a full shipment is waiting) it
//! seals the lines the sink queued into `LogShipment`s (`node_instance` = a fresh UUID
//! per process, `seq` 1, 2, 3, …, at most [`MAX_EVENTS`] lines each) and sends them with
//! `LogsIngest.Ship` to the control plane, which stores each (node_instance, seq) once.
//!
//! Shipments queue in order in a bounded backlog and the head is sent until the control
//! plane accepts it: a failed call is retried with backoff with the *same* seq and
//! content, so a line is never stored twice. When the backlog is full the oldest
//! shipment is dropped and its lines are counted in `apigw_log_lines_dropped_total`
//! (logs, unlike metrics, cannot be merged into less). A shipment refused as invalid is
//! dropped and counted too, so it cannot block the queue. On shutdown it ships what is
//! left, waiting at most [`FINAL_WAIT`]. It runs on its own task: requests never wait
//! for it.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use apigw_proto::logs::logs_ingest_client::LogsIngestClient;
use apigw_proto::logs::LogShipment;
use tokio::time::Instant;
use tonic::transport::Channel;

use super::sink::Pending;
use super::LogStats;
use crate::config_client::Backoff;
use crate::metrics::shipper::{ShipError, ShipperError};

/// Lines per shipment at most.
pub const MAX_EVENTS: usize = 5_000;
/// How often the shipper seals and sends what queued.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Backlog bound: ten minutes of one shipment a second.
pub const DEFAULT_MAX_BACKLOG: usize = 600;
/// How long one `Ship` call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the last shipments at shutdown may take, retries included.
pub const FINAL_WAIT: Duration = Duration::from_secs(5);

/// How the shipper behaves.
#[derive(Debug, Clone)]
pub struct LogShipperConfig {
    /// The control plane's gRPC URL, or several replicas' (comma separated): a failed
    /// shipment is retried through the next.
    pub url: String,
    /// How an `https://` URL is verified (and the node's client certificate).
    pub tls: crate::control_plane_tls::ControlPlaneTls,
    /// The node's configured id (the log stream).
    pub node_id: String,
    /// Seal-and-send interval.
    pub interval: Duration,
    /// Backlog bound (at least 1).
    pub max_backlog: usize,
}

/// Seals queued lines into shipments and sends them.
#[derive(Debug)]
pub struct LogShipper {
    pending: Arc<Pending>,
    stats: Arc<LogStats>,
    clients: crate::control_plane_tls::Replicas<LogsIngestClient<Channel>>,
    node_id: String,
    instance: String,
    next_seq: u64,
    backlog: VecDeque<LogShipment>,
    max_backlog: usize,
    interval: Duration,
}

impl LogShipper {
    /// A shipper of `pending`; the channel connects lazily (and reconnects by itself).
    pub fn new(
        pending: Arc<Pending>,
        stats: Arc<LogStats>,
        config: LogShipperConfig,
    ) -> Result<Self, ShipperError> {
        let clients = crate::control_plane_tls::Replicas::connect_lazy(
            &config.tls,
            &config.url,
            LogsIngestClient::new,
        )
        .map_err(|(url, source)| ShipperError::InvalidUrl { url, source })?;
        Ok(LogShipper {
            pending,
            stats,
            clients,
            node_id: config.node_id,
            instance: uuid::Uuid::new_v4().to_string(),
            next_seq: 1,
            backlog: VecDeque::new(),
            max_backlog: config.max_backlog.max(1),
            interval: config.interval.max(Duration::from_millis(50)),
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

    /// Seals what is pending into shipments at the back of the backlog; when the backlog
    /// overflows, the oldest shipment is dropped and its lines counted.
    pub fn seal(&mut self) {
        loop {
            let events = self.pending.take(MAX_EVENTS);
            if events.is_empty() {
                break;
            }
            self.backlog.push_back(LogShipment {
                node_id: self.node_id.clone(),
                node_instance: self.instance.clone(),
                seq: self.next_seq,
                events,
            });
            self.next_seq += 1;
            while self.backlog.len() > self.max_backlog {
                if let Some(old) = self.backlog.pop_front() {
                    self.stats
                        .dropped
                        .fetch_add(old.events.len() as u64, Relaxed);
                }
            }
        }
        self.stats.backlog.store(self.backlog.len() as u64, Relaxed);
    }

    /// Sends queued shipments, oldest first, until none is left or one fails (it stays at
    /// the head, unchanged, for the next attempt).
    pub async fn ship(&mut self) -> Result<(), ShipError> {
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
                    tracing::error!(seq, %status, "log shipment rejected; dropping it");
                    if let Some(old) = self.backlog.pop_front() {
                        self.stats
                            .dropped
                            .fetch_add(old.events.len() as u64, Relaxed);
                    }
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
                    self.stats.shipped.fetch_add(1, Relaxed);
                    self.backlog.pop_front();
                    self.stats.backlog.store(self.backlog.len() as u64, Relaxed);
                }
                Err(error) => {
                    self.stats.ship_failures.fetch_add(1, Relaxed);
                    return Err(error);
                }
            }
        }
        self.stats.backlog.store(0, Relaxed);
        Ok(())
    }

    /// Runs until `stop` resolves, then seals and ships a last time (at most
    /// [`FINAL_WAIT`]).
    pub async fn run(mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut backoff = Backoff::default();
        let mut retry_at: Option<Instant> = None;
        let mut next_seal = Instant::now() + self.interval;
        let pending = Arc::clone(&self.pending);
        loop {
            let wake = retry_at.map_or(next_seal, |r| r.max(next_seal));
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = pending.ready.notified(), if retry_at.is_none() => {}
                () = &mut stop => break,
            }
            self.seal();
            next_seal = Instant::now() + self.interval;
            if self.backlog.is_empty() || retry_at.is_some_and(|r| Instant::now() < r) {
                continue;
            }
            match self.ship().await {
                Ok(()) => {
                    if retry_at.take().is_some() {
                        tracing::info!("log shipments accepted again");
                    }
                    backoff.reset();
                }
                Err(error) => {
                    if retry_at.is_none() {
                        tracing::warn!(%error, backlog = self.backlog.len(), "log shipment failed; retrying with backoff");
                    } else {
                        tracing::debug!(%error, backlog = self.backlog.len(), "log shipment failed again");
                    }
                    retry_at = Some(Instant::now() + backoff.next_delay());
                }
            }
        }
        let deadline = Instant::now() + FINAL_WAIT;
        loop {
            self.seal();
            if self.backlog.is_empty() {
                break;
            }
            match tokio::time::timeout_at(deadline, self.ship()).await {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => tracing::warn!(%error, "last log shipment failed"),
                Err(_) => break,
            }
            if tokio::time::timeout_at(deadline, tokio::time::sleep(backoff.next_delay()))
                .await
                .is_err()
            {
                break;
            }
        }
        if !self.backlog.is_empty() {
            tracing::warn!(
                backlog = self.backlog.len(),
                "log lines not shipped before shutdown"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    //! The shipper against a real tonic `LogsIngest` server that fails on demand.

    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;

    use apigw_proto::logs::logs_ingest_server::{LogsIngest, LogsIngestServer};
    use apigw_proto::logs::{LogEvent, LogShipmentAck};
    use tokio_stream::wrappers::TcpListenerStream;

    use super::*;

    #[derive(Clone, Default)]
    struct Server {
        seen: Arc<Mutex<Vec<LogShipment>>>,
        fail: Arc<AtomicBool>,
    }

    #[tonic::async_trait]
    impl LogsIngest for Server {
        async fn ship(
            &self,
            request: tonic::Request<LogShipment>,
        ) -> Result<tonic::Response<LogShipmentAck>, tonic::Status> {
            let shipment = request.into_inner();
            let seq = shipment.seq;
            self.seen.lock().unwrap().push(shipment);
            if self.fail.load(Relaxed) {
                return Err(tonic::Status::unavailable("down"));
            }
            Ok(tonic::Response::new(LogShipmentAck { applied_seq: seq }))
        }
    }

    async fn serve() -> (Server, String) {
        let server = Server::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let svc = LogsIngestServer::new(server.clone());
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(svc)
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await
        });
        (server, url)
    }

    fn event(m: &str) -> LogEvent {
        LogEvent {
            message: m.into(),
            ..Default::default()
        }
    }

    fn shipper(
        url: String,
        pending: &Arc<Pending>,
        stats: &Arc<LogStats>,
        max: usize,
    ) -> LogShipper {
        LogShipper::new(
            Arc::clone(pending),
            Arc::clone(stats),
            LogShipperConfig {
                url,
                tls: Default::default(),
                node_id: "n1".into(),
                interval: DEFAULT_INTERVAL,
                max_backlog: max,
            },
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_failed_shipment_is_retried_with_the_same_seq_and_content() {
        let (server, url) = serve().await;
        let pending = Arc::new(Pending::new(100, 50));
        let stats = Arc::new(LogStats::default());
        let mut shipper = shipper(url, &pending, &stats, 10);
        server.fail.store(true, Relaxed);
        pending.push([event("a"), event("b")]);
        shipper.seal();
        assert!(shipper.ship().await.is_err());
        pending.push([event("c")]);
        shipper.seal();
        server.fail.store(false, Relaxed);
        shipper.ship().await.unwrap();
        let seen = server.seen.lock().unwrap().clone();
        let seqs: Vec<u64> = seen.iter().map(|s| s.seq).collect();
        assert_eq!(seqs, [1, 1, 2]);
        assert_eq!(seen[0], seen[1]);
        assert!(seen
            .iter()
            .all(|s| s.node_instance == shipper.instance() && s.node_id == "n1"));
        let messages: Vec<&str> = seen[2].events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["c"]);
        assert_eq!(stats.shipped.load(Relaxed), 2);
        assert_eq!(stats.ship_failures.load(Relaxed), 1);
        assert_eq!(shipper.backlog(), 0);
    }

    #[tokio::test]
    async fn an_overflowing_backlog_drops_the_oldest_and_counts_its_lines() {
        let (server, url) = serve().await;
        let pending = Arc::new(Pending::new(100, 50));
        let stats = Arc::new(LogStats::default());
        let mut shipper = shipper(url, &pending, &stats, 2);
        server.fail.store(true, Relaxed);
        for batch in [
            vec![event("1"), event("2")],
            vec![event("3")],
            vec![event("4")],
        ] {
            pending.push(batch);
            shipper.seal();
        }
        assert_eq!(shipper.backlog(), 2);
        assert_eq!(stats.dropped.load(Relaxed), 2);
        server.fail.store(false, Relaxed);
        shipper.ship().await.unwrap();
        let seqs: Vec<u64> = server.seen.lock().unwrap().iter().map(|s| s.seq).collect();
        assert_eq!(seqs, [2, 3]);
    }

    #[tokio::test]
    async fn big_queues_are_split_into_bounded_shipments() {
        let (_server, url) = serve().await;
        let pending = Arc::new(Pending::new(MAX_EVENTS * 3, MAX_EVENTS));
        let stats = Arc::new(LogStats::default());
        let mut shipper = shipper(url, &pending, &stats, 10);
        pending.push((0..MAX_EVENTS + 1).map(|i| event(&i.to_string())));
        shipper.seal();
        assert_eq!(shipper.backlog(), 2);
    }
}
