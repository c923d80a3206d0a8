//! The document as a JSON value: JSON or YAML text read into one tree (YAML's numeric and
//! boolean mapping keys, such as unquoted status codes, become strings), its dialect, its
//! base path, and typed reads of its members that fail saying where.

use serde_json::{Map, Value};

use super::ImportError;
use crate::export::Dialect;

/// Reads the body: JSON when it starts with `{`, YAML otherwise.
pub fn parse(body: &[u8]) -> Result<Value, ImportError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ImportError::Syntax(format!("the body is not UTF-8 text: {e}")))?;
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(ImportError::Empty);
    }
    let value = if text.starts_with('{') {
        serde_json::from_str::<Value>(text)
            .map_err(|e| ImportError::Syntax(format!("invalid JSON: {e}")))?
    } else {
        let mut yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| ImportError::Syntax(format!("invalid YAML: {e}")))?;
        yaml.apply_merge()
            .map_err(|e| ImportError::Syntax(format!("invalid YAML: {e}")))?;
        from_yaml(yaml).map_err(|e| ImportError::Syntax(format!("invalid YAML: {e}")))?
    };
    if !value.is_object() {
        return Err(ImportError::Syntax(
            "the document must be an object (an OpenAPI or Swagger definition)".into(),
        ));
    }
    Ok(value)
}

/// A YAML tree as JSON; scalar mapping keys become their text.
fn from_yaml(v: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{n} is not a number JSON can hold"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    other => return Err(format!("a mapping key must be a scalar, not {other:?}")),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => from_yaml(t.value)?,
    })
}

/// The document's dialect: `openapi: 3.0.x` or `swagger: "2.0"`.
pub fn dialect(doc: &Value) -> Result<Dialect, ImportError> {
    if let Some(v) = doc.get("openapi") {
        let version = scalar(v, "openapi")?;
        return if version == "3.0" || version.starts_with("3.0.") {
            Ok(Dialect::Oas30)
        } else {
            Err(invalid(
                "openapi",
                format!("unsupported OpenAPI version {version}: only 3.0.x and Swagger 2.0 are"),
            ))
        };
    }
    if let Some(v) = doc.get("swagger") {
        let version = scalar(v, "swagger")?;
        return if version == "2.0" {
            Ok(Dialect::Swagger)
        } else {
            Err(invalid(
                "swagger",
                format!("unsupported Swagger version {version}: only 2.0 is"),
            ))
        };
    }
    Err(invalid(
        "openapi",
        "not an OpenAPI 3.0 or Swagger 2.0 definition: it has neither an openapi nor a \
         swagger member",
    ))
}

/// The base path's segments: Swagger's `basePath`; in OpenAPI 3, as AWS documents it, the
/// default of the first `basePath` server variable, else the path of the first server's
/// URL (its variables replaced by their defaults).
pub fn base_path(doc: &Value, dialect: Dialect) -> Result<Vec<String>, ImportError> {
    let path = match dialect {
        Dialect::Swagger => match doc.get("basePath") {
            Some(v) => scalar(v, "basePath")?,
            None => String::new(),
        },
        Dialect::Oas30 => {
            let servers = match doc.get("servers") {
                Some(v) => array(v, "servers")?.as_slice(),
                None => &[],
            };
            let variable = servers.iter().enumerate().find_map(|(i, s)| {
                s.get("variables")
                    .and_then(|v| v.get("basePath"))
                    .map(|b| (i, b))
            });
            match (variable, servers.first()) {
                (Some((i, b)), _) => {
                    let at = format!("servers.{i}.variables.basePath.default");
                    scalar(b.get("default").unwrap_or(&Value::Null), &at)?
                }
                (None, Some(server)) => {
                    let url = scalar(server.get("url").unwrap_or(&Value::Null), "servers.0.url")?;
                    url_path(&substitute(&url, server.get("variables")))
                }
                (None, None) => String::new(),
            }
        }
    };
    Ok(path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// `url` with each `{name}` replaced by the default of server variable `name`.
fn substitute(url: &str, variables: Option<&Value>) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + end];
        if let Some(d) = variables
            .and_then(|v| v.get(name))
            .and_then(|v| v.get("default"))
            .and_then(Value::as_str)
        {
            out.push_str(d);
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The path of a URL (absolute or relative), without query or fragment.
fn url_path(url: &str) -> String {
    let after_host = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    after_host
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// An [`ImportError::Invalid`] at `at`.
pub fn invalid(at: &str, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        at: at.to_string(),
        message: message.into(),
    }
}

/// `{at}.{key}`, or `key` at the top.
pub fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// An object member.
pub fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, ImportError> {
    v.as_object()
        .ok_or_else(|| invalid(at, format!("expected an object, found {}", kind(v))))
}

/// An array member.
pub fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, ImportError> {
    v.as_array()
        .ok_or_else(|| invalid(at, format!("expected an array, found {}", kind(v))))
}

/// A string member; numbers and booleans are read as their text (YAML's `version: 1.0`,
/// `statusCode: 200`).
pub fn scalar(v: &Value, at: &str) -> Result<String, ImportError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(invalid(
            at,
            format!("expected a string, found {}", kind(other)),
        )),
    }
}

/// `o[key]` as a string, if present.
pub fn opt_string(
    o: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<String>, ImportError> {
    o.get(key)
        .filter(|v| !v.is_null())
        .map(|v| scalar(v, &join(at, key)))
        .transpose()
}

/// `o[key]` as a boolean, if present.
pub fn opt_bool(o: &Map<String, Value>, key: &str, at: &str) -> Result<Option<bool>, ImportError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(invalid(
            &join(at, key),
            format!("expected a boolean, found {}", kind(other)),
        )),
    }
}

/// `o[key]` as a 32-bit integer, if present.
pub fn opt_i32(o: &Map<String, Value>, key: &str, at: &str) -> Result<Option<i32>, ImportError> {
    let bad = |v: &Value| {
        invalid(
            &join(at, key),
            format!("expected an integer, found {}", kind(v)),
        )
    };
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| bad(v)),
        Some(v @ Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad(v)),
        Some(other) => Err(bad(other)),
    }
}

/// `o[key]` as a map of strings (`requestParameters`, `responseTemplates`, …).
pub fn string_map(
    o: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<std::collections::BTreeMap<String, String>, ImportError> {
    let Some(v) = o.get(key).filter(|v| !v.is_null()) else {
        return Ok(Default::default());
    };
    let at = join(at, key);
    object(v, &at)?
        .iter()
        .map(|(k, v)| Ok((k.clone(), scalar(v, &join(&at, k))?)))
        .collect()
}

/// `o[key]` as a list of strings.
pub fn string_list(
    o: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Vec<String>, ImportError> {
    let Some(v) = o.get(key).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let at = join(at, key);
    array(v, &at)?
        .iter()
        .enumerate()
        .map(|(i, v)| scalar(v, &join(&at, &i.to_string())))
        .collect()
}

/// What a JSON value is, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_yaml_read_alike() {
        let yaml = "openapi: 3.0.1\npaths:\n  /pets:\n    get:\n      responses:\n        200:\n          description: ok\n";
        let v = parse(yaml.as_bytes()).unwrap();
        assert_eq!(
            v["paths"]["/pets"]["get"]["responses"]["200"]["description"], "ok",
            "an unquoted status code is a string key"
        );
        assert_eq!(
            parse(br#" {"swagger": "2.0"} "#).unwrap(),
            json!({"swagger": "2.0"})
        );
        assert!(matches!(parse(b"  "), Err(ImportError::Empty)));
        assert!(matches!(parse(b"{\"a\": "), Err(ImportError::Syntax(_))));
        assert!(matches!(parse(b"a: [b"), Err(ImportError::Syntax(_))));
        assert!(matches!(parse(b"- a\n- b"), Err(ImportError::Syntax(_))));
    }

    #[test]
    fn dialects() {
        assert_eq!(
            dialect(&json!({"openapi": "3.0.1"})).unwrap(),
            Dialect::Oas30
        );
        assert_eq!(
            dialect(&json!({"swagger": "2.0"})).unwrap(),
            Dialect::Swagger
        );
        // YAML's unquoted `swagger: 2.0` is a number.
        let v = parse(b"swagger: 2.0\n").unwrap();
        assert_eq!(dialect(&v).unwrap(), Dialect::Swagger);
        assert!(dialect(&json!({"openapi": "3.1.0"})).is_err());
        assert!(dialect(&json!({"info": {}})).is_err());
    }

    #[test]
    fn base_paths() {
        let swagger = json!({"swagger": "2.0", "basePath": "/a/b/"});
        assert_eq!(base_path(&swagger, Dialect::Swagger).unwrap(), ["a", "b"]);
        let exported = json!({"servers": [{"url": "https://x.example/{basePath}",
            "variables": {"basePath": {"default": "prod"}}}]});
        assert_eq!(base_path(&exported, Dialect::Oas30).unwrap(), ["prod"]);
        let url = json!({"servers": [{"url": "https://{host}/v1/{stage}",
            "variables": {"host": {"default": "h"}, "stage": {"default": "beta"}}}]});
        assert_eq!(base_path(&url, Dialect::Oas30).unwrap(), ["v1", "beta"]);
        let relative = json!({"servers": [{"url": "/v2?x=1"}]});
        assert_eq!(base_path(&relative, Dialect::Oas30).unwrap(), ["v2"]);
        assert!(base_path(&json!({}), Dialect::Oas30).unwrap().is_empty());
        assert!(
            base_path(&json!({"servers": [{"url": "https://h"}]}), Dialect::Oas30)
                .unwrap()
                .is_empty()
        );
    }
}
