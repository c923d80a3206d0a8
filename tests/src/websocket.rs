//! A WebSocket client for the WebSocket API tests: upgrades on a node's HTTP port with the
//! invoke Host (`{apiId}.execute-api.localhost`), the next text frame as JSON, and the v2
//! names the tests build APIs with.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The invoke Host of `api` (the nodes' default `--execute-api-domain`).
pub fn host(api: &str) -> String {
    format!("{api}.execute-api.localhost")
}

/// Upgrades to `path` (`/dev`, `/dev?token=allow`) of `api` on the node listening on
/// `port`; the refusal's HTTP status otherwise.
pub async fn connect(port: u16, api: &str, path: &str) -> Result<Ws, u16> {
    let mut req = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("host", host(api).parse().expect("host"));
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connecting: {e}"),
    }
}

/// The next text message, as JSON when it is (panics after 20 s or on close).
pub async fn next_text(ws: &mut Ws, what: &str) -> Value {
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

/// Sends `body` as a text frame.
pub async fn send(ws: &mut Ws, body: Value) {
    ws.send(Message::Text(body.to_string().into()))
        .await
        .expect("send");
}

/// A string member of a management answer (empty when absent).
pub fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The invocation URI of the function host's function `name`.
pub fn fn_uri(name: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
         arn:aws:lambda:us-east-1:000000000000:function:{name}/invocations"
    )
}
