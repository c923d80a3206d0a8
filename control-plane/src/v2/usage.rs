//! `GET /v2/apis/{apiId}/usage?startDate=YYYY-MM-DD&endDate=YYYY-MM-DD` (our extension, not
//! in AWS's model): a WebSocket API's metered usage by day and stage,
//! `{"items": [{"date", "stage", "messages", "connectionMinutes"}]}`, messages in 32 KB
//! units, exactly what is recorded for billing (`metering::websocket`).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::AwsQuery;
use crate::AppState;

/// The query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageQuery {
    start_date: Option<String>,
    end_date: Option<String>,
}

/// GET /v2/apis/{apiId}/usage
pub async fn get(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<UsageQuery>,
) -> ApiResult<Json<Value>> {
    let day = |v: Option<String>, name: &str| -> ApiResult<String> {
        let v =
            v.ok_or_else(|| ApiError::bad_request(format!("{name} is required (YYYY-MM-DD)")))?;
        crate::metering::parse_day(&v).ok_or_else(|| {
            ApiError::bad_request(format!("Invalid {name} '{v}': use YYYY-MM-DD"))
        })?;
        Ok(v)
    };
    let start = day(q.start_date, "startDate")?;
    let end = day(q.end_date, "endDate")?;
    if start > end {
        return Err(ApiError::bad_request("startDate must not be after endDate"));
    }
    super::load_api(&state, &api_id).await?;
    let metering = state.metering.as_ref().ok_or_else(|| {
        ApiError::bad_request("Usage is not metered: the control plane has no --redis-url")
    })?;
    let usage = metering
        .ws_usage(&api_id, &start, &end)
        .await
        .map_err(|e| ApiError::Internal(format!("reading WebSocket usage: {e}")))?;
    let items: Vec<Value> = usage
        .into_iter()
        .map(|((date, stage), (messages, minutes))| {
            json!({"date": date, "stage": stage, "messages": messages, "connectionMinutes": minutes})
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
