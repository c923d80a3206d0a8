//! API documentation: CreateDocumentationPart, GetDocumentationPart(s),
//! UpdateDocumentationPart, DeleteDocumentationPart, ImportDocumentationParts, and
//! Create/Get(s)/Update/DeleteDocumentationVersion.
//!
//! A documentation part is content (`properties`, a JSON object encoded as a string) for
//! one API entity, named by its `location`. Which location members a type has is AWS's
//! table (the `DocumentationPartLocation` shape's documentation and the developer guide's
//! examples):
//!
//! | type | path | method | statusCode | name |
//! |---|---|---|---|---|
//! | API | | | | |
//! | AUTHORIZER, MODEL | | | | required |
//! | RESOURCE | yes | | | |
//! | METHOD | yes | yes | | |
//! | PATH_PARAMETER, QUERY_PARAMETER, REQUEST_HEADER | yes | yes | | required |
//! | REQUEST_BODY | yes | yes | | optional |
//! | RESPONSE, RESPONSE_BODY | yes | yes | yes | |
//! | RESPONSE_HEADER | yes | yes | yes | required |
//!
//! A member the type does not have is a `BadRequestException`; one it has but was not given
//! takes AWS's default (`path` `/`, `method` `*`, `statusCode` `*`), so a location has one
//! spelling and a second part at the same location is a `ConflictException` ("Documentation
//! part already exists for the specified location: type 'API'."). The `type` enum and the
//! `statusCode` pattern are the model's constraints (`ValidationException`). Locations are
//! not checked against the API's current entities: documentation may be written before the
//! entity it describes, as in AWS.
//!
//! A documentation version copies every part when it is created (`stageName` also makes it
//! that stage's `documentationVersion`); later changes to the parts never change it. GetExport
//! with `extensions=documentation` publishes the stage's version.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::constraints::{self, Violations};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::{now_epoch, random_id};
use crate::patch::{Op, PatchRequest};
use crate::store;
use crate::validate;
use crate::wire::{DocumentationPart, DocumentationPartLocation, DocumentationVersion};
use crate::AppState;

/// Whether a location member is part of a type's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Has {
    No,
    Optional,
    Required,
}

/// The location members of a documentation part type: (path, method, statusCode, name).
fn members_of(part_type: &str) -> (bool, bool, bool, Has) {
    match part_type {
        "API" => (false, false, false, Has::No),
        "AUTHORIZER" | "MODEL" => (false, false, false, Has::Required),
        "RESOURCE" => (true, false, false, Has::No),
        "METHOD" => (true, true, false, Has::No),
        "PATH_PARAMETER" | "QUERY_PARAMETER" | "REQUEST_HEADER" => {
            (true, true, false, Has::Required)
        }
        "REQUEST_BODY" => (true, true, false, Has::Optional),
        "RESPONSE" | "RESPONSE_BODY" => (true, true, true, Has::No),
        // RESPONSE_HEADER (the enum was checked before).
        _ => (true, true, true, Has::Required),
    }
}

/// A location member as given: absent, null and empty (or white space, which the
/// `statusCode` pattern allows) all mean "not given".
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// Checks a location against the model's constraints and AWS's table, and fills in the
/// defaults of the members its type has.
pub fn normalize_location(loc: &DocumentationPartLocation) -> ApiResult<DocumentationPartLocation> {
    Violations::new()
        .enum_value(
            "location.type",
            Some(loc.part_type.as_str()).filter(|t| !t.is_empty()),
            constraints::DOCUMENTATION_PART_TYPE,
        )
        .pattern(
            "location.statusCode",
            loc.status_code.as_deref(),
            constraints::DOCUMENTATION_PART_LOCATION_STATUS_CODE,
            constraints::is_location_status_code,
        )
        .finish()?;
    let t = loc.part_type.as_str();
    if t.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid location: type is required (one of API, AUTHORIZER, MODEL, RESOURCE, \
             METHOD, PATH_PARAMETER, QUERY_PARAMETER, REQUEST_HEADER, REQUEST_BODY, RESPONSE, \
             RESPONSE_HEADER, RESPONSE_BODY)",
        ));
    }
    let (has_path, has_method, has_status, has_name) = members_of(t);
    let invalid = |member: &str| {
        ApiError::bad_request(format!(
            "Invalid location: '{member}' is not a valid field for type '{t}'"
        ))
    };
    let path = match (has_path, given(&loc.path)) {
        (false, Some(_)) => return Err(invalid("path")),
        (false, None) => None,
        (true, None) => Some("/".to_string()),
        (true, Some(p)) if !p.starts_with('/') => {
            return Err(ApiError::bad_request(format!(
                "Invalid location: path '{p}' must start with '/'"
            )))
        }
        (true, Some(p)) => Some(p.to_string()),
    };
    let method = match (has_method, given(&loc.method)) {
        (false, Some(_)) => return Err(invalid("method")),
        (false, None) => None,
        (true, None) => Some("*".to_string()),
        (true, Some("*")) => Some("*".to_string()),
        (true, Some(m)) => {
            let m = m.to_ascii_uppercase();
            validate::http_method(&m)?;
            Some(m)
        }
    };
    let status_code = match (has_status, given(&loc.status_code)) {
        (false, Some(_)) => return Err(invalid("statusCode")),
        (false, None) => None,
        (true, None) => Some("*".to_string()),
        (true, Some(s)) => Some(s.to_string()),
    };
    let name = match (has_name, given(&loc.name)) {
        (Has::No, Some(_)) => return Err(invalid("name")),
        (Has::Required, None) => {
            return Err(ApiError::bad_request(format!(
                "Invalid location: name is required for type '{t}'"
            )))
        }
        (_, n) => n.map(str::to_string),
    };
    Ok(DocumentationPartLocation {
        part_type: t.to_string(),
        path,
        method,
        status_code,
        name,
    })
}

/// `type 'METHOD', path '/pets', method 'GET'`: a location as the conflict message names it.
fn describe(loc: &DocumentationPartLocation) -> String {
    let mut s = format!("type '{}'", loc.part_type);
    for (member, value) in [
        ("path", &loc.path),
        ("method", &loc.method),
        ("statusCode", &loc.status_code),
        ("name", &loc.name),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(", {member} '{v}'"));
        }
    }
    s
}

fn conflict(loc: &DocumentationPartLocation) -> ApiError {
    ApiError::conflict(format!(
        "Documentation part already exists for the specified location: {}.",
        describe(loc)
    ))
}

/// `properties` must be a JSON object; it is kept as the string the caller sent.
fn check_properties(text: &str) -> ApiResult<()> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(ApiError::bad_request(
            "Invalid properties: the documentation content must be a JSON object, encoded as a \
             string (e.g. \"{\\\"description\\\": \\\"...\\\"}\")",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "Invalid properties: not valid JSON ({e}); the documentation content must be a \
             JSON object encoded as a string"
        ))),
    }
}

/// Whether a part has content (`locationStatus` DOCUMENTED) or not (UNDOCUMENTED: its
/// `properties` are an empty object).
fn documented(part: &DocumentationPart) -> bool {
    serde_json::from_str::<Value>(&part.properties)
        .ok()
        .and_then(|v| v.as_object().map(|o| !o.is_empty()))
        .unwrap_or(true)
}

/// Body of CreateDocumentationPart.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreatePart {
    location: Option<DocumentationPartLocation>,
    properties: Option<Value>,
}

/// `properties` of a create call: a string holding a JSON object.
fn properties_of(v: Option<Value>) -> ApiResult<String> {
    match v {
        Some(Value::String(s)) => {
            check_properties(&s)?;
            Ok(s)
        }
        Some(Value::Null) | None => Err(ApiError::bad_request(
            "properties is required: the documentation content, a JSON object encoded as a \
             string",
        )),
        Some(_) => Err(ApiError::bad_request(
            "Invalid properties: it must be a string holding a JSON object (e.g. \
             \"{\\\"description\\\": \\\"...\\\"}\"), not a JSON value",
        )),
    }
}

/// POST /restapis/{restapi_id}/documentation/parts
pub async fn create_part(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreatePart>,
) -> ApiResult<(StatusCode, Json<DocumentationPart>)> {
    let location = req
        .location
        .ok_or_else(|| ApiError::bad_request("location is required"))?;
    let location = normalize_location(&location)?;
    let properties = properties_of(req.properties)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let parts = store::api_docs::all::<DocumentationPart>(&mut tx, &api_id).await?;
    if parts.iter().any(|p| p.location == location) {
        return Err(conflict(&location));
    }
    let part = DocumentationPart {
        id: random_id(6),
        location,
        properties,
    };
    store::api_docs::insert(&mut tx, &api_id, &part).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(part)))
}

/// Query of GetDocumentationParts.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartsQuery {
    #[serde(rename = "type")]
    part_type: Option<String>,
    name: Option<String>,
    path: Option<String>,
    location_status: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// GET /restapis/{restapi_id}/documentation/parts: filtered by the location's `type`,
/// `name` and `path` (exact), and by `locationStatus`.
pub async fn list_parts(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<PartsQuery>,
) -> ApiResult<Json<Page<DocumentationPart>>> {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (part_type, name, path, status) = (
        nonempty(&q.part_type),
        nonempty(&q.name),
        nonempty(&q.path),
        nonempty(&q.location_status),
    );
    Violations::new()
        .enum_value(
            "type",
            part_type.as_deref(),
            constraints::DOCUMENTATION_PART_TYPE,
        )
        .enum_value(
            "locationStatus",
            status.as_deref(),
            constraints::LOCATION_STATUS_TYPE,
        )
        .finish()?;
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let parts: Vec<DocumentationPart> =
        store::api_docs::all::<DocumentationPart>(&mut conn, &api_id)
            .await?
            .into_iter()
            .filter(|p| {
                part_type
                    .as_ref()
                    .is_none_or(|t| p.location.part_type == *t)
            })
            .filter(|p| name.is_none() || p.location.name == name)
            .filter(|p| path.is_none() || p.location.path == path)
            .filter(|p| {
                status
                    .as_deref()
                    .is_none_or(|s| documented(p) == (s == "DOCUMENTED"))
            })
            .collect();
    Ok(Json(q.page.page(parts)?))
}

/// GET /restapis/{restapi_id}/documentation/parts/{part_id}
pub async fn get_part(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<DocumentationPart>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        store::api_docs::load(&mut conn, &api_id, &id, false).await?,
    ))
}

/// PATCH /restapis/{restapi_id}/documentation/parts/{part_id}: `replace /properties` (a
/// part's location is its identity and cannot change).
pub async fn update_part(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<DocumentationPart>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut part: DocumentationPart = store::api_docs::load(&mut tx, &api_id, &id, true).await?;
    for op in &req.patch_operations {
        match (op.op, op.path()?) {
            (Op::Replace | Op::Add, "/properties") => {
                let v = op.value()?;
                check_properties(v)?;
                part.properties = v.to_string();
            }
            _ => return Err(op.unsupported()),
        }
    }
    store::api_docs::save(&mut tx, &api_id, &part).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(part))
}

/// DELETE /restapis/{restapi_id}/documentation/parts/{part_id}
pub async fn delete_part(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::api_docs::load::<DocumentationPart>(&mut tx, &api_id, &id, true).await?;
    store::api_docs::delete::<DocumentationPart>(&mut tx, &api_id, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Query of ImportDocumentationParts.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ImportQuery {
    mode: Option<String>,
    failonwarnings: Option<String>,
}

/// ImportDocumentationParts' answer (`DocumentationPartIds`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PartIds {
    ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// One part of an imported document (its `properties` an object, as OpenAPI files carry
/// them, or a string holding one).
#[derive(Debug, Deserialize)]
struct ImportedPart {
    location: Option<DocumentationPartLocation>,
    properties: Option<Value>,
}

/// The documentation of an import body: an OpenAPI (or Swagger) document's
/// `x-amazon-apigateway-documentation`, or that object itself; JSON or YAML.
fn documentation_of(body: &[u8]) -> ApiResult<Vec<Value>> {
    let doc: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(json_err) => serde_yaml_ng::from_slice(body).map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid documentation body: neither JSON ({json_err}) nor YAML"
            ))
        })?,
    };
    let docs = doc.get("x-amazon-apigateway-documentation").unwrap_or(&doc);
    match docs.get("documentationParts") {
        Some(Value::Array(parts)) => Ok(parts.clone()),
        Some(_) => Err(ApiError::bad_request(
            "Invalid documentation body: documentationParts must be a list",
        )),
        None => Err(ApiError::bad_request(
            "Invalid documentation body: expected an OpenAPI document with an \
             x-amazon-apigateway-documentation object, or that object itself, holding \
             documentationParts",
        )),
    }
}

/// One imported part checked: its normalised location and its properties as a string.
fn imported_part(v: Value) -> ApiResult<(DocumentationPartLocation, String)> {
    let part: ImportedPart = serde_json::from_value(v)
        .map_err(|e| ApiError::bad_request(format!("not a documentation part ({e})")))?;
    let location = part
        .location
        .ok_or_else(|| ApiError::bad_request("location is required"))?;
    let location = normalize_location(&location)?;
    let properties = match part.properties {
        Some(Value::Object(o)) => Value::Object(o).to_string(),
        Some(Value::String(s)) => {
            check_properties(&s)?;
            s
        }
        None | Some(Value::Null) => "{}".to_string(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid properties: the documentation content must be a JSON object",
            ))
        }
    };
    Ok((location, properties))
}

/// PUT /restapis/{restapi_id}/documentation/parts?mode=merge|overwrite&failonwarnings=
///
/// `merge` (the default) replaces the properties of the parts whose location the import
/// names and adds the others; `overwrite` first deletes every part. A part that cannot be
/// imported (a bad location, properties that are no object, a location the document names
/// twice) is skipped with a warning; with `failonwarnings=true` any warning fails the whole
/// import (BadRequestException listing them) and nothing changes.
pub async fn import_parts(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(q): AwsQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<PartIds>> {
    let mode = q.mode.filter(|m| !m.is_empty());
    Violations::new()
        .enum_value("mode", mode.as_deref(), constraints::PUT_MODE)
        .finish()?;
    let overwrite = mode.as_deref() == Some("overwrite");
    let fail_on_warnings = match q.failonwarnings.as_deref() {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "Invalid failonwarnings value '{v}': must be true or false"
            )))
        }
    };
    let (imported, warnings) = checked_parts(documentation_of(&body)?);
    if fail_on_warnings && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Documentation import failed on warnings (failonwarnings=true); nothing was \
             imported: {}",
            warnings.join("; ")
        )));
    }
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let ids = save_parts(&mut tx, &api_id, imported, overwrite).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(PartIds { ids, warnings }))
}

/// The parts of an import checked one by one: the importable ones (normalised location,
/// properties as a string) and a warning for each skipped one (not a part, a bad location,
/// or a location an earlier part already names). ImportDocumentationParts and ImportRestApi /
/// PutRestApi (`x-amazon-apigateway-documentation`) share it.
pub fn checked_parts(
    values: Vec<Value>,
) -> (Vec<(DocumentationPartLocation, String)>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut imported: Vec<(DocumentationPartLocation, String)> = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        match imported_part(v) {
            Ok((location, _)) if imported.iter().any(|(l, _)| *l == location) => {
                warnings.push(format!(
                    "Documentation part #{}: skipped, its location ({}) is named by an earlier \
                     part of the document",
                    i + 1,
                    describe(&location)
                ));
            }
            Ok(part) => imported.push(part),
            Err(e) => warnings.push(format!("Documentation part #{}: skipped, {e}", i + 1)),
        }
    }
    (imported, warnings)
}

/// Saves checked parts into the API (whose row the caller holds locked): `overwrite` first
/// deletes every part; otherwise a part at a location the API documents replaces that
/// part's properties (keeping its id) and the others are added. Returns the parts' ids.
pub async fn save_parts(
    tx: &mut sqlx::PgConnection,
    api_id: &str,
    parts: Vec<(DocumentationPartLocation, String)>,
    overwrite: bool,
) -> ApiResult<Vec<String>> {
    let existing = if overwrite {
        store::documentation::delete_all_parts(tx, api_id).await?;
        Vec::new()
    } else {
        store::api_docs::all::<DocumentationPart>(tx, api_id).await?
    };
    let mut ids = Vec::with_capacity(parts.len());
    for (location, properties) in parts {
        match existing.iter().find(|p| p.location == location) {
            Some(old) => {
                let part = DocumentationPart {
                    properties,
                    ..old.clone()
                };
                store::api_docs::save(tx, api_id, &part).await?;
                ids.push(part.id);
            }
            None => {
                let part = DocumentationPart {
                    id: random_id(6),
                    location,
                    properties,
                };
                store::api_docs::insert(tx, api_id, &part).await?;
                ids.push(part.id);
            }
        }
    }
    Ok(ids)
}

/// Body of CreateDocumentationVersion.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateVersion {
    documentation_version: Option<String>,
    stage_name: Option<String>,
    description: Option<String>,
}

/// POST /restapis/{restapi_id}/documentation/versions: snapshots the parts; with
/// `stageName`, the stage publishes the new version.
pub async fn create_version(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateVersion>,
) -> ApiResult<(StatusCode, Json<DocumentationVersion>)> {
    let version = req
        .documentation_version
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("documentationVersion is required"))?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    if store::documentation::version_exists(&mut tx, &api_id, &version).await? {
        return Err(ApiError::conflict(format!(
            "Documentation version already exists: {version}"
        )));
    }
    let now = now_epoch();
    if let Some(stage_name) = req.stage_name.as_deref().filter(|s| !s.is_empty()) {
        let mut stage = store::stages::load(&mut tx, &api_id, stage_name, true)
            .await?
            .ok_or_else(store::stages::stage_not_found)?;
        stage.documentation_version = Some(version.clone());
        stage.last_updated_date = now;
        store::stages::save(&mut tx, &api_id, &stage).await?;
    }
    let parts = store::api_docs::all::<DocumentationPart>(&mut tx, &api_id).await?;
    let v = DocumentationVersion {
        version,
        created_date: now,
        description: req.description,
    };
    store::documentation::insert_version(&mut tx, &api_id, &v, &parts).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// GET /restapis/{restapi_id}/documentation/versions
pub async fn list_versions(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<DocumentationVersion>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(page.page(
        store::api_docs::all::<DocumentationVersion>(&mut conn, &api_id).await?,
    )?))
}

/// GET /restapis/{restapi_id}/documentation/versions/{doc_version}
pub async fn get_version(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
) -> ApiResult<Json<DocumentationVersion>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        store::api_docs::load(&mut conn, &api_id, &version, false).await?,
    ))
}

/// PATCH /restapis/{restapi_id}/documentation/versions/{doc_version}: `/description`.
pub async fn update_version(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<DocumentationVersion>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut v: DocumentationVersion =
        store::api_docs::load(&mut tx, &api_id, &version, true).await?;
    for op in &req.patch_operations {
        match op.path()? {
            "/description" => op.apply_opt_string(&mut v.description)?,
            _ => return Err(op.unsupported()),
        }
    }
    store::api_docs::save(&mut tx, &api_id, &v).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(v))
}

/// DELETE /restapis/{restapi_id}/documentation/versions/{doc_version}: refused while a
/// stage publishes the version.
pub async fn delete_version(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::api_docs::load::<DocumentationVersion>(&mut tx, &api_id, &version, true).await?;
    let stages: Vec<String> = store::stages::list(&mut tx, &api_id, None)
        .await?
        .into_iter()
        .filter(|s| s.documentation_version.as_deref() == Some(version.as_str()))
        .map(|s| s.stage_name)
        .collect();
    if !stages.is_empty() {
        return Err(ApiError::conflict(format!(
            "Cannot delete documentation version '{version}': it is the documentationVersion \
             of stage(s) {}; give them another version (or none) first",
            stages.join(", ")
        )));
    }
    store::api_docs::delete::<DocumentationVersion>(&mut tx, &api_id, &version).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(t: &str) -> DocumentationPartLocation {
        DocumentationPartLocation {
            part_type: t.into(),
            ..Default::default()
        }
    }

    #[test]
    fn locations_get_their_defaults() {
        let api = normalize_location(&loc("API")).unwrap();
        assert_eq!(api, loc("API"));
        let m = normalize_location(&loc("METHOD")).unwrap();
        assert_eq!(m.path.as_deref(), Some("/"));
        assert_eq!(m.method.as_deref(), Some("*"));
        assert_eq!(m.status_code, None);
        let r = normalize_location(&DocumentationPartLocation {
            method: Some("get".into()),
            path: Some("/pets".into()),
            ..loc("RESPONSE")
        })
        .unwrap();
        assert_eq!(
            (
                r.path.as_deref(),
                r.method.as_deref(),
                r.status_code.as_deref()
            ),
            (Some("/pets"), Some("GET"), Some("*"))
        );
    }

    #[test]
    fn members_a_type_lacks_are_refused() {
        let bad = [
            DocumentationPartLocation {
                path: Some("/".into()),
                ..loc("API")
            },
            DocumentationPartLocation {
                method: Some("GET".into()),
                ..loc("RESOURCE")
            },
            DocumentationPartLocation {
                status_code: Some("200".into()),
                ..loc("METHOD")
            },
            DocumentationPartLocation {
                name: Some("x".into()),
                ..loc("RESPONSE")
            },
            loc("MODEL"),
            loc("QUERY_PARAMETER"),
            DocumentationPartLocation {
                path: Some("pets".into()),
                ..loc("RESOURCE")
            },
            DocumentationPartLocation {
                method: Some("FETCH".into()),
                ..loc("METHOD")
            },
        ];
        for l in bad {
            assert!(
                matches!(normalize_location(&l), Err(ApiError::BadRequest(_))),
                "{l:?}"
            );
        }
        assert!(matches!(
            normalize_location(&loc("ENDPOINT")),
            Err(ApiError::Validation(_))
        ));
        assert!(matches!(
            normalize_location(&DocumentationPartLocation {
                status_code: Some("600".into()),
                ..loc("RESPONSE")
            }),
            Err(ApiError::Validation(_))
        ));
        // REQUEST_BODY may name its model or not.
        assert!(normalize_location(&loc("REQUEST_BODY")).is_ok());
    }

    #[test]
    fn import_bodies() {
        let openapi = br#"{"openapi": "3.0.1", "x-amazon-apigateway-documentation":
            {"version": "1", "documentationParts": [{"location": {"type": "API"},
             "properties": {"description": "d"}}]}}"#;
        assert_eq!(documentation_of(openapi).unwrap().len(), 1);
        let bare = b"documentationParts:\n  - location: {type: API}\n    properties: {a: 1}\n";
        let parts = documentation_of(bare).unwrap();
        let (l, p) = imported_part(parts[0].clone()).unwrap();
        assert_eq!(l, loc("API"));
        assert_eq!(p, r#"{"a":1}"#);
        assert!(documentation_of(b"{\"openapi\": \"3.0.1\"}").is_err());
    }
}
