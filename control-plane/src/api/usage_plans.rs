//! Create/Get(s)/Update/DeleteUsagePlan and Create/Get(s)/DeleteUsagePlanKey.
//!
//! A plan covers API stages and limits each of its keys: a per-key token bucket
//! (`throttle`), per-key per-method buckets (`apiStages[].throttle`, keyed
//! `/{resourcePath}/{METHOD}`) and a quota per DAY/WEEK/MONTH. A key may be in at most one
//! plan per API stage (ConflictException otherwise), so a request resolves to one plan.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use sqlx::PgConnection;

use crate::constraints::{self, Violations};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::random_id;
use crate::patch::{Op, PatchOperation, PatchRequest};
use crate::store;
use crate::store::usage_plans::PlanKeyRow;
use crate::wire::{ApiStage, QuotaSettings, ThrottleSettings, UsagePlan, UsagePlanKey};
use crate::AppState;
use apigw_quota::Period;

/// Body of CreateUsagePlan.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUsagePlan {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    api_stages: Vec<ApiStage>,
    throttle: Option<ThrottleSettings>,
    quota: Option<QuotaSettings>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Query of GetUsagePlans.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    key_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Body of CreateUsagePlanKey.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanKey {
    key_id: Option<String>,
    key_type: Option<String>,
}

/// Query of GetUsagePlanKeys.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct KeysQuery {
    name: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Normalises a per-method throttle key to `/{resourcePath}/{METHOD}` (`/GET` for the root).
pub fn method_key(raw: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::bad_request(format!(
            "Invalid method throttle key '{raw}': expected /{{resourcePath}}/{{HTTP method}}"
        ))
    };
    let (path, method) = raw.rsplit_once('/').ok_or_else(bad)?;
    if !path.starts_with('/') && !path.is_empty() {
        return Err(bad());
    }
    const METHODS: &[&str] = &[
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "*",
    ];
    if !METHODS.contains(&method) {
        return Err(bad());
    }
    let path = path.trim_end_matches('/');
    if path.contains("//") {
        return Err(bad());
    }
    Ok(format!("{path}/{method}"))
}

fn validate_throttle(what: &str, t: &ThrottleSettings) -> ApiResult<()> {
    if !(t.rate_limit >= 0.0 && t.rate_limit.is_finite()) || t.burst_limit < 0 {
        return Err(ApiError::bad_request(format!(
            "{what}: rateLimit and burstLimit must not be negative"
        )));
    }
    Ok(())
}

/// Checks a plan's own fields and that its API stages exist.
async fn validate_plan(conn: &mut PgConnection, plan: &mut UsagePlan) -> ApiResult<()> {
    crate::validate::tags(&plan.tags)?;
    if plan.name.trim().is_empty() {
        return Err(ApiError::bad_request("Usage plan name must be non-empty"));
    }
    if let Some(t) = &plan.throttle {
        validate_throttle("Usage plan throttle", t)?;
    }
    if let Some(q) = &plan.quota {
        if Period::parse(&q.period).is_none() {
            return Err(ApiError::bad_request(format!(
                "Invalid quota period '{}': must be DAY, WEEK or MONTH",
                q.period
            )));
        }
        if q.limit <= 0 || q.limit > i64::from(i32::MAX) {
            return Err(ApiError::bad_request(
                "Quota limit must be a positive integer",
            ));
        }
        if q.offset < 0 || q.offset >= q.limit {
            return Err(ApiError::bad_request(
                "Quota offset must be at least 0 and less than the limit",
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for stage in &mut plan.api_stages {
        if !seen.insert((stage.api_id.clone(), stage.stage.clone())) {
            return Err(ApiError::conflict(format!(
                "API stage {}:{} appears twice in the usage plan",
                stage.api_id, stage.stage
            )));
        }
        store::stages::require(conn, &stage.api_id, &stage.stage).await?;
        let mut normalised = BTreeMap::new();
        for (k, t) in &stage.throttle {
            validate_throttle(&format!("Throttle of {k}"), t)?;
            normalised.insert(method_key(k)?, t.clone());
        }
        stage.throttle = normalised;
    }
    Ok(())
}

/// POST /usageplans
pub async fn create(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<CreateUsagePlan>,
) -> ApiResult<(StatusCode, Json<UsagePlan>)> {
    Violations::new()
        .enum_value(
            "quota.period",
            req.quota
                .as_ref()
                .map(|q| q.period.as_str())
                .filter(|p| !p.is_empty()),
            constraints::QUOTA_PERIOD_TYPE,
        )
        .finish()?;
    let mut plan = UsagePlan {
        id: random_id(6),
        name: req.name.unwrap_or_default(),
        description: req.description,
        api_stages: req.api_stages,
        throttle: req.throttle,
        quota: req.quota,
        product_code: None,
        tags: req.tags,
    };
    let mut tx = state.db.begin().await?;
    validate_plan(&mut tx, &mut plan).await?;
    store::usage_plans::save(&mut tx, &plan).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

/// GET /usageplans (`keyId`: only plans containing that key).
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(q): AwsQuery<ListQuery>,
) -> ApiResult<Json<Page<UsagePlan>>> {
    let mut conn = state.db.acquire().await?;
    if let Some(key) = &q.key_id {
        store::api_keys::load(&mut conn, key, false).await?;
    }
    let plans = store::usage_plans::list(&mut conn, q.key_id.as_deref()).await?;
    let page = q.page.page(plans)?;
    Ok(Json(page))
}

/// GET /usageplans/{usageplanId}
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<UsagePlan>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::usage_plans::load(&mut conn, &id, false).await?))
}

/// Splits `apiId:stage` (the apiStages patch value / path segment).
fn api_stage_of(s: &str) -> ApiResult<(String, String)> {
    match s.split_once(':') {
        Some((a, st)) if !a.is_empty() && !st.is_empty() => Ok((a.to_string(), st.to_string())),
        _ => Err(ApiError::bad_request(format!(
            "Invalid API stage '{s}': expected {{apiId}}:{{stageName}}"
        ))),
    }
}

fn apply_throttle_field(
    t: &mut ThrottleSettings,
    field: &str,
    op: &PatchOperation,
) -> ApiResult<()> {
    match (field, op.op) {
        ("rateLimit", Op::Add | Op::Replace) => t.rate_limit = op.f64_value()?,
        ("burstLimit", Op::Add | Op::Replace) => t.burst_limit = op.i32_value()?,
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

fn apply_plan_op(plan: &mut UsagePlan, op: &PatchOperation) -> ApiResult<()> {
    let segs = op.segments()?;
    let names: Vec<&str> = segs.iter().map(String::as_str).collect();
    match names.as_slice() {
        ["name"] => op.apply_string(&mut plan.name)?,
        ["description"] => op.apply_opt_string(&mut plan.description)?,
        ["productCode"] => op.apply_opt_string(&mut plan.product_code)?,
        ["throttle"] if op.op == Op::Remove => plan.throttle = None,
        ["throttle", field] => apply_throttle_field(
            plan.throttle.get_or_insert_with(Default::default),
            field,
            op,
        )?,
        ["quota"] if op.op == Op::Remove => plan.quota = None,
        ["quota", field] => {
            let q = plan.quota.get_or_insert_with(|| QuotaSettings {
                period: "DAY".into(),
                ..Default::default()
            });
            match (*field, op.op) {
                ("limit", Op::Add | Op::Replace) => q.limit = op.i32_value()?.into(),
                ("offset", Op::Add | Op::Replace) => q.offset = op.i32_value()?.into(),
                ("period", Op::Add | Op::Replace) => q.period = op.value()?.to_string(),
                _ => return Err(op.unsupported()),
            }
        }
        ["apiStages"] => {
            let (api_id, stage) = api_stage_of(op.value()?)?;
            match op.op {
                Op::Add => plan.api_stages.push(ApiStage {
                    api_id,
                    stage,
                    throttle: BTreeMap::new(),
                }),
                Op::Remove => {
                    let before = plan.api_stages.len();
                    plan.api_stages
                        .retain(|s| !(s.api_id == api_id && s.stage == stage));
                    if plan.api_stages.len() == before {
                        return Err(ApiError::not_found(format!(
                            "API stage {api_id}:{stage} is not in the usage plan"
                        )));
                    }
                }
                _ => return Err(op.unsupported()),
            }
        }
        ["apiStages", api_stage, "throttle", rest @ ..] if !rest.is_empty() => {
            let (api_id, stage) = api_stage_of(api_stage)?;
            let entry = plan
                .api_stages
                .iter_mut()
                .find(|s| s.api_id == api_id && s.stage == stage)
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "API stage {api_id}:{stage} is not in the usage plan"
                    ))
                })?;
            match rest {
                [path, method] if op.op == Op::Remove => {
                    let key = method_key(&format!("{path}/{method}"))?;
                    if entry.throttle.remove(&key).is_none() {
                        return Err(ApiError::not_found(format!(
                            "No throttle for {key} in API stage {api_id}:{stage}"
                        )));
                    }
                }
                [path, method, field] => {
                    let key = method_key(&format!("{path}/{method}"))?;
                    apply_throttle_field(entry.throttle.entry(key).or_default(), field, op)?;
                }
                _ => return Err(op.unsupported()),
            }
        }
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

/// PATCH /usageplans/{usageplanId}
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<UsagePlan>> {
    let mut tx = state.db.begin().await?;
    let mut plan = store::usage_plans::load(&mut tx, &id, true).await?;
    for op in &req.patch_operations {
        apply_plan_op(&mut plan, op)?;
    }
    validate_plan(&mut tx, &mut plan).await?;
    store::usage_plans::check_key_conflicts(&mut tx, &plan, None).await?;
    store::usage_plans::save(&mut tx, &plan).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(plan))
}

/// DELETE /usageplans/{usageplanId} (its key bindings go; usage records stay for billing).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::usage_plans::delete(&mut tx, &id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

/// POST /usageplans/{usageplanId}/keys
pub async fn create_key(
    State(state): State<AppState>,
    Path(plan_id): Path<String>,
    AwsJson(req): AwsJson<CreatePlanKey>,
) -> ApiResult<(StatusCode, Json<UsagePlanKey>)> {
    let key_id = req
        .key_id
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("keyId is required"))?;
    match req.key_type.as_deref() {
        Some("API_KEY") => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid keyType {other:?}: must be API_KEY"
            )))
        }
    }
    let mut tx = state.db.begin().await?;
    let mut out = store::usage_plans::bind_key(&mut tx, &plan_id, &key_id).await?;
    let (_, enc) = store::api_keys::load(&mut tx, &key_id, false).await?;
    out.value = Some(store::api_keys::decrypt(&state.keys, &enc)?);
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

fn wire_plan_key(state: &AppState, row: PlanKeyRow) -> ApiResult<UsagePlanKey> {
    let (id, doc, enc) = row;
    Ok(UsagePlanKey {
        id,
        key_type: "API_KEY".into(),
        name: doc.name,
        value: Some(store::api_keys::decrypt(&state.keys, &enc)?),
    })
}

/// GET /usageplans/{usageplanId}/keys (`name`: prefix of the key name).
pub async fn list_keys(
    State(state): State<AppState>,
    Path(plan_id): Path<String>,
    AwsQuery(q): AwsQuery<KeysQuery>,
) -> ApiResult<Json<Page<UsagePlanKey>>> {
    let mut conn = state.db.acquire().await?;
    let rows: Vec<PlanKeyRow> = store::usage_plans::keys(&mut conn, &plan_id, None)
        .await?
        .into_iter()
        .filter(|r| {
            q.name
                .as_ref()
                .is_none_or(|n| r.1.name.starts_with(n.as_str()))
        })
        .collect();
    let page = q.page.page(rows)?;
    let items = page
        .item
        .into_iter()
        .map(|r| wire_plan_key(&state, r))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(Page {
        item: items,
        position: page.position,
    }))
}

/// GET /usageplans/{usageplanId}/keys/{keyId}
pub async fn get_key(
    State(state): State<AppState>,
    Path((plan_id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<UsagePlanKey>> {
    let mut conn = state.db.acquire().await?;
    let row = store::usage_plans::keys(&mut conn, &plan_id, Some(&key_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(store::api_keys::key_not_found)?;
    Ok(Json(wire_plan_key(&state, row)?))
}

/// DELETE /usageplans/{usageplanId}/keys/{keyId}
pub async fn delete_key(
    State(state): State<AppState>,
    Path((plan_id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::usage_plans::load(&mut tx, &plan_id, false).await?;
    store::usage_plans::unbind_key(&mut tx, &plan_id, &key_id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(o: Op, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation {
            op: o,
            path: Some(path.into()),
            value: value.map(Into::into),
            from: None,
        }
    }

    #[test]
    fn method_keys_normalise() {
        assert_eq!(method_key("/pets/GET").unwrap(), "/pets/GET");
        assert_eq!(
            method_key("/pets/{id}/DELETE").unwrap(),
            "/pets/{id}/DELETE"
        );
        assert_eq!(method_key("//GET").unwrap(), "/GET");
        assert_eq!(method_key("/GET").unwrap(), "/GET");
        assert!(method_key("pets/GET").is_err());
        assert!(method_key("/pets/FETCH").is_err());
        assert!(method_key("GET").is_err());
    }

    #[test]
    fn plan_patch_paths() {
        let mut plan = UsagePlan {
            name: "p".into(),
            ..Default::default()
        };
        for o in [
            op(Op::Replace, "/throttle/rateLimit", Some("10.5")),
            op(Op::Replace, "/throttle/burstLimit", Some("20")),
            op(Op::Replace, "/quota/limit", Some("100")),
            op(Op::Replace, "/quota/period", Some("WEEK")),
            op(Op::Add, "/apiStages", Some("abc:prod")),
            op(
                Op::Replace,
                "/apiStages/abc:prod/throttle/~1pets/GET/rateLimit",
                Some("2"),
            ),
            op(
                Op::Replace,
                "/apiStages/abc:prod/throttle/~1pets/GET/burstLimit",
                Some("3"),
            ),
        ] {
            apply_plan_op(&mut plan, &o).unwrap();
        }
        let t = plan.throttle.as_ref().unwrap();
        assert_eq!((t.rate_limit, t.burst_limit), (10.5, 20));
        let q = plan.quota.as_ref().unwrap();
        assert_eq!((q.limit, q.period.as_str()), (100, "WEEK"));
        let m = &plan.api_stages[0].throttle["/pets/GET"];
        assert_eq!((m.rate_limit, m.burst_limit), (2.0, 3));
        apply_plan_op(
            &mut plan,
            &op(Op::Remove, "/apiStages/abc:prod/throttle/~1pets/GET", None),
        )
        .unwrap();
        assert!(plan.api_stages[0].throttle.is_empty());
        apply_plan_op(&mut plan, &op(Op::Remove, "/quota", None)).unwrap();
        assert!(plan.quota.is_none());
        apply_plan_op(&mut plan, &op(Op::Remove, "/apiStages", Some("abc:prod"))).unwrap();
        assert!(plan.api_stages.is_empty());
        assert!(apply_plan_op(&mut plan, &op(Op::Remove, "/apiStages", Some("abc:prod"))).is_err());
        assert!(apply_plan_op(&mut plan, &op(Op::Add, "/apiStages", Some("nocolon"))).is_err());
        assert!(apply_plan_op(&mut plan, &op(Op::Replace, "/nope", Some("1"))).is_err());
    }
}
