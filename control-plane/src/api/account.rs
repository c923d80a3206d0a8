//! GetAccount and UpdateAccount: account-wide settings (the account-level throttle).

use axum::extract::State;
use axum::Json;
use sqlx::types::Json as SqlJson;
use sqlx::PgConnection;

use super::extract::AwsJson;
use crate::error::{ApiError, ApiResult};
use crate::patch::PatchRequest;
use crate::store;
use crate::wire::Account;
use crate::AppState;

/// The account document, or the defaults when never updated.
pub async fn load_account(conn: &mut PgConnection) -> ApiResult<Account> {
    let row: Option<(SqlJson<Account>,)> = sqlx::query_as("SELECT doc FROM account WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0 .0).unwrap_or_default())
}

/// GET /account
pub async fn get(State(state): State<AppState>) -> ApiResult<Json<Account>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(load_account(&mut conn).await?))
}

/// PATCH /account
pub async fn update(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Account>> {
    let mut tx = state.db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(1)")
        .execute(&mut *tx)
        .await?;
    let mut account = load_account(&mut tx).await?;
    for op in &req.patch_operations {
        match op
            .segments()?
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["cloudwatchRoleArn"] => op.apply_opt_string(&mut account.cloudwatch_role_arn)?,
            ["throttleSettings", "rateLimit"] | ["throttle", "rateLimit"] => {
                account.throttle_settings.rate_limit = op.f64_value()?
            }
            ["throttleSettings", "burstLimit"] | ["throttle", "burstLimit"] => {
                account.throttle_settings.burst_limit = op.i32_value()?
            }
            ["features"] | ["features", _] => {
                let v = op.value()?.to_string();
                op.apply_list_element(&mut account.features, &v)?
            }
            _ => return Err(op.unsupported()),
        }
    }
    if account.throttle_settings.rate_limit < 0.0 || account.throttle_settings.burst_limit < 0 {
        return Err(ApiError::bad_request(
            "Account throttle limits must not be negative",
        ));
    }
    sqlx::query(
        "INSERT INTO account (id, doc) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(SqlJson(&account))
    .execute(&mut *tx)
    .await?;
    store::bump_config(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(account))
}
