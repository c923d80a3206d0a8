//! Client-side signing, for our own tests and tools calling the management API.

use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use time::OffsetDateTime;

use crate::canonical::{
    self, canonical_header_value, canonical_query_string, canonical_uri, format_amz_date,
    sha256_hex, uri_encode, ALGORITHM, EMPTY_SHA256, SCOPE_TERMINATOR,
};
use crate::{SecretKey, SigningError};

/// Headers never signed because proxies may change them (same list as botocore).
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// Who signs, for what, and when.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret: &'a SecretKey,
    /// Session token, sent and signed as `x-amz-security-token` when present.
    pub security_token: Option<&'a str>,
    /// Region of the credential scope, e.g. `us-east-1`.
    pub region: &'a str,
    /// Service of the credential scope, e.g. `apigateway` or `execute-api`.
    pub service: &'a str,
    /// Signing time.
    pub time: OffsetDateTime,
}

/// The result of [`sign`]: the headers to add to the request, plus the intermediate values
/// for debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// `Authorization` header value.
    pub authorization: String,
    /// `X-Amz-Date` header value.
    pub x_amz_date: String,
    /// `x-amz-content-sha256` header value (hex SHA-256 of the body).
    pub x_amz_content_sha256: String,
    /// `X-Amz-Security-Token` header value, if a session token was given.
    pub x_amz_security_token: Option<String>,
    /// The hex signature.
    pub signature: String,
    /// The `;`-separated signed header names.
    pub signed_headers: String,
    /// The canonical request that was signed.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
}

impl SigningOutput {
    /// The headers to add, as `(name, value)`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("authorization", self.authorization.clone()),
            ("x-amz-date", self.x_amz_date.clone()),
            ("x-amz-content-sha256", self.x_amz_content_sha256.clone()),
        ];
        if let Some(t) = &self.x_amz_security_token {
            h.push(("x-amz-security-token", t.clone()));
        }
        h
    }

    /// Inserts (replacing) the headers into `headers`.
    pub fn apply_to(&self, headers: &mut HeaderMap) -> Result<(), SigningError> {
        for (name, value) in self.headers() {
            let v = HeaderValue::from_str(&value)
                .map_err(|_| SigningError::InvalidHeaderValue(name))?;
            headers.insert(HeaderName::from_static(name), v);
        }
        Ok(())
    }
}

struct Target {
    path: String,
    query: String,
    host: Option<String>,
}

/// Splits an absolute URL or an origin-form `path?query` into wire path, raw query and the
/// `Host` value an HTTP client would send (default ports omitted).
fn split_url(url: &str) -> Result<Target, SigningError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| SigningError::InvalidUrl(url.to_owned()))?;
    let host = uri.authority().map(|a| {
        let host = a.host().to_ascii_lowercase();
        let default_port = match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        };
        match a.port_u16() {
            Some(p) if Some(p) != default_port => format!("{host}:{p}"),
            _ => host,
        }
    });
    Ok(Target {
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        host,
    })
}

/// The `(name, canonical value)` pairs to sign: the given headers minus hop-by-hop ones and
/// the ones we set ourselves, plus `host` and `extra`, sorted by name.
fn headers_to_sign(
    headers: &HeaderMap,
    host: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<Vec<(String, Vec<u8>)>, SigningError> {
    let ours = ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"];
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for name in headers.keys() {
        let n = name.as_str();
        if UNSIGNED_HEADERS.contains(&n) || ours.contains(&n) {
            continue;
        }
        out.push((n.to_owned(), canonical_header_value(headers, n)));
    }
    if !headers.contains_key(http::header::HOST) {
        let host = host.ok_or(SigningError::MissingHost)?;
        out.push(("host".to_owned(), host.as_bytes().to_vec()));
    }
    for (n, v) in extra {
        out.push(((*n).to_owned(), canonical::trim_header_value(v.as_bytes())));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn signature(
    params: &SigningParams<'_>,
    amz_date: &str,
    canonical_request: &[u8],
) -> (String, String) {
    let scope = format!(
        "{}/{}/{}/{SCOPE_TERMINATOR}",
        &amz_date[..8],
        params.region,
        params.service
    );
    let sts = canonical::string_to_sign(amz_date, &scope, canonical_request);
    let key = canonical::signing_key(
        params.secret.expose(),
        &amz_date[..8],
        params.region,
        params.service,
    );
    (
        hex::encode(canonical::hmac_sha256(&key, sts.as_bytes())),
        sts,
    )
}

/// Signs a request with an `Authorization` header.
///
/// `url` is an absolute URL or `path?query` exactly as it will go on the wire (path and query
/// already percent-encoded). All of `headers` are signed except hop-by-hop ones and
/// `user-agent`; `host` comes from `headers` or the URL. Returns the headers to add:
/// `Authorization`, `X-Amz-Date`, `x-amz-content-sha256` (and `X-Amz-Security-Token`).
pub fn sign(
    method: &str,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
    params: &SigningParams<'_>,
) -> Result<SigningOutput, SigningError> {
    let target = split_url(url)?;
    let amz_date = format_amz_date(params.time);
    let payload_hash = sha256_hex(body);
    let mut extra = vec![
        ("x-amz-content-sha256", payload_hash.as_str()),
        ("x-amz-date", amz_date.as_str()),
    ];
    if let Some(t) = params.security_token {
        extra.push(("x-amz-security-token", t));
    }
    let to_sign = headers_to_sign(headers, target.host.as_deref(), &extra)?;
    let signed_headers: Vec<&str> = to_sign.iter().map(|(n, _)| n.as_str()).collect();
    let signed_headers = signed_headers.join(";");
    let cr = canonical::canonical_request(
        method,
        &canonical_uri(&target.path),
        &canonical_query_string(&target.query, false),
        &to_sign,
        &signed_headers,
        &payload_hash,
    );
    let (signature, string_to_sign) = signature(params, &amz_date, &cr);
    Ok(SigningOutput {
        authorization: format!(
            "{ALGORITHM} Credential={}/{}/{}/{}/{SCOPE_TERMINATOR}, SignedHeaders={signed_headers}, Signature={signature}",
            params.access_key_id,
            &amz_date[..8],
            params.region,
            params.service
        ),
        x_amz_date: amz_date,
        x_amz_content_sha256: payload_hash,
        x_amz_security_token: params.security_token.map(str::to_owned),
        signature,
        signed_headers,
        canonical_request: String::from_utf8_lossy(&cr).into_owned(),
        string_to_sign,
    })
}

/// Presigns a URL: returns `url` with `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-Expires`, `X-Amz-SignedHeaders` (, `X-Amz-Security-Token`) and `X-Amz-Signature`
/// appended to its query. Signs `headers` (plus `host`) and an empty body, like botocore's
/// `SigV4QueryAuth` for non-S3 services.
pub fn presign(
    method: &str,
    url: &str,
    headers: &HeaderMap,
    expires_secs: u32,
    params: &SigningParams<'_>,
) -> Result<String, SigningError> {
    let target = split_url(url)?;
    let amz_date = format_amz_date(params.time);
    let to_sign = headers_to_sign(headers, target.host.as_deref(), &[])?;
    let signed_headers: Vec<&str> = to_sign.iter().map(|(n, _)| n.as_str()).collect();
    let signed_headers = signed_headers.join(";");
    let credential = format!(
        "{}/{}/{}/{}/{SCOPE_TERMINATOR}",
        params.access_key_id,
        &amz_date[..8],
        params.region,
        params.service
    );
    let mut auth_params = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        ("X-Amz-Credential", credential),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", expires_secs.to_string()),
        ("X-Amz-SignedHeaders", signed_headers.clone()),
    ];
    if let Some(t) = params.security_token {
        auth_params.push(("X-Amz-Security-Token", t.to_owned()));
    }
    let auth_query: Vec<String> = auth_params
        .iter()
        .map(|(k, v)| format!("{k}={}", uri_encode(v.as_bytes())))
        .collect();
    let auth_query = auth_query.join("&");
    let full_query = if target.query.is_empty() {
        auth_query
    } else {
        format!("{}&{auth_query}", target.query)
    };
    let cr = canonical::canonical_request(
        method,
        &canonical_uri(&target.path),
        &canonical_query_string(&full_query, true),
        &to_sign,
        &signed_headers,
        EMPTY_SHA256,
    );
    let (signature, _) = signature(params, &amz_date, &cr);
    let base = url.split_once('?').map_or(url, |(b, _)| b);
    Ok(format!("{base}?{full_query}&X-Amz-Signature={signature}"))
}
