//! ImportRestApi (`POST /restapis?mode=import`) and PutRestApi (`PUT /restapis/{id}`,
//! `mode=merge`, the default, or `mode=overwrite`): an OpenAPI 3.0 / Swagger 2.0 document,
//! JSON or YAML, read by [`crate::import`] into typed items, checked with the rules the
//! individual calls use ([`super::rules`]: resources, methods, integrations, models,
//! authorizers, gateway responses, the API's own members), and written in one transaction.
//!
//! - ImportRestApi creates an API as CreateRestApi does (root resource, `Empty` and
//!   `Error` models), then adds what the document defines.
//! - `mode=overwrite` first empties the API as if it were new (resources and their methods,
//!   models, request validators, authorizers, gateway responses; the id, stages,
//!   deployments and tags stay), and resets the members the document does not set.
//! - `mode=merge` adds or replaces what the document names (a method, a model, a validator,
//!   an authorizer, a gateway response; a model, validator or authorizer of the same name
//!   keeps its id) and keeps the rest.
//!
//! Parameters: `failonwarnings=true` refuses the import when anything was ignored (the
//! warnings listed in the message), otherwise the answer is the RestApi with `warnings`;
//! `basepath=ignore|prepend|split`; `endpointConfigurationTypes`; `ignore=documentation`.
//!
//! Documentation: the parts of `x-amazon-apigateway-documentation` (what GetExport with
//! `extensions=documentation` writes) are checked and saved as ImportDocumentationParts
//! does, in the same transaction: merged by location, or, with `mode=overwrite`, replacing
//! the API's parts. A document without that object (or `ignore=documentation`) leaves the
//! API's documentation as it is; a part that cannot be imported is a warning.
//! Errors are `BadRequestException`s that say where in the document the problem is.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};

use crate::openapi::DocumentedQuery;
use axum::Json;
use serde::Serialize;
use sqlx::PgConnection;

use super::documentation;
use super::rules::{self, Broken};
use crate::constraints::{self, Violations};
use crate::error::{ApiError, ApiResult};
use crate::export::Dialect;
use crate::ids::{now_epoch, random_id};
use crate::import::{self, BasePath, ImportError, Imported, Options};
use crate::store::{self, resources::ResourceRow};
use crate::validate;
use crate::wire::{
    Authorizer, DocumentationPartLocation, EndpointConfiguration, Method, Model, RequestValidator,
    RestApi,
};
use crate::AppState;

/// The largest definition accepted (AWS: "The maximum size of the API definition file is
/// 6MB").
const MAX_DEFINITION: usize = 6 * 1024 * 1024;

/// The answer: the RestApi shape, with `warnings`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImportAnswer {
    #[serde(flatten)]
    api: RestApi,
    /// What the import ignored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// The query parameters of ImportRestApi (the SDKs send its `parameters` as query keys of
/// their own; a key not named here is ignored with a warning).
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes the query; read by `query_of`
pub struct ImportParams {
    /// `true`: refuse the import when anything would be ignored (the warnings are listed).
    #[serde(rename = "failonwarnings")]
    fail_on_warnings: Option<bool>,
    /// How the document's `basePath` (Swagger 2.0) or server path (OpenAPI 3.0) is used:
    /// `ignore` (the default), `prepend` or `split`.
    #[serde(rename = "basepath")]
    base_path: Option<String>,
    /// The new API's endpoint types (`REGIONAL`, `EDGE`, `PRIVATE`; comma-separated).
    endpoint_configuration_types: Option<String>,
    /// `documentation`: leave the document's documentation parts out.
    ignore: Option<String>,
}

/// The query parameters of PutRestApi: ImportRestApi's and the mode.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)] // describes the query; read by `query_of`
pub struct PutParams {
    /// `merge` (the default: keep what the document does not name) or `overwrite`.
    mode: Option<String>,
    #[serde(flatten)]
    import: ImportParams,
}

/// The query of both calls (the SDKs send `parameters` as query keys of their own).
#[derive(Debug, Default)]
struct ImportQuery {
    mode: Option<String>,
    fail_on_warnings: bool,
    base_path: BasePath,
    endpoint_types: Option<Vec<String>>,
    ignore_documentation: bool,
    /// Parameters that mean nothing here.
    warnings: Vec<String>,
}

fn query_of(raw: Option<&str>) -> ApiResult<ImportQuery> {
    let mut q = ImportQuery::default();
    for (key, value) in apigw_gateway::query::pairs(raw.unwrap_or_default()) {
        match key.as_ref() {
            "mode" => q.mode = Some(value.to_string()),
            "failonwarnings" | "failOnWarnings" => {
                q.fail_on_warnings = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" | "" => false,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "Invalid failonwarnings value '{other}': must be true or false"
                        )))
                    }
                }
            }
            "basepath" | "basePath" => {
                q.base_path = BasePath::parse(&value).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid basepath value '{value}': must be ignore, prepend or split"
                    ))
                })?
            }
            "endpointConfigurationTypes" => {
                let types: Vec<String> = value
                    .split(',')
                    .map(|t| t.trim().to_ascii_uppercase())
                    .filter(|t| !t.is_empty())
                    .collect();
                q.endpoint_types = Some(types);
            }
            "ignore" => {
                for what in value.split(',').map(str::trim) {
                    if what.eq_ignore_ascii_case("documentation") {
                        q.ignore_documentation = true;
                    } else {
                        return Err(ApiError::bad_request(format!(
                            "Invalid ignore value '{what}': only documentation can be ignored"
                        )));
                    }
                }
            }
            other => q.warnings.push(format!(
                "parameters.{other}: not a parameter of this import; ignored"
            )),
        }
    }
    Ok(q)
}

/// The request body, as raw bytes.
async fn definition(body: Body) -> ApiResult<bytes::Bytes> {
    let bytes = axum::body::to_bytes(body, MAX_DEFINITION)
        .await
        .map_err(|_| {
            ApiError::bad_request(
                "The API definition cannot be read or is larger than 6 MB (the limit of an import)",
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The API definition (the request body) is required",
        ));
    }
    Ok(bytes)
}

/// An error of the document, worded as AWS words import errors.
fn errors_found(at: &str, message: impl std::fmt::Display) -> ApiError {
    let at = if at.is_empty() { "(document)" } else { at };
    ApiError::bad_request(format!("Errors found during import:\n\t{at}: {message}"))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Invalid { at, message } => errors_found(&at, message),
            other => ApiError::bad_request(format!("Errors found during import:\n\t{other}")),
        }
    }
}

/// Documentation parts of a document, checked: what to save, or `None` to leave the API's
/// documentation as it is.
type Parts = Option<Vec<(DocumentationPartLocation, String)>>;

/// Reads the document (its documentation parts checked as ImportDocumentationParts checks
/// them) and applies `failonwarnings`.
fn read(bytes: &[u8], q: &ImportQuery, api_id: &str) -> ApiResult<(Imported, Parts)> {
    let mut doc = import::read(
        bytes,
        &Options {
            api_id,
            base_path: q.base_path,
            ignore_documentation: q.ignore_documentation,
        },
    )?;
    let mut warnings = q.warnings.clone();
    warnings.append(&mut doc.warnings);
    let parts = doc.documentation.take().map(|values| {
        let (parts, skipped) = documentation::checked_parts(values);
        warnings.extend(
            skipped
                .into_iter()
                .map(|w| format!("x-amazon-apigateway-documentation: {w}")),
        );
        parts
    });
    if q.fail_on_warnings && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Warnings found during import:\n\t{}",
            warnings.join("\n\t")
        )));
    }
    doc.warnings = warnings;
    Ok((doc, parts))
}

/// POST /restapis?mode=import
pub async fn import(
    State(state): State<AppState>,
    uri: Uri,
    _: DocumentedQuery<ImportParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportAnswer>)> {
    let q = query_of(uri.query())?;
    let bytes = definition(body).await?;
    let api_id = random_id(10);
    let (doc, parts) = read(&bytes, &q, &api_id)?;
    let api = RestApi {
        id: api_id,
        name: String::new(),
        created_date: now_epoch(),
        api_key_source: "HEADER".into(),
        endpoint_configuration: EndpointConfiguration {
            types: vec!["EDGE".into()],
        },
        root_resource_id: random_id(10),
        ..Default::default()
    };
    let mut tx = state.db.begin().await?;
    store::rest_apis::save(&mut tx, &api).await?;
    let root = ResourceRow {
        id: api.root_resource_id.clone(),
        parent_id: None,
        path_part: None,
        path: "/".into(),
        methods: BTreeMap::new(),
    };
    store::resources::insert(&mut tx, &api.id, &root).await?;
    store::models::insert_defaults(&mut tx, &api.id).await?;
    let api = apply(&mut tx, api, &q, &doc, false).await?;
    if let Some(parts) = parts {
        documentation::save_parts(&mut tx, &api.id, parts, false).await?;
    }
    crate::audit::commit(tx).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportAnswer {
            api,
            warnings: doc.warnings,
        }),
    ))
}

/// PUT /restapis/{restapi_id}?mode=merge|overwrite
pub async fn put(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    uri: Uri,
    _: DocumentedQuery<PutParams>,
    body: Body,
) -> ApiResult<Json<ImportAnswer>> {
    let q = query_of(uri.query())?;
    Violations::new()
        .enum_value("mode", q.mode.as_deref(), constraints::PUT_MODE)
        .finish()?;
    let overwrite = q.mode.as_deref() == Some("overwrite");
    let bytes = definition(body).await?;
    let (doc, parts) = read(&bytes, &q, &api_id)?;
    let mut tx = state.db.begin().await?;
    let api = store::rest_apis::load(&mut tx, &api_id, true).await?;
    if overwrite {
        store::resources::clear(&mut tx, &api_id, &api.root_resource_id).await?;
        store::models::delete_all(&mut tx, &api_id).await?;
        store::api_docs::delete_all::<RequestValidator>(&mut tx, &api_id).await?;
        store::api_docs::delete_all::<Authorizer>(&mut tx, &api_id).await?;
        store::gateway_responses::delete_all(&mut tx, &api_id).await?;
        store::models::insert_defaults(&mut tx, &api_id).await?;
    }
    let api = apply(&mut tx, api, &q, &doc, overwrite).await?;
    if let Some(parts) = parts {
        documentation::save_parts(&mut tx, &api.id, parts, overwrite).await?;
    }
    crate::audit::commit(tx).await?;
    Ok(Json(ImportAnswer {
        api,
        warnings: doc.warnings,
    }))
}

/// `Err(broken)` of a rule, located at `at` (and the member's place below it).
fn located(at: &str, member: &str, b: Broken) -> ApiError {
    let at = if member.is_empty() {
        at.to_string()
    } else {
        import::source::join(at, member)
    };
    errors_found(&at, b.error)
}

/// Where a RestApi member comes from in the document.
fn api_member(member: &str) -> &'static str {
    match member {
        "name" => "info.title",
        "apiKeySource" => "x-amazon-apigateway-api-key-source",
        "minimumCompressionSize" => "x-amazon-apigateway-minimum-compression-size",
        "binaryMediaTypes" => "x-amazon-apigateway-binary-media-types",
        "policy" => "x-amazon-apigateway-policy",
        "endpointConfiguration" => "parameters.endpointConfigurationTypes",
        _ => "info",
    }
}

/// Where a Method member comes from below its operation.
fn method_member(dialect: Dialect, member: &str) -> &str {
    match (member, dialect) {
        ("authorizationType" | "authorizerId", _) => "security",
        ("requestParameters", _) | ("requestModels", Dialect::Swagger) => "parameters",
        ("requestModels", Dialect::Oas30) => "requestBody",
        (other, _) => other,
    }
}

/// Where a MethodResponse member comes from below its response.
fn method_response_member(dialect: Dialect, member: &str) -> &str {
    match (member, dialect) {
        ("responseParameters", _) => "headers",
        ("responseModels", Dialect::Oas30) => "content",
        ("responseModels", Dialect::Swagger) => "schema",
        ("statusCode", _) => "",
        (other, _) => other,
    }
}

/// The API's members once the document's are applied (merge keeps the others, overwrite
/// resets them).
fn members(mut api: RestApi, doc: &Imported, q: &ImportQuery, overwrite: bool) -> RestApi {
    let m = &doc.api;
    fn pick<T: Clone>(named: &Option<T>, current: Option<T>, overwrite: bool) -> Option<T> {
        match named {
            Some(v) => Some(v.clone()),
            None if overwrite => None,
            None => current,
        }
    }
    if let Some(name) = &m.name {
        api.name = name.clone();
    }
    api.description = pick(&m.description, api.description.take(), overwrite);
    api.version = pick(&m.version, api.version.take(), overwrite);
    api.policy = pick(&m.policy, api.policy.take(), overwrite);
    api.minimum_compression_size = pick(
        &m.minimum_compression_size,
        api.minimum_compression_size,
        overwrite,
    );
    api.binary_media_types = pick(
        &m.binary_media_types,
        Some(std::mem::take(&mut api.binary_media_types)),
        overwrite,
    )
    .unwrap_or_default();
    api.api_key_source = pick(
        &m.api_key_source,
        Some(std::mem::take(&mut api.api_key_source)),
        overwrite,
    )
    .unwrap_or_else(|| "HEADER".into());
    api.disable_execute_api_endpoint = pick(
        &m.disable_execute_api_endpoint,
        Some(api.disable_execute_api_endpoint),
        overwrite,
    )
    .unwrap_or(false);
    if let Some(types) = &q.endpoint_types {
        api.endpoint_configuration.types = types.clone();
    }
    api
}

/// A resource of the API once the document is applied.
struct Node {
    row: ResourceRow,
    /// Not stored yet.
    new: bool,
    /// Its methods changed.
    changed: bool,
    /// The document's path that named (or implied) it.
    at: Option<String>,
}

/// Applies the document to the API `api` (as stored, locked, within `tx`); answers the
/// API as saved.
async fn apply(
    tx: &mut PgConnection,
    api: RestApi,
    q: &ImportQuery,
    doc: &Imported,
    overwrite: bool,
) -> ApiResult<RestApi> {
    let dialect = doc.dialect.unwrap_or(Dialect::Oas30);
    let api = members(api, doc, q, overwrite);
    rules::rest_api::rest_api(&api).map_err(|b| {
        let at = api_member(b.member);
        errors_found(at, b.error)
    })?;
    let api_id = api.id.as_str();

    // Models: the document's replace the API's of the same name.
    let existing_models = store::models::all(tx, api_id).await?;
    let mut known: Vec<String> = existing_models.iter().map(|m| m.name.clone()).collect();
    for m in &doc.models {
        if !known.contains(&m.name) {
            known.push(m.name.clone());
        }
    }
    let mut models = Vec::new();
    for m in &doc.models {
        let located = |e: ApiError| errors_found(&m.at, e);
        rules::model::name(&m.name).map_err(located)?;
        validate::content_type(&m.content_type).map_err(located)?;
        let schema = rules::model::schema(api_id, &m.schema, &known).map_err(located)?;
        rules::model::not_self_referencing(api_id, &m.name, &schema).map_err(located)?;
        let old = existing_models.iter().find(|e| e.name == m.name);
        models.push((
            old.is_some(),
            Model {
                id: old.map_or_else(|| random_id(6), |o| o.id.clone()),
                name: m.name.clone(),
                description: old.and_then(|o| o.description.clone()),
                schema: Some(m.schema.clone()),
                content_type: m.content_type.clone(),
            },
        ));
    }

    // Request validators and authorizers: by name; a name the API has keeps its id.
    let existing_validators = store::api_docs::all::<RequestValidator>(tx, api_id).await?;
    let mut validator_ids: BTreeMap<String, String> = existing_validators
        .iter()
        .rev()
        .filter_map(|v| Some((v.name.clone()?, v.id.clone())))
        .collect();
    let mut validators = Vec::new();
    for v in &doc.validators {
        let name = v.name.clone().unwrap_or_default();
        let old = validator_ids.get(&name).cloned();
        let id = old.clone().unwrap_or_else(|| random_id(6));
        validator_ids.insert(name, id.clone());
        validators.push((old.is_some(), RequestValidator { id, ..v.clone() }));
    }
    let existing_authorizers = store::api_docs::all::<Authorizer>(tx, api_id).await?;
    let mut authorizer_types: BTreeMap<String, String> = existing_authorizers
        .iter()
        .map(|a| (a.id.clone(), a.authorizer_type.clone()))
        .collect();
    let mut authorizer_ids: BTreeMap<String, String> = existing_authorizers
        .iter()
        .map(|a| (a.name.clone(), a.id.clone()))
        .collect();
    let mut authorizers = Vec::new();
    for a in &doc.authorizers {
        let old = authorizer_ids.get(&a.authorizer.name).cloned();
        let authorizer = Authorizer {
            id: old.clone().unwrap_or_else(|| random_id(6)),
            ..a.authorizer.clone()
        };
        rules::authorizer::check(&authorizer).map_err(|e| errors_found(&a.at, e))?;
        authorizer_ids.insert(authorizer.name.clone(), authorizer.id.clone());
        authorizer_types.insert(authorizer.id.clone(), authorizer.authorizer_type.clone());
        authorizers.push((old.is_some(), authorizer));
    }
    for r in &doc.gateway_responses {
        let at = import::source::join("x-amazon-apigateway-gateway-responses", &r.response_type);
        rules::gateway_response::response(r).map_err(|e| errors_found(&at, e))?;
    }

    // Resources: the API's, then the document's paths and the resources above them.
    let mut tree: BTreeMap<String, Node> = store::resources::all(tx, api_id)
        .await?
        .into_iter()
        .map(|row| {
            (
                row.path.clone(),
                Node {
                    row,
                    new: false,
                    changed: false,
                    at: None,
                },
            )
        })
        .collect();
    for r in &doc.resources {
        let mut parent = "/".to_string();
        for part in r.path.split('/').skip(1).filter(|_| r.path != "/") {
            let path = rules::resource::child_path(&parent, part);
            if !tree.contains_key(&path) {
                let parent_id = tree.get(&parent).map(|n| n.row.id.clone());
                tree.insert(
                    path.clone(),
                    Node {
                        row: ResourceRow {
                            id: random_id(6),
                            parent_id,
                            path_part: Some(part.to_string()),
                            path: path.clone(),
                            methods: BTreeMap::new(),
                        },
                        new: true,
                        changed: false,
                        at: Some(r.at.clone()),
                    },
                );
            }
            parent = path;
        }
    }
    check_tree(&tree)?;

    // Methods: the document's replace the API's of the same resource and verb.
    let model_names: BTreeSet<&str> = known.iter().map(String::as_str).collect();
    for r in &doc.resources {
        let Some(node) = tree.get_mut(&r.path) else {
            continue;
        };
        for im in &r.methods {
            let mut m = im.method.clone();
            let at = im.at.as_str();
            if let Some(name) = &im.validator {
                let id = validator_ids.get(name).ok_or_else(|| {
                    errors_found(
                        &import::source::join(at, "x-amazon-apigateway-request-validator"),
                        format!(
                            "unknown request validator '{name}': declare it in \
                             x-amazon-apigateway-request-validators"
                        ),
                    )
                })?;
                m.request_validator_id = Some(id.clone());
            }
            if let Some(name) = &im.authorizer {
                m.authorizer_id = authorizer_ids.get(name).cloned();
            }
            if let Some(i) = m.method_integration.as_mut() {
                if i.cache_namespace.is_empty() {
                    i.cache_namespace = node.row.id.clone();
                }
            }
            check_method(
                &m,
                at,
                &node.row.path,
                dialect,
                &authorizer_types,
                &model_names,
            )?;
            if let Some(i) = &m.method_integration {
                rules::method::vpc_link(tx, i).await.map_err(|b| {
                    located(
                        &import::source::join(at, "x-amazon-apigateway-integration"),
                        b.member,
                        b,
                    )
                })?;
            }
            node.row.methods.insert(m.http_method.clone(), m);
            node.changed = true;
        }
    }
    // A method the document leaves alone still has to hold with the new authorizers.
    for node in tree.values() {
        for (verb, m) in &node.row.methods {
            rules::method::method(m, &node.row.path, &authorizer_types).map_err(|b| {
                errors_found(
                    &format!("{verb} {} (a method of the API)", node.row.path),
                    b.error,
                )
            })?;
        }
    }

    // Everything holds: write it.
    store::rest_apis::save(tx, &api).await?;
    for (exists, m) in &models {
        if *exists {
            store::models::save(tx, api_id, &m.name, m).await?;
        } else {
            store::models::insert(tx, api_id, m).await?;
        }
    }
    for (exists, v) in &validators {
        if *exists {
            store::api_docs::save(tx, api_id, v).await?;
        } else {
            store::api_docs::insert(tx, api_id, v).await?;
        }
    }
    for (exists, a) in &authorizers {
        if *exists {
            store::api_docs::save(tx, api_id, a).await?;
        } else {
            store::api_docs::insert(tx, api_id, a).await?;
        }
    }
    for r in &doc.gateway_responses {
        store::gateway_responses::save(tx, api_id, r).await?;
    }
    for node in tree.values() {
        if node.new {
            store::resources::insert(tx, api_id, &node.row).await?;
        } else if node.changed {
            store::resources::save_methods(tx, api_id, &node.row).await?;
        }
    }
    Ok(api)
}

/// The resource rules for every new resource, against its siblings in the final tree.
fn check_tree(tree: &BTreeMap<String, Node>) -> ApiResult<()> {
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in tree.values() {
        if let (Some(parent), Some(part)) = (&node.row.parent_id, &node.row.path_part) {
            children.entry(parent.as_str()).or_default().push(part);
        }
    }
    let parts: BTreeMap<&str, Option<&str>> = tree
        .values()
        .map(|n| (n.row.id.as_str(), n.row.path_part.as_deref()))
        .collect();
    for node in tree.values().filter(|n| n.new) {
        let (Some(parent), Some(part)) = (&node.row.parent_id, &node.row.path_part) else {
            continue;
        };
        let siblings = children
            .get(parent.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| s != part);
        let parent_part = parts.get(parent.as_str()).copied().flatten();
        rules::resource::child(parent_part, part, siblings).map_err(|e| {
            let at = node.at.as_deref().unwrap_or(&node.row.path);
            errors_found(at, format!("{}: {e}", node.row.path))
        })?;
    }
    Ok(())
}

/// The rules of a method of the document, each error located in it.
fn check_method(
    m: &Method,
    at: &str,
    path: &str,
    dialect: Dialect,
    authorizers: &BTreeMap<String, String>,
    models: &BTreeSet<&str>,
) -> ApiResult<()> {
    validate::http_method(&m.http_method).map_err(|e| errors_found(at, e))?;
    rules::method::method(m, path, authorizers)
        .map_err(|b| located(at, method_member(dialect, b.member), b))?;
    for name in m.request_models.values() {
        if !models.contains(name.as_str()) {
            return Err(errors_found(
                &import::source::join(at, method_member(dialect, "requestModels")),
                format!("Invalid model identifier specified: {name}"),
            ));
        }
    }
    for r in m.method_responses.values() {
        let r_at = import::source::join(&import::source::join(at, "responses"), &r.status_code);
        rules::method::method_response(r)
            .map_err(|b| located(&r_at, method_response_member(dialect, b.member), b))?;
        for name in r.response_models.values() {
            if !models.contains(name.as_str()) {
                return Err(errors_found(
                    &r_at,
                    format!("Invalid model identifier specified: {name}"),
                ));
            }
        }
    }
    let Some(i) = &m.method_integration else {
        return Ok(());
    };
    let i_at = import::source::join(at, "x-amazon-apigateway-integration");
    rules::method::integration(i, m, path).map_err(|b| located(&i_at, b.member, b))?;
    for r in i.integration_responses.values() {
        let key = r.selection_pattern.as_deref().unwrap_or("default");
        let r_at = import::source::join(&import::source::join(&i_at, "responses"), key);
        rules::method::integration_response(r, m).map_err(|b| {
            let member = if b.member == "selectionPattern" {
                ""
            } else {
                b.member
            };
            located(&r_at, member, b)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_as_the_sdks_send_them() {
        let q = query_of(Some(
            "mode=import&failonwarnings=true&basepath=split&endpointConfigurationTypes=REGIONAL\
             &ignore=documentation&other=1",
        ))
        .unwrap();
        assert!(q.fail_on_warnings && q.ignore_documentation);
        assert_eq!(q.base_path, BasePath::Split);
        assert_eq!(q.endpoint_types, Some(vec!["REGIONAL".to_string()]));
        assert_eq!(q.warnings.len(), 1);
        assert!(query_of(Some("basepath=nope")).is_err());
        assert!(query_of(Some("failonwarnings=maybe")).is_err());
        assert!(query_of(Some("ignore=models")).is_err());
        assert!(!query_of(None).unwrap().fail_on_warnings);
    }

    #[test]
    fn members_merge_or_reset() {
        let api = RestApi {
            name: "old".into(),
            description: Some("kept".into()),
            api_key_source: "AUTHORIZER".into(),
            binary_media_types: vec!["image/png".into()],
            ..Default::default()
        };
        let mut doc = Imported::default();
        doc.api.name = Some("new".into());
        let q = ImportQuery::default();
        let merged = members(api.clone(), &doc, &q, false);
        assert_eq!(merged.name, "new");
        assert_eq!(merged.description.as_deref(), Some("kept"));
        assert_eq!(merged.api_key_source, "AUTHORIZER");
        let reset = members(api, &doc, &q, true);
        assert_eq!(reset.description, None);
        assert_eq!(reset.api_key_source, "HEADER");
        assert!(reset.binary_media_types.is_empty());
    }
}
