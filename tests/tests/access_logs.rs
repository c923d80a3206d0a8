//! Access and execution logs on a node (issue 16), end to end: a control plane, a node
//! writing its log lines to a file (`ACCESS_LOG_FILE`) and shipping them to a
//! `LogsIngest` receiver this test starts (`LOGS_URL`), an echo backend and real API keys.
//!
//! - AWS's CLF, JSON, XML and CSV presets and a custom format write exactly the expected
//!   line for a known request (status, latencies within the bounds the client measured,
//!   the API key id, the source IP), in the log group `destinationArn` names, and the
//!   shipped events carry what the store searches by;
//! - a stage without `accessLogSettings` writes nothing;
//! - UpdateStage refuses an unknown `$context` variable, naming it, and a destination
//!   that is not a log group;
//! - execution logs at INFO with data trace, for a keyed, templated HTTP integration, have
//!   API Gateway's lines in order, each prefixed `({requestId})`, with the API key,
//!   `Authorization` and cookies masked; at ERROR only failures are written.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apigw_e2e::invoke::send;
use apigw_e2e::rest_api::text;
use apigw_e2e::{
    eventually, free_port, fresh_database, Backend, ControlPlane, DataPlane, Mgmt, RestApi,
};
use apigw_proto::logs::logs_ingest_server::{LogsIngest, LogsIngestServer};
use apigw_proto::logs::{LogEvent, LogShipment, LogShipmentAck};
use serde_json::{json, Value};

/// Every shipment received.
#[derive(Default)]
struct Received(Mutex<Vec<LogShipment>>);

struct Ingest(Arc<Received>);

#[tonic::async_trait]
impl LogsIngest for Ingest {
    async fn ship(
        &self,
        request: tonic::Request<LogShipment>,
    ) -> Result<tonic::Response<LogShipmentAck>, tonic::Status> {
        let shipment = request.into_inner();
        let seq = shipment.seq;
        self.0 .0.lock().unwrap().push(shipment);
        Ok(tonic::Response::new(LogShipmentAck { applied_seq: seq }))
    }
}

impl Received {
    fn events(&self) -> Vec<LogEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .flat_map(|s| s.events.clone())
            .collect()
    }
}

async fn ingest_server() -> (Arc<Received>, String) {
    let received = Arc::new(Received::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = LogsIngestServer::new(Ingest(Arc::clone(&received)));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (received, url)
}

/// The node's log file, read as JSON lines.
struct LogFile(std::path::PathBuf);

impl LogFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "apigw-e2e-{name}-{}.jsonl",
            uuid::Uuid::new_v4().simple()
        ));
        LogFile(path)
    }

    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect()
    }

    /// The lines of request `id`, once at least `n` are there.
    async fn of_request(&self, id: &str, n: usize) -> Vec<Value> {
        eventually(
            &format!("{n} log line(s) of request {id}"),
            Duration::from_secs(20),
            || async {
                let got: Vec<Value> = self
                    .lines()
                    .into_iter()
                    .filter(|l| l["requestId"] == id)
                    .collect();
                (got.len() >= n).then_some(got)
            },
        )
        .await
    }
}

impl Drop for LogFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn create_key(m: &Mgmt, name: &str) -> (String, String) {
    let k = m
        .post("/apikeys", json!({"name": name, "enabled": true}))
        .await
        .ok();
    (text(&k["id"]), text(&k["value"]))
}

/// A plan covering `stages` of `api`, with the key in it.
async fn plan_with_key(m: &Mgmt, api: &str, stages: &[&str], key: &str) {
    let stages: Vec<Value> = stages
        .iter()
        .map(|s| json!({"apiId": api, "stage": s}))
        .collect();
    let plan = m
        .post("/usageplans", json!({"name": "logs", "apiStages": stages}))
        .await
        .ok();
    m.post(
        &format!("/usageplans/{}/keys", text(&plan["id"])),
        json!({"keyId": key, "keyType": "API_KEY"}),
    )
    .await
    .ok();
}

fn arn(group: &str) -> String {
    format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}")
}

async fn set_access_log(m: &Mgmt, api: &str, stage: &str, group: &str, format: &str) {
    m.patch(
        &format!("/restapis/{api}/stages/{stage}"),
        json!([
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn(group)},
            {"op": "replace", "path": "/accessLogSettings/format", "value": format}
        ]),
    )
    .await
    .ok();
}

/// `dd/MMM/yyyy:HH:mm:ss +0000` of Unix second `secs`.
fn clf_time(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap();
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn unix_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

const CLF: &str = "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime]\"$context.httpMethod $context.resourcePath $context.protocol\" $context.status $context.responseLength $context.requestId $context.extendedRequestId";
const JSON_PRESET: &str = "{ \"requestId\":\"$context.requestId\", \"extendedRequestId\":\"$context.extendedRequestId\",\"ip\": \"$context.identity.sourceIp\", \"caller\":\"$context.identity.caller\", \"user\":\"$context.identity.user\", \"requestTime\":\"$context.requestTime\", \"httpMethod\":\"$context.httpMethod\", \"resourcePath\":\"$context.resourcePath\", \"status\":\"$context.status\", \"protocol\":\"$context.protocol\", \"responseLength\":\"$context.responseLength\" }";
const XML_PRESET: &str = "<request id=\"$context.requestId\"> <extendedRequestId>$context.extendedRequestId</extendedRequestId> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>";
const CSV_PRESET: &str = "$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,$context.requestId,$context.extendedRequestId";
const CUSTOM: &str = "id=$context.requestId ip=$context.identity.sourceIp key=$context.identity.apiKeyId status=$context.status latency=$context.responseLatency integration=$context.integrationLatency istatus=$context.integrationStatus agent=\"$context.identity.userAgent\" path=$context.path stage=$context.stage api=$context.apiId canary=$context.isCanaryRequest error=$context.error.message waf=$context.waf.error";

/// The expected line of each preset for a request, given its id and request time.
fn expected(preset: &str, id: &str, ext: &str, when: &str) -> String {
    match preset {
        "clf" => format!("127.0.0.1 - - [{when}]\"GET /pets HTTP/1.1\" 201 14 {id} {ext}"),
        "json" => format!(
            "{{ \"requestId\":\"{id}\", \"extendedRequestId\":\"{ext}\",\"ip\": \"127.0.0.1\", \"caller\":\"-\", \"user\":\"-\", \"requestTime\":\"{when}\", \"httpMethod\":\"GET\", \"resourcePath\":\"/pets\", \"status\":\"201\", \"protocol\":\"HTTP/1.1\", \"responseLength\":\"14\" }}"
        ),
        "xml" => format!(
            "<request id=\"{id}\"> <extendedRequestId>{ext}</extendedRequestId> <ip>127.0.0.1</ip> <caller>-</caller> <user>-</user> <requestTime>{when}</requestTime> <httpMethod>GET</httpMethod> <resourcePath>/pets</resourcePath> <status>201</status> <protocol>HTTP/1.1</protocol> <responseLength>14</responseLength> </request>"
        ),
        "csv" => format!("127.0.0.1,-,-,{when},GET,/pets,HTTP/1.1,201,14,{id},{ext}"),
        other => unreachable!("{other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presets_and_a_custom_format_write_exactly_the_expected_line() {
    let cp = ControlPlane::start(&fresh_database().await.unwrap()).await;
    let (received, ingest) = ingest_server().await;
    let file = LogFile::new("access");
    let node = DataPlane::start_env(
        &cp.grpc_url(),
        "logs-node-1",
        &[
            ("ACCESS_LOG_FILE", file.0.display().to_string()),
            ("LOGS_URL", ingest),
        ],
    )
    .await;
    // A node that only writes its lines to a file formats them into its workers' own
    // buffers (logs::direct) rather than queueing records: the same lines must come out.
    let direct_file = LogFile::new("access-direct");
    let direct = DataPlane::start_env(
        &cp.grpc_url(),
        "logs-node-3",
        &[
            ("ACCESS_LOG_FILE", direct_file.0.display().to_string()),
            ("LOGS_SHIP", "false".into()),
        ],
    )
    .await;
    let backend = Backend::start("b").await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "logged").await;
    let pets = api.resource(&api.root, "pets").await;
    m.put(
        &api.method_path(&pets, "GET"),
        json!({"authorizationType": "NONE", "apiKeyRequired": true}),
    )
    .await
    .ok();
    m.put(
        &format!("{}/integration", api.method_path(&pets, "GET")),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/status/201", backend.url())}),
    )
    .await
    .ok();
    let stages = ["clf", "json", "xml", "csv", "custom", "plain"];
    for stage in stages {
        api.deploy(stage, json!({})).await;
    }
    for (stage, format) in [
        ("clf", CLF),
        ("json", JSON_PRESET),
        ("xml", XML_PRESET),
        ("csv", CSV_PRESET),
        ("custom", CUSTOM),
    ] {
        set_access_log(&m, &api.id, stage, &format!("{stage}-access"), format).await;
    }
    let (key_id, key) = create_key(&m, "logs-key").await;
    plan_with_key(&m, &api.id, &stages, &key_id).await;

    let headers = [("x-api-key", key.as_str()), ("user-agent", "e2e-agent/1.0")];
    let call_on = |node: &DataPlane, stage: &'static str| {
        let url = node.invoke_url(&api.id, stage, "/pets");
        async move {
            // Until the key and the access log settings have reached the node.
            eventually(
                &format!("{stage} answers 201"),
                Duration::from_secs(20),
                || {
                    let url = url.clone();
                    async move {
                        let before = SystemTime::now();
                        let started = Instant::now();
                        let got = send("GET", &url, &headers, "").await;
                        let elapsed = started.elapsed();
                        (got.status == 201).then(|| {
                            (
                                got.header("x-amzn-requestid").to_string(),
                                before,
                                SystemTime::now(),
                                elapsed,
                                got.header("x-amz-apigw-id").to_string(),
                            )
                        })
                    }
                },
            )
            .await
        }
    };
    let call = |stage: &'static str| call_on(&node, stage);
    // The plain stage first: by the time a later request's line is in the file, its
    // (none) would be too, since one writer takes them in order.
    let (plain_id, ..) = call("plain").await;
    let (direct_plain_id, ..) = call_on(&direct, "plain").await;

    for (preset, node_id, file) in ["clf", "json", "xml", "csv"]
        .into_iter()
        .flat_map(|p| [(p, "logs-node-1", &file), (p, "logs-node-3", &direct_file)])
    {
        let on = if node_id == "logs-node-1" {
            &node
        } else {
            &direct
        };
        let (id, before, after, _, ext) = call_on(on, preset).await;
        assert_eq!(
            ext.len(),
            16,
            "an extended request id like API Gateway's: {ext}"
        );
        assert_ne!(ext, id);
        let lines = file.of_request(&id, 1).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["logGroup"], format!("{preset}-access"), "{line}");
        assert_eq!(line["kind"], "access");
        assert_eq!(line["logStream"], node_id);
        assert_eq!(line["apiId"], api.id.as_str());
        assert_eq!(line["stage"], preset);
        assert_eq!(line["status"], 201);
        let message = text(&line["message"]);
        let candidates: Vec<String> = (unix_secs(before)..=unix_secs(after))
            .map(|s| expected(preset, &id, &ext, &clf_time(s)))
            .collect();
        assert!(
            candidates.contains(&message),
            "{preset}: {message}\nexpected one of {candidates:#?}"
        );
        if preset == "json" {
            let parsed: Value = serde_json::from_str(&message).expect("the JSON preset is JSON");
            assert_eq!(parsed["status"], "201");
        }
    }

    let (id, _, _, elapsed, _) = call("custom").await;
    let lines = file.of_request(&id, 1).await;
    let message = text(&lines[0]["message"]);
    let field = |name: &str| -> String {
        let start = message
            .find(&format!("{name}="))
            .unwrap_or_else(|| panic!("{name} in {message}"))
            + name.len()
            + 1;
        let rest = &message[start..];
        let end = match rest.strip_prefix('"') {
            Some(quoted) => quoted.find('"').map(|i| i + 2),
            None => rest.find(' '),
        }
        .unwrap_or(rest.len());
        rest[..end].to_string()
    };
    assert_eq!(field("id"), id);
    assert_eq!(field("ip"), "127.0.0.1");
    assert_eq!(field("key"), key_id);
    assert_eq!(field("status"), "201");
    assert_eq!(field("istatus"), "201");
    assert_eq!(field("agent"), "\"e2e-agent/1.0\"");
    assert_eq!(field("path"), "/custom/pets");
    assert_eq!(field("stage"), "custom");
    assert_eq!(field("api"), api.id);
    assert_eq!(field("canary"), "-", "no canary on the stage");
    assert_eq!(field("error"), "-");
    assert_eq!(field("waf"), "-");
    let latency: u128 = field("latency").parse().expect("latency in ms");
    let integration: u128 = field("integration").parse().expect("integration latency");
    assert!(
        integration <= latency && latency <= elapsed.as_millis(),
        "integration {integration} ms ≤ latency {latency} ms ≤ the client's {elapsed:?}"
    );
    assert!(
        message.ends_with("error=- waf=-"),
        "empty values are written '-': {message}"
    );

    // A canary taking every request marks them `true`; at 0 % the stage's own requests
    // are `false` (the stage has a canary).
    for (percent, want) in [(100.0, "true"), (0.0, "false")] {
        m.patch(
            &format!("/restapis/{}/stages/custom", api.id),
            json!([{"op": "replace", "path": "/canarySettings/percentTraffic", "value": percent.to_string()}]),
        )
        .await
        .ok();
        eventually(
            &format!("custom lines say canary={want}"),
            Duration::from_secs(20),
            || {
                let url = node.invoke_url(&api.id, "custom", "/pets");
                let file = &file;
                async move {
                    let got = send("GET", &url, &headers, "").await;
                    let id = got.header("x-amzn-requestid").to_string();
                    let line = file.of_request(&id, 1).await.remove(0);
                    text(&line["message"])
                        .contains(&format!(" canary={want} "))
                        .then_some(())
                }
            },
        )
        .await;
    }

    // With execution logging on, the canary's lines go to the stage's execution log group
    // and to the canary's own (`…/Canary`), as in API Gateway.
    m.patch(
        &format!("/restapis/{}/stages/custom", api.id),
        json!([
            {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "100"},
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}
        ]),
    )
    .await
    .ok();
    let stage_group = format!("API-Gateway-Execution-Logs_{}/custom", api.id);
    let canary_group = format!("{stage_group}/Canary");
    let in_group = |lines: &[Value], id: &str, group: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["requestId"] == id && l["logGroup"] == group)
            .map(|l| text(&l["message"]))
            .collect()
    };
    let canary_id = eventually(
        "a canary request's execution lines in the canary's group",
        Duration::from_secs(20),
        || {
            let url = node.invoke_url(&api.id, "custom", "/pets");
            let (file, canary_group) = (&file, &canary_group);
            async move {
                let got = send("GET", &url, &headers, "").await;
                let id = got.header("x-amzn-requestid").to_string();
                file.of_request(&id, 1).await;
                (!in_group(&file.lines(), &id, canary_group).is_empty()).then_some(id)
            }
        },
    )
    .await;
    eventually(
        "the canary request's lines whole in both groups",
        Duration::from_secs(20),
        || async {
            let lines = file.lines();
            let (stage, canary) = (
                in_group(&lines, &canary_id, &stage_group),
                in_group(&lines, &canary_id, &canary_group),
            );
            let done = |l: &[String]| {
                l.iter()
                    .any(|m| m.ends_with("Method completed with status: 201"))
            };
            (done(&stage) && stage == canary).then_some(())
        },
    )
    .await;

    // Nothing for the stage without access logging.
    assert!(
        file.lines().iter().all(|l| l["requestId"] != plain_id),
        "the plain stage logged"
    );
    let direct_lines = direct_file.lines();
    assert!(
        direct_lines
            .iter()
            .all(|l| l["requestId"] != direct_plain_id),
        "the plain stage logged on the direct node"
    );
    // Each of the direct node's requests is there once.
    let mut ids: Vec<&str> = direct_lines
        .iter()
        .filter_map(|l| l["requestId"].as_str())
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "a line written twice: {direct_lines:?}");

    // Shipped with what the store searches by.
    let shipped = eventually(
        "the custom line shipped",
        Duration::from_secs(20),
        || async { received.events().into_iter().find(|e| e.request_id == id) },
    )
    .await;
    assert_eq!(shipped.log_group, "custom-access");
    assert_eq!(shipped.message, message);
    assert_eq!(
        (
            shipped.api_id.as_str(),
            shipped.stage.as_str(),
            shipped.status,
            shipped.source_ip.as_str(),
            shipped.api_key_id.as_str(),
            shipped.path.as_str()
        ),
        (
            api.id.as_str(),
            "custom",
            201,
            "127.0.0.1",
            key_id.as_str(),
            "/custom/pets"
        )
    );
    assert!(received
        .0
        .lock()
        .unwrap()
        .iter()
        .all(|s| s.node_id == "logs-node-1"));
    drop(node);
    drop(direct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_stage_refuses_unknown_variables_and_other_destinations() {
    let cp = ControlPlane::start(&fresh_database().await.unwrap()).await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "refused").await;
    let pets = api.resource(&api.root, "pets").await;
    api.method(
        &pets,
        "GET",
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    api.deploy("prod", json!({})).await;
    let stage = format!("/restapis/{}/stages/prod", api.id);
    let message = m
        .patch(
            &stage,
            json!([
                {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn("g")},
                {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId $context.identity.sourceIP"}
            ]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(
        message.contains("$context.identity.sourceIP"),
        "names the variable: {message}"
    );
    let message = m
        .patch(
            &stage,
            json!([{"op": "replace", "path": "/accessLogSettings/destinationArn",
                    "value": "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(message.contains("log-group"), "{message}");
    // Nothing was stored by the refused calls.
    assert!(m.get(&stage).await.ok().get("accessLogSettings").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_logs_write_api_gateways_lines_in_order_with_secrets_masked() {
    let cp = ControlPlane::start(&fresh_database().await.unwrap()).await;
    let file = LogFile::new("execution");
    let node = DataPlane::start_env(
        &cp.grpc_url(),
        "logs-node-2",
        &[
            ("ACCESS_LOG_FILE", file.0.display().to_string()),
            ("LOGS_SHIP", "false".into()),
        ],
    )
    .await;
    let backend = Backend::start("b").await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "executed").await;
    let items = api.resource(&api.root, "items").await;
    let path = api.method_path(&items, "POST");
    m.put(
        &path,
        json!({"authorizationType": "NONE", "apiKeyRequired": true}),
    )
    .await
    .ok();
    m.put(&format!("{path}/responses/200"), json!({}))
        .await
        .ok();
    m.put(
        &format!("{path}/integration"),
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": format!("{}/items", backend.url()),
            "requestTemplates": {"application/json":
                "{\"wrapped\": $input.json('$'), \"x\": \"$input.params('x')\"}"}
        }),
    )
    .await
    .ok();
    m.put(
        &format!("{path}/integration/responses/200"),
        json!({"responseTemplates": {"application/json": "{\"sent\": $input.json('$.body')}"}}),
    )
    .await
    .ok();
    // A method whose backend is gone: 500-class failures for the ERROR stage.
    let broken = api.resource(&api.root, "broken").await;
    api.method(
        &broken,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET",
               "uri": format!("http://127.0.0.1:{}/", free_port())}),
    )
    .await;
    let ok = api.resource(&api.root, "ok").await;
    api.method(
        &ok,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/status/200", backend.url())}),
    )
    .await;
    api.deploy("info", json!({})).await;
    api.deploy("errors", json!({})).await;
    m.patch(
        &format!("/restapis/{}/stages/info", api.id),
        json!([
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"}
        ]),
    )
    .await
    .ok();
    m.patch(
        &format!("/restapis/{}/stages/errors", api.id),
        json!([{"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"}]),
    )
    .await
    .ok();
    let (key_id, key) = create_key(&m, "exec-key").await;
    plan_with_key(&m, &api.id, &["info", "errors"], &key_id).await;

    let url = format!("{}?x=1", node.invoke_url(&api.id, "info", "/items"));
    let headers = [
        ("x-api-key", key.as_str()),
        ("content-type", "application/json"),
        ("authorization", "Bearer very-secret-token"),
        ("cookie", "session=cookie-secret-value"),
    ];
    let got = eventually(
        "the INFO stage answers 200",
        Duration::from_secs(20),
        || async {
            let got = send("POST", &url, &headers, "{\"v\": 3}").await;
            (got.status == 200).then_some(got)
        },
    )
    .await;
    let id = got.header("x-amzn-requestid").to_string();
    let lines = file.of_request(&id, 21).await;
    assert!(lines.iter().all(|l| l["kind"] == "execution"
        && l["logGroup"] == format!("API-Gateway-Execution-Logs_{}/info", api.id)));
    let messages: Vec<String> = lines.iter().map(|l| text(&l["message"])).collect();
    let prefix = format!("({id}) ");
    assert!(
        messages.iter().all(|m| m.starts_with(&prefix)),
        "{messages:#?}"
    );
    let masked = format!("{}{}", "*".repeat(key.len() - 4), &key[key.len() - 4..]);
    let endpoint = format!("{}/items", backend.url());
    let ext = got.header("x-amz-apigw-id").to_string();
    let expected = [
        format!("Extended Request Id: {ext}"),
        format!("Verifying Usage Plan for request: {id}. API Key: {masked} API Stage: {}/info", api.id),
        format!("API Key {masked} authorized because method 'POST /items' requires API Key and request contained API Key"),
        format!("Usage Plan check succeeded for API Key {masked} and API Stage {}/info", api.id),
        format!("Starting execution for request: {id}"),
        "HTTP Method: POST, Resource Path: /items".to_string(),
        "Method request path: {}".to_string(),
        "Method request query string: {x=1}".to_string(),
        "Method request headers: {".to_string(),
        "Method request body before transformations: {\"v\": 3}".to_string(),
        format!("Endpoint request URI: {endpoint}"),
        "Endpoint request headers: {".to_string(),
        "Endpoint request body after transformations: {\"wrapped\": {\"v\":3}, \"x\": \"1\"}".to_string(),
        format!("Sending request to {endpoint}"),
        "Received response. Status: 200, Integration latency: ".to_string(),
        "Endpoint response body before transformations: {\"backend\":\"b\"".to_string(),
        "Endpoint response headers: {".to_string(),
        "Method response body after transformations: {\"sent\": ".to_string(),
        "Method response headers: {".to_string(),
        "Successfully completed execution".to_string(),
        "Method completed with status: 200".to_string(),
    ];
    let mut at = 0;
    for want in &expected {
        let want = format!("{prefix}{want}");
        let found = messages[at..]
            .iter()
            .position(|m| m.starts_with(&want))
            .unwrap_or_else(|| panic!("{want:?} after line {at} in {messages:#?}"));
        at += found + 1;
    }
    // A refused key: the refusal and its reason, the key masked, then the outcome.
    let wrong_key = "wrong-key-value-0123456789abcd";
    let refused = send(
        "POST",
        &url,
        &[
            ("x-api-key", wrong_key),
            ("content-type", "application/json"),
        ],
        "{}",
    )
    .await;
    assert_eq!(refused.status, 403);
    let refused_id = refused.header("x-amzn-requestid").to_string();
    let lines = file.of_request(&refused_id, 3).await;
    let messages: Vec<String> = lines.iter().map(|l| text(&l["message"])).collect();
    let prefix = format!("({refused_id}) ");
    let expected = [
        format!("Extended Request Id: {}", refused.header("x-amz-apigw-id")),
        format!("API Key {}abcd not authorized because method 'POST /items' requires API Key and API Key is invalid or disabled", "*".repeat(wrong_key.len() - 4)),
        "Method completed with status: 403".to_string(),
    ];
    let mut at = 0;
    for want in &expected {
        let want = format!("{prefix}{want}");
        let found = messages[at..]
            .iter()
            .position(|m| m.starts_with(&want))
            .unwrap_or_else(|| panic!("{want:?} after line {at} in {messages:#?}"));
        at += found + 1;
    }

    let all = std::fs::read_to_string(&file.0).unwrap();
    for secret in [
        key.as_str(),
        wrong_key,
        "very-secret-token",
        "cookie-secret-value",
    ] {
        assert!(!all.contains(secret), "{secret} in the execution log");
    }

    // ERROR: a success writes nothing, a failure writes why and its status.
    let ok_url = node.invoke_url(&api.id, "errors", "/ok");
    let ok_id = eventually(
        "the ERROR stage answers 200",
        Duration::from_secs(20),
        || async {
            let got = send("GET", &ok_url, &[("x-api-key", key.as_str())], "").await;
            (got.status == 200).then(|| got.header("x-amzn-requestid").to_string())
        },
    )
    .await;
    let got = send(
        "GET",
        &node.invoke_url(&api.id, "errors", "/broken"),
        &[("x-api-key", key.as_str())],
        "",
    )
    .await;
    assert!(got.status >= 500, "{}", got.status);
    let failed_id = got.header("x-amzn-requestid").to_string();
    let lines = file.of_request(&failed_id, 2).await;
    let messages: Vec<String> = lines.iter().map(|l| text(&l["message"])).collect();
    assert!(
        messages[0].starts_with(&format!("({failed_id}) Execution failed due to")),
        "{messages:#?}"
    );
    assert_eq!(
        messages.last().unwrap(),
        &format!("({failed_id}) Method completed with status: {}", got.status)
    );
    assert!(
        file.lines().iter().all(|l| l["requestId"] != ok_id),
        "a success was logged at ERROR"
    );
    drop(node);
}
