//! TestInvokeMethod (`POST .../resources/{id}/methods/{m}`): runs one request through a
//! method of the current, undeployed API and reports status, headers, body, latency and
//! an execution log in AWS's shape.
//!
//! How: the method (and its resource) is compiled to a one-method snapshot by the
//! deployment compiler, the engine's stage compiler turns it into its serving form, and
//! the engine ([`apigw_gateway::Gateway`], the same one the nodes run) serves the request,
//! called directly with the buffered body. So the test run takes exactly the path a
//! deployed request takes — templates, integration (functions through `--functions-url`,
//! as on a node), integration responses, gateway responses — without a node and without
//! deploying. As in API Gateway, API keys and throttling are bypassed. The engine traces
//! the integration step ("Endpoint request URI", "Endpoint response body before
//! transformations", …) and any failure ("Execution failed due to …") into the log.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use apigw_gateway::backend_client::{self, BackendClient};
use apigw_gateway::phases::authorize::Authorizers;
use apigw_gateway::phases::integration::invoke_api::{FunctionsEndpoint, FunctionsUrlError};
use apigw_gateway::state::{apply_update, GatewayState, SharedState};
use apigw_gateway::trace::{java_map, lines, ExecutionTrace};
use apigw_gateway::{Gateway, Peer};
use apigw_proto::config as pb;
use axum::extract::{Path, State};
use axum::Json;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST};
use http::{Method as HttpMethod, Request};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;

use crate::compiler;
use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::store;
use crate::wire::{TestInvokeAuthorizerResponse, TestInvokeMethodResponse};
use crate::AppState;

/// The stage name test invocations run under (as API Gateway's `test-invoke-stage`).
const TEST_STAGE: &str = "test-invoke-stage";
/// The invoke domain of the in-memory gateway.
const TEST_DOMAIN: &str = "test-invoke.internal";

/// What test invocations share: one backend client (its connection pool) and the Invoke
/// API of function integrations (`--functions-url`), as a node has.
#[derive(Debug, Clone)]
pub struct TestInvoker {
    client: BackendClient,
    functions: Option<FunctionsEndpoint>,
    /// TestInvokeAuthorizer's JWT verifier (its key cache outlives one call).
    authorizers: Arc<Authorizers>,
}

impl TestInvoker {
    /// An invoker calling functions at `functions_url` (none when unset or blank).
    pub fn new(functions_url: Option<&str>) -> Result<Self, FunctionsUrlError> {
        let functions = functions_url
            .filter(|url| !url.trim().is_empty())
            .map(FunctionsEndpoint::new)
            .transpose()?;
        if functions.is_none() {
            tracing::info!(
                "no --functions-url: test invocations of function integrations answer 500"
            );
        }
        Ok(TestInvoker {
            client: backend_client::build(),
            functions,
            authorizers: Arc::default(),
        })
    }
}

/// Body of TestInvokeMethod.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeMethod {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
    client_certificate_id: Option<String>,
}

/// POST /restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}
pub async fn invoke(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
    AwsJson(req): AwsJson<TestInvokeMethod>,
) -> ApiResult<Json<TestInvokeMethodResponse>> {
    if req.client_certificate_id.is_some() {
        return Err(ApiError::bad_request(
            "clientCertificateId is not supported by test invocations",
        ));
    }
    let (stage, resource_path) = {
        let mut conn = state.db.acquire().await?;
        let api = store::rest_apis::load(&mut conn, &api_id, false).await?;
        let resources = store::resources::all(&mut conn, &api_id).await?;
        let mut resource = resources
            .into_iter()
            .find(|r| r.id == rid)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))?;
        let mut method = resource.method(&http_method)?.clone();
        // Test invocations bypass API keys and authorization, as API Gateway's do.
        method.api_key_required = false;
        method.authorization_type = "NONE".into();
        method.authorizer_id = None;
        method.authorization_scopes.clear();
        resource.methods = [(http_method.clone(), method)].into_iter().collect();
        let path = resource.path.clone();
        let (mut snapshot, _) = compiler::compile(&api, &[resource], "test-invoke", 0)?;
        compiler::attach_api_items(
            &mut snapshot,
            &store::deployments::api_items(&mut conn, &api_id).await?,
        );
        snapshot.region = state.region.clone();
        snapshot.account_id = store::account_id().into();
        (
            pb::StageConfig {
                api_id: api_id.clone(),
                stage_name: TEST_STAGE.into(),
                deployment_id: "test-invoke".into(),
                variables: req.stage_variables.clone().into_iter().collect(),
                deployment: Some(snapshot),
                ..Default::default()
            },
            path,
        )
    };
    let update = pb::ConfigUpdate {
        full: true,
        upsert_stages: vec![stage],
        ..Default::default()
    };
    let compiled = apply_update(&GatewayState::default(), &update)
        .map_err(|e| ApiError::bad_request(format!("The method cannot be invoked: {e}")))?;
    let shared = Arc::new(SharedState::new());
    shared.store(compiled);
    let invoker = &state.test_invoker;
    let mut gateway = Gateway::new(shared, invoker.client.clone(), TEST_DOMAIN);
    if let Some(functions) = &invoker.functions {
        gateway = gateway.with_functions(functions.clone());
    }

    let request = build_request(&api_id, &http_method, &resource_path, &req)?;
    let log_request = request_log_lines(&http_method, &resource_path, &req);
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc();
    let trace = Arc::new(ExecutionTrace::new());
    let (status, headers, body) = run(&gateway, request, Arc::clone(&trace)).await?;
    let latency = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);

    let mut single = BTreeMap::new();
    let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        single.insert(name.to_string(), value.clone());
        multi.entry(name.to_string()).or_default().push(value);
    }
    let request_id = headers
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut lines = log_request;
    lines.extend(trace.lines());
    let log = execution_log(&request_id, started_at, &lines, status, &single, &body);
    Ok(Json(TestInvokeMethodResponse {
        status,
        body,
        headers: single,
        multi_value_headers: multi,
        log,
        latency,
    }))
}

/// Body of TestInvokeAuthorizer.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeAuthorizer {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
}

/// POST /restapis/{restapi_id}/authorizers/{authorizer_id} (TestInvokeAuthorizer): runs
/// the authorizer once, uncached, for a request to `pathWithQueryString` (GET) with
/// `headers`, as a method using it would, and reports what it answered.
pub async fn authorizer(
    State(state): State<AppState>,
    Path((api_id, authorizer_id)): Path<(String, String)>,
    AwsJson(req): AwsJson<TestInvokeAuthorizer>,
) -> ApiResult<Json<TestInvokeAuthorizerResponse>> {
    let authorizer: crate::wire::Authorizer = {
        let mut conn = state.db.acquire().await?;
        store::rest_apis::load(&mut conn, &api_id, false).await?;
        store::api_docs::load(&mut conn, &api_id, &authorizer_id, false).await?
    };
    let authorization_type = if authorizer.authorizer_type == "COGNITO_USER_POOLS" {
        "COGNITO_USER_POOLS"
    } else {
        "CUSTOM"
    };
    // Every path reaches one method guarded by the authorizer.
    let method = pb::Method {
        http_method: "ANY".into(),
        authorization_type: authorization_type.into(),
        authorizer_id: authorizer_id.clone(),
        integration: Some(pb::Integration {
            r#type: "MOCK".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let snapshot = pb::DeploymentSnapshot {
        api_id: api_id.clone(),
        deployment_id: "test-invoke".into(),
        format_version: apigw_proto::SNAPSHOT_FORMAT_VERSION,
        region: state.region.clone(),
        account_id: store::account_id().into(),
        authorizers: vec![super::rules::authorizer::to_snapshot(&authorizer)],
        resources: vec![
            pb::Resource {
                id: "root".into(),
                path: "/".into(),
                methods: vec![method.clone()],
                ..Default::default()
            },
            pb::Resource {
                id: "proxy".into(),
                parent_id: "root".into(),
                path_part: "{proxy+}".into(),
                path: "/{proxy+}".into(),
                methods: vec![method],
            },
        ],
        ..Default::default()
    };
    let update = pb::ConfigUpdate {
        full: true,
        upsert_stages: vec![pb::StageConfig {
            api_id: api_id.clone(),
            stage_name: TEST_STAGE.into(),
            deployment_id: "test-invoke".into(),
            variables: req.stage_variables.clone().into_iter().collect(),
            deployment: Some(snapshot),
            ..Default::default()
        }],
        ..Default::default()
    };
    let compiled = apply_update(&GatewayState::default(), &update)
        .map_err(|e| ApiError::bad_request(format!("The authorizer cannot be invoked: {e}")))?;
    let shared = Arc::new(SharedState::new());
    shared.store(compiled);
    let invoker = &state.test_invoker;
    let mut gateway = Gateway::new(shared, invoker.client.clone(), TEST_DOMAIN)
        .with_authorizers(Arc::clone(&invoker.authorizers));
    if let Some(functions) = &invoker.functions {
        gateway = gateway.with_functions(functions.clone());
    }
    let as_method = TestInvokeMethod {
        path_with_query_string: req.path_with_query_string.clone(),
        body: req.body.clone(),
        headers: req.headers.clone(),
        multi_value_headers: req.multi_value_headers.clone(),
        ..Default::default()
    };
    let request = build_request(&api_id, "GET", "/", &as_method)?;
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc();
    let trace = Arc::new(ExecutionTrace::new());
    let outcome = gateway
        .test_authorizer(
            request,
            &Peer::from(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Arc::clone(&trace),
        )
        .await
        .map_err(|e| ApiError::bad_request(format!("The authorizer cannot be invoked: {e}")))?;
    let latency = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let stamp = log_time(started_at);
    let mut log = format!(
        "Execution log for authorizer {} ({})\n",
        authorizer.name, authorizer.id
    );
    for line in trace.lines() {
        log.push_str(&format!("{stamp} : {line}\n"));
    }
    let result = outcome.result.as_deref();
    let claims: BTreeMap<String, String> = result
        .map(|r| {
            r.claims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    // The identity the authorizer was given, by source.
    let authorization: BTreeMap<String, Vec<String>> = authorizer
        .identity_source
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("method.request.header."))
        .filter_map(|name| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| (name.to_string(), vec![v.clone()]))
        })
        .collect();
    Ok(Json(TestInvokeAuthorizerResponse {
        client_status: outcome.client_status,
        principal_id: result
            .and_then(|r| r.principal_id.as_deref())
            .map(str::to_string),
        policy: result.and_then(|r| r.policy.as_deref()).map(str::to_string),
        authorization,
        claims,
        latency,
        log,
    }))
}

/// The request as the in-memory gateway receives it: invoke host, stage prefix, the
/// caller's path, headers and body.
fn build_request(
    api_id: &str,
    http_method: &str,
    resource_path: &str,
    req: &TestInvokeMethod,
) -> ApiResult<Request<Full<Bytes>>> {
    let method = if http_method.eq_ignore_ascii_case("ANY") {
        HttpMethod::GET
    } else {
        HttpMethod::from_bytes(http_method.to_ascii_uppercase().as_bytes())
            .map_err(|_| ApiError::bad_request("Invalid HTTP method"))?
    };
    let path = req
        .path_with_query_string
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or(resource_path);
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("/{TEST_STAGE}{path}"))
        .header(HOST, format!("{api_id}.{TEST_DOMAIN}"));
    let bad = |what: &str| ApiError::bad_request(format!("Invalid {what} in test request"));
    for (name, values) in &req.multi_value_headers {
        for value in values {
            builder = builder.header(
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("header name"))?,
                HeaderValue::from_str(value).map_err(|_| bad("header value"))?,
            );
        }
    }
    for (name, value) in &req.headers {
        if name.eq_ignore_ascii_case("host") {
            continue;
        }
        builder = builder.header(
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("header name"))?,
            HeaderValue::from_str(value).map_err(|_| bad("header value"))?,
        );
    }
    let body = Bytes::from(req.body.clone().unwrap_or_default());
    builder
        .body(Full::new(body))
        .map_err(|_| bad("path or query string"))
}

/// Serves `request` with `gateway` and reads the whole response.
async fn run(
    gateway: &Gateway,
    request: Request<Full<Bytes>>,
    trace: Arc<ExecutionTrace>,
) -> ApiResult<(u16, http::HeaderMap, Bytes)> {
    let peer = Peer::from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let response = gateway.handle_traced(request, &peer, trace).await;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| ApiError::Internal(format!("test invocation response body: {e}")))?
        .to_bytes();
    Ok((parts.status.as_u16(), parts.headers, body))
}

/// The request part of the execution log, in the engine's wording (`trace::lines`, the
/// nodes' execution logs write the same lines).
fn request_log_lines(
    http_method: &str,
    resource_path: &str,
    req: &TestInvokeMethod,
) -> Vec<String> {
    let path = req
        .path_with_query_string
        .as_deref()
        .unwrap_or(resource_path);
    let query = path.split_once('?').map_or("", |(_, q)| q);
    // The engine's parser: each key's last value, decoded.
    let query: BTreeMap<_, _> = apigw_gateway::query::pairs(query).collect();
    vec![
        lines::method(http_method, resource_path),
        lines::request_path(&java_map(
            apigw_gateway::trace::path_params(
                resource_path,
                path.split('?').next().unwrap_or(path),
            )
            .into_iter(),
        )),
        lines::request_query(&java_map(
            query.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        )),
        lines::request_headers(&java_map(
            req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )),
        lines::request_body(req.body.as_deref().unwrap_or_default()),
    ]
}

/// The execution log: a header line, then `{timestamp} : {message}` lines (the method
/// request, what the integration step traced, then the method response).
fn execution_log(
    request_id: &str,
    started_at: time::OffsetDateTime,
    request_lines: &[String],
    status: u16,
    headers: &BTreeMap<String, String>,
    body: &str,
) -> String {
    let stamp = log_time(started_at);
    let headers = java_map(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut out = vec![format!("Execution log for request {request_id}")];
    let mut push = |message: String| out.push(format!("{stamp} : {message}"));
    push(lines::starting(request_id));
    for line in request_lines {
        push(line.clone());
    }
    push(lines::response_body(body));
    push(lines::response_headers(&headers));
    for line in lines::completed(status) {
        push(line);
    }
    let mut log = out.join("\n");
    log.push('\n');
    log
}

/// `Sun Nov 22 02:11:55 UTC 2026`, the timestamp of API Gateway's execution logs.
fn log_time(at: time::OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = DAYS
        .get(usize::from(at.weekday().number_days_from_monday()))
        .copied()
        .unwrap_or("Mon");
    let month = MONTHS
        .get(usize::from(u8::from(at.month())).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{day} {month} {:02} {:02}:{:02}:{:02} UTC {}",
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_time_has_aws_shape() {
        let at = time::macros::datetime!(2026-11-22 02:11:55 UTC);
        assert_eq!(log_time(at), "Sun Nov 22 02:11:55 UTC 2026");
    }

    #[test]
    fn request_is_addressed_to_the_test_stage() {
        let req = TestInvokeMethod {
            path_with_query_string: Some("/pets/1?x=y".into()),
            headers: BTreeMap::from([("Accept".into(), "text/plain".into())]),
            body: Some("hi".into()),
            ..Default::default()
        };
        let r = build_request("abc", "GET", "/pets/{id}", &req).unwrap();
        assert_eq!(r.uri().to_string(), "/test-invoke-stage/pets/1?x=y");
        assert_eq!(r.headers()[HOST], "abc.test-invoke.internal");
        assert_eq!(r.headers()["accept"], "text/plain");
        let bad = TestInvokeMethod {
            headers: BTreeMap::from([("bad header".into(), "v".into())]),
            ..Default::default()
        };
        assert!(build_request("abc", "GET", "/", &bad).is_err());
    }

    #[test]
    fn log_lists_request_and_outcome() {
        let req = TestInvokeMethod {
            path_with_query_string: Some("/p?a=1".into()),
            ..Default::default()
        };
        let lines = request_log_lines("GET", "/p", &req);
        let at = time::macros::datetime!(2026-11-22 02:11:55 UTC);
        let log = execution_log("rid", at, &lines, 200, &BTreeMap::new(), "{}");
        assert!(log.starts_with("Execution log for request rid\n"));
        assert!(log.contains("Sun Nov 22 02:11:55 UTC 2026 : Method request query string: {a=1}"));
        assert!(
            log.ends_with("Method completed with status: 200\n"),
            "{log}"
        );
    }
}
