//! CreateModel, GetModel(s), UpdateModel, DeleteModel and GetModelTemplate.
//!
//! A model is a JSON Schema draft-04 document named per API. Schemas are checked when
//! saved (valid JSON, a valid draft-04 schema, every `$ref` to another model of the API
//! naming one that exists), so a deployment never carries one the data plane cannot
//! compile. References use the URL form AWS uses:
//! `https://apigateway.amazonaws.com/restapis/{restapi_id}/models/{model_name}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store;
use crate::validate;
use crate::wire::{Model, MODEL_URL_PREFIX};
use crate::AppState;

/// Body of CreateModel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateModel {
    name: Option<String>,
    description: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
}

/// The `Template` shape of GetModelTemplate.
#[derive(Debug, Serialize)]
pub struct TemplateValue {
    /// The generated mapping template.
    pub value: String,
}

fn invalid_model(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid model specified: Validation Result: warnings : [], errors : [{reason}]"
    ))
}

/// Checks a model name (alphanumeric, as AWS requires).
fn validate_name(name: &str) -> ApiResult<()> {
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

/// Parses and checks a schema: JSON, a valid draft-04 schema, references resolvable to
/// models in `known` (names of the API's models).
fn check_schema(api_id: &str, schema: &str, known: &[String]) -> ApiResult<serde_json::Value> {
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
                "Invalid model referenced in model: {MODEL_URL_PREFIX}{api_id}/models/{name}"
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

/// POST /restapis/{restapi_id}/models
pub async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateModel>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let name = req
        .name
        .ok_or_else(|| ApiError::bad_request("Model name must be specified"))?;
    validate_name(&name)?;
    let content_type = req
        .content_type
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("Content type must be specified"))?;
    validate::content_type(&content_type)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let known: Vec<String> = store::models::all(&mut tx, &api_id)
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();
    if known.contains(&name) {
        return Err(ApiError::conflict(
            "Model name already exists for this REST API",
        ));
    }
    if let Some(schema) = &req.schema {
        check_schema(&api_id, schema, &known)?;
    }
    let model = Model {
        id: random_id(6),
        name,
        description: req.description,
        schema: req.schema,
        content_type,
    };
    store::models::insert(&mut tx, &api_id, &model).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(model)))
}

/// GET /restapis/{restapi_id}/models
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<Model>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        page.page(store::models::all(&mut conn, &api_id).await?)?,
    ))
}

/// GET /restapis/{restapi_id}/models/{model_name}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<Model>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        store::models::load(&mut conn, &api_id, &name, false).await?,
    ))
}

/// PATCH /restapis/{restapi_id}/models/{model_name}: `/schema` and `/description`.
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Model>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut model = store::models::load(&mut tx, &api_id, &name, true).await?;
    for op in &req.patch_operations {
        match op.path()? {
            "/schema" => op.apply_opt_string(&mut model.schema)?,
            "/description" => op.apply_opt_string(&mut model.description)?,
            _ => return Err(op.unsupported()),
        }
    }
    if let Some(schema) = &model.schema {
        let known: Vec<String> = store::models::all(&mut tx, &api_id)
            .await?
            .into_iter()
            .map(|m| m.name)
            .collect();
        let value = check_schema(&api_id, schema, &known)?;
        if referenced_models(&api_id, &value).contains(&model.name) {
            return Err(invalid_model(format!(
                "Invalid model specified: model {} references itself",
                model.name
            )));
        }
    }
    store::models::save(&mut tx, &api_id, &name, &model).await?;
    tx.commit().await?;
    Ok(Json(model))
}

/// DELETE /restapis/{restapi_id}/models/{model_name}: refused while a method or another
/// model refers to it.
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::models::load(&mut tx, &api_id, &name, true).await?;
    for r in store::resources::all(&mut tx, &api_id).await? {
        for (m, method) in &r.methods {
            let in_request = method.request_models.values().any(|n| *n == name);
            let in_response = method
                .method_responses
                .values()
                .any(|resp| resp.response_models.values().any(|n| *n == name));
            if in_request || in_response {
                return Err(ApiError::conflict(format!(
                    "Cannot delete model '{name}', is referenced in method: {}/{m}",
                    r.path
                )));
            }
        }
    }
    for other in store::models::all(&mut tx, &api_id).await? {
        let refs = other
            .schema
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .map(|v| referenced_models(&api_id, &v))
            .unwrap_or_default();
        if other.name != name && refs.contains(&name) {
            return Err(ApiError::conflict(format!(
                "Cannot delete model '{name}', is referenced in model: {}",
                other.name
            )));
        }
    }
    store::models::delete(&mut tx, &api_id, &name).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// GET /restapis/{restapi_id}/models/{model_name}/default_template: a mapping template
/// that copies a body of the model's shape, as AWS generates it.
pub async fn template(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<TemplateValue>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let models = store::models::all(&mut conn, &api_id).await?;
    let model = models
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(store::models::model_not_found)?;
    let schema: serde_json::Value = model
        .schema
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Model '{name}' has no JSON schema to generate a template from"
            ))
        })?;
    let resolve = |reference: &str| -> Option<serde_json::Value> {
        let target = model_ref_name(&api_id, reference)?;
        let m = models.iter().find(|m| m.name == target)?;
        serde_json::from_str(m.schema.as_deref()?).ok()
    };
    Ok(Json(TemplateValue {
        value: crate::schema_to_template::generate(&schema, &resolve),
    }))
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
    }

    #[test]
    fn schemas_are_checked_as_draft4_with_known_references() {
        let ok = r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object",
            "properties":{"age":{"type":"integer"}},"required":["age"]}"#;
        assert!(check_schema("abc", ok, &[]).is_ok());
        let err = check_schema("abc", "{not json", &[]).unwrap_err();
        assert!(err.to_string().starts_with("Invalid model specified"));
        let err = check_schema("abc", r#"{"type": 12}"#, &[]).unwrap_err();
        assert!(err.to_string().contains("Invalid model schema"), "{err}");
        let with_ref = r#"{"$ref":"https://apigateway.amazonaws.com/restapis/abc/models/Pet"}"#;
        let err = check_schema("abc", with_ref, &[]).unwrap_err();
        assert!(
            err.to_string().contains("Invalid model referenced"),
            "{err}"
        );
        assert!(check_schema("abc", with_ref, &["Pet".to_string()]).is_ok());
    }

    #[test]
    fn names_must_be_alphanumeric() {
        assert!(validate_name("CompareData").is_ok());
        assert!(validate_name("Compare-Data").is_err());
        assert!(validate_name("").is_err());
    }
}
