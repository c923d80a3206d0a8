//! Splitting a compact JWS into its parts, before any verification.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::JwtError;

/// A token's parts, decoded but not verified.
pub(crate) struct Unverified<'a> {
    /// The header's `alg`, as written.
    pub(crate) alg: String,
    /// The header's `kid`.
    pub(crate) kid: Option<String>,
    /// The payload.
    pub(crate) claims: Map<String, Value>,
    /// `header.payload`, what the signature covers.
    pub(crate) signing_input: &'a str,
    /// The signature, base64url.
    pub(crate) signature: &'a str,
}

/// `value` less a leading `Bearer ` (any case) and surrounding whitespace.
pub(crate) fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    }
}

fn malformed(what: &str) -> JwtError {
    JwtError::Malformed(what.to_string())
}

/// Decodes the header and payload of a compact JWS `header.payload.signature`.
pub(crate) fn split(token: &str) -> Result<Unverified<'_>, JwtError> {
    let Some((signing_input, signature)) = token.rsplit_once('.') else {
        return Err(malformed("not a JWT (expected header.payload.signature)"));
    };
    let Some((header, payload)) = signing_input.split_once('.') else {
        return Err(malformed("not a JWT (expected header.payload.signature)"));
    };
    if payload.contains('.') {
        return Err(malformed(
            "not a JWT (expected header.payload.signature; JWE is not supported)",
        ));
    }
    let header = decode_object(header).map_err(|e| malformed(&format!("header: {e}")))?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        _ => return Err(malformed("header: no alg")),
    };
    if header.contains_key("crit") {
        return Err(malformed(
            "header: critical extensions (crit) are not supported",
        ));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(malformed("header: kid is not a string")),
    };
    let claims = decode_object(payload).map_err(|e| malformed(&format!("payload: {e}")))?;
    Ok(Unverified {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

fn decode_object(segment: &str) -> Result<Map<String, Value>, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| format!("not base64url: {e}"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("not a JSON object".to_string()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn bearer_prefix() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer abc"), "abc");
        assert_eq!(strip_bearer("BEARER   abc "), "abc");
        assert_eq!(strip_bearer(" abc"), "abc");
        assert_eq!(strip_bearer("Bearerabc"), "Bearerabc");
        assert_eq!(strip_bearer("Bear"), "Bear");
        assert_eq!(strip_bearer("é"), "é");
        assert_eq!(strip_bearer("ééééééé"), "ééééééé");
    }

    #[test]
    fn splits() {
        let t = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"k"}"#),
            b64(r#"{"iss":"x"}"#)
        );
        let u = split(&t).unwrap();
        assert_eq!(u.alg, "RS256");
        assert_eq!(u.kid.as_deref(), Some("k"));
        assert_eq!(u.claims["iss"], "x");
        assert_eq!(u.signature, "c2ln");
        assert!(t.starts_with(u.signing_input));
    }

    #[test]
    fn malformed_tokens() {
        let h = b64(r#"{"alg":"RS256"}"#);
        let p = b64(r#"{"iss":"x"}"#);
        for bad in [
            String::new(),
            "abc".to_string(),
            "a.b".to_string(),
            format!("{h}.{p}.s.x"),
            format!("{h}.!!.s"),
            format!("{}.{p}.s", b64("[1]")),
            format!("{}.{p}.s", b64(r#"{"kid":"k"}"#)),
            format!("{}.{p}.s", b64(r#"{"alg":"RS256","kid":5}"#)),
            format!("{}.{p}.s", b64(r#"{"alg":"RS256","crit":["x"]}"#)),
            format!("{h}.{}.s", b64("not json")),
        ] {
            assert!(matches!(split(&bad), Err(JwtError::Malformed(_))), "{bad}");
        }
    }
}
