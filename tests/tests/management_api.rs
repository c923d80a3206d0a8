//! The management API against a real control plane process: every validation error the
//! walking-skeleton issue lists (status, `x-amzn-ErrorType`, a message saying what is
//! wrong), SigV4 failures with AWS's error types, and the wire shape (paging, `embed`,
//! `patchOperations`, subtree deletion, immutable deployments, stage fields).

use std::time::Duration;

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::rest_api::{self, add_resource, method_path, new_api, text};
use apigw_e2e::{eventually, fresh_database, Cluster, ControlPlane, Mgmt};
use http::HeaderMap;
use serde_json::{json, Value};

async fn control_plane() -> ControlPlane {
    ControlPlane::start(&fresh_database().await.expect("a test database")).await
}

/// A `verb` method on `resource` answering `{"v": "<tag>"}` through a MOCK integration.
async fn mock_method(m: &Mgmt, api: &str, resource: &str, verb: &str, tag: &str) {
    rest_api::mock_method(m, api, resource, verb, &format!("{{\"v\": \"{tag}\"}}")).await;
}

/// Members of the `Stage` shape in the service model.
const STAGE_MEMBERS: &[&str] = &[
    "accessLogSettings",
    "cacheClusterEnabled",
    "cacheClusterSize",
    "cacheClusterStatus",
    "canarySettings",
    "clientCertificateId",
    "createdDate",
    "deploymentId",
    "description",
    "documentationVersion",
    "lastUpdatedDate",
    "methodSettings",
    "stageName",
    "tags",
    "tracingEnabled",
    "variables",
    "webAclArn",
];

/// Members of the `Deployment` shape in the service model.
const DEPLOYMENT_MEMBERS: &[&str] = &["apiSummary", "createdDate", "description", "id"];

/// Members of the `RestApi` shape in the service model.
const REST_API_MEMBERS: &[&str] = &[
    "apiKeySource",
    "apiStatus",
    "apiStatusMessage",
    "binaryMediaTypes",
    "createdDate",
    "description",
    "disableExecuteApiEndpoint",
    "endpointAccessMode",
    "endpointConfiguration",
    "id",
    "minimumCompressionSize",
    "name",
    "policy",
    "rootResourceId",
    "securityPolicy",
    "tags",
    "version",
    "warnings",
];

/// Members of the `Resource` shape in the service model.
const RESOURCE_MEMBERS: &[&str] = &["id", "parentId", "path", "pathPart", "resourceMethods"];

/// Members of the `Method` shape in the service model.
const METHOD_MEMBERS: &[&str] = &[
    "apiKeyRequired",
    "authorizationScopes",
    "authorizationType",
    "authorizerId",
    "httpMethod",
    "methodIntegration",
    "methodResponses",
    "operationName",
    "requestModels",
    "requestParameters",
    "requestValidatorId",
];

/// Members of the `Integration` shape in the service model.
const INTEGRATION_MEMBERS: &[&str] = &[
    "cacheKeyParameters",
    "cacheNamespace",
    "connectionId",
    "connectionType",
    "contentHandling",
    "credentials",
    "httpMethod",
    "integrationResponses",
    "integrationTarget",
    "passthroughBehavior",
    "requestParameters",
    "requestTemplates",
    "responseTransferMode",
    "timeoutInMillis",
    "tlsConfig",
    "type",
    "uri",
];

/// Members of the `MethodResponse` shape in the service model.
const METHOD_RESPONSE_MEMBERS: &[&str] = &["responseModels", "responseParameters", "statusCode"];

/// Members of the `IntegrationResponse` shape in the service model.
const INTEGRATION_RESPONSE_MEMBERS: &[&str] = &[
    "contentHandling",
    "responseParameters",
    "responseTemplates",
    "selectionPattern",
    "statusCode",
];

/// Members of the paged list shapes (`items` is `item` on the wire).
const PAGE_MEMBERS: &[&str] = &["item", "position"];

/// Fails unless every member of `value` is one of `members`.
fn assert_members(shape: &str, value: &Value, members: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{shape} is a JSON object: {value}"));
    for key in object.keys() {
        assert!(
            members.contains(&key.as_str()),
            "{shape} has no member {key}: {value}"
        );
    }
}

fn assert_mentions(message: &str, needles: &[&str]) {
    for n in needles {
        assert!(
            message.to_lowercase().contains(&n.to_lowercase()),
            "message {message:?} should mention {n:?}"
        );
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["item"]
        .as_array()
        .map(|items| items.iter().map(|i| text(&i["id"])).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parts_and_sibling_rules() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "paths").await;
    let create = |parent: String, body: Value| {
        let m = m.clone();
        let api = api.clone();
        async move {
            m.post(&format!("/restapis/{api}/resources/{parent}"), body)
                .await
        }
    };

    for bad in ["a/b", "{bad", "bad}", "{}", "{a+b}", "sp ace"] {
        let msg = create(root.clone(), json!({ "pathPart": bad }))
            .await
            .err(400, "BadRequestException");
        assert_mentions(&msg, &["path part"]);
    }
    let msg = create(root.clone(), json!({ "pathPart": "" }))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["path part", "required"]);
    let msg = create(root.clone(), json!({}))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["pathPart"]);

    let pets = add_resource(&m, &api, &root, "pets").await;
    let msg = create(root.clone(), json!({ "pathPart": "pets" }))
        .await
        .err(409, "ConflictException");
    assert_mentions(&msg, &["same parent", "pets"]);

    // One variable segment per level.
    add_resource(&m, &api, &pets, "{id}").await;
    let msg = create(pets.clone(), json!({ "pathPart": "{name}" }))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["{id}", "variable"]);
    let msg = create(pets.clone(), json!({ "pathPart": "{id}" }))
        .await
        .err(409, "ConflictException");
    assert_mentions(&msg, &["{id}"]);

    // Nothing below a greedy segment.
    let greedy = add_resource(&m, &api, &root, "{proxy+}").await;
    let msg = create(greedy, json!({ "pathPart": "x" }))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["greedy"]);

    // Renaming into a duplicate is the same conflict.
    let toys = add_resource(&m, &api, &root, "toys").await;
    let msg = m
        .patch(
            &format!("/restapis/{api}/resources/{toys}"),
            json!([{"op": "replace", "path": "/pathPart", "value": "pets"}]),
        )
        .await
        .err(409, "ConflictException");
    assert_mentions(&msg, &["pets"]);
    let msg = m
        .patch(
            &format!("/restapis/{api}/resources/{toys}"),
            json!([{"op": "replace", "path": "/pathPart", "value": "a/b"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["path part"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_not_found() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "ids").await;
    let pets = add_resource(&m, &api, &root, "pets").await;
    // GET /pets exists without an integration; nothing else does.
    m.put(
        &method_path(&api, &pets, "GET"),
        json!({"authorizationType": "NONE"}),
    )
    .await
    .ok();

    let nf = |a: apigw_e2e::mgmt::Answer| a.err(404, "NotFoundException");

    // Unknown REST API, on every family of calls.
    for path in [
        "/restapis/nosuchapi".to_string(),
        "/restapis/nosuchapi/resources".to_string(),
        format!("/restapis/nosuchapi/resources/{root}"),
        "/restapis/nosuchapi/deployments".to_string(),
        "/restapis/nosuchapi/stages".to_string(),
    ] {
        assert_mentions(&nf(m.get(&path).await), &["API identifier", "nosuchapi"]);
    }
    assert_mentions(
        &nf(m
            .post(
                &format!("/restapis/nosuchapi/resources/{root}"),
                json!({"pathPart": "x"}),
            )
            .await),
        &["API identifier", "nosuchapi"],
    );
    assert_mentions(
        &nf(m
            .patch(
                "/restapis/nosuchapi",
                json!([{"op": "replace", "path": "/name", "value": "x"}]),
            )
            .await),
        &["API identifier"],
    );
    assert_mentions(
        &nf(m.delete("/restapis/nosuchapi").await),
        &["API identifier"],
    );

    // Unknown resource.
    let gone = format!("/restapis/{api}/resources/nosuch");
    assert_mentions(&nf(m.get(&gone).await), &["Resource identifier"]);
    assert_mentions(
        &nf(m.post(&gone, json!({"pathPart": "x"})).await),
        &["Resource identifier"],
    );
    assert_mentions(&nf(m.delete(&gone).await), &["Resource identifier"]);
    assert_mentions(
        &nf(m
            .put(
                &format!("{gone}/methods/GET"),
                json!({"authorizationType": "NONE"}),
            )
            .await),
        &["Resource identifier"],
    );

    // Unknown method.
    let post = method_path(&api, &pets, "POST");
    assert_mentions(&nf(m.get(&post).await), &["Method identifier"]);
    assert_mentions(&nf(m.delete(&post).await), &["Method identifier"]);
    assert_mentions(
        &nf(m
            .put(&format!("{post}/integration"), json!({"type": "MOCK"}))
            .await),
        &["Method identifier"],
    );
    assert_mentions(
        &nf(m.get(&format!("{post}/responses/200")).await),
        &["Method identifier"],
    );

    // Unknown integration, method response, integration response.
    let get = method_path(&api, &pets, "GET");
    assert_mentions(
        &nf(m.get(&format!("{get}/integration")).await),
        &["Integration identifier"],
    );
    assert_mentions(
        &nf(m
            .patch(
                &format!("{get}/integration"),
                json!([{"op": "replace", "path": "/uri", "value": "http://example.com"}]),
            )
            .await),
        &["Integration identifier"],
    );
    assert_mentions(
        &nf(m.delete(&format!("{get}/integration")).await),
        &["Integration identifier"],
    );
    assert_mentions(
        &nf(m.get(&format!("{get}/responses/200")).await),
        &["Response status code"],
    );
    m.put(&format!("{get}/integration"), json!({"type": "MOCK"}))
        .await
        .ok();
    assert_mentions(
        &nf(m.get(&format!("{get}/integration/responses/200")).await),
        &["Response status code"],
    );
    // An integration response needs its method response first.
    assert_mentions(
        &nf(m
            .put(&format!("{get}/integration/responses/200"), json!({}))
            .await),
        &["Response status code"],
    );

    // Unknown deployment and stage.
    let deployment = format!("/restapis/{api}/deployments/nosuch");
    assert_mentions(&nf(m.get(&deployment).await), &["Deployment identifier"]);
    assert_mentions(&nf(m.delete(&deployment).await), &["Deployment identifier"]);
    assert_mentions(
        &nf(m
            .patch(
                &deployment,
                json!([{"op": "replace", "path": "/description", "value": "x"}]),
            )
            .await),
        &["Deployment identifier"],
    );
    let stage = format!("/restapis/{api}/stages/nosuch");
    assert_mentions(&nf(m.get(&stage).await), &["stage identifier"]);
    assert_mentions(&nf(m.delete(&stage).await), &["stage identifier"]);
    assert_mentions(
        &nf(m
            .patch(
                &stage,
                json!([{"op": "replace", "path": "/description", "value": "x"}]),
            )
            .await),
        &["stage identifier"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_timeouts_and_uris_are_validated() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "integrations").await;
    let r = add_resource(&m, &api, &root, "x").await;
    let method = method_path(&api, &r, "GET");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    let integration = format!("{method}/integration");
    let put = |body: Value| {
        let m = m.clone();
        let integration = integration.clone();
        async move { m.put(&integration, body).await }
    };
    let http = |uri: &str, timeout: i64| json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": uri, "timeoutInMillis": timeout});

    for t in [49, 29_001, 0, -1] {
        let msg = put(http("http://example.com/x", t))
            .await
            .err(400, "BadRequestException");
        assert_mentions(&msg, &["Timeout", "50", "29000"]);
    }
    for t in [50, 29_000] {
        let i = put(http("http://example.com/x", t)).await.ok();
        assert_eq!(i["timeoutInMillis"], t);
    }
    let msg = m
        .patch(
            &integration,
            json!([{"op": "replace", "path": "/timeoutInMillis", "value": "49"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["Timeout", "50", "29000"]);
    assert_eq!(
        m.get(&integration).await.ok()["timeoutInMillis"],
        29_000,
        "a rejected update changes nothing"
    );

    for bad in [
        "example.com/x",
        "/relative/path",
        "ftp://example.com/x",
        "http://",
        "http:///x",
        "http://exa mple.com/",
        "http://${context.requestId}/x",
        "http://${stageVariables.host/x",
    ] {
        let msg = put(http(bad, 29_000)).await.err(400, "BadRequestException");
        assert_mentions(&msg, &["Invalid HTTP endpoint", bad]);
        let msg = put(json!({"type": "HTTP", "httpMethod": "GET", "uri": bad}))
            .await
            .err(400, "BadRequestException");
        assert_mentions(&msg, &["Invalid HTTP endpoint"]);
    }
    let msg = m
        .patch(
            &integration,
            json!([{"op": "replace", "path": "/uri", "value": "not a url"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["Invalid HTTP endpoint"]);
    for good in [
        "http://${stageVariables.host}/x",
        "https://${stageVariables.host}:8443/pets/{id}?a=b",
        "http://127.0.0.1:9/x",
    ] {
        let i = put(http(good, 1000)).await.ok();
        assert_eq!(i["uri"], good);
    }

    // Other shapes of a bad integration.
    let msg = put(json!({"type": "HTTP", "uri": "http://example.com"}))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["HttpMethod"]);
    // `type` is an enum of the service model: a value outside it is a ValidationException.
    let msg = put(json!({"type": "SOAP"}))
        .await
        .err(400, "ValidationException");
    assert_mentions(&msg, &["'SOAP' at 'type'", "enum value set"]);
    let msg = put(json!({})).await.err(400, "BadRequestException");
    assert_mentions(&msg, &["type is required"]);
    let msg = put(
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://h/{id}",
        "requestParameters": {"integration.request.path.id": "method.request.path.id"}}),
    )
    .await
    .err(400, "BadRequestException");
    assert_mentions(&msg, &["method.request.path.id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_and_stage_rules() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "deployments").await;
    let deployments = format!("/restapis/{api}/deployments");

    // No methods at all.
    let msg = m
        .post(&deployments, json!({"stageName": "prod"}))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["doesn't contain any methods"]);

    // A method without integration.
    let pets = add_resource(&m, &api, &root, "pets").await;
    mock_method(&m, &api, &root, "GET", "root").await;
    m.put(
        &method_path(&api, &pets, "POST"),
        json!({"authorizationType": "NONE"}),
    )
    .await
    .ok();
    let msg = m
        .post(&deployments, json!({"stageName": "prod"}))
        .await
        .err(400, "BadRequestException");
    assert_mentions(
        &msg,
        &["No integration defined for method", "POST", "/pets"],
    );
    assert!(
        m.get(&deployments).await.ok()["item"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "a refused deployment leaves nothing behind"
    );
    assert_eq!(
        m.get(&format!("/restapis/{api}/stages/prod")).await.status,
        404,
        "nor a stage"
    );
    m.delete(&method_path(&api, &pets, "POST")).await.ok();

    let d1 = text(
        &m.post(
            &deployments,
            json!({"stageName": "prod", "description": "one"}),
        )
        .await
        .ok()["id"],
    );

    // Stages pointing at deployments that do not exist.
    let stages = format!("/restapis/{api}/stages");
    let msg = m
        .post(
            &stages,
            json!({"stageName": "dev", "deploymentId": "nosuch"}),
        )
        .await
        .err(404, "NotFoundException");
    assert_mentions(&msg, &["deployment identifier", "nosuch"]);
    let msg = m
        .post(&stages, json!({"stageName": "dev"}))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["deploymentId"]);
    let msg = m
        .patch(
            &format!("{stages}/prod"),
            json!([{"op": "replace", "path": "/deploymentId", "value": "nosuch"}]),
        )
        .await
        .err(404, "NotFoundException");
    assert_mentions(&msg, &["deployment identifier", "nosuch"]);
    assert_eq!(
        m.get(&format!("{stages}/prod")).await.ok()["deploymentId"],
        d1,
        "a refused re-point leaves the stage where it was"
    );
    let msg = m
        .post(
            &stages,
            json!({"stageName": "bad name", "deploymentId": d1}),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["Stage name"]);
    let msg = m
        .post(&stages, json!({"stageName": "prod", "deploymentId": d1}))
        .await
        .err(409, "ConflictException");
    assert_mentions(&msg, &["Stage already exists"]);

    // A deployment in use cannot be deleted; once unused it can.
    m.post(&stages, json!({"stageName": "dev", "deploymentId": d1}))
        .await
        .ok();
    let msg = m
        .delete(&format!("{deployments}/{d1}"))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["Active stages", "prod", "dev"]);
    let d2 = text(
        &m.post(&deployments, json!({"stageName": "prod"}))
            .await
            .ok()["id"],
    );
    let msg = m
        .delete(&format!("{deployments}/{d1}"))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["Active stages", "dev"]);
    assert_eq!(m.delete(&format!("{stages}/dev")).await.status, 202);
    assert_eq!(m.delete(&format!("{deployments}/{d1}")).await.status, 202);
    assert_eq!(ids(&m.get(&deployments).await.ok()), vec![d2]);
    m.get(&format!("{deployments}/{d1}"))
        .await
        .err(404, "NotFoundException");
}

/// Sends a request signed by hand, for the failures `Mgmt` cannot produce.
async fn signed_call(
    cp: &ControlPlane,
    key: &str,
    secret: &str,
    region: &str,
    service: &str,
    signed_body: &str,
    sent_body: &str,
) -> apigw_e2e::mgmt::Answer {
    let url = format!("{}/restapis", cp.url());
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("static"));
    let secret = apigw_sigv4::SecretKey::new(secret);
    let params = apigw_sigv4::SigningParams {
        access_key_id: key,
        secret: &secret,
        security_token: None,
        region,
        service,
        time: time::OffsetDateTime::now_utc(),
    };
    let method = if signed_body.is_empty() {
        "GET"
    } else {
        "POST"
    };
    apigw_sigv4::sign(method, &url, &headers, signed_body.as_bytes(), &params)
        .expect("signing")
        .apply_to(&mut headers)
        .expect("signed headers");
    raw_call(method, &url, headers, sent_body.to_string()).await
}

async fn raw_call(
    method: &str,
    url: &str,
    headers: HeaderMap,
    body: String,
) -> apigw_e2e::mgmt::Answer {
    let resp = reqwest::Client::new()
        .request(method.parse().expect("method"), url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("management call");
    let status = resp.status().as_u16();
    let error_type = resp
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let request_id = resp
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = resp.text().await.unwrap_or_default();
    apigw_e2e::mgmt::Answer {
        status,
        error_type,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        request_id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_failures_get_aws_error_types() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    m.get("/restapis").await.ok();

    let msg = m
        .call_unsigned("GET", "/restapis")
        .await
        .err(403, "MissingAuthenticationTokenException");
    assert_eq!(msg, "Missing Authentication Token");
    // Unsigned calls to unknown paths are refused before routing, as AWS does.
    m.call_unsigned("GET", "/nope")
        .await
        .err(403, "MissingAuthenticationTokenException");

    let wrong_secret = Mgmt::new(&cp.url(), ACCESS_KEY_ID, "not-the-secret");
    let msg = wrong_secret
        .get("/restapis")
        .await
        .err(403, "InvalidSignatureException");
    assert_mentions(&msg, &["signature we calculated does not match"]);

    let unknown = Mgmt::new(&cp.url(), "AKIAUNKNOWNKEY000000", SECRET_ACCESS_KEY);
    let msg = unknown
        .get("/restapis")
        .await
        .err(403, "UnrecognizedClientException");
    assert_eq!(
        msg,
        "The security token included in the request is invalid."
    );

    let mut stale = cp.mgmt();
    stale.clock_skew = time::Duration::minutes(-20);
    let msg = stale
        .get("/restapis")
        .await
        .err(403, "InvalidSignatureException");
    assert_mentions(&msg, &["Signature expired", "is now earlier than"]);
    let mut future = cp.mgmt();
    future.clock_skew = time::Duration::minutes(20);
    let msg = future
        .get("/restapis")
        .await
        .err(403, "InvalidSignatureException");
    assert_mentions(&msg, &["Signature not yet current"]);
    // A small skew is tolerated (API Gateway allows 5 minutes).
    let mut skewed = cp.mgmt();
    skewed.clock_skew = time::Duration::minutes(-2);
    skewed.get("/restapis").await.ok();

    // A body changed after signing.
    let body = json!({"name": "signed"}).to_string();
    let tampered = json!({"name": "tampered"}).to_string();
    let msg = signed_call(
        &cp,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        "us-east-1",
        "apigateway",
        &body,
        &tampered,
    )
    .await
    .err(403, "InvalidSignatureException");
    assert_mentions(&msg, &["does not match"]);
    signed_call(
        &cp,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        "us-east-1",
        "apigateway",
        &body,
        &body,
    )
    .await
    .ok();

    // Wrong scope: region and service.
    let msg = signed_call(
        &cp,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        "eu-west-1",
        "apigateway",
        "",
        "",
    )
    .await
    .err(403, "InvalidSignatureException");
    assert_mentions(&msg, &["region", "eu-west-1"]);
    let msg = signed_call(
        &cp,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        "us-east-1",
        "execute-api",
        "",
        "",
    )
    .await
    .err(403, "InvalidSignatureException");
    assert_mentions(&msg, &["service", "apigateway"]);

    // A malformed Authorization header.
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20240101/us-east-1/apigateway/aws4_request")
            .parse()
            .expect("header"),
    );
    let msg = raw_call(
        "GET",
        &format!("{}/restapis", cp.url()),
        headers,
        String::new(),
    )
    .await
    .err(403, "IncompleteSignatureException");
    assert_mentions(&msg, &["Signature"]);

    // Nothing a refused call asked for happened.
    let apis = m.get("/restapis").await.ok();
    assert_eq!(ids(&apis).len(), 1, "only the signed create went through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_are_paged_and_resources_embed_methods() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(new_api(&m, &format!("api-{i}")).await.0);
    }

    /// Walks every page of `path` with `limit`, checking page sizes.
    async fn walk(m: &Mgmt, path: &str, limit: usize) -> Vec<String> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut all = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let url = match &position {
                Some(p) => format!("{path}{sep}limit={limit}&position={p}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let page = m.get(&url).await.ok();
            let got = ids(&page);
            assert!(got.len() <= limit, "{url}: {} > {limit}", got.len());
            all.extend(got.clone());
            match page.get("position").and_then(Value::as_str) {
                Some(p) => {
                    assert_eq!(got.len(), limit, "a page with a position is full");
                    position = Some(p.to_string());
                }
                None => break,
            }
        }
        all
    }

    let paged = walk(&m, "/restapis", 2).await;
    let mut sorted = paged.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "every API once: {paged:?}");
    let mut want = created.clone();
    want.sort();
    assert_eq!(sorted, want);
    let one_page = m.get("/restapis").await.ok();
    assert_eq!(ids(&one_page), paged, "paging keeps the unpaged order");
    assert!(one_page.get("position").is_none());

    for bad in ["limit=0", "limit=501", "limit=x", "position=notaposition"] {
        let msg = m
            .get(&format!("/restapis?{bad}"))
            .await
            .err(400, "BadRequestException");
        assert_mentions(&msg, &[bad.split('=').next().unwrap_or_default()]);
    }

    // Resources: root + 4, one of them with methods.
    let api = &created[0];
    let root = text(&m.get(&format!("/restapis/{api}")).await.ok()["rootResourceId"]);
    let pets = add_resource(&m, api, &root, "pets").await;
    let pet = add_resource(&m, api, &pets, "{id}").await;
    add_resource(&m, api, &root, "files").await;
    add_resource(&m, api, &root, "users").await;
    mock_method(&m, api, &pet, "GET", "pet").await;
    mock_method(&m, api, &pet, "DELETE", "gone").await;
    let paged = walk(&m, &format!("/restapis/{api}/resources"), 2).await;
    assert_eq!(paged.len(), 5);
    let plain = m.get(&format!("/restapis/{api}/resources")).await.ok();
    let find = |page: &Value, id: &str| {
        page["item"]
            .as_array()
            .and_then(|items| items.iter().find(|r| r["id"] == id).cloned())
            .unwrap_or(Value::Null)
    };
    let r = find(&plain, &pet);
    assert_eq!(r["path"], "/pets/{id}");
    assert_eq!(r["pathPart"], "{id}");
    assert_eq!(r["parentId"], pets);
    assert_eq!(r["resourceMethods"], json!({"DELETE": {}, "GET": {}}));
    assert!(find(&plain, &root).get("parentId").is_none());
    assert_eq!(find(&plain, &root)["path"], "/");

    let embedded = m
        .get(&format!("/restapis/{api}/resources?embed=methods"))
        .await
        .ok();
    let get = &find(&embedded, &pet)["resourceMethods"]["GET"];
    assert_eq!(get["httpMethod"], "GET");
    assert_eq!(get["authorizationType"], "NONE");
    assert_eq!(get["methodIntegration"]["type"], "MOCK");
    assert_eq!(
        get["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"]
            ["application/json"],
        "{\"v\": \"pet\"}"
    );
    assert_eq!(get["methodResponses"]["200"]["statusCode"], "200");
    let one = m
        .get(&format!("/restapis/{api}/resources/{pet}?embed=methods"))
        .await
        .ok();
    assert_eq!(one["resourceMethods"]["DELETE"]["httpMethod"], "DELETE");

    // Deployments, newest first, paged.
    let mut deployed = Vec::new();
    for i in 0..3 {
        let d = m
            .post(
                &format!("/restapis/{api}/deployments"),
                json!({"description": format!("d{i}")}),
            )
            .await
            .ok();
        deployed.push(text(&d["id"]));
    }
    deployed.reverse();
    assert_eq!(
        walk(&m, &format!("/restapis/{api}/deployments"), 1).await,
        deployed
    );
    let page = m
        .get(&format!("/restapis/{api}/deployments?limit=2"))
        .await
        .ok();
    assert_eq!(page["item"][0]["description"], "d2");
    assert!(page["item"][0]["createdDate"].is_i64());
    assert!(page["position"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_resource_removes_its_subtree() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "subtree").await;
    let a = add_resource(&m, &api, &root, "a").await;
    let b = add_resource(&m, &api, &a, "b").await;
    let c = add_resource(&m, &api, &b, "{c}").await;
    let ab = add_resource(&m, &api, &root, "ab").await;
    mock_method(&m, &api, &b, "GET", "b").await;
    mock_method(&m, &api, &c, "PUT", "c").await;
    mock_method(&m, &api, &ab, "GET", "ab").await;

    let msg = m
        .delete(&format!("/restapis/{api}/resources/{root}"))
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["root"]);

    assert_eq!(
        m.delete(&format!("/restapis/{api}/resources/{a}"))
            .await
            .status,
        202
    );
    for gone in [&a, &b, &c] {
        m.get(&format!("/restapis/{api}/resources/{gone}"))
            .await
            .err(404, "NotFoundException");
    }
    m.get(&method_path(&api, &b, "GET"))
        .await
        .err(404, "NotFoundException");
    m.get(&format!("{}/integration", method_path(&api, &c, "PUT")))
        .await
        .err(404, "NotFoundException");
    let left = m
        .get(&format!("/restapis/{api}/resources?embed=methods"))
        .await
        .ok();
    let mut paths: Vec<String> = left["item"]
        .as_array()
        .map(|items| items.iter().map(|r| text(&r["path"])).collect())
        .unwrap_or_default();
    paths.sort();
    assert_eq!(
        paths,
        vec!["/", "/ab"],
        "a sibling sharing the prefix stays"
    );
    m.get(&method_path(&api, &ab, "GET")).await.ok();

    // The names are free again, and a deployment only sees what is left.
    let a2 = add_resource(&m, &api, &root, "a").await;
    add_resource(&m, &api, &a2, "b").await;
    let d = m
        .post(&format!("/restapis/{api}/deployments"), json!({}))
        .await
        .ok();
    assert_eq!(
        d["apiSummary"],
        json!({"/ab": {"GET": {"authorizationType": "NONE", "apiKeyRequired": false}}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_operations_update_every_entity() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "patchme").await;
    let api_path = format!("/restapis/{api}");

    // UpdateRestApi.
    let updated = m
        .patch(
            &api_path,
            json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/description", "value": "about"},
                {"op": "add", "path": "/binaryMediaTypes/image~1png"},
                {"op": "replace", "path": "/minimumCompressionSize", "value": "1024"}
            ]),
        )
        .await
        .ok();
    assert_eq!(updated["name"], "renamed");
    let got = m.get(&api_path).await.ok();
    assert_eq!(
        (
            &got["name"],
            &got["description"],
            &got["binaryMediaTypes"],
            &got["minimumCompressionSize"]
        ),
        (
            &json!("renamed"),
            &json!("about"),
            &json!(["image/png"]),
            &json!(1024)
        )
    );
    let got = m
        .patch(
            &api_path,
            json!([
                {"op": "remove", "path": "/binaryMediaTypes/image~1png"},
                {"op": "remove", "path": "/description"}
            ]),
        )
        .await
        .ok();
    assert!(got.get("binaryMediaTypes").is_none() && got.get("description").is_none());
    let msg = m
        .patch(
            &api_path,
            json!([{"op": "replace", "path": "/rootResourceId", "value": "x"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["/rootResourceId"]);
    let msg = m
        .patch(
            &api_path,
            json!([{"op": "replace", "path": "/name", "value": "  "}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["name"]);
    assert_eq!(m.get(&api_path).await.ok()["name"], "renamed");

    // UpdateResource: rename, and the subtree's paths follow.
    let pets = add_resource(&m, &api, &root, "pets").await;
    let pet = add_resource(&m, &api, &pets, "{id}").await;
    let r = m
        .patch(
            &format!("{api_path}/resources/{pets}"),
            json!([{"op": "replace", "path": "/pathPart", "value": "animals"}]),
        )
        .await
        .ok();
    assert_eq!(
        (&r["path"], &r["pathPart"]),
        (&json!("/animals"), &json!("animals"))
    );
    assert_eq!(
        m.get(&format!("{api_path}/resources/{pet}")).await.ok()["path"],
        "/animals/{id}"
    );

    // UpdateMethod.
    let method = method_path(&api, &pet, "GET");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    let got = m
        .patch(
            &method,
            json!([
                {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
                {"op": "replace", "path": "/operationName", "value": "GetPet"},
                {"op": "add", "path": "/requestParameters/method.request.querystring.q", "value": "false"},
                {"op": "add", "path": "/requestParameters/method.request.header.X-Trace", "value": "true"}
            ]),
        )
        .await
        .ok();
    assert_eq!(got["apiKeyRequired"], true);
    assert_eq!(got["operationName"], "GetPet");
    assert_eq!(
        got["requestParameters"],
        json!({"method.request.querystring.q": false, "method.request.header.X-Trace": true})
    );
    let got = m
        .patch(
            &method,
            json!([{"op": "remove", "path": "/requestParameters/method.request.header.X-Trace"}]),
        )
        .await
        .ok();
    assert_eq!(
        got["requestParameters"],
        json!({"method.request.querystring.q": false})
    );
    let msg = m
        .patch(
            &method,
            json!([{"op": "add", "path": "/requestParameters/method.request.path.nope", "value": "true"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["method.request.path.nope"]);
    let msg = m
        .patch(
            &method,
            json!([{"op": "replace", "path": "/apiKeyRequired", "value": "maybe"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["maybe"]);
    assert_eq!(m.get(&method).await.ok()["apiKeyRequired"], true);

    // UpdateIntegration.
    let integration = format!("{method}/integration");
    m.put(
        &integration,
        json!({"type": "HTTP", "httpMethod": "GET", "uri": "http://example.com/pets/{id}"}),
    )
    .await
    .ok();
    let got = m
        .patch(
            &integration,
            json!([
                {"op": "replace", "path": "/uri", "value": "http://${stageVariables.host}/pets/{id}"},
                {"op": "replace", "path": "/timeoutInMillis", "value": "1500"},
                {"op": "replace", "path": "/httpMethod", "value": "POST"},
                {"op": "add", "path": "/requestParameters/integration.request.header.X-Q", "value": "method.request.querystring.q"},
                {"op": "add", "path": "/requestTemplates/application~1json", "value": "{}"}
            ]),
        )
        .await
        .ok();
    assert_eq!(got["uri"], "http://${stageVariables.host}/pets/{id}");
    assert_eq!(got["timeoutInMillis"], 1500);
    assert_eq!(got["httpMethod"], "POST");
    assert_eq!(
        got["requestParameters"]["integration.request.header.X-Q"],
        "method.request.querystring.q"
    );
    assert_eq!(got["requestTemplates"]["application/json"], "{}");
    assert_eq!(m.get(&integration).await.ok(), got, "GetIntegration agrees");
    let msg = m
        .patch(
            &integration,
            json!([{"op": "add", "path": "/requestParameters/integration.request.header.X-Z",
                    "value": "method.request.querystring.undeclared"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["method.request.querystring.undeclared"]);

    // UpdateStage: variables add/replace/remove, description, deploymentId.
    mock_method(&m, &api, &root, "GET", "root").await;
    m.delete(&method).await.ok();
    let deployments = format!("{api_path}/deployments");
    let d1 = text(
        &m.post(
            &deployments,
            json!({"stageName": "prod", "variables": {"a": "1"}}),
        )
        .await
        .ok()["id"],
    );
    let d2 = text(&m.post(&deployments, json!({})).await.ok()["id"]);
    let stage = format!("{api_path}/stages/prod");
    let got = m
        .patch(
            &stage,
            json!([
                {"op": "add", "path": "/variables/host", "value": "example.com:8080"},
                {"op": "replace", "path": "/variables/a", "value": "2"},
                {"op": "replace", "path": "/description", "value": "production"},
                {"op": "replace", "path": "/deploymentId", "value": d2}
            ]),
        )
        .await
        .ok();
    assert_eq!(
        got["variables"],
        json!({"a": "2", "host": "example.com:8080"})
    );
    assert_eq!(got["deploymentId"], d2);
    assert_eq!(got["description"], "production");
    let got = m
        .patch(
            &stage,
            json!([
                {"op": "remove", "path": "/variables/a"},
                {"op": "replace", "path": "/deploymentId", "value": d1}
            ]),
        )
        .await
        .ok();
    assert_eq!(got["variables"], json!({"host": "example.com:8080"}));
    assert_eq!(got["deploymentId"], d1);
    let msg = m
        .patch(
            &stage,
            json!([{"op": "add", "path": "/variables/bad~1name", "value": "x"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["bad/name"]);
    // Values follow AWS's [A-Za-z0-9-._~:/?#&=,]+: no spaces, no '+', not empty.
    for value in ["a b", "a+b", ""] {
        let msg = m
            .patch(
                &stage,
                json!([{"op": "add", "path": "/variables/v", "value": value}]),
            )
            .await
            .err(400, "BadRequestException");
        assert_mentions(&msg, &["'v'", "a-zA-Z0-9-._~:/?#&=,"]);
    }
    // CreateDeployment applies the same rules to the stage it creates or updates, and
    // keeps nothing when they fail.
    let before = m.get(&format!("/restapis/{api}/deployments")).await.ok()["item"]
        .as_array()
        .map_or(0, Vec::len);
    let msg = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"stageName": "other", "variables": {"bad name": "x"}}),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["bad name"]);
    m.get(&format!("/restapis/{api}/stages/other"))
        .await
        .err(404, "NotFoundException");
    let after = m.get(&format!("/restapis/{api}/deployments")).await.ok()["item"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        before, after,
        "the failed CreateDeployment kept a deployment"
    );
    let msg = m
        .patch(
            &stage,
            json!([{"op": "replace", "path": "/stageName", "value": "x"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_mentions(&msg, &["/stageName"]);
    let got = m.get(&stage).await.ok();
    assert_eq!(got["variables"], json!({"host": "example.com:8080"}));
    assert_eq!(got["deploymentId"], d1);

    // UpdateDeployment: the description, nothing else.
    let got = m
        .patch(
            &format!("{deployments}/{d1}"),
            json!([{"op": "replace", "path": "/description", "value": "first"}]),
        )
        .await
        .ok();
    assert_eq!(got["description"], "first");
    m.patch(
        &format!("{deployments}/{d1}"),
        json!([{"op": "replace", "path": "/apiSummary", "value": "{}"}]),
    )
    .await
    .err(400, "BadRequestException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_fields_follow_the_model() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "stages").await;
    mock_method(&m, &api, &root, "GET", "root").await;
    let d = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"description": "first"}),
        )
        .await
        .ok();
    let d = text(&d["id"]);
    let created = m
        .post(
            &format!("/restapis/{api}/stages"),
            json!({"stageName": "beta", "deploymentId": d, "description": "b",
                   "variables": {"host": "example.com"}}),
        )
        .await;
    assert_eq!(created.status, 201);
    let created = created.ok();
    let got = m.get(&format!("/restapis/{api}/stages/beta")).await.ok();
    assert_eq!(got, created, "GetStage returns what CreateStage did");
    assert_eq!(got["stageName"], "beta");
    assert_eq!(got["deploymentId"], d);
    assert_eq!(got["description"], "b");
    assert_eq!(got["variables"], json!({"host": "example.com"}));
    assert_eq!(got["cacheClusterEnabled"], false);
    assert_eq!(got["cacheClusterStatus"], "NOT_AVAILABLE");
    assert_eq!(got["tracingEnabled"], false);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let created_date = got["createdDate"]
        .as_i64()
        .expect("createdDate is epoch seconds");
    let last_updated = got["lastUpdatedDate"]
        .as_i64()
        .expect("lastUpdatedDate is epoch seconds");
    assert!(
        (now - 600..=now + 600).contains(&created_date),
        "{created_date} vs {now}"
    );
    assert!(last_updated >= created_date);
    // Every member name is one of the service model's (apigateway.service-2.json).
    let deployment = m
        .get(&format!("/restapis/{api}/deployments/{d}"))
        .await
        .ok();
    for (shape, value, members) in [
        ("Stage", &got, STAGE_MEMBERS),
        ("Deployment", &deployment, DEPLOYMENT_MEMBERS),
    ] {
        for key in value.as_object().map(|o| o.keys()).into_iter().flatten() {
            assert!(
                members.contains(&key.as_str()),
                "{shape} has no member {key}"
            );
        }
    }

    let stages = m.get(&format!("/restapis/{api}/stages")).await.ok();
    assert_eq!(stages["item"][0]["stageName"], "beta");
    let filtered = m
        .get(&format!("/restapis/{api}/stages?deploymentId=other"))
        .await
        .ok();
    assert_eq!(filtered["item"], json!([]));
    let updated = m
        .patch(
            &format!("/restapis/{api}/stages/beta"),
            json!([{"op": "add", "path": "/variables/x", "value": "y"}]),
        )
        .await
        .ok();
    assert_eq!(updated["createdDate"], got["createdDate"]);
    assert!(updated["lastUpdatedDate"].as_i64() >= Some(last_updated));
}

async fn invoke(url: &str) -> (u16, Value) {
    match reqwest::get(url).await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(_) => (0, Value::Null),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_are_immutable() {
    let cluster = Cluster::start(1).await;
    let node = &cluster.nodes[0];
    let m = cluster.cp.mgmt();
    let (api, root) = new_api(&m, "immutable").await;
    let a = add_resource(&m, &api, &root, "a").await;
    mock_method(&m, &api, &a, "GET", "one").await;
    let deployments = format!("/restapis/{api}/deployments");
    let d1 = m
        .post(
            &deployments,
            json!({"stageName": "prod", "description": "one"}),
        )
        .await
        .ok();
    let d1_id = text(&d1["id"]);
    let summary = json!({"/a": {"GET": {"authorizationType": "NONE", "apiKeyRequired": false}}});
    assert_eq!(d1["apiSummary"], summary);
    let url = |p: &str| node.invoke_url(&api, "prod", p);
    eventually("d1 served", Duration::from_secs(10), || async {
        (invoke(&url("/a")).await == (200, json!({"v": "one"}))).then_some(())
    })
    .await;

    // Edit everything the deployment copied: method, template, a new resource, the name.
    let method = method_path(&api, &a, "GET");
    m.patch(
        &format!("{method}/integration/responses/200"),
        json!([{"op": "replace", "path": "/responseTemplates/application~1json", "value": "{\"v\": \"two\"}"}]),
    )
    .await
    .ok();
    m.patch(
        &method,
        json!([{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}]),
    )
    .await
    .ok();
    let b = add_resource(&m, &api, &root, "b").await;
    mock_method(&m, &api, &b, "POST", "b").await;
    m.patch(
        &format!("/restapis/{api}"),
        json!([{"op": "replace", "path": "/name", "value": "edited"}]),
    )
    .await
    .ok();

    let again = m
        .get(&format!("{deployments}/{d1_id}?embed=apisummary"))
        .await
        .ok();
    assert_eq!(again["apiSummary"], summary, "GetDeployment is unchanged");
    assert_eq!(again["description"], "one");
    assert_eq!(again["createdDate"], d1["createdDate"]);
    // A stage change forces the node to re-apply the config; it still serves d1.
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "add", "path": "/variables/touch", "value": "1"}]),
    )
    .await
    .ok();
    m.post(
        &format!("/restapis/{api}/stages"),
        json!({"stageName": "canary", "deploymentId": d1_id}),
    )
    .await
    .ok();
    let canary = node.invoke_url(&api, "canary", "/a");
    eventually(
        "the canary stage on the node",
        Duration::from_secs(10),
        || async { (invoke(&canary).await.0 == 200).then_some(()) },
    )
    .await;
    assert_eq!(invoke(&url("/a")).await, (200, json!({"v": "one"})));
    assert_eq!(invoke(&canary).await, (200, json!({"v": "one"})));
    assert_eq!(invoke(&url("/b")).await.0, 403, "/b is not in d1");

    // Deploying takes the edits; rolling back brings d1 back exactly.
    let d2 = m
        .post(&deployments, json!({"stageName": "prod"}))
        .await
        .ok();
    assert_eq!(
        d2["apiSummary"],
        json!({
            "/a": {"GET": {"authorizationType": "AWS_IAM", "apiKeyRequired": false}},
            "/b": {"POST": {"authorizationType": "NONE", "apiKeyRequired": false}}
        })
    );
    let client = reqwest::Client::new();
    eventually("d2 served", Duration::from_secs(10), || async {
        let r = client.post(url("/b")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "replace", "path": "/deploymentId", "value": d1_id}]),
    )
    .await
    .ok();
    eventually("rolled back to d1", Duration::from_secs(10), || async {
        let r = client.post(url("/b")).send().await.ok()?;
        (r.status() == 403).then_some(())
    })
    .await;
    assert_eq!(invoke(&url("/a")).await, (200, json!({"v": "one"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_use_the_service_model_member_names() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let api = m
        .post(
            "/restapis",
            json!({"name": "shapes", "description": "d", "version": "1",
                   "binaryMediaTypes": ["image/png"], "tags": {"team": "a"}}),
        )
        .await
        .ok();
    assert_members("RestApi", &api, REST_API_MEMBERS);
    let (id, root) = (text(&api["id"]), text(&api["rootResourceId"]));
    for field in [
        "id",
        "name",
        "createdDate",
        "rootResourceId",
        "apiKeySource",
        "endpointConfiguration",
    ] {
        assert!(api.get(field).is_some(), "RestApi.{field} is set: {api}");
    }
    let pets = add_resource(&m, &id, &root, "pets").await;
    let method = method_path(&id, &pets, "GET");
    let put = m
        .put(
            &method,
            json!({"authorizationType": "NONE", "operationName": "ListPets",
                   "requestParameters": {"method.request.querystring.q": false}}),
        )
        .await
        .ok();
    assert_members("Method", &put, METHOD_MEMBERS);
    let response = m
        .put(
            &format!("{method}/responses/200"),
            json!({"responseParameters": {"method.response.header.X-A": false},
                   "responseModels": {"application/json": "Empty"}}),
        )
        .await
        .ok();
    assert_members("MethodResponse", &response, METHOD_RESPONSE_MEMBERS);
    let integration = m
        .put(
            &format!("{method}/integration"),
            json!({"type": "HTTP", "httpMethod": "GET", "uri": "http://example.com/pets",
                   "requestParameters": {"integration.request.querystring.q": "method.request.querystring.q"},
                   "requestTemplates": {"application/json": "{}"}, "contentHandling": "CONVERT_TO_TEXT"}),
        )
        .await
        .ok();
    assert_members("Integration", &integration, INTEGRATION_MEMBERS);
    let ir = m
        .put(
            &format!("{method}/integration/responses/200"),
            json!({"selectionPattern": "2\\d{2}", "contentHandling": "CONVERT_TO_TEXT",
                   "responseParameters": {"method.response.header.X-A": "'a'"},
                   "responseTemplates": {"application/json": "{}"}}),
        )
        .await
        .ok();
    assert_members("IntegrationResponse", &ir, INTEGRATION_RESPONSE_MEMBERS);
    assert_eq!(ir["selectionPattern"], "2\\d{2}");

    let full = m.get(&method).await.ok();
    assert_members("Method", &full, METHOD_MEMBERS);
    assert_members(
        "Integration",
        &full["methodIntegration"],
        INTEGRATION_MEMBERS,
    );
    assert_members(
        "MethodResponse",
        &full["methodResponses"]["200"],
        METHOD_RESPONSE_MEMBERS,
    );
    assert_members(
        "IntegrationResponse",
        &full["methodIntegration"]["integrationResponses"]["200"],
        INTEGRATION_RESPONSE_MEMBERS,
    );
    let resource = m
        .get(&format!("/restapis/{id}/resources/{pets}?embed=methods"))
        .await
        .ok();
    assert_members("Resource", &resource, RESOURCE_MEMBERS);

    let deployment = m
        .post(
            &format!("/restapis/{id}/deployments"),
            json!({"stageName": "prod", "description": "x"}),
        )
        .await
        .ok();
    assert_members("Deployment", &deployment, DEPLOYMENT_MEMBERS);
    assert_eq!(
        deployment["apiSummary"]["/pets"]["GET"],
        json!({"authorizationType": "NONE", "apiKeyRequired": false}),
        "apiSummary maps paths to MethodSnapshots"
    );
    for path in [
        "/restapis?limit=1".to_string(),
        format!("/restapis/{id}/resources?limit=1"),
        format!("/restapis/{id}/deployments?limit=1"),
    ] {
        assert_members("a page", &m.get(&path).await.ok(), PAGE_MEMBERS);
    }
    let stages = m.get(&format!("/restapis/{id}/stages")).await.ok();
    assert_members("Stages", &stages, &["item"]);
    assert_members("Stage", &stages["item"][0], STAGE_MEMBERS);
}
