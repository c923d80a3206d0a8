//! WebSocket throttling holds for the cluster, and the WebSocket billing CSV (issue 19).
//!
//! Three nodes share one Redis. A route throttled by the stage's `routeSettings` (rate 10,
//! burst 20) is hammered by clients on every node; the messages the integration (a
//! counting HTTP server) received must stay within the token bucket's bound for the whole
//! cluster — each node enforcing the limit on its own would admit three bursts at once,
//! over the bound — and every throttled message is answered `Too Many Requests` and never
//! reaches it. `--ws-connect-rate` (5 here) holds for the cluster in the same way, and a
//! `$connect` route setting (burst 2, no refill) admits exactly two upgrades across the
//! three nodes. Bounds are measured with Redis's clock, which the shared buckets refill by
//! (as in usage_plans.rs); nothing asserts how long anything took.
//!
//! Then the usage: once the control plane's mover has taken the counters out of Redis,
//! `GET /v2/apis/{apiId}/usage/export` is the CSV of exactly what the JSON call answers,
//! with the messages this test can count itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apigw_e2e::process::redis_prefix;
use apigw_e2e::websocket::{host, id, next_text, Ws};
use apigw_e2e::{
    eventually, fresh_database, raw_status, redis_time_ms, redis_url, ControlPlane, DataPlane, Mgmt,
};
use futures::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// `--ws-connect-rate` of every node here (and so the burst of the stage's bucket).
const CONNECT_RATE: f64 = 5.0;
/// The throttled route's settings.
const RATE: f64 = 10.0;
const BURST: f64 = 20.0;
const BURST_LIMIT: i64 = 20;
/// The most each client sends: six clients offer up to 400 messages a second, forty times
/// the route's rate (and over a hundred a second to each node, far past what a node
/// enforcing the limit alone would hold to the cluster's bound), without flooding a
/// machine that also runs the nodes and Redis.
const PACE: Duration = Duration::from_millis(15);
/// The API's name: a comma and quotes, which the CSV must quote.
const API_NAME: &str = "chat, \"limits\"";

/// Upgrades to `api`/`dev` on the node listening on `port`; the refusal's status otherwise.
async fn connect(port: u16, api: &str) -> Result<Ws, u16> {
    apigw_e2e::websocket::connect(port, api, "/dev").await
}

/// Whether `node` serves `api`/`dev` as a WebSocket stage, asked without spending a token:
/// an upgrade request without `Sec-WebSocket-Key` is refused 400 by a WebSocket stage
/// before any admission, and goes to the REST engine (another status) otherwise.
async fn serves(node: &DataPlane, api: &str) -> bool {
    let head = format!(
        "GET /dev HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade",
        host(api)
    );
    raw_status(node.port, &head, 0, false).await == 400
}

/// The integration: counts the messages it receives and answers `{"n": count}`.
async fn counting_integration() -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&hits);
    let app = axum::Router::new().route(
        "/count",
        axum::routing::post(move || {
            let counted = Arc::clone(&counted);
            async move {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                axum::Json(json!({ "n": n }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the integration");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/count"), hits)
}

/// The counted API: route `count` → the integration, with a route response, throttled by
/// the stage's route settings at [`RATE`] / [`BURST`].
async fn counted_api(m: &Mgmt, integration: &str) -> String {
    let api = m
        .post(
            "/v2/apis",
            json!({"name": API_NAME, "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let http = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "HTTP_PROXY", "integrationUri": integration,
                   "integrationMethod": "POST"}),
        )
        .await
        .ok();
    let route = m
        .post(
            &format!("{base}/routes"),
            json!({"routeKey": "count",
                   "target": format!("integrations/{}", id(&http, "integrationId")),
                   "routeResponseSelectionExpression": "$default"}),
        )
        .await
        .ok();
    m.post(
        &format!("{base}/routes/{}/routeresponses", id(&route, "routeId")),
        json!({"routeResponseKey": "$default"}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true,
               "routeSettings": {"count": {"throttlingRateLimit": RATE,
                                           "throttlingBurstLimit": BURST_LIMIT}}}),
    )
    .await
    .ok();
    api
}

/// The gated API: `$connect` (MOCK) throttled at burst 2 without refill.
async fn gated_api(m: &Mgmt) -> String {
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "gate", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let mock = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "MOCK",
                   "requestTemplates": {"$default": "{\"statusCode\": 200}"},
                   "templateSelectionExpression": "\\$default"}),
        )
        .await
        .ok();
    m.post(
        &format!("{base}/routes"),
        json!({"routeKey": "$connect",
               "target": format!("integrations/{}", id(&mock, "integrationId"))}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true,
               "routeSettings": {"$connect": {"throttlingRateLimit": 0,
                                              "throttlingBurstLimit": 2}}}),
    )
    .await
    .ok();
    api
}

/// What a run of load saw.
#[derive(Debug, Default)]
struct Tally {
    admitted: u64,
    throttled: u64,
    other: u64,
    /// Messages sent (the message run).
    sent: u64,
}

/// Asserts the token bucket's upper bound over `elapsed_ms` of Redis's clock: what was
/// admitted ≤ burst + rate × t × 1.05 + 1 (the REST tests' bound, one token of slack for
/// the whole milliseconds the script counts in), and that the load went past it.
fn assert_bound(what: &str, t: &Tally, elapsed_ms: u64, rate: f64, burst: f64) {
    let e = elapsed_ms as f64 / 1000.0;
    let bound = burst + rate * e * 1.05 + 1.0;
    eprintln!("{what}: {t:?} in {e:.3}s of Redis's clock (rate {rate}, burst {burst})");
    assert!(
        t.admitted as f64 <= bound,
        "{what}: admitted {} > {burst} + {rate} × {e:.3} × 1.05 + 1 = {bound}",
        t.admitted
    );
    assert!(t.admitted as f64 >= burst, "{what}: the burst is available");
    assert!(t.throttled > 0, "{what}: the load went past the limit");
    assert_eq!(t.other, 0, "{what}: unexpected answers");
}

/// The next text message as JSON (panics after 20 s or on close).
async fn next_json(ws: &mut Ws) -> Value {
    next_text(ws, "an answer").await
}

/// Sends `count` messages from every client until `for_` has passed, each waiting for its
/// answer before the next and sending at most one every [`PACE`], counting the answers.
async fn message_load(clients: Vec<Ws>, for_: Duration) -> (Tally, Vec<Ws>) {
    let deadline = Instant::now() + for_;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut t = Tally::default();
                let mut pace = tokio::time::interval(PACE);
                while Instant::now() < deadline {
                    pace.tick().await;
                    ws.send(Message::Text(json!({"action": "count"}).to_string().into()))
                        .await
                        .expect("send");
                    t.sent += 1;
                    let answer = next_json(&mut ws).await;
                    if answer["message"] == "Too Many Requests" {
                        assert!(answer["connectionId"].is_string(), "{answer}");
                        t.throttled += 1;
                    } else if answer["n"].is_u64() {
                        t.admitted += 1;
                    } else {
                        eprintln!("unexpected answer: {answer}");
                        t.other += 1;
                    }
                }
                (t, ws)
            })
        })
        .collect();
    let mut total = Tally::default();
    let mut clients = Vec::new();
    for task in tasks {
        let (t, ws) = task.await.expect("client task");
        total.admitted += t.admitted;
        total.throttled += t.throttled;
        total.other += t.other;
        total.sent += t.sent;
        clients.push(ws);
    }
    (total, clients)
}

/// Opens connections from two workers per node until `for_` has passed (at most one every
/// [`PACE`] each), closing each at once, counting upgrades and 429s.
async fn connect_load(nodes: &[DataPlane], api: &str, for_: Duration) -> Tally {
    let deadline = Instant::now() + for_;
    let tasks: Vec<_> = nodes
        .iter()
        .chain(nodes)
        .map(|node| {
            let (port, api) = (node.port, api.to_string());
            tokio::spawn(async move {
                let mut t = Tally::default();
                let mut pace = tokio::time::interval(PACE);
                while Instant::now() < deadline {
                    pace.tick().await;
                    match connect(port, &api).await {
                        Ok(mut ws) => {
                            t.admitted += 1;
                            let _ = ws.close(None).await;
                        }
                        Err(429) => t.throttled += 1,
                        Err(status) => {
                            eprintln!("unexpected upgrade answer {status}");
                            t.other += 1;
                        }
                    }
                }
                t
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let t = task.await.expect("connect worker");
        total.admitted += t.admitted;
        total.throttled += t.throttled;
        total.other += t.other;
    }
    total
}

async fn redis_exists(key: &str) -> bool {
    let client = redis::Client::open(redis_url()).expect("Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connecting to Redis");
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<i64>(&mut conn)
        .await
        .expect("EXISTS")
        > 0
}

fn sum(usage: &Value, member: &str) -> i64 {
    usage["items"]
        .as_array()
        .map(|items| items.iter().map(|i| i[member].as_i64().unwrap_or(0)).sum())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_throttling_holds_for_the_cluster_and_usage_exports_as_csv() {
    let (integration, hits) = counting_integration().await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let env = [("WS_CONNECT_RATE", format!("{CONNECT_RATE}"))];
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("wsl-{i}"), &env).await);
    }
    let m = cp.mgmt();
    let api = counted_api(&m, &integration).await;
    let gate = gated_api(&m).await;
    for node in &nodes {
        for a in [&api, &gate] {
            eventually(
                "every node serves both WebSocket stages",
                Duration::from_secs(30),
                || async { serves(node, a).await.then_some(()) },
            )
            .await;
        }
    }

    // Two clients per node. Connecting spends the stage's connection bucket (rate 5,
    // burst 5): the sixth may wait for a token, so each is retried on 429 only.
    let mut clients = Vec::new();
    for node in nodes.iter().chain(&nodes) {
        let ws = eventually("a client connects", Duration::from_secs(30), || async {
            match connect(node.port, &api).await {
                Ok(ws) => Some(ws),
                Err(429) => None,
                Err(status) => panic!("upgrade refused with {status}"),
            }
        })
        .await;
        clients.push(ws);
    }
    let mut connections = clients.len() as i64;

    // Route throttling for the cluster: the route's bucket is untouched (full) here.
    let redis = redis_url();
    let t0 = redis_time_ms(&redis).await;
    let (run, clients) = message_load(clients, Duration::from_secs(3)).await;
    let elapsed = redis_time_ms(&redis).await - t0;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        run.admitted,
        "the integration got exactly the admitted messages, no throttled one"
    );
    assert_bound("route count", &run, elapsed, RATE, BURST);

    // The stage's new connections for the cluster, from every node. The bucket (5 tokens
    // at 5/s) refilled during the message run's three seconds.
    let t0 = redis_time_ms(&redis).await;
    let conns = connect_load(&nodes, &api, Duration::from_secs(2)).await;
    let elapsed = redis_time_ms(&redis).await - t0;
    assert_bound("connect rate", &conns, elapsed, CONNECT_RATE, CONNECT_RATE);
    connections += conns.admitted as i64;

    // `$connect`'s route setting (burst 2, rate 0): two upgrades for the whole cluster,
    // then 429 on every node; a refused upgrade takes no token.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        for node in &nodes {
            statuses.push(match connect(node.port, &gate).await {
                Ok(mut ws) => {
                    let _ = ws.close(None).await;
                    101
                }
                Err(status) => status,
            });
        }
    }
    assert_eq!(
        (
            statuses.iter().filter(|s| **s == 101).count(),
            statuses.iter().filter(|s| **s == 429).count()
        ),
        (2, 7),
        "{statuses:?}"
    );

    // Usage: close the clients, then wait for the mover to have moved every counter out
    // of Redis, with this API's messages all counted: each message sent (throttled ones
    // too) and each route response, one 32 KB unit each; each connection at least a minute.
    for mut ws in clients {
        let _ = ws.close(None).await;
    }
    let messages = (run.sent + run.admitted) as i64;
    let today = time::OffsetDateTime::now_utc().date();
    let range = format!(
        "startDate={}&endDate={}",
        today.previous_day().expect("yesterday"),
        today.next_day().expect("tomorrow")
    );
    let json_path = format!("/v2/apis/{api}/usage?{range}");
    let csv_path = format!("/v2/apis/{api}/usage/export?{range}");
    let pending = format!("{}wsu", redis_prefix(&cp.grpc_url()));
    let (usage, csv) = eventually(
        "the usage is moved to Postgres and stable",
        Duration::from_secs(60),
        || async {
            let before = m.get(&json_path).await.ok();
            if redis_exists(&pending).await
                || sum(&before, "messages") != messages
                || sum(&before, "connectionMinutes") < connections
            {
                return None;
            }
            let csv = m.get_raw(&csv_path, None).await;
            let after = m.get(&json_path).await.ok();
            (after == before && !redis_exists(&pending).await).then_some((after, csv))
        },
    )
    .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(
        csv.header("content-type").starts_with("text/csv"),
        "{:?}",
        csv.headers
    );
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    assert_eq!(
        reader
            .headers()
            .expect("a header")
            .iter()
            .collect::<Vec<_>>(),
        [
            "apiId",
            "apiName",
            "stage",
            "day",
            "messages",
            "connectionMinutes"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("a CSV row").iter().map(str::to_string).collect())
        .collect();
    let expected: Vec<Vec<String>> = usage["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            vec![
                api.clone(),
                API_NAME.to_string(),
                id(i, "stage"),
                id(i, "date"),
                i["messages"].to_string(),
                i["connectionMinutes"].to_string(),
            ]
        })
        .collect();
    assert!(!rows.is_empty(), "{}", csv.text);
    assert_eq!(rows, expected, "{}", csv.text);
    assert!(
        csv.text.contains("\"chat, \"\"limits\"\"\""),
        "the name is quoted: {}",
        csv.text
    );

    // Bad dates and ranges, as the JSON call answers them; an unknown API.
    for bad in [
        "startDate=2026-13-01&endDate=2026-12-31",
        "startDate=2026-12-02&endDate=2026-12-01",
        "endDate=2026-12-01",
    ] {
        m.get(&format!("/v2/apis/{api}/usage/export?{bad}"))
            .await
            .err(400, "BadRequestException");
        m.get(&format!("/v2/apis/{api}/usage?{bad}"))
            .await
            .err(400, "BadRequestException");
    }
    m.get(&format!("/v2/apis/nosuchapi/usage/export?{range}"))
        .await
        .err(404, "NotFoundException");
}
