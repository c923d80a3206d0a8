//! The management API's OpenAPI 3.0 document, generated from the code.
//!
//! The route table ([`crate::api::routes`]) is a list of [`Route`]s: HTTP method, path
//! template, the AWS operation name, its success status and its handler. The server's
//! router is built from that table ([`crate::api::router`]) and so is the document
//! ([`document`]), so a route added to the server is in the document.
//!
//! What an operation takes and returns is read from its handler's signature, through
//! the [`Describe`] trait implemented for every handler function: an [`AwsJson<T>`]
//! argument is the request body (`T`'s schema), an [`AwsQuery<T>`] argument gives the
//! query parameters (`T`'s fields), a `Json<T>` result is the response body. The schemas
//! come from `schemars` derives on the wire types ([`crate::wire`]) and the request types
//! of [`crate::api`], under serde's attributes. They are generated twice: responses with
//! serde's serialize rules (a field skipped when empty is optional, one always written is
//! required), requests with its deserialize rules (a field with a default is optional).
//! Where a type reads differently from how it is written, the request side's schema is
//! named `{Name}Input`.
//!
//! Served unauthenticated at `GET /openapi.json` (see [`OPENAPI_PATH`]); it holds no
//! secret and is the same for every installation. It covers the `apigateway` API (the
//! [`crate::api`] table) and the `apigatewayv2` API under `/v2/` (the [`crate::v2`]
//! table). The v2 handlers take and give JSON documents checked against the v2 service
//! model rather than Rust types, so [`v2`] describes the model's operations from that
//! model's shapes (components `V2{Shape}`, operation ids `V2{Operation}`: v1 and v2
//! share operation names such as `CreateStage`); our v2 extensions describe themselves
//! from their handlers' types like the v1 routes.

mod v2;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::extract::{Path, RawQuery, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Json;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::extract::{AwsJson, AwsQuery};
use crate::AppState;

/// Where the control plane serves the document. No `apigateway` (nor `apigatewayv2`,
/// console or service) path starts with it.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The schema of every error body (`x-amzn-ErrorType` names the exception).
#[derive(Debug, serde::Serialize, JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorBody {
    /// What went wrong, for a person to read.
    pub message: String,
}

/// An HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    /// The lower-case name, as OpenAPI's path items key operations.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// The schema generators: one per direction of serde (see the module documentation).
pub struct Generators {
    out: SchemaGenerator,
    inp: SchemaGenerator,
}

impl Generators {
    fn new() -> Self {
        let settings = SchemaSettings::openapi3().with(|s| s.meta_schema = None);
        Self {
            out: settings.clone().for_serialize().into_generator(),
            inp: settings.for_deserialize().into_generator(),
        }
    }

    /// A response-side schema (usually a `$ref`) for `T`.
    fn response<T: JsonSchema + ?Sized>(&mut self) -> Value {
        let mut s = self.out.subschema_for::<T>();
        for t in self.out.transforms_mut() {
            t.transform(&mut s);
        }
        s.to_value()
    }

    /// A request-side schema (usually a `$ref`) for `T`.
    fn request<T: JsonSchema + ?Sized>(&mut self) -> Value {
        let mut s = self.inp.subschema_for::<T>();
        for t in self.inp.transforms_mut() {
            t.transform(&mut s);
        }
        s.to_value()
    }

    /// `T`'s fields as query parameters.
    fn query<T: JsonSchema + ?Sized>(&mut self) -> Vec<Value> {
        let mut s = T::json_schema(&mut self.inp);
        for t in self.inp.transforms_mut() {
            t.transform(&mut s);
        }
        let s = s.to_value();
        let required: BTreeSet<&str> = s["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(props) = s["properties"].as_object() else {
            return Vec::new();
        };
        props
            .iter()
            .map(|(name, schema)| {
                let mut schema = schema.clone();
                // A query parameter is absent or a string, never null.
                let description = schema.as_object_mut().and_then(|o| {
                    o.remove("nullable");
                    o.remove("description")
                });
                let mut p = json!({
                    "name": name,
                    "in": "query",
                    "required": required.contains(name.as_str()),
                    "schema": schema,
                });
                if let Some(d) = description {
                    p["description"] = d;
                }
                p
            })
            .collect()
    }
}

/// What a handler's signature says about its operation.
#[derive(Debug, Default)]
pub struct OperationDoc {
    /// Query parameter objects (request side).
    query: Vec<Value>,
    /// The request body object (request side).
    body: Option<Value>,
    /// The success response's `content` map; `None` when it has no body.
    response: Option<Value>,
}

/// A handler argument's part in the description.
pub trait DocArg {
    /// Adds what this argument reads from the request.
    fn doc(_op: &mut OperationDoc, _g: &mut Generators) {}
}

impl<S> DocArg for State<S> {}
impl<T> DocArg for Path<T> {}
impl DocArg for HeaderMap {}
impl DocArg for Uri {}
impl DocArg for RawQuery {}

impl<T: JsonSchema> DocArg for AwsJson<T> {
    fn doc(op: &mut OperationDoc, g: &mut Generators) {
        op.body = Some(json!({
            "content": {"application/json": {"schema": g.request::<T>()}},
        }));
    }
}

impl<T: JsonSchema> DocArg for AwsQuery<T> {
    fn doc(op: &mut OperationDoc, g: &mut Generators) {
        op.query.extend(g.query::<T>());
    }
}

/// The query parameters `T` names, for a handler that reads them from the raw query itself
/// (`RawQuery`, `Uri`): lists sent as repeated keys (`embed=a&embed=b`, which a typed
/// query cannot take), or keys that are not known in advance (ImportRestApi's
/// `parameters`). Extracting it reads nothing and never fails; it puts `T`'s fields, with
/// their doc comments, in the operation's description, so the handler's signature still
/// says what it reads.
pub struct DocumentedQuery<T>(std::marker::PhantomData<fn() -> T>);

impl<S: Send + Sync, T> axum::extract::FromRequestParts<S> for DocumentedQuery<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> DocArg for DocumentedQuery<T> {
    fn doc(op: &mut OperationDoc, g: &mut Generators) {
        op.query.extend(g.query::<T>());
    }
}

/// A body read as it comes (a document to import, a CSV file): any content.
fn raw_body(op: &mut OperationDoc) {
    op.body = Some(json!({
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }));
}

impl DocArg for bytes::Bytes {
    fn doc(op: &mut OperationDoc, _g: &mut Generators) {
        raw_body(op)
    }
}

impl DocArg for axum::body::Body {
    fn doc(op: &mut OperationDoc, _g: &mut Generators) {
        raw_body(op)
    }
}

impl DocArg for Request {
    fn doc(op: &mut OperationDoc, _g: &mut Generators) {
        raw_body(op)
    }
}

/// A handler result's part in the description: the success response's content.
pub trait DocResponse {
    /// The `content` map of the success response, `None` for an empty body.
    fn content(_g: &mut Generators) -> Option<Value> {
        None
    }
}

impl<T: DocResponse> DocResponse for Result<T, ApiError> {
    fn content(g: &mut Generators) -> Option<Value> {
        T::content(g)
    }
}

impl<T: JsonSchema> DocResponse for Json<T> {
    fn content(g: &mut Generators) -> Option<Value> {
        Some(json!({"application/json": {"schema": g.response::<T>()}}))
    }
}

impl<T: DocResponse> DocResponse for (StatusCode, T) {
    fn content(g: &mut Generators) -> Option<Value> {
        T::content(g)
    }
}

impl DocResponse for StatusCode {}
impl DocResponse for () {}
impl DocResponse for ApiError {}

impl DocResponse for Response {
    /// A body whose type the handler decides (an export, a CSV, a zip).
    fn content(_g: &mut Generators) -> Option<Value> {
        Some(json!({"*/*": {"schema": {"type": "string", "format": "binary"}}}))
    }
}

/// Describes an operation from its handler's type: implemented for every function whose
/// arguments are [`DocArg`]s and whose result is a [`DocResponse`].
pub trait Describe<Args> {
    /// The operation's parameters, body and response.
    fn describe(g: &mut Generators) -> OperationDoc;
}

macro_rules! describe_fn {
    ($($t:ident),*) => {
        impl<F, Fut, $($t,)*> Describe<($($t,)*)> for F
        where
            F: Fn($($t),*) -> Fut,
            Fut: Future,
            Fut::Output: DocResponse,
            $($t: DocArg,)*
        {
            fn describe(g: &mut Generators) -> OperationDoc {
                #[allow(unused_mut)]
                let mut op = OperationDoc::default();
                $(<$t as DocArg>::doc(&mut op, g);)*
                op.response = <Fut::Output as DocResponse>::content(g);
                op
            }
        }
    };
}

describe_fn!();
describe_fn!(T1);
describe_fn!(T1, T2);
describe_fn!(T1, T2, T3);
describe_fn!(T1, T2, T3, T4);
describe_fn!(T1, T2, T3, T4, T5);
describe_fn!(T1, T2, T3, T4, T5, T6);

/// A query parameter and the value that selects an operation.
type Selector = Option<(&'static str, &'static str)>;

type BoxedCall =
    Arc<dyn Fn(Request, AppState) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

/// One operation a route serves.
pub struct Operation {
    /// The operation's name (the AWS model's, for every operation it has).
    pub name: &'static str,
    /// The success status.
    pub status: u16,
    /// The query parameter and value that select this operation on a shared route
    /// (ImportRestApi is `POST /restapis?mode=import`); `None` for the route's default.
    pub when: Selector,
    describe: fn(&mut Generators) -> OperationDoc,
    call: BoxedCall,
}

/// One method on one path of the management API, with the operation(s) it serves.
pub struct Route {
    /// The HTTP method.
    pub verb: Verb,
    /// The path template (`/restapis/{restapi_id}`), as axum and OpenAPI both write it.
    pub path: String,
    /// The default operation first, then those chosen by a query parameter.
    pub operations: Vec<Operation>,
    direct: MethodRouter<AppState>,
}

fn operation<H, T, A>(name: &'static str, status: u16, when: Selector, handler: H) -> Operation
where
    H: Handler<T, AppState> + Describe<A>,
    T: 'static,
{
    let call: BoxedCall = {
        let handler = handler.clone();
        Arc::new(move |req, state| Box::pin(handler.clone().call(req, state)))
    };
    Operation {
        name,
        status,
        when,
        describe: <H as Describe<A>>::describe,
        call,
    }
}

/// A route serving one operation: `name` (its success status `status`) is `handler`.
pub fn route<H, T, A>(
    verb: Verb,
    path: impl Into<String>,
    name: &'static str,
    status: u16,
    handler: H,
) -> Route
where
    H: Handler<T, AppState> + Describe<A>,
    T: 'static,
{
    Route {
        verb,
        direct: on(verb.filter(), handler.clone()),
        path: path.into(),
        operations: vec![operation(name, status, None, handler)],
    }
}

impl Route {
    /// Another operation on the same method and path, served when the query parameter
    /// `key` is `value` (`mode=import`).
    pub fn or_when<H, T, A>(
        mut self,
        key: &'static str,
        value: &'static str,
        name: &'static str,
        status: u16,
        handler: H,
    ) -> Route
    where
        H: Handler<T, AppState> + Describe<A>,
        T: 'static,
    {
        self.operations
            .push(operation(name, status, Some((key, value)), handler));
        self
    }

    /// What axum dispatches this route to.
    pub fn method_router(&self) -> MethodRouter<AppState> {
        if self.operations.len() == 1 {
            return self.direct.clone();
        }
        let choices: Arc<Vec<(Selector, BoxedCall)>> = Arc::new(
            self.operations
                .iter()
                .map(|o| (o.when, o.call.clone()))
                .collect(),
        );
        on(
            self.verb.filter(),
            move |State(state): State<AppState>, req: Request| {
                let query = req.uri().query().unwrap_or_default();
                let chosen = choices
                    .iter()
                    .skip(1)
                    .find(|(when, _)| {
                        when.is_some_and(|(k, v)| {
                            apigw_gateway::query::last(query, k).is_some_and(|got| got == v)
                        })
                    })
                    .or(choices.first())
                    .map(|(_, call)| call.clone());
                async move {
                    match chosen {
                        Some(call) => call(req, state).await,
                        None => ApiError::UnknownOperation.into_response(),
                    }
                }
            },
        )
    }
}

/// The `apigatewayv2` API reference (its pages are per resource, not per operation).
const V2_REFERENCE: &str =
    "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/resources.html";

/// The AWS API reference page of an operation.
fn aws_reference(name: &str) -> String {
    format!("https://docs.aws.amazon.com/apigateway/latest/api/API_{name}.html")
}

/// The labels of a path template, in order.
fn path_labels(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// Rewrites every `$ref` to a renamed request-side schema.
fn rename_refs(v: &mut Value, renames: &BTreeMap<String, String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    if let Some(new) = renames.get(name) {
                        *r = format!("#/components/schemas/{new}");
                    }
                }
            }
            for child in o.values_mut() {
                rename_refs(child, renames);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rename_refs(c, renames)),
        _ => {}
    }
}

/// Drops `"default": null` where the schema does not allow null (an `Option` member with
/// `#[serde(default)]`): OpenAPI 3.0 validators refuse it and it tells a client nothing.
fn drop_null_defaults(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("default").is_some_and(Value::is_null)
                && o.get("nullable") != Some(&json!(true))
            {
                o.remove("default");
            }
            o.values_mut().for_each(drop_null_defaults);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

/// Points an operation's request side at the renamed request schemas.
fn rename_doc(doc: &mut OperationDoc, renames: &BTreeMap<String, String>) {
    if let Some(b) = doc.body.as_mut() {
        rename_refs(b, renames);
    }
    doc.query.iter_mut().for_each(|q| rename_refs(q, renames));
}

/// Response side: a property serde skips when empty is never `null` when present (an
/// `Option` written as `null` would have no `skip_serializing_if` and so be required).
fn drop_nullable_of_optional(defs: &mut Map<String, Value>) {
    for schema in defs.values_mut() {
        let required: BTreeSet<String> = schema["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, prop) in props.iter_mut() {
                if required.contains(name) {
                    continue;
                }
                let Some(p) = prop.as_object_mut() else {
                    continue;
                };
                p.remove("nullable");
                // `Option<Struct>`: `anyOf: [{$ref}, {null}]` -> `allOf: [{$ref}]`.
                if let Some(Value::Array(branches)) = p.remove("anyOf") {
                    let (nulls, rest): (Vec<Value>, Vec<Value>) = branches
                        .into_iter()
                        .partition(|b| b["enum"] == json!([null]) || b["type"] == "null");
                    let key = if nulls.is_empty() || rest.len() > 1 {
                        "anyOf"
                    } else {
                        "allOf"
                    };
                    p.insert(key.into(), Value::Array(rest));
                }
            }
        }
    }
}

struct Described<'a> {
    route: &'a Route,
    docs: Vec<OperationDoc>,
}

/// The OpenAPI object of one operation.
fn operation_object(op: &Operation, doc: OperationDoc, path: &str) -> Value {
    let mut parameters: Vec<Value> = path_labels(path)
        .into_iter()
        .map(|label| {
            json!({"name": label, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect();
    parameters.extend(doc.query);
    let mut success = json!({"description": "Success."});
    if let Some(content) = doc.response {
        success["content"] = content;
    }
    let mut o = json!({
        "operationId": op.name,
        "responses": {
            op.status.to_string(): success,
            "default": {"$ref": "#/components/responses/Error"},
        },
    });
    if !parameters.is_empty() {
        o["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = doc.body {
        o["requestBody"] = body;
    }
    o
}

/// Whether a route is one of the `apigatewayv2` API's.
fn is_v2(route: &Route) -> bool {
    route.path.starts_with("/v2/")
}

/// The OpenAPI 3.0 document of the management API whose routes are `routes`.
pub fn document(routes: &[Route]) -> Value {
    let mut g = Generators::new();
    let mut v2_schemas = Map::new();
    let described: Vec<Described> = routes
        .iter()
        .map(|route| Described {
            route,
            docs: route
                .operations
                .iter()
                .map(|o| {
                    is_v2(route)
                        .then(|| v2::describe(o.name, &mut v2_schemas))
                        .flatten()
                        .unwrap_or_else(|| (o.describe)(&mut g))
                })
                .collect(),
        })
        .collect();
    let error = g.response::<ErrorBody>();

    // Merge the two sides' schemas: the response side keeps the plain names.
    let mut schemas = g.out.take_definitions(true);
    drop_nullable_of_optional(&mut schemas);
    let mut inputs = g.inp.take_definitions(true);
    let renames: BTreeMap<String, String> = inputs
        .iter()
        .filter(|(name, schema)| schemas.get(*name).is_some_and(|s| s != *schema))
        .map(|(name, _)| (name.clone(), format!("{name}Input")))
        .collect();
    for (name, mut schema) in std::mem::take(&mut inputs) {
        rename_refs(&mut schema, &renames);
        let name = renames.get(&name).cloned().unwrap_or(name);
        schemas.entry(name).or_insert(schema);
    }
    schemas.extend(v2_schemas);

    let mut paths = Map::new();
    for Described { route, docs } in described {
        let mut docs = docs.into_iter();
        let (Some(first_op), Some(mut first_doc)) = (route.operations.first(), docs.next()) else {
            continue;
        };
        rename_doc(&mut first_doc, &renames);
        let mut object = operation_object(first_op, first_doc, &route.path);
        if is_v2(route) {
            object["operationId"] = json!(format!("V2{}", first_op.name));
            object["externalDocs"] = json!({"url": V2_REFERENCE});
            if let Some(doc) = v2::operation(first_op.name).and_then(|o| o["doc"].as_str()) {
                object["summary"] = json!(doc);
            }
        } else {
            object["externalDocs"] = json!({"url": aws_reference(first_op.name)});
        }
        let alternatives: Vec<Value> = route.operations[1..]
            .iter()
            .zip(docs)
            .map(|(op, mut doc)| {
                rename_doc(&mut doc, &renames);
                let mut alt = operation_object(op, doc, &route.path);
                if let Some((k, v)) = op.when {
                    alt["x-apigw-when-query"] = json!({ k: v });
                }
                alt["externalDocs"] = json!({"url": aws_reference(op.name)});
                alt
            })
            .collect();
        if !alternatives.is_empty() {
            // The selecting query parameter, on the default operation too.
            let mut selectors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for op in &route.operations[1..] {
                if let Some((k, v)) = op.when {
                    selectors.entry(k).or_default().push(v);
                }
            }
            let params = object["parameters"]
                .as_array_mut()
                .map(std::mem::take)
                .unwrap_or_default();
            let mut params: Vec<Value> = params
                .into_iter()
                .filter(|p| !selectors.contains_key(p["name"].as_str().unwrap_or_default()))
                .collect();
            for (k, values) in &selectors {
                params.push(json!({
                    "name": k,
                    "in": "query",
                    "required": false,
                    "description": "Selects another operation of this method and path (see x-apigw-operations).",
                    "schema": {"type": "string", "enum": values},
                }));
            }
            object["parameters"] = Value::Array(params);
            object["description"] = Value::String(format!(
                "{}; with {} instead: {}.",
                route.operations[0].name,
                route.operations[1..]
                    .iter()
                    .filter_map(|o| o.when.map(|(k, v)| format!("`{k}={v}`")))
                    .collect::<Vec<_>>()
                    .join(", "),
                route.operations[1..]
                    .iter()
                    .map(|o| o.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            object["x-apigw-operations"] = Value::Array(alternatives);
        }
        let item = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        item[route.verb.as_str()] = object;
    }

    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "apigw management API",
            "description": "The `apigateway` management REST API of this gateway (the shape of Amazon API Gateway's, version 2015-07-09), and its `apigatewayv2` API under `/v2/` (version 2018-11-29: WebSocket APIs), generated from the control plane's route tables, wire types and, for v2, the service model its handlers check against. Requests are signed with AWS Signature Version 4 (service `apigateway`) or carry a console session.",
            "version": "2015-07-09",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "An error; `x-amzn-ErrorType` names the exception (BadRequestException, NotFoundException, ...).",
                    "headers": {
                        "x-amzn-ErrorType": {"schema": {"type": "string"}},
                    },
                    "content": {"application/json": {"schema": error}},
                },
            },
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "AWS Signature Version 4, service `apigateway` (the AWS CLI, SDKs and Terraform sign requests so).",
                },
                "consoleSession": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A console session's access token (`POST /console/api/session`), or its `apigw_session` cookie with the `X-CSRF-Token` header on unsafe methods.",
                },
            },
        },
        "security": [{"sigv4": []}, {"consoleSession": []}],
    });
    drop_null_defaults(&mut doc);
    doc
}

/// The document of this control plane's routes, rendered once.
pub fn served_document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut routes = crate::api::routes();
        routes.extend(crate::v2::routes());
        serde_json::to_string_pretty(&document(&routes)).unwrap_or_default()
    })
}

/// `GET /openapi.json`.
pub async fn serve() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        served_document(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        serde_json::from_str(served_document()).expect("the document is JSON")
    }

    /// `{label}` -> `{}`: the model and the router may name a label differently
    /// (CreateResource's `parent_id` is the `resource_id` of its path here).
    fn shape(path: &str) -> String {
        path.split('/')
            .map(|s| if s.starts_with('{') { "{}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The schema a `$ref` points at.
    fn resolve<'a>(doc: &'a Value, r: &Value) -> &'a Value {
        let name = r["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("not a schema $ref: {r}"));
        &doc["components"]["schemas"][name]
    }

    fn fields(schema: &Value) -> Vec<&str> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn required(schema: &Value) -> Vec<&str> {
        schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_document_is_openapi_3() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.0.3");
        let parsed: openapiv3::OpenAPI =
            serde_json::from_value(doc.clone()).expect("an OpenAPI 3.0 document");
        assert!(parsed.paths.paths.len() > 50);
        // Every `$ref` points at a component that exists.
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        out.push(r);
                    }
                    o.values().for_each(|c| refs(c, out));
                }
                Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in all {
            let mut at = &doc;
            for seg in r.trim_start_matches("#/").split('/') {
                at = &at[seg];
            }
            assert!(!at.is_null(), "dangling $ref {r}");
        }
    }

    /// Every operation of the AWS model is in the document at its method and path (query
    /// selected ones in `x-apigw-operations`), with the model's success status.
    #[test]
    fn every_model_operation_is_documented() {
        let doc = doc();
        let model: Value =
            serde_json::from_str(include_str!("../../tests/data/apigateway-operations.json"))
                .expect("the vendored operations");
        let ops = model["operations"].as_array().expect("operations");
        assert_eq!(ops.len(), 124);
        let by_shape: BTreeMap<String, &Value> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .map(|(p, item)| (shape(p), item))
            .collect();
        let mut documented = BTreeSet::new();
        for op in ops {
            let name = op["name"].as_str().unwrap_or_default();
            let uri = op["requestUri"].as_str().unwrap_or_default();
            let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
            let method = op["method"].as_str().unwrap_or_default().to_lowercase();
            let item = by_shape
                .get(&shape(path))
                .unwrap_or_else(|| panic!("{name}: no path {path} in the document"));
            let operation = &item[method.as_str()];
            assert!(
                operation.is_object(),
                "{name}: no {method} on {path} in the document"
            );
            let operation = if query.is_empty() {
                operation
            } else {
                let (k, v) = query.split_once('=').unwrap_or((query, ""));
                operation["x-apigw-operations"]
                    .as_array()
                    .and_then(|alts| alts.iter().find(|a| a["x-apigw-when-query"][k] == v))
                    .unwrap_or_else(|| panic!("{name}: no operation for {query} on {path}"))
            };
            assert_eq!(operation["operationId"], name, "{method} {uri}");
            let status = op["responseCode"].as_u64().unwrap_or(200).to_string();
            assert!(
                operation["responses"][&status].is_object(),
                "{name}: the document's success status is not the model's {status}: {}",
                operation["responses"]
            );
            documented.insert(name.to_string());
        }
        // What the document has beyond the model: the console's conveniences, named here
        // so that an operation added to the table without an AWS name shows.
        let mut extra = Vec::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for operation in item.as_object().expect("path item").values() {
                let id = operation["operationId"].as_str().unwrap_or_default();
                // The v2 API's are checked by `v2_routes_are_the_models_operations`.
                if !documented.contains(id) && !id.starts_with("V2") {
                    extra.push(id.to_string());
                }
            }
        }
        extra.sort();
        assert_eq!(extra, ["EnableCors", "ExportUsage"]);
    }

    /// Every route of the v2 table is a model operation at the model's method, path and
    /// success status, described from the model's shapes, or one of our extensions.
    #[test]
    fn v2_routes_are_the_models_operations() {
        let doc = doc();
        let mut extensions = Vec::new();
        for route in crate::v2::routes() {
            for op in &route.operations {
                let Some(model) = v2::operation(op.name) else {
                    extensions.push(op.name);
                    continue;
                };
                assert_eq!(
                    model["method"].as_str().map(str::to_lowercase).as_deref(),
                    Some(route.verb.as_str()),
                    "{}",
                    op.name
                );
                assert_eq!(
                    shape(model["uri"].as_str().unwrap_or_default()),
                    shape(&route.path)
                );
                assert_eq!(model["status"], json!(op.status), "{}", op.name);
                let documented = &doc["paths"][&route.path][route.verb.as_str()];
                assert_eq!(documented["operationId"], format!("V2{}", op.name));
                assert!(documented["responses"][op.status.to_string()].is_object());
            }
        }
        assert_eq!(
            extensions,
            ["GetConnectionCount", "GetApiUsage", "ExportWebSocketUsage"],
            "extensions (document them in docs/websocket.md)"
        );
        // The model's shapes, with its wire names, required members and enums.
        let schemas = &doc["components"]["schemas"];
        let create_route = &schemas["V2CreateRouteRequest"];
        assert_eq!(required(create_route), ["routeKey"]);
        assert!(fields(create_route).contains(&"authorizationType"));
        assert_eq!(
            create_route["properties"]["authorizationType"]["enum"],
            json!(["NONE", "AWS_IAM", "CUSTOM", "JWT"])
        );
        let routes = &doc["paths"]["/v2/apis/{api_id}/routes"]["get"];
        let page = resolve(
            &doc,
            &routes["responses"]["200"]["content"]["application/json"]["schema"],
        );
        assert_eq!(
            page["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/V2Route"
        );
        let names: Vec<&str> = routes["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["api_id", "maxResults", "nextToken"]);
        // An extension describes itself from its handler's types.
        let usage = &doc["paths"]["/v2/apis/{api_id}/usage"]["get"];
        let body = resolve(
            &doc,
            &usage["responses"]["200"]["content"]["application/json"]["schema"],
        );
        assert!(fields(body).contains(&"items"), "{body}");
    }

    #[test]
    fn schemas_are_the_wire_types() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let rest_api = &schemas["RestApi"];
        for f in [
            "id",
            "name",
            "createdDate",
            "rootResourceId",
            "endpointConfiguration",
        ] {
            assert!(fields(rest_api).contains(&f), "RestApi.{f}: {rest_api}");
            assert!(
                required(rest_api).contains(&f),
                "RestApi.{f} is always sent"
            );
        }
        // Omitted when empty: optional, and never null when sent.
        assert!(!required(rest_api).contains(&"description"));
        assert!(rest_api["properties"]["description"]["nullable"].is_null());
        assert_eq!(rest_api["properties"]["createdDate"]["type"], "integer");
        assert_eq!(
            rest_api["properties"]["endpointConfiguration"]["allOf"][0]["$ref"],
            "#/components/schemas/EndpointConfiguration"
        );
        let integration = &schemas["Integration"];
        assert!(fields(integration).contains(&"type"), "serde's rename");
        assert!(fields(integration).contains(&"integrationResponses"));
        let stage = &schemas["Stage"];
        for f in ["stageName", "deploymentId", "methodSettings", "createdDate"] {
            assert!(fields(stage).contains(&f), "Stage.{f}");
        }
        for (schema, f) in [
            ("Resource", "path"),
            ("Method", "httpMethod"),
            ("Deployment", "id"),
            ("ApiKey", "enabled"),
            ("UsagePlan", "apiStages"),
            ("Authorizer", "providerARNs"),
        ] {
            assert!(fields(&schemas[schema]).contains(&f), "{schema}.{f}");
        }

        let paths = &doc["paths"];
        // GetRestApis answers a page of RestApis.
        let page = resolve(
            &doc,
            &paths["/restapis"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        );
        assert_eq!(
            page["properties"]["item"]["items"]["$ref"],
            "#/components/schemas/RestApi"
        );
        let limit = paths["/restapis"]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
            .expect("GetRestApis takes limit");
        assert_eq!(limit["in"], "query");
        // CreateRestApi's body is its request type, every member optional.
        let create = &paths["/restapis"]["post"];
        let body = resolve(
            &doc,
            &create["requestBody"]["content"]["application/json"]["schema"],
        );
        assert!(fields(body).contains(&"name"));
        assert!(fields(body).contains(&"cloneFrom"));
        assert!(required(body).is_empty());
        assert_eq!(
            create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RestApi"
        );
        // Path labels are parameters.
        let get_stage = &paths["/restapis/{restapi_id}/stages/{stage_name}"]["get"];
        let names: Vec<&str> = get_stage["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["restapi_id", "stage_name"]);
        // Updates take patch operations.
        let patch = resolve(
            &doc,
            &paths["/restapis/{restapi_id}"]["patch"]["requestBody"]["content"]["application/json"]
                ["schema"],
        );
        assert!(fields(patch).contains(&"patchOperations"));
        // A type read with defaults and written in full has two schemas.
        let throttle_in = &schemas["ThrottleSettingsInput"];
        assert!(required(throttle_in).is_empty(), "{throttle_in}");
        assert_eq!(
            required(&schemas["ThrottleSettings"]),
            ["burstLimit", "rateLimit"]
        );
    }

    /// The console's snapshot (`web-console/src/api/openapi.json`, what its TypeScript
    /// types are generated from) is this document. `APIGW_WRITE_OPENAPI=1` rewrites it.
    #[test]
    fn the_console_snapshot_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../web-console/src/api/openapi.json");
        let current = format!("{}\n", served_document());
        if std::env::var_os("APIGW_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, &current).expect("writing the snapshot");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == current,
            "{} is not the document the code generates: run \
             `APIGW_WRITE_OPENAPI=1 cargo test -p apigw-control-plane --lib openapi`, then \
             `npm run gen:api` in web-console/, and commit both",
            path.display()
        );
    }
}
