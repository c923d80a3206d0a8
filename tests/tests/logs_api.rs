//! The log store and the CloudWatch Logs API: shipments sent straight to the control
//! plane's `LogsIngest` (a raw tonic client, as a node's shipper calls it), a retried
//! shipment stored once, a bad one refused; then every Logs operation reads them back with
//! paging (DescribeLogGroups, DescribeLogStreams with both orders, GetLogEvents forward
//! and backward with AWS's tokens, FilterLogEvents with JSON and term patterns, stream
//! names, ARNs and time ranges) and the model's errors; the console's search by its
//! fields; retention dropping whole day partitions. boto3's `logs` client does the same
//! over a burst (`tests/boto3/logs.py`), as `aws logs filter-log-events` and the calls of
//! `aws logs tail` make them.

use std::collections::BTreeSet;

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{fresh_database, ControlPlane};
use apigw_proto::logs as pb;
use apigw_proto::logs::logs_ingest_client::LogsIngestClient;
use serde_json::{json, Value};

const ACCESS: &str = "apigw-access/prod";
const EXEC: &str = "API-Gateway-Execution-Logs_abc123/prod";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// An access line as AWS's JSON preset writes it (status quoted).
fn access(ts: i64, rid: &str, status: u32, ip: &str, path: &str) -> pb::LogEvent {
    pb::LogEvent {
        kind: pb::LogKind::Access as i32,
        log_group: ACCESS.into(),
        timestamp_ms: ts,
        message: json!({"requestId": rid, "ip": ip, "status": status.to_string(),
            "path": path, "responseLatency": 12})
        .to_string(),
        api_id: "abc123".into(),
        stage: "prod".into(),
        request_id: rid.into(),
        status,
        source_ip: ip.into(),
        api_key_id: if status == 200 {
            "key1".into()
        } else {
            String::new()
        },
        path: path.into(),
    }
}

fn execution(ts: i64, rid: &str, line: &str) -> pb::LogEvent {
    pb::LogEvent {
        kind: pb::LogKind::Execution as i32,
        log_group: EXEC.into(),
        timestamp_ms: ts,
        message: format!("({rid}) {line}"),
        request_id: rid.into(),
        ..pb::LogEvent::default()
    }
}

struct Logs {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Logs {
    async fn signed_in(cp: &ControlPlane) -> Self {
        Self {
            url: cp.url(),
            token: cp.console_token().await,
            http: reqwest::Client::new(),
        }
    }

    /// One Logs call with the console session: (status, body).
    async fn call(&self, op: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Logs_20140328.{op}"))
            .body(body.to_string())
            .send()
            .await
            .expect("Logs call");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON answer"))
    }

    async fn ok(&self, op: &str, body: Value) -> Value {
        let (status, v) = self.call(op, body).await;
        assert_eq!(status, 200, "{op}: {v}");
        v
    }

    async fn err(&self, op: &str, body: Value, code: &str) -> String {
        let (status, v) = self.call(op, body).await;
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some(code)),
            "{op}: {v}"
        );
        v["message"].as_str().unwrap_or_default().to_string()
    }

    /// Every event of a FilterLogEvents query, following nextToken.
    async fn filter_all(&self, mut body: Value) -> Vec<Value> {
        let mut out = Vec::new();
        for _ in 0..1000 {
            let page = self.ok("FilterLogEvents", body.clone()).await;
            out.extend(page["events"].as_array().cloned().unwrap_or_default());
            match page["nextToken"].as_str() {
                Some(t) => body["nextToken"] = json!(t),
                None => return out,
            }
        }
        panic!("FilterLogEvents never ended");
    }

    async fn search(&self, query: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/console/api/logs/search?{query}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("console search");
        assert_eq!(r.status(), 200);
        r.json().await.expect("JSON")
    }
}

fn request_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let m: Value = serde_json::from_str(e["message"].as_str().expect("message"))
                .expect("a JSON access line");
            m["requestId"].as_str().expect("requestId").to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipments_are_stored_once_and_read_back_by_every_logs_operation() {
    let db_url = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db_url).await;
    let mut grpc = LogsIngestClient::connect(cp.grpc_url())
        .await
        .expect("connecting to LogsIngest");
    let base = now_ms() - 60_000;

    // Node a: 25 access lines (every 5th a 503) and 5 execution lines, then 5 more lines;
    // node b: 10 access lines in between in time.
    let a_instance = uuid::Uuid::new_v4().to_string();
    let mut first = Vec::new();
    for i in 0..25 {
        let status = if i % 5 == 4 { 503 } else { 200 };
        first.push(access(
            base + i * 100,
            &format!("a-{i}"),
            status,
            "10.0.0.1",
            "/pets",
        ));
    }
    for (i, line) in [
        "Extended Request Id: x",
        "Verifying Usage Plan for request: a-0",
        "Method request path: {}",
        "Endpoint request URI: http://backend/pets",
        "Method completed with status: 200",
    ]
    .iter()
    .enumerate()
    {
        first.push(execution(base + i as i64, "a-0", line));
    }
    let ship = |instance: &str, node: &str, seq: u64, events: Vec<pb::LogEvent>| pb::LogShipment {
        node_id: node.into(),
        node_instance: instance.into(),
        seq,
        events,
    };
    let ack = grpc
        .ship(ship(&a_instance, "node-a", 1, first.clone()))
        .await
        .expect("first shipment")
        .into_inner();
    assert_eq!(ack.applied_seq, 1);
    // The node did not get the reply and sends the very same shipment again.
    let ack = grpc
        .ship(ship(&a_instance, "node-a", 1, first.clone()))
        .await
        .expect("retried shipment")
        .into_inner();
    assert_eq!(ack.applied_seq, 1);
    let b_events: Vec<pb::LogEvent> = (0..10)
        .map(|i| {
            let status = if i % 2 == 0 { 404 } else { 200 };
            access(
                base + 50 + i * 100,
                &format!("b-{i}"),
                status,
                "192.168.1.9",
                "/pets/7",
            )
        })
        .collect();
    let ack = grpc
        .ship(ship(
            &uuid::Uuid::new_v4().to_string(),
            "node-b",
            1,
            b_events,
        ))
        .await
        .expect("node b's shipment")
        .into_inner();
    assert_eq!(ack.applied_seq, 1);
    let later: Vec<pb::LogEvent> = (25..30)
        .map(|i| {
            access(
                base + 10_000 + i,
                &format!("a-{i}"),
                502,
                "10.0.0.2",
                "/orders",
            )
        })
        .collect();
    let ack = grpc
        .ship(ship(&a_instance, "node-a", 2, later))
        .await
        .expect("second shipment")
        .into_inner();
    assert_eq!(ack.applied_seq, 2);
    // A bad shipment is refused, saying why.
    let refused = grpc
        .ship(ship("not-a-uuid", "node-a", 1, vec![]))
        .await
        .expect_err("a bad node_instance");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("UUID"), "{}", refused.message());

    let logs = Logs::signed_in(&cp).await;

    // Every access line once: 25 + 10 + 5, none twice.
    let all = logs
        .filter_all(json!({"logGroupName": ACCESS, "limit": 7}))
        .await;
    let ids = request_ids(&all);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (40, 40), "{ids:?}");
    // Interleaved in time order across streams.
    let times: Vec<i64> = all
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(all[0]["logStreamName"], "node-a");
    assert_eq!(all[1]["logStreamName"], "node-b");
    assert!(all[0]["eventId"].is_string() && all[0]["ingestionTime"].is_i64());

    // FilterLogEvents: a JSON pattern on the quoted status, paged.
    let e5 = logs
        .filter_all(
            json!({"logGroupName": ACCESS, "filterPattern": "{ $.status = 5* }", "limit": 2}),
        )
        .await;
    let mut got = request_ids(&e5);
    got.sort();
    let mut want: Vec<String> = (0..25)
        .filter(|i| i % 5 == 4)
        .chain(25..30)
        .map(|i| format!("a-{i}"))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let slow_ip = logs
        .filter_all(json!({"logGroupIdentifier": format!("arn:aws:logs:us-east-1:000000000000:log-group:{ACCESS}:*"),
            "filterPattern": "{ $.status >= 400 && $.ip = \"192.168.*\" }"}))
        .await;
    assert_eq!(slow_ip.len(), 5);
    let only_b = logs
        .filter_all(json!({"logGroupName": ACCESS, "logStreamNames": ["node-b"]}))
        .await;
    assert_eq!(only_b.len(), 10);
    assert!(only_b.iter().all(|e| e["logStreamName"] == "node-b"));
    // Terms, a quoted phrase, an exclusion on the execution log.
    let exec = logs
        .filter_all(json!({"logGroupName": EXEC, "filterPattern": "\"Method completed\""}))
        .await;
    assert_eq!(exec.len(), 1);
    assert_eq!(
        exec[0]["message"],
        "(a-0) Method completed with status: 200"
    );
    let exec = logs
        .filter_all(json!({"logGroupName": EXEC, "filterPattern": "?Endpoint ?Verifying -URI"}))
        .await;
    assert_eq!(exec.len(), 1, "{exec:?}");
    // Time range: endTime inclusive.
    let window = logs
        .filter_all(json!({"logGroupName": ACCESS, "startTime": base + 100, "endTime": base + 300}))
        .await;
    assert_eq!(
        request_ids(&window),
        vec!["a-1", "b-1", "a-2", "b-2", "a-3"]
    );
    logs.err(
        "FilterLogEvents",
        json!({"logGroupName": ACCESS, "filterPattern": "{ $.status = }"}),
        "InvalidParameterException",
    )
    .await;
    let msg = logs
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "no-such-group"}),
            "ResourceNotFoundException",
        )
        .await;
    assert_eq!(msg, "The specified log group does not exist.");
    logs.err(
        "FilterLogEvents",
        json!({"logGroupName": ACCESS, "logGroupIdentifier": ACCESS}),
        "InvalidParameterException",
    )
    .await;
    logs.err(
        "FilterLogEvents",
        json!({"logGroupName": ACCESS, "nextToken": "garbage"}),
        "InvalidParameterException",
    )
    .await;

    // DescribeLogGroups: name order, a page at a time, and by prefix.
    let p1 = logs.ok("DescribeLogGroups", json!({"limit": 1})).await;
    assert_eq!(p1["logGroups"][0]["logGroupName"], EXEC);
    assert_eq!(p1["logGroups"][0]["retentionInDays"], 30);
    let p2 = logs
        .ok(
            "DescribeLogGroups",
            json!({"limit": 1, "nextToken": p1["nextToken"]}),
        )
        .await;
    assert_eq!(p2["logGroups"][0]["logGroupName"], ACCESS);
    assert_eq!(
        p2["logGroups"][0]["logGroupArn"],
        format!("arn:aws:logs:us-east-1:000000000000:log-group:{ACCESS}")
    );
    assert!(p2.get("nextToken").is_none(), "{p2}");
    let prefixed = logs
        .ok(
            "DescribeLogGroups",
            json!({"logGroupNamePrefix": "API-Gateway-Execution-Logs_"}),
        )
        .await;
    assert_eq!(prefixed["logGroups"].as_array().map(Vec::len), Some(1));
    logs.err(
        "DescribeLogGroups",
        json!({"limit": 51}),
        "InvalidParameterException",
    )
    .await;

    // DescribeLogStreams: one per node, by name or by last event time.
    let s1 = logs
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": ACCESS, "limit": 1}),
        )
        .await;
    assert_eq!(s1["logStreams"][0]["logStreamName"], "node-a");
    let s2 = logs
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": ACCESS, "limit": 1, "nextToken": s1["nextToken"]}),
        )
        .await;
    assert_eq!(s2["logStreams"][0]["logStreamName"], "node-b");
    assert!(s2.get("nextToken").is_none());
    let a = &s1["logStreams"][0];
    assert_eq!(a["firstEventTimestamp"], base);
    assert_eq!(a["lastEventTimestamp"], base + 10_029);
    let by_time = logs
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": ACCESS, "orderBy": "LastEventTime", "descending": true, "limit": 1}),
        )
        .await;
    assert_eq!(by_time["logStreams"][0]["logStreamName"], "node-a");
    let by_time2 = logs
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": ACCESS, "orderBy": "LastEventTime", "descending": true,
                "limit": 1, "nextToken": by_time["nextToken"]}),
        )
        .await;
    assert_eq!(by_time2["logStreams"][0]["logStreamName"], "node-b");
    logs.err(
        "DescribeLogStreams",
        json!({"logGroupName": ACCESS, "orderBy": "LastEventTime", "logStreamNamePrefix": "node"}),
        "InvalidParameterException",
    )
    .await;
    logs.err(
        "DescribeLogStreams",
        json!({"logGroupName": "nope"}),
        "ResourceNotFoundException",
    )
    .await;

    // GetLogEvents: forward from the head with nextForwardToken until it comes back
    // unchanged, then backward from the tail with nextBackwardToken.
    let mut forward = Vec::new();
    let mut body = json!({"logGroupName": ACCESS, "logStreamName": "node-a", "startFromHead": true, "limit": 7});
    let mut pages = 0;
    loop {
        let page = logs.ok("GetLogEvents", body.clone()).await;
        pages += 1;
        forward.extend(page["events"].as_array().cloned().unwrap_or_default());
        let next = page["nextForwardToken"].clone();
        assert!(next.as_str().is_some_and(|t| t.starts_with("f/")), "{page}");
        if body.get("nextToken") == Some(&next) {
            break;
        }
        body["nextToken"] = next;
        assert!(pages < 50);
    }
    assert_eq!(
        pages, 6,
        "30 events in pages of 7, then an empty page with the same token"
    );
    let fwd_ids = request_ids(&forward);
    let want_a: Vec<String> = (0..30).map(|i| format!("a-{i}")).collect();
    assert_eq!(fwd_ids, want_a);
    let mut backward: Vec<Value> = Vec::new();
    let mut body = json!({"logGroupName": ACCESS, "logStreamName": "node-a", "limit": 7});
    loop {
        let page = logs.ok("GetLogEvents", body.clone()).await;
        let mut events = page["events"].as_array().cloned().unwrap_or_default();
        events.extend(backward);
        backward = events;
        let prev = page["nextBackwardToken"].clone();
        if body.get("nextToken") == Some(&prev) {
            break;
        }
        body["nextToken"] = prev;
    }
    assert_eq!(request_ids(&backward), want_a);
    // Without startFromHead, the newest events of the range come first.
    let tail = logs
        .ok(
            "GetLogEvents",
            json!({"logGroupName": ACCESS, "logStreamName": "node-a", "limit": 2}),
        )
        .await;
    assert_eq!(
        request_ids(tail["events"].as_array().unwrap()),
        vec!["a-28", "a-29"]
    );
    let range = logs
        .ok(
            "GetLogEvents",
            json!({"logGroupName": ACCESS, "logStreamName": "node-a", "startFromHead": true,
                "startTime": base + 200, "endTime": base + 500}),
        )
        .await;
    assert_eq!(
        request_ids(range["events"].as_array().unwrap()),
        vec!["a-2", "a-3", "a-4"]
    );
    logs.err(
        "GetLogEvents",
        json!({"logGroupName": ACCESS, "logStreamName": "node-z"}),
        "ResourceNotFoundException",
    )
    .await;
    logs.err(
        "GetLogEvents",
        json!({"logGroupName": ACCESS}),
        "InvalidParameterException",
    )
    .await;
    logs.err("PutLogEvents", json!({}), "UnknownOperationException")
        .await;

    // Unsigned, without a session: refused in the JSON protocol's shape.
    let r = reqwest::Client::new()
        .post(format!("{}/", cp.url()))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "Logs_20140328.DescribeLogGroups")
        .body("{}")
        .send()
        .await
        .expect("unsigned call");
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.expect("JSON");
    assert!(v["__type"].is_string(), "{v}");

    // The console's search, by its fields, newest first, paged.
    let range = format!("start={}&end={}", base - 1000, now_ms() + 1000);
    let s = logs.search(&format!("{range}&status=503")).await;
    assert_eq!(s["items"].as_array().map(Vec::len), Some(5));
    let s = logs.search(&format!("{range}&requestId=b-3")).await;
    assert_eq!(s["items"][0]["logStreamName"], "node-b");
    assert_eq!(s["items"][0]["sourceIp"], "192.168.1.9");
    let s = logs.search(&format!("{range}&path=/orders")).await;
    assert_eq!(s["items"].as_array().map(Vec::len), Some(5));
    let s = logs
        .search(&format!(
            "{range}&path=/pets*&sourceIp=10.0.0.1&apiKeyId=key1"
        ))
        .await;
    assert_eq!(s["items"].as_array().map(Vec::len), Some(20));
    let s1 = logs
        .search(&format!("{range}&group={ACCESS}&limit=30"))
        .await;
    let s2 = logs
        .search(&format!(
            "{range}&group={ACCESS}&limit=30&nextToken={}",
            s1["nextToken"].as_str().expect("a next page")
        ))
        .await;
    assert_eq!(s1["items"][0]["requestId"], "a-29");
    assert_eq!(s2["items"].as_array().map(Vec::len), Some(10));
    assert!(s2.get("nextToken").is_none());

    // Retention drops whole day partitions: 31 days on, today's lines are gone.
    let db = sqlx::PgPool::connect(&db_url)
        .await
        .expect("the test database");
    let partitions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'log_events'",
    )
    .fetch_one(&db)
    .await
    .expect("partitions");
    assert!(partitions >= 4, "yesterday to two days ahead: {partitions}");
    apigw_control_plane::logs::retention::maintain(&db, now_ms() + 31 * 86_400_000, 30)
        .await
        .expect("maintenance");
    let left = logs.filter_all(json!({"logGroupName": ACCESS})).await;
    assert!(left.is_empty(), "{left:?}");
}

/// The burst boto3 reads: 3 shipments from two nodes, 150 access lines (every 7th a 500,
/// every 11th a 404).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_finds_every_line_of_a_burst() {
    let db_url = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db_url).await;
    let mut grpc = LogsIngestClient::connect(cp.grpc_url())
        .await
        .expect("connecting to LogsIngest");
    let start = now_ms() - 30_000;
    let mut per_node: [Vec<pb::LogEvent>; 2] = [Vec::new(), Vec::new()];
    let mut errors = Vec::new();
    let mut all = Vec::new();
    for i in 0..150i64 {
        let status = if i % 7 == 0 {
            500
        } else if i % 11 == 0 {
            404
        } else {
            200
        };
        let rid = format!("burst-{i:03}");
        if status >= 500 {
            errors.push(rid.clone());
        }
        all.push(rid.clone());
        per_node[(i % 2) as usize].push(access(start + i * 3, &rid, status, "10.1.2.3", "/pets"));
    }
    for (n, events) in per_node.iter().enumerate() {
        let instance = uuid::Uuid::new_v4().to_string();
        let (head, tail) = events.split_at(events.len() / 2);
        for (seq, part) in [head, tail].iter().enumerate() {
            grpc.ship(pb::LogShipment {
                node_id: format!("node-{n}"),
                node_instance: instance.clone(),
                seq: seq as u64 + 1,
                events: part.to_vec(),
            })
            .await
            .expect("shipment");
        }
    }
    let expect = json!({"group": ACCESS, "start": start, "all": all, "errors": errors,
        "streams": ["node-0", "node-1"]});
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/logs.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .env("LOGS_ENDPOINT", cp.url())
        .env("LOGS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("LOGS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("LOGS_EXPECT", expect.to_string())
        .status()
        .await
        .expect("running python3");
    assert!(status.success(), "logs.py failed: {status}");
}

/// Two real nodes shipping to the control plane's store: a stage with access logging on
/// (AWS's JSON preset) and one without; a known burst spread over both nodes is found
/// whole by FilterLogEvents (none lost, none twice, each in its node's stream) within
/// 10 s of its last response, and the stage without access logging wrote nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_ship_every_line_of_a_burst_to_the_store() {
    use apigw_e2e::invoke::send;
    use apigw_e2e::{eventually, DataPlane, RestApi};
    use std::time::Duration;

    const GROUP: &str = "burst-access";
    const JSON_PRESET: &str = "{ \"requestId\":\"$context.requestId\", \"extendedRequestId\":\"$context.extendedRequestId\",\"ip\": \"$context.identity.sourceIp\", \"caller\":\"$context.identity.caller\", \"user\":\"$context.identity.user\", \"requestTime\":\"$context.requestTime\", \"httpMethod\":\"$context.httpMethod\", \"resourcePath\":\"$context.resourcePath\", \"status\":\"$context.status\", \"protocol\":\"$context.protocol\", \"responseLength\":\"$context.responseLength\" }";

    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let nodes = [
        DataPlane::start(&cp.grpc_url(), "node-1").await,
        DataPlane::start(&cp.grpc_url(), "node-2").await,
    ];
    let m = cp.mgmt();
    let api = RestApi::create(&m, "burst").await;
    let pets = api.resource(&api.root, "pets").await;
    apigw_e2e::rest_api::mock_method(&m, &api.id, &pets, "GET", "{\"ok\": true}").await;
    api.deploy("logged", json!({})).await;
    api.deploy("quiet", json!({})).await;
    m.patch(
        &format!("/restapis/{}/stages/logged", api.id),
        json!([
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": format!("arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}")},
            {"op": "replace", "path": "/accessLogSettings/format", "value": JSON_PRESET}
        ]),
    )
    .await
    .ok();
    let logs = Logs::signed_in(&cp).await;
    let no_headers: [(&str, &str); 0] = [];

    // Each node logs the stage once a probe of its own is in the store.
    for node in &nodes {
        let url = node.invoke_url(&api.id, "logged", "/pets");
        eventually(
            &format!("{} logs the stage", node.node_id),
            Duration::from_secs(30),
            || {
                let (url, logs) = (url.clone(), &logs);
                async move {
                    let got = send("GET", &url, &no_headers, "").await;
                    let id = got.header("x-amzn-requestid").to_string();
                    for _ in 0..40 {
                        let (status, page) = logs
                            .call(
                                "FilterLogEvents",
                                json!({"logGroupName": GROUP,
                                "filterPattern": format!("\"{id}\"")}),
                            )
                            .await;
                        if status == 200 && page["events"].as_array().is_some_and(|e| !e.is_empty())
                        {
                            return Some(());
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    None
                }
            },
        )
        .await;
    }

    // The stage without access logging, then the burst: 40 requests, alternating nodes.
    let mut quiet = Vec::new();
    for node in &nodes {
        for _ in 0..5 {
            let got = send(
                "GET",
                &node.invoke_url(&api.id, "quiet", "/pets"),
                &no_headers,
                "",
            )
            .await;
            assert_eq!(got.status, 200);
            quiet.push(got.header("x-amzn-requestid").to_string());
        }
    }
    let start = now_ms();
    let mut burst = Vec::new();
    for i in 0..40 {
        let node = &nodes[i % 2];
        let got = send(
            "GET",
            &node.invoke_url(&api.id, "logged", "/pets"),
            &no_headers,
            "",
        )
        .await;
        assert_eq!(got.status, 200, "{}", got.body);
        burst.push((
            got.header("x-amzn-requestid").to_string(),
            node.node_id.clone(),
        ));
    }
    let found = eventually(
        "every line of the burst in the store",
        Duration::from_secs(10),
        || {
            let logs = &logs;
            let want = burst.len();
            async move {
                let events = logs
                    .filter_all(json!({"logGroupName": GROUP, "startTime": start,
                    "filterPattern": "{ $.status = 200 }", "limit": 15}))
                    .await;
                (events.len() >= want).then_some(events)
            }
        },
    )
    .await;
    let mut got: Vec<(String, String)> = found
        .iter()
        .map(|e| {
            let line: Value = serde_json::from_str(e["message"].as_str().unwrap()).unwrap();
            (
                line["requestId"].as_str().unwrap().to_string(),
                e["logStreamName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = burst.clone();
    want.sort();
    assert_eq!(got, want, "every line once, in its node's stream");
    let streams = logs
        .ok("DescribeLogStreams", json!({"logGroupName": GROUP}))
        .await;
    let names: Vec<&str> = streams["logStreams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["logStreamName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["node-1", "node-2"]);
    // The quiet stage's requests went before the burst, so their lines (if any) would have
    // been shipped before the burst's: there is no other group, and the group's lines are
    // the probes' and the burst's.
    let groups = logs.ok("DescribeLogGroups", json!({})).await;
    let group_names: Vec<&str> = groups["logGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["logGroupName"].as_str().unwrap())
        .collect();
    assert_eq!(group_names, vec![GROUP]);
    let everything = logs.filter_all(json!({"logGroupName": GROUP})).await;
    assert!(everything.len() >= burst.len() + 2);
    for e in &everything {
        let message = e["message"].as_str().unwrap_or("");
        assert!(
            !quiet.iter().any(|id| message.contains(id.as_str())),
            "{message}"
        );
    }
}
