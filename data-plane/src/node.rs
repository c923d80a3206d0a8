//! Wiring of a node: shared state, the config client, the backend client and the HTTP
//! server, plus the shutdown signal (SIGTERM / Ctrl-C).

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::cli::Args;
use crate::config_client::ConfigClient;
use crate::control_plane_tls::ControlPlaneTls;
use crate::limits::{Limiter, LimiterConfig};
use crate::logs::shipper::{self as shipper_for_logs, LogShipper, LogShipperConfig};
use crate::logs::sink::{Pending, SinkConfig};
use crate::logs::LogsHook;
use crate::metrics::shipper::{Shipper, ShipperConfig, DEFAULT_MAX_BACKLOG, FINAL_WAIT};
use crate::metrics::{MetricsHook, Registry};
use crate::request_log::RequestLog;
use crate::server::{self, DRAIN_TIMEOUT};
use apigw_gateway::backend_client;
use apigw_gateway::phases::authorize::Authorizers;
use apigw_gateway::phases::cache::ResponseCache;
use apigw_gateway::phases::end::{RequestEnd, RequestSummary};
use apigw_gateway::phases::integration::invoke_api::{FunctionsEndpoint, FunctionsUrlError};
use apigw_gateway::state::SharedState;
use apigw_gateway::Gateway;
use apigw_shared_redis::RedisTarget;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// `--backend-ca-file` cannot be read or parsed.
    #[error("--backend-ca-file {path}: {reason}")]
    BackendCa {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The HTTP address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Redis URL (or its key prefix on a cluster) is invalid.
    #[error(transparent)]
    Limits(#[from] crate::limits::LimitsError),
    /// The OTLP exporter could not be built.
    #[error(transparent)]
    Otlp(#[from] crate::otlp::OtlpError),
    /// The functions URL is unusable.
    #[error(transparent)]
    Functions(#[from] FunctionsUrlError),
    /// The metrics (or logs) URL is unusable.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::shipper::ShipperError),
    /// The access log file cannot be opened.
    #[error(transparent)]
    LogSink(#[from] crate::logs::sink::SinkError),
    /// The TLS files for the control plane are unusable.
    #[error(transparent)]
    ControlPlaneTls(#[from] crate::control_plane_tls::ControlPlaneTlsError),
    /// `DP_STATE_KEY` is not the base64 of 32 bytes.
    #[error(transparent)]
    StateKey(#[from] crate::node_state::StateKeyError),
    /// The config compile thread could not be started.
    #[error("cannot start the config compile thread: {0}")]
    CompileThread(#[source] std::io::Error),
}

/// Several end-of-request hooks, called in order.
struct Hooks(Vec<Arc<dyn RequestEnd>>);

impl RequestEnd for Hooks {
    fn request_end(&self, summary: &RequestSummary<'_>) {
        for hook in &self.0 {
            hook.request_end(summary);
        }
    }
}

/// Runs a node until `shutdown` resolves, then drains in-flight requests and returns.
pub async fn run(args: Args, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    let args_limits = (args.header_read_timeout, args.keep_alive_timeout);
    let control_plane_tls = ControlPlaneTls::from_files(
        &args.control_plane,
        args.control_plane_ca_file.as_deref(),
        args.control_plane_cert_file.as_deref(),
        args.control_plane_key_file.as_deref(),
    )?;
    let state_key = match args.state_key.as_deref().filter(|k| !k.trim().is_empty()) {
        Some(text) => Some(crate::node_state::StateKey::from_base64(text)?),
        None => None,
    };
    let state_dir = state_dir(&args.state_dir, state_key.is_some());
    let node_id = args
        .node_id
        .clone()
        .unwrap_or_else(|| format!("dp-{}", uuid::Uuid::new_v4().simple()));
    let listener = TcpListener::bind(&args.http_addr)
        .await
        .map_err(|source| NodeError::Bind {
            addr: args.http_addr.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(
        addr = %local,
        node_id = %node_id,
        control_plane = %args.control_plane,
        tls = crate::control_plane_tls::is_https(&args.control_plane),
        "data plane listening"
    );
    let https_listener = match &args.https_addr {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| NodeError::Bind {
                    addr: addr.clone(),
                    source,
                })?;
            tracing::info!(addr = %addr, "HTTPS listener for custom domain names");
            Some(listener)
        }
        None => None,
    };

    let state = Arc::new(SharedState::new());
    let tls_state = Arc::clone(&state);
    // One server or a Redis Cluster; on a cluster the key prefix becomes a hash tag, so
    // every multi-key script's keys share one slot (crates/shared-redis).
    // TLS files (a private CA, a client certificate) are read and checked now: a bad one
    // stops the node at start, naming the file.
    let redis_tls = apigw_shared_redis::TlsFiles {
        ca_file: args.redis_ca_file.clone(),
        client_cert_file: args.redis_client_cert_file.clone(),
        client_key_file: args.redis_client_key_file.clone(),
    };
    let (redis_target, redis_prefix) = match args.redis_url.as_deref() {
        Some(url) => {
            let (target, prefix) = RedisTarget::resolve(url, &redis_tls, &args.redis_prefix)
                .map_err(crate::limits::LimitsError::from)?;
            tracing::info!(redis = %target, cluster = target.is_cluster(), %prefix, "shared state in Redis");
            (Some(target), prefix)
        }
        None => (None, args.redis_prefix.clone()),
    };
    let limiter = Arc::new(Limiter::new(LimiterConfig {
        redis: redis_target.clone(),
        prefix: redis_prefix.clone(),
        fail_closed: args.limits_fail_closed,
        node_id: node_id.clone(),
    })?);
    if args.redis_url.is_none() {
        tracing::warn!("no --redis-url: limits are enforced per node and usage is not metered");
    }
    let mut authorizers = Authorizers::default()
        .with_timeout(std::time::Duration::from_millis(
            args.authorizer_timeout_ms.max(1),
        ))
        .with_issuer_overrides(args.oidc_issuers.iter().cloned().collect());
    let mut cache = ResponseCache::default().with_max_item_bytes(args.cache_max_item_bytes);
    if let Some(redis) = limiter.redis() {
        authorizers = authorizers.with_shared(Arc::new(
            crate::authorizer_cache::RedisDecisions::new(redis.clone(), &redis_prefix),
        ));
        cache = cache.with_shared(Arc::new(crate::response_cache::RedisResponses::new(
            redis,
            &redis_prefix,
            args.cache_stage_max_bytes,
        )));
    }
    let heartbeat = tokio::spawn(Arc::clone(&limiter).run_heartbeat());
    if let Some(path) = &args.backend_ca_file {
        let err = |reason: String| NodeError::BackendCa {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let n = backend_client::trust_extra_roots(&pem).map_err(|e| err(e.to_string()))?;
        if n == 0 {
            return Err(err("no PEM certificate in it".to_string()));
        }
        tracing::info!(path = %path, certificates = n, "HTTPS backends also verified against these CAs");
    }
    let client = backend_client::build().with_idle_timeout(std::time::Duration::from_secs(
        args.backend_idle_timeout.max(1),
    ));
    let reaper = tokio::spawn(client.clone().reap_idle());
    let metrics = args.metrics.then(|| Arc::new(Registry::new()));
    let local: apigw_gateway::LocalEndpoints = match &metrics {
        Some(registry) => {
            let (registry, limiter) = (Arc::clone(registry), Arc::clone(&limiter));
            Arc::new(move |path, state| match path {
                "/metrics" => Some(crate::metrics::prometheus::response(&registry, &limiter)),
                _ => crate::health::respond(path, state),
            })
        }
        None => Arc::new(crate::health::respond),
    };
    let mut gateway = Gateway::new(Arc::clone(&state), client, &args.execute_api_domain)
        .with_limiter(Arc::clone(&limiter))
        .with_authorizers(Arc::new(authorizers))
        .with_cache(Arc::new(cache))
        .with_local_endpoints(local);
    // The hooks: metrics (with the debug request log inside), or the log alone; and
    // access / execution logs. With none, none is installed and the engine reads no
    // clock for it.
    let mut hooks: Vec<Arc<dyn RequestEnd>> = Vec::new();
    match &metrics {
        Some(registry) => hooks.push(Arc::new(MetricsHook::new(Arc::clone(registry)))),
        None if RequestLog::enabled() => hooks.push(Arc::new(RequestLog)),
        None => {}
    }
    let log_stats = metrics
        .as_ref()
        .map_or_else(Default::default, |r| Arc::clone(&r.logs));
    let mut log_shipper = None;
    let mut log_writer = None;
    let mut ws_logs = None;
    if args.logs {
        let (queue, records) =
            crate::logs::queue::bounded(usize::try_from(args.log_queue_size).unwrap_or(usize::MAX));
        // Lines only written to the file or stdout are formatted ready to embed there.
        let embedded =
            !args.logs_ship && (args.access_log_file.is_some() || args.access_log_stdout);
        // Their access lines are then formatted whole into the workers' own buffers,
        // which the sink writes out (logs::direct).
        let direct =
            embedded.then(|| Arc::new(crate::logs::direct::DirectLines::new(node_id.clone())));
        let mut hook = LogsHook::new(queue, Arc::clone(&log_stats));
        if let Some(direct) = &direct {
            hook = hook.direct(Arc::clone(direct));
        }
        let hook = Arc::new(hook);
        ws_logs = Some(Arc::clone(&hook));
        hooks.push(hook);
        let pending = args.logs_ship.then(|| {
            Arc::new(Pending::new(
                shipper_for_logs::MAX_EVENTS * 20,
                shipper_for_logs::MAX_EVENTS,
            ))
        });
        log_writer = Some(crate::logs::sink::start(
            SinkConfig {
                file: args.access_log_file.clone(),
                stdout: args.access_log_stdout,
                node_id: node_id.clone(),
            },
            records,
            pending.clone(),
            Arc::clone(&log_stats),
            direct,
        )?);
        if let Some(pending) = pending {
            let task = LogShipper::new(
                pending,
                Arc::clone(&log_stats),
                LogShipperConfig {
                    url: args
                        .logs_url
                        .clone()
                        .unwrap_or_else(|| args.control_plane.clone()),
                    tls: control_plane_tls.clone(),
                    node_id: node_id.clone(),
                    interval: std::time::Duration::from_millis(args.logs_ship_interval_ms),
                    max_backlog: shipper_for_logs::DEFAULT_MAX_BACKLOG,
                },
            )?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let run = task.run(async move {
                let _ = stopped.await;
            });
            log_shipper = Some((stop, tokio::spawn(run)));
        }
    }
    match hooks.len() {
        0 => {}
        1 => {
            if let Some(hook) = hooks.pop() {
                gateway = gateway.with_end_hook(hook);
            }
        }
        _ => gateway = gateway.with_end_hook(Arc::new(Hooks(hooks))),
    }
    match args
        .functions_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
    {
        Some(url) => gateway = gateway.with_functions(FunctionsEndpoint::new(url)?),
        None => tracing::info!("no --functions-url: function integrations answer 500"),
    }
    let (tracer, exporter) = crate::otlp::start(&args)?;
    gateway = gateway.with_tracer(tracer);
    let gateway = Arc::new(gateway);
    let (drain_tx, drain_rx) = tokio::sync::watch::channel(false);
    let ws_hub = Arc::new(
        crate::websocket::WsHub::new(
            Arc::clone(&gateway),
            crate::websocket::WsSettings {
                idle_timeout: std::time::Duration::from_secs(args.ws_idle_timeout.max(1)),
                max_duration: std::time::Duration::from_secs(
                    args.ws_max_connection_duration.max(1),
                ),
                drain_grace: std::time::Duration::from_secs(args.ws_drain_grace),
                registry_ttl: std::time::Duration::from_secs(args.ws_registry_ttl.max(1)),
                connect_rate: args.ws_connect_rate,
            },
            limiter.redis(),
            redis_target.clone(),
            &redis_prefix,
            drain_rx,
        )
        .with_logs(ws_logs),
    );
    let ws_task = tokio::spawn(Arc::clone(&ws_hub).run());
    let drain_grace = std::time::Duration::from_secs(args.ws_drain_grace);
    let background = crate::background::Background::start(args.compile_nice)
        .map_err(NodeError::CompileThread)?;
    let mut config_client =
        ConfigClient::new(&args.control_plane, node_id.clone(), state, background)
            .with_tls(control_plane_tls.clone());
    if let Some(redis) = limiter.redis() {
        config_client = config_client.with_cluster_claim(crate::config_client::ClusterClaim::new(
            redis,
            &redis_prefix,
        ));
    }
    let mut shipper = None;
    if let Some(registry) = &metrics {
        config_client = config_client.with_on_apply(Arc::clone(registry) as _);
        let url = args.metrics_url.clone().unwrap_or(args.control_plane);
        let task = Shipper::new(
            Arc::clone(registry),
            ShipperConfig {
                url,
                tls: control_plane_tls,
                node_id,
                interval: std::time::Duration::from_secs(args.metrics_ship_interval),
                max_backlog: DEFAULT_MAX_BACKLOG,
            },
        )?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let run = task.run(async move {
            let _ = stopped.await;
        });
        shipper = Some((stop, tokio::spawn(run)));
    }
    // A node with a state file of its own (even one it refused) is not brand-new: only a
    // node without one bootstraps from the state published to Redis.
    let mut has_file = false;
    if let Some(dir) = state_dir {
        has_file = crate::node_state::file_path(&dir).exists();
        config_client = restore_state(config_client, dir, state_key).await;
    }
    if !has_file && !config_client.has_state() {
        if let Some(redis) = limiter.redis() {
            bootstrap_from_redis(&config_client, redis, &redis_prefix).await;
        }
    }
    let config = tokio::spawn(config_client.run());
    let limits = server::ConnLimits {
        header_read_timeout: std::time::Duration::from_secs(args_limits.0),
        keep_alive_timeout: std::time::Duration::from_secs(args_limits.1),
    };
    let (stop_https, https_stopped) = tokio::sync::watch::channel(false);
    let https = match https_listener {
        Some(listener) => {
            let mut stopped = https_stopped;
            Some(tokio::spawn(server::serve(
                listener,
                server::Site {
                    gateway: Arc::clone(&gateway),
                    websocket: Some(Arc::clone(&ws_hub)),
                    metrics: metrics.clone(),
                    tls: Some(tls_state),
                    limits,
                    drain_timeout: DRAIN_TIMEOUT,
                },
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            )))
        }
        None => None,
    };
    let shutdown = async move {
        shutdown.await;
        let _ = stop_https.send(true);
        let _ = drain_tx.send(true);
    };
    server::serve(
        listener,
        server::Site {
            gateway,
            websocket: Some(Arc::clone(&ws_hub)),
            metrics,
            tls: None,
            limits,
            drain_timeout: DRAIN_TIMEOUT,
        },
        shutdown,
    )
    .await;
    if let Some(https) = https {
        let _ = https.await;
    }
    // Upgraded sockets are no longer hyper's: wait for the sessions to close them (1001
    // after the drain grace).
    let sockets_closed = async {
        while ws_hub.local.lock().map(|l| !l.is_empty()).unwrap_or(false) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let _ = tokio::time::timeout(
        drain_grace + std::time::Duration::from_secs(3),
        sockets_closed,
    )
    .await;
    // The closed sessions' last messages and minutes.
    ws_hub.flush_usage().await;
    ws_task.abort();
    // The gateway (and with it the logs hook's queue sender) is gone once `serve`
    // returns: the writer drains the queue and ends, then the shipper sends the rest.
    if let Some(writer) = log_writer {
        let joined = tokio::task::spawn_blocking(move || writer.join());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), joined).await;
    }
    if let Some((stop, task)) = log_shipper {
        let _ = stop.send(());
        let _ = tokio::time::timeout(
            shipper_for_logs::FINAL_WAIT + std::time::Duration::from_secs(1),
            task,
        )
        .await;
    }
    if let Some((stop, task)) = shipper {
        let _ = stop.send(());
        let _ = tokio::time::timeout(FINAL_WAIT + std::time::Duration::from_secs(1), task).await;
    }
    config.abort();
    heartbeat.abort();
    reaper.abort();
    if let Some(exporter) = exporter {
        // The queued spans go out once the gateway (and so the tracer) is gone.
        if tokio::time::timeout(std::time::Duration::from_secs(5), exporter)
            .await
            .is_err()
        {
            tracing::warn!("OTLP export did not finish in 5 s; queued spans dropped");
        }
    }
    tracing::info!("data plane stopped");
    Ok(())
}

/// The state directory, created if needed; `None` (logged) when empty or unusable.
fn state_dir(dir: &str, keyed: bool) -> Option<std::path::PathBuf> {
    if dir.trim().is_empty() {
        tracing::info!("no --state-dir: this node keeps no state and serves nothing until the control plane answers");
        return None;
    }
    let dir = std::path::PathBuf::from(dir);
    if let Err(error) = std::fs::create_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), %error, "cannot create the state directory: this node keeps no state (set --state-dir / DP_STATE_DIR, or empty to turn this off)");
        return None;
    }
    if !keyed {
        tracing::warn!(dir = %dir.display(), "no DP_STATE_KEY: private keys of custom domains and client certificates are left out of the state file; after a restart, their HTTPS waits for the control plane");
    }
    Some(dir)
}

/// Starts the state writer and applies the state file, if any and valid, before the
/// config stream opens: the node serves it until the control plane answers.
async fn restore_state(
    mut client: ConfigClient,
    dir: std::path::PathBuf,
    key: Option<crate::node_state::StateKey>,
) -> ConfigClient {
    use crate::node_state;
    let file = node_state::file_path(&dir);
    let loaded = {
        let (dir, key) = (dir.clone(), key.clone());
        tokio::task::spawn_blocking(move || node_state::load(&dir, key.as_ref())).await
    };
    match node_state::StateWriter::start(dir, key) {
        Ok(writer) => client = client.with_state_writer(writer),
        Err(error) => {
            tracing::warn!(%error, "cannot start the state writer: this node keeps no state")
        }
    }
    match loaded {
        Ok(Ok(Some((update, restored)))) => {
            if restored.unopened > 0 {
                tracing::warn!(file = %file.display(), keys = restored.unopened, "private keys in the state file do not open with DP_STATE_KEY (none given, or another key): left out");
            }
            if restored.domains_without_key + restored.client_certificates_without_key > 0 {
                tracing::warn!(
                    file = %file.display(),
                    domains = restored.domains_without_key,
                    client_certificates = restored.client_certificates_without_key,
                    "restored without private keys: these domains refuse TLS handshakes and these client certificates are not presented until the control plane answers"
                );
            }
            client
                .restore(update, &format!("state file {}", file.display()))
                .await;
        }
        Ok(Ok(None)) => {
            tracing::info!(file = %file.display(), "no state file yet: waiting for the control plane")
        }
        Ok(Err(error)) => {
            tracing::error!(file = %file.display(), reason = %error, "state file refused; waiting for the control plane")
        }
        Err(error) => {
            tracing::error!(file = %file.display(), reason = %error, "state file refused; waiting for the control plane")
        }
    }
    client
}

/// A brand-new node (no state file of its own) reads the last state the control planes
/// published to Redis (`control-plane/src/distribution/publish.rs`) and serves it until
/// the control plane answers; the stream then replaces it. At most a few seconds: a node
/// whose Redis is away starts empty, as before.
async fn bootstrap_from_redis(
    client: &ConfigClient,
    mut redis: apigw_shared_redis::SharedRedis,
    prefix: &str,
) {
    let key = format!("{prefix}{}", apigw_proto::PUBLISHED_STATE_KEY);
    let mut command = redis::cmd("HGET");
    command.arg(&key).arg("state");
    let read = command.query_async(&mut redis);
    let bytes: Option<Vec<u8>> = match tokio::time::timeout(std::time::Duration::from_secs(3), read)
        .await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => {
            tracing::warn!(key, %error, "cannot read the published state from Redis; waiting for the control plane");
            return;
        }
        Err(_) => {
            tracing::warn!(
                key,
                "Redis did not answer for the published state; waiting for the control plane"
            );
            return;
        }
    };
    let Some(bytes) = bytes else {
        tracing::info!(
            key,
            "no state published in Redis yet: waiting for the control plane"
        );
        return;
    };
    let from = format!("Redis key {key}");
    // The control planes leave private keys out: nothing to open.
    match crate::node_state::decode(bytes.into(), None) {
        Ok((update, restored)) => {
            if restored.domains_without_key > 0 {
                tracing::info!(
                    from,
                    domains = restored.domains_without_key,
                    "the published state carries no private keys: these domains complete TLS handshakes once the control plane answers"
                );
            }
            client.restore(update, &from).await;
        }
        Err(error) => {
            tracing::error!(from, reason = %error, "published state refused; waiting for the control plane")
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received");
}
