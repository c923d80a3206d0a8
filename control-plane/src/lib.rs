//! The control plane: management API, deployment compiler and config distribution.
//!
//! Requests from the console, the AWS CLI or SDKs arrive at the axum router in [`api`]
//! (authenticated by [`auth`]), which edits the definitions in Postgres through [`store`].
//! A deployment runs [`compiler`] to freeze the API into a protobuf snapshot. Every change
//! to what is deployed bumps a version and notifies all replicas; [`distribution`] turns
//! that into a stream of full and delta updates for every connected data-plane node.

pub mod api;
pub mod auth;
pub mod compiler;
pub mod distribution;
pub mod error;
pub mod ids;
pub mod model;
pub mod patch;
pub mod store;
pub mod validate;

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
    /// Bootstrap access key id.
    pub access_key_id: String,
    /// Bootstrap secret access key.
    pub secret_access_key: String,
    /// Region for SigV4 scopes.
    pub region: String,
}

/// Connects to Postgres and applies the migrations.
pub async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    let db = PgPoolOptions::new()
        .max_connections(16)
        .connect(database_url)
        .await
        .context("connecting to Postgres")?;
    sqlx::migrate!("../migrations")
        .run(&db)
        .await
        .context("running migrations")?;
    Ok(db)
}

/// The HTTP application: health, then the SigV4-protected management API.
pub fn app(state: AppState) -> Router {
    let management = api::router().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::require_sigv4,
    ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(management)
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// Logs one line per management call (method, path, status), never headers or bodies.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(%method, %path, status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64, "management call");
    resp
}

/// Runs both servers until `shutdown` resolves, then drains them.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = connect(&settings.database_url).await?;
    auth::ensure_bootstrap_key(&db, &settings.access_key_id, &settings.secret_access_key)
        .await
        .context("storing the bootstrap access key")?;
    let (state_rx, watcher) = distribution::watcher::start(db.clone()).await;
    let config_service = distribution::grpc::ConfigService::new(state_rx);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let wait_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
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
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
            wait_stop(stop_rx.clone()),
        );
    let state = AppState {
        db,
        region: settings.region,
    };
    let http = axum::serve(http_listener, app(state)).with_graceful_shutdown(wait_stop(stop_rx));
    let (g, h) = tokio::join!(grpc, http);
    watcher.abort();
    g.context("gRPC server")?;
    h.context("HTTP server")?;
    Ok(())
}
