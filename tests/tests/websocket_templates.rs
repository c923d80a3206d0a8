//! WebSocket mapping templates and AWS_IAM on `$connect` (issue 19's leftovers).
//!
//! [`templates_reshape_messages_and_answers`]: one API on two nodes with the test HTTP
//! backend: an HTTP integration whose `templateSelectionExpression` picks one of two
//! request templates (or passes an unmatched message through), which see `$input`,
//! `$context` and `$stageVariables`, with an integration response template reshaping the
//! backend's answer; an integration response selected by `/4\d\d/` with templates chosen by
//! `${integration.response.statuscode}`; `passthroughBehavior` NEVER refusing an unmatched
//! message; a MOCK whose request template picks the integration response; and the
//! management API refusing what AWS refuses for these fields.
//!
//! [`aws_integration_templates_select_on_error_messages`]: an AWS (function) integration
//! whose request template builds the event and whose integration responses are selected by
//! the function's error message.
//!
//! [`aws_iam_on_connect`]: `$connect` with AWS_IAM accepts an upgrade presigned (by our
//! signer and by botocore, `tests/boto3/websocket_presign.py`) or header-signed with a
//! control-plane access key, refuses one unsigned or signed with a
//! wrong secret (403), and the events carry the caller in `requestContext.identity`.

use std::time::Duration;

use apigw_e2e::backend::Backend;
use apigw_e2e::process::{DataPlane, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{eventually, fresh_database, ControlPlane, FunctionsHost, Mgmt};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn host(api: &str) -> String {
    format!("{api}.execute-api.localhost")
}

/// Connects to `node` for `api`/`dev` with `query` and extra headers; the refusal's
/// status otherwise.
async fn connect_with(
    node: &DataPlane,
    api: &str,
    query: &str,
    headers: &[(&str, String)],
) -> Result<Ws, u16> {
    let mut req = format!("ws://127.0.0.1:{}/dev{query}", node.port)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("host", host(api).parse().expect("host"));
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connecting: {e}"),
    }
}

async fn connect(node: &DataPlane, api: &str) -> Result<Ws, u16> {
    connect_with(node, api, "", &[]).await
}

/// Sends `msg` and answers the next text message as JSON (panics after 20 s).
async fn ask(ws: &mut Ws, msg: Value) -> Value {
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .expect("send");
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no answer to {msg} within 20 s"))
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap_or(json!(t.as_str()));
        }
    }
}

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// Creates a route with a `$default` route response; answers its id.
async fn route(m: &Mgmt, base: &str, key: &str, integration: &str) -> String {
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
    rid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_reshape_messages_and_answers() {
    let backend = Backend::start("ws-backend").await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "shapes", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");

    // HTTP to the echo backend: two request templates picked by $request.body.kind, the
    // rest passed through (WHEN_NO_MATCH, the default); the answer reshaped.
    let context_template = r#"{"shape": "A", "who": "$util.escapeJavaScript($input.path('$.name'))", "raw": $input.json('$'),
 "connectionId": "$context.connectionId", "routeKey": "$context.routeKey",
 "eventType": "$context.eventType", "messageId": "$context.messageId",
 "requestId": "$context.requestId", "connectedAt": $context.connectedAt,
 "domainName": "$context.domainName", "stage": "$context.stage", "apiId": "$context.apiId",
 "sourceIp": "$context.identity.sourceIp", "color": "$stageVariables.color"}"#;
    let shape = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "HTTP", "integrationUri": backend.url(),
            "integrationMethod": "POST",
            "templateSelectionExpression": "$request.body.kind",
            "requestTemplates": {
                "a": context_template,
                "b": "{\"shape\": \"B\", \"upper\": \"$input.path('$.name').toUpperCase()\"}"
            }}),
        )
        .await
        .ok();
    assert_eq!(shape["passthroughBehavior"], "WHEN_NO_MATCH");
    let shape = id(&shape, "integrationId");
    m.post(
        &format!("{base}/integrations/{shape}/integrationresponses"),
        json!({"integrationResponseKey": "$default",
               "responseTemplates": {"$default":
                   "{\"sent\": $input.json('$.body'), \"method\": \"$input.path('$.method')\", \"route\": \"$context.routeKey\"}"}}),
    )
    .await
    .ok();
    route(&m, &base, "shape", &shape).await;

    // HTTP answering 404: `/4\d\d/` selects an integration response whose template is
    // chosen by the status code.
    let missing = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "HTTP",
                   "integrationUri": format!("{}/status/404", backend.url()),
                   "integrationMethod": "POST"}),
        )
        .await
        .ok();
    let missing = id(&missing, "integrationId");
    m.post(
        &format!("{base}/integrations/{missing}/integrationresponses"),
        json!({"integrationResponseKey": "/4\\d\\d/",
               "templateSelectionExpression": "${integration.response.statuscode}",
               "responseTemplates": {
                   "404": "{\"notFound\": $input.json('$.status')}",
                   "$default": "{\"other4xx\": true}"}}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/integrations/{missing}/integrationresponses"),
        json!({"integrationResponseKey": "$default",
               "responseTemplates": {"$default": "{\"unexpected\": true}"}}),
    )
    .await
    .ok();
    route(&m, &base, "missing", &missing).await;

    // NEVER: only `only` has a template; anything else is refused.
    let strict = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "HTTP", "integrationUri": backend.url(),
                   "passthroughBehavior": "NEVER",
                   "templateSelectionExpression": "$request.body.kind",
                   "requestTemplates": {"only": "{\"strict\": \"$input.path('$.kind')\"}"}}),
        )
        .await
        .ok();
    let strict = id(&strict, "integrationId");
    m.post(
        &format!("{base}/integrations/{strict}/integrationresponses"),
        json!({"integrationResponseKey": "$default",
               "responseTemplates": {"$default": "$input.json('$.body')"}}),
    )
    .await
    .ok();
    route(&m, &base, "strict", &strict).await;

    // MOCK: the request template's statusCode selects the integration response.
    let mock = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "MOCK", "templateSelectionExpression": "\\$default",
                   "requestTemplates": {"$default":
                       "#if($input.path('$.ok') == \"yes\"){\"statusCode\": 200}#else{\"statusCode\": 403}#end"}}),
        )
        .await
        .ok();
    let mock = id(&mock, "integrationId");
    m.post(
        &format!("{base}/integrations/{mock}/integrationresponses"),
        json!({"integrationResponseKey": "$default",
               "responseTemplates": {"$default":
                   "{\"mock\": \"ok\", \"connectionId\": \"$context.connectionId\", \"color\": \"$stageVariables.color\"}"}}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/integrations/{mock}/integrationresponses"),
        json!({"integrationResponseKey": "/403/",
               "responseTemplates": {"$default": "{\"mock\": \"denied\"}"}}),
    )
    .await
    .ok();
    route(&m, &base, "mock", &mock).await;

    // What the management API refuses, as AWS does.
    let bad_tse = m
        .post(
            &format!("{base}/integrations/{mock}/integrationresponses"),
            json!({"integrationResponseKey": "/5\\d\\d/",
                   "templateSelectionExpression": "$integration.response.body.x"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad_tse.contains("templateSelectionExpression"), "{bad_tse}");
    let request_side = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "MOCK",
                   "templateSelectionExpression": "${integration.response.statuscode}"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(
        request_side.contains("templateSelectionExpression"),
        "{request_side}"
    );
    let unparsable = m
        .post(
            &format!("{base}/integrations/{mock}/integrationresponses"),
            json!({"integrationResponseKey": "/5\\d\\d/",
                   "responseTemplates": {"$default": "#foreach($x in"}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(unparsable.contains("mapping template"), "{unparsable}");
    m.post(
        &format!("{base}/integrations"),
        json!({"integrationType": "MOCK", "passthroughBehavior": "SOMETIMES"}),
    )
    .await
    .err(400, "BadRequestException");

    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true, "stageVariables": {"color": "blue"}}),
    )
    .await
    .ok();

    let node0 = DataPlane::start(&cp.grpc_url(), "wst-0").await;
    let node1 = DataPlane::start(&cp.grpc_url(), "wst-1").await;
    let mut ws = eventually(
        "node 0 serves the stage",
        Duration::from_secs(30),
        || async { connect(&node0, &api).await.ok() },
    )
    .await;

    // Template "a": $input, $context, $stageVariables, $util; the answer reshaped.
    let sent = json!({"action": "shape", "kind": "a", "name": "Ann \"A\""});
    let a = ask(&mut ws, sent.clone()).await;
    assert_eq!(a["method"], "POST", "{a}");
    assert_eq!(a["route"], "shape", "{a}");
    let rendered: Value = serde_json::from_str(a["sent"].as_str().expect("the backend's body"))
        .unwrap_or_else(|e| panic!("the request template's output is JSON: {e}: {a}"));
    assert_eq!(rendered["shape"], "A");
    assert_eq!(rendered["who"], "Ann \"A\"");
    assert_eq!(rendered["raw"], sent);
    assert_eq!(rendered["routeKey"], "shape");
    assert_eq!(rendered["eventType"], "MESSAGE");
    assert_eq!(rendered["stage"], "dev");
    assert_eq!(rendered["apiId"], api.as_str());
    assert_eq!(rendered["domainName"], host(&api));
    assert_eq!(rendered["sourceIp"], "127.0.0.1");
    assert_eq!(rendered["color"], "blue");
    assert!(rendered["connectedAt"].as_u64().is_some(), "{rendered}");
    for k in ["connectionId", "messageId", "requestId"] {
        assert!(
            rendered[k].as_str().is_some_and(|v| !v.is_empty()),
            "{k}: {rendered}"
        );
    }
    let connection_id = id(&rendered, "connectionId");

    // Template "b", then an unmatched kind passed through as is.
    let b = ask(
        &mut ws,
        json!({"action": "shape", "kind": "b", "name": "ann"}),
    )
    .await;
    let rendered: Value = serde_json::from_str(b["sent"].as_str().expect("body")).expect("JSON");
    assert_eq!(rendered, json!({"shape": "B", "upper": "ANN"}));
    let plain = json!({"action": "shape", "kind": "zzz", "name": "ann"});
    let c = ask(&mut ws, plain.clone()).await;
    let passed: Value = serde_json::from_str(c["sent"].as_str().expect("body")).expect("JSON");
    assert_eq!(passed, plain);

    // 404 from the backend: `/4\d\d/`, then its "404" template.
    assert_eq!(
        ask(&mut ws, json!({"action": "missing"})).await,
        json!({"notFound": 404})
    );

    // NEVER: an unmatched message is refused, a matched one goes through.
    let refused = ask(&mut ws, json!({"action": "strict", "kind": "other"})).await;
    assert_eq!(refused["message"], "Unsupported Media Type", "{refused}");
    assert_eq!(refused["connectionId"], connection_id.as_str());
    let matched = ask(&mut ws, json!({"action": "strict", "kind": "only"})).await;
    assert_eq!(
        serde_json::from_str::<Value>(matched.as_str().expect("the echoed body")).expect("JSON"),
        json!({"strict": "only"})
    );

    // MOCK: 200 → the `$default` response, 403 → `/403/`.
    assert_eq!(
        ask(&mut ws, json!({"action": "mock", "ok": "yes"})).await,
        json!({"mock": "ok", "connectionId": connection_id, "color": "blue"})
    );
    assert_eq!(
        ask(&mut ws, json!({"action": "mock", "ok": "no"})).await,
        json!({"mock": "denied"})
    );

    // The other node compiled the same templates.
    let mut ws1 = eventually(
        "node 1 serves the stage",
        Duration::from_secs(30),
        || async { connect(&node1, &api).await.ok() },
    )
    .await;
    assert_eq!(
        ask(&mut ws1, json!({"action": "mock", "ok": "no"})).await,
        json!({"mock": "denied"})
    );
    let b1 = ask(
        &mut ws1,
        json!({"action": "shape", "kind": "b", "name": "zed"}),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(b1["sent"].as_str().expect("body")).expect("JSON"),
        json!({"shape": "B", "upper": "ZED"})
    );
}

/// A presigned `ws` URL's query for `api`/`dev`, signed with `secret`.
fn presigned_query(api: &str, secret: &str) -> String {
    let params = apigw_sigv4::SigningParams {
        access_key_id: ACCESS_KEY_ID,
        secret: &apigw_sigv4::SecretKey::new(secret),
        security_token: None,
        region: "us-east-1",
        service: "execute-api",
        time: time::OffsetDateTime::now_utc(),
    };
    let url = apigw_sigv4::presign(
        "GET",
        &format!("http://{}/dev", host(api)),
        &http::HeaderMap::new(),
        300,
        &params,
    )
    .expect("presigning");
    let query = url.split_once('?').expect("a query").1;
    format!("?{query}")
}

/// The query of a URL botocore presigns for `api`/`dev` (`tests/boto3/websocket_presign.py`).
async fn botocore_presigned_query(api: &str) -> String {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/websocket_presign.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("WS_HOST", host(api))
        .env("WS_STAGE", "dev")
        .env("WS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("WS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .output()
        .await
        .expect("python3");
    assert!(
        out.status.success(),
        "websocket_presign.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_iam_on_connect() {
    let functions = FunctionsHost::start().await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "signed", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let echo = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "AWS_PROXY",
                   "integrationUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:proxy-echo/invocations"}),
        )
        .await
        .ok();
    let echo = id(&echo, "integrationId");
    let connect_route = m
        .post(
            &format!("{base}/routes"),
            json!({"routeKey": "$connect", "authorizationType": "AWS_IAM",
                   "target": format!("integrations/{echo}")}),
        )
        .await
        .ok();
    assert_eq!(connect_route["authorizationType"], "AWS_IAM");
    // AWS_IAM is for $connect only.
    m.post(
        &format!("{base}/routes"),
        json!({"routeKey": "other", "authorizationType": "AWS_IAM"}),
    )
    .await
    .err(400, "BadRequestException");
    route(&m, &base, "$default", &echo).await;
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true}),
    )
    .await
    .ok();
    let env = [("FUNCTIONS_URL", functions.url.clone())];
    let node0 = DataPlane::start_env(&cp.grpc_url(), "iam-0", &env).await;
    let node1 = DataPlane::start_env(&cp.grpc_url(), "iam-1", &env).await;

    // Presigned with the control plane's access key: accepted (once the node has the
    // stage); unsigned or signed with a wrong secret: 403.
    let mut ws = eventually(
        "node 0 accepts a presigned upgrade",
        Duration::from_secs(30),
        || async {
            connect_with(&node0, &api, &presigned_query(&api, SECRET_ACCESS_KEY), &[])
                .await
                .ok()
        },
    )
    .await;
    assert_eq!(connect(&node0, &api).await.err(), Some(403));
    assert_eq!(
        connect_with(&node0, &api, &presigned_query(&api, "not-the-secret"), &[])
            .await
            .err(),
        Some(403)
    );

    // The events carry the caller.
    let event = ask(&mut ws, json!({"action": "hello"})).await;
    let identity = &event["requestContext"]["identity"];
    assert_eq!(identity["accessKey"], ACCESS_KEY_ID, "{event}");
    let user_arn = identity["userArn"].as_str().expect("userArn");
    assert!(user_arn.starts_with("arn:aws:iam::"), "{user_arn}");
    assert_eq!(identity["caller"], user_arn);
    assert!(identity["user"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(identity["sourceIp"], "127.0.0.1");
    assert_eq!(event["requestContext"]["eventType"], "MESSAGE");

    // botocore's presigned URL (what AWS clients do) is accepted too.
    let query = botocore_presigned_query(&api).await;
    assert!(query.contains("X-Amz-Signature="), "{query}");
    let mut boto = connect_with(&node0, &api, &query, &[])
        .await
        .expect("a botocore-presigned upgrade is accepted");
    let event = ask(&mut boto, json!({"action": "hello"})).await;
    assert_eq!(
        event["requestContext"]["identity"]["accessKey"],
        ACCESS_KEY_ID
    );

    // Signed in the headers instead (on the other node): accepted too.
    let signed_headers = {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", host(&api).parse().expect("host"));
        let params = apigw_sigv4::SigningParams {
            access_key_id: ACCESS_KEY_ID,
            secret: &apigw_sigv4::SecretKey::new(SECRET_ACCESS_KEY),
            security_token: None,
            region: "us-east-1",
            service: "execute-api",
            time: time::OffsetDateTime::now_utc(),
        };
        apigw_sigv4::sign(
            "GET",
            &format!("http://{}/dev", host(&api)),
            &headers,
            b"",
            &params,
        )
        .expect("signing")
        .headers()
    };
    let mut ws1 = eventually(
        "node 1 accepts a header-signed upgrade",
        Duration::from_secs(30),
        || async { connect_with(&node1, &api, "", &signed_headers).await.ok() },
    )
    .await;
    let event = ask(&mut ws1, json!({"action": "hello"})).await;
    assert_eq!(
        event["requestContext"]["identity"]["accessKey"],
        ACCESS_KEY_ID
    );
}

/// AWS (a function, non-proxy): the request template's output is the function's event; its
/// error message selects an integration response by `/regex/`, a success the `$default`
/// one, whose templates render the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_integration_templates_select_on_error_messages() {
    let functions = FunctionsHost::start().await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "fn", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let errors = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "AWS",
                   "integrationUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:errors/invocations",
                   "templateSelectionExpression": "\\$default",
                   "requestTemplates": {"$default":
                       "{\"kind\": \"$input.path('$.kind')\", \"id\": \"$context.connectionId\"}"}}),
        )
        .await
        .ok();
    let errors = id(&errors, "integrationId");
    m.post(
        &format!("{base}/integrations/{errors}/integrationresponses"),
        json!({"integrationResponseKey": "/.*Not Found.*/",
               "responseTemplates": {"$default": "{\"missing\": \"$input.path('$.errorMessage')\"}"}}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/integrations/{errors}/integrationresponses"),
        json!({"integrationResponseKey": "$default",
               "responseTemplates": {"$default": "{\"ok\": $input.json('$.ok'), \"id\": \"$input.path('$.id')\"}"}}),
    )
    .await
    .ok();
    route(&m, &base, "$default", &errors).await;
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true}),
    )
    .await
    .ok();
    let env = [("FUNCTIONS_URL", functions.url.clone())];
    let node = DataPlane::start_env(&cp.grpc_url(), "fn-0", &env).await;
    let mut ws = eventually(
        "the node serves the stage",
        Duration::from_secs(30),
        || async { connect(&node, &api).await.ok() },
    )
    .await;
    let fine = ask(&mut ws, json!({"kind": "fine"})).await;
    assert_eq!(fine["ok"], true, "{fine}");
    let connection_id = fine["id"].as_str().expect("the connection id").to_string();
    assert_eq!(connection_id.len(), 12, "{fine}");
    assert_eq!(
        ask(&mut ws, json!({"kind": "missing"})).await,
        json!({"missing": format!("Not Found: no item {connection_id}")})
    );
}
