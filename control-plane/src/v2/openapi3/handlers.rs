//! ImportApi (`PUT /v2/apis`), ReimportApi (`PUT /v2/apis/{apiId}`) and ExportApi
//! (`GET /v2/apis/{apiId}/exports/{specification}`).
//!
//! An import writes the API, then its authorizers, integrations and routes, each checked
//! by the model's Create shape and the rules of its Create call (`super::super::rules`),
//! in one transaction that ends with auto-deploy, as every change does. A reimport
//! replaces the API's members the document names and all its routes, integrations and
//! authorizers the same way. The answer is the API with the import's `warnings`.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

use super::{export, import, materialize, ExportOptions, HttpApiDefinition};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery};
use crate::ids::random_id;
use crate::import::BasePath;
use crate::store::v2::{self as store, kind, Key};
use crate::v2::apis::EXECUTE_API_DOMAIN;
use crate::v2::items::{id_member, Kind, AUTHORIZER, INTEGRATION, ROUTE};
use crate::v2::{rules, shape};
use crate::AppState;

/// ImportApi's and ReimportApi's query.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ImportParams {
    /// `ignore` (the default), `prepend` or `split`: how the servers' base path becomes
    /// part of the routes' paths.
    basepath: Option<String>,
    /// `true`: refuse the import when anything would be ignored (the warnings listed).
    #[serde(rename = "failOnWarnings")]
    fail_on_warnings: Option<String>,
}

fn bool_param(name: &str, v: Option<&str>, default: bool) -> ApiResult<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid {name} value '{other}': must be true or false"
        ))),
    }
}

/// The definition of the request: `{"body": "<document>"}` read, converted, and
/// `failOnWarnings` applied.
fn read(body: &Value, q: &ImportParams) -> ApiResult<HttpApiDefinition> {
    let base_path = match q.basepath.as_deref() {
        None | Some("") => BasePath::Ignore,
        Some(b) => BasePath::parse(b).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid basepath value '{b}': must be ignore, prepend or split"
            ))
        })?,
    };
    let fail = bool_param("failOnWarnings", q.fail_on_warnings.as_deref(), false)?;
    let text = match body.get("body") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(ApiError::bad_request("body must be a string")),
        None => {
            return Err(ApiError::bad_request(
                "body is required and must not be empty",
            ))
        }
    };
    let doc = crate::import::source::parse(text.as_bytes())?;
    let def = import(&doc, base_path)?;
    if fail && !def.warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Warnings found during import:\n\t{}",
            def.warnings.join("\n\t")
        )));
    }
    Ok(def)
}

/// An item's rule broken, said with where it comes from.
fn located(what: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::BadRequest(m) => {
            ApiError::bad_request(format!("Errors found during import:\n\t{what}: {m}"))
        }
        ApiError::Conflict(m) => ApiError::conflict(format!("{what}: {m}")),
        other => other,
    }
}

/// Writes the definition's authorizers, integrations and routes under `api_id`, each
/// through its Create call's shape and rules.
async fn write_items(
    conn: &mut PgConnection,
    api: &Value,
    api_id: &str,
    def: &HttpApiDefinition,
) -> ApiResult<()> {
    let stored = materialize(def, || random_id(7));
    let kinds: [(&'static Kind, &str); 3] = [
        (&AUTHORIZER, "authorizers"),
        (&INTEGRATION, "integrations"),
        (&ROUTE, "routes"),
    ];
    for (k, list) in kinds {
        let key = Key {
            api: api_id,
            kind: k.kind,
            parent: "",
        };
        for item in stored[list].as_array().into_iter().flatten() {
            let member = id_member(k.kind);
            let id = item[member].as_str().unwrap_or_default().to_string();
            let what = match k.kind {
                kind::ROUTE => format!("route {}", item["routeKey"].as_str().unwrap_or_default()),
                kind::AUTHORIZER => format!(
                    "components.securitySchemes.{}",
                    item["name"].as_str().unwrap_or_default()
                ),
                _ => format!(
                    "the integration of {}",
                    routes_using(&stored, &id).join(", ")
                ),
            };
            let mut doc = shape::check(&format!("Create{}", k.op), item, true)
                .map_err(|e| located(&what, e))?;
            rules::item(conn, api, k, key, None, &mut doc)
                .await
                .map_err(|e| located(&what, e))?;
            doc.insert(member.into(), json!(id));
            store::insert_item(conn, key, &id, &Value::Object(doc)).await?;
        }
    }
    Ok(())
}

fn routes_using(stored: &Value, integration: &str) -> Vec<String> {
    let target = format!("integrations/{integration}");
    stored["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["target"].as_str() == Some(target.as_str()))
        .filter_map(|r| r["routeKey"].as_str().map(str::to_string))
        .collect()
}

fn answer(api: Value, def: &HttpApiDefinition) -> Value {
    let mut out = api;
    out["warnings"] = json!(def.warnings);
    out
}

/// PUT /v2/apis: a new HTTP API from an OpenAPI 3.0 document.
pub async fn import_api(
    State(state): State<AppState>,
    AwsQuery(q): AwsQuery<ImportParams>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let def = read(&body, &q)?;
    let mut api = shape::check("CreateApi", &Value::Object(def.api.clone()), true)
        .map_err(|e| located("the API", e))?;
    // No `target` in a document: never a quick create.
    rules::api(&mut api, true).map_err(|e| located("the API", e))?;
    let id = random_id(10);
    api.insert("apiId".into(), json!(id));
    api.insert(
        "apiEndpoint".into(),
        json!(format!("https://{id}.{EXECUTE_API_DOMAIN}")),
    );
    api.insert("createdDate".into(), json!(crate::v2::now()));
    api.entry("disableExecuteApiEndpoint")
        .or_insert(json!(false));
    api.entry("tags").or_insert(json!({}));
    let api = Value::Object(api);
    let mut tx = state.db.begin().await?;
    store::insert_api(&mut tx, &id, &api).await?;
    write_items(&mut tx, &api, &id, &def).await?;
    crate::v2::http::check_definition(&mut tx, &id, None)
        .await
        .map_err(|e| located("the definition", e))?;
    crate::v2::stages::auto_deploy(&mut tx, &id).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(answer(api, &def))))
}

/// The API's members an import sets (a reimport replaces them all).
const DOCUMENT_MEMBERS: &[&str] = &[
    "name",
    "description",
    "version",
    "corsConfiguration",
    "disableExecuteApiEndpoint",
];

/// PUT /v2/apis/{apiId}: the API's definition replaced by an OpenAPI 3.0 document.
pub async fn reimport_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsQuery(q): AwsQuery<ImportParams>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let def = read(&body, &q)?;
    let members = shape::check("UpdateApi", &Value::Object(def.api.clone()), false)
        .map_err(|e| located("the API", e))?;
    let mut tx = state.db.begin().await?;
    let Value::Object(mut api) = store::load_api(&mut tx, &id, true).await? else {
        return Err(ApiError::Internal(format!("API {id} is not an object")));
    };
    if api.get("protocolType") != Some(&json!("HTTP")) {
        return Err(ApiError::bad_request(
            "ReimportApi is supported only for HTTP APIs",
        ));
    }
    for m in DOCUMENT_MEMBERS {
        api.remove(*m);
    }
    api.extend(members);
    api.entry("disableExecuteApiEndpoint")
        .or_insert(json!(false));
    rules::api(&mut api, false).map_err(|e| located("the API", e))?;
    let api = Value::Object(api);
    store::save_api(&mut tx, &id, &api).await?;
    for k in [kind::ROUTE, kind::INTEGRATION, kind::AUTHORIZER] {
        let key = Key {
            api: &id,
            kind: k,
            parent: "",
        };
        for item in store::list_items(&mut tx, key).await? {
            if let Some(item_id) = item.get(id_member(k)).and_then(Value::as_str) {
                store::delete_item(&mut tx, key, item_id).await?;
            }
        }
    }
    write_items(&mut tx, &api, &id, &def).await?;
    crate::v2::http::check_definition(&mut tx, &id, None)
        .await
        .map_err(|e| located("the definition", e))?;
    crate::v2::stages::auto_deploy(&mut tx, &id).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(answer(api, &def))))
}

/// ExportApi's query.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportParams {
    /// `JSON` or `YAML` (required).
    output_type: Option<String>,
    /// The stage to export (its deployment); the latest configuration when absent.
    stage_name: Option<String>,
    /// Whether API Gateway's extensions are in the document (default true).
    include_extensions: Option<String>,
    /// The export algorithm's version: `1.0`, the only one.
    export_version: Option<String>,
}

/// GET /v2/apis/{apiId}/exports/{specification}
pub async fn export_api(
    State(state): State<AppState>,
    Path((id, specification)): Path<(String, String)>,
    AwsQuery(q): AwsQuery<ExportParams>,
) -> ApiResult<Response> {
    if specification != "OAS30" {
        return Err(ApiError::bad_request(format!(
            "Invalid specification '{specification}': OAS30 is the only one supported"
        )));
    }
    let yaml = match q.output_type.as_deref() {
        Some("JSON") => false,
        Some("YAML") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid outputType '{other}': must be JSON or YAML"
            )))
        }
        None => return Err(ApiError::bad_request("outputType is required")),
    };
    if let Some(v) = q.export_version.as_deref().filter(|v| !v.is_empty()) {
        if v != super::IMPORT_EXPORT_VERSION {
            return Err(ApiError::bad_request(format!(
                "Invalid exportVersion '{v}': the only version is {}",
                super::IMPORT_EXPORT_VERSION
            )));
        }
    }
    let include_extensions =
        bool_param("includeExtensions", q.include_extensions.as_deref(), true)?;
    let mut conn = state.db.acquire().await?;
    let api = store::load_api(&mut conn, &id, false).await?;
    if api.get("protocolType") != Some(&json!("HTTP")) {
        return Err(ApiError::bad_request(
            "ExportApi is supported only for HTTP APIs",
        ));
    }
    let stage = q.stage_name.as_deref().filter(|s| !s.is_empty());
    let def = match stage {
        Some(name) => {
            let key = Key {
                api: &id,
                kind: kind::STAGE,
                parent: "",
            };
            let stage = store::load_item(&mut conn, key, name, false)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!("Invalid stage identifier specified {name}"))
                })?;
            let deployment = stage
                .get("deploymentId")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Stage {name} has no deployment to export"))
                })?;
            store::frozen(&mut conn, &id, deployment)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(format!("deployment {deployment} has no definition"))
                })?
        }
        None => {
            let mut def = Map::new();
            def.insert("api".into(), api);
            for (k, list) in [
                (kind::ROUTE, "routes"),
                (kind::INTEGRATION, "integrations"),
                (kind::AUTHORIZER, "authorizers"),
            ] {
                let key = Key {
                    api: &id,
                    kind: k,
                    parent: "",
                };
                def.insert(list.into(), json!(store::list_items(&mut conn, key).await?));
            }
            Value::Object(def)
        }
    };
    drop(conn);
    let host = format!("{id}.{EXECUTE_API_DOMAIN}");
    let doc = export(
        &def,
        ExportOptions {
            include_extensions,
            stage,
            host: &host,
        },
    );
    let (body, content_type) = if yaml {
        (
            serde_yaml_ng::to_string(&doc)
                .map_err(|e| ApiError::Internal(format!("export: {e}")))?
                .into_bytes(),
            "application/yaml",
        )
    } else {
        (
            serde_json::to_vec_pretty(&doc)
                .map_err(|e| ApiError::Internal(format!("export: {e}")))?,
            "application/json",
        )
    };
    Ok(([(CONTENT_TYPE, content_type)], body).into_response())
}
