//! The control plane's CloudWatch API through boto3's `cloudwatch` client
//! (`tests/boto3/cloudwatch.py`): metric reads over known rows of `metric_minutes`, the
//! errors and the query protocol, alarm CRUD; and the seeds' 5XX-rate alarm going to ALARM
//! and back to OK with its webhook notifications.

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{free_port, fresh_database, ControlPlane};
use apigw_sketch::Sketch;
use prost::Message;

/// Runs `cloudwatch.py <mode>` against `cp` and fails the test if it fails.
async fn boto3(cp: &ControlPlane, mode: &str, env: &[(&str, String)]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/cloudwatch.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .arg(mode)
        .env("CW_ENDPOINT", cp.url())
        .env("CW_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("CW_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("CW_DATABASE_URL", &cp.database_url)
        .envs(env.iter().map(|(k, v)| (*k, v.clone())))
        .status()
        .await
        .expect("running python3");
    assert!(status.success(), "cloudwatch.py {mode} failed: {status}");
}

struct SeedRow {
    minute: i64,
    resource: &'static str,
    method: &'static str,
    count: i64,
    error_4xx: i64,
    error_5xx: i64,
    latencies: Vec<f64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_reads_errors_query_protocol_and_alarm_crud() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    // Ten minutes ago, so every row is in a complete minute well within 15 days.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let base = (now / 60) * 60 - 600;
    let spread = |n: usize, from: f64, step: f64| -> Vec<f64> {
        (0..n).map(|i| from + step * i as f64).collect()
    };
    let rows = vec![
        SeedRow {
            minute: base,
            resource: "",
            method: "",
            count: 100,
            error_4xx: 10,
            error_5xx: 5,
            latencies: spread(100, 1.5, 3.7),
        },
        SeedRow {
            minute: base,
            resource: "/pets",
            method: "GET",
            count: 20,
            error_4xx: 2,
            error_5xx: 0,
            latencies: spread(20, 40.0, 11.0),
        },
        SeedRow {
            minute: base + 60,
            resource: "",
            method: "",
            count: 50,
            error_4xx: 0,
            error_5xx: 25,
            latencies: spread(50, 200.0, 0.5),
        },
    ];
    let pool = sqlx::PgPool::connect(&db).await.expect("connecting");
    for r in &rows {
        let mut lat = Sketch::new();
        for v in &r.latencies {
            lat.record(*v);
        }
        let mut integ = Sketch::new();
        for v in &r.latencies {
            integ.record(v * 0.8);
        }
        sqlx::query(
            "INSERT INTO metric_minutes (minute, api_id, stage, resource, method, api_name,
                 count, error_4xx, error_5xx, latency, integration_latency)
             VALUES (to_timestamp($1), 'a1b2c3', 'prod', $2, $3, 'pets', $4, $5, $6, $7, $8)",
        )
        .bind(r.minute as f64)
        .bind(r.resource)
        .bind(r.method)
        .bind(r.count)
        .bind(r.error_4xx)
        .bind(r.error_5xx)
        .bind(lat.to_proto().encode_to_vec())
        .bind(integ.to_proto().encode_to_vec())
        .execute(&pool)
        .await
        .expect("seeding metric_minutes");
    }
    let seed = serde_json::json!({
        "base": base,
        "api_name": "pets",
        "stage": "prod",
        "detailed": { "resource": "/pets", "method": "GET" },
        "rows": rows.iter().map(|r| serde_json::json!({
            "minute": r.minute, "resource": r.resource, "method": r.method, "count": r.count,
            "error_4xx": r.error_4xx, "error_5xx": r.error_5xx, "latencies": r.latencies,
        })).collect::<Vec<_>>(),
    });
    boto3(&cp, "reads", &[("CW_SEED", seed.to_string())]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_5xx_rate_alarm_goes_to_alarm_and_back_with_webhook_notifications() {
    let db = fresh_database().await.expect("a test database");
    let webhook_port = free_port();
    let cp = ControlPlane::start_with_env(
        &db,
        free_port(),
        free_port(),
        &[
            ("APIGW_ALARM_EVAL_INTERVAL", "1".to_string()),
            (
                "APIGW_ALARM_SNS_WEBHOOKS",
                format!(
                    "arn:aws:sns:us-east-1:000000000000:oncall=http://127.0.0.1:{webhook_port}/sns"
                ),
            ),
        ],
    )
    .await;
    boto3(
        &cp,
        "alarm",
        &[("CW_WEBHOOK_PORT", webhook_port.to_string())],
    )
    .await;
}

/// A backend whose health the Python side switches: `GET /work` answers 200 or 503,
/// `POST /control/fail` and `POST /control/recover` flip it.
async fn switchable_backend() -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::{get, post};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let failing = Arc::new(AtomicBool::new(false));
    let (f1, f2, f3) = (failing.clone(), failing.clone(), failing);
    let app = axum::Router::new()
        .route(
            "/work",
            get(move || async move {
                if f1.load(Ordering::SeqCst) {
                    (http::StatusCode::SERVICE_UNAVAILABLE, "down")
                } else {
                    (http::StatusCode::OK, "up")
                }
            }),
        )
        .route(
            "/control/fail",
            post(move || async move { f2.store(true, Ordering::SeqCst) }),
        )
        .route(
            "/control/recover",
            post(move || async move { f3.store(false, Ordering::SeqCst) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the backend");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// The seeds' story end to end with real traffic: two nodes ship their minutes every
/// second, a client calls the API through both all along; the backend starts failing, the
/// 5XX-rate alarm goes to ALARM and the webhook is told; it recovers, OK and told again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_traffic_5xx_alarm_fires_and_recovers_through_two_nodes() {
    use apigw_e2e::{DataPlane, RestApi};
    let db = fresh_database().await.expect("a test database");
    let webhook_port = free_port();
    let cp = ControlPlane::start_with_env(
        &db,
        free_port(),
        free_port(),
        &[("APIGW_ALARM_EVAL_INTERVAL", "1".to_string())],
    )
    .await;
    let ship = [("METRICS_SHIP_INTERVAL", "1".to_string())];
    let nodes = vec![
        DataPlane::start_env(&cp.grpc_url(), "cw-0", &ship).await,
        DataPlane::start_env(&cp.grpc_url(), "cw-1", &ship).await,
    ];
    let (backend, _backend_task) = switchable_backend().await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "pets").await;
    let work = api.resource(&api.root, "work").await;
    api.method(
        &work,
        "GET",
        serde_json::json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{backend}/work")}),
    )
    .await;
    apigw_e2e::rest_api::deploy(&m, &api.id, "prod", serde_json::json!({})).await;
    for n in &nodes {
        n.wait_ready().await;
    }
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| n.invoke_url(&api.id, "prod", "/work"))
        .collect();
    apigw_e2e::invoke::until_status(&urls, &[], 200).await;
    // Traffic through both nodes for as long as the test runs.
    let traffic = tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            for url in &urls {
                let _ = client.get(url).send().await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    boto3(
        &cp,
        "alarm-live",
        &[
            ("CW_WEBHOOK_PORT", webhook_port.to_string()),
            ("CW_BACKEND", backend),
        ],
    )
    .await;
    traffic.abort();
}

/// The web console calls the CloudWatch API with its session (a bearer token here); an
/// unsigned call is refused in the JSON protocol's error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_session_calls_and_unsigned_calls() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let client = reqwest::Client::new();
    let token = &cp.console_token().await;
    let call = |auth: Option<String>, op: &str| {
        let mut req = client
            .post(format!("{}/", cp.url()))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "x-amz-target",
                format!("GraniteServiceVersion20100801.{op}"),
            )
            .body("{}");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    let r = call(Some(format!("Bearer {token}")), "DescribeAlarms")
        .await
        .expect("DescribeAlarms");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(body["MetricAlarms"], serde_json::json!([]));

    let r = call(None, "DescribeAlarms").await.expect("unsigned call");
    assert_eq!(r.status(), 403);
    assert!(r
        .headers()
        .get("x-amzn-query-error")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.ends_with(";Sender")));
    let body: serde_json::Value = r.json().await.expect("JSON error");
    assert!(
        body["__type"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Two control-plane replicas over one database both run the evaluator every second: the
/// alarm changes state once and its action is delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_evaluate_an_alarm_once() {
    let db = fresh_database().await.expect("a test database");
    let every_second = [("APIGW_ALARM_EVAL_INTERVAL", "1".to_string())];
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), &every_second).await;
    let _replica = ControlPlane::start_with_env(&db, free_port(), free_port(), &every_second).await;
    boto3(
        &cp,
        "alarm-replicas",
        &[("CW_WEBHOOK_PORT", free_port().to_string())],
    )
    .await;
}
