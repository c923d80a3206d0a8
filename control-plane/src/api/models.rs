//! CreateModel, GetModel(s), UpdateModel, DeleteModel and GetModelTemplate.
//!
//! A model is a JSON Schema draft-04 document named per API. Schemas are checked when
//! saved (valid JSON, a valid draft-04 schema, every `$ref` to another model of the API
//! naming one that exists), so a deployment never carries one the data plane cannot
//! compile. References use the URL form AWS uses:
//! `https://apigateway.amazonaws.com/restapis/{restapi_id}/models/{model_name}`. The rules
//! are [`rules::model`]'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::rules;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store;
use crate::validate;
use crate::wire::Model;
use crate::AppState;

/// Body of CreateModel.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateModel {
    name: Option<String>,
    description: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
}

/// The `Template` shape of GetModelTemplate.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TemplateValue {
    /// The generated mapping template.
    pub value: String,
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
    rules::model::name(&name)?;
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
        rules::model::schema(&api_id, schema, &known)?;
    }
    let model = Model {
        id: random_id(6),
        name,
        description: req.description,
        schema: req.schema,
        content_type,
    };
    store::models::insert(&mut tx, &api_id, &model).await?;
    crate::audit::commit(tx).await?;
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
        let value = rules::model::schema(&api_id, schema, &known)?;
        rules::model::not_self_referencing(&api_id, &model.name, &value)?;
    }
    store::models::save(&mut tx, &api_id, &name, &model).await?;
    crate::audit::commit(tx).await?;
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
            .map(|v| rules::model::referenced_models(&api_id, &v))
            .unwrap_or_default();
        if other.name != name && refs.contains(&name) {
            return Err(ApiError::conflict(format!(
                "Cannot delete model '{name}', is referenced in model: {}",
                other.name
            )));
        }
    }
    store::models::delete(&mut tx, &api_id, &name).await?;
    crate::audit::commit(tx).await?;
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
        let target = rules::model::model_ref_name(&api_id, reference)?;
        let m = models.iter().find(|m| m.name == target)?;
        serde_json::from_str(m.schema.as_deref()?).ok()
    };
    Ok(Json(TemplateValue {
        value: crate::schema_to_template::generate(&schema, &resolve),
    }))
}
