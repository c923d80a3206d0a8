//! CreateDeployment, GetDeployment(s), UpdateDeployment, DeleteDeployment.
//!
//! Creating a deployment compiles the API into a snapshot that is stored once and never
//! changed; optionally it creates or re-points a stage in the same transaction.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};

use crate::openapi::DocumentedQuery;
use axum::http::StatusCode;
use axum::Json;
use prost::Message;
use serde::Deserialize;

use super::rules::{new_stage, validate_new_stage, validate_stage, CanaryInput};
use crate::compiler;
use crate::error::{ApiError, ApiResult};
use crate::extract::{embeds, AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::{now_epoch, random_id};
use crate::patch::PatchRequest;
use crate::store;
use crate::wire::Deployment;
use crate::AppState;

/// Body of CreateDeployment.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeployment {
    stage_name: Option<String>,
    stage_description: Option<String>,
    description: Option<String>,
    cache_cluster_enabled: Option<bool>,
    cache_cluster_size: Option<String>,
    variables: Option<BTreeMap<String, String>>,
    /// `DeploymentCanarySettings`: the new deployment becomes the canary of the stage
    /// (which must exist), instead of what the stage serves.
    canary_settings: Option<CanaryInput>,
    tracing_enabled: Option<bool>,
}

/// POST /restapis/{restapi_id}/deployments
pub async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(mut req): AwsJson<CreateDeployment>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    validate_new_stage(req.cache_cluster_size.as_deref(), req.stage_name.as_deref())?;
    let stage_name = req.stage_name.filter(|n| !n.is_empty());
    if req.canary_settings.is_some() && stage_name.is_none() {
        return Err(ApiError::bad_request(
            "A canary release deployment needs the stageName of an existing stage",
        ));
    }
    let mut tx = state.db.begin().await?;
    let api = store::rest_apis::load(&mut tx, &api_id, true).await?;
    let resources = store::resources::all(&mut tx, &api_id).await?;
    let id = random_id(6);
    let created = now_epoch();
    let (mut snapshot, summary) = compiler::compile(&api, &resources, &id, created)?;
    compiler::attach_api_items(
        &mut snapshot,
        &store::deployments::api_items(&mut tx, &api_id).await?,
    );
    snapshot.region = state.region.clone();
    snapshot.account_id = store::account_id().into();
    let deployment = Deployment {
        id,
        description: req.description,
        created_date: created,
        api_summary: Some(summary),
    };
    store::deployments::insert(&mut tx, &api_id, &deployment, &snapshot.encode_to_vec()).await?;
    if let Some(name) = stage_name {
        let mut stage = match store::stages::load(&mut tx, &api_id, &name, true).await? {
            // A canary release deployment: the stage keeps serving its deployment, the new
            // one serves the canary's share (AWS: the stage must exist).
            Some(mut s) if req.canary_settings.is_some() => {
                let canary = req.canary_settings.take().unwrap_or_default();
                s.canary_settings = Some(canary.into_settings(&deployment.id));
                s.last_updated_date = now_epoch();
                s
            }
            None if req.canary_settings.is_some() => {
                return Err(ApiError::bad_request(format!(
                    "Invalid stage identifier specified: a canary release deployment needs \
                     an existing stage, and '{name}' does not exist"
                )))
            }
            Some(mut s) => {
                s.deployment_id = deployment.id.clone();
                s.last_updated_date = now_epoch();
                s
            }
            None => {
                let mut s = new_stage(&name, &deployment.id);
                s.description = req.stage_description.clone();
                s
            }
        };
        if let Some(vars) = req.variables {
            stage.variables.extend(vars);
        }
        if let Some(c) = req.cache_cluster_enabled {
            stage.cache_cluster_enabled = c;
        }
        if req.cache_cluster_size.is_some() {
            stage.cache_cluster_size = req.cache_cluster_size;
        }
        if let Some(t) = req.tracing_enabled {
            stage.tracing_enabled = t;
        }
        super::rules::settle_cache_cluster(&mut stage);
        // Same rules as CreateStage/UpdateStage; an error drops `tx`, so nothing is kept.
        validate_stage(&stage)?;
        store::stages::save(&mut tx, &api_id, &stage).await?;
    }
    crate::audit::commit(tx).await?;
    tracing::info!(api_id = %api_id, deployment_id = %deployment.id, "deployment created");
    Ok((StatusCode::CREATED, Json(deployment)))
}

/// Drops the `apiSummary` unless the query embeds it (`embed=apisummary`).
fn summary_if_embedded(mut d: Deployment, query: Option<&str>) -> Deployment {
    if !embeds(query, "apisummary") {
        d.api_summary = None;
    }
    d
}

/// The `embed` query list of GetDeployment(s).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)] // describes the query; read by `extract::embeds`
pub struct EmbedParams {
    /// `apisummary`: include each deployment's `apiSummary` (repeated, or comma-separated).
    embed: Option<Vec<String>>,
}

/// GET /restapis/{restapi_id}/deployments, newest first. The model's GetDeployments has
/// no `embed`, and AWS lists deployments without their summaries; `embed=apisummary` is
/// honoured here as GetDeployment honours it.
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
    RawQuery(query): RawQuery,
    _: DocumentedQuery<EmbedParams>,
) -> ApiResult<Json<Page<Deployment>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let deployments = store::deployments::list(&mut conn, &api_id)
        .await?
        .into_iter()
        .map(|d| summary_if_embedded(d, query.as_deref()))
        .collect();
    Ok(Json(page.page(deployments)?))
}

/// GET /restapis/{restapi_id}/deployments/{deployment_id}: the `apiSummary` only with
/// `embed=apisummary` (the model's `embed` query list).
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    _: DocumentedQuery<EmbedParams>,
) -> ApiResult<Json<Deployment>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let d = store::deployments::load(&mut conn, &api_id, &id).await?;
    Ok(Json(summary_if_embedded(d, query.as_deref())))
}

/// PATCH /restapis/{restapi_id}/deployments/{deployment_id}: only the description changes;
/// the snapshot is immutable.
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Deployment>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, false).await?;
    let mut d = store::deployments::load(&mut tx, &api_id, &id).await?;
    for op in &req.patch_operations {
        match op
            .segments()?
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["description"] => op.apply_opt_string(&mut d.description)?,
            ["canarySettings", ..] => {
                return Err(ApiError::bad_request(
                    "A deployment has no canarySettings: a canary belongs to a stage \
                     (UpdateStage /canarySettings/...)",
                ))
            }
            _ => return Err(op.unsupported()),
        }
    }
    store::deployments::save_description(&mut tx, &api_id, &d).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(d))
}

/// DELETE /restapis/{restapi_id}/deployments/{deployment_id}: refused while a stage uses it.
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::deployments::load(&mut tx, &api_id, &id).await?;
    let names = store::stages::names_serving(&mut tx, &api_id, &id).await?;
    if !names.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Active stages pointing to this deployment must be moved or deleted (stages: {})",
            names.join(", ")
        )));
    }
    store::deployments::delete(&mut tx, &api_id, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
