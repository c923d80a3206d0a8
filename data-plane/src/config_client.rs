//! The config client: a `ConfigDiscovery.Stream` subscription to the control plane, in the
//! style of Envoy's xDS / linkerd2-proxy's destination client.
//!
//! It says `Hello{node_id, last_applied_version}`, then for each `ConfigUpdate` builds the
//! next state off the request threads, below their priority ([`crate::background`]), swaps
//! it in atomically (the replaced state is freed on that thread too) and ACKs,
//! or NACKs with the error and keeps the last good state. The stream is re-established
//! forever; the node keeps serving meanwhile. With several control-plane URLs (replicas
//! over one Postgres), a session that ends or cannot start moves the node to the next URL
//! at once; only when every URL has failed in a row does it wait, with exponential
//! backoff and jitter (as it does between attempts at a single URL). With
//! Redis, a control plane whose cluster (the stream's `apigw-cluster-id`) is not the one
//! that claimed the node's key prefix is refused before any update is applied.
//!
//! With a state directory, each applied update is handed to the state writer
//! ([`crate::node_state`]), and [`ConfigClient::restore`] applies the state file's update
//! at start, before the stream is opened.
//!
//! The control plane sends `ConfigUpdate`s; the node reads the same bytes as
//! `LazyConfigUpdate`s (each stage left encoded: the same wire format, see `config.proto`)
//! through a tonic client of its own on the same method path ([`STREAM_PATH`]), and
//! decodes, compiles and drops one stage at a time (`apply_lazy_update_counted`): a full
//! update of thousands of stages is never held decoded whole.

use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config::{node_message, Ack, Hello, LazyConfigUpdate, NodeMessage};
use rand::Rng;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::background::Background;
use crate::control_plane_tls::{rustls_error, ControlPlaneTls};
use apigw_gateway::state::{apply_lazy_update_counted, SharedState};

/// `ConfigDiscovery.Stream`'s method path (`config.proto`), which the node calls with its
/// own codec: `NodeMessage` out, `LazyConfigUpdate` in.
pub const STREAM_PATH: &str = "/apigw.config.v1.ConfigDiscovery/Stream";

/// The largest update the node accepts (a full update is ~6.7 KB per API of the scale
/// generator's shape: 65 MiB at 10,000).
pub const MAX_UPDATE_BYTES: usize = 256 * 1024 * 1024;

/// First reconnect delay.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest reconnect delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The pause before trying the next control-plane replica after one failed.
pub const FAILOVER_PAUSE: Duration = Duration::from_millis(50);

/// Why a stream session ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The control-plane URL is not a valid endpoint.
    #[error("invalid control-plane URL: {0}")]
    InvalidUrl(#[source] tonic::transport::Error),
    /// Connecting failed (the message carries the whole chain: tonic's own error says only
    /// "transport error").
    #[error("connect: {}", crate::control_plane_tls::chain(.0))]
    Connect(#[source] tonic::transport::Error),
    /// The server answered with an error status (or the connection broke).
    #[error("stream: {0}")]
    Status(#[from] tonic::Status),
    /// The server closed the stream.
    #[error("stream closed by the control plane")]
    Closed,
    /// The ack channel is gone (the stream's sender task ended).
    #[error("ack channel closed")]
    AckChannel,
    /// Compiling panicked (a bug; the state is unchanged).
    #[error("compile task failed: {0}")]
    Task(#[from] crate::background::JobFailed),
    /// The control plane belongs to another cluster than the one that claimed this node's
    /// Redis key prefix: its config is refused.
    #[error(
        "the control plane is cluster {control_plane}, but the Redis key prefix {prefix:?} is          claimed by cluster {claimant}: refusing its config (is REDIS_KEY_PREFIX or          CONTROL_PLANE_URL wrong?)"
    )]
    ForeignCluster {
        /// The control plane's cluster id.
        control_plane: String,
        /// The prefix.
        prefix: String,
        /// The cluster holding the prefix.
        claimant: String,
    },
}

/// Checks a control plane's cluster against the claim on the node's Redis key prefix.
#[derive(Clone)]
pub struct ClusterClaim {
    redis: apigw_shared_redis::SharedRedis,
    prefix: String,
}

impl ClusterClaim {
    /// Reads the claim on `prefix` through `redis`.
    pub fn new(redis: apigw_shared_redis::SharedRedis, prefix: &str) -> Self {
        ClusterClaim {
            redis,
            prefix: prefix.to_string(),
        }
    }

    /// `Err` when the stream's cluster id and the prefix's claimant are both known and
    /// differ; an unreachable Redis or an older control plane (no id) is let through.
    async fn check(&self, metadata: &tonic::metadata::MetadataMap) -> Result<(), SessionError> {
        let Some(control_plane) = metadata
            .get(apigw_proto::CLUSTER_ID_METADATA)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(());
        };
        let key = format!("{}{}", self.prefix, apigw_proto::CLUSTER_CLAIM_KEY);
        let mut redis = self.redis.clone();
        let mut get = redis::cmd("GET");
        get.arg(&key);
        let read = get.query_async::<Option<String>>(&mut redis);
        let claimant = match tokio::time::timeout(Duration::from_secs(2), read).await {
            Ok(Ok(claimant)) => claimant,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot read the Redis key prefix's cluster claim");
                None
            }
            Err(_) => {
                tracing::warn!("the Redis key prefix's cluster claim did not come in 2 s");
                None
            }
        };
        match claimant {
            Some(claimant) if claimant != control_plane => Err(SessionError::ForeignCluster {
                control_plane: control_plane.to_string(),
                prefix: self.prefix.clone(),
                claimant,
            }),
            _ => Ok(()),
        }
    }
}

/// Exponential backoff with "equal jitter": half fixed, half random.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: BACKOFF_MIN }
    }
}

impl Backoff {
    /// The delay before the next attempt (doubling up to [`BACKOFF_MAX`]).
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        let half = base / 2;
        half + rand::thread_rng().gen_range(Duration::ZERO..=half)
    }

    /// Back to the shortest delay (after a session that got somewhere).
    pub fn reset(&mut self) {
        self.next = BACKOFF_MIN;
    }
}

/// Called with each new state before it is swapped in (off the request threads), and with
/// its version once it is.
pub trait OnApply: Send + Sync + 'static {
    /// Prepares `next` (e.g. attaches metrics series to its new stages and methods).
    fn prepare(&self, next: &apigw_gateway::state::GatewayState);
    /// `version` is now being served.
    fn applied(&self, version: u64);
    /// What building the state served now took (see [`UpdateStats`]).
    fn built(&self, _stats: &UpdateStats) {}
}

/// One applied update's size and cost, for the node's metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpdateStats {
    /// Whether it replaced the whole state.
    pub full: bool,
    /// Its size as received (encoded protobuf bytes).
    pub bytes: usize,
    /// Stages compiled to build the state (a delta: only those it upserts).
    pub stages_compiled: usize,
    /// Time to build the state (compile and prepare), off the request threads.
    pub build: Duration,
}

/// Subscribes a node to the control plane's config stream.
pub struct ConfigClient {
    /// The control planes, in the order given; never empty.
    urls: Vec<String>,
    node_id: String,
    state: Arc<SharedState>,
    on_apply: Option<Arc<dyn OnApply>>,
    claim: Option<ClusterClaim>,
    tls: ControlPlaneTls,
    persist: Option<crate::node_state::StateWriter>,
    /// Where updates are compiled and replaced states freed.
    background: Background,
}

impl std::fmt::Debug for ConfigClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigClient")
            .field("urls", &self.urls)
            .field("node_id", &self.node_id)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl ConfigClient {
    /// A client for the control plane at `urls`: one URL (e.g. `http://127.0.0.1:9090`) or
    /// several, comma separated ([`crate::control_plane_tls::split_urls`]); an empty list
    /// means the default, `http://127.0.0.1:9090`. Updates are compiled on `background`.
    pub fn new(
        urls: &str,
        node_id: impl Into<String>,
        state: Arc<SharedState>,
        background: Background,
    ) -> Self {
        let mut urls = crate::control_plane_tls::split_urls(urls);
        if urls.is_empty() {
            urls.push("http://127.0.0.1:9090".to_string());
        }
        ConfigClient {
            urls,
            node_id: node_id.into(),
            state,
            on_apply: None,
            claim: None,
            tls: ControlPlaneTls::default(),
            persist: None,
            background,
        }
    }

    /// The client handing every applied update to `writer` (the node's state file).
    pub fn with_state_writer(mut self, writer: crate::node_state::StateWriter) -> Self {
        self.persist = Some(writer);
        self
    }

    /// Applies a full update restored before [`run`] (from the state file, or the state the
    /// control planes published to Redis; `from` names it in logs), whole or not at all;
    /// `false` (logged) when it does not compile.
    ///
    /// [`run`]: ConfigClient::run
    pub async fn restore(&self, update: LazyConfigUpdate, from: &str) -> bool {
        let version = update.version;
        match self.compile(update).await {
            Ok(Ok((next, update))) => {
                let stages = self.install(next, version);
                if let Some(writer) = &self.persist {
                    writer.seed(update);
                }
                tracing::info!(
                    from,
                    version,
                    stages,
                    "serving the restored state until the control plane answers"
                );
                true
            }
            Ok(Err(error)) => {
                tracing::error!(from, version, %error, "restored state refused: its config does not compile; waiting for the control plane");
                false
            }
            Err(error) => {
                tracing::error!(from, %error, "restored state refused: compiling it failed; waiting for the control plane");
                false
            }
        }
    }

    /// Whether a state is applied (restored, or from the stream).
    pub fn has_state(&self) -> bool {
        self.state.is_ready()
    }

    /// The client verifying an `https://` control plane (and presenting the node's client
    /// certificate) with `tls`.
    pub fn with_tls(mut self, tls: ControlPlaneTls) -> Self {
        self.tls = tls;
        self
    }

    /// The client refusing control planes of another cluster than `claim`'s.
    pub fn with_cluster_claim(mut self, claim: ClusterClaim) -> Self {
        self.claim = Some(claim);
        self
    }

    /// The client calling `hook` for every state it applies.
    pub fn with_on_apply(mut self, hook: Arc<dyn OnApply>) -> Self {
        self.on_apply = Some(hook);
        self
    }

    /// Runs forever: connect, stream, and reconnect with backoff whenever the session ends.
    pub async fn run(self) {
        let mut backoff = Backoff::default();
        let mut at = 0;
        // Sessions in a row that ended before any update arrived.
        let mut failures = 0;
        loop {
            let url = self.urls[at].as_str();
            let mut progressed = false;
            match self.session(url, &mut progressed).await {
                Ok(()) => {}
                Err(error @ SessionError::ForeignCluster { .. }) => {
                    tracing::error!(%error, url, "config stream refused");
                }
                Err(error) if rustls_error(&error).is_some() => {
                    // Not a passing outage: the node will never get its config until the
                    // certificates are fixed.
                    tracing::error!(
                        %error,
                        url,
                        private_ca = self.tls.has_private_ca(),
                        client_cert = self.tls.has_client_cert(),
                        "config stream: the TLS handshake with the control plane failed \
                         (is --control-plane-ca-file the CA that issued the control plane's \
                         certificate, for the host name in --control-plane? does the control \
                         plane ask for a client certificate, --control-plane-cert-file?); \
                         serving last applied config"
                    );
                }
                Err(error @ SessionError::Status(_))
                    if !progressed && crate::control_plane_tls::is_https(url) =>
                {
                    // With TLS 1.3 the server checks the client's certificate after the
                    // client's side of the handshake is done: a refusal reaches the client
                    // as a connection closed under its first call, its reason (the alert)
                    // only in the connection's own task. Say what it most likely is.
                    tracing::error!(
                        %error,
                        url,
                        client_cert = self.tls.has_client_cert(),
                        "config stream: the control plane closed the TLS connection before \
                         sending any config: a control plane with --grpc-client-ca-file \
                         refuses nodes without a client certificate from that CA (this \
                         node's: --control-plane-cert-file / --control-plane-key-file); \
                         serving last applied config"
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, url, applied_version = self.state.load().version, "config stream down; serving last applied config");
                }
            }
            if progressed {
                backoff.reset();
                failures = 0;
            } else {
                failures += 1;
            }
            let replicas = self.urls.len();
            at = (at + 1) % replicas;
            // With replicas left untried since the last success, try the next one at once
            // (a short pause, not a spin); once every one has failed, back off.
            let delay = if replicas > 1 && failures < replicas {
                FAILOVER_PAUSE
            } else {
                backoff.next_delay()
            };
            if replicas > 1 {
                tracing::info!(next = %self.urls[at], after = ?delay, "config stream: trying the next control plane");
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// One stream session. `progressed` is set once an update was received.
    async fn session(&self, url: &str, progressed: &mut bool) -> Result<(), SessionError> {
        let endpoint = self
            .tls
            .endpoint(url)
            .map_err(SessionError::InvalidUrl)?
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .keep_alive_while_idle(true);
        let channel = endpoint.connect().await.map_err(SessionError::Connect)?;
        let mut client =
            tonic::client::Grpc::new(channel).max_decoding_message_size(MAX_UPDATE_BYTES);

        let (tx, rx) = mpsc::channel::<NodeMessage>(16);
        let hello = Hello {
            node_id: self.node_id.clone(),
            last_applied_version: self.state.load().version,
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        tx.send(NodeMessage {
            msg: Some(node_message::Msg::Hello(hello)),
        })
        .await
        .map_err(|_| SessionError::AckChannel)?;
        client
            .ready()
            .await
            .map_err(|e| tonic::Status::unknown(format!("service was not ready: {e}")))?;
        let codec = tonic_prost::ProstCodec::<NodeMessage, LazyConfigUpdate>::default();
        let mut request = tonic::Request::new(ReceiverStream::new(rx));
        request.extensions_mut().insert(tonic::GrpcMethod::new(
            "apigw.config.v1.ConfigDiscovery",
            "Stream",
        ));
        let response = client
            .streaming(
                request,
                http::uri::PathAndQuery::from_static(STREAM_PATH),
                codec,
            )
            .await?;
        if let Some(claim) = &self.claim {
            claim.check(response.metadata()).await?;
        }
        let mut updates = response.into_inner();
        tracing::info!(url, node_id = %self.node_id, "config stream connected");

        while let Some(update) = updates.message().await? {
            *progressed = true;
            let ack = self.apply(update).await?;
            tx.send(NodeMessage {
                msg: Some(node_message::Msg::Ack(ack)),
            })
            .await
            .map_err(|_| SessionError::AckChannel)?;
        }
        Err(SessionError::Closed)
    }

    /// Compiles the state after `update` on the compile thread; hands the update back.
    async fn compile(
        &self,
        update: LazyConfigUpdate,
    ) -> Result<
        Result<
            (apigw_gateway::state::GatewayState, LazyConfigUpdate),
            apigw_gateway::compile::CompileError,
        >,
        crate::background::JobFailed,
    > {
        let current = self.state.snapshot();
        let on_apply = self.on_apply.clone();
        self.background
            .run(move || {
                let started = std::time::Instant::now();
                let (next, stats) = apply_lazy_update_counted(&current, &update)?;
                if let Some(hook) = &on_apply {
                    hook.prepare(&next);
                    hook.built(&UpdateStats {
                        full: update.full,
                        bytes: prost::Message::encoded_len(&update),
                        stages_compiled: stats.stages_compiled,
                        build: started.elapsed(),
                    });
                }
                Ok((next, update))
            })
            .await
    }

    /// Swaps in `next` (built from `version`), hands the state it replaces to the compile
    /// thread to free, and tells the hook; returns its stage count.
    fn install(&self, next: apigw_gateway::state::GatewayState, version: u64) -> usize {
        let stages = next.stage_count();
        self.background.free_later(self.state.swap(next));
        if let Some(hook) = &self.on_apply {
            hook.applied(version);
        }
        stages
    }

    /// Compiles and applies one update off the request threads; returns the ACK/NACK.
    async fn apply(&self, update: LazyConfigUpdate) -> Result<Ack, SessionError> {
        let (version, nonce) = (update.version, update.nonce.clone());
        let result = self.compile(update).await?;
        Ok(match result {
            Ok((next, update)) => {
                let stages = self.install(next, version);
                if let Some(writer) = &self.persist {
                    writer.applied(update);
                }
                tracing::info!(version, stages, "config applied");
                Ack {
                    version,
                    nonce,
                    accepted: true,
                    error: String::new(),
                    applied_version: version,
                }
            }
            Err(error) => {
                let applied_version = self.state.load().version;
                tracing::warn!(version, applied_version, %error, "config rejected; keeping last good state");
                Ack {
                    version,
                    nonce,
                    accepted: false,
                    error: error.to_string(),
                    applied_version,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(first >= BACKOFF_MIN / 2 && first <= BACKOFF_MIN);
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(d <= BACKOFF_MAX && d >= Duration::from_millis(50));
        }
        assert!(b.next_delay() >= BACKOFF_MAX / 2);
        b.reset();
        assert!(b.next_delay() <= BACKOFF_MIN);
    }
}
