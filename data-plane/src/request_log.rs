//! The node's end-of-request hook: one `debug` line per request with its route, status and
//! latencies (`RUST_LOG=apigw_data_plane::request_log=debug`). Metrics and access logs will
//! hang off the same hook.

use apigw_gateway::phases::end::{RequestEnd, RequestSummary};

/// Logs every finished request at debug level.
#[derive(Debug, Default)]
pub struct RequestLog;

impl RequestLog {
    /// Whether its lines would be written (the node installs it only then).
    pub fn enabled() -> bool {
        tracing::enabled!(tracing::Level::DEBUG)
    }
}

impl RequestEnd for RequestLog {
    fn request_end(&self, s: &RequestSummary<'_>) {
        tracing::debug!(
            request_id = s.ctx.request_id_str(),
            api_id = s.stage.map(|st| &*st.api_id),
            stage = s.stage.map(|st| &*st.stage_name),
            resource_path = s.method.map(|m| &*m.resource_path),
            http_method = %s.http_method,
            status = s.status.as_u16(),
            integration_latency_us = s.integration_latency.map(|d| d.as_micros() as u64),
            latency_us = s.latency.as_micros() as u64,
            "request"
        );
    }
}
