//! The rules of a model (CreateModel, UpdateModel, and every model an import writes): an
//! alphanumeric name, a draft-04 JSON Schema the engine compiles, `$ref`s only to models of
//! the same API, in the URL form AWS uses:
//! `https://apigateway.amazonaws.com/restapis/{restapi_id}/models/{model_name}`.

use crate::error::{ApiError, ApiResult};
use crate::wire::MODEL_URL_PREFIX;

/// AWS's wording for a refused model.
pub fn invalid_model(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid model specified: Validation Result: warnings : [], errors : [{reason}]"
    ))
}

/// Checks a model name (alphanumeric, as AWS requires).
pub fn name(name: &str) -> ApiResult<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::bad_request(format!(
            "Invalid model name specified: '{name}': model names must be alphanumeric"
        )));
    }
    Ok(())
}

/// The model names a schema references (`$ref` URLs of this API's models), in order.
pub fn referenced_models(api_id: &str, schema: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_refs(api_id, schema, &mut out);
    out
}

fn collect_refs(api_id: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(name) = child.as_str().and_then(|r| model_ref_name(api_id, r)) {
                        if !out.iter().any(|n| n == name) {
                            out.push(name.to_string());
                        }
                    }
                } else {
                    collect_refs(api_id, child, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_refs(api_id, i, out)),
        _ => {}
    }
}

/// The model name of a `$ref` URL pointing at a model of `api_id` (fragment ignored).
pub fn model_ref_name<'a>(api_id: &str, reference: &'a str) -> Option<&'a str> {
    let rest = reference.strip_prefix(MODEL_URL_PREFIX)?;
    let rest = rest.strip_prefix(api_id)?.strip_prefix("/models/")?;
    let name = rest.split('#').next()?;
    (!name.is_empty()).then_some(name)
}

/// The `$ref` URL of model `name` of `api_id`.
pub fn model_url(api_id: &str, name: &str) -> String {
    format!("{MODEL_URL_PREFIX}{api_id}/models/{name}")
}

/// Parses and checks a schema: JSON, a valid draft-04 schema, references resolvable to
/// models in `known` (names of the API's models).
pub fn schema(api_id: &str, schema: &str, known: &[String]) -> ApiResult<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(schema)
        .map_err(|e| invalid_model(format!("Invalid model schema specified: {e}")))?;
    if !value.is_object() {
        return Err(invalid_model(
            "Invalid model schema specified: the schema must be a JSON object",
        ));
    }
    if let Err(e) = jsonschema::draft4::meta::validate(&value) {
        return Err(invalid_model(format!(
            "Invalid model schema specified: {e} at {}",
            e.instance_path()
        )));
    }
    for name in referenced_models(api_id, &value) {
        if !known.contains(&name) {
            return Err(invalid_model(format!(
                "Invalid model referenced in model: {}",
                model_url(api_id, &name)
            )));
        }
    }
    // Compiled as a node compiles it; references are resolved when deployed, so here they
    // point at permissive stand-ins for the (known) models they name.
    let stand_ins = known
        .iter()
        .map(|name| (name.clone(), serde_json::json!({})))
        .collect();
    apigw_gateway::compile::validation::compile_schema(api_id, "", &value, &stand_ins)
        .map_err(|e| invalid_model(format!("Invalid model schema specified: {e}")))?;
    Ok(value)
}

/// UpdateModel's rule: a model's schema may not reference the model itself.
pub fn not_self_referencing(api_id: &str, name: &str, schema: &serde_json::Value) -> ApiResult<()> {
    if referenced_models(api_id, schema).iter().any(|n| n == name) {
        return Err(invalid_model(format!(
            "Invalid model specified: model {name} references itself"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_found_by_api_url() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/Pet"},
                "b": {"items": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/Pet#/x"}},
                "c": {"$ref": "https://apigateway.amazonaws.com/restapis/other/models/Foo"},
                "d": {"$ref": "#/definitions/local"}
            }
        });
        assert_eq!(referenced_models("abc", &schema), vec!["Pet".to_string()]);
        assert!(not_self_referencing("abc", "Pet", &schema).is_err());
        assert!(not_self_referencing("abc", "Pets", &schema).is_ok());
    }

    #[test]
    fn schemas_are_checked_as_draft4_with_known_references() {
        let ok = r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object",
            "properties":{"age":{"type":"integer"}},"required":["age"]}"#;
        assert!(schema("abc", ok, &[]).is_ok());
        let err = schema("abc", "{not json", &[]).unwrap_err();
        assert!(err.to_string().starts_with("Invalid model specified"));
        let err = schema("abc", r#"{"type": 12}"#, &[]).unwrap_err();
        assert!(err.to_string().contains("Invalid model schema"), "{err}");
        let with_ref = r#"{"$ref":"https://apigateway.amazonaws.com/restapis/abc/models/Pet"}"#;
        let err = schema("abc", with_ref, &[]).unwrap_err();
        assert!(
            err.to_string().contains("Invalid model referenced"),
            "{err}"
        );
        assert!(schema("abc", with_ref, &["Pet".to_string()]).is_ok());
    }

    #[test]
    fn names_must_be_alphanumeric() {
        assert!(name("CompareData").is_ok());
        assert!(name("Compare-Data").is_err());
        assert!(name("").is_err());
    }
}
