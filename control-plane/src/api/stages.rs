//! CreateStage, GetStage(s), UpdateStage, DeleteStage.
//!
//! A stage points at a deployment; re-pointing it (`replace /deploymentId`) is how a
//! rollback is done. Every change bumps the config version so nodes pick it up.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules::{
    check_canary_deployment, check_client_certificate, check_documentation_version, new_stage,
    settle_cache_cluster, validate_new_stage, validate_stage, CanaryInput,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::ids::now_epoch;
use crate::patch::{string_of, Op, PatchOperation, PatchRequest};
use crate::store;
use crate::wire::{MethodSetting, Stage};
use crate::AppState;

/// Body of CreateStage.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateStage {
    stage_name: Option<String>,
    deployment_id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    cache_cluster_enabled: bool,
    cache_cluster_size: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    documentation_version: Option<String>,
    canary_settings: Option<CanaryInput>,
    #[serde(default)]
    tracing_enabled: bool,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// POST /restapis/{restapi_id}/stages
pub async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateStage>,
) -> ApiResult<(StatusCode, Json<Stage>)> {
    let name = req.stage_name.unwrap_or_default();
    validate_new_stage(req.cache_cluster_size.as_deref(), Some(&name))?;
    let deployment_id = req
        .deployment_id
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::bad_request("deploymentId is required"))?;
    let mut stage = new_stage(&name, &deployment_id);
    stage.canary_settings = req.canary_settings.map(|c| c.into_settings(&deployment_id));
    stage.description = req.description;
    stage.cache_cluster_enabled = req.cache_cluster_enabled;
    stage.cache_cluster_size = req.cache_cluster_size;
    stage.variables = req.variables;
    stage.documentation_version = req.documentation_version.filter(|v| !v.is_empty());
    stage.tracing_enabled = req.tracing_enabled;
    stage.tags = req.tags;
    settle_cache_cluster(&mut stage);
    validate_stage(&stage)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::deployments::require(&mut tx, &api_id, &deployment_id).await?;
    check_canary_deployment(&mut tx, &api_id, &stage).await?;
    check_documentation_version(&mut tx, &api_id, stage.documentation_version.as_deref()).await?;
    if store::stages::load(&mut tx, &api_id, &name, false)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict("Stage already exists"));
    }
    store::stages::save(&mut tx, &api_id, &stage).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(stage)))
}

/// Query of GetStages.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StagesQuery {
    deployment_id: Option<String>,
}

/// GET /restapis/{restapi_id}/stages (not paged in AWS: `{"item": [...]}`).
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    crate::extract::AwsQuery(q): crate::extract::AwsQuery<StagesQuery>,
) -> ApiResult<Json<crate::extract::Page<Stage>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let items = store::stages::list(&mut conn, &api_id, q.deployment_id.as_deref()).await?;
    Ok(Json(crate::extract::Page {
        item: items,
        position: None,
    }))
}

/// GET /restapis/{restapi_id}/stages/{stage_name}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<Stage>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    store::stages::load(&mut conn, &api_id, &name, false)
        .await?
        .map(Json)
        .ok_or_else(store::stages::stage_not_found)
}

/// Applies a `/{resourcePath}/{METHOD}/{group}/{setting}` op to the method settings.
fn apply_method_setting(stage: &mut Stage, op: &PatchOperation, segs: &[String]) -> ApiResult<()> {
    let key = format!("{}/{}", segs[0].trim_start_matches('/'), segs[1]);
    if segs.len() == 2 {
        return match op.op {
            Op::Remove => {
                stage.method_settings.remove(&key);
                Ok(())
            }
            _ => Err(op.unsupported()),
        };
    }
    let inherited = stage
        .method_settings
        .get("*/*")
        .cloned()
        .unwrap_or_default();
    let s: &mut MethodSetting = stage.method_settings.entry(key).or_insert(inherited);
    let setting: Vec<&str> = segs[2..].iter().map(String::as_str).collect();
    match setting.as_slice() {
        ["metrics", "enabled"] => op.apply_bool(&mut s.metrics_enabled)?,
        ["logging", "loglevel"] => op.apply_string(&mut s.logging_level)?,
        ["logging", "dataTrace"] => op.apply_bool(&mut s.data_trace_enabled)?,
        ["throttling", "burstLimit"] => s.throttling_burst_limit = op.i32_value()?,
        ["throttling", "rateLimit"] => s.throttling_rate_limit = op.f64_value()?,
        ["caching", "enabled"] => op.apply_bool(&mut s.caching_enabled)?,
        ["caching", "ttlInSeconds"] => s.cache_ttl_in_seconds = op.i32_value()?,
        ["caching", "dataEncrypted"] => op.apply_bool(&mut s.cache_data_encrypted)?,
        ["caching", "requireAuthorizationForCacheControl"] => {
            op.apply_bool(&mut s.require_authorization_for_cache_control)?
        }
        ["caching", "unauthorizedCacheControlHeaderStrategy"] => {
            op.apply_string(&mut s.unauthorized_cache_control_header_strategy)?
        }
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

/// PATCH /restapis/{restapi_id}/stages/{stage_name}
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Stage>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut stage = store::stages::load(&mut tx, &api_id, &name, true)
        .await?
        .ok_or_else(store::stages::stage_not_found)?;
    for op in &req.patch_operations {
        let segs = op.segments()?;
        let names: Vec<&str> = segs.iter().map(String::as_str).collect();
        match names.as_slice() {
            // The canary, and promoting it (`copy` from `/canarySettings/...`): api/canary.rs.
            ["canarySettings", rest @ ..] => super::canary::apply(&mut stage, op, rest)?,
            ["deploymentId" | "variables"] if op.op == Op::Copy => {
                super::canary::copy(&mut stage, op)?
            }
            ["deploymentId"] => {
                op.apply_string(&mut stage.deployment_id)?;
                store::deployments::require(&mut tx, &api_id, &stage.deployment_id).await?;
            }
            ["description"] => op.apply_opt_string(&mut stage.description)?,
            ["cacheClusterEnabled"] => op.apply_bool(&mut stage.cache_cluster_enabled)?,
            ["cacheClusterSize"] => op.apply_opt_string(&mut stage.cache_cluster_size)?,
            ["tracingEnabled"] => op.apply_bool(&mut stage.tracing_enabled)?,
            ["clientCertificateId"] => op.apply_opt_string(&mut stage.client_certificate_id)?,
            ["documentationVersion"] => {
                op.apply_opt_string(&mut stage.documentation_version)?;
                if stage.documentation_version.as_deref() == Some("") {
                    stage.documentation_version = None;
                }
                check_documentation_version(
                    &mut tx,
                    &api_id,
                    stage.documentation_version.as_deref(),
                )
                .await?;
            }
            ["variables", var] => op.apply_map_entry(&mut stage.variables, var, string_of)?,
            ["accessLogSettings"] if op.op == Op::Remove => stage.access_log_settings = None,
            ["accessLogSettings", "destinationArn"] => op.apply_opt_string(
                &mut stage
                    .access_log_settings
                    .get_or_insert_with(Default::default)
                    .destination_arn,
            )?,
            ["accessLogSettings", "format"] => op.apply_opt_string(
                &mut stage
                    .access_log_settings
                    .get_or_insert_with(Default::default)
                    .format,
            )?,
            [first, _, ..] if first.starts_with('/') || *first == "*" => {
                apply_method_setting(&mut stage, op, &segs)?
            }
            _ => return Err(op.unsupported()),
        }
    }
    // Removing both members leaves no settings at all, as `remove /accessLogSettings` does.
    if stage
        .access_log_settings
        .as_ref()
        .is_some_and(|a| a.destination_arn.is_none() && a.format.is_none())
    {
        stage.access_log_settings = None;
    }
    settle_cache_cluster(&mut stage);
    validate_stage(&stage)?;
    check_canary_deployment(&mut tx, &api_id, &stage).await?;
    check_client_certificate(&mut tx, stage.client_certificate_id.as_deref()).await?;
    stage.last_updated_date = now_epoch();
    store::stages::save(&mut tx, &api_id, &stage).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(stage))
}

/// DELETE /restapis/{restapi_id}/stages/{stage_name}
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::stages::delete(&mut tx, &api_id, &name).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

/// DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/authorizers
/// (FlushStageAuthorizersCache): every node forgets the stage's cached authorizer
/// decisions, its own and the cluster's.
pub async fn flush_authorizers_cache(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, false).await?;
    store::stages::flush_authorizer_cache(&mut tx, &api_id, &name).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

/// DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/data (FlushStageCache): a new
/// cache epoch for the stage, so every node stops serving the responses it cached (the
/// entries themselves expire in Redis with their TTL).
pub async fn flush_cache(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, false).await?;
    store::stages::flush_cache(&mut tx, &api_id, &name).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(path: &str, value: &str) -> PatchOperation {
        PatchOperation {
            op: Op::Replace,
            path: Some(path.into()),
            value: Some(value.into()),
            from: None,
        }
    }

    #[test]
    fn method_settings_patch_paths() {
        let mut s = new_stage("prod", "d1");
        let o = op("/*/*/throttling/rateLimit", "12.5");
        apply_method_setting(&mut s, &o, &o.segments().unwrap()).unwrap();
        let o = op("/~1pets~1{id}/GET/throttling/burstLimit", "7");
        apply_method_setting(&mut s, &o, &o.segments().unwrap()).unwrap();
        assert_eq!(s.method_settings["*/*"].throttling_rate_limit, 12.5);
        let m = &s.method_settings["pets/{id}/GET"];
        assert_eq!(m.throttling_burst_limit, 7);
        assert_eq!(m.throttling_rate_limit, 12.5, "inherits */* when created");
        let o = op("/*/*/nope/x", "1");
        assert!(apply_method_setting(&mut s, &o, &o.segments().unwrap()).is_err());
    }

    #[test]
    fn stage_validation() {
        assert!(super::super::rules::validate_stage_name("prod_1").is_ok());
        assert!(super::super::rules::validate_stage_name("pr od").is_err());
        assert!(super::super::rules::validate_stage_name("").is_err());
        let mut s = new_stage("prod", "d");
        s.variables.insert("bad key".into(), "v".into());
        assert!(validate_stage(&s).is_err());
        let mut s = new_stage("prod", "d");
        s.variables.insert("host".into(), "example.com:8080".into());
        assert!(validate_stage(&s).is_ok());
        for (arn, format, ok) in [
            (
                "arn:aws:logs:us-east-1:1:log-group:g",
                "$context.requestId",
                true,
            ),
            (
                "arn:aws:firehose:us-east-1:1:deliverystream/amazon-apigateway-x",
                "$context.requestId",
                false,
            ),
            (
                "arn:aws:logs:us-east-1:1:log-group:g",
                "$context.extendedRequestId $context.identity.sourceIp",
                true,
            ),
            (
                "arn:aws:logs:us-east-1:1:log-group:g",
                "$context.requestId $context.nope",
                false,
            ),
            (
                "arn:aws:firehose:us-east-1:1:deliverystream/other",
                "$context.requestId",
                false,
            ),
            ("arn:aws:s3:::bucket", "$context.requestId", false),
            (
                "arn:aws:logs:us-east-1:1:log-group:g",
                "$context.status",
                false,
            ),
            (
                "arn:aws:logs:us-east-1:1:log-group:g",
                "$context.requestId\n$context.status",
                false,
            ),
        ] {
            let mut s = new_stage("prod", "d");
            s.access_log_settings = Some(crate::wire::AccessLogSettings {
                destination_arn: Some(arn.into()),
                format: Some(format.into()),
            });
            assert_eq!(validate_stage(&s).is_ok(), ok, "{arn} {format}");
        }
    }
}
