//! Access logs of WebSocket stages (issue 19, the stages' "access log settings"), end to
//! end: a control plane and one node writing its log lines to a file (`ACCESS_LOG_FILE`).
//!
//! A stage with `accessLogSettings` writes one line per event in its format, through the
//! node's log sink as REST lines are: a connect (101), one message (200) and the close
//! give exactly three lines, CONNECT / MESSAGE / DISCONNECT, with the connection id the
//! client saw, in the log group `destinationArn` names. A refused `$connect` (an API key
//! is required, none is sent) writes a CONNECT line with its status (403) and error
//! message. The control plane refuses a format with an unknown variable, naming it.

use std::time::Duration;

use apigw_e2e::websocket::{connect, next_text, send};
use apigw_e2e::{eventually, fresh_database, ControlPlane, Mgmt};
use serde_json::{json, Value};

const GROUP: &str = "ws-access";
const ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:ws-access";
const FORMAT: &str = "$context.requestId $context.eventType $context.routeKey \
$context.connectionId $context.status $context.messageId [$context.error.message]";

/// The node's log file, read as JSON lines.
struct LogFile(std::path::PathBuf);

impl LogFile {
    fn new() -> Self {
        LogFile(std::env::temp_dir().join(format!(
            "apigw-e2e-ws-logs-{}.jsonl",
            uuid::Uuid::new_v4().simple()
        )))
    }

    /// The access lines of `api`.
    fn of_api(&self, api: &str) -> Vec<Value> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .filter(|l| l["apiId"] == api && l["kind"] == "access")
            .collect()
    }

    /// The access lines of `api` once one satisfies `done`.
    async fn until(&self, api: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        eventually(what, Duration::from_secs(20), || async {
            let lines = self.of_api(api);
            done(&lines).then_some(lines)
        })
        .await
    }
}

impl Drop for LogFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// A WebSocket API with a MOCK `$connect` (needing an API key when `keyed`) and a MOCK
/// `$default` whose route response answers `{"id": connectionId}`; its stage `dev` logs
/// access lines in [`FORMAT`].
async fn api(m: &Mgmt, name: &str, keyed: bool) -> String {
    let api = m
        .post(
            "/v2/apis",
            json!({"name": name, "protocolType": "WEBSOCKET",
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
    let mock = id(&mock, "integrationId");
    m.post(
        &format!("{base}/integrations/{mock}/integrationresponses"),
        json!({"integrationResponseKey": "$default",
               "responseTemplates": {"$default": "{\"id\": \"$context.connectionId\"}"}}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/routes"),
        json!({"routeKey": "$connect", "target": format!("integrations/{mock}"),
               "apiKeyRequired": keyed}),
    )
    .await
    .ok();
    let route = m
        .post(
            &format!("{base}/routes"),
            json!({"routeKey": "$default", "target": format!("integrations/{mock}"),
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
               "accessLogSettings": {"destinationArn": ARN, "format": FORMAT}}),
    )
    .await
    .ok();
    api
}

/// The fields of a line's message: requestId, eventType, routeKey, connectionId, status,
/// messageId, [error].
fn fields(line: &Value) -> Vec<String> {
    let message = line["message"].as_str().unwrap_or_default();
    let (head, error) = message.split_once(" [").unwrap_or((message, ""));
    let mut out: Vec<String> = head.split(' ').map(str::to_string).collect();
    out.push(error.trim_end_matches(']').to_string());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_stage_writes_a_line_per_connect_message_and_disconnect() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a database")).await;
    let file = LogFile::new();
    let node = apigw_e2e::DataPlane::start_env(
        &cp.grpc_url(),
        "ws-logs-1",
        &[("ACCESS_LOG_FILE", file.0.display().to_string())],
    )
    .await;
    let m = cp.mgmt();

    // The control plane compiles the format as the node does: an unknown variable is
    // refused, by name.
    let refused = m
        .post(
            "/v2/apis",
            json!({"name": "bad", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let message = m
        .post(
            &format!("/v2/apis/{}/stages", id(&refused, "apiId")),
            json!({"stageName": "dev",
                   "accessLogSettings": {"destinationArn": ARN,
                                         "format": "$context.requestId $context.bogusThing"}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(message.contains("$context.bogusThing"), "{message}");

    let open = api(&m, "logged", false).await;
    let keyed = api(&m, "keyed", true).await;

    // Connect (once the node has the stage), one message, close.
    let mut ws = eventually(
        "the node serves the WebSocket stage",
        Duration::from_secs(30),
        || async { connect(node.port, &open, "/dev").await.ok() },
    )
    .await;
    send(&mut ws, json!({"action": "hello"})).await;
    let answer = next_text(&mut ws, "the route response").await;
    let connection_id = id(&answer, "id");
    assert_eq!(connection_id.len(), 12, "{answer}");
    ws.close(None).await.expect("close");
    let lines = file
        .until(&open, "the DISCONNECT line", |lines| {
            lines.iter().any(|l| fields(l)[1] == "DISCONNECT")
        })
        .await;

    // A refused $connect (no API key) on the other API (until the node has its stage, the
    // refusals are the REST engine's and write nothing), then nothing more for the first.
    let refusals = eventually(
        "a refused CONNECT line",
        Duration::from_secs(30),
        || async {
            assert!(connect(node.port, &keyed, "/dev").await.is_err());
            let lines = file.of_api(&keyed);
            (!lines.is_empty()).then_some(lines)
        },
    )
    .await;
    for line in &refusals {
        let refusal = fields(line);
        assert_eq!(
            refusal[1..],
            [
                "CONNECT",
                "$connect",
                refusal[3].as_str(),
                "403",
                "-",
                "Forbidden"
            ],
            "{refusals:?}"
        );
        assert_eq!(refusal[3].len(), 12, "{refusals:?}");
        assert_eq!(line["status"], 403);
    }

    assert_eq!(file.of_api(&open).len(), 3, "{lines:?}");
    let got: Vec<Vec<String>> = lines.iter().map(fields).collect();
    let expect = |event: &str, route: &str, status: &str| {
        vec![
            event.to_string(),
            route.to_string(),
            connection_id.clone(),
            status.to_string(),
        ]
    };
    assert_eq!(
        got[0][1..5],
        expect("CONNECT", "$connect", "101")[..],
        "{got:?}"
    );
    assert_eq!(
        got[1][1..5],
        expect("MESSAGE", "$default", "200")[..],
        "{got:?}"
    );
    assert_eq!(
        got[2][1..5],
        expect("DISCONNECT", "$disconnect", "200")[..],
        "{got:?}"
    );
    // A message id on the MESSAGE line only; no error anywhere; one request id each, the
    // line's own.
    assert_eq!(got[0][5], "-");
    assert_eq!(got[1][5].len(), 36, "{got:?}");
    assert_eq!(got[2][5], "-");
    for (line, f) in lines.iter().zip(&got) {
        assert_eq!(f[6], "-", "{got:?}");
        assert_eq!(line["requestId"], f[0].as_str());
        assert_eq!(line["logGroup"], GROUP);
        assert_eq!(line["stage"], "dev");
    }
    assert_ne!(got[0][0], got[1][0]);
}
