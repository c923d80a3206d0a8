//! WebSocket API metrics and the live connection count (issue 19, "Metering and metrics").
//!
//! One WebSocket API on two nodes (`$connect` through the REQUEST authorizer to a MOCK,
//! `echo` to an HTTP backend with a route response and detailed metrics, `bad` to a backend
//! answering 404, `down` to a closed port): clients on both nodes, a refused `$connect`, an
//! integration error, an execution error and an `@connections` post; then the CloudWatch
//! API (boto3's `cloudwatch`, `tests/boto3/websocket_metrics.py`) must show exactly those
//! counts summed over both nodes, per stage and for the detailed route, and ListMetrics the
//! WebSocket dimension sets. The live count (`GET /v2/apis/{apiId}/stages/dev/connections`)
//! goes up and down with the clients, and a SIGKILLed node's connections drop out of it
//! once the registry TTL (3 s here) passes.

use std::time::Duration;

use apigw_e2e::process::{DataPlane, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::websocket::{fn_uri, host, next_text, send, Ws};
use apigw_e2e::{eventually, free_port, fresh_database, Backend, ControlPlane, FunctionsHost};
use serde_json::{json, Value};

/// Connects to `node` for `api`/`dev` with `query`; the refusal's status otherwise.
async fn connect(node: &DataPlane, api: &str, query: &str) -> Result<Ws, u16> {
    apigw_e2e::websocket::connect(node.port, api, &format!("/dev{query}")).await
}

/// A signed `@connections` POST of `body` on `node` (service `execute-api`).
async fn post_to_connection(node: &DataPlane, api: &str, id: &str, body: &[u8]) -> u16 {
    let url = format!("http://{}/dev/@connections/{id}", host(api));
    let mut headers = http::HeaderMap::new();
    headers.insert("host", host(api).parse().expect("host"));
    let params = apigw_sigv4::SigningParams {
        access_key_id: ACCESS_KEY_ID,
        secret: &apigw_sigv4::SecretKey::new(SECRET_ACCESS_KEY),
        security_token: None,
        region: "us-east-1",
        service: "execute-api",
        time: time::OffsetDateTime::now_utc(),
    };
    let signed = apigw_sigv4::sign("POST", &url, &headers, body, &params).expect("signing");
    signed.apply_to(&mut headers).expect("headers");
    reqwest::Client::new()
        .post(format!("{}/dev/@connections/{id}", node.base()))
        .headers(headers)
        .body(body.to_vec())
        .send()
        .await
        .expect("@connections call")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_metrics_sum_over_nodes_and_the_live_count_follows_connections() {
    let functions = FunctionsHost::start().await;
    let backend = Backend::start("ws-backend").await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let id = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();

    let api = m
        .post(
            "/v2/apis",
            json!({"name": "metered", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let authorizer = m
        .post(
            &format!("{base}/authorizers"),
            json!({"authorizerType": "REQUEST", "name": "token",
                   "authorizerUri": fn_uri("websocket-authorizer"),
                   "identitySource": ["route.request.querystring.token"]}),
        )
        .await
        .ok();
    let integration = |body: Value| {
        let m = &m;
        let base = &base;
        async move {
            let made = m.post(&format!("{base}/integrations"), body).await.ok();
            made["integrationId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let mock = integration(json!({"integrationType": "MOCK",
        "requestTemplates": {"$default": "{\"statusCode\": 200}"},
        "templateSelectionExpression": "\\$default"}))
    .await;
    let echo = integration(
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "POST",
        "integrationUri": format!("{}/raw", backend.url())}),
    )
    .await;
    let bad = integration(
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "POST",
        "integrationUri": format!("{}/status/404", backend.url())}),
    )
    .await;
    let down = integration(
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "POST",
        "integrationUri": format!("http://127.0.0.1:{}/", free_port())}),
    )
    .await;
    m.post(
        &format!("{base}/routes"),
        json!({"routeKey": "$connect", "authorizationType": "CUSTOM",
               "authorizerId": id(&authorizer, "authorizerId"),
               "target": format!("integrations/{mock}")}),
    )
    .await
    .ok();
    let echo_route = m
        .post(
            &format!("{base}/routes"),
            json!({"routeKey": "echo", "target": format!("integrations/{echo}"),
                   "routeResponseSelectionExpression": "$default"}),
        )
        .await
        .ok();
    m.post(
        &format!(
            "{base}/routes/{}/routeresponses",
            id(&echo_route, "routeId")
        ),
        json!({"routeResponseKey": "$default"}),
    )
    .await
    .ok();
    for (key, target) in [("bad", &bad), ("down", &down)] {
        m.post(
            &format!("{base}/routes"),
            json!({"routeKey": key, "target": format!("integrations/{target}")}),
        )
        .await
        .ok();
    }
    // Detailed metrics for `echo` only: its own `Route` series, the others in the stage's.
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true,
               "routeSettings": {"echo": {"detailedMetricsEnabled": true}}}),
    )
    .await
    .ok();

    let started = time::OffsetDateTime::now_utc().unix_timestamp();
    let env = [
        ("FUNCTIONS_URL", functions.url.clone()),
        ("WS_REGISTRY_TTL", "3".to_string()),
        ("METRICS_SHIP_INTERVAL", "1".to_string()),
    ];
    let node0 = DataPlane::start_env(&cp.grpc_url(), "wsm-0", &env).await;
    let mut node1 = DataPlane::start_env(&cp.grpc_url(), "wsm-1", &env).await;

    // ConnectCount 2 (one client per node); ClientError 1 (a denied $connect).
    let mut c0 = eventually(
        "node 0 serves the stage",
        Duration::from_secs(30),
        || async { connect(&node0, &api, "?token=allow").await.ok() },
    )
    .await;
    let mut c1 = eventually(
        "node 1 serves the stage",
        Duration::from_secs(30),
        || async { connect(&node1, &api, "?token=allow").await.ok() },
    )
    .await;
    assert_eq!(connect(&node0, &api, "?token=deny").await.err(), Some(403));

    // MessageCount: 2 in and 2 route responses out on `echo` (node 0), `bad` and `down` in
    // (node 1), one @connections post to c1 sent through node 0 (out on node 1): 7.
    for n in 0..2 {
        let body = json!({"action": "echo", "n": n});
        send(&mut c0, body.clone()).await;
        assert_eq!(next_text(&mut c0, "the echo").await, body);
    }
    send(&mut c1, json!({"action": "bad"})).await;
    let failed = next_text(&mut c1, "bad's answer").await;
    assert_eq!(failed["message"], "Internal server error", "{failed}");
    let c1_id = failed["connectionId"]
        .as_str()
        .expect("the connection id")
        .to_string();
    send(&mut c1, json!({"action": "down"})).await;
    assert_eq!(
        next_text(&mut c1, "down's answer").await["message"],
        "Internal server error"
    );
    assert_eq!(
        post_to_connection(&node0, &api, &c1_id, br#"{"note":"pushed"}"#).await,
        200
    );
    assert_eq!(
        next_text(&mut c1, "the post").await,
        json!({"note": "pushed"})
    );

    // The CloudWatch API, through boto3: exact sums over both nodes' shipments.
    let stage = json!({"ApiId": api, "Stage": "dev"});
    let route = json!({"ApiId": api, "Stage": "dev", "Route": "echo"});
    let expect = json!({
        "start": started - 120,
        "checks": [
            {"metric": "ConnectCount", "dims": stage, "stat": "Sum", "value": 2},
            {"metric": "MessageCount", "dims": stage, "stat": "Sum", "value": 7},
            {"metric": "MessageCount", "dims": {"ApiId": api}, "stat": "Sum", "value": 7},
            {"metric": "ClientError", "dims": stage, "stat": "Sum", "value": 1},
            {"metric": "IntegrationError", "dims": stage, "stat": "Sum", "value": 1},
            {"metric": "ExecutionError", "dims": stage, "stat": "Sum", "value": 1},
            {"metric": "IntegrationLatency", "dims": stage, "stat": "SampleCount", "value": 3},
            {"metric": "MessageCount", "dims": route, "stat": "Sum", "value": 4},
            {"metric": "IntegrationLatency", "dims": route, "stat": "SampleCount", "value": 2},
            {"metric": "ClientError", "dims": route, "stat": "Sum", "value": null},
        ],
        "listed": [
            ["ConnectCount", {"ApiId": api}],
            ["ConnectCount", stage],
            ["ExecutionError", stage],
            ["MessageCount", route],
            ["IntegrationLatency", route],
        ],
        "unlisted": [
            ["MessageCount", {"ApiId": api, "Stage": "dev", "Route": "bad"}],
            ["Count", {"ApiId": api}],
        ],
    });
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/websocket_metrics.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("CW_ENDPOINT", cp.url())
        .env("CW_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("CW_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("WSM_EXPECT", expect.to_string())
        .output()
        .await
        .expect("running python3");
    assert!(
        out.status.success(),
        "websocket_metrics.py failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The live count: the two clients, then a third, then one fewer.
    let path = format!("{base}/stages/dev/connections");
    let count_is = |want: i64, what: &'static str| {
        let m = &m;
        let path = &path;
        async move {
            eventually(what, Duration::from_secs(30), || async move {
                let got = m.get(path).await.ok();
                (got["connectionCount"] == json!(want)).then_some(())
            })
            .await
        }
    };
    count_is(2, "one client on each node").await;
    let mut c2 = connect(&node1, &api, "?token=allow")
        .await
        .expect("a third client");
    count_is(3, "a third client on node 1").await;
    c2.close(None).await.expect("close");
    count_is(2, "the third client closed").await;
    m.get(&format!("{base}/stages/nosuch/connections"))
        .await
        .err(404, "NotFoundException");
    m.get("/v2/apis/nosuchapi/stages/dev/connections")
        .await
        .err(404, "NotFoundException");

    // A SIGKILLed node's connections drop out once its counts' TTL (the registry's) passes.
    node1.kill().await;
    count_is(1, "node 1's client is gone with its node").await;
    send(&mut c0, json!({"action": "echo", "n": "still"})).await;
    assert_eq!(
        next_text(&mut c0, "node 0 still serves").await,
        json!({"action": "echo", "n": "still"})
    );
    drop(c1);
}
