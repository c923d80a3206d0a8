//! Request bodies checked against the `apigatewayv2` model's input shapes
//! (`tests/data/apigatewayv2-inputs.json`, extracted from botocore's model by
//! `tests/data/extract_v2_inputs.py`): member types, `enum`s, required members, nested
//! structures, lists and maps. A body that breaks them is a `BadRequestException` naming
//! the member, as the v2 service answers. Members the model does not know are dropped, so
//! what is stored is exactly the model's members.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

const MODEL: &str = include_str!("../../../tests/data/apigatewayv2-inputs.json");

fn operations() -> &'static Value {
    static OPS: OnceLock<Value> = OnceLock::new();
    OPS.get_or_init(|| {
        serde_json::from_str::<Value>(MODEL)
            .ok()
            .and_then(|v| v.get("operations").cloned())
            .unwrap_or(Value::Null)
    })
}

/// Checks `body` against the input shape of `operation` (`CreateRoute`, `UpdateStage`, ...)
/// and answers the model's members of it. `enforce_required` is false for updates, whose
/// members are all optional in practice (an update names only what changes).
pub fn check(
    operation: &str,
    body: &Value,
    enforce_required: bool,
) -> ApiResult<Map<String, Value>> {
    let spec = operations()
        .get(operation)
        .ok_or_else(|| ApiError::Internal(format!("no input shape for {operation}")))?;
    match check_value(spec, body, "", enforce_required)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request(
            "The request body must be a JSON object",
        )),
    }
}

fn type_error(path: &str, want: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid value at '{path}': expected {want}"))
}

fn check_value(spec: &Value, value: &Value, path: &str, required: bool) -> ApiResult<Value> {
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("string");
    match ty {
        "structure" => {
            let Value::Object(obj) = value else {
                return Err(type_error(path, "an object"));
            };
            let members = spec.get("members").and_then(Value::as_object);
            let mut out = Map::new();
            for (name, m) in members.into_iter().flatten() {
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                match obj.get(name) {
                    Some(Value::Null) | None => {
                        if required && m.get("required").and_then(Value::as_bool) == Some(true) {
                            return Err(ApiError::bad_request(format!(
                                "{child} is required and must not be empty"
                            )));
                        }
                    }
                    Some(v) => {
                        out.insert(name.clone(), check_value(m, v, &child, required)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        "list" => {
            let Value::Array(items) = value else {
                return Err(type_error(path, "a list"));
            };
            let member = spec.get("member").cloned().unwrap_or(Value::Null);
            items
                .iter()
                .enumerate()
                .map(|(i, v)| check_value(&member, v, &format!("{path}[{i}]"), required))
                .collect::<ApiResult<Vec<_>>>()
                .map(Value::Array)
        }
        "map" => {
            let Value::Object(obj) = value else {
                return Err(type_error(path, "a map"));
            };
            let vspec = spec.get("value").cloned().unwrap_or(Value::Null);
            let mut out = Map::new();
            for (k, v) in obj {
                out.insert(
                    k.clone(),
                    check_value(&vspec, v, &format!("{path}.{k}"), required)?,
                );
            }
            Ok(Value::Object(out))
        }
        "boolean" => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(type_error(path, "a boolean")),
        },
        "integer" | "long" => match value.as_i64() {
            Some(n) => {
                bounds(spec, n as f64, path)?;
                Ok(value.clone())
            }
            None => Err(type_error(path, "an integer")),
        },
        "double" | "float" => match value.as_f64() {
            Some(_) => Ok(value.clone()),
            None => Err(type_error(path, "a number")),
        },
        _ => {
            let Some(s) = value.as_str() else {
                return Err(type_error(path, "a string"));
            };
            if let Some(allowed) = spec.get("enum").and_then(Value::as_array) {
                if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                    let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    return Err(ApiError::bad_request(format!(
                        "Invalid value '{s}' at '{path}': must be one of [{}]",
                        names.join(", ")
                    )));
                }
            }
            Ok(value.clone())
        }
    }
}

fn bounds(spec: &Value, n: f64, path: &str) -> ApiResult<()> {
    let min = spec.get("min").and_then(Value::as_f64);
    let max = spec.get("max").and_then(Value::as_f64);
    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
        return Err(ApiError::bad_request(format!(
            "Invalid value {n} at '{path}': must be between {} and {}",
            min.map_or("-".into(), |m| m.to_string()),
            max.map_or("-".into(), |m| m.to_string())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_members_kept_unknown_dropped() {
        let m = check(
            "CreateRoute",
            &json!({"routeKey": "$connect", "authorizationType": "NONE", "bogus": 1}),
            true,
        )
        .unwrap();
        assert_eq!(m.get("routeKey"), Some(&json!("$connect")));
        assert!(m.get("bogus").is_none());
    }

    #[test]
    fn enums_types_and_required_refused_naming_the_member() {
        let e = check(
            "CreateRoute",
            &json!({"routeKey": "a", "authorizationType": "X"}),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("authorizationType"), "{e}");
        let e = check("CreateRoute", &json!({}), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("routeKey is required"), "{e}");
        assert!(check("UpdateRoute", &json!({}), false).is_ok());
        let e = check(
            "CreateStage",
            &json!({"stageName": "s", "defaultRouteSettings": {"throttlingBurstLimit": "x"}}),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("defaultRouteSettings.throttlingBurstLimit"),
            "{e}"
        );
    }
}
