//! `control-plane` binary: flags and environment in, servers out.

use std::net::SocketAddr;

use clap::Parser;

/// Development defaults, documented in the README; override them in any real deployment.
const DEV_ACCESS_KEY_ID: &str = "AKIAAPIGWLOCALDEV000";
const DEV_SECRET_ACCESS_KEY: &str = "apigw-local-development-secret-key-change-me";

#[derive(Debug, Parser)]
#[command(
    name = "control-plane",
    about = "API gateway control plane: management API and config stream"
)]
struct Args {
    /// Postgres connection string.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Management API (and console) listen address.
    #[arg(long, env = "CP_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,
    /// Config stream (gRPC) listen address for data-plane nodes.
    #[arg(long, env = "CP_GRPC_ADDR", default_value = "127.0.0.1:9090")]
    grpc_addr: SocketAddr,
    /// PEM certificate (chain) of the gRPC listener: with `--grpc-tls-key-file`, the config
    /// stream and the nodes' metrics and log shipments run over TLS (nodes then connect to
    /// `https://…`).
    #[arg(long, env = "CP_GRPC_TLS_CERT_FILE")]
    grpc_tls_cert_file: Option<std::path::PathBuf>,
    /// PEM private key of `--grpc-tls-cert-file`.
    #[arg(long, env = "CP_GRPC_TLS_KEY_FILE")]
    grpc_tls_key_file: Option<std::path::PathBuf>,
    /// PEM bundle of CAs: with it, every node must present a client certificate chaining
    /// to one of them (mutual TLS on the gRPC listener).
    #[arg(long, env = "CP_GRPC_CLIENT_CA_FILE")]
    grpc_client_ca_file: Option<std::path::PathBuf>,
    /// Redis: usage counters moved into Postgres usage records, quota grants. `redis://`,
    /// `rediss://`, or a Redis Cluster's seeds `redis+cluster://h:p,h:p` (`rediss+cluster://`).
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// PEM bundle of the CAs a `rediss://` Redis's certificate must chain to, instead of the
    /// system's roots (a private CA).
    #[arg(long, env = "REDIS_CA_FILE")]
    redis_ca_file: Option<std::path::PathBuf>,
    /// PEM client certificate (chain) for a Redis that requires one (mutual TLS); with
    /// `--redis-client-key-file`.
    #[arg(long, env = "REDIS_CLIENT_CERT_FILE")]
    redis_client_cert_file: Option<std::path::PathBuf>,
    /// PEM private key of `--redis-client-cert-file`.
    #[arg(long, env = "REDIS_CLIENT_KEY_FILE")]
    redis_client_key_file: Option<std::path::PathBuf>,
    /// Prefix of every Redis key; must match the data-plane nodes'.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "apigw:")]
    redis_prefix: String,
    /// Master key encrypting API key values at rest (64 hex digits, base64 of 32 bytes, or
    /// a passphrase). Unset: the development key from the README, with a warning.
    #[arg(long, env = "APIGW_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// Region in SigV4 scopes and ARNs.
    #[arg(long, env = "APIGW_REGION", default_value = "us-east-1")]
    region: String,
    /// The account id in ARNs, messages and events (12 digits).
    #[arg(long, env = "APIGW_ACCOUNT_ID", default_value = apigw_control_plane::store::DEFAULT_ACCOUNT_ID)]
    account_id: String,
    /// Directory of the built web console (`cd web-console && npm install && npm run build`).
    #[arg(long, env = "CONSOLE_DIR", default_value = "web-console/dist")]
    console_dir: std::path::PathBuf,
    /// Console session signing key (32+ characters); generated and kept in Postgres if unset.
    #[arg(long, env = "APIGW_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The Invoke API of function integrations (TestInvokeMethod), as the nodes'
    /// `--functions-url`; unset: test invocations of function integrations answer 500.
    #[arg(long, env = "FUNCTIONS_URL")]
    functions_url: Option<String>,
    /// Seconds between alarm evaluations (CloudWatch evaluates every minute).
    #[arg(long, env = "APIGW_ALARM_EVAL_INTERVAL", default_value_t = 60)]
    alarm_eval_interval: u64,
    /// SNS topic ARNs whose alarm notifications go to webhooks: `arn=url,arn=url`.
    #[arg(long, env = "APIGW_ALARM_SNS_WEBHOOKS", default_value = "")]
    alarm_sns_webhooks: String,
    /// Days the log store keeps access and execution log lines (whole days are dropped).
    #[arg(long, env = "APIGW_LOG_RETENTION_DAYS", default_value_t = 30)]
    log_retention_days: u32,
    /// Milliseconds a call waits for a Postgres connection before it is answered 503
    /// ServiceUnavailableException (Postgres down or every connection busy).
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    db_acquire_timeout_ms: u64,
    /// Seconds a new connection (management API, console or gRPC) has to deliver its first
    /// request head or HTTP/2 preface; one that sends nothing is closed after this.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,
    /// Seconds an idle HTTP/1.1 keep-alive connection waits for its next request head.
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..))]
    keep_alive_timeout: u64,
    /// Log format: text or json.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    log_format: String,
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr; stdout carries only the one-time first-admin password banner, so
    // log shippers collecting stderr never see it.
    // Colours only on a terminal (and without NO_COLOR): a log file or pipe gets plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colours);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: draining in-flight requests");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(&args.log_format);
    // Once, before anything reads it: a process-wide value (store::account_id).
    apigw_control_plane::store::set_account_id(&args.account_id)
        .map_err(|e| anyhow::anyhow!("--account-id / APIGW_ACCOUNT_ID: {e}"))?;
    let access_key_id = std::env::var("APIGW_ACCESS_KEY_ID").ok();
    let secret = std::env::var("APIGW_SECRET_ACCESS_KEY").ok();
    let (access_key_id, secret_access_key) = match (access_key_id, secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => (id, secret),
        _ => {
            tracing::warn!(
                access_key_id = DEV_ACCESS_KEY_ID,
                "APIGW_ACCESS_KEY_ID/APIGW_SECRET_ACCESS_KEY not set: using the development key from the README"
            );
            (
                DEV_ACCESS_KEY_ID.to_string(),
                DEV_SECRET_ACCESS_KEY.to_string(),
            )
        }
    };
    let master_key = match args.master_key.filter(|k| !k.trim().is_empty()) {
        Some(k) => k,
        None => {
            tracing::warn!(
                "APIGW_MASTER_KEY is not set: API key values are encrypted with the PUBLIC \
                 development master key from the README. Set APIGW_MASTER_KEY in any real deployment."
            );
            apigw_control_plane::keys::DEV_MASTER_KEY.to_string()
        }
    };
    let grpc_tls = apigw_control_plane::grpc_tls::GrpcTlsFiles::from_flags(
        args.grpc_tls_cert_file,
        args.grpc_tls_key_file,
        args.grpc_client_ca_file,
    )?;
    apigw_control_plane::run(
        apigw_control_plane::Settings {
            database_url: args.database_url,
            http_addr: args.http_addr,
            grpc_addr: args.grpc_addr,
            grpc_tls,
            access_key_id,
            secret_access_key,
            region: args.region,
            redis_url: args.redis_url,
            redis_tls: apigw_shared_redis::TlsFiles {
                ca_file: args.redis_ca_file,
                client_cert_file: args.redis_client_cert_file,
                client_key_file: args.redis_client_key_file,
            },
            redis_prefix: args.redis_prefix,
            master_key,
            jwt_secret: args.jwt_secret,
            admin_user: std::env::var("APIGW_ADMIN_USER").ok(),
            admin_password: std::env::var("APIGW_ADMIN_PASSWORD").ok(),
            console_dir: args.console_dir,
            functions_url: args.functions_url,
            alarm_eval_interval: std::time::Duration::from_secs(args.alarm_eval_interval.max(1)),
            alarm_sns_webhooks: args.alarm_sns_webhooks,
            log_retention_days: args.log_retention_days,
            db_acquire_timeout: std::time::Duration::from_millis(args.db_acquire_timeout_ms),
            conn_limits: apigw_control_plane::http_server::ConnLimits {
                header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout),
                keep_alive_timeout: std::time::Duration::from_secs(args.keep_alive_timeout),
            },
        },
        shutdown_signal(),
    )
    .await
}
