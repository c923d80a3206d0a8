//! The shared, pooled HTTP client used to call integration backends (HTTP and HTTPS via
//! rustls with the webpki roots). One instance per node so keep-alive connections are
//! reused across requests and stages.

use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::body::Body;

/// The pooled backend client type.
pub type BackendClient = Client<HttpsConnector<HttpConnector>, Body>;

/// Builds the node's backend client: TCP_NODELAY, TCP keep-alive, 90 s idle pool timeout.
pub fn build() -> BackendClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_keepalive(Some(Duration::from_secs(60)));
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let https = HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(https)
}
