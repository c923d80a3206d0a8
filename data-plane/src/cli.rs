//! Command-line flags with environment fallbacks (SPEC §10, the operational contract).

use clap::{Parser, ValueEnum};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// How spans are sent to the collector (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (the collector's port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (port 4318, `/v1/traces`).
    #[value(name = "http/protobuf")]
    HttpProtobuf,
}

/// The data-plane node's configuration.
/// A secret setting: parsed like a string, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Redacted {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Redacted(s.to_owned()))
    }
}

impl std::ops::Deref for Redacted {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Parser)]
#[command(name = "data-plane", version, about = "API gateway data-plane node")]
pub struct Args {
    /// The control plane's config-stream (gRPC) endpoint, or several replicas' separated
    /// by commas (`http://cp-a:9090,http://cp-b:9090`): the node streams from one and
    /// moves to the next when it fails; metrics and logs follow the same list unless
    /// `--metrics-url` / `--logs-url` name others (which may be lists too).
    #[arg(
        long = "control-plane",
        env = "CONTROL_PLANE_URL",
        default_value = "http://127.0.0.1:9090"
    )]
    pub control_plane: String,
    /// PEM bundle of the CAs the control plane's certificate is verified against, for an
    /// `https://` control plane (only these; unset: the public webpki roots). Also used
    /// for `https://` metrics and logs URLs.
    #[arg(long, env = "CONTROL_PLANE_CA_FILE")]
    pub control_plane_ca_file: Option<String>,
    /// PEM client certificate the node presents to an `https://` control plane that asks
    /// for one (its `--grpc-client-ca-file`); with `--control-plane-key-file`.
    #[arg(long, env = "CONTROL_PLANE_CERT_FILE")]
    pub control_plane_cert_file: Option<String>,
    /// PEM private key of `--control-plane-cert-file`.
    #[arg(long, env = "CONTROL_PLANE_KEY_FILE")]
    pub control_plane_key_file: Option<String>,
    /// Directory where the node keeps its last applied config (`state.bin`, written after
    /// each apply) and serves it from at the next start until the control plane answers;
    /// empty: no state kept. One directory per node (docs/node-state.md).
    #[arg(long, env = "DP_STATE_DIR", default_value = crate::node_state::DEFAULT_STATE_DIR)]
    pub state_dir: String,
    /// Base64 of 32 random bytes: the AES-256-GCM key sealing the private keys of custom
    /// domains and client certificates in the state file (without it they are left out).
    /// Prefer the environment variable to the flag (command lines are visible to `ps`).
    #[arg(long, env = "DP_STATE_KEY", hide_env_values = true)]
    pub state_key: Option<Redacted>,
    /// Address the invoke/health HTTP server listens on.
    #[arg(long, env = "DP_HTTP_ADDR", default_value = "127.0.0.1:8081")]
    pub http_addr: String,
    /// Address the HTTPS listener of custom domain names listens on (unset: none). The SNI
    /// name picks the domain's certificate.
    #[arg(long, env = "DP_HTTPS_ADDR")]
    pub https_addr: Option<String>,
    /// PEM bundle of CAs HTTPS backends are verified against besides the public roots
    /// (private CAs).
    #[arg(long, env = "BACKEND_CA_FILE")]
    pub backend_ca_file: Option<String>,
    /// Redis for shared buckets, quotas and usage counts (unset: node-local limits only):
    /// `redis://`, `rediss://`, or a Redis Cluster's seeds `redis+cluster://h:p,h:p`
    /// (`rediss+cluster://`; the key prefix then becomes a hash tag).
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// PEM bundle of the CAs a `rediss://` Redis's certificate must chain to, instead of the
    /// system's roots (a private CA).
    #[arg(long, env = "REDIS_CA_FILE")]
    pub redis_ca_file: Option<std::path::PathBuf>,
    /// PEM client certificate (chain) for a Redis that requires one (mutual TLS); with
    /// `--redis-client-key-file`.
    #[arg(long, env = "REDIS_CLIENT_CERT_FILE")]
    pub redis_client_cert_file: Option<std::path::PathBuf>,
    /// PEM private key of `--redis-client-cert-file`.
    #[arg(long, env = "REDIS_CLIENT_KEY_FILE")]
    pub redis_client_key_file: Option<std::path::PathBuf>,
    /// Prefix of every Redis key; the control plane must use the same one.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "apigw:")]
    pub redis_prefix: String,
    /// While Redis is unreachable, answer 429 instead of enforcing local shares of limits.
    #[arg(long, env = "LIMITS_FAIL_CLOSED", default_value_t = false)]
    pub limits_fail_closed: bool,
    /// This node's id in the config stream (default: generated).
    #[arg(long, env = "DP_NODE_ID")]
    pub node_id: Option<String>,
    /// Invoke hosts are `{apiId}.{this domain}`.
    #[arg(
        long,
        env = "EXECUTE_API_DOMAIN",
        default_value = "execute-api.localhost"
    )]
    pub execute_api_domain: String,
    /// Base URL of the Lambda-compatible Invoke API that function (`AWS`, `AWS_PROXY`)
    /// integrations call: `POST {url}/2015-03-31/functions/{name}/invocations`.
    #[arg(long, env = "FUNCTIONS_URL")]
    pub functions_url: Option<String>,
    /// Seconds a WebSocket connection may carry no message either way before it is closed
    /// with 1001 (AWS: 10 minutes).
    #[arg(long, env = "WS_IDLE_TIMEOUT", default_value_t = 600)]
    pub ws_idle_timeout: u64,
    /// Seconds a WebSocket connection may last before it is closed with 1001 (AWS: 2 hours;
    /// a self-hosted gateway may allow more).
    #[arg(long, env = "WS_MAX_CONNECTION_DURATION", default_value_t = 7200)]
    pub ws_max_connection_duration: u64,
    /// Seconds open WebSocket connections get after SIGTERM before they are closed with 1001.
    #[arg(long, env = "WS_DRAIN_GRACE", default_value_t = 10)]
    pub ws_drain_grace: u64,
    /// Seconds a WebSocket connection's registry entry outlives its node's last refresh (a
    /// node killed with SIGKILL leaves connections that answer 410 after this long).
    #[arg(long, env = "WS_REGISTRY_TTL", default_value_t = 60)]
    pub ws_registry_ttl: u64,
    /// New WebSocket connections per second per stage, for the whole cluster (a token
    /// bucket of this rate and burst shared through Redis like REST throttling; 0: no
    /// limit; AWS: 500 per account and region). All nodes should be given the same value.
    #[arg(long, env = "WS_CONNECT_RATE", default_value_t = 500)]
    pub ws_connect_rate: u32,
    /// Seconds a backend may send nothing in the middle of a streamed response body before
    /// both connections are closed (the client sees a truncated body).
    #[arg(long, env = "BACKEND_IDLE_TIMEOUT", default_value_t = 60)]
    pub backend_idle_timeout: u64,
    /// Milliseconds a Lambda authorizer function may take before the request gets 500
    /// AUTHORIZER_FAILURE.
    #[arg(long, env = "AUTHORIZER_TIMEOUT_MS", default_value_t = 10_000)]
    pub authorizer_timeout_ms: u64,
    /// `providerARNs` of COGNITO_USER_POOLS authorizers answered by another OIDC issuer:
    /// `{user-pool ARN}={issuer URL}`, repeatable (or comma-separated in the environment).
    /// Issuer URLs in `providerARNs` are used directly; user-pool ARNs without an entry
    /// map to Cognito's own issuer.
    #[arg(long = "oidc-issuer", env = "OIDC_ISSUERS", value_delimiter = ',', value_parser = parse_issuer)]
    pub oidc_issuers: Vec<(String, String)>,
    /// Request metrics (Prometheus `/metrics` and the per-minute series shipped to the
    /// control plane); `--metrics false` turns both off (no clock is read per request).
    #[arg(long, env = "DP_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Where per-minute metrics are shipped (`MetricsIngest` gRPC); default: the
    /// `--control-plane` URL.
    #[arg(long, env = "METRICS_URL")]
    pub metrics_url: Option<String>,
    /// Seconds between metrics shipments (they also go out just after each minute).
    #[arg(long, env = "METRICS_SHIP_INTERVAL", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub metrics_ship_interval: u64,
    /// Access and execution logs of the stages and methods that turn them on
    /// (`accessLogSettings`, `logging/loglevel`); `--logs false` writes and ships none
    /// (and installs no hook for them).
    #[arg(long, env = "DP_LOGS", default_value_t = true, action = clap::ArgAction::Set)]
    pub logs: bool,
    /// Append access and execution log lines (one JSON object per line) to this file.
    #[arg(long, env = "ACCESS_LOG_FILE")]
    pub access_log_file: Option<std::path::PathBuf>,
    /// Write access and execution log lines (one JSON object per line) to stdout (the
    /// node's own logs go to stderr).
    #[arg(long, env = "ACCESS_LOG_STDOUT", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub access_log_stdout: bool,
    /// Ship log lines to the control plane's store (`LogsIngest`), where the CloudWatch
    /// Logs API and the console search them.
    #[arg(long, env = "LOGS_SHIP", default_value_t = true, action = clap::ArgAction::Set)]
    pub logs_ship: bool,
    /// Where log lines are shipped (`LogsIngest` gRPC); default: the `--control-plane` URL.
    #[arg(long, env = "LOGS_URL")]
    pub logs_url: Option<String>,
    /// Milliseconds between log shipments (a full shipment goes out at once).
    #[arg(long, env = "LOGS_SHIP_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(50..))]
    pub logs_ship_interval_ms: u64,
    /// Requests' log records waiting for the writer at most; beyond, lines are dropped
    /// and counted (`apigw_log_lines_dropped_total`).
    #[arg(long, env = "LOG_QUEUE_SIZE", default_value_t = 16_384, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub log_queue_size: u64,
    /// The largest response body the stage cache keeps (larger ones are served uncached).
    #[arg(long, env = "CACHE_MAX_ITEM_BYTES", default_value_t = apigw_gateway::phases::cache::MAX_ITEM_BYTES)]
    pub cache_max_item_bytes: usize,
    /// Each stage's memory budget for cached responses in Redis; past it, the entries
    /// closest to expiry are evicted.
    #[arg(long, env = "CACHE_STAGE_MAX_BYTES", default_value_t = crate::response_cache::DEFAULT_STAGE_MAX_BYTES)]
    pub cache_stage_max_bytes: u64,
    /// Seconds a new connection has to deliver its first request head (HTTP/1.1 or h2c);
    /// a connection that sends nothing, or trickles its head, is closed after this.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout: u64,
    /// Seconds an idle HTTP/1.1 keep-alive connection waits for (and reads) its next
    /// request head before it is closed; keep it above a load balancer's idle timeout.
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_alive_timeout: u64,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Request-serving threads (default: one per CPU). With 1 the node runs on a
    /// single-threaded runtime, which skips work-stealing and cross-thread wake-ups: about
    /// a quarter more requests per core, the layout to use when pinning one node per core.
    #[arg(long, env = "DP_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,
    /// Nice value of the thread that compiles config updates (0–19; 0: the request
    /// threads' own priority). Above 0 a large update's compile yields the CPU to requests
    /// (see `background.rs`).
    #[arg(long, env = "DP_COMPILE_NICE", default_value_t = crate::background::DEFAULT_NICE, value_parser = clap::value_parser!(i32).range(0..=19))]
    pub compile_nice: i32,
    /// OTLP collector base URL for the spans of stages with `tracingEnabled` (gRPC: used
    /// as is; HTTP: `/v1/traces` appended). Unset (and no traces endpoint): trace headers
    /// are still propagated, no span is exported.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// OTLP traces URL, used as is; wins over `--otlp-endpoint`.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    pub otlp_traces_endpoint: Option<String>,
    /// OTLP transport: `grpc` or `http/protobuf`.
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_PROTOCOL",
        value_enum,
        default_value = "grpc"
    )]
    pub otlp_protocol: OtlpProtocol,
    /// `service.name` of the exported spans.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = "apigw-data-plane")]
    pub otel_service_name: String,
    /// Fraction of new traces sampled (parent-based: a client's `traceparent` sampled flag
    /// is obeyed).
    #[arg(long, env = "OTEL_TRACES_SAMPLER_ARG", default_value_t = 1.0)]
    pub trace_sample_ratio: f64,
    /// Spans waiting for export at most; beyond, spans are dropped and counted.
    #[arg(long, env = "OTEL_BSP_MAX_QUEUE_SIZE", default_value_t = 2048)]
    pub otlp_queue_size: usize,
    /// Spans per export request at most.
    #[arg(long, env = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default_value_t = 512)]
    pub otlp_batch_size: usize,
    /// Milliseconds between exports of a partial batch.
    #[arg(long, env = "OTEL_BSP_SCHEDULE_DELAY", default_value_t = 5000)]
    pub otlp_export_interval_ms: u64,
}

/// `ARN=URL`.
fn parse_issuer(text: &str) -> Result<(String, String), String> {
    let (arn, url) = text
        .split_once('=')
        .ok_or_else(|| format!("expected {{user-pool ARN}}={{issuer URL}}, got {text:?}"))?;
    Ok((arn.trim().to_string(), url.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_operational_contract() {
        let args = Args::try_parse_from(["data-plane"]).unwrap();
        assert_eq!(args.control_plane, "http://127.0.0.1:9090");
        assert!(args.control_plane_ca_file.is_none() && args.control_plane_cert_file.is_none());
        assert_eq!(args.http_addr, "127.0.0.1:8081");
        assert_eq!(args.execute_api_domain, "execute-api.localhost");
        assert_eq!(args.log_format, LogFormat::Text);
        assert_eq!(args.redis_prefix, "apigw:");
        assert_eq!(args.state_dir, "/var/lib/apigw/data-plane");
        assert!(args.state_key.is_none());
        assert!(!args.limits_fail_closed);
        assert!(args.metrics && args.metrics_url.is_none());
        assert_eq!(args.metrics_ship_interval, 10);
        assert_eq!(
            (args.header_read_timeout, args.keep_alive_timeout),
            (10, 75)
        );
        let args = Args::try_parse_from(["data-plane", "--metrics", "false"]).unwrap();
        assert!(!args.metrics);
        assert_eq!(args.otlp_protocol, OtlpProtocol::Grpc);
        assert_eq!(args.trace_sample_ratio, 1.0);
        assert!(args.logs && args.logs_ship && !args.access_log_stdout);
        assert_eq!(args.logs_ship_interval_ms, 1000);
        let args = Args::try_parse_from([
            "data-plane",
            "--access-log-stdout",
            "--access-log-file",
            "/tmp/a.log",
        ])
        .unwrap();
        assert!(args.access_log_stdout);
        assert_eq!(
            args.access_log_file.as_deref(),
            Some(std::path::Path::new("/tmp/a.log"))
        );
        let args =
            Args::try_parse_from(["data-plane", "--otlp-protocol", "http/protobuf"]).unwrap();
        assert_eq!(args.otlp_protocol, OtlpProtocol::HttpProtobuf);
        let args = Args::try_parse_from(["data-plane", "--log-format", "json", "--node-id", "n1"])
            .unwrap();
        assert_eq!(
            (args.log_format, args.node_id.as_deref()),
            (LogFormat::Json, Some("n1"))
        );
    }

    #[test]
    fn the_state_key_is_never_shown() {
        let key = "c2VjcmV0LXN0YXRlLWtleS1vZi0zMi1ieXRlcy0xMjM0NTY=";
        let args = Args::try_parse_from(["data-plane", "--state-key", key]).unwrap();
        assert_eq!(args.state_key.as_deref(), Some(key));
        assert!(!format!("{args:?}").contains(key));
    }
}
