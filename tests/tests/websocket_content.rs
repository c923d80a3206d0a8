//! `contentHandlingStrategy` and `requestParameters` on WebSocket integrations (issue 19's
//! leftovers), on one API served by two nodes with the test HTTP backend:
//!
//! - an HTTP integration with CONVERT_TO_TEXT: a binary frame reaches the backend (`/raw`,
//!   which answers the body it got) as base64 text;
//! - an integration response with CONVERT_TO_BINARY: the base64 the backend answers goes
//!   back to the client as a binary frame (even when the bytes are UTF-8), and an answer
//!   that is not base64 is an `Internal server error`;
//! - `requestParameters` on HTTP and HTTP_PROXY integrations: headers and query parameters
//!   from `context.connectionId`, `context.routeKey`, a stage variable and static values;
//! - the management API refusing a bad `requestParameters` key or value, naming the key,
//!   and an unknown `contentHandlingStrategy`.

use std::time::Duration;

use apigw_e2e::backend::Backend;
use apigw_e2e::process::DataPlane;
use apigw_e2e::{eventually, fresh_database, ControlPlane, Mgmt};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(node: &DataPlane, api: &str) -> Option<Ws> {
    let mut req = format!("ws://127.0.0.1:{}/dev", node.port)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "host",
        format!("{api}.execute-api.localhost")
            .parse()
            .expect("host"),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .ok()
        .map(|(ws, _)| ws)
}

/// Sends `msg` and answers the next text or binary frame (panics after 20 s).
async fn ask(ws: &mut Ws, msg: Message) -> Message {
    ws.send(msg).await.expect("send");
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("an answer within 20 s")
            .expect("the socket is open")
            .expect("a frame");
        if matches!(frame, Message::Text(_) | Message::Binary(_)) {
            return frame;
        }
    }
}

async fn ask_json(ws: &mut Ws, msg: Value) -> Value {
    match ask(ws, Message::Text(msg.to_string().into())).await {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap_or(json!(t.as_str())),
        other => panic!("a text answer to {msg}, not {other:?}"),
    }
}

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// Creates an integration; answers its id.
async fn integration(m: &Mgmt, base: &str, body: Value) -> String {
    id(
        &m.post(&format!("{base}/integrations"), body).await.ok(),
        "integrationId",
    )
}

/// Creates a route with a `$default` route response.
async fn route(m: &Mgmt, base: &str, key: &str, integration: &str) {
    let r = m
        .post(
            &format!("{base}/routes"),
            json!({"routeKey": key, "target": format!("integrations/{integration}"),
                   "routeResponseSelectionExpression": "$default"}),
        )
        .await
        .ok();
    let rid = id(&r, "routeId");
    m.post(
        &format!("{base}/routes/{rid}/routeresponses"),
        json!({"routeResponseKey": "$default"}),
    )
    .await
    .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_handling_and_request_parameters() {
    let backend = Backend::start("ws-content").await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "content", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let raw = format!("{}/raw", backend.url());

    // $default (binary frames select no route key): CONVERT_TO_TEXT to `/raw`.
    let to_text = integration(
        &m,
        &base,
        json!({"integrationType": "HTTP", "integrationUri": raw,
               "contentHandlingStrategy": "CONVERT_TO_TEXT"}),
    )
    .await;
    route(&m, &base, "$default", &to_text).await;

    // `tobin`: the template sends `data` to `/raw`, which answers it; the integration
    // response decodes it.
    let to_binary = integration(
        &m,
        &base,
        json!({"integrationType": "HTTP", "integrationUri": raw,
               "requestTemplates": {"$default": "$input.path('$.data')"}}),
    )
    .await;
    let response = m
        .post(
            &format!("{base}/integrations/{to_binary}/integrationresponses"),
            json!({"integrationResponseKey": "$default",
                   "contentHandlingStrategy": "CONVERT_TO_BINARY"}),
        )
        .await
        .ok();
    assert_eq!(response["contentHandlingStrategy"], "CONVERT_TO_BINARY");
    route(&m, &base, "tobin", &to_binary).await;

    // `params`: requestParameters on an HTTP integration (the echo backend shows what it
    // got) and on an HTTP_PROXY one.
    let params = integration(
        &m,
        &base,
        json!({"integrationType": "HTTP",
        "integrationUri": format!("{}/params?fixed=1", backend.url()),
        "requestParameters": {
            "integration.request.header.x-connection-id": "context.connectionId",
            "integration.request.header.X-Static": "'static value'",
            "integration.request.querystring.color": "stageVariables.color",
            "integration.request.querystring.route": "context.routeKey",
            "integration.request.querystring.missing": "route.request.header.nope"
        }}),
    )
    .await;
    route(&m, &base, "params", &params).await;
    let proxy = integration(
        &m,
        &base,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "POST",
        "integrationUri": format!("{}/proxy", backend.url()),
        "requestParameters": {
            "integration.request.header.x-route": "context.routeKey",
            "integration.request.querystring.stage": "context.stage"
        }}),
    )
    .await;
    route(&m, &base, "proxy", &proxy).await;

    // What the management API refuses, naming the key.
    for (key, value) in [
        ("integration.request.body.x", "context.connectionId"),
        ("method.request.header.x", "context.connectionId"),
        ("integration.request.header.x", "route.request.nowhere.y"),
        ("integration.request.header.x", "unquoted"),
    ] {
        let refused = m
            .post(
                &format!("{base}/integrations"),
                json!({"integrationType": "HTTP", "integrationUri": raw,
                       "requestParameters": {key: value}}),
            )
            .await
            .err(400, "BadRequestException");
        assert!(refused.contains(key), "{key} = {value}: {refused}");
    }
    let refused = m
        .call(
            "PATCH",
            &format!("{base}/integrations/{params}"),
            Some(json!({"requestParameters": {"integration.request.path.p": "'x'"}})),
        )
        .await
        .err(400, "BadRequestException");
    assert!(refused.contains("integration.request.path.p"), "{refused}");
    m.post(
        &format!("{base}/integrations"),
        json!({"integrationType": "HTTP", "integrationUri": raw,
               "contentHandlingStrategy": "CONVERT_TO_XML"}),
    )
    .await
    .err(400, "BadRequestException");

    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true, "stageVariables": {"color": "blue"}}),
    )
    .await
    .ok();
    let node0 = DataPlane::start(&cp.grpc_url(), "wsc-0").await;
    let node1 = DataPlane::start(&cp.grpc_url(), "wsc-1").await;
    let mut ws = eventually(
        "node 0 serves the stage",
        Duration::from_secs(30),
        || async { connect(&node0, &api).await },
    )
    .await;

    // CONVERT_TO_TEXT: a binary frame reaches the backend as base64.
    let bytes = vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0xff];
    match ask(&mut ws, Message::Binary(bytes.clone().into())).await {
        Message::Text(t) => assert_eq!(t.as_str(), "3q2+7wD/"),
        other => panic!("the base64 text, not {other:?}"),
    }

    // CONVERT_TO_BINARY: the backend's base64 goes back as a binary frame.
    for (data, expected) in [("3q2+7wD/", bytes.clone()), ("aGVsbG8=", b"hello".to_vec())] {
        let answer = ask(
            &mut ws,
            Message::Text(json!({"action": "tobin", "data": data}).to_string().into()),
        )
        .await;
        match answer {
            Message::Binary(b) => assert_eq!(b.to_vec(), expected, "{data}"),
            other => panic!("a binary frame for {data}, not {other:?}"),
        }
    }
    let failed = ask_json(&mut ws, json!({"action": "tobin", "data": "not base64!"})).await;
    assert_eq!(failed["message"], "Internal server error", "{failed}");
    let connection_id = id(&failed, "connectionId");
    assert!(!connection_id.is_empty(), "{failed}");

    // requestParameters: headers and query from the context, a stage variable, statics.
    let echoed = ask_json(&mut ws, json!({"action": "params"})).await;
    assert_eq!(echoed["path"], "/params", "{echoed}");
    assert_eq!(echoed["headers"]["x-connection-id"], connection_id.as_str());
    assert_eq!(echoed["headers"]["x-static"], "static value");
    let query: Vec<&str> = echoed["query"]
        .as_str()
        .unwrap_or_default()
        .split('&')
        .collect();
    for q in ["fixed=1", "color=blue", "route=params"] {
        assert!(query.contains(&q), "{q} in {query:?}");
    }
    assert!(
        !query.iter().any(|q| q.starts_with("missing")),
        "an absent source is not sent: {query:?}"
    );
    let proxied = ask_json(&mut ws, json!({"action": "proxy"})).await;
    assert_eq!(proxied["headers"]["x-route"], "proxy", "{proxied}");
    assert_eq!(proxied["query"], "stage=dev", "{proxied}");

    // The other node compiled the same.
    let mut ws1 = eventually(
        "node 1 serves the stage",
        Duration::from_secs(30),
        || async { connect(&node1, &api).await },
    )
    .await;
    match ask(&mut ws1, Message::Binary(b"\x01\x02\x03".to_vec().into())).await {
        Message::Text(t) => assert_eq!(t.as_str(), "AQID"),
        other => panic!("the base64 text, not {other:?}"),
    }
    let echoed = ask_json(&mut ws1, json!({"action": "params"})).await;
    assert_eq!(echoed["headers"]["x-static"], "static value", "{echoed}");
}
