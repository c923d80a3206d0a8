//! `GET /v2/apis/{apiId}/usage?startDate=YYYY-MM-DD&endDate=YYYY-MM-DD` (our extension, not
//! in AWS's model): a WebSocket API's metered usage by day and stage,
//! `{"items": [{"date", "stage", "messages", "connectionMinutes"}]}`, messages in 32 KB
//! units, exactly what is recorded for billing (`metering::websocket`).

use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::AwsQuery;
use crate::AppState;

/// The query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageQuery {
    /// The first day, `YYYY-MM-DD` (UTC), required.
    start_date: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC), required.
    end_date: Option<String>,
}

/// A WebSocket API's metered usage, by day and stage.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "WebSocketUsage")]
pub struct Usage {
    /// One entry per day and stage with usage, by day then stage.
    pub items: Vec<UsageDay>,
}

/// One day's usage of one stage.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "WebSocketUsageDay")]
pub struct UsageDay {
    /// The day, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The stage's name.
    pub stage: String,
    /// Messages to and from clients, in 32 KB units.
    pub messages: i64,
    /// Connection minutes, each connection's rounded up when it closed.
    pub connection_minutes: i64,
}

/// GET /v2/apis/{apiId}/usage
pub async fn get(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<UsageQuery>,
) -> ApiResult<Json<Usage>> {
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
    let items = usage
        .into_iter()
        .map(|((date, stage), (messages, connection_minutes))| UsageDay {
            date,
            stage,
            messages,
            connection_minutes,
        })
        .collect();
    Ok(Json(Usage { items }))
}
