//! `@connections` in the `apigatewaymanagementapi` shape, on any node:
//! `POST /{stage}/@connections/{connectionId}` sends the body to the client,
//! `GET` answers `connectedAt`, `lastActiveAt` and `identity`, `DELETE` closes the
//! connection. Requests carry the invoke Host (`{apiId}.{execute-api-domain}`) and a SigV4
//! signature for the service `execute-api` with any of the control plane's access keys,
//! verified with the derived signing keys the nodes already hold for AWS_IAM methods.
//! A closed or unknown connection is `GoneException` (410); a body over 128 KB is
//! `PayloadTooLargeException` (413).

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use apigw_gateway::body::Body;
use apigw_gateway::phases::authorize::iam;

use super::{Outbound, WsHub, MAX_MESSAGE};

/// `(stage, connection id)` when the path is `/{stage}/@connections/{id}`.
fn target(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (stage, rest) = rest.split_once('/')?;
    let id = rest.strip_prefix("@connections/")?;
    (!stage.is_empty() && !id.is_empty() && !id.contains('/')).then_some((stage, id))
}

fn error(status: StatusCode, error_type: &'static str, message: &str) -> Response<Body> {
    let mut r = Response::new(Body::full(json!({ "message": message }).to_string()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        "x-amzn-errortype",
        http::HeaderValue::from_static(error_type),
    );
    r
}

fn iso(ms: Option<u64>) -> Value {
    let Some(ms) = ms else { return Value::Null };
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map_or(Value::Null, Value::String)
}

/// Handles an `@connections` call, or gives the request back when it is not one.
pub async fn handle(
    hub: &Arc<WsHub>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Request<hyper::body::Incoming>> {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if hub.gateway.invoke_api_id(host).is_none() {
        return Err(req);
    }
    let Some((stage, id)) = target(req.uri().path()) else {
        return Err(req);
    };
    let (stage, id) = (stage.to_string(), id.to_string());
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_MESSAGE).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLargeException",
                "Request payload is too large: the limit is 128 KB",
            ))
        }
    };
    let digest = hex_sha256(&body);
    let keys = Arc::clone(&hub.gateway.shared_state().load().iam);
    if let Err(e) = iam::verify(&keys, &parts, &digest) {
        tracing::info!(error = %e, "@connections call refused");
        return Ok(error(
            StatusCode::FORBIDDEN,
            "ForbiddenException",
            &e.to_string(),
        ));
    }
    // A connection of another API or stage is not this endpoint's: as gone as an unknown one.
    let api_id = hub
        .gateway
        .invoke_api_id(host_of(&parts))
        .unwrap_or_default();
    let belongs = hub.lookup(&id).await.is_some_and(|(_, info)| {
        info["apiId"].as_str() == Some(api_id) && info["stage"].as_str() == Some(stage.as_str())
    });
    if !belongs {
        return Ok(gone());
    }
    Ok(match parts.method {
        http::Method::POST => {
            if hub.deliver(&id, Outbound::Send(body)).await {
                Response::new(Body::Empty)
            } else {
                gone()
            }
        }
        http::Method::DELETE => {
            if hub.deliver(&id, Outbound::Close).await {
                hub.forget(&id).await;
                let mut r = Response::new(Body::Empty);
                *r.status_mut() = StatusCode::NO_CONTENT;
                r
            } else {
                gone()
            }
        }
        http::Method::GET => match hub.lookup(&id).await {
            Some((_, info)) => {
                let doc = json!({
                    "connectedAt": iso(info["connectedAt"].as_u64()),
                    "lastActiveAt": iso(info["lastActiveAt"].as_u64()),
                    "identity": info["identity"],
                });
                let mut r = Response::new(Body::full(Bytes::from(doc.to_string())));
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                r
            }
            None => gone(),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnknownOperationException",
            "Unknown operation",
        ),
    })
}

fn host_of(parts: &http::request::Parts) -> &str {
    parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
}

fn gone() -> Response<Body> {
    error(StatusCode::GONE, "GoneException", "The connection is gone")
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
