//! Access logs (issue 16): a stage's `accessLogSettings.format`, the one grammar and the
//! one parser of its `$context` variables.
//!
//! [`AccessLogFormat::compile`] parses a format once, when a config is applied (and when
//! the control plane's UpdateStage validates one), into literal and variable segments; an
//! unknown variable is an [`AccessLogError`] naming it. [`AccessLogFormat::write`] then
//! formats one request into a `String` the caller gives it: no parsing, no lookup and no
//! allocation per variable, only the bytes of the line. A variable without a value is
//! written `-`, as API Gateway writes it.
//!
//! The grammar: `$context.` followed by dot-separated names of letters, digits and `_`
//! (`$context.identity.sourceIp`, `$context.authorizer.claims.sub`). Anything else is
//! literal text, including a `$` that does not start `$context.`. Values are escaped
//! for the format's own syntax: inside a format that starts with `{` (JSON), `"`, `\` and
//! control characters are escaped as JSON escapes them; inside one that starts with `<`
//! (XML), `&`, `<`, `>` and `"` become entities; elsewhere control characters become
//! spaces, so a line stays one line.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use crate::phases::end::RequestSummary;

/// AWS's Common Log Format preset (the console's "CLF").
pub const PRESET_CLF: &str = "$context.identity.sourceIp $context.identity.caller \
$context.identity.user [$context.requestTime]\"$context.httpMethod $context.resourcePath \
$context.protocol\" $context.status $context.responseLength $context.requestId \
$context.extendedRequestId";

/// AWS's JSON preset.
pub const PRESET_JSON: &str = "{ \"requestId\":\"$context.requestId\", \
\"extendedRequestId\":\"$context.extendedRequestId\",\"ip\": \"$context.identity.sourceIp\", \
\"caller\":\"$context.identity.caller\", \"user\":\"$context.identity.user\", \
\"requestTime\":\"$context.requestTime\", \"httpMethod\":\"$context.httpMethod\", \
\"resourcePath\":\"$context.resourcePath\", \"status\":\"$context.status\", \
\"protocol\":\"$context.protocol\", \"responseLength\":\"$context.responseLength\" }";

/// AWS's XML preset.
pub const PRESET_XML: &str = "<request id=\"$context.requestId\"> \
<extendedRequestId>$context.extendedRequestId</extendedRequestId> \
<ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> \
<user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> \
<httpMethod>$context.httpMethod</httpMethod> \
<resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> \
<protocol>$context.protocol</protocol> \
<responseLength>$context.responseLength</responseLength> </request>";

/// AWS's CSV preset.
pub const PRESET_CSV: &str = "$context.identity.sourceIp,$context.identity.caller,\
$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,\
$context.protocol,$context.status,$context.responseLength,$context.requestId,\
$context.extendedRequestId";

/// Why a format cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessLogError {
    /// A `$context` variable API Gateway does not document for access logs.
    #[error(
        "Invalid variable in access log format: $context.{0} is not a known $context variable"
    )]
    UnknownVariable(String),
    /// The format spans lines.
    #[error("Invalid access log format: the format must be a single line")]
    MultiLine,
    /// Neither `$context.requestId` nor `$context.extendedRequestId` is in it.
    #[error(
        "Invalid access log format: the format must include at least $context.requestId or \
         $context.extendedRequestId"
    )]
    NoRequestId,
    /// The format is empty.
    #[error("Invalid access log format: the format must not be empty")]
    Empty,
}

/// How values are escaped (by the format's own syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Json,
    Xml,
    Plain,
}

/// One `$context` variable of access logs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Var {
    /// `identity.clientCert.*`: which member.
    ClientCert(ClientCertField),
    RequestId,
    ExtendedRequestId,
    SourceIp,
    UserAgent,
    ApiKeyId,
    ApiKey,
    Caller,
    User,
    UserArn,
    AccessKey,
    AccountId,
    RequestTime,
    RequestTimeEpoch,
    HttpMethod,
    ResourcePath,
    Path,
    Status,
    Protocol,
    ResponseLength,
    ResponseLatency,
    IntegrationLatency,
    IntegrationStatus,
    IntegrationError,
    ErrorMessage,
    ErrorMessageString,
    ErrorResponseType,
    ErrorValidation,
    Stage,
    IsCanaryRequest,
    ApiId,
    DeploymentId,
    DomainName,
    DomainPrefix,
    PrincipalId,
    AuthorizerClaim(Box<str>),
    AuthorizerProperty(Box<str>),
    AuthorizerError,
    /// WebSocket: `connectionId`.
    ConnectionId,
    /// WebSocket: `eventType` (CONNECT, MESSAGE, DISCONNECT).
    EventType,
    /// WebSocket: `routeKey`.
    RouteKey,
    /// WebSocket: `messageId` (MESSAGE events).
    MessageId,
    /// WebSocket: `connectedAt` (Unix milliseconds).
    ConnectedAt,
    /// Documented, but nothing here sets it (WAF, mutual TLS, Cognito identities, X-Ray,
    /// custom domains, sub-timings of the authorizer): always `-`.
    Empty,
}

impl Var {
    /// Whether the value is written as it is (not through the format's escaper) and can
    /// hold nothing a JSON string escapes: ids the gateway makes, the peer's address,
    /// numbers, the method token, the protocol, the CLF time, fixed words.
    /// [`AccessLogFormat::write_embedded`] writes these straight into the line.
    fn json_plain(&self) -> bool {
        use Var::*;
        matches!(
            self,
            RequestId
                | ExtendedRequestId
                | SourceIp
                | ApiKey
                | RequestTime
                | RequestTimeEpoch
                | HttpMethod
                | Status
                | Protocol
                | ResponseLength
                | ResponseLatency
                | IntegrationLatency
                | IntegrationStatus
                | ErrorResponseType
                | IsCanaryRequest
                | ConnectionId
                | EventType
                | MessageId
                | ConnectedAt
                | Empty
        )
    }
}

/// Variables API Gateway documents that this gateway has no value for.
const ALWAYS_EMPTY: &[&str] = &[
    "identity.cognitoAuthenticationProvider",
    "identity.cognitoAuthenticationType",
    "identity.cognitoIdentityId",
    "identity.cognitoIdentityPoolId",
    "identity.principalOrgId",
    "identity.vpcId",
    "identity.vpceId",
    "identity.clientCert.clientCertPem",
    "identity.clientCert.subjectDN",
    "identity.clientCert.issuerDN",
    "identity.clientCert.serialNumber",
    "identity.clientCert.validity.notBefore",
    "identity.clientCert.validity.notAfter",
    "authenticate.error",
    "authenticate.latency",
    "authenticate.status",
    "authorize.error",
    "authorize.latency",
    "authorize.status",
    "authorizer.integrationLatency",
    "authorizer.integrationStatus",
    "authorizer.latency",
    "authorizer.requestId",
    "authorizer.status",
    "awsEndpointRequestId",
    "customDomain.basePathMatched",
    "endpointType",
    "integration.requestId",
    "resourceId",
    "waf.error",
    "waf.latency",
    "waf.status",
    "wafResponseCode",
    "webaclArn",
    "xrayTraceId",
];

/// A member of `$context.identity.clientCert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientCertField {
    Pem,
    SubjectDn,
    IssuerDn,
    SerialNumber,
    NotBefore,
    NotAfter,
}

fn variable(name: &str) -> Option<Var> {
    use Var::*;
    Some(match name {
        "identity.clientCert.clientCertPem" => ClientCert(ClientCertField::Pem),
        "identity.clientCert.subjectDN" => ClientCert(ClientCertField::SubjectDn),
        "identity.clientCert.issuerDN" => ClientCert(ClientCertField::IssuerDn),
        "identity.clientCert.serialNumber" => ClientCert(ClientCertField::SerialNumber),
        "identity.clientCert.validity.notBefore" => ClientCert(ClientCertField::NotBefore),
        "identity.clientCert.validity.notAfter" => ClientCert(ClientCertField::NotAfter),
        "requestId" => RequestId,
        "extendedRequestId" => ExtendedRequestId,
        "identity.sourceIp" => SourceIp,
        "identity.userAgent" => UserAgent,
        "identity.apiKeyId" => ApiKeyId,
        "identity.apiKey" => ApiKey,
        "identity.caller" => Caller,
        "identity.user" => User,
        "identity.userArn" => UserArn,
        "identity.accessKey" => AccessKey,
        "identity.accountId" | "accountId" => AccountId,
        "requestTime" => RequestTime,
        "requestTimeEpoch" => RequestTimeEpoch,
        "httpMethod" => HttpMethod,
        "resourcePath" => ResourcePath,
        "path" => Path,
        "status" => Status,
        "protocol" => Protocol,
        "responseLength" => ResponseLength,
        "responseLatency" => ResponseLatency,
        "integrationLatency" | "integration.latency" => IntegrationLatency,
        "integrationStatus" | "integration.status" | "integration.integrationStatus" => {
            IntegrationStatus
        }
        "integration.error" => IntegrationError,
        "error.message" => ErrorMessage,
        "error.messageString" => ErrorMessageString,
        "error.responseType" => ErrorResponseType,
        "error.validationErrorString" => ErrorValidation,
        "stage" => Stage,
        "isCanaryRequest" => IsCanaryRequest,
        "apiId" => ApiId,
        "deploymentId" => DeploymentId,
        "domainName" => DomainName,
        "domainPrefix" => DomainPrefix,
        "authorizer.principalId" => PrincipalId,
        "authorizer.error" => AuthorizerError,
        "connectionId" => ConnectionId,
        "eventType" => EventType,
        "routeKey" => RouteKey,
        "messageId" => MessageId,
        "connectedAt" => ConnectedAt,
        other if ALWAYS_EMPTY.contains(&other) => Empty,
        other => {
            if let Some(claim) = other.strip_prefix("authorizer.claims.") {
                AuthorizerClaim(claim.into())
            } else if let Some(key) = other.strip_prefix("authorizer.") {
                if key.contains('.') {
                    return None;
                }
                AuthorizerProperty(key.into())
            } else if other.starts_with("requestOverride.") || other.starts_with("waf.") {
                Empty
            } else {
                return None;
            }
        }
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Literal text: as written, and escaped as the inside of a JSON string (for
    /// [`AccessLogFormat::write_embedded`]).
    Text(Box<str>, Box<str>),
    Var(Var),
}

impl Segment {
    fn text(raw: String) -> Segment {
        let mut json = String::with_capacity(raw.len() + 8);
        push_json_escaped(&raw, &mut json);
        Segment::Text(raw.into(), json.into())
    }
}

/// A compiled access log format.
#[derive(Debug, Clone)]
pub struct AccessLogFormat {
    segments: Box<[Segment]>,
    escape: Escape,
    /// Bytes of literal text: the line's capacity starts from it.
    literal_len: usize,
}

const PREFIX: &str = "$context.";

impl AccessLogFormat {
    /// Parses `format`; errors name what is wrong (an unknown variable by its name).
    pub fn compile(format: &str) -> Result<AccessLogFormat, AccessLogError> {
        if format.trim().is_empty() {
            return Err(AccessLogError::Empty);
        }
        if format.contains(['\n', '\r']) {
            return Err(AccessLogError::MultiLine);
        }
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut rest = format;
        while let Some(at) = rest.find(PREFIX) {
            text.push_str(&rest[..at]);
            let after = &rest[at + PREFIX.len()..];
            let len = name_len(after);
            if len == 0 {
                text.push_str(PREFIX);
                rest = after;
                continue;
            }
            let name = &after[..len];
            let var =
                variable(name).ok_or_else(|| AccessLogError::UnknownVariable(name.to_string()))?;
            if !text.is_empty() {
                segments.push(Segment::text(std::mem::take(&mut text)));
            }
            segments.push(Segment::Var(var));
            rest = &after[len..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            segments.push(Segment::text(text));
        }
        if !segments.iter().any(|s| {
            matches!(
                s,
                Segment::Var(Var::RequestId) | Segment::Var(Var::ExtendedRequestId)
            )
        }) {
            return Err(AccessLogError::NoRequestId);
        }
        let trimmed = format.trim_start();
        let escape = if trimmed.starts_with('{') {
            Escape::Json
        } else if trimmed.starts_with('<') {
            Escape::Xml
        } else {
            Escape::Plain
        };
        let literal_len = segments
            .iter()
            .map(|s| match s {
                Segment::Text(t, _) => t.len(),
                Segment::Var(_) => 0,
            })
            .sum();
        Ok(AccessLogFormat {
            segments: segments.into(),
            escape,
            literal_len,
        })
    }

    /// A good first capacity for a line of this format.
    pub fn capacity_hint(&self) -> usize {
        self.literal_len + 24 * self.segments.len()
    }

    /// Appends the line for `s` to `out`.
    pub fn write(&self, s: &RequestSummary<'_>, out: &mut String) {
        for segment in self.segments.iter() {
            match segment {
                Segment::Text(text, _) => out.push_str(text),
                Segment::Var(var) => {
                    let start = out.len();
                    self.value(var, s, out);
                    if out.len() == start {
                        out.push('-');
                    }
                }
            }
        }
    }

    /// Appends the line for `s` already escaped as the inside of a JSON string: what
    /// [`push_json_escaped`] of [`AccessLogFormat::write`]'s line gives, without escaping
    /// the whole line again. The literal text was escaped once, when the format was
    /// compiled; a value that cannot need escaping ([`Var::json_plain`]) is written
    /// straight into the line, any other into `scratch` and escaped from there. The node's file writer embeds lines
    /// in JSON this way when nothing else needs the line as written.
    pub fn write_embedded(&self, s: &RequestSummary<'_>, scratch: &mut String, out: &mut String) {
        for segment in self.segments.iter() {
            match segment {
                Segment::Text(_, json) => out.push_str(json),
                Segment::Var(var) if var.json_plain() => {
                    let start = out.len();
                    self.value(var, s, out);
                    if out.len() == start {
                        out.push('-');
                    }
                }
                Segment::Var(var) => {
                    scratch.clear();
                    self.value(var, s, scratch);
                    if scratch.is_empty() {
                        out.push('-');
                    } else {
                        push_json_escaped(scratch, out);
                    }
                }
            }
        }
    }

    /// The line for `s`.
    pub fn format(&self, s: &RequestSummary<'_>) -> String {
        let mut line = String::with_capacity(self.capacity_hint());
        self.write(s, &mut line);
        line
    }

    fn text(&self, value: &str, out: &mut String) {
        push_escaped(self.escape, value, out);
    }

    fn value(&self, var: &Var, s: &RequestSummary<'_>, out: &mut String) {
        let ctx = s.ctx;
        match var {
            Var::ClientCert(field) => {
                if let Some(c) = &ctx.client_cert {
                    self.text(
                        match field {
                            ClientCertField::Pem => &c.client_cert_pem,
                            ClientCertField::SubjectDn => &c.subject_dn,
                            ClientCertField::IssuerDn => &c.issuer_dn,
                            ClientCertField::SerialNumber => &c.serial_number,
                            ClientCertField::NotBefore => &c.not_before,
                            ClientCertField::NotAfter => &c.not_after,
                        },
                        out,
                    );
                }
            }
            Var::RequestId => out.push_str(ctx.request_id_str()),
            Var::ExtendedRequestId => out.push_str(ctx.extended_request_id().as_str()),
            // The peer's address as text, rendered once per connection.
            Var::SourceIp => out.push_str(ctx.source_ip_str()),
            Var::UserAgent => self.text(header_str(s.request.user_agent.as_ref()), out),
            Var::ApiKeyId => {
                if let Some(id) = ctx.api_key_id.get() {
                    self.text(id, out);
                }
            }
            Var::ApiKey => {
                if ctx.api_key_id.get().is_some() {
                    // The key itself is a secret: shown masked, as API Gateway's logs do.
                    out.push_str("********");
                }
            }
            Var::Caller | Var::User | Var::UserArn => {
                if let Some(caller) = ctx.iam_caller.get() {
                    self.text(&caller.user_arn, out);
                }
            }
            Var::AccessKey => {
                if let Some(caller) = ctx.iam_caller.get() {
                    self.text(&caller.access_key, out);
                }
            }
            Var::AccountId => {
                if let Some(stage) = s.stage {
                    self.text(&stage.account_id, out);
                }
            }
            Var::RequestTime => request_time(ctx.received_at, out),
            Var::RequestTimeEpoch => {
                let ms = ctx
                    .received_at
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_millis();
                push_int(ms, out);
            }
            Var::HttpMethod => out.push_str(s.http_method.as_str()),
            Var::ResourcePath => {
                if let Some(method) = s.method {
                    self.text(&method.resource_path, out);
                }
            }
            Var::Path => self.text(&s.request.path(), out),
            Var::Status => push_status(s.status.as_u16(), out),
            Var::Protocol => out.push_str(protocol(s.request.version)),
            Var::ResponseLength => {
                if let Some(len) = s.response_length {
                    push_int(len, out);
                }
            }
            Var::ResponseLatency => push_int(s.latency.as_millis(), out),
            Var::IntegrationLatency => {
                if let Some(latency) = s.integration_latency {
                    push_int(latency.as_millis(), out);
                }
            }
            Var::IntegrationStatus => {
                if let Some(status) = ctx.integration_status.get() {
                    push_int(*status, out);
                }
            }
            Var::IntegrationError => {
                if let Some(error) = s.error.filter(|e| e.is_integration_error()) {
                    self.text(&error.to_string(), out);
                }
            }
            Var::ErrorMessage => {
                if let Some(error) = s.error {
                    self.text(&error.builtin().message, out);
                }
            }
            Var::ErrorMessageString => {
                if let Some(error) = s.error {
                    out.push('"');
                    self.text(&error.builtin().message, out);
                    out.push('"');
                }
            }
            Var::ErrorResponseType => {
                if let Some(error) = s.error {
                    out.push_str(error.response_type().name());
                }
            }
            Var::ErrorValidation => {
                if let Some(detail) = s.error.and_then(|e| e.builtin().detail) {
                    self.text(&detail, out);
                }
            }
            Var::Stage => {
                if let Some(stage) = s.stage {
                    self.text(&stage.stage_name, out);
                }
            }
            // `true` for the canary's requests, `false` for the rest of a stage with a
            // canary, `-` on a stage without one (as `$context.isCanaryRequest` in templates).
            Var::IsCanaryRequest => match s.stage {
                Some(stage) if stage.is_canary => out.push_str("true"),
                Some(stage) if stage.canary.is_some() => out.push_str("false"),
                _ => {}
            },
            Var::ApiId => {
                if let Some(stage) = s.stage {
                    self.text(&stage.api_id, out);
                }
            }
            Var::DeploymentId => {
                if let Some(stage) = s.stage {
                    self.text(&stage.deployment_id, out);
                }
            }
            Var::DomainName => self.text(host(s), out),
            Var::DomainPrefix => {
                let host = host(s);
                self.text(host.split('.').next().unwrap_or(host), out);
            }
            Var::PrincipalId => {
                if let Some(id) = ctx.authorizer.get().and_then(|a| a.principal_id.as_deref()) {
                    self.text(id, out);
                }
            }
            Var::AuthorizerClaim(name) => {
                if let Some(authorizer) = ctx.authorizer.get() {
                    if let Some((_, v)) = authorizer.claims.iter().find(|(k, _)| **k == **name) {
                        self.text(v, out);
                    }
                }
            }
            Var::AuthorizerProperty(name) => {
                if let Some(authorizer) = ctx.authorizer.get() {
                    if let Some((_, v)) = authorizer.context.iter().find(|(k, _)| **k == **name) {
                        match v {
                            serde_json::Value::String(text) => self.text(text, out),
                            serde_json::Value::Null => {}
                            other => {
                                let _ = write!(out, "{other}");
                            }
                        }
                    }
                }
            }
            Var::AuthorizerError => {
                if let Some(error) = s.error.filter(|e| e.is_authorizer_error()) {
                    self.text(&error.builtin().message, out);
                }
            }
            // HTTP APIs: the matched route's key.
            Var::RouteKey => {
                if let Some(key) = s.method.and_then(|m| m.route_key.as_deref()) {
                    self.text(key, out);
                }
            }
            // WebSocket events only (see [`AccessLogFormat::write_ws`]).
            Var::ConnectionId | Var::EventType | Var::MessageId | Var::ConnectedAt | Var::Empty => {
            }
        }
    }

    /// Appends the line for one WebSocket event to `out` (a variable the event has no
    /// value for is written `-`).
    pub fn write_ws(&self, e: &WsLogEvent<'_>, out: &mut String) {
        for segment in self.segments.iter() {
            match segment {
                Segment::Text(text, _) => out.push_str(text),
                Segment::Var(var) => {
                    let start = out.len();
                    self.ws_value(var, e, out);
                    if out.len() == start {
                        out.push('-');
                    }
                }
            }
        }
    }

    /// The line for one WebSocket event.
    pub fn format_ws(&self, e: &WsLogEvent<'_>) -> String {
        let mut line = String::with_capacity(self.capacity_hint());
        self.write_ws(e, &mut line);
        line
    }

    fn ws_value(&self, var: &Var, e: &WsLogEvent<'_>, out: &mut String) {
        match var {
            Var::RequestId => self.text(e.request_id, out),
            Var::ExtendedRequestId => self.text(e.extended_request_id, out),
            Var::ConnectionId => self.text(e.connection_id, out),
            Var::EventType => out.push_str(e.event_type),
            Var::RouteKey => self.text(e.route_key, out),
            Var::MessageId => {
                if let Some(id) = e.message_id {
                    self.text(id, out);
                }
            }
            Var::ConnectedAt => push_int(e.connected_at, out),
            Var::RequestTime => request_time(e.request_time, out),
            Var::RequestTimeEpoch => {
                let ms = e
                    .request_time
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_millis();
                push_int(ms, out);
            }
            Var::Status => push_int(e.status, out),
            Var::ApiId => self.text(e.api_id, out),
            Var::Stage => self.text(e.stage, out),
            Var::DomainName => self.text(e.domain_name, out),
            Var::DomainPrefix => {
                self.text(e.domain_name.split('.').next().unwrap_or_default(), out);
            }
            Var::SourceIp => self.text(e.source_ip, out),
            Var::UserAgent => self.text(e.user_agent, out),
            Var::IntegrationLatency => {
                if let Some(latency) = e.integration_latency {
                    push_int(latency.as_millis(), out);
                }
            }
            Var::ErrorMessage => {
                if let Some(message) = e.error_message {
                    self.text(message, out);
                }
            }
            Var::ErrorMessageString => {
                if let Some(message) = e.error_message {
                    out.push('"');
                    self.text(message, out);
                    out.push('"');
                }
            }
            Var::Caller | Var::User | Var::UserArn => {
                if let Some(arn) = e.user_arn {
                    self.text(arn, out);
                }
            }
            Var::PrincipalId => {
                if let Some(id) = e.principal_id {
                    self.text(id, out);
                }
            }
            _ => {}
        }
    }
}

/// One WebSocket event (CONNECT, MESSAGE or DISCONNECT) as its access-log line sees it:
/// the `$context` of WebSocket APIs.
#[derive(Debug, Clone)]
pub struct WsLogEvent<'a> {
    /// `requestId`.
    pub request_id: &'a str,
    /// `extendedRequestId`.
    pub extended_request_id: &'a str,
    /// `connectionId`.
    pub connection_id: &'a str,
    /// `eventType`: CONNECT, MESSAGE or DISCONNECT.
    pub event_type: &'static str,
    /// `routeKey` (`$connect`, the selected route's key, `$disconnect`).
    pub route_key: &'a str,
    /// `messageId` (MESSAGE events).
    pub message_id: Option<&'a str>,
    /// `connectedAt`, Unix milliseconds.
    pub connected_at: u64,
    /// When the event was received (`requestTime`, `requestTimeEpoch`).
    pub request_time: std::time::SystemTime,
    /// `status`: 101 for an accepted connect, the refusal's status, 200 for a handled
    /// message, the answer's status otherwise.
    pub status: u16,
    /// `apiId`.
    pub api_id: &'a str,
    /// `stage`.
    pub stage: &'a str,
    /// `domainName`.
    pub domain_name: &'a str,
    /// `identity.sourceIp`.
    pub source_ip: &'a str,
    /// `identity.userAgent`.
    pub user_agent: &'a str,
    /// `integrationLatency`, when an integration answered.
    pub integration_latency: Option<Duration>,
    /// `error.message`.
    pub error_message: Option<&'a str>,
    /// `identity.caller` / `identity.user` / `identity.userArn` (AWS_IAM `$connect`).
    pub user_arn: Option<&'a str>,
    /// `authorizer.principalId`.
    pub principal_id: Option<&'a str>,
}

/// The host the request named, without a port.
fn host<'a>(s: &'a RequestSummary<'_>) -> &'a str {
    let host = header_str(s.request.host.as_ref());
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

fn header_str(value: Option<&http::HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn protocol(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// `dd/MMM/yyyy:HH:mm:ss +0000`, as `$context.requestTime` reads (UTC).
/// `dd/MMM/yyyy:HH:mm:ss +0000` of `at`, formatted once per second per thread (every
/// line of a second shares it).
fn request_time(at: std::time::SystemTime, out: &mut String) {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let secs = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            let text = &mut last.1;
            text.clear();
            clf_time(at, text);
            last.0 = secs;
        }
        out.push_str(&last.1);
    });
}

fn clf_time(at: std::time::SystemTime, out: &mut String) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time::OffsetDateTime::from(at);
    let month = MONTHS
        .get(usize::from(u8::from(t.month())).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    let _ = write!(
        out,
        "{:02}/{month}/{}:{:02}:{:02}:{:02} +0000",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    );
}

/// Appends an HTTP status code's digits: three of them for every status `http` accepts
/// (100–999), without a general integer formatter.
pub fn push_status(status: u16, out: &mut String) {
    if (100..1000).contains(&status) {
        let digit = |d: u16| char::from(b'0' + (d % 10) as u8);
        out.push(digit(status / 100));
        out.push(digit(status / 10));
        out.push(digit(status));
    } else {
        push_int(status, out);
    }
}

/// Appends an integer's decimal digits (no `fmt` machinery).
fn push_int(n: impl itoa::Integer, out: &mut String) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `value` escaped as the inside of a JSON string (`"`, `\\` and control
/// characters escaped). Shared with the node's log writer, which escapes every access
/// line again as its `message`.
///
/// It works on eight bytes at a time (SWAR): a word is stored whole, and for each quote
/// or backslash in it (found exactly by a bit trick) a backslash is put in before it and
/// the rest of the word stored after. An access line in AWS's JSON preset has a quote
/// every few bytes: a search that jumped between them (`memchr2`, then one copy per run)
/// cost five times more, and so did a byte-by-byte table. A word with a control
/// character (rare) goes byte by byte.
pub fn push_json_escaped(value: &str, out: &mut String) {
    let bytes = value.as_bytes();
    // Most values (ids, addresses, numbers, names) have nothing to escape: one scan, one
    // copy.
    let mut words = bytes.chunks_exact(8);
    let clean = words.by_ref().all(|word| {
        let word: [u8; 8] = word.try_into().unwrap_or_default();
        let w = u64::from_le_bytes(word);
        !has_control(w) && quotes_and_backslashes(w) == 0
    }) && !words
        .remainder()
        .iter()
        .any(|&b| JSON_ESCAPES[usize::from(b)] != 0);
    if clean {
        out.push_str(value);
        return;
    }
    // SAFETY: only whole input bytes are appended, in order, with ASCII escapes inserted
    // before ASCII bytes only: the bytes of every multi-byte character stay together, so
    // `out` remains UTF-8.
    let out = unsafe { out.as_mut_vec() };
    // The longest escape is 6 bytes (`\u00XX`), and a word store may write 8 bytes past
    // the end: this much room can never run out.
    out.reserve(bytes.len() * 6 + 8);
    let spare = out.spare_capacity_mut();
    let mut n = 0; // bytes written into `spare`
    let mut words = bytes.chunks_exact(8);
    for word in words.by_ref() {
        let word: [u8; 8] = word.try_into().unwrap_or_default();
        let w = u64::from_le_bytes(word);
        n = if has_control(w) {
            escape_bytes(&word, spare, n)
        } else {
            escape_word(w, spare, n)
        };
    }
    n = escape_bytes(words.remainder(), spare, n);
    let len = out.len() + n;
    // SAFETY: the first `n` bytes of the spare capacity were written above.
    unsafe { out.set_len(len) };
}

const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);

/// Whether a byte of `w` is below 0x20 (bytes of multi-byte characters, >= 0x80, never
/// are).
fn has_control(w: u64) -> bool {
    const SPACES: u64 = u64::from_ne_bytes([0x20; 8]);
    w.wrapping_sub(SPACES) & !w & HIGH != 0
}

/// The high bit of each byte of `w` that is a quote or a backslash.
fn quotes_and_backslashes(w: u64) -> u64 {
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    zero_bytes(w ^ QUOTES) | zero_bytes(w ^ BACKSLASHES)
}

/// The high bit of each byte of `x` that is zero, exactly (no borrow crosses bytes).
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Writes `w`'s eight bytes (none a control character) at `out[n..]`, a backslash before
/// each quote or backslash; returns the new `n`.
fn escape_word(mut w: u64, out: &mut [std::mem::MaybeUninit<u8>], mut n: usize) -> usize {
    let store = |out: &mut [std::mem::MaybeUninit<u8>], n: usize, w: u64| {
        for (to, from) in out[n..n + 8].iter_mut().zip(w.to_le_bytes()) {
            to.write(from);
        }
    };
    let mut hits = quotes_and_backslashes(w);
    let mut left = 8;
    while hits != 0 {
        // The bytes before the hit go out with the word; the backslash overwrites the
        // hit, which becomes the first byte of what is stored next.
        let before = (hits.trailing_zeros() / 8) as usize;
        store(out, n, w);
        n += before;
        out[n].write(b'\\');
        n += 1;
        w >>= 8 * before;
        hits = (hits >> (8 * before)) & !0x80;
        left -= before;
    }
    store(out, n, w);
    n + left
}

/// The JSON escape of each byte: 0 for none, `u` for `\u00XX`, else the letter after `\`.
const JSON_ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// [`push_json_escaped`] of a few bytes, one at a time, into `out` from `n` on (it has
/// room for six bytes per input byte); returns the new `n`.
fn escape_bytes(bytes: &[u8], out: &mut [std::mem::MaybeUninit<u8>], mut n: usize) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match JSON_ESCAPES[usize::from(b)] {
            0 => {
                out[n].write(b);
                n += 1;
            }
            b'u' => {
                let escape = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ];
                for (to, from) in out[n..n + 6].iter_mut().zip(escape) {
                    to.write(from);
                }
                n += 6;
            }
            letter => {
                out[n].write(b'\\');
                out[n + 1].write(letter);
                n += 2;
            }
        }
    }
    n
}

fn push_escaped(escape: Escape, value: &str, out: &mut String) {
    match escape {
        Escape::Json => push_json_escaped(value, out),
        Escape::Xml => {
            for c in value.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    c if c.is_control() => out.push(' '),
                    c => out.push(c),
                }
            }
        }
        Escape::Plain => {
            if value.chars().any(char::is_control) {
                out.extend(value.chars().map(|c| if c.is_control() { ' ' } else { c }));
            } else {
                out.push_str(value);
            }
        }
    }
}

/// Letters, digits and `_` in dot-separated names; a trailing dot is not part of it.
fn name_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut len = 0;
    let mut last_good = 0;
    while len < bytes.len() {
        let b = bytes[len];
        if b.is_ascii_alphanumeric() || b == b'_' {
            len += 1;
            last_good = len;
        } else if b == b'.' && len > 0 && bytes[len - 1] != b'.' {
            len += 1;
        } else {
            break;
        }
    }
    last_good
}

/// The log group an ARN `arn:aws:logs:{region}:{account}:log-group:{name}` names
/// (a trailing `:*`, as the console copies ARNs, is dropped).
pub fn log_group_name(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "logs", region, account, resource]
            if !partition.is_empty() && !region.is_empty() && !account.is_empty() =>
        {
            let name = resource.strip_prefix("log-group:")?;
            let name = name.strip_suffix(":*").unwrap_or(name);
            let ok = !name.is_empty()
                && name.len() <= 512
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
            ok.then_some(name)
        }
        _ => None,
    }
}

/// The log group of a stage's execution logs, as API Gateway names it.
pub fn execution_log_group(api_id: &str, stage: &str) -> String {
    format!("API-Gateway-Execution-Logs_{api_id}/{stage}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_compile_and_unknown_variables_are_named() {
        for preset in [PRESET_CLF, PRESET_JSON, PRESET_XML, PRESET_CSV] {
            AccessLogFormat::compile(preset).unwrap();
        }
        assert_eq!(
            AccessLogFormat::compile("$context.requestId $context.bogus.thing").unwrap_err(),
            AccessLogError::UnknownVariable("bogus.thing".into())
        );
        assert!(
            AccessLogFormat::compile("$context.requestId $context.bogus")
                .unwrap_err()
                .to_string()
                .contains("$context.bogus ")
        );
        assert_eq!(
            AccessLogFormat::compile("$context.status").unwrap_err(),
            AccessLogError::NoRequestId
        );
        assert_eq!(
            AccessLogFormat::compile("$context.requestId\n").unwrap_err(),
            AccessLogError::MultiLine
        );
        // Known variables of other shapes.
        AccessLogFormat::compile(
            "$context.extendedRequestId $context.authorizer.claims.sub $context.authorizer.role \
             $context.waf.error $context.integration.status $context.error.responseType. $x",
        )
        .unwrap();
    }

    #[test]
    fn websocket_events_write_their_context() {
        let f = AccessLogFormat::compile(
            "$context.requestId $context.eventType $context.routeKey $context.connectionId \
             $context.status $context.messageId $context.connectedAt $context.integrationLatency \
             $context.identity.sourceIp $context.error.message $context.httpMethod",
        )
        .unwrap();
        let mut e = WsLogEvent {
            request_id: "r1",
            extended_request_id: "r1",
            connection_id: "c1",
            event_type: "MESSAGE",
            route_key: "$default",
            message_id: Some("m1"),
            connected_at: 1_700_000_000_000,
            request_time: UNIX_EPOCH,
            status: 200,
            api_id: "a",
            stage: "dev",
            domain_name: "a.example",
            source_ip: "10.0.0.1",
            user_agent: "",
            integration_latency: Some(Duration::from_millis(7)),
            error_message: None,
            user_arn: None,
            principal_id: None,
        };
        assert_eq!(
            f.format_ws(&e),
            "r1 MESSAGE $default c1 200 m1 1700000000000 7 10.0.0.1 - -"
        );
        e.event_type = "CONNECT";
        e.route_key = "$connect";
        e.message_id = None;
        e.integration_latency = None;
        e.status = 403;
        e.error_message = Some("Forbidden");
        assert_eq!(
            f.format_ws(&e),
            "r1 CONNECT $connect c1 403 - 1700000000000 - 10.0.0.1 Forbidden -"
        );
    }

    #[test]
    fn names_stop_at_punctuation_and_trailing_dots() {
        assert_eq!(name_len("status\""), 6);
        assert_eq!(name_len("status. next"), 6);
        assert_eq!(name_len("identity.sourceIp,"), 17);
        assert_eq!(name_len(" x"), 0);
    }

    #[test]
    fn segments_alternate_text_and_variables() {
        let f =
            AccessLogFormat::compile("[$context.requestId] $ $context.status$context.").unwrap();
        assert_eq!(
            &*f.segments,
            [
                Segment::text("[".into()),
                Segment::Var(Var::RequestId),
                Segment::text("] $ ".into()),
                Segment::Var(Var::Status),
                Segment::text("$context.".into()),
            ]
        );
    }

    #[test]
    fn escaping_follows_the_format() {
        let mut out = String::new();
        push_escaped(Escape::Json, "a\"b\\c\nd", &mut out);
        assert_eq!(out, "a\\\"b\\\\c\\u000ad");
        out.clear();
        push_escaped(Escape::Xml, "<a&\"b>", &mut out);
        assert_eq!(out, "&lt;a&amp;&quot;b&gt;");
        out.clear();
        push_escaped(Escape::Plain, "a\nb", &mut out);
        assert_eq!(out, "a b");
    }

    #[test]
    fn json_escaping_keeps_text_whole_and_round_trips() {
        for value in ["plain", "", "é \"ü\" \\ \u{1}\n€", "\"\"", "日本\t語"] {
            let mut out = String::from("\"");
            push_json_escaped(value, &mut out);
            out.push('"');
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, value, "{out}");
        }
    }

    #[test]
    fn json_escaping_finds_every_special_byte_at_every_offset() {
        // Each special character at each position of words and tails, next to ASCII,
        // multi-byte text and other specials (borrow chains in the word scan).
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "\"\"", "\\\u{0}"] {
            for len in 0..20 {
                for at in 0..=len {
                    for filler in ["a", "é", " ", "\u{7f}"] {
                        let mut value: String = filler.repeat(len);
                        let at = value.char_indices().nth(at).map_or(value.len(), |(i, _)| i);
                        value.insert_str(at, special);
                        let mut out = String::from("\"");
                        push_json_escaped(&value, &mut out);
                        out.push('"');
                        let back: String = serde_json::from_str(&out).unwrap();
                        assert_eq!(back, value, "{out}");
                    }
                }
            }
        }
    }

    #[test]
    fn embedded_lines_are_the_lines_escaped() {
        let ctx = crate::context::RequestContext::new(std::net::IpAddr::from([10, 0, 0, 9]));
        let facts = crate::phases::end::RequestFacts {
            uri: http::Uri::from_static("/prod/a%22b?q=1"),
            user_agent: Some(http::HeaderValue::from_static("agent \"x\" \\ y")),
            ..Default::default()
        };
        let summary = RequestSummary {
            ctx: &ctx,
            http_method: &http::Method::POST,
            stage: None,
            method: None,
            status: http::StatusCode::BAD_GATEWAY,
            error: None,
            integration_latency: None,
            latency: Duration::from_millis(12),
            request: &facts,
            response_length: Some(42),
            cache: None,
        };
        let custom = "{\"id\":\"$context.requestId\", \"ua\":\"$context.identity.userAgent\", \"empty\":\"$context.stage\", \"s\":$context.status}";
        let plain = "$context.requestId \"$context.identity.userAgent\" \\ $context.path";
        // Every variable written straight into an embedded line, beside escaped ones.
        let straight = "$context.requestId $context.extendedRequestId $context.identity.sourceIp $context.identity.apiKey $context.requestTime $context.requestTimeEpoch $context.httpMethod $context.status $context.protocol $context.responseLength $context.responseLatency $context.integrationLatency $context.integrationStatus $context.error.responseType $context.isCanaryRequest $context.waf.error \"$context.identity.userAgent\"";
        for format in [
            custom,
            plain,
            straight,
            "<r id=\"$context.requestId\">$context.identity.userAgent</r>",
        ]
        .into_iter()
        .chain([PRESET_CLF, PRESET_JSON, PRESET_XML, PRESET_CSV])
        {
            let f = AccessLogFormat::compile(format).unwrap();
            let mut expected = String::new();
            push_json_escaped(&f.format(&summary), &mut expected);
            let mut embedded = String::from("x");
            f.write_embedded(&summary, &mut String::new(), &mut embedded);
            assert_eq!(embedded[1..], expected, "{format}");
        }
    }

    #[test]
    fn statuses_are_their_decimal_digits() {
        for status in [
            100u16,
            200,
            204,
            404,
            429,
            500,
            599,
            999,
            0,
            7,
            42,
            1000,
            u16::MAX,
        ] {
            let mut out = String::from("x");
            push_status(status, &mut out);
            assert_eq!(out, format!("x{status}"));
        }
    }

    #[test]
    fn request_time_is_clf() {
        let at = UNIX_EPOCH + Duration::from_secs(1_764_988_995); // 2025-12-06 02:43:15 UTC
        let mut out = String::new();
        request_time(at, &mut out);
        assert_eq!(out, "06/Dec/2025:02:43:15 +0000");
        // The same second from the per-thread cache, then the next one.
        out.clear();
        request_time(at + Duration::from_millis(900), &mut out);
        assert_eq!(out, "06/Dec/2025:02:43:15 +0000");
        out.clear();
        request_time(at + Duration::from_secs(1), &mut out);
        assert_eq!(out, "06/Dec/2025:02:43:16 +0000");
    }

    #[test]
    fn log_groups_come_from_logs_arns() {
        assert_eq!(
            log_group_name("arn:aws:logs:us-east-1:123456789012:log-group:my/access-logs"),
            Some("my/access-logs")
        );
        assert_eq!(
            log_group_name("arn:aws:logs:us-east-1:123456789012:log-group:g:*"),
            Some("g")
        );
        assert_eq!(log_group_name("arn:aws:logs:us-east-1:1:log-group:"), None);
        assert_eq!(
            log_group_name("arn:aws:firehose:us-east-1:1:deliverystream/amazon-apigateway-x"),
            None
        );
        assert_eq!(log_group_name("nonsense"), None);
        assert_eq!(
            execution_log_group("a1", "prod"),
            "API-Gateway-Execution-Logs_a1/prod"
        );
    }
}
