//! The shared, pooled HTTP/1.1 client used to call integration backends (HTTP, and HTTPS
//! via rustls with the webpki roots). One instance per node, so keep-alive connections are
//! reused across requests and stages.
//!
//! The request's own task drives its backend connection, as nginx's event loop and
//! Pingora's upstream sessions do: the connection is checked out of the idle pool, the
//! request is written and the response head read in place ([`conn`]), then the connection
//! travels inside the response body ([`BackendBody`]), which reads the socket as the body
//! is consumed and puts the connection back in the pool once the body is complete.
//!
//! Why not hyper's client: hyper-util's pooled client sends every request through a
//! channel to a per-connection task and the response back through another, and builds
//! the response through hyper's general-purpose dispatcher; on the HTTP_PROXY hot path that
//! was about a third of the gateway's CPU per request (callgrind, `bench/`). The wire
//! format here is small and fixed (RFC 9112 heads parsed by `httparse`, Content-Length and
//! chunked framing in [`codec`] and [`chunked`]), and only HTTP/1.1 is spoken to backends,
//! as API Gateway does.

mod body;
mod chunked;
mod codec;
mod conn;
mod pool;

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use http::header::HOST;
use http::uri::Scheme;
use http::{HeaderValue, Method, Request, Response, Uri};
use hyper_rustls::builderstates::WantsSchemes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tower_service::Service;

use crate::body::{Body, BodyError};
pub use body::BackendBody;
pub use chunked::ChunkedError;
pub use codec::HeadError;
use conn::{BackendConn, SendError};
use pool::{Pool, PoolKey};

/// How long an unused keep-alive connection is kept (hyper-util's and nginx's order of
/// magnitude; backends usually close theirs after 60–75 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per backend (scheme + authority); more are closed.
const MAX_IDLE_PER_BACKEND: usize = 512;
/// How often idle connections are checked for expiry or closure by the backend.
const REAP_INTERVAL: Duration = Duration::from_secs(15);

/// Why a backend exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URI has no scheme or authority, or a scheme other than http/https.
    #[error("backend URI {0} is not an absolute http(s) URI")]
    InvalidUri(Uri),
    /// Connecting (TCP, TLS) failed.
    #[error("connecting to the backend failed")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Reading or writing the connection failed.
    #[error("backend connection failed")]
    Io(#[source] std::io::Error),
    /// The backend closed the connection before the response was complete.
    #[error("backend closed the connection before the response was complete")]
    Closed,
    /// The response head is not valid HTTP/1.1.
    #[error(transparent)]
    Head(HeadError),
    /// The chunked response body is malformed.
    #[error("malformed chunked response body")]
    Chunked(#[source] ChunkedError),
    /// Reading the client's request body failed (or it exceeded its limit).
    #[error("reading the request body failed")]
    RequestBody(#[source] Box<BodyError>),
    /// The backend sent nothing for this long while its response body was read.
    #[error("the backend sent nothing for {0:?} in the middle of its response body")]
    IdleTimeout(Duration),
    /// The request body did not match its declared length.
    #[error("request body length does not match its Content-Length")]
    RequestBodyLength,
}

impl ClientError {
    /// Whether the client's request body went over its limit (→ 413, not 502).
    pub fn is_request_too_large(&self) -> bool {
        matches!(self, ClientError::RequestBody(body) if matches!(**body, BodyError::TooLarge))
    }
}

/// Certificate authorities HTTPS backends are verified against besides the public (webpki)
/// roots: the node's `--backend-ca-file`, set once at start-up before any client is built.
static EXTRA_ROOTS: std::sync::OnceLock<Vec<rustls::pki_types::CertificateDer<'static>>> =
    std::sync::OnceLock::new();

/// Why a PEM bundle or a client certificate could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The PEM does not parse.
    #[error("PEM: {0}")]
    Pem(String),
    /// rustls refused the certificate or key.
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
}

/// Trusts the certificates of `pem` (a PEM bundle) for HTTPS backends, besides the public
/// roots; returns how many. Call once, before [`build`].
pub fn trust_extra_roots(pem: &str) -> Result<usize, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsSetupError::Pem(e.to_string()))?;
    let n = certs.len();
    let _ = EXTRA_ROOTS.set(certs);
    Ok(n)
}

fn roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(extra) = EXTRA_ROOTS.get() {
        let _ = roots.add_parsable_certificates(extra.iter().cloned());
    }
    roots
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client certificate the gateway presents to HTTPS backends (a stage's
/// `clientCertificateId`): its own connector, and its own connections in the pool.
pub struct ClientIdentity {
    id: Arc<str>,
    connector: HttpsConnector<HttpConnector>,
    /// The same certificate, the backend not verified (`insecureSkipVerification`).
    insecure: HttpsConnector<HttpConnector>,
}

/// `tlsConfig.insecureSkipVerification`: accepts any backend certificate (the handshake's
/// signatures are still checked, so the connection is encrypted to whoever holds the key).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client configuration that does not verify the backend, presenting `client_auth` when
/// given.
fn insecure_config(
    client_auth: Option<(
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    )>,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerification(provider())));
    Ok(match client_auth {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    })
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// The identity of client certificate `id` (PEM certificate and key).
    pub fn new(id: &str, cert_pem: &str, key_pem: &str) -> Result<Self, TlsSetupError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| TlsSetupError::Pem(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| TlsSetupError::Pem(e.to_string()))?;
        let insecure = insecure_config(Some((chain.clone(), key.clone_key())))?;
        let tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots())
            .with_client_auth_cert(chain, key)?;
        Ok(ClientIdentity {
            id: id.into(),
            connector: connector(HttpsConnectorBuilder::new().with_tls_config(tls)),
            insecure: connector(HttpsConnectorBuilder::new().with_tls_config(insecure)),
        })
    }
}

/// The node's backend client (cheap to clone: every clone shares one pool).
#[derive(Clone)]
pub struct BackendClient {
    connector: HttpsConnector<HttpConnector>,
    /// Backends not verified (`insecureSkipVerification`).
    insecure: Option<HttpsConnector<HttpConnector>>,
    pool: Arc<Pool>,
    /// How long a response body may stall before it is cut ([`BackendClient::with_idle_timeout`]).
    body_idle: Duration,
}

/// How long a backend may stall in the middle of a response body by default (the node's
/// `--backend-idle-timeout`).
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl std::fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendClient").finish_non_exhaustive()
    }
}

/// Builds the node's backend client: TCP_NODELAY, TCP keep-alive, 10 s connect timeout,
/// 90 s idle timeout, HTTPS backends verified against the webpki roots and the
/// [`trust_extra_roots`].
pub fn build() -> BackendClient {
    match rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
    {
        Ok(b) => build_with(
            HttpsConnectorBuilder::new()
                .with_tls_config(b.with_root_certificates(roots()).with_no_client_auth()),
        ),
        Err(_) => build_with(HttpsConnectorBuilder::new().with_webpki_roots()),
    }
}

/// A client trusting what `tls` trusts (tests use their own certificate authority).
#[cfg(test)]
pub(crate) fn build_with_tls(tls: rustls::ClientConfig) -> BackendClient {
    build_with(HttpsConnectorBuilder::new().with_tls_config(tls))
}

fn connector(tls: HttpsConnectorBuilder<WantsSchemes>) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_keepalive(Some(Duration::from_secs(60)));
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    tls.https_or_http().enable_http1().wrap_connector(http)
}

fn build_with(tls: HttpsConnectorBuilder<WantsSchemes>) -> BackendClient {
    BackendClient {
        connector: connector(tls),
        insecure: insecure_config(None)
            .ok()
            .map(|c| connector(HttpsConnectorBuilder::new().with_tls_config(c))),
        pool: Arc::new(Pool::new(IDLE_TIMEOUT, MAX_IDLE_PER_BACKEND)),
        body_idle: DEFAULT_BODY_IDLE_TIMEOUT,
    }
}

impl BackendClient {
    /// The client cutting response bodies that stall for longer than `idle` (the body
    /// fails, so the client's response is truncated, and the connection is closed).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.body_idle = idle;
        self
    }

    /// Sends `request` (absolute `http`/`https` URI) to its backend over a pooled
    /// connection, adding `Host` when missing. When a reused connection turns out to be
    /// dead before any response arrived, an idempotent request whose body is in memory is
    /// retried on a new connection (nginx's rule); anything else fails.
    pub async fn request(
        &self,
        request: Request<Body>,
    ) -> Result<Response<BackendBody>, ClientError> {
        self.request_as(request, None, false, &[]).await
    }

    /// [`BackendClient::request`], presenting `identity`'s client certificate to HTTPS
    /// backends (over connections of its own), not verifying the backend when `insecure`,
    /// and sending `extra_head` (header lines already encoded, `name: value\r\n` each)
    /// after the request's own headers.
    pub async fn request_as(
        &self,
        request: Request<Body>,
        identity: Option<&ClientIdentity>,
        insecure: bool,
        extra_head: &[u8],
    ) -> Result<Response<BackendBody>, ClientError> {
        let (mut head, mut body) = request.into_parts();
        let mut key =
            PoolKey::of(&head.uri).ok_or_else(|| ClientError::InvalidUri(head.uri.clone()))?;
        if key.https {
            key.identity = identity.map(|i| Arc::clone(&i.id));
            key.insecure = insecure;
        }
        if !head.headers.contains_key(HOST) {
            if let Ok(host) = HeaderValue::from_str(key.authority.as_str()) {
                head.headers.insert(HOST, host);
            }
        }
        let target = head.uri.path_and_query().map_or("/", |p| p.as_str());
        loop {
            let (mut conn, reused) = match self.pool.checkout(&key) {
                Some(conn) => (conn, true),
                None => (
                    self.connect(&head.uri, identity, key.insecure).await?,
                    false,
                ),
            };
            match conn.send(&head, target, extra_head, &mut body).await {
                Ok(response) => {
                    let body = BackendBody::new(
                        response.framing,
                        conn,
                        response.keep_alive,
                        Arc::clone(&self.pool),
                        key,
                        self.body_idle,
                    );
                    let mut out = Response::new(body);
                    *out.status_mut() = response.status;
                    *out.version_mut() = response.version;
                    *out.headers_mut() = response.headers;
                    return Ok(out);
                }
                Err(SendError {
                    error,
                    no_response,
                    body_intact,
                }) => {
                    if reused && no_response && body_intact && idempotent(&head.method) {
                        tracing::debug!(%error, "pooled backend connection was dead; retrying");
                        continue;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Closes idle connections that expired or that their backend closed, every
    /// [`REAP_INTERVAL`], until the client's last other clone is gone.
    pub async fn reap_idle(self) {
        let pool = Arc::downgrade(&self.pool);
        drop(self);
        let mut interval = tokio::time::interval(REAP_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match pool.upgrade() {
                Some(pool) => pool.reap(),
                None => return,
            }
        }
    }

    async fn connect(
        &self,
        target: &Uri,
        identity: Option<&ClientIdentity>,
        insecure: bool,
    ) -> Result<Box<BackendConn>, ClientError> {
        let mut connector = match (identity, insecure) {
            (Some(i), false) => &i.connector,
            (Some(i), true) => &i.insecure,
            (None, true) => self.insecure.as_ref().unwrap_or(&self.connector),
            (None, false) => &self.connector,
        }
        .clone();
        poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(ClientError::Connect)?;
        let io = connector
            .call(target.clone())
            .await
            .map_err(ClientError::Connect)?;
        Ok(Box::new(BackendConn::new(TokioIo::new(io))))
    }
}

/// Methods whose requests may be repeated (RFC 9110 §9.2.2).
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// An error and its sources, `: `-separated (what a log line or a 502's cause needs).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

impl PoolKey {
    fn of(uri: &Uri) -> Option<PoolKey> {
        let scheme = uri.scheme()?;
        if *scheme != Scheme::HTTP && *scheme != Scheme::HTTPS {
            return None;
        }
        Some(PoolKey {
            https: *scheme == Scheme::HTTPS,
            authority: uri.authority()?.clone(),
            identity: None,
            insecure: false,
        })
    }
}

#[cfg(test)]
mod tests;
