//! GetAccount and UpdateAccount: account-wide settings (the account-level throttle).

use axum::extract::State;
use axum::Json;

use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::patch::{Op, PatchOperation, PatchRequest};
use crate::store;
use crate::wire::Account;
use crate::AppState;

/// The account feature that usage plans need; API Gateway never turns it off again.
const USAGE_PLANS: &str = "UsagePlans";

/// Adds or removes an account feature (named by the value, or by the path's last segment).
fn apply_feature(op: &PatchOperation, features: &mut Vec<String>, name: &str) -> ApiResult<()> {
    if op.op == Op::Remove && name == USAGE_PLANS {
        return Err(ApiError::bad_request(
            "Usage Plans cannot be disabled once enabled",
        ));
    }
    op.apply_list_element(features, name)
}

/// GET /account
pub async fn get(State(state): State<AppState>) -> ApiResult<Json<Account>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::account::load(&mut conn).await?))
}

/// PATCH /account
pub async fn update(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Account>> {
    let mut tx = state.db.begin().await?;
    store::account::lock(&mut tx).await?;
    let mut account = store::account::load(&mut tx).await?;
    for op in &req.patch_operations {
        match op
            .segments()?
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            // The member is `cloudwatchRoleArn`; AWS's account:update reference spells the
            // path `/cloudWatchRoleArn`. Both are accepted.
            ["cloudwatchRoleArn"] | ["cloudWatchRoleArn"] => {
                op.apply_opt_string(&mut account.cloudwatch_role_arn)?
            }
            ["throttleSettings", "rateLimit"] | ["throttle", "rateLimit"] => {
                account.throttle_settings.rate_limit = op.f64_value()?
            }
            ["throttleSettings", "burstLimit"] | ["throttle", "burstLimit"] => {
                account.throttle_settings.burst_limit = op.i32_value()?
            }
            ["features"] => apply_feature(op, &mut account.features, op.value()?)?,
            ["features", name] => apply_feature(op, &mut account.features, name)?,
            _ => return Err(op.unsupported()),
        }
    }
    if account.throttle_settings.rate_limit < 0.0 || account.throttle_settings.burst_limit < 0 {
        return Err(ApiError::bad_request(
            "Account throttle limits must not be negative",
        ));
    }
    store::account::save(&mut tx, &account).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(account))
}
