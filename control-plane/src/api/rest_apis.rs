//! CreateRestApi, GetRestApi(s), UpdateRestApi, DeleteRestApi.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules;
use crate::constraints::{self, Violations};
use crate::error::ApiResult;
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::{now_epoch, random_id};
use crate::patch::{Op, PatchRequest};
use crate::store::{self, resources::ResourceRow};
use crate::wire::{EndpointConfiguration, RestApi};
use crate::AppState;

/// Body of CreateRestApi.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestApi {
    name: Option<String>,
    description: Option<String>,
    version: Option<String>,
    clone_from: Option<String>,
    #[serde(default)]
    binary_media_types: Vec<String>,
    minimum_compression_size: Option<i32>,
    api_key_source: Option<String>,
    endpoint_configuration: Option<EndpointConfiguration>,
    policy: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    disable_execute_api_endpoint: bool,
}

/// POST /restapis
pub async fn create(
    State(state): State<AppState>,
    AwsJson(req): AwsJson<CreateRestApi>,
) -> ApiResult<(StatusCode, Json<RestApi>)> {
    Violations::new()
        .enum_value(
            "apiKeySource",
            req.api_key_source.as_deref(),
            constraints::API_KEY_SOURCE_TYPE,
        )
        .enum_list(
            "endpointConfiguration.types",
            req.endpoint_configuration
                .as_ref()
                .map_or(&[][..], |e| &e.types[..]),
            constraints::ENDPOINT_TYPE,
        )
        .finish()?;
    let api = RestApi {
        id: random_id(10),
        name: req.name.unwrap_or_default(),
        description: req.description,
        created_date: now_epoch(),
        version: req.version,
        binary_media_types: req.binary_media_types,
        minimum_compression_size: req.minimum_compression_size,
        api_key_source: req.api_key_source.unwrap_or_else(|| "HEADER".into()),
        endpoint_configuration: req.endpoint_configuration.unwrap_or(EndpointConfiguration {
            types: vec!["EDGE".into()],
        }),
        policy: req.policy,
        tags: req.tags,
        disable_execute_api_endpoint: req.disable_execute_api_endpoint,
        root_resource_id: random_id(10),
    };
    rules::rest_api::rest_api(&api)?;
    let mut tx = state.db.begin().await?;
    let source = match &req.clone_from {
        Some(src) => {
            store::rest_apis::load(&mut tx, src, false).await?;
            Some(store::resources::all(&mut tx, src).await?)
        }
        None => None,
    };
    store::rest_apis::save(&mut tx, &api).await?;
    match source {
        Some(resources) => clone_resources(&mut tx, &api, resources).await?,
        None => {
            let root = ResourceRow {
                id: api.root_resource_id.clone(),
                parent_id: None,
                path_part: None,
                path: "/".into(),
                methods: BTreeMap::new(),
            };
            store::resources::insert(&mut tx, &api.id, &root).await?;
        }
    }
    match &req.clone_from {
        // A clone gets the source's models, validators and gateway responses.
        Some(src) => store::models::clone_api_items(&mut tx, src, &api.id).await?,
        // AWS gives every new API the `Empty` and `Error` models.
        None => store::models::insert_defaults(&mut tx, &api.id).await?,
    }
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(api)))
}

/// Copies another API's resource tree with fresh ids (`cloneFrom`).
async fn clone_resources(
    conn: &mut sqlx::PgConnection,
    api: &RestApi,
    resources: Vec<ResourceRow>,
) -> ApiResult<()> {
    let mut new_ids: HashMap<String, String> = HashMap::new();
    for r in &resources {
        let id = if r.parent_id.is_none() {
            api.root_resource_id.clone()
        } else {
            random_id(6)
        };
        new_ids.insert(r.id.clone(), id);
    }
    for r in resources {
        let row = ResourceRow {
            id: new_ids.get(&r.id).cloned().unwrap_or_default(),
            parent_id: r.parent_id.and_then(|p| new_ids.get(&p).cloned()),
            path_part: r.path_part,
            path: r.path,
            methods: r.methods,
        };
        store::resources::insert(conn, &api.id, &row).await?;
    }
    Ok(())
}

/// GET /restapis
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<RestApi>>> {
    let mut conn = state.db.acquire().await?;
    let apis = store::rest_apis::list(&mut conn).await?;
    Ok(Json(page.page(apis)?))
}

/// GET /restapis/{restapi_id}
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RestApi>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::rest_apis::load(&mut conn, &id, false).await?))
}

/// PATCH /restapis/{restapi_id}
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<RestApi>> {
    let mut tx = state.db.begin().await?;
    let mut api = store::rest_apis::load(&mut tx, &id, true).await?;
    for op in &req.patch_operations {
        let segs = op.segments()?;
        match segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["name"] => op.apply_string(&mut api.name)?,
            ["description"] => op.apply_opt_string(&mut api.description)?,
            ["version"] => op.apply_opt_string(&mut api.version)?,
            ["apiKeySource"] => op.apply_string(&mut api.api_key_source)?,
            ["policy"] => op.apply_opt_string(&mut api.policy)?,
            ["disableExecuteApiEndpoint"] => {
                op.apply_bool(&mut api.disable_execute_api_endpoint)?
            }
            ["minimumCompressionSize"] => match op.op {
                Op::Remove => api.minimum_compression_size = None,
                Op::Add | Op::Replace if op.value.as_deref() == Some("") => {
                    api.minimum_compression_size = None
                }
                Op::Add | Op::Replace => api.minimum_compression_size = Some(op.i32_value()?),
                _ => return Err(op.unsupported()),
            },
            // AWS documents the element form (`add`/`remove`/`replace`
            // `/binaryMediaTypes/image~1png`, `replace` renaming it to the value); the
            // bare list path with the type as the value is accepted too.
            ["binaryMediaTypes", media] => {
                op.apply_list_element(&mut api.binary_media_types, media)?
            }
            ["binaryMediaTypes"] if matches!(op.op, Op::Add | Op::Remove) => {
                let media = op.value()?.to_string();
                op.apply_list_element(&mut api.binary_media_types, &media)?
            }
            ["endpointConfiguration", "types", t] => {
                op.apply_list_element(&mut api.endpoint_configuration.types, t)?
            }
            ["tags", key] => op.apply_map_entry(&mut api.tags, key, crate::patch::string_of)?,
            _ => return Err(op.unsupported()),
        }
    }
    rules::rest_api::rest_api(&api)?;
    store::rest_apis::save(&mut tx, &api).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(api))
}

/// DELETE /restapis/{restapi_id}: removes the API, its stages and deployments.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &id, true).await?;
    store::rest_apis::delete(&mut tx, &id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
