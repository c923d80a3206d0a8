//! HTTP APIs (issue 20), the engine end to end: a control plane and two data-plane nodes,
//! an HTTP API defined through the v2 management API (signed HTTP) and served by both
//! nodes: AWS's route precedence, the `$default` stage's invoke URLs next to a named
//! stage, HTTP_PROXY with v2 parameter mapping and response parameters, CORS (preflight
//! answered by the gateway, headers on responses), 404 `{"message":"Not Found"}`, and a
//! route's throttle answering 429 `{"message":"Too Many Requests"}`.

use std::time::Duration;

use apigw_e2e::invoke::{send, Got};
use apigw_e2e::{eventually, Backend, Cluster, DataPlane, Mgmt};
use serde_json::{json, Value};

/// Creates an entity under `/v2/apis/{api}/{kind}` and answers its id member.
async fn create(m: &Mgmt, path: &str, body: Value, id: &str) -> String {
    let made = m.post(path, body).await.ok();
    made[id]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: no {id} in {made}"))
        .to_string()
}

/// An HTTP_PROXY integration to `uri` with `requestParameters` (and response ones).
async fn proxy(m: &Mgmt, api: &str, uri: &str, request: Value, response: Value) -> String {
    let mut body = json!({
        "integrationType": "HTTP_PROXY",
        "integrationUri": uri,
        "integrationMethod": "ANY",
        "payloadFormatVersion": "1.0",
    });
    if request.as_object().is_some_and(|o| !o.is_empty()) {
        body["requestParameters"] = request;
    }
    if response.as_object().is_some_and(|o| !o.is_empty()) {
        body["responseParameters"] = response;
    }
    create(
        m,
        &format!("/v2/apis/{api}/integrations"),
        body,
        "integrationId",
    )
    .await
}

async fn route(m: &Mgmt, api: &str, key: &str, integration: &str) {
    create(
        m,
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": key, "target": format!("integrations/{integration}")}),
        "routeId",
    )
    .await;
}

/// Calls `path` on `node` with the API's execute-api host.
async fn call(
    node: &DataPlane,
    api: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Got {
    let host = format!("{api}.execute-api.localhost:{}", node.port);
    let mut all: Vec<(&str, &str)> = vec![("host", &host)];
    all.extend_from_slice(headers);
    send(method, &format!("{}{path}", node.base()), &all, "").await
}

/// The echo backend's view of the request it got.
fn echoed(got: &Got) -> Value {
    let v = got.json();
    assert!(
        v["backend"].is_string(),
        "not from the backend: {} {}",
        got.status,
        got.body
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_routing_mapping_cors_and_throttling_on_two_nodes() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b").await;
    let b = backend.url();
    let m = cluster.cp.mgmt();

    let api = create(
        &m,
        "/v2/apis",
        json!({
            "name": "pets",
            "protocolType": "HTTP",
            "corsConfiguration": {
                "allowOrigins": ["https://app.example"],
                "allowMethods": ["GET", "POST"],
                "allowHeaders": ["content-type"],
                "maxAge": 300,
            },
        }),
        "apiId",
    )
    .await;
    let pets = proxy(
        &m,
        &api,
        &format!("{b}/pets/{{id}}"),
        json!({
            "overwrite:header.x-pet": "pet-${request.path.id}",
            "overwrite:header.x-stage": "$stageVariables.s",
            "append:querystring.src": "$context.routeKey",
            "remove:header.x-secret": "''",
        }),
        json!({}),
    )
    .await;
    let mine = proxy(&m, &api, &format!("{b}/mine"), json!({}), json!({})).await;
    let any = proxy(
        &m,
        &api,
        &format!("{b}/any/{{proxy}}"),
        json!({"overwrite:path": "/moved/$request.path.proxy"}),
        json!({}),
    )
    .await;
    let default = proxy(
        &m,
        &api,
        &format!("{b}/default"),
        json!({}),
        json!({"200": {"overwrite:statuscode": "202", "overwrite:header.x-mapped": "yes-$context.stage"}}),
    )
    .await;
    let limited = proxy(&m, &api, &format!("{b}/limited"), json!({}), json!({})).await;
    route(&m, &api, "GET /pets/{id}", &pets).await;
    route(&m, &api, "GET /pets/mine", &mine).await;
    route(&m, &api, "ANY /{proxy+}", &any).await;
    route(&m, &api, "$default", &default).await;
    route(&m, &api, "GET /limited", &limited).await;
    m.post(
        &format!("/v2/apis/{api}/stages"),
        json!({
            "stageName": "$default",
            "autoDeploy": true,
            "stageVariables": {"s": "default"},
            "routeSettings": {"GET /limited": {"throttlingBurstLimit": 2, "throttlingRateLimit": 0.2}},
        }),
    )
    .await
    .ok();
    m.post(
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "beta", "autoDeploy": true, "stageVariables": {"s": "beta"}}),
    )
    .await
    .ok();

    // A second API without `$default` route or stage: 404s.
    let other = create(
        &m,
        "/v2/apis",
        json!({"name": "other", "protocolType": "HTTP"}),
        "apiId",
    )
    .await;
    let x = proxy(&m, &other, &format!("{b}/x"), json!({}), json!({})).await;
    route(&m, &other, "GET /x", &x).await;
    m.post(
        &format!("/v2/apis/{other}/stages"),
        json!({"stageName": "prod", "autoDeploy": true}),
    )
    .await
    .ok();

    for node in &cluster.nodes {
        eventually("both APIs are served", Duration::from_secs(20), || async {
            let a = call(node, &api, "GET", "/beta/pets/1", &[]).await;
            let o = call(node, &other, "GET", "/prod/x", &[]).await;
            (a.status == 200 && o.status == 200).then_some(())
        })
        .await;

        // `$default` stage: no stage segment; the v2 mapping on headers and query.
        let got = call(
            node,
            &api,
            "GET",
            "/pets/7?keep=1",
            &[("x-secret", "s"), ("origin", "https://app.example")],
        )
        .await;
        assert_eq!(got.status, 200, "{}", got.body);
        let e = echoed(&got);
        assert_eq!(e["path"], "/pets/7");
        assert_eq!(e["query"], "keep=1&src=GET%20%2Fpets%2F%7Bid%7D");
        assert_eq!(e["headers"]["x-pet"], "pet-7");
        assert_eq!(e["headers"]["x-stage"], "default");
        assert!(e["headers"].get("x-secret").is_none(), "{e}");
        assert_eq!(
            got.header("access-control-allow-origin"),
            "https://app.example"
        );
        assert!(!got.header("apigw-requestid").is_empty());

        // A named stage's segment wins over `$default`.
        let e = echoed(&call(node, &api, "GET", "/beta/pets/7", &[]).await);
        assert_eq!(e["headers"]["x-stage"], "beta");

        // Precedence: literal over {param}; a method route over ANY; greedy; $default.
        let e = echoed(&call(node, &api, "GET", "/pets/mine", &[]).await);
        assert_eq!(e["path"], "/mine");
        let e = echoed(&call(node, &api, "POST", "/pets/7", &[]).await);
        assert_eq!(
            e["path"], "/moved/pets/7",
            "ANY /{{proxy+}} with overwrite:path"
        );
        let got = call(node, &api, "GET", "/", &[]).await;
        assert_eq!(got.status, 202, "$default route, statuscode overwritten");
        assert_eq!(got.header("x-mapped"), "yes-$default");
        assert_eq!(echoed(&got)["path"], "/default");

        // CORS: the gateway answers the preflight itself; other origins get nothing.
        let got = call(
            node,
            &api,
            "OPTIONS",
            "/pets/7",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
            ],
        )
        .await;
        assert_eq!(got.status, 204);
        assert_eq!(
            got.header("access-control-allow-origin"),
            "https://app.example"
        );
        assert_eq!(got.header("access-control-allow-methods"), "GET,POST");
        assert_eq!(got.header("access-control-max-age"), "300");
        let got = call(
            node,
            &api,
            "GET",
            "/pets/7",
            &[("origin", "https://evil.example")],
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.header("access-control-allow-origin"), "");

        // No route, no `$default` route or stage: AWS's 404.
        for path in ["/prod/y", "/nostage/x"] {
            let got = call(node, &other, "GET", path, &[]).await;
            assert_eq!(
                (got.status, got.body.as_str()),
                (404, r#"{"message":"Not Found"}"#),
                "{path}"
            );
        }
    }

    // The route's throttle (burst 2, one token per 5 s), shared by both nodes.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let got = call(&cluster.nodes[i % 2], &api, "GET", "/limited", &[]).await;
        if got.status == 429 {
            assert_eq!(got.body, r#"{"message":"Too Many Requests"}"#);
        }
        statuses.push(got.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "{statuses:?}"
    );
}
