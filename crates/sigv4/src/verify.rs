//! Server-side verification: [`parse`] the request, look the secret (or the derived signing
//! key) up, [`ParsedAuth::verify`] (or [`ParsedAuth::verify_with_signing_key`]).

use std::fmt;

use hmac::Mac;
use http::HeaderMap;
use time::{Duration, OffsetDateTime};

use crate::canonical::{
    self, canonical_header_value, canonical_query_string, canonical_uri, format_amz_date,
    parse_amz_date, parse_http_date, query_pairs, sha256_hex, ALGORITHM, SCOPE_TERMINATOR,
    UNSIGNED_PAYLOAD,
};
use crate::{SecretKey, SigV4Error, SigningKey};

/// Largest accepted difference between the request date and the server clock. API Gateway
/// allows 5 minutes (its errors read `(... - 5 min.)`); some other AWS services allow 15.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
/// Largest accepted `X-Amz-Expires` (one week, as AWS).
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 604_800;

/// How the request body takes part in verification.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    /// The complete body. Hashed here; if the client sent `x-amz-content-sha256`, that value
    /// is what was signed and it must match this body (unless it is `UNSIGNED-PAYLOAD`).
    Bytes(&'a [u8]),
    /// Hex SHA-256 of the complete body, computed by the caller. Same rules as `Bytes`.
    Sha256Hex(&'a str),
    /// The body is not available (streaming): trust the client's `x-amz-content-sha256`
    /// header, which is then required. The caller must check the body against
    /// [`ParsedAuth::payload_hash`] itself when it is not `UNSIGNED-PAYLOAD`.
    Declared,
}

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Payload::Sha256Hex(h) => write!(f, "Sha256Hex({h})"),
            Payload::Declared => f.write_str("Declared"),
        }
    }
}

/// The parts of an incoming HTTP request that SigV4 covers, as received on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The raw, still percent-encoded path (`/restapis/%7Bid%7D`), without the query.
    pub path: &'a str,
    /// The raw query string without `?` (empty if none).
    pub query: &'a str,
    /// All request headers.
    pub headers: &'a HeaderMap,
    /// Value to use for a signed `host` when there is no `Host` header (HTTP/2 `:authority`).
    pub authority: Option<&'a str>,
    /// The body, or how to obtain its hash.
    pub payload: Payload<'a>,
}

impl<'a> Request<'a> {
    /// A request from its raw parts.
    pub fn new(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a HeaderMap,
        payload: Payload<'a>,
    ) -> Self {
        Request {
            method,
            path,
            query,
            headers,
            authority: None,
            payload,
        }
    }

    /// A request from `http::request::Parts` (the URI's authority backs a missing `Host`).
    pub fn from_parts(parts: &'a http::request::Parts, payload: Payload<'a>) -> Self {
        Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            authority: parts.uri.authority().map(|a| a.as_str()),
            payload,
        }
    }

    /// A request from an `http::Request` (the URI's authority backs a missing `Host`).
    pub fn from_http<B>(req: &'a http::Request<B>, payload: Payload<'a>) -> Self {
        Request {
            method: req.method().as_str(),
            path: req.uri().path(),
            query: req.uri().query().unwrap_or(""),
            headers: req.headers(),
            authority: req.uri().authority().map(|a| a.as_str()),
            payload,
        }
    }

    /// Sets the value used for a signed `host` when no `Host` header is present.
    pub fn with_authority(mut self, authority: &'a str) -> Self {
        self.authority = Some(authority);
        self
    }
}

/// `<date>/<region>/<service>/aws4_request`: what the client says its signing key is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// `YYYYMMDD`.
    pub date: String,
    /// Region, e.g. `us-east-1`; check it against the configured region.
    pub region: String,
    /// Service, e.g. `apigateway` or `execute-api`.
    pub service: String,
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{SCOPE_TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// Where the signature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 ...` header.
    Header,
    /// Presigned URL (`X-Amz-*` query parameters), valid for `expires_secs` if given.
    Presigned {
        /// `X-Amz-Expires`, in seconds.
        expires_secs: Option<i64>,
    },
}

/// Everything extracted from a signed request, ready for [`ParsedAuth::verify`] once the caller
/// has looked up the secret for [`ParsedAuth::access_key_id`] (possibly asynchronously).
///
/// The canonical request is built during [`parse`], so the request itself is no longer needed.
#[derive(Debug, Clone)]
pub struct ParsedAuth {
    access_key_id: String,
    scope: CredentialScope,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    timestamp: OffsetDateTime,
    kind: AuthKind,
    security_token: Option<String>,
    payload_hash: String,
    payload_mismatch: bool,
    canonical_request: Vec<u8>,
}

impl ParsedAuth {
    /// The access key id to look the secret up with (and to record in the audit log).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The credential scope (date, region, service).
    pub fn scope(&self) -> &CredentialScope {
        &self.scope
    }

    /// The lowercase header names covered by the signature.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// The signing time (from `X-Amz-Date`, or `Date`).
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// Header or presigned form.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }

    /// `x-amz-security-token` (header or query), if any. It is only signed like any other
    /// value; whether temporary credentials are acceptable is the caller's decision.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// The payload hash that went into the canonical request (hex or `UNSIGNED-PAYLOAD`).
    pub fn payload_hash(&self) -> &str {
        &self.payload_hash
    }

    /// The canonical request we rebuilt, for debug logging of signature mismatches.
    pub fn canonical_request(&self) -> String {
        String::from_utf8_lossy(&self.canonical_request).into_owned()
    }

    /// The string to sign we rebuilt, for debug logging of signature mismatches.
    pub fn string_to_sign(&self) -> String {
        canonical::string_to_sign(
            &self.amz_date,
            &self.scope.to_string(),
            &self.canonical_request,
        )
    }

    /// Checks the credential scope names `expected_region`.
    pub fn check_region(&self, expected_region: &str) -> Result<(), SigV4Error> {
        if self.scope.region == expected_region {
            Ok(())
        } else {
            Err(SigV4Error::InvalidScope(format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                self.scope.region
            )))
        }
    }

    /// Verifies the request with the caller's secret: scope service, clock skew / presigned
    /// expiry, then the signature (constant-time comparison), then the declared body hash.
    pub fn verify(
        &self,
        secret: &SecretKey,
        expected_service: &str,
        now: OffsetDateTime,
    ) -> Result<(), SigV4Error> {
        self.verify_with(expected_service, now, |scope| {
            SigningKey::derive(secret, &scope.date, &scope.region, &scope.service)
        })
    }

    /// [`ParsedAuth::verify`] with the derived signing key instead of the secret, for
    /// verifiers that must never hold secret access keys (data-plane nodes).
    ///
    /// `key` must be the key for this request's scope ([`ParsedAuth::scope`]): its `date`,
    /// `region` and `service`, i.e. [`SigningKey::derive`]`(secret, &scope.date,
    /// &scope.region, expected_service)`. A key for another day, region, service or secret
    /// fails as `SignatureDoesNotMatch`, exactly like a wrong secret. The checks and their
    /// order are those of `verify`: same scope, clock-skew and presigned-expiry errors.
    pub fn verify_with_signing_key(
        &self,
        key: &[u8; 32],
        expected_service: &str,
        now: OffsetDateTime,
    ) -> Result<(), SigV4Error> {
        self.verify_with(expected_service, now, |_| SigningKey::from(*key))
    }

    /// The one verification path: `key` is only asked for once the cheap checks passed.
    fn verify_with(
        &self,
        expected_service: &str,
        now: OffsetDateTime,
        key: impl FnOnce(&CredentialScope) -> SigningKey,
    ) -> Result<(), SigV4Error> {
        if self.scope.service != expected_service {
            return Err(SigV4Error::InvalidScope(format!(
                "Credential should be scoped to correct service: '{expected_service}'. "
            )));
        }
        self.check_time(now)?;

        let key = key(&self.scope);
        let sts = self.string_to_sign();
        let provided =
            hex::decode(&self.signature).map_err(|_| SigV4Error::SignatureDoesNotMatch)?;
        canonical::hmac(key.as_bytes(), sts.as_bytes())
            .verify_slice(&provided)
            .map_err(|_| SigV4Error::SignatureDoesNotMatch)?;

        if self.payload_mismatch {
            return Err(SigV4Error::PayloadHashMismatch);
        }
        Ok(())
    }

    fn check_time(&self, now: OffsetDateTime) -> Result<(), SigV4Error> {
        let fmt_now = format_amz_date(now);
        if self.timestamp - now > MAX_CLOCK_SKEW {
            return Err(SigV4Error::SignatureNotYetCurrent(format!(
                "Signature not yet current: {} is still later than {} ({fmt_now} + 5 min.)",
                self.amz_date,
                format_amz_date(now + MAX_CLOCK_SKEW)
            )));
        }
        match self.kind {
            AuthKind::Presigned {
                expires_secs: Some(expires),
            } => {
                if now - self.timestamp > Duration::seconds(expires) {
                    return Err(SigV4Error::SignatureExpired(format!(
                        "Signature expired: {} is now earlier than {} ({fmt_now} - {expires} sec.)",
                        self.amz_date,
                        format_amz_date(now - Duration::seconds(expires))
                    )));
                }
            }
            _ => {
                if now - self.timestamp > MAX_CLOCK_SKEW {
                    return Err(SigV4Error::SignatureExpired(format!(
                        "Signature expired: {} is now earlier than {} ({fmt_now} - 5 min.)",
                        self.amz_date,
                        format_amz_date(now - MAX_CLOCK_SKEW)
                    )));
                }
            }
        }
        Ok(())
    }
}

/// One-shot verification with a synchronous secret lookup. Returns the parsed auth (access key
/// id, scope) on success. Use [`parse`] + [`ParsedAuth::verify`] when the lookup is async.
pub fn verify_request<F>(
    request: &Request<'_>,
    lookup: F,
    expected_service: &str,
    now: OffsetDateTime,
) -> Result<ParsedAuth, SigV4Error>
where
    F: FnOnce(&str) -> Option<SecretKey>,
{
    let parsed = parse(request)?;
    let secret = lookup(parsed.access_key_id()).ok_or(SigV4Error::UnrecognizedClient)?;
    parsed.verify(&secret, expected_service, now)?;
    Ok(parsed)
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or(""))
        .map(str::trim)
}

/// Extracts and checks the syntax of the SigV4 material of `request` and rebuilds its
/// canonical request. Needs no secret; errors are `MissingAuthenticationToken` or malformed-
/// signature errors.
pub fn parse(request: &Request<'_>) -> Result<ParsedAuth, SigV4Error> {
    let auth_header = request.headers.get(http::header::AUTHORIZATION);
    let query = query_pairs(request.query);
    let is_presigned = query.iter().any(|(k, _)| {
        matches!(
            k.as_slice(),
            b"X-Amz-Algorithm" | b"X-Amz-Credential" | b"X-Amz-Signature"
        )
    });
    match (auth_header, is_presigned) {
        (None, false) => Err(SigV4Error::MissingAuthenticationToken),
        (Some(_), true) => Err(SigV4Error::IncompleteSignature(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the \
             Authorization header should be specified"
                .to_owned(),
        )),
        (Some(value), false) => {
            let value = String::from_utf8_lossy(value.as_bytes());
            parse_header_form(request, value.trim())
        }
        (None, true) => parse_presigned_form(request, &query),
    }
}

fn parse_header_form(request: &Request<'_>, auth: &str) -> Result<ParsedAuth, SigV4Error> {
    let (algorithm, params) = auth
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((auth, ""));
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    if algorithm == ALGORITHM {
        for param in params.split(',') {
            let Some((k, v)) = param.trim().split_once('=') else {
                continue;
            };
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let slot = match k.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.is_some() {
                return Err(SigV4Error::IncompleteSignature(format!(
                    "Authorization header has a duplicate '{}' parameter. Authorization={auth}",
                    k.trim()
                )));
            }
            *slot = Some(v);
        }
    }
    let amz_date = header_str(request.headers, "x-amz-date").filter(|v| !v.is_empty());
    let http_date = header_str(request.headers, "date").filter(|v| !v.is_empty());

    let mut problems = Vec::new();
    if credential.is_none() {
        problems.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        problems.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        problems.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if amz_date.is_none() && http_date.is_none() {
        problems.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, problems.is_empty())
    else {
        return Err(SigV4Error::IncompleteSignature(format!(
            "{} Authorization={auth}",
            problems.join(" ")
        )));
    };

    let timestamp = match (amz_date, http_date) {
        (Some(d), _) => parse_amz_date(d).ok_or_else(|| bad_date(d))?,
        (None, Some(d)) => parse_http_date(d).ok_or_else(|| bad_date(d))?,
        (None, None) => return Err(SigV4Error::MissingAuthenticationToken), // unreachable
    };
    let security_token = header_str(request.headers, "x-amz-security-token").map(str::to_owned);
    finish(
        request,
        credential,
        signed_headers,
        signature,
        timestamp,
        AuthKind::Header,
        security_token,
    )
}

fn bad_date(d: &str) -> SigV4Error {
    SigV4Error::IncompleteSignature(format!(
        "Date must be in ISO-8601 'basic format'. Got '{d}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

fn parse_presigned_form(
    request: &Request<'_>,
    query: &[(Vec<u8>, Vec<u8>)],
) -> Result<ParsedAuth, SigV4Error> {
    let get = |name: &str| -> Option<String> {
        query
            .iter()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (Some(algorithm), Some(credential), Some(signature), Some(date), Some(signed_headers)) = (
        get("X-Amz-Algorithm"),
        get("X-Amz-Credential"),
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
        get("X-Amz-SignedHeaders"),
    ) else {
        return Err(SigV4Error::IncompleteSignature(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. \
             Re-examine the query-string parameters."
                .to_owned(),
        ));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only '{ALGORITHM}' is supported."
        )));
    }
    let expires_secs = match get("X-Amz-Expires") {
        None => None,
        Some(e) => {
            let secs: i64 = e.parse().map_err(|_| {
                SigV4Error::IncompleteSignature(format!(
                    "X-Amz-Expires should be a number, not '{e}'."
                ))
            })?;
            if secs < 0 {
                return Err(SigV4Error::IncompleteSignature(
                    "X-Amz-Expires must be non-negative".to_owned(),
                ));
            }
            if secs > MAX_PRESIGNED_EXPIRES_SECS {
                return Err(SigV4Error::IncompleteSignature(format!(
                    "X-Amz-Expires must be less than a week (in seconds) that is \
                     {MAX_PRESIGNED_EXPIRES_SECS}"
                )));
            }
            Some(secs)
        }
    };
    let timestamp = parse_amz_date(&date).ok_or_else(|| bad_date(&date))?;
    let security_token = get("X-Amz-Security-Token");
    finish(
        request,
        &credential,
        &signed_headers,
        &signature,
        timestamp,
        AuthKind::Presigned { expires_secs },
        security_token,
    )
}

fn parse_credential(credential: &str) -> Result<(String, CredentialScope), SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = parts.as_slice() else {
        return Err(SigV4Error::IncompleteSignature(format!(
            "Credential should have the form \
             '<access key id>/<YYYYMMDD>/<region>/<service>/{SCOPE_TERMINATOR}', not '{credential}'."
        )));
    };
    if *terminator != SCOPE_TERMINATOR {
        return Err(SigV4Error::IncompleteSignature(format!(
            "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', not \
             '{terminator}'. "
        )));
    }
    if akid.is_empty() {
        return Err(SigV4Error::IncompleteSignature(
            "Credential should include an access key id.".to_owned(),
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SigV4Error::IncompleteSignature(format!(
            "Credential should be scoped to a date in the format YYYYMMDD, not '{date}'. "
        )));
    }
    if region.is_empty() {
        return Err(SigV4Error::IncompleteSignature(
            "Credential should be scoped to a valid region. ".to_owned(),
        ));
    }
    if service.is_empty() {
        return Err(SigV4Error::IncompleteSignature(
            "Credential should be scoped to a valid service. ".to_owned(),
        ));
    }
    Ok((
        (*akid).to_owned(),
        CredentialScope {
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
        },
    ))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Shared tail of both forms: validate scope, signed headers and payload, then build the
/// canonical request.
fn finish(
    request: &Request<'_>,
    credential: &str,
    signed_headers: &str,
    signature: &str,
    timestamp: OffsetDateTime,
    kind: AuthKind,
    security_token: Option<String>,
) -> Result<ParsedAuth, SigV4Error> {
    let (access_key_id, scope) = parse_credential(credential)?;
    let amz_date = format_amz_date(timestamp);
    if scope.date != amz_date[..8] {
        return Err(SigV4Error::InvalidScope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}', from '{amz_date}'.",
            scope.date,
            &amz_date[..8]
        )));
    }

    let names: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(SigV4Error::IncompleteSignature(format!(
            "SignedHeaders should be a ';'-separated list of header names, not '{signed_headers}'."
        )));
    }
    if !names.iter().any(|n| n == "host" || n == ":authority") {
        return Err(SigV4Error::HostNotSigned);
    }

    // Payload hash: what the client declared (and signed) wins; check it against the body.
    let declared = header_str(request.headers, "x-amz-content-sha256").filter(|v| !v.is_empty());
    let computed = match request.payload {
        Payload::Bytes(body) => Some(sha256_hex(body)),
        Payload::Sha256Hex(h) => Some(h.to_ascii_lowercase()),
        Payload::Declared => None,
    };
    let (payload_hash, payload_mismatch) = match (declared, computed) {
        (Some(d), computed) => {
            if d != UNSIGNED_PAYLOAD && !is_sha256_hex(d) {
                return Err(SigV4Error::IncompleteSignature(format!(
                    "x-amz-content-sha256 must be '{UNSIGNED_PAYLOAD}' or a hex SHA-256 digest, \
                     not '{d}'."
                )));
            }
            let mismatch =
                d != UNSIGNED_PAYLOAD && computed.is_some_and(|c| !c.eq_ignore_ascii_case(d));
            (d.to_owned(), mismatch)
        }
        (None, Some(c)) => (c, false),
        (None, None) => {
            return Err(SigV4Error::IncompleteSignature(
                "Missing required header for this request: x-amz-content-sha256".to_owned(),
            ))
        }
    };

    let headers: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|name| {
            let lower = name.to_ascii_lowercase();
            let mut value = canonical_header_value(request.headers, &lower);
            if value.is_empty() && (lower == "host" || lower == ":authority") {
                if let Some(a) = request.authority {
                    value = a.trim().as_bytes().to_vec();
                }
            }
            (name.clone(), value)
        })
        .collect();

    let presigned = matches!(kind, AuthKind::Presigned { .. });
    let canonical_request = canonical::canonical_request(
        request.method,
        &canonical_uri(request.path),
        &canonical_query_string(request.query, presigned),
        &headers,
        signed_headers,
        &payload_hash,
    );

    Ok(ParsedAuth {
        access_key_id,
        scope,
        signed_headers: names,
        signature: signature.to_owned(),
        amz_date,
        timestamp,
        kind,
        security_token,
        payload_hash,
        payload_mismatch,
        canonical_request,
    })
}
