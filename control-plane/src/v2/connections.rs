//! `GET /v2/apis/{apiId}/stages/{stageName}/connections` (our extension, not in AWS's
//! model): how many clients are connected to a WebSocket stage now, over every node,
//! `{"connectionCount": n}`. The nodes publish their per-stage counts in Redis
//! (`metering::websocket`), so this needs the control plane's `--redis-url`. A node killed
//! with SIGKILL drops out within the registry TTL (`--ws-registry-ttl`).

use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::store::v2::{self as store, kind, Key};
use crate::AppState;

/// The live connection count of a stage.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCount {
    /// Clients connected to the stage now, on every node.
    pub connection_count: i64,
}

/// GET /v2/apis/{apiId}/stages/{stageName}/connections
pub async fn count(
    State(state): State<AppState>,
    Path((api_id, stage_name)): Path<(String, String)>,
) -> ApiResult<Json<ConnectionCount>> {
    {
        let mut conn = state.db.acquire().await?;
        let api = store::load_api(&mut conn, &api_id, false).await?;
        if !super::is_websocket(&api) {
            return Err(ApiError::bad_request(
                "Connection counts are for WebSocket APIs only",
            ));
        }
        let key = Key {
            api: &api_id,
            kind: kind::STAGE,
            parent: "",
        };
        if store::load_item(&mut conn, key, &stage_name, false)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found(format!(
                "Invalid stage identifier specified {stage_name}"
            )));
        }
    }
    let metering = state.metering.as_ref().ok_or_else(|| {
        ApiError::bad_request("Connections are not counted: the control plane has no --redis-url")
    })?;
    let n = metering
        .ws_connection_count(&api_id, &stage_name)
        .await
        .map_err(|e| ApiError::Internal(format!("reading the live connection count: {e}")))?;
    Ok(Json(ConnectionCount {
        connection_count: n,
    }))
}
