//! apigatewayv2 selection expressions (`routeSelectionExpression`,
//! `templateSelectionExpression`, `routeResponseSelectionExpression`), parsed once when an
//! API is saved or a deployment compiled, evaluated per WebSocket message.
//!
//! The forms a WebSocket API accepts: `$request.body.{path}` (also braced,
//! `${request.body.{path}}`), where `{path}` is dot-separated JSON member names, and a
//! constant (`$default`, `\$default`, or any text without `$`). A message whose body is
//! not JSON, or lacks the member, selects nothing (the caller then uses `$default`); a
//! string member selects its text, a number or boolean its JSON text.
//!
//! An integration response's `templateSelectionExpression` may also read the integration's
//! answer ([`SelectionExpression::parse_response`]): `${integration.response.statuscode}`,
//! `${integration.response.header.X}` and `${integration.response.multivalueheader.X}`
//! (its values joined with `,`).

use serde_json::Value;

/// A parsed selection expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionExpression {
    /// `$request.body.a.b`: the members to walk.
    Body(Vec<String>),
    /// A fixed key (`$default`).
    Constant(String),
    /// `$integration.response.statuscode` (integration response templates only).
    StatusCode,
    /// `$integration.response.header.X` (lower-cased; integration responses only).
    ResponseHeader(String),
    /// `$integration.response.multivalueheader.X` (integration responses only).
    ResponseMultiHeader(String),
}

/// What an integration response's expression reads besides the message body.
#[derive(Debug, Clone, Copy)]
pub struct ResponseFacts<'a> {
    /// The integration's status code.
    pub status: u16,
    /// Its response headers (none for functions and MOCK).
    pub headers: Option<&'a http::HeaderMap>,
}

/// Why an expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid selection expression '{expr}': {reason}")]
pub struct SelectionError {
    expr: String,
    reason: &'static str,
}

impl SelectionExpression {
    /// Parses an expression (see the module doc for the forms).
    pub fn parse(expr: &str) -> Result<Self, SelectionError> {
        Self::parse_with(expr, false)
    }

    /// Parses an integration response's `templateSelectionExpression`: also
    /// `$integration.response.statuscode`, `.header.X` and `.multivalueheader.X`.
    pub fn parse_response(expr: &str) -> Result<Self, SelectionError> {
        Self::parse_with(expr, true)
    }

    fn parse_with(expr: &str, response: bool) -> Result<Self, SelectionError> {
        let err = |reason| SelectionError {
            expr: expr.to_string(),
            reason,
        };
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err(err("it is empty"));
        }
        if trimmed == "$default" || trimmed == "\\$default" {
            return Ok(Self::Constant("$default".into()));
        }
        let inner = if let Some(braced) = trimmed.strip_prefix("${") {
            braced
                .strip_suffix('}')
                .ok_or_else(|| err("a '${' is not closed by '}'"))?
        } else if let Some(bare) = trimmed.strip_prefix('$') {
            bare
        } else if trimmed.contains('$') {
            return Err(err("only $request.body.{path} and constants are supported"));
        } else {
            return Ok(Self::Constant(trimmed.to_string()));
        };
        if response {
            if inner == "integration.response.statuscode" {
                return Ok(Self::StatusCode);
            }
            let header_ok = |h: &str| {
                !h.is_empty() && http::header::HeaderName::from_bytes(h.as_bytes()).is_ok()
            };
            if let Some(h) = inner.strip_prefix("integration.response.header.") {
                return header_ok(h)
                    .then(|| Self::ResponseHeader(h.to_ascii_lowercase()))
                    .ok_or_else(|| err("a header name is expected"));
            }
            if let Some(h) = inner.strip_prefix("integration.response.multivalueheader.") {
                return header_ok(h)
                    .then(|| Self::ResponseMultiHeader(h.to_ascii_lowercase()))
                    .ok_or_else(|| err("a header name is expected"));
            }
        }
        let path = inner
            .strip_prefix("request.body.")
            .ok_or_else(|| err("only $request.body.{path} and constants are supported"))?;
        let members: Vec<String> = path.split('.').map(str::to_string).collect();
        let valid = |m: &String| {
            !m.is_empty()
                && m.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !members.iter().all(valid) {
            return Err(err(
                "a body path is member names (letters, digits, '_', '-') separated by '.'",
            ));
        }
        Ok(Self::Body(members))
    }

    /// The key a message body selects, `None` when it selects nothing.
    pub fn select(&self, body: &[u8]) -> Option<String> {
        self.select_response(body, None)
    }

    /// The key an integration response's expression selects: `body` is the client's
    /// message, `facts` the integration's answer (`None`: the request side, where the
    /// `integration.response` forms select nothing).
    pub fn select_response(&self, body: &[u8], facts: Option<ResponseFacts<'_>>) -> Option<String> {
        match self {
            Self::StatusCode => facts.map(|f| f.status.to_string()),
            Self::ResponseHeader(h) => facts
                .and_then(|f| f.headers)
                .and_then(|hs| hs.get(h.as_str()))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            Self::ResponseMultiHeader(h) => {
                let values: Vec<&str> = facts
                    .and_then(|f| f.headers)
                    .map(|hs| {
                        hs.get_all(h.as_str())
                            .iter()
                            .filter_map(|v| v.to_str().ok())
                            .collect()
                    })
                    .unwrap_or_default();
                (!values.is_empty()).then(|| values.join(","))
            }
            Self::Constant(c) => Some(c.clone()),
            Self::Body(path) => {
                let doc: Value = serde_json::from_slice(body).ok()?;
                let mut at = &doc;
                for m in path {
                    at = at.get(m)?;
                }
                match at {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(_) | Value::Bool(_) => Some(at.to_string()),
                    _ => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_paths_select_members() {
        let e = SelectionExpression::parse("$request.body.action").unwrap();
        assert_eq!(
            e.select(br#"{"action":"sendmessage"}"#).as_deref(),
            Some("sendmessage")
        );
        assert_eq!(e.select(br#"{"other":1}"#), None);
        assert_eq!(e.select(b"not json"), None);
        let e = SelectionExpression::parse("${request.body.a.b}").unwrap();
        assert_eq!(e.select(br#"{"a":{"b":7}}"#).as_deref(), Some("7"));
    }

    #[test]
    fn constants_and_refusals() {
        assert_eq!(
            SelectionExpression::parse("\\$default").unwrap(),
            SelectionExpression::Constant("$default".into())
        );
        assert!(SelectionExpression::parse("").is_err());
        assert!(SelectionExpression::parse("$request.header.x").is_err());
        assert!(SelectionExpression::parse("$request.body.").is_err());
        assert!(SelectionExpression::parse("${request.body.a").is_err());
        assert!(SelectionExpression::parse("${integration.response.statuscode}").is_err());
    }

    #[test]
    fn integration_response_forms() {
        let status =
            SelectionExpression::parse_response("${integration.response.statuscode}").unwrap();
        let mut headers = http::HeaderMap::new();
        headers.append("x-kind", "a".parse().unwrap());
        headers.append("x-kind", "b".parse().unwrap());
        let facts = ResponseFacts {
            status: 404,
            headers: Some(&headers),
        };
        assert_eq!(
            status.select_response(b"", Some(facts)).as_deref(),
            Some("404")
        );
        assert_eq!(status.select(b""), None);
        let h = SelectionExpression::parse_response("$integration.response.header.X-Kind").unwrap();
        assert_eq!(h.select_response(b"", Some(facts)).as_deref(), Some("a"));
        let m =
            SelectionExpression::parse_response("$integration.response.multivalueheader.x-kind")
                .unwrap();
        assert_eq!(m.select_response(b"", Some(facts)).as_deref(), Some("a,b"));
        let body = SelectionExpression::parse_response("$request.body.kind").unwrap();
        assert_eq!(
            body.select_response(br#"{"kind":"x"}"#, Some(facts))
                .as_deref(),
            Some("x")
        );
        assert!(SelectionExpression::parse_response("$integration.response.header.").is_err());
        assert!(SelectionExpression::parse_response("$integration.response.body.a").is_err());
    }
}
