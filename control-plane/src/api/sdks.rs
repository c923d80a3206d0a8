//! GetSdkTypes, GetSdkType, GetSdk.
//!
//! This gateway generates no client SDKs: GetSdkTypes lists none, GetSdkType answers
//! NotFound for every id, and GetSdk (for an API stage that exists) answers a
//! `BadRequestException` that says so and names what is supported instead: GetExport's
//! OpenAPI 3.0 / Swagger 2.0 documents, from which any OpenAPI generator builds a client.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsQuery, Page, PageQuery};
use crate::store;
use crate::AppState;

/// The `SdkType` shape (none exist here; the type names the list's items).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkType {
    id: String,
    friendly_name: String,
    description: String,
}

/// The SDK types this gateway generates: none.
fn supported() -> Vec<SdkType> {
    Vec::new()
}

const INSTEAD: &str = "this gateway does not generate client SDKs (GetSdkTypes lists none); \
                       export the stage as OpenAPI with GetExport (export type oas30 or \
                       swagger) and generate a client from that document with an OpenAPI \
                       generator";

/// GET /sdktypes
pub async fn list(AwsQuery(page): AwsQuery<PageQuery>) -> ApiResult<Json<Page<SdkType>>> {
    Ok(Json(page.page(supported())?))
}

/// GET /sdktypes/{sdktype_id}
pub async fn get(Path(id): Path<String>) -> ApiResult<Json<SdkType>> {
    Err(ApiError::not_found(format!(
        "Invalid SDK type specified: {id}: {INSTEAD}"
    )))
}

/// GET /restapis/{restapi_id}/stages/{stage_name}/sdks/{sdk_type}
pub async fn generate(
    State(state): State<AppState>,
    Path((api_id, stage_name, sdk_type)): Path<(String, String, String)>,
) -> ApiResult<Json<()>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    store::stages::load(&mut conn, &api_id, &stage_name, false)
        .await?
        .ok_or_else(store::stages::stage_not_found)?;
    Err(ApiError::bad_request(format!(
        "Invalid SDK type '{sdk_type}': {INSTEAD}"
    )))
}
