//! apigatewayv2 selection expressions (`routeSelectionExpression`,
//! `templateSelectionExpression`, `routeResponseSelectionExpression`), parsed once when an
//! API is saved or a deployment compiled, evaluated per WebSocket message.
//!
//! The forms a WebSocket API accepts: `$request.body.{path}` (also braced,
//! `${request.body.{path}}`), where `{path}` is dot-separated JSON member names, and a
//! constant (`$default`, `\$default`, or any text without `$`). A message whose body is
//! not JSON, or lacks the member, selects nothing (the caller then uses `$default`); a
//! string member selects its text, a number or boolean its JSON text.

use serde_json::Value;

/// A parsed selection expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionExpression {
    /// `$request.body.a.b`: the members to walk.
    Body(Vec<String>),
    /// A fixed key (`$default`).
    Constant(String),
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
        match self {
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
    }
}
