//! The gateway engine's promises that cross phases, end to end: a control plane and two
//! nodes as processes, real backends and the `functions/` host.
//!
//! - one query-string parser with API Gateway's rules, seen alike by a request-parameter
//!   mapping, `$input.params()` and the AWS_PROXY event;
//! - TestInvokeMethod runs the same engine as the nodes, function integrations included;
//! - a backend that sends its head and then stalls costs a 504 (buffered) or a cut
//!   stream (streamed), never the node.

use std::time::Duration;

use apigw_e2e::rest_api::text;
use apigw_e2e::{
    eventually, free_port, fresh_database, Backend, ControlPlane, DataPlane, FunctionsHost,
    RestApi, StallingBackend,
};
use serde_json::{json, Value};

/// The integration URI of a function, in AWS's form.
fn function_uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
         arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations"
    )
}

/// A control plane (with `cp_env`) and two ready nodes (with `node_env`).
async fn cluster(
    cp_env: &[(&str, String)],
    node_env: &[(&str, String)],
) -> (ControlPlane, Vec<DataPlane>) {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), cp_env).await;
    let mut nodes = Vec::new();
    for i in 0..2 {
        let mut env = node_env.to_vec();
        if i == 0 {
            env.push(("DP_WORKER_THREADS", "1".to_string()));
        }
        nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("engine-{i}"), &env).await);
    }
    for node in &nodes {
        node.wait_ready().await;
    }
    (cp, nodes)
}

/// GETs `url` until it answers something other than the "not deployed yet" 403.
async fn get_deployed(url: &str) -> reqwest::Response {
    eventually(
        &format!("{url} deployed"),
        Duration::from_secs(20),
        || async {
            let r = reqwest::get(url).await.ok()?;
            (r.status() != 403).then_some(r)
        },
    )
    .await
}

/// `?q=a+b&q=c`: every reader takes the last value (`c`) where one value is asked for,
/// every value in order where all are, with `+` decoded as a space.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_query_key_reads_alike_in_every_phase() {
    let functions = FunctionsHost::start().await;
    let (cp, nodes) = cluster(&[], &[("FUNCTIONS_URL", functions.url.clone())]).await;
    let backend = Backend::start("q").await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "query-rules").await;

    // An HTTP integration mapping the query parameter into the backend's query.
    let mapped = api.resource(&api.root, "mapped").await;
    m.put(
        &api.method_path(&mapped, "GET"),
        json!({"authorizationType": "NONE",
               "requestParameters": {"method.request.querystring.q": false,
                                     "method.request.multivaluequerystring.q": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{}/integration", api.method_path(&mapped, "GET")),
        json!({"type": "HTTP", "httpMethod": "GET", "uri": format!("{}/echo", backend.url()),
               "requestParameters": {
                   "integration.request.querystring.got": "method.request.querystring.q",
                   "integration.request.multivaluequerystring.all":
                       "method.request.multivaluequerystring.q"}}),
    )
    .await
    .ok();
    api.response(&mapped, "GET", 200, json!({})).await;

    // A MOCK integration whose response template reads the parameters.
    let templated = api.resource(&api.root, "templated").await;
    api.method_with_responses(
        &templated,
        "GET",
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json":
                "{\"one\": \"$input.params('q')\", \"map\": \"$input.params().querystring.get('q')\"}"}}),
        )],
    )
    .await;

    // An AWS_PROXY integration: the event as the function received it.
    let proxied = api.resource(&api.root, "proxied").await;
    api.method(
        &proxied,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await;
    api.deploy("prod", json!({})).await;

    for node in &nodes {
        let echoed: Value = get_deployed(&node.invoke_url(&api.id, "prod", "/mapped?q=a+b&q=c"))
            .await
            .json()
            .await
            .expect("the echo");
        // The single-value mapping takes the last value; the multi-value one all, in order.
        let query = text(&echoed["query"]);
        let mut pairs: Vec<&str> = query.split('&').collect();
        pairs.sort();
        assert_eq!(pairs, ["all=a%20b", "all=c", "got=c"], "{echoed}");

        let rendered: Value =
            get_deployed(&node.invoke_url(&api.id, "prod", "/templated?q=a+b&q=c"))
                .await
                .json()
                .await
                .expect("the template's JSON");
        assert_eq!(rendered, json!({"one": "c", "map": "c"}));

        let event: Value = get_deployed(&node.invoke_url(&api.id, "prod", "/proxied?q=a+b&q=c"))
            .await
            .json()
            .await
            .expect("the proxy event");
        assert_eq!(event["queryStringParameters"], json!({"q": "c"}), "{event}");
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({"q": ["a b", "c"]}),
            "{event}"
        );
    }
}

/// TestInvokeMethod of function integrations: the control plane calls the functions host
/// as a node does; the log shows the endpoint request and response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_invoke_runs_function_integrations() {
    let functions = FunctionsHost::start().await;
    let (cp, _nodes) = cluster(&[("FUNCTIONS_URL", functions.url.clone())], &[]).await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "test-invoke-functions").await;

    // AWS (non-proxy): seed 003's age function, its result through the default response.
    let age = api.resource(&api.root, "age").await;
    api.method_with_responses(
        &age,
        "POST",
        json!({"type": "AWS", "httpMethod": "POST", "uri": function_uri("api-lambda-age")}),
        &[("200", &[], json!({}))],
    )
    .await;
    let r = m
        .post(
            &api.method_path(&age, "POST"),
            json!({"body": "{\"personData\": {\"age\": 26}}",
                   "headers": {"Content-Type": "application/json"}}),
        )
        .await
        .ok();
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(text(&r["body"]), "52", "{r}");
    let log = text(&r["log"]);
    for line in [
        "Endpoint request URI: ",
        "Endpoint request body after transformations: {\"personData\": {\"age\": 26}}",
        "Received response. Status: 200, Integration latency: ",
        "Endpoint response body before transformations: 52",
        "Method completed with status: 200",
    ] {
        assert!(log.contains(line), "{line:?} missing from\n{log}");
    }

    // AWS_PROXY: the function's proxy result is the method response.
    let echo = api.resource(&api.root, "echo").await;
    api.method(
        &echo,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await;
    let r = m
        .post(
            &api.method_path(&echo, "GET"),
            json!({"pathWithQueryString": "/echo?q=a+b&q=c"}),
        )
        .await
        .ok();
    assert_eq!(r["status"], 200, "{r}");
    let event: Value = serde_json::from_str(&text(&r["body"])).expect("the proxy event");
    assert_eq!(event["queryStringParameters"], json!({"q": "c"}), "{event}");
    assert_eq!(
        event["requestContext"]["stage"], "test-invoke-stage",
        "{event}"
    );
    let log = text(&r["log"]);
    assert!(
        log.contains("Endpoint request body after transformations: {"),
        "{log}"
    );
    assert!(
        log.contains("Endpoint response body before transformations: {"),
        "{log}"
    );
    assert!(log.contains("Method request query string: {q=c}"), "{log}");

    // A function answering a malformed proxy result: 502, the reason in the log.
    let bad = api.resource(&api.root, "bad").await;
    api.method(
        &bad,
        "GET",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("malformed")}),
    )
    .await;
    let r = m.post(&api.method_path(&bad, "GET"), json!({})).await.ok();
    assert_eq!(r["status"], 502, "{r}");
    let log = text(&r["log"]);
    assert!(log.contains("malformed Lambda proxy response"), "{log}");
    assert!(log.contains("Method completed with status: 502"), "{log}");
}

/// Without `FUNCTIONS_URL` the control plane cannot invoke functions: 500, and the log
/// says why, as API Gateway's does for a misconfigured function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_invoke_without_a_functions_endpoint_says_why() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "no-functions").await;
    let res = api.resource(&api.root, "age").await;
    api.method(
        &res,
        "POST",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await;
    let r = m.post(&api.method_path(&res, "POST"), json!({})).await.ok();
    assert_eq!(r["status"], 500, "{r}");
    let log = text(&r["log"]);
    assert!(
        log.contains("Execution failed due to configuration error: no functions endpoint"),
        "{log}"
    );
    assert!(log.contains("Method completed with status: 500"), "{log}");
}

/// A backend that sends its head and then stalls: a buffered body waits at most the
/// integration timeout (504); a streamed one is cut after the node's idle timeout (the
/// client sees a truncated body, the backend connection is closed, not reused); the node
/// serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_backend_body_costs_a_504_or_a_cut_stream_never_the_node() {
    let (cp, nodes) = cluster(&[], &[("BACKEND_IDLE_TIMEOUT", "1".to_string())]).await;
    let stalling = StallingBackend::start().await;
    let backend = Backend::start("alive").await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "stalls").await;

    // Buffered: a response template makes the gateway read the whole body.
    let buffered = api.resource(&api.root, "buffered").await;
    api.method_with_responses(
        &buffered,
        "GET",
        json!({"type": "HTTP", "httpMethod": "GET", "uri": format!("{}/length", stalling.url()),
               "timeoutInMillis": 500}),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json": "$input.body"}}),
        )],
    )
    .await;
    // Streamed: HTTP_PROXY passes the body through as it arrives.
    for (part, path) in [("length", "/length"), ("chunked", "/chunked")] {
        let res = api.resource(&api.root, part).await;
        api.method(
            &res,
            "GET",
            json!({"type": "HTTP_PROXY", "httpMethod": "GET",
                   "uri": format!("{}{path}", stalling.url())}),
        )
        .await;
    }
    let alive = api.resource(&api.root, "alive").await;
    api.method(
        &alive,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/", backend.url())}),
    )
    .await;
    api.deploy("prod", json!({})).await;

    for node in &nodes {
        let r = get_deployed(&node.invoke_url(&api.id, "prod", "/buffered")).await;
        assert_eq!(r.status(), 504);
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "InternalServerErrorException"
        );
        let body: Value = r.json().await.expect("a JSON error");
        assert_eq!(body, json!({"message": "Endpoint request timed out"}));

        for path in ["/length", "/chunked"] {
            let before = stalling.accepted();
            let r = get_deployed(&node.invoke_url(&api.id, "prod", path)).await;
            assert_eq!(r.status(), 200, "{path}");
            // The head and the first bytes arrived; then the stream is cut, not ended.
            let body = r.bytes().await;
            assert!(
                body.is_err(),
                "{path}: the body should be cut, got {body:?}"
            );
            // Each stalled exchange had its own connection: a cut one is never pooled.
            let r = get_deployed(&node.invoke_url(&api.id, "prod", path)).await;
            assert!(r.bytes().await.is_err(), "{path}");
            assert_eq!(stalling.accepted(), before + 2, "{path}");
        }

        // The node is unaffected.
        let r = reqwest::get(node.invoke_url(&api.id, "prod", "/alive"))
            .await
            .expect("the node answers");
        assert_eq!(r.status(), 200);
        let echoed: Value = r.json().await.expect("the echo");
        assert_eq!(echoed["backend"], "alive");
        let health = reqwest::get(format!("{}/healthz", node.base()))
            .await
            .expect("health");
        assert_eq!(health.status(), 200);
    }
}
