//! Function integrations end to end: a control plane and two data-plane nodes as processes,
//! the `functions/` dev host (a Lambda-compatible Invoke API running the example handlers
//! as local Python and Node processes) as the function service. Each test replays a step
//! of the seeds' Lambda walkthroughs (003: API with Lambda, stages with Lambda aliases;
//! 000: custom timeouts, error handling).

use std::time::Duration;

use apigw_e2e::rest_api::text;
use apigw_e2e::{
    eventually, fresh_database, ControlPlane, DataPlane, FunctionsHost, Mgmt, RestApi,
};
use serde_json::{json, Value};

/// A control plane, two nodes calling the functions host, and the host itself.
struct Env {
    _functions: FunctionsHost,
    cp: ControlPlane,
    nodes: Vec<DataPlane>,
}

impl Env {
    async fn start() -> Self {
        let functions = FunctionsHost::start().await;
        let db = fresh_database().await.expect("a test database");
        let cp = ControlPlane::start(&db).await;
        let mut nodes = Vec::new();
        for i in 0..2 {
            let env = [("FUNCTIONS_URL", functions.url.clone())];
            nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("fn-node-{i}"), &env).await);
        }
        for node in &nodes {
            node.wait_ready().await;
        }
        Env {
            _functions: functions,
            cp,
            nodes,
        }
    }

    fn mgmt(&self) -> Mgmt {
        self.cp.mgmt()
    }
}

/// The integration URI of a function, in AWS's form.
fn function_uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/\
         arn:aws:lambda:eu-central-1:123456789012:function:{function}/invocations"
    )
}

/// A response as the tests look at it.
struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn call(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Got {
    let mut request = reqwest::Client::new().request(method.parse().expect("method"), url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.body(body).send().await.expect("invoke");
    Got {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// Waits until every node serves the deployed stage (anything but the "no such stage or
/// route" 403).
async fn wait_deployed(env: &Env, api: &str, stage: &str, method: &str, path: &str) {
    for node in &env.nodes {
        let url = node.invoke_url(api, stage, path);
        eventually(
            &format!("{stage} deployed on {}", node.node_id),
            Duration::from_secs(20),
            || async {
                let got = call(method, &url, &[("content-type", "application/json")], "{}").await;
                (got.status != 403).then_some(())
            },
        )
        .await;
    }
}

/// 003 "Integration Request with enabled Use Lambda Proxy integration": the function returns
/// the CORS header itself, and POST /api-lambda answers with it on every node.
#[tokio::test]
async fn post_with_lambda_proxy_integration_returns_cors_headers() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "api-with-lambda", json!({})).await;
    let res = api.resource(&api.root, "api-lambda").await;
    api.method(
        &res,
        "POST",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("api-lambda-cors")}),
    )
    .await;
    api.deploy("dev", json!({})).await;
    wait_deployed(&env, &api.id, "dev", "POST", "/api-lambda").await;
    for node in &env.nodes {
        let got = call(
            "POST",
            &node.invoke_url(&api.id, "dev", "/api-lambda"),
            &[
                ("content-type", "application/json"),
                ("origin", "http://example.com"),
            ],
            r#"{"personData": {"name": "Jacek", "age": 26}}"#,
        )
        .await;
        assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
        assert_eq!(got.header("access-control-allow-origin"), "*");
        assert!(got.body.is_empty());
        assert!(!got.header("x-amzn-requestid").is_empty());
    }
}

/// The proxy event, format 1.0, as the function receives it (proxy-echo returns it).
#[tokio::test]
async fn lambda_proxy_event_carries_the_whole_request() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "proxy-event", json!({})).await;
    let items = api.resource(&api.root, "items").await;
    let item = api.resource(&items, "{id}").await;
    api.method(
        &item,
        "PUT",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await;
    api.deploy("prod", json!({"color": "blue"})).await;
    wait_deployed(&env, &api.id, "prod", "PUT", "/items/1").await;
    let got = call(
        "PUT",
        &env.nodes[1].invoke_url(&api.id, "prod", "/items/a%20b?tag=x&tag=y&one=1"),
        &[
            ("content-type", "application/json"),
            ("user-agent", "e2e-agent"),
            ("x-multi", "1"),
        ],
        r#"{"hello": "world"}"#,
    )
    .await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert!(
        !got.header("x-request-id").is_empty(),
        "multiValueHeaders pass"
    );
    let event = got.json();
    assert_eq!(event["resource"], "/items/{id}");
    assert!(
        text(&event["path"]).starts_with("/items/a"),
        "{}",
        event["path"]
    );
    assert_eq!(event["httpMethod"], "PUT");
    assert_eq!(event["headers"]["user-agent"], "e2e-agent");
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["1"]));
    assert_eq!(
        event["queryStringParameters"],
        json!({"tag": "y", "one": "1"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"tag": ["x", "y"], "one": ["1"]})
    );
    assert_eq!(event["pathParameters"], json!({"id": "a b"}));
    assert_eq!(event["stageVariables"], json!({"color": "blue"}));
    assert_eq!(event["body"], r#"{"hello": "world"}"#);
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(rc["resourcePath"], "/items/{id}");
    assert_eq!(rc["httpMethod"], "PUT");
    assert_eq!(rc["stage"], "prod");
    assert_eq!(rc["path"], format!("/prod{}", text(&event["path"])));
    assert_eq!(rc["apiId"], api.id.as_str());
    assert_eq!(rc["accountId"], "123456789012");
    assert_eq!(rc["protocol"], "HTTP/1.1");
    assert_eq!(rc["requestId"], got.header("x-amzn-requestid"));
    assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(event["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(rc["identity"]["userAgent"], "e2e-agent");
    assert_eq!(rc["resourceId"], item.as_str());
    for key in [
        "extendedRequestId",
        "requestTime",
        "requestTimeEpoch",
        "domainName",
        "domainPrefix",
        "deploymentId",
    ] {
        assert!(!rc[key].is_null(), "requestContext.{key}");
    }
    // No query, no path parameters, no body: nulls, as API Gateway sends them.
    let res = api.resource(&api.root, "plain").await;
    api.method(
        &res,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await;
    api.deploy("bare", json!({})).await;
    wait_deployed(&env, &api.id, "bare", "GET", "/plain").await;
    let got = call(
        "GET",
        &env.nodes[0].invoke_url(&api.id, "bare", "/plain"),
        &[],
        "",
    )
    .await;
    let event = got.json();
    for key in [
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
    ] {
        assert!(event[key].is_null(), "{key}: {}", event[key]);
    }
}

/// 003 "Use API Gateway stages with Lambda aliases": the URI ends in
/// `function:photos:${stageVariables.alias}`, so each stage invokes its own alias; a stage
/// without the variable cannot invoke the function (500), the others keep working.
#[tokio::test]
async fn stage_variables_pick_a_function_alias_per_stage() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "photos", json!({})).await;
    let res = api.resource(&api.root, "photos").await;
    api.method(
        &res,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST",
               "uri": function_uri("photos:${stageVariables.alias}")}),
    )
    .await;
    api.deploy("dev", json!({"alias": "dev"})).await;
    api.deploy("prod", json!({"alias": "prod"})).await;
    api.deploy("broken", json!({"alias": "no-such-alias"}))
        .await;
    api.deploy("novar", json!({})).await;
    for stage in ["dev", "prod"] {
        wait_deployed(&env, &api.id, stage, "GET", "/photos").await;
    }
    for node in &env.nodes {
        for (stage, album) in [("dev", "dev-album"), ("prod", "prod-album")] {
            let got = call("GET", &node.invoke_url(&api.id, stage, "/photos"), &[], "").await;
            assert_eq!(
                got.status,
                200,
                "{stage}: {}",
                String::from_utf8_lossy(&got.body)
            );
            assert_eq!(
                got.json(),
                json!({"version": stage, "album": album, "stage": stage})
            );
        }
    }
    // An alias the function host does not know: the Invoke API refuses → 500.
    wait_deployed(&env, &api.id, "broken", "GET", "/photos").await;
    let got = call(
        "GET",
        &env.nodes[0].invoke_url(&api.id, "broken", "/photos"),
        &[],
        "",
    )
    .await;
    assert_eq!(got.status, 500);
    assert_eq!(got.json(), json!({"message": "Internal server error"}));
    // No variable: the URI names `photos:` with no qualifier: the method fails with 500.
    wait_deployed(&env, &api.id, "novar", "GET", "/photos").await;
    let got = call(
        "GET",
        &env.nodes[1].invoke_url(&api.id, "novar", "/photos"),
        &[],
        "",
    )
    .await;
    assert_eq!(got.status, 500);
}

/// 000 error handling with a function "that will generate different error messages": AWS
/// (non-proxy) integration responses are selected by the function's `errorMessage`
/// (anchored regexes), the default response otherwise.
#[tokio::test]
async fn aws_non_proxy_errors_select_integration_responses_by_error_message() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "errors", json!({})).await;
    let res = api.resource(&api.root, "items").await;
    api.method(
        &res,
        "GET",
        json!({
            "type": "AWS", "httpMethod": "POST", "uri": function_uri("errors"),
            "requestTemplates": {"application/json":
                "{\"kind\": \"$input.params('kind')\", \"id\": \"$input.params('id')\"}"},
            "passthroughBehavior": "WHEN_NO_TEMPLATES"
        }),
    )
    .await;
    api.response(&res, "GET", 200, json!({"selectionPattern": ""}))
        .await;
    api.response(
        &res,
        "GET",
        404,
        json!({
            "selectionPattern": ".*Not Found.*",
            "responseParameters": {"method.response.header.X-Error": "'not-found'"},
            "responseTemplates": {"application/json": "{\"error\": $input.json('$.errorMessage')}"}
        }),
    )
    .await;
    api.response(
        &res,
        "GET",
        400,
        json!({
            "selectionPattern": "Bad Request:.*",
            "responseTemplates": {"application/json": "{\"invalid\": $input.json('$.errorMessage')}"}
        }),
    )
    .await;
    api.deploy("prod", json!({})).await;
    wait_deployed(&env, &api.id, "prod", "GET", "/items").await;
    let url = |q: &str| env.nodes[0].invoke_url(&api.id, "prod", &format!("/items?{q}"));

    let got = call("GET", &url("kind=ok&id=7"), &[], "").await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.json(), json!({"ok": true, "id": "7"}));

    let got = call("GET", &url("kind=missing&id=7"), &[], "").await;
    assert_eq!(got.status, 404);
    assert_eq!(got.header("x-error"), "not-found");
    assert_eq!(got.json(), json!({"error": "Not Found: no item 7"}));

    let got = call("GET", &url("kind=invalid"), &[], "").await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json(), json!({"invalid": "Bad Request: invalid input"}));

    // Anchored: "Bad Request:" must start the message, so this one falls to the default,
    // which passes the function's error object through with 200, as API Gateway does.
    let got = call("GET", &url("kind=crash"), &[], "").await;
    assert_eq!(got.status, 200);
    let error = got.json();
    assert_eq!(error["errorType"], "TypeError");
    assert!(text(&error["errorMessage"]).contains("null"), "{error}");
}

/// 003 "Integration Request with disabled Use Lambda Proxy integration": the request
/// template `{"age" : $input.json('$.personData.age')}` is the function's event; with a
/// response template, the result is reshaped.
#[tokio::test]
async fn non_proxy_lambda_with_body_mapping_doubles_the_age() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "age", json!({})).await;
    let res = api.resource(&api.root, "api-lambda").await;
    api.method(
        &res,
        "POST",
        json!({
            "type": "AWS", "httpMethod": "POST", "uri": function_uri("api-lambda-age"),
            "requestTemplates": {"application/json": "{\n\"age\" : $input.json('$.personData.age')\n}"},
            "passthroughBehavior": "WHEN_NO_TEMPLATES"
        }),
    )
    .await;
    api.response(
        &res,
        "POST",
        200,
        json!({"selectionPattern": "",
               "responseTemplates": {"application/json": "{\"your-age\": $input.json('$')}"}}),
    )
    .await;
    let del = api.resource(&res, "{type}").await;
    api.method(
        &del,
        "DELETE",
        json!({
            "type": "AWS", "httpMethod": "POST", "uri": function_uri("api-lambda-delete"),
            "requestTemplates": {"application/json": "{\n    \"type\": \"$input.params('type')\"\n}"}
        }),
    )
    .await;
    api.response(&del, "DELETE", 200, json!({"selectionPattern": ""}))
        .await;
    api.deploy("dev", json!({})).await;
    wait_deployed(&env, &api.id, "dev", "DELETE", "/api-lambda/x").await;
    let node = &env.nodes[1];
    let got = call(
        "POST",
        &node.invoke_url(&api.id, "dev", "/api-lambda"),
        &[("content-type", "application/json")],
        r#"{"personData": {"name": "Jacek", "age": 26}}"#,
    )
    .await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.json(), json!({"your-age": 52}));
    for (kind, said) in [
        ("all", "Deleted all data"),
        ("single", "Deleted only my data"),
        ("other", "Nothing deleted"),
    ] {
        let got = call(
            "DELETE",
            &node.invoke_url(&api.id, "dev", &format!("/api-lambda/{kind}")),
            &[("content-type", "application/json")],
            "",
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.json(), json!(said));
    }
}

/// A proxy result that breaks the contract, or a function that throws, is a 502
/// `{"message": "Internal server error"}`; a well-formed one passes.
#[tokio::test]
async fn malformed_function_answers_give_502() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "malformed", json!({})).await;
    let res = api.resource(&api.root, "m").await;
    api.method(
        &res,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("malformed")}),
    )
    .await;
    let gone = api.resource(&api.root, "gone").await;
    api.method(
        &gone,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("no-such-function")}),
    )
    .await;
    api.deploy("prod", json!({})).await;
    wait_deployed(&env, &api.id, "prod", "GET", "/m").await;
    let url = |q: &str| env.nodes[0].invoke_url(&api.id, "prod", &format!("/m?kind={q}"));
    for kind in ["string", "extra-key", "object-body", "bad-status", "raise"] {
        let got = call("GET", &url(kind), &[], "").await;
        assert_eq!(got.status, 502, "{kind}");
        assert_eq!(
            got.json(),
            json!({"message": "Internal server error"}),
            "{kind}"
        );
        assert_eq!(
            got.header("x-amzn-errortype"),
            "InternalServerErrorException"
        );
    }
    let got = call("GET", &url("fine"), &[], "").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"fine");
    // A function the Invoke API does not know: the API's configuration is wrong → 500.
    let got = call(
        "GET",
        &env.nodes[1].invoke_url(&api.id, "prod", "/gone"),
        &[],
        "",
    )
    .await;
    assert_eq!(got.status, 500);
    assert_eq!(got.json(), json!({"message": "Internal server error"}));
}

/// 000 "Custom timeouts": the function sometimes takes long; a 2 s integration timeout
/// fails fast with 504 so clients can retry, and quick calls still succeed.
#[tokio::test]
async fn function_integration_timeout_gives_504() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "tampr", json!({})).await;
    let res = api.resource(&api.root, "fetch").await;
    api.method(
        &res,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("slow"),
               "timeoutInMillis": 2000}),
    )
    .await;
    api.deploy("prod", json!({})).await;
    wait_deployed(&env, &api.id, "prod", "GET", "/fetch").await;
    let url =
        |secs: &str| env.nodes[1].invoke_url(&api.id, "prod", &format!("/fetch?seconds={secs}"));
    let got = call("GET", &url("6"), &[], "").await;
    assert_eq!(got.status, 504);
    assert_eq!(got.json(), json!({"message": "Endpoint request timed out"}));
    let got = call("GET", &url("0"), &[], "").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), json!({"slept": 0.0}));
}

/// Binary payloads: with `image/png` in `binaryMediaTypes`, a proxy event carries the body
/// base64-encoded (`isBase64Encoded`) and a base64 result is decoded for clients accepting
/// `image/png`; with the AWS type, CONVERT_TO_TEXT on the request and CONVERT_TO_BINARY on
/// the integration response make the same round trip.
#[tokio::test]
async fn binary_round_trip_through_functions() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create_with(&m, "binary", json!({"binaryMediaTypes": ["image/png"]})).await;
    let proxy = api.resource(&api.root, "proxy").await;
    api.method(
        &proxy,
        "POST",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("binary-echo")}),
    )
    .await;
    let plain = api.resource(&api.root, "plain").await;
    api.method(
        &plain,
        "POST",
        json!({
            "type": "AWS", "httpMethod": "POST", "uri": function_uri("api-lambda-echo"),
            "contentHandling": "CONVERT_TO_TEXT",
            "requestTemplates": {"image/png": "\"$input.body\""}
        }),
    )
    .await;
    api.response(
        &plain,
        "POST",
        200,
        json!({"selectionPattern": "", "contentHandling": "CONVERT_TO_BINARY",
               "responseParameters": {"method.response.header.Content-Type": "'image/png'"}}),
    )
    .await;
    api.deploy("prod", json!({})).await;
    wait_deployed(&env, &api.id, "prod", "POST", "/proxy").await;
    // Not valid UTF-8: would be mangled by any text path.
    let png: Vec<u8> = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80,
    ];
    let headers = [("content-type", "image/png"), ("accept", "image/png")];
    for node in &env.nodes {
        let got = call(
            "POST",
            &node.invoke_url(&api.id, "prod", "/proxy"),
            &headers,
            png.clone(),
        )
        .await;
        assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
        assert_eq!(got.header("content-type"), "image/png");
        assert_eq!(got.body, png);

        let got = call(
            "POST",
            &node.invoke_url(&api.id, "prod", "/plain"),
            &headers,
            png.clone(),
        )
        .await;
        assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
        assert_eq!(got.header("content-type"), "image/png");
        assert_eq!(got.body, png);
    }
    // A client that does not accept the binary type gets the base64 text.
    let got = call(
        "POST",
        &env.nodes[0].invoke_url(&api.id, "prod", "/proxy"),
        &[
            ("content-type", "image/png"),
            ("accept", "application/json"),
        ],
        png.clone(),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"iVBORw0KGgoA//6A");
}

/// PutIntegration accepts AWS's function URI forms (stage variables included) and rejects
/// broken ones with BadRequestException saying what is wrong.
#[tokio::test]
async fn put_integration_checks_function_uris() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let api = RestApi::create_with(&m, "uris", json!({})).await;
    let res = api.resource(&api.root, "f").await;
    let method = api.method_path(&res, "GET");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    let put = |uri: String| {
        let m = &m;
        let path = format!("{method}/integration");
        async move {
            m.put(
                &path,
                json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri}),
            )
            .await
        }
    };
    let prefix = "arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/";
    for ok in [
        function_uri("photos"),
        function_uri("photos:${stageVariables.alias}"),
        function_uri("${stageVariables.fn}"),
        format!("{prefix}123456789012:function:photos:prod/invocations"),
        format!("{prefix}photos/invocations"),
    ] {
        let answer = put(ok.clone()).await.ok();
        assert_eq!(answer["uri"], ok.as_str());
    }
    for (bad, says) in [
        (format!("{prefix}photos"), "invocations"),
        (
            format!("{prefix}bad name/invocations"),
            "invalid function name",
        ),
        (
            format!("{prefix}photos:${{context.x}}/invocations"),
            "stageVariables",
        ),
        (format!("{prefix}photos:a b/invocations"), "qualifier"),
        (
            "arn:aws:lambda:eu-central-1:1:function:photos".to_string(),
            "path or action",
        ),
    ] {
        let message = put(bad.clone()).await.err(400, "BadRequestException");
        assert!(message.contains(says), "{bad}: {message}");
    }
}
