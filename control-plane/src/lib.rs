//! The control plane: management API, deployment compiler and config distribution.
//!
//! Requests from the console, the AWS CLI or SDKs arrive at the axum router in [`api`]
//! (authenticated by [`auth`]), in the JSON shapes of [`wire`], and edit the definitions in
//! Postgres through [`store`], the only module that runs SQL.
//! A deployment runs [`compiler`] to freeze the API into a protobuf snapshot. Every change
//! to what is deployed bumps a version and notifies all replicas; [`distribution`] turns
//! that into a stream of full and delta updates for every connected data-plane node.

pub mod api;
pub mod audit;
pub mod auth;
pub mod aws_json;
pub mod certs;
pub mod cloudwatch;
pub mod cluster;
pub mod compiler;
pub mod console;
pub mod constraints;
pub mod distribution;
pub mod error;
pub mod export;
pub mod extract;
pub mod grpc_tls;
pub mod http_server;
pub mod iam;
pub mod ids;
pub mod import;
pub mod ingest;
pub mod keys;
pub mod logs;
pub mod metering;
pub mod openapi;
pub mod patch;
pub mod schema_to_template;
pub mod services;
pub mod store;
pub mod v2;
pub mod validate;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::routing::get;
use axum::Router;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// Postgres pool.
    pub db: PgPool,
    /// Region in SigV4 scopes and ARNs.
    pub region: String,
    /// Encrypts API key values at rest (the master key).
    pub keys: std::sync::Arc<keys::KeyVault>,
    /// Usage counters and quotas in Redis; `None` when no Redis is configured.
    pub metering: Option<metering::Metering>,
    /// Console sessions and assets.
    pub console: std::sync::Arc<console::ConsoleConfig>,
    /// TestInvokeMethod's backend client and functions endpoint.
    pub test_invoker: api::test_invoke::TestInvoker,
    /// Delivers alarm actions (webhooks, SNS topics mapped to URLs).
    pub alarm_webhooks: std::sync::Arc<cloudwatch::notify::Notifier>,
    /// Days the log store keeps lines (DescribeLogGroups' `retentionInDays`).
    pub log_retention_days: u32,
}

/// Everything the control plane needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Postgres connection string.
    pub database_url: String,
    /// Management API listen address.
    pub http_addr: SocketAddr,
    /// Config stream listen address.
    pub grpc_addr: SocketAddr,
    /// TLS of the gRPC listener (`--grpc-tls-cert-file`, `--grpc-tls-key-file`,
    /// `--grpc-client-ca-file`); `None`: plain HTTP/2 (h2c).
    pub grpc_tls: Option<grpc_tls::GrpcTlsFiles>,
    /// Bootstrap access key id.
    pub access_key_id: String,
    /// Bootstrap secret access key.
    pub secret_access_key: String,
    /// Region for SigV4 scopes.
    pub region: String,
    /// Redis for usage counters and quotas (`REDIS_URL`: one server or `redis+cluster://`
    /// seeds); usage metering is off without it.
    pub redis_url: Option<String>,
    /// TLS files of a `rediss://` Redis (`--redis-ca-file`, `--redis-client-cert-file`,
    /// `--redis-client-key-file`); empty: the system's roots, no client certificate.
    pub redis_tls: apigw_shared_redis::TlsFiles,
    /// Prefix of every Redis key (`REDIS_KEY_PREFIX`), the same as the data plane's.
    pub redis_prefix: String,
    /// Master key encrypting API key values (`APIGW_MASTER_KEY`).
    pub master_key: String,
    /// Console session signing key (`APIGW_JWT_SECRET`); generated and kept in Postgres if unset.
    pub jwt_secret: Option<String>,
    /// First console admin's name (`APIGW_ADMIN_USER`), used when there is no user yet.
    pub admin_user: Option<String>,
    /// First console admin's password (`APIGW_ADMIN_PASSWORD`); generated and printed if unset.
    pub admin_password: Option<String>,
    /// The Invoke API of function integrations for TestInvokeMethod (`--functions-url`).
    pub functions_url: Option<String>,
    /// Directory of the built web console.
    pub console_dir: std::path::PathBuf,
    /// How often the alarm evaluator runs (`--alarm-eval-interval`, default 60 s).
    pub alarm_eval_interval: std::time::Duration,
    /// SNS topic ARNs mapped to webhook URLs for alarm actions
    /// (`APIGW_ALARM_SNS_WEBHOOKS`: `arn=url,arn=url`).
    pub alarm_sns_webhooks: String,
    /// Days the log store keeps access and execution log lines
    /// (`APIGW_LOG_RETENTION_DAYS`, default 30).
    pub log_retention_days: u32,
    /// How long a call waits for a Postgres connection before it is answered 503
    /// (`--db-acquire-timeout-ms`, default 2 s).
    pub db_acquire_timeout: std::time::Duration,
    /// Connection limits of the HTTP and gRPC listeners (`--header-read-timeout`,
    /// `--keep-alive-timeout`).
    pub conn_limits: http_server::ConnLimits,
}

/// How long a call waits for a Postgres connection by default.
pub const DEFAULT_DB_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Connects to Postgres and applies the migrations.
pub async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    connect_with(database_url, DEFAULT_DB_ACQUIRE_TIMEOUT).await
}

/// Connects to Postgres and applies the migrations; a call waits at most `acquire_timeout`
/// for a connection (sqlx's default, 30 s, would hold every call that long while Postgres
/// is down), then fails with `PoolTimedOut`, answered 503.
pub async fn connect_with(
    database_url: &str,
    acquire_timeout: std::time::Duration,
) -> anyhow::Result<PgPool> {
    let db = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(acquire_timeout)
        .connect(database_url)
        .await
        .context("connecting to Postgres")?;
    sqlx::migrate!("../migrations")
        .run(&db)
        .await
        .context("running migrations")?;
    Ok(db)
}

/// The HTTP application: health, the console (its API and SPA), the CloudWatch, CloudWatch
/// Logs and CloudTrail APIs (`POST /`), then the management API (SigV4 or a console session); a browser
/// navigation to an unknown path gets the SPA.
pub fn app(state: AppState) -> Router {
    let management = api::router()
        .merge(v2::router())
        // Inside authentication (it reads the caller) and inside the audit recorder (a
        // refused call is recorded as failed, `AccessDenied`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            iam::authorize_management,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record_management,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_sigv4,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            console::assets::unknown_path_navigation,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(openapi::OPENAPI_PATH, get(openapi::serve))
        .merge(
            console::router(&state.console).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                audit::record_console,
            )),
        )
        .merge(services::router())
        .merge(management)
        .layer(axum::middleware::from_fn(log_request))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

/// Readiness: 200 when Postgres answers within the pool's acquire timeout, 503 saying why
/// when it does not (`/healthz` stays liveness: the process serves).
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (status, body) = match store::health::ping(&state.db).await {
        Ok(()) => (
            http::StatusCode::OK,
            serde_json::json!({"status": "ready", "postgres": "ok"}),
        ),
        Err(error) => (
            http::StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "not ready", "postgres": error.to_string()}),
        ),
    };
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The header carrying a response's request id, as API Gateway's management API sends it
/// (the SDKs read it as `ResponseMetadata.RequestId`).
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// A request's id, in its extensions for whatever logs the request.
#[derive(Debug, Clone)]
struct RequestId(String);

/// Gives every response (success or error, management API, console API or static files,
/// including signature failures and unknown operations) a fresh `x-amzn-RequestId`.
async fn request_id(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

/// Logs one line per management call (method, path, status, request id), never headers
/// or bodies.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(%method, %path, status = resp.status().as_u16(), %request_id,
        ms = started.elapsed().as_millis() as u64, "management call");
    resp
}

/// Runs both servers until `shutdown` resolves, then drains them.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // One Redis server or a Redis Cluster (`redis+cluster://`); on a cluster the key prefix
    // becomes a hash tag so every multi-key script's keys share one slot (crates/shared-redis).
    let redis = match &settings.redis_url {
        Some(url) => {
            let (target, prefix) = apigw_shared_redis::RedisTarget::resolve(
                url,
                &settings.redis_tls,
                &settings.redis_prefix,
            )?;
            tracing::info!(redis = %target, cluster = target.is_cluster(), %prefix, "shared state in Redis");
            Some((target, prefix))
        }
        None => None,
    };
    let db = connect_with(&settings.database_url, settings.db_acquire_timeout).await?;
    let vault = std::sync::Arc::new(keys::KeyVault::from_master_key(&settings.master_key));
    keys::seal_stored_secrets(&db, &vault)
        .await
        .context("encrypting stored secrets")?;
    auth::ensure_bootstrap_key(
        &db,
        &vault,
        &settings.access_key_id,
        &settings.secret_access_key,
    )
    .await
    .context("storing the bootstrap access key")?;
    let jwt_secret =
        console::bootstrap::signing_secret(&db, &vault, settings.jwt_secret.as_deref())
            .await
            .context("loading the console session key")?;
    console::bootstrap::first_admin(
        &db,
        settings.admin_user.as_deref(),
        settings.admin_password.as_deref(),
    )
    .await
    .context("creating the first console admin")?;
    let cluster_id = store::cluster::ensure_id(&db)
        .await
        .context("reading the cluster id")?
        .to_string();
    if let Some((target, prefix)) = &redis {
        match cluster::claim_prefix(
            target,
            prefix,
            &cluster_id,
            &cluster::database_label(&settings.database_url),
        )
        .await
        {
            Ok(()) => {}
            Err(error @ cluster::ClaimError::Foreign { .. }) => {
                return Err(anyhow::Error::new(error).context("refusing to start"))
            }
            Err(error) => tracing::warn!(%error, "cluster identity not checked"),
        }
    }
    tracing::info!(%cluster_id, "cluster identity");
    let (state_rx, watcher) =
        distribution::watcher::start(db.clone(), vault.clone(), settings.region.clone()).await;
    let published_states = state_rx.clone();
    let config_service =
        distribution::grpc::ConfigService::new(state_rx).with_cluster_id(&cluster_id);
    let metrics_service = ingest::MetricsIngestService::new(db.clone());
    store::metrics::ensure_rollup_row(&mut *db.acquire().await?)
        .await
        .context("creating the metrics roll-up watermark")?;
    let rollup = tokio::spawn(ingest::rollup::run(db.clone()));
    let audit_prune = tokio::spawn(audit::prune_task(db.clone()));
    let log_retention_days = settings.log_retention_days.max(1);
    logs::retention::maintain(&db, ingest::logs::now_ms(), log_retention_days)
        .await
        .context("creating the log store's partitions")?;
    let log_partitions = tokio::spawn(logs::retention::run(db.clone(), log_retention_days));
    let logs_service = ingest::logs::LogsIngestService::new(db.clone(), log_retention_days);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let wait_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    // Checked before binding anything: a wrong file stops the start, naming its flag.
    let grpc_tls = match &settings.grpc_tls {
        Some(files) => Some(files.server_config().context("the gRPC listener's TLS")?),
        None => None,
    };
    let grpc_listener = tokio::net::TcpListener::bind(settings.grpc_addr)
        .await
        .with_context(|| format!("binding gRPC on {}", settings.grpc_addr))?;
    let http_listener = tokio::net::TcpListener::bind(settings.http_addr)
        .await
        .with_context(|| format!("binding HTTP on {}", settings.http_addr))?;
    tracing::info!(http = %settings.http_addr, grpc = %settings.grpc_addr, "control plane listening");

    let grpc = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(10)))
        .add_service(
            apigw_proto::config::config_discovery_server::ConfigDiscoveryServer::new(
                config_service,
            ),
        )
        .add_service(
            apigw_proto::metrics::metrics_ingest_server::MetricsIngestServer::new(metrics_service)
                .max_decoding_message_size(ingest::MAX_MESSAGE_BYTES),
        )
        .add_service(
            apigw_proto::logs::logs_ingest_server::LogsIngestServer::new(logs_service)
                .max_decoding_message_size(ingest::logs::MAX_MESSAGE_BYTES),
        );
    let header_read_timeout = settings.conn_limits.header_read_timeout;
    let grpc: std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> =
        match grpc_tls {
            Some(tls) => {
                tracing::info!(
                    client_certificates = settings
                        .grpc_tls
                        .as_ref()
                        .is_some_and(|f| f.client_ca_file.is_some()),
                    "config stream over TLS"
                );
                Box::pin(grpc.serve_with_incoming_shutdown(
                    grpc_tls::incoming(grpc_listener, tls, header_read_timeout),
                    wait_stop(stop_rx.clone()),
                ))
            }
            None => {
                if !settings.grpc_addr.ip().is_loopback() {
                    tracing::warn!(
                        grpc = %settings.grpc_addr,
                        "the config stream, which carries custom domains' private keys, is plain \
                         HTTP/2 on a non-loopback address: give --grpc-tls-cert-file and \
                         --grpc-tls-key-file (docs/domains.md)"
                    );
                }
                use tokio_stream::StreamExt;
                let incoming =
                    tokio_stream::wrappers::TcpListenerStream::new(grpc_listener).map(move |s| {
                        s.map(|s| {
                            http_server::PrefaceDeadline::new(
                                s,
                                http_server::H2_PREFACE_LEN,
                                header_read_timeout,
                            )
                        })
                    });
                Box::pin(grpc.serve_with_incoming_shutdown(incoming, wait_stop(stop_rx.clone())))
            }
        };
    let metering = match &redis {
        Some((target, prefix)) => {
            let m = metering::Metering::new(target, prefix, db.clone())
                .context("configuring Redis for usage metering")?;
            tokio::spawn(m.clone().run_mover());
            tokio::spawn(distribution::publish::run(
                m.redis(),
                prefix.clone(),
                published_states,
            ));
            Some(m)
        }
        None => {
            tracing::warn!("no --redis-url: usage metering and quota grants are off");
            None
        }
    };
    let state = AppState {
        db,
        region: settings.region,
        keys: vault,
        metering,
        console: std::sync::Arc::new(console::ConsoleConfig {
            keys: console::session::SessionKeys::new(&jwt_secret),
            console_dir: settings.console_dir,
        }),
        test_invoker: api::test_invoke::TestInvoker::new(settings.functions_url.as_deref())
            .context("--functions-url")?,
        alarm_webhooks: std::sync::Arc::new(
            cloudwatch::notify::Notifier::new(&settings.alarm_sns_webhooks)
                .context("alarm webhooks")?,
        ),
        log_retention_days,
    };
    let evaluator = tokio::spawn(cloudwatch::evaluator::run(
        state.clone(),
        settings.alarm_eval_interval,
    ));
    let http = http_server::serve(
        http_listener,
        app(state),
        settings.conn_limits,
        wait_stop(stop_rx),
    );
    let (g, ()) = tokio::join!(grpc, http);
    watcher.abort();
    evaluator.abort();
    rollup.abort();
    audit_prune.abort();
    log_partitions.abort();
    g.context("gRPC server")?;
    Ok(())
}
