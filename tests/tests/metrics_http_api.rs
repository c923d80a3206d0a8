//! HTTP API metrics through the CloudWatch API (issue 20): one HTTP API (`protocolType`
//! HTTP) on two nodes, `GET /pets` with detailed metrics (`routeSettings`), `GET /gone` to a
//! backend answering 404 without them, and a path no route matches. After requests through
//! both nodes, boto3's `cloudwatch` client (`tests/boto3/http_api_metrics.py`) must read
//! exactly those counts summed over both nodes under AWS's HTTP API names and dimensions:
//! `Count`, `4xx`, `5xx`, `Latency`, `IntegrationLatency` by {ApiId}, {ApiId, Stage} and
//! {ApiId, Stage, Route}; ListMetrics must list those sets and no REST-style (`ApiName`)
//! one for the API; GetMetricData must agree; and an alarm on `Count` by
//! {ApiId, Stage, Route} must go to ALARM. `DataProcessed` (Sum, by every set, through
//! GetMetricStatistics and GetMetricData) must equal the body bytes the test sent plus the
//! body bytes it received through the gateway on the requests counted (some requests carry
//! a body, of known length).

use std::time::Duration;

use apigw_e2e::process::{DataPlane, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{eventually, fresh_database, Backend, ControlPlane};
use serde_json::{json, Value};

/// `GET {path}` on `node` for `api` (invoke Host `{api}.execute-api.localhost`) with
/// `body` (sent with its `Content-Length`): the status and the body bytes that went through
/// the gateway (the request body sent plus the response body received; DataProcessed).
async fn call(node: &DataPlane, api: &str, path: &str, body: &'static [u8]) -> (u16, u64) {
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", node.base()))
        .header("host", format!("{api}.execute-api.localhost"));
    if !body.is_empty() {
        request = request.body(body);
    }
    let Ok(response) = request.send().await else {
        return (0, 0);
    };
    let status = response.status().as_u16();
    let received = response.bytes().await.map_or(0, |b| b.len() as u64);
    (status, body.len() as u64 + received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_metrics_read_by_api_id_stage_and_route_over_two_nodes() {
    let backend = Backend::start("http-metrics").await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start_with_env(
        &db,
        apigw_e2e::free_port(),
        apigw_e2e::free_port(),
        &[("APIGW_ALARM_EVAL_INTERVAL", "1".to_string())],
    )
    .await;
    let m = cp.mgmt();
    let id = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();

    let api = m
        .post(
            "/v2/apis",
            json!({"name": "metered-http", "protocolType": "HTTP"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let integration = |uri: String| {
        let m = &m;
        let base = &base;
        async move {
            let made = m
                .post(
                    &format!("{base}/integrations"),
                    json!({"integrationType": "HTTP_PROXY", "integrationMethod": "GET",
                           "integrationUri": uri, "payloadFormatVersion": "1.0"}),
                )
                .await
                .ok();
            made["integrationId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let pets = integration(format!("{}/pets", backend.url())).await;
    let gone = integration(format!("{}/status/404", backend.url())).await;
    for (key, target) in [("GET /pets", &pets), ("GET /gone", &gone)] {
        m.post(
            &format!("{base}/routes"),
            json!({"routeKey": key, "target": format!("integrations/{target}")}),
        )
        .await
        .ok();
    }
    // Detailed metrics for `GET /pets` only: its own `Route` series, the rest in the stage's.
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "prod", "autoDeploy": true,
               "routeSettings": {"GET /pets": {"detailedMetricsEnabled": true}}}),
    )
    .await
    .ok();

    let started = time::OffsetDateTime::now_utc().unix_timestamp();
    let env = [("METRICS_SHIP_INTERVAL", "1".to_string())];
    let nodes = [
        DataPlane::start_env(&cp.grpc_url(), "hm-0", &env).await,
        DataPlane::start_env(&cp.grpc_url(), "hm-1", &env).await,
    ];
    // DataProcessed: the bytes of the requests counted, per route and over the stage.
    let (mut pets_bytes, mut stage_bytes) = (0u64, 0u64);
    // Each node's first 200 on GET /pets (the stage reached it) counts too.
    for node in &nodes {
        let bytes = eventually(
            &format!("{} serves GET /prod/pets", node.node_id),
            Duration::from_secs(30),
            || async {
                let (status, bytes) = call(node, &api, "/prod/pets", b"").await;
                (status == 200).then_some(bytes)
            },
        )
        .await;
        pets_bytes += bytes;
    }
    // GET /pets: 1 + 2 more on node 0 (with a 35-byte body), 1 + 1 more on node 1 (5, all
    // 200); GET /gone: 2 on node 1 (404 from the backend); /prod/nosuch: 1 on node 0 (404,
    // no route, with a 5-byte body).
    const PETS_BODY: &[u8] = b"{\"name\":\"rex\",\"kind\":\"dog\",\"age\":3}";
    for _ in 0..2 {
        let (status, bytes) = call(&nodes[0], &api, "/prod/pets", PETS_BODY).await;
        assert_eq!(status, 200);
        assert!(bytes > PETS_BODY.len() as u64, "a response body came back");
        pets_bytes += bytes;
        let (status, bytes) = call(&nodes[1], &api, "/prod/gone", b"").await;
        assert_eq!(status, 404);
        stage_bytes += bytes;
    }
    let (status, bytes) = call(&nodes[1], &api, "/prod/pets", b"").await;
    assert_eq!(status, 200);
    pets_bytes += bytes;
    let (status, bytes) = call(&nodes[0], &api, "/prod/nosuch", b"hello").await;
    assert_eq!(status, 404);
    stage_bytes += bytes + pets_bytes;

    let stage = json!({"ApiId": api, "Stage": "prod"});
    let route = json!({"ApiId": api, "Stage": "prod", "Route": "GET /pets"});
    let expect = json!({
        "start": started - 120,
        "checks": [
            {"metric": "Count", "dims": route, "stat": "Sum", "value": 5},
            {"metric": "Count", "dims": stage, "stat": "Sum", "value": 8},
            {"metric": "Count", "dims": {"ApiId": api}, "stat": "Sum", "value": 8},
            {"metric": "4xx", "dims": stage, "stat": "Sum", "value": 3},
            {"metric": "5xx", "dims": stage, "stat": "Sum", "value": 0},
            {"metric": "4xx", "dims": route, "stat": "Sum", "value": 0},
            {"metric": "Latency", "dims": route, "stat": "SampleCount", "value": 5},
            {"metric": "IntegrationLatency", "dims": route, "stat": "SampleCount", "value": 5},
            {"metric": "DataProcessed", "dims": route, "stat": "Sum", "value": pets_bytes},
            {"metric": "DataProcessed", "dims": stage, "stat": "Sum", "value": stage_bytes},
            {"metric": "DataProcessed", "dims": {"ApiId": api}, "stat": "Sum",
             "value": stage_bytes},
            {"metric": "DataProcessed", "dims": route, "stat": "SampleCount", "value": 5},
            {"metric": "Count", "dims": {"ApiId": api, "Stage": "prod", "Route": "GET /gone"},
             "stat": "Sum", "value": null},
            // REST names and dimensions do not read an HTTP API's series.
            {"metric": "4XXError", "dims": stage, "stat": "Sum", "value": null},
            {"metric": "Count", "dims": {"ApiName": "metered-http"}, "stat": "Sum", "value": null},
            {"metric": "Count", "dims": {"ApiName": "metered-http", "Stage": "prod",
             "Resource": "/pets", "Method": "GET"}, "stat": "Sum", "value": null},
        ],
        "listed": [
            ["Count", {"ApiId": api}],
            ["4xx", stage],
            ["5xx", stage],
            ["Count", route],
            ["Latency", route],
            ["DataProcessed", stage],
            ["DataProcessed", route],
        ],
        "unlisted": [
            ["Count", {"ApiId": api, "Stage": "prod", "Route": "GET /gone"}],
            ["4XXError", stage],
            ["MessageCount", stage],
        ],
        "unlisted_api_name": "metered-http",
        // GetMetricData agrees on these too.
        "metric_data": [
            {"metric": "DataProcessed", "dims": stage, "stat": "Sum", "value": stage_bytes},
            {"metric": "DataProcessed", "dims": route, "stat": "Sum", "value": pets_bytes},
        ],
        "alarm": {"name": "pets-busy", "metric": "Count", "dims": route, "threshold": 3},
    });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/http_api_metrics.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("CW_ENDPOINT", cp.url())
        .env("CW_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("CW_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("HAM_EXPECT", expect.to_string())
        .output()
        .await
        .expect("running python3");
    assert!(
        out.status.success(),
        "http_api_metrics.py failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
