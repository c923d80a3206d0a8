//! Issuers from an authorizer's `providerARNs` entries.

use std::collections::HashMap;
use std::net::IpAddr;

/// A token issuer: the exact `iss` value its tokens carry and where its discovery document is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issuer {
    /// The issuer URL without a trailing slash (the `iss` a token must carry, modulo that slash).
    url: String,
}

/// Why a `providerARNs` entry names no usable issuer. The messages are meant for users (the
/// control plane shows them as they are).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    /// Empty entry.
    #[error("provider ARN is empty: expected a Cognito user pool ARN (arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID) or an issuer URL (https://...)")]
    Empty,
    /// `http://` with a host that is not loopback.
    #[error("issuer {0:?} uses http://, which is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost); use https://")]
    InsecureHttp(String),
    /// An `http(s)://` entry that is not a usable issuer URL.
    #[error("issuer URL {url:?} is invalid: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `arn:...:cognito-idp:...` entry that is not a user pool ARN.
    #[error("Cognito user pool ARN {arn:?} is invalid: {reason} (expected arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID)")]
    InvalidCognitoArn {
        /// The ARN as given.
        arn: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Neither an issuer URL nor a Cognito user pool ARN.
    #[error("provider ARN {0:?} is neither a Cognito user pool ARN (arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID) nor an issuer URL (https://...)")]
    Unrecognized(String),
}

impl Issuer {
    /// From an authorizer's `providerARNs` entry.
    ///
    /// - An issuer URL is used as it is (less a trailing slash): `https://...`, or `http://`
    ///   only when the host is loopback (127.0.0.0/8, `::1` or `localhost`). It must have a host
    ///   and no query, fragment or user info.
    /// - A Cognito user pool ARN `arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}`
    ///   maps to `overrides[arn]` when present (itself an issuer URL, checked as above), else to
    ///   `https://cognito-idp.{region}.amazonaws.com/{poolId}` as in AWS (`amazonaws.com.cn`
    ///   for the `aws-cn` partition). With an override, tokens must carry the override URL as
    ///   their `iss` (a local stand-in for the pool issues its own tokens).
    /// - Anything else is an [`IssuerError`] whose message can be shown to users.
    pub fn from_provider_arn(
        entry: &str,
        overrides: &HashMap<String, String>,
    ) -> Result<Issuer, IssuerError> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(IssuerError::Empty);
        }
        if has_scheme(entry, "https") || has_scheme(entry, "http") {
            return Issuer::from_url(entry);
        }
        if entry.starts_with("arn:") {
            return cognito_issuer(entry, overrides);
        }
        Err(IssuerError::Unrecognized(entry.to_string()))
    }

    /// From an issuer URL (the rules of [`Issuer::from_provider_arn`] for URLs).
    pub fn from_url(url: &str) -> Result<Issuer, IssuerError> {
        let url = url.trim();
        check_url(url)?;
        Ok(Issuer {
            url: normalize(url).to_string(),
        })
    }

    /// The issuer URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the issuer URL is `https://`.
    pub fn is_https(&self) -> bool {
        has_scheme(&self.url, "https")
    }

    /// Where the issuer's OpenID discovery document is.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.url)
    }

    /// Whether a token's `iss` names this issuer (a trailing slash on either side is ignored).
    pub fn matches_iss(&self, iss: &str) -> bool {
        normalize(iss) == self.url
    }
}

impl std::fmt::Display for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// `s` without trailing slashes.
pub(crate) fn normalize(s: &str) -> &str {
    s.trim_end_matches('/')
}

fn has_scheme(s: &str, scheme: &str) -> bool {
    s.len() >= scheme.len() + 3
        && s.is_char_boundary(scheme.len())
        && s[..scheme.len()].eq_ignore_ascii_case(scheme)
        && s[scheme.len()..].starts_with("://")
}

/// Checks an `http(s)://` URL for use as an issuer or a `jwks_uri`: a host, no user info,
/// query or fragment, and plain http only for loopback hosts.
pub(crate) fn check_url(url: &str) -> Result<(), IssuerError> {
    let invalid = |reason: &str| IssuerError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let https = has_scheme(url, "https");
    if !https && !has_scheme(url, "http") {
        return Err(invalid("expected an https:// URL"));
    }
    if url.contains('?') || url.contains('#') {
        return Err(invalid("an issuer URL has no query or fragment"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains whitespace"));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    let Some(authority) = uri.authority() else {
        return Err(invalid("it has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid("user info is not allowed"));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(invalid("it has no host"));
    }
    if !https && !is_loopback(host) {
        return Err(IssuerError::InsecureHttp(url.to_string()));
    }
    Ok(())
}

/// `localhost`, 127.0.0.0/8 or `::1` (`host` as in a URI: IPv6 in brackets).
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn cognito_issuer(arn: &str, overrides: &HashMap<String, String>) -> Result<Issuer, IssuerError> {
    let invalid = |reason: &str| IssuerError::InvalidCognitoArn {
        arn: arn.to_string(),
        reason: reason.to_string(),
    };
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (the resource may not hold ':').
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = parts[..] else {
        return Err(IssuerError::Unrecognized(arn.to_string()));
    };
    if service != "cognito-idp" {
        return Err(IssuerError::Unrecognized(arn.to_string()));
    }
    let domain = match partition {
        "aws" | "aws-us-gov" => "amazonaws.com",
        "aws-cn" => "amazonaws.com.cn",
        _ => {
            return Err(invalid(
                "unknown partition (expected aws, aws-cn or aws-us-gov)",
            ))
        }
    };
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid("the region is missing or invalid"));
    }
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("the account ID is missing or not numeric"));
    }
    let Some(pool_id) = resource.strip_prefix("userpool/") else {
        return Err(invalid("the resource is not userpool/POOL_ID"));
    };
    if pool_id.is_empty()
        || !pool_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(invalid("the user pool ID is missing or invalid"));
    }
    if let Some(url) = overrides.get(arn) {
        return Issuer::from_url(url);
    }
    Ok(Issuer {
        url: format!("https://cognito-idp.{region}.{domain}/{pool_id}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("LOCALHOST"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.8.9.10"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("128.0.0.1"));
        assert!(!is_loopback("[::2]"));
        assert!(!is_loopback("localhost.example.com"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn urls() {
        assert!(check_url("https://example.com/a").is_ok());
        assert!(check_url("HTTPS://example.com").is_ok());
        assert!(check_url("http://[::1]:8080/x").is_ok());
        assert!(matches!(
            check_url("http://example.com"),
            Err(IssuerError::InsecureHttp(_))
        ));
        assert!(check_url("https://example.com/?a=b").is_err());
        assert!(check_url("https://example.com/#f").is_err());
        assert!(check_url("https://user@example.com/").is_err());
        assert!(check_url("https:///path").is_err());
        assert!(check_url("https://exa mple.com/").is_err());
        assert!(check_url("ftp://example.com/").is_err());
    }

    #[test]
    fn iss_matching_ignores_trailing_slash() {
        let i = Issuer::from_url("https://idp.example.com/tenant/").unwrap();
        assert_eq!(i.url(), "https://idp.example.com/tenant");
        assert!(i.matches_iss("https://idp.example.com/tenant"));
        assert!(i.matches_iss("https://idp.example.com/tenant/"));
        assert!(!i.matches_iss("https://idp.example.com/tenant2"));
        assert!(i.is_https());
        assert!(!Issuer::from_url("http://localhost:1").unwrap().is_https());
        assert_eq!(
            i.discovery_url(),
            "https://idp.example.com/tenant/.well-known/openid-configuration"
        );
    }
}
