//! `GET /v2/apis/{apiId}/usage?startDate=YYYY-MM-DD&endDate=YYYY-MM-DD` (our extension, not
//! in AWS's model): a WebSocket API's metered usage by day and stage,
//! `{"items": [{"date", "stage", "messages", "connectionMinutes"}]}`, messages in 32 KB
//! units, exactly what is recorded for billing (`metering::websocket`).
//!
//! `GET /v2/apis/{apiId}/usage/export?startDate=&endDate=` (also ours) answers the same
//! figures as the billing CSV, `text/csv` with the header
//! `apiId,apiName,stage,day,messages,connectionMinutes` and one row per day and stage that
//! has usage, the rows of the JSON call in its order (day, then stage).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::extract::AwsQuery;
use crate::metering::websocket::WsUsage;
use crate::AppState;

/// The query of the usage calls: an inclusive range of UTC days.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageQuery {
    /// The first day, `YYYY-MM-DD` (UTC).
    start_date: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC), not before `startDate`.
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

/// The API (as stored) and its usage in the query's range: (day, stage) → (messages,
/// connection minutes). Bad or missing dates, a reversed range: BadRequestException.
async fn usage_in_range(
    state: &AppState,
    api_id: &str,
    q: UsageQuery,
) -> ApiResult<(Value, String, String, WsUsage)> {
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
    let api = super::load_api(state, api_id).await?;
    let metering = state.metering.as_ref().ok_or_else(|| {
        ApiError::bad_request("Usage is not metered: the control plane has no --redis-url")
    })?;
    let usage = metering
        .ws_usage(api_id, &start, &end)
        .await
        .map_err(|e| ApiError::Internal(format!("reading WebSocket usage: {e}")))?;
    Ok((api, start, end, usage))
}

/// GET /v2/apis/{apiId}/usage
pub async fn get(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    let (_, _, _, usage) = usage_in_range(&state, &api_id, q).await?;
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

/// GET /v2/apis/{apiId}/usage/export: the billing CSV (see the module docs).
pub async fn export(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<UsageQuery>,
) -> ApiResult<Response> {
    let (api, start, end, usage) = usage_in_range(&state, &api_id, q).await?;
    let name = api.get("name").and_then(Value::as_str).unwrap_or_default();
    let body = csv_of(&api_id, name, &usage)?;
    let disposition = format!("attachment; filename=\"ws-usage-{api_id}-{start}-{end}.csv\"");
    Ok((
        [
            (CONTENT_TYPE, "text/csv".to_string()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The CSV of one API's usage (quoted where a field needs it, by the `csv` crate).
fn csv_of(api_id: &str, api_name: &str, usage: &WsUsage) -> ApiResult<Vec<u8>> {
    let csv_err = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "apiId",
        "apiName",
        "stage",
        "day",
        "messages",
        "connectionMinutes",
    ])
    .map_err(csv_err)?;
    for ((day, stage), (messages, minutes)) in usage {
        w.write_record([
            api_id,
            api_name,
            stage.as_str(),
            day.as_str(),
            &messages.to_string(),
            &minutes.to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_the_usage_with_names_escaped() {
        let mut usage = WsUsage::new();
        usage.insert(("2026-12-02".into(), "prod".into()), (7, 3));
        usage.insert(("2026-12-01".into(), "dev".into()), (1, 0));
        let csv = csv_of("abc123", "chat, \"main\"", &usage).expect("csv");
        assert_eq!(
            String::from_utf8(csv).expect("UTF-8"),
            "apiId,apiName,stage,day,messages,connectionMinutes\n\
             abc123,\"chat, \"\"main\"\"\",dev,2026-12-01,1,0\n\
             abc123,\"chat, \"\"main\"\"\",prod,2026-12-02,7,3\n"
        );
    }
}
