//! WebSocket APIs (issue 19).
//!
//! Management: boto3's `apigatewayv2` client (`tests/boto3/websocket_mgmt.py`) defines the
//! seeds' chat API route by route, deploys it, exercises auto-deploy and the v2 errors;
//! the first test then reads the result back over plain signed HTTP (the wire shape, the
//! lower-case `message` of v2 errors).
//!
//! The nodes ([`chat`]): the same API deployed to three nodes with the functions host
//! (`functions/examples/websocket-chat`, `websocket-authorizer`): `$connect` through the
//! REQUEST authorizer (401 / 403 refusals), `sendmessage` broadcast through `@connections`
//! to clients on two nodes with the route response to the sender, `$default`, the events'
//! `requestContext`, boto3's `apigatewaymanagementapi` (`tests/boto3/websocket_connections.py`)
//! on the other node (GET identity, POST, 413, DELETE, 410), `$disconnect`, close 1009 for
//! a 200 KB message, the idle timeout's 1001, and a SIGKILLed node's connections → 410.

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{fresh_database, ControlPlane};
use serde_json::{json, Value};

/// Runs `tests/boto3/{script}` against the control plane; answers its last stdout line.
async fn boto3(cp: &ControlPlane, script: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("boto3")
        .join(script);
    let out = tokio::process::Command::new("python3")
        .arg(path)
        .env("V2_ENDPOINT", cp.url())
        .env("V2_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("V2_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .output()
        .await
        .expect("running python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the script's JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_api_is_defined_deployed_and_checked_through_boto3_apigatewayv2() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let made = boto3(&cp, "websocket_mgmt.py").await;
    let api_id = made["apiId"].as_str().expect("apiId");
    let mgmt = cp.mgmt();

    // The wire shape, as the SDKs read it.
    let api = mgmt.get(&format!("/v2/apis/{api_id}")).await.ok();
    assert_eq!(api["protocolType"], "WEBSOCKET");
    assert_eq!(api["routeSelectionExpression"], "$request.body.action");
    let stage = mgmt
        .get(&format!("/v2/apis/{api_id}/stages/dev"))
        .await
        .ok();
    assert_eq!(stage["deploymentId"], made["deploymentId"]);
    assert_eq!(stage["stageVariables"], json!({"room": "lobby"}));
    assert_eq!(
        stage["defaultRouteSettings"]["throttlingBurstLimit"],
        json!(100)
    );

    // v2 errors: status, x-amzn-ErrorType and a lower-case `message`.
    let missing = mgmt.get("/v2/apis/nosuch").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_type.as_deref(), Some("NotFoundException"));
    assert!(missing.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("nosuch")));
    let bad = mgmt
        .post(
            &format!("/v2/apis/{api_id}/routes"),
            json!({"routeKey": "x", "authorizationType": 7}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("authorizationType"), "{bad}");
    // WebSocket-only members on an HTTP API, and HTTP-only ones on a WebSocket API.
    let http = mgmt
        .post(
            "/v2/apis",
            json!({"name": "h", "protocolType": "HTTP", "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(http.contains("routeSelectionExpression"), "{http}");
    let ws = mgmt
        .post(
            "/v2/apis",
            json!({"name": "w", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action", "target": "http://a/"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(ws.contains("HTTP APIs"), "{ws}");

    // Deleting the API removes everything in it.
    mgmt.delete(&format!("/v2/apis/{api_id}")).await.ok();
    mgmt.get(&format!("/v2/apis/{api_id}/routes"))
        .await
        .err(404, "NotFoundException");
}

mod chat {
    use std::time::Duration;

    use apigw_e2e::process::{DataPlane, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
    use apigw_e2e::{eventually, fresh_database, ControlPlane, FunctionsHost};
    use futures::{SinkExt, StreamExt};
    use serde_json::{json, Value};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::{Error as WsError, Message};

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    fn host(api: &str) -> String {
        format!("{api}.execute-api.localhost")
    }

    /// Connects to `node` for `api`/`dev` with `query`; the refusal's status otherwise.
    async fn connect(node: &DataPlane, api: &str, query: &str) -> Result<Ws, u16> {
        let mut req = format!("ws://127.0.0.1:{}/dev{query}", node.port)
            .into_client_request()
            .expect("request");
        req.headers_mut()
            .insert("host", host(api).parse().expect("host"));
        req.headers_mut()
            .insert("user-agent", "chat-test".parse().expect("ua"));
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(ws),
            Err(WsError::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("connecting: {e}"),
        }
    }

    /// The next text message (panics after 20 s or on close).
    async fn next_text(ws: &mut Ws, what: &str) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
                .await
                .unwrap_or_else(|_| panic!("{what}: no message within 20 s"))
                .expect("the socket is open")
                .expect("a frame");
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).unwrap_or(json!(t.as_str()));
            }
        }
    }

    /// The close code the server sends next (text messages before it are skipped).
    async fn close_code(ws: &mut Ws, within: Duration) -> Option<CloseCode> {
        let wait = async {
            while let Some(msg) = ws.next().await {
                match msg {
                    Ok(Message::Close(frame)) => return frame.map(|f| f.code),
                    Ok(_) => continue,
                    Err(_) => return None,
                }
            }
            None
        };
        tokio::time::timeout(within, wait)
            .await
            .expect("a close in time")
    }

    /// A signed `@connections` call on `node` (service `execute-api`).
    async fn connections(node: &DataPlane, api: &str, method: &str, id: &str) -> u16 {
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
        let signed = apigw_sigv4::sign(method, &url, &headers, b"", &params).expect("signing");
        signed.apply_to(&mut headers).expect("headers");
        reqwest::Client::new()
            .request(
                method.parse().expect("method"),
                format!("{}/dev/@connections/{id}", node.base()),
            )
            .headers(headers)
            .send()
            .await
            .expect("@connections call")
            .status()
            .as_u16()
    }

    fn events(dir: &std::path::Path) -> Vec<Value> {
        std::fs::read_to_string(dir.join("events.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn chat_across_two_nodes_with_connections_limits_and_a_killed_node() {
        let dir = std::env::temp_dir().join(format!("ws-chat-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("state dir");
        let functions = FunctionsHost::start_with_env(&[
            ("WS_CHAT_DIR", dir.display().to_string()),
            ("WS_CHAT_KEY", ACCESS_KEY_ID.to_string()),
            ("WS_CHAT_SECRET", SECRET_ACCESS_KEY.to_string()),
        ])
        .await;
        let db = fresh_database().await.expect("a test database");
        let cp = ControlPlane::start(&db).await;
        let made = super::boto3(&cp, "websocket_mgmt.py").await;
        let api = made["apiId"].as_str().expect("apiId").to_string();
        let common = [
            ("FUNCTIONS_URL", functions.url.clone()),
            ("WS_REGISTRY_TTL", "3".to_string()),
            ("WS_DRAIN_GRACE", "1".to_string()),
        ];
        let node0 = DataPlane::start_env(&cp.grpc_url(), "ws-0", &common).await;
        let mut node1 = DataPlane::start_env(&cp.grpc_url(), "ws-1", &common).await;
        let mut env2 = common.to_vec();
        env2.push(("WS_IDLE_TIMEOUT", "2".to_string()));
        let node2 = DataPlane::start_env(&cp.grpc_url(), "ws-2", &env2).await;
        std::fs::write(dir.join("endpoint"), node0.base()).expect("endpoint file");

        // $connect through the REQUEST authorizer: refused without a token (401) and with a
        // denied one (403), accepted on both nodes once they have the stage.
        let mut c0 = eventually(
            "node 0 serves the WebSocket stage",
            Duration::from_secs(30),
            || async { connect(&node0, &api, "?token=allow").await.ok() },
        )
        .await;
        let mut c1 = eventually(
            "node 1 serves the WebSocket stage",
            Duration::from_secs(30),
            || async { connect(&node1, &api, "?token=allow").await.ok() },
        )
        .await;
        assert_eq!(connect(&node0, &api, "").await.err(), Some(401));
        assert_eq!(connect(&node0, &api, "?token=nope").await.err(), Some(401));
        assert_eq!(connect(&node1, &api, "?token=deny").await.err(), Some(403));

        // sendmessage, routed by $request.body.action: the function broadcasts through
        // @connections to both clients (one on each node); the route response answers the
        // sender.
        c0.send(Message::Text(
            json!({"action": "sendmessage", "data": "hello"})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
        let mut got0 = vec![
            next_text(&mut c0, "c0 first").await,
            next_text(&mut c0, "c0 second").await,
        ];
        got0.sort_by_key(|v| v.to_string());
        assert!(got0.contains(&json!({"sent": 2})), "{got0:?}");
        let broadcast = got0
            .iter()
            .find(|v| v.get("data").is_some())
            .expect("the broadcast")
            .clone();
        assert_eq!(broadcast["data"], "hello");
        assert_eq!(next_text(&mut c1, "c1 broadcast").await, broadcast);
        let c0_id = broadcast["from"].as_str().expect("sender id").to_string();

        // $default catches unknown actions (MOCK with a route response).
        c1.send(Message::Text(json!({"action": "nope"}).to_string().into()))
            .await
            .expect("send");
        assert_eq!(
            next_text(&mut c1, "c1 $default").await,
            json!({"message": "unknown action"})
        );

        // The events carry requestContext as AWS documents it.
        let evs = events(&dir);
        let connect_ev = evs
            .iter()
            .find(|e| {
                e["requestContext"]["connectionId"] == c0_id.as_str()
                    && e["requestContext"]["eventType"] == "CONNECT"
            })
            .expect("the $connect event");
        let rc = &connect_ev["requestContext"];
        assert_eq!(rc["routeKey"], "$connect");
        assert_eq!(rc["stage"], "dev");
        assert_eq!(rc["apiId"], api.as_str());
        assert_eq!(rc["domainName"], host(&api));
        assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["authorizer"]["user"], "u-allow");
        assert!(rc["connectedAt"].as_u64().is_some());
        let msg_ev = evs
            .iter()
            .find(|e| e["requestContext"]["eventType"] == "MESSAGE")
            .expect("a MESSAGE event");
        assert_eq!(msg_ev["requestContext"]["routeKey"], "sendmessage");
        assert!(msg_ev["requestContext"]["messageId"].is_string());

        // @connections through boto3 on node 1: GET the identity of c0 (on node 0), POST to
        // c1, 413 over 128 KB, DELETE c0, then 410.
        let c1_id = events(&dir)
            .iter()
            .filter(|e| e["requestContext"]["eventType"] == "CONNECT")
            .map(|e| {
                e["requestContext"]["connectionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .find(|id| *id != c0_id)
            .expect("c1's id");
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/websocket_connections.py");
        let out = tokio::process::Command::new("python3")
            .arg(script)
            .env("WS_NODE", node1.base())
            .env("WS_HOST", host(&api))
            .env("WS_STAGE", "dev")
            .env("WS_KEEP", &c1_id)
            .env("WS_CLOSE", &c0_id)
            .env("WS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("WS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .output()
            .await
            .expect("python3");
        assert!(
            out.status.success(),
            "websocket_connections.py: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            next_text(&mut c1, "c1 boto3 post").await,
            json!({"note": "from boto3"})
        );
        assert_eq!(
            close_code(&mut c0, Duration::from_secs(10)).await,
            Some(CloseCode::Normal)
        );
        eventually(
            "$disconnect ran for the closed connection",
            Duration::from_secs(20),
            || async {
                events(&dir)
                    .iter()
                    .any(|e| {
                        e["requestContext"]["eventType"] == "DISCONNECT"
                            && e["requestContext"]["connectionId"] == c0_id.as_str()
                    })
                    .then_some(())
            },
        )
        .await;

        // A 200 KB message closes the socket with 1009.
        let mut big = connect(&node0, &api, "?token=allow")
            .await
            .expect("connect");
        let _ = big.send(Message::Text("x".repeat(200 * 1024).into())).await;
        assert_eq!(
            close_code(&mut big, Duration::from_secs(10)).await,
            Some(CloseCode::Size)
        );

        // Node 2's idle timeout (2 s here) closes a silent socket with 1001.
        let mut idle = eventually(
            "node 2 serves the WebSocket stage",
            Duration::from_secs(30),
            || async { connect(&node2, &api, "?token=allow").await.ok() },
        )
        .await;
        assert_eq!(
            close_code(&mut idle, Duration::from_secs(20)).await,
            Some(CloseCode::Away)
        );

        // A SIGKILLed node's connections answer 410 once the registry TTL (3 s here) passes.
        assert_eq!(connections(&node0, &api, "GET", &c1_id).await, 200);
        // Another API's endpoint does not reach this API's connections.
        assert_eq!(connections(&node0, "otherapi", "GET", &c1_id).await, 410);
        node1.kill().await;
        eventually(
            "the killed node's connection is gone",
            Duration::from_secs(30),
            || async { (connections(&node0, &api, "GET", &c1_id).await == 410).then_some(()) },
        )
        .await;

        // Metering: messages in 32 KB units in both directions (in: sendmessage and the
        // unknown action; out: two broadcasts, two route responses, boto3's post; the
        // 200 KB message was refused before it counted) and connection minutes of the
        // closed connections (c0, the big one, the idle one; c1 died with its node).
        let today = time::OffsetDateTime::now_utc().date();
        let path = format!(
            "/v2/apis/{api}/usage?startDate={}&endDate={}",
            today.previous_day().expect("yesterday"),
            today.next_day().expect("tomorrow")
        );
        let mgmt = cp.mgmt();
        eventually("the usage is metered", Duration::from_secs(30), || async {
            let usage = mgmt.get(&path).await.ok();
            let items = usage["items"].as_array().cloned().unwrap_or_default();
            let sum = |m: &str| {
                items
                    .iter()
                    .map(|i| i[m].as_i64().unwrap_or(0))
                    .sum::<i64>()
            };
            (sum("messages") == 7
                && sum("connectionMinutes") == 3
                && items.iter().all(|i| i["stage"] == "dev"))
            .then_some(())
        })
        .await;
        mgmt.get(&format!(
            "/v2/apis/{api}/usage?startDate=2026-13-01&endDate=2026-01-01"
        ))
        .await
        .err(400, "BadRequestException");

        // Route throttling: `$default` allows a burst of 2 at 0.5/s for the cluster here
        // (websocket_limits.rs holds it to the bound across nodes).
        let mut busy = connect(&node0, &api, "?token=allow")
            .await
            .expect("connect");
        for _ in 0..4 {
            busy.send(Message::Text(json!({"action": "nope"}).to_string().into()))
                .await
                .expect("send");
        }
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(next_text(&mut busy, "throttled answers").await);
        }
        assert!(
            answers.iter().any(|a| a["message"] == "Too Many Requests"),
            "{answers:?}"
        );
        assert!(
            answers.iter().any(|a| a["message"] == "unknown action"),
            "{answers:?}"
        );

        // SIGTERM: node 0 closes its open sockets with 1001 after the drain grace (1 s here).
        let mut draining = connect(&node0, &api, "?token=allow")
            .await
            .expect("connect");
        let closed =
            tokio::spawn(async move { close_code(&mut draining, Duration::from_secs(20)).await });
        let mut node0 = node0;
        node0.stop().await;
        assert_eq!(closed.await.expect("reader"), Some(CloseCode::Away));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `wss://` on the nodes' HTTPS listener: a custom domain `*.execute-api.localhost` (a
/// wildcard certificate from the test's CA) gives the execute-api hosts TLS, so a client
/// connecting with SNI and Host `{apiId}.execute-api.localhost` reaches the WebSocket
/// stage; a message to the MOCK `$default` route gets its route response, on two nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_reaches_a_websocket_api_over_the_https_listener() {
    use apigw_e2e::tls::{tls_connect, TestCa};
    use apigw_e2e::{eventually, Cluster};
    use futures::{SinkExt, StreamExt};
    use std::time::Duration;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let id = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "wss", "protocolType": "WEBSOCKET",
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
               "responseTemplates": {"$default": "{\"echo\": \"over wss\"}"}}),
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
    let route = id(&route, "routeId");
    m.post(
        &format!("{base}/routes/{route}/routeresponses"),
        json!({"routeResponseKey": "$default"}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true}),
    )
    .await
    .ok();

    let ca = TestCa::new("wss ca");
    let wildcard = ca.server("*.execute-api.localhost");
    let created = m
        .post(
            "/domainnames",
            json!({"domainName": "*.execute-api.localhost",
                   "certificateBody": wildcard.cert_pem,
                   "certificatePrivateKey": wildcard.key_pem,
                   "endpointConfiguration": {"types": ["REGIONAL"]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);

    let host = format!("{api}.execute-api.localhost");
    for node in &cluster.nodes {
        let port = node.https_port;
        let mut ws = eventually(
            "the node upgrades a wss connection",
            Duration::from_secs(30),
            || async {
                let tls = tls_connect(port, &host, &ca.pem, &[b"http/1.1"])
                    .await
                    .ok()?;
                let request = format!("wss://{host}/dev").into_client_request().ok()?;
                tokio_tungstenite::client_async(request, tls)
                    .await
                    .ok()
                    .map(|(ws, _)| ws)
            },
        )
        .await;
        ws.send(Message::Text(json!({"action": "hello"}).to_string().into()))
            .await
            .expect("send over wss");
        let answer = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(msg) = ws.next().await {
                if let Ok(Message::Text(t)) = msg {
                    return Some(t.to_string());
                }
            }
            None
        })
        .await
        .expect("an answer within 20 s")
        .expect("a text message");
        assert_eq!(
            serde_json::from_str::<Value>(&answer).expect("JSON"),
            json!({"echo": "over wss"}),
            "node {}",
            node.node_id
        );
        ws.close(None).await.expect("close");
    }
}
