//! Per-request context: the request id and the client address, created once at the start
//! of the pipeline and read by every step (mappings, logs, responses).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use http::header::{HeaderName, HeaderValue};
use uuid::Builder;

use crate::phases::authorize::{AuthorizerResult, IamCaller};
use crate::spans::{Child, RequestSpans};
use crate::trace::ExecutionTrace;

/// The `x-amzn-RequestId` header every response carries.
pub static X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// The `x-amz-apigw-id` header every response carries: the extended request id, as API
/// Gateway's REST APIs send it.
pub static X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// The client end of a connection, rendered once per connection rather than per request
/// (`X-Forwarded-For` needs the address as text on every proxied request).
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client's IP.
    pub ip: IpAddr,
    /// The same IP as a header value.
    pub ip_header: HeaderValue,
    /// The certificate the client presented in a mutual-TLS handshake.
    pub client_cert: Option<Arc<ClientCert>>,
}

/// A mutual-TLS client certificate, read once per connection
/// (`$context.identity.clientCert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate, PEM.
    pub client_cert_pem: String,
    /// The subject's distinguished name.
    pub subject_dn: String,
    /// The issuer's distinguished name.
    pub issuer_dn: String,
    /// The serial number (hex, colon-separated).
    pub serial_number: String,
    /// Validity start, as AWS writes it (`May 28 12:30:02 2019 GMT`).
    pub not_before: String,
    /// Validity end.
    pub not_after: String,
}

impl ClientCert {
    /// The members of `$context.identity.clientCert`, by the names AWS gives them.
    pub const MEMBERS: [&'static str; 6] = [
        "clientCertPem",
        "subjectDN",
        "issuerDN",
        "serialNumber",
        "validity.notBefore",
        "validity.notAfter",
    ];

    /// One member by its name (one of [`ClientCert::MEMBERS`]).
    pub fn member(&self, name: &str) -> Option<&str> {
        Some(match name {
            "clientCertPem" => &self.client_cert_pem,
            "subjectDN" => &self.subject_dn,
            "issuerDN" => &self.issuer_dn,
            "serialNumber" => &self.serial_number,
            "validity.notBefore" => &self.not_before,
            "validity.notAfter" => &self.not_after,
            _ => return None,
        })
    }

    /// `$context.identity.clientCert` as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "clientCertPem": self.client_cert_pem,
            "subjectDN": self.subject_dn,
            "issuerDN": self.issuer_dn,
            "serialNumber": self.serial_number,
            "validity": {"notBefore": self.not_before, "notAfter": self.not_after},
        })
    }
}

impl Peer {
    /// The peer of a connection from `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        let ip = addr.ip();
        let ip_header =
            HeaderValue::from_str(&ip.to_string()).unwrap_or(HeaderValue::from_static("0.0.0.0"));
        Peer {
            ip,
            ip_header,
            client_cert: None,
        }
    }

    /// This peer, having presented `cert` in its TLS handshake.
    pub fn with_client_cert(mut self, cert: Option<Arc<ClientCert>>) -> Self {
        self.client_cert = cert;
        self
    }
}

impl From<IpAddr> for Peer {
    fn from(ip: IpAddr) -> Self {
        Peer::new(SocketAddr::new(ip, 0))
    }
}

/// What the pipeline knows about a request beyond the request itself.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// A random UUID, as a ready-to-send header value (`context.requestId`).
    pub request_id: HeaderValue,
    /// The random bytes the ids were drawn from ([`RequestContext::extended_request_id`]).
    id_bytes: [u8; 16],
    /// The extended id, made from `id_bytes` with the context: every REST and HTTP API
    /// response sends it, and an access line that logs it reads it again.
    extended_id: ExtendedRequestId,
    /// The client's IP (`context.identity.sourceIp`, `X-Forwarded-For`).
    pub source_ip: IpAddr,
    /// `source_ip` as a header value.
    pub source_ip_header: HeaderValue,
    /// The mutual-TLS client certificate (`$context.identity.clientCert`).
    pub client_cert: Option<Arc<ClientCert>>,
    /// The stage's client certificate towards backends, set once after routing.
    pub backend_identity: OnceLock<Arc<crate::backend_client::ClientIdentity>>,
    /// When the request arrived (`context.requestTime`, `context.requestTimeEpoch`).
    pub received_at: SystemTime,
    /// The id of the API key the request was admitted with (`context.identity.apiKeyId`),
    /// set once by the API-key step.
    pub api_key_id: OnceLock<Box<str>>,
    /// What the method's authorizer established (`$context.authorizer`), set once by the
    /// authorization step.
    pub authorizer: OnceLock<Arc<AuthorizerResult>>,
    /// The SigV4 caller of an `AWS_IAM` method (`$context.identity.accessKey`, ...).
    pub iam_caller: OnceLock<IamCaller>,
    /// Where the phases write execution-log lines, when someone reads them: attached
    /// before the request runs by TestInvokeMethod, after routing on a node when the
    /// method's `logging/loglevel` is INFO.
    pub trace: OnceLock<Arc<ExecutionTrace>>,
    /// The status the integration's backend (or function host) answered with
    /// (`$context.integrationStatus`).
    pub integration_status: OnceLock<u16>,
    /// The request's distributed trace, set once after routing when its stage traces
    /// ([`crate::spans`]).
    pub spans: OnceLock<Box<RequestSpans>>,
}

impl RequestContext {
    /// A context with a fresh request id (thread-local RNG: no syscall per request).
    pub fn new(peer: impl Into<Peer>) -> Self {
        let peer = peer.into();
        let id_bytes = rand::random::<[u8; 16]>();
        let uuid = Builder::from_random_bytes(id_bytes).into_uuid();
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = uuid.hyphenated().encode_lower(&mut buf);
        let request_id = HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("unknown"));
        RequestContext {
            request_id,
            id_bytes,
            extended_id: ExtendedRequestId::of(&id_bytes),
            source_ip: peer.ip,
            source_ip_header: peer.ip_header,
            client_cert: peer.client_cert,
            backend_identity: OnceLock::new(),
            received_at: SystemTime::now(),
            api_key_id: OnceLock::new(),
            authorizer: OnceLock::new(),
            iam_caller: OnceLock::new(),
            trace: OnceLock::new(),
            integration_status: OnceLock::new(),
            spans: OnceLock::new(),
        }
    }

    /// Appends an execution-log line, formatted only when the request is traced.
    #[inline]
    pub fn log(&self, line: impl FnOnce() -> String) {
        if let Some(trace) = self.trace.get() {
            trace.push(line());
        }
    }

    /// Appends a data-trace line (headers, bodies), formatted only when the request's
    /// trace shows data (`logging/dataTrace`; always for TestInvokeMethod).
    #[inline]
    pub fn log_data(&self, line: impl FnOnce() -> String) {
        if let Some(trace) = self.trace.get().filter(|t| t.data) {
            trace.push(line());
        }
    }

    /// Whether execution-log lines are being collected.
    #[inline]
    pub fn logging(&self) -> bool {
        self.trace.get().is_some()
    }

    /// Whether the trace shows data: streamed bodies are then buffered to be shown.
    #[inline]
    pub fn traced(&self) -> bool {
        self.trace.get().is_some_and(|t| t.data)
    }

    /// The trace headers a backend request's head carries, encoded
    /// ([`crate::spans::RequestSpans::head_lines`]): for a request of a tracing stage
    /// whose execution log is off (with it on, they are set in the header map, where the
    /// log shows them).
    #[inline]
    pub fn trace_head(&self) -> Option<[u8; crate::spans::TRACE_HEAD_LEN]> {
        match self.spans.get() {
            Some(spans) if !self.logging() => Some(spans.head_lines()),
            _ => None,
        }
    }

    /// The start of a child span, when the request's trace is sampled (else no clock
    /// is read).
    pub fn span_start(&self) -> Option<SystemTime> {
        match self.spans.get() {
            Some(spans) if spans.sampled => Some(SystemTime::now()),
            _ => None,
        }
    }

    /// Ends a child span begun with [`RequestContext::span_start`].
    pub fn span_end(&self, which: Child, start: Option<SystemTime>, failed: bool) {
        if let (Some(start), Some(spans)) = (start, self.spans.get()) {
            spans.record(which, start, failed);
        }
    }

    /// The request id as text.
    #[inline]
    pub fn request_id_str(&self) -> &str {
        // The gateway made this value from hex digits and dashes: checking it as UTF-8
        // (a word at a time) gives the same text as `to_str`'s byte-by-byte check of
        // visible ASCII, for a fraction of the instructions (it runs for every logged
        // request and every mapping that reads the id).
        std::str::from_utf8(self.request_id.as_bytes()).unwrap_or("")
    }

    /// The client's IP address as text (`$context.identity.sourceIp`).
    #[inline]
    pub fn source_ip_str(&self) -> &str {
        // Rendered by the gateway from an `IpAddr`: ASCII, so as `request_id_str`.
        std::str::from_utf8(self.source_ip_header.as_bytes()).unwrap_or("")
    }

    /// `$context.extendedRequestId`: API Gateway's second id of a request, shaped as
    /// its are (16 characters of base64, e.g. `LqP7EHgzIAMF3Fw=`), made from the bytes
    /// the request id was drawn from.
    pub fn extended_request_id(&self) -> ExtendedRequestId {
        self.extended_id
    }

    /// The random bytes both ids are made from (for views that derive the extended id
    /// only when a mapping asks for it).
    pub fn id_bytes(&self) -> &[u8; 16] {
        &self.id_bytes
    }
}

/// An extended request id, on the stack ([`RequestContext::extended_request_id`]).
#[derive(Debug, Clone, Copy)]
pub struct ExtendedRequestId {
    text: [u8; 16],
    len: usize,
}

impl ExtendedRequestId {
    /// The extended id of the request whose ids were drawn from `id_bytes`.
    pub fn of(id_bytes: &[u8; 16]) -> Self {
        use base64::Engine as _;
        let mut text = [0u8; 16];
        let len = base64::engine::general_purpose::STANDARD
            .encode_slice(&id_bytes[5..], &mut text)
            .unwrap_or(0);
        ExtendedRequestId { text, len }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text[..self.len]).unwrap_or("")
    }

    /// The id as a header value (base64 is always a valid one).
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(self.as_str()).unwrap_or(HeaderValue::from_static(""))
    }
}

impl std::fmt::Display for ExtendedRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_uuids() {
        let a = RequestContext::new(IpAddr::from([127, 0, 0, 1]));
        let b = RequestContext::new(IpAddr::from([127, 0, 0, 1]));
        assert_ne!(a.request_id, b.request_id);
        let parsed = uuid::Uuid::parse_str(a.request_id_str()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }

    #[test]
    fn extended_request_ids_look_like_api_gateways_and_differ() {
        let a = RequestContext::new(IpAddr::from([127, 0, 0, 1]));
        let b = RequestContext::new(IpAddr::from([127, 0, 0, 1]));
        let id = a.extended_request_id();
        assert_eq!(id.as_str().len(), 16);
        assert!(id.as_str().ends_with('='));
        assert_eq!(id.as_str(), a.extended_request_id().as_str());
        assert_ne!(id.as_str(), b.extended_request_id().as_str());
        assert_ne!(id.as_str(), a.request_id_str());
    }
}
