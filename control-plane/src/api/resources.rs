//! CreateResource, GetResource(s), UpdateResource, DeleteResource.
//!
//! The tree is stored as rows with full paths; a path's uniqueness within the API is
//! exactly AWS's "unique among siblings" rule, and a subtree is every path below a prefix.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use sqlx::PgConnection;

use super::rules::resource;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store::{self, resources::ResourceRow};
use crate::wire::Resource;
use crate::AppState;

/// Body of CreateResource.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateResource {
    path_part: Option<String>,
}

/// Query of GetResource(s): paging plus `embed=methods`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ResourceQuery {
    limit: Option<String>,
    position: Option<String>,
    #[serde(default)]
    embed: Option<String>,
}

impl ResourceQuery {
    fn embed_methods(&self) -> bool {
        self.embed
            .as_deref()
            .is_some_and(|e| e.split(',').any(|p| p.trim() == "methods"))
    }
}

/// Checks that `part` may be added under `parent` (ignoring `except`, the resource being
/// moved or renamed): no child under a greedy segment, one variable segment per level,
/// no duplicate sibling.
async fn check_sibling_rules(
    conn: &mut PgConnection,
    api_id: &str,
    parent: &ResourceRow,
    part: &str,
    except: Option<&str>,
) -> ApiResult<()> {
    let siblings = store::resources::children(conn, api_id, &parent.id).await?;
    let others = siblings
        .iter()
        .filter(|(id, _)| Some(id.as_str()) != except)
        .filter_map(|(_, sib)| sib.as_deref());
    resource::child(parent.path_part.as_deref(), part, others)?;
    Ok(())
}

/// POST /restapis/{restapi_id}/resources/{parent_id}
pub async fn create(
    State(state): State<AppState>,
    Path((api_id, parent_id)): Path<(String, String)>,
    AwsJson(req): AwsJson<CreateResource>,
) -> ApiResult<(StatusCode, Json<Resource>)> {
    let part = req
        .path_part
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid path part: pathPart is required"))?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let parent = store::resources::load(&mut tx, &api_id, &parent_id, false).await?;
    check_sibling_rules(&mut tx, &api_id, &parent, &part, None).await?;
    let row = ResourceRow {
        id: random_id(6),
        parent_id: Some(parent.id.clone()),
        path: resource::child_path(&parent.path, &part),
        path_part: Some(part),
        methods: BTreeMap::new(),
    };
    store::resources::insert(&mut tx, &api_id, &row).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(row.to_wire(false))))
}

/// GET /restapis/{restapi_id}/resources
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<ResourceQuery>,
) -> ApiResult<Json<Page<Resource>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let embed = q.embed_methods();
    let rows = store::resources::all(&mut conn, &api_id).await?;
    let items = rows.iter().map(|r| r.to_wire(embed)).collect();
    let page = crate::extract::PageQuery {
        limit: q.limit,
        position: q.position,
    };
    Ok(Json(page.page(items)?))
}

/// GET /restapis/{restapi_id}/resources/{resource_id}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsQuery(q): AwsQuery<ResourceQuery>,
) -> ApiResult<Json<Resource>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let row = store::resources::load(&mut conn, &api_id, &id, false).await?;
    Ok(Json(row.to_wire(q.embed_methods())))
}

/// PATCH /restapis/{restapi_id}/resources/{resource_id}: rename (`/pathPart`) or move
/// (`/parentId`); the subtree's paths follow.
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Resource>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut row = store::resources::load(&mut tx, &api_id, &id, true).await?;
    if row.parent_id.is_none() && !req.patch_operations.is_empty() {
        return Err(ApiError::bad_request(
            "The root resource cannot be modified",
        ));
    }
    let old_path = row.path.clone();
    for op in &req.patch_operations {
        let segs = op.segments()?;
        match segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["pathPart"] => {
                let mut part = row.path_part.clone().unwrap_or_default();
                op.apply_string(&mut part)?;
                row.path_part = Some(part);
            }
            ["parentId"] => {
                let mut parent = row.parent_id.clone().unwrap_or_default();
                op.apply_string(&mut parent)?;
                row.parent_id = Some(parent);
            }
            _ => return Err(op.unsupported()),
        }
    }
    let part = row.path_part.clone().unwrap_or_default();
    let parent_id = row.parent_id.clone().unwrap_or_default();
    let parent = store::resources::load(&mut tx, &api_id, &parent_id, false).await?;
    if parent.path == old_path || parent.path.starts_with(&format!("{old_path}/")) {
        return Err(ApiError::bad_request(
            "A resource cannot be moved under itself or its own descendants",
        ));
    }
    check_sibling_rules(&mut tx, &api_id, &parent, &part, Some(&row.id)).await?;
    row.path = resource::child_path(&parent.path, &part);
    store::resources::move_subtree(&mut tx, &api_id, &row, &old_path).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(row.to_wire(false)))
}

/// DELETE /restapis/{restapi_id}/resources/{resource_id}: removes the subtree.
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let row = store::resources::load(&mut tx, &api_id, &id, true).await?;
    if row.parent_id.is_none() {
        return Err(ApiError::bad_request("Cannot delete root resource"));
    }
    store::resources::delete_subtree(&mut tx, &api_id, &row.path).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
