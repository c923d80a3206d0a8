//! The management audit log: who changed what, read back as CloudTrail's `LookupEvents`.
//!
//! Recording ([`record`], a middleware on the management API and on the console's API):
//! for every call that is not a read (GET/HEAD/OPTIONS), it names the operation (the
//! `apigateway` model's `http.method` + `http.requestUri`, [`operations`]; the console's
//! own calls as IAM/sign-in operations), gathers the caller, the source IP, the request id
//! and the request parameters (path, query and JSON body, secrets hidden by
//! [`sanitize`]) and puts that pending event in a task-local for the handler. A handler's
//! [`commit`] (instead of `tx.commit()`) inserts the event in the transaction of the
//! change, so a change is never without its event, nor an event without its change. After
//! the response the middleware completes the event with the status and a small summary
//! (the created id, which also completes the resource's ARN); a call that failed, or a
//! successful one that wrote without a transaction, is inserted then, with its error type
//! and message. Reads are not kept (CloudTrail's `ReadOnly=true` events).
//!
//! Reading: [`lookup`] serves `LookupEvents` (JSON 1.1, SigV4 service `cloudtrail`).
//! Retention: [`prune_task`] deletes events past 90 days, CloudTrail's event history.

pub mod lookup;
pub mod operations;
pub mod sanitize;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::store::audit::EventRow;
use crate::AppState;

/// `eventSource` of the management API's events.
pub const APIGATEWAY_SOURCE: &str = "apigateway.amazonaws.com";

/// How long events are kept (CloudTrail's event history).
pub const RETENTION_DAYS: i32 = 90;

/// Largest request body the recorder buffers (the management API's own limit).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// Largest response body read back (mutating calls answer with one small document).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// The event of the call in progress, written by the first [`commit`].
struct Pending {
    event: EventRow,
    written: AtomicBool,
}

tokio::task_local! {
    static PENDING: Arc<Pending>;
}

/// Commits a handler's transaction with the audit event of the call in progress inserted
/// in it (once per call; outside an audited call it is a plain commit).
pub async fn commit(mut tx: sqlx::Transaction<'_, sqlx::Postgres>) -> sqlx::Result<()> {
    let pending = PENDING.try_with(Arc::clone).ok();
    if let Some(p) = &pending {
        if !p.written.load(Ordering::Acquire) {
            crate::store::audit::insert(&mut tx, &p.event, false).await?;
        }
    }
    tx.commit().await?;
    if let Some(p) = pending {
        p.written.store(true, Ordering::Release);
    }
    Ok(())
}

/// Which API a recorder wraps.
#[derive(Debug, Clone, Copy)]
pub enum Surface {
    /// The `apigateway` management API (caller set by `auth::require_sigv4`).
    Management,
    /// The console's `/console/api` (caller found from the session, or the sign-in body).
    Console,
}

/// Middleware recording the management API's mutating calls.
pub async fn record_management(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    record(state, Surface::Management, req, next).await
}

/// Middleware recording the console API's mutating calls.
pub async fn record_console(State(state): State<AppState>, req: Request, next: Next) -> Response {
    record(state, Surface::Console, req, next).await
}

fn now_us() -> i64 {
    let t = time::OffsetDateTime::now_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

async fn record(state: AppState, surface: Surface, req: Request, next: Next) -> Response {
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return next.run(req).await;
    }
    let raw_path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let op = match surface {
        Surface::Management => operations::management(req.method(), &raw_path, &query),
        Surface::Console => operations::console(req.method(), &raw_path),
    };
    let Some(op) = op else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return crate::error::ApiError::bad_request("Request body too large or unreadable")
            .into_response();
    };
    let body_json: Option<Value> = serde_json::from_slice(&bytes).ok();

    // Who.
    let (username, access_key_id, identity_type) = match surface {
        Surface::Management => match parts.extensions.get::<crate::auth::Caller>() {
            Some(c) => identity(&state, &c.access_key_id).await,
            None => ("anonymous".into(), String::new(), "Unknown".into()),
        },
        Surface::Console => {
            match crate::auth::console_caller(&state, &parts.headers, &parts.method).await {
                Ok(Some(c)) => identity(&state, &c.access_key_id).await,
                _ => {
                    // Sign-in names its user in the body.
                    let name = body_json
                        .as_ref()
                        .and_then(|b| b.get("username"))
                        .and_then(Value::as_str)
                        .unwrap_or("anonymous")
                        .to_string();
                    (name, String::new(), "ConsoleUser".into())
                }
            }
        }
    };
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let request_id = parts
        .extensions
        .get::<crate::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();

    let params = sanitize::request_parameters(&op, &query, body_json.as_ref(), bytes.len());
    let resources = operations::resources(&state.region, &op, None);
    let event = EventRow {
        event_id: uuid::Uuid::new_v4(),
        event_us: now_us(),
        event_name: op.name.clone(),
        event_source: op.source.to_string(),
        username,
        access_key_id,
        identity_type,
        read_only: false,
        source_ip,
        user_agent,
        request_id,
        request_parameters: Some(params),
        response_elements: None,
        status: None,
        error_code: None,
        error_message: None,
        resources: resources_json(&resources),
    };
    let pending = Arc::new(Pending {
        event,
        written: AtomicBool::new(false),
    });
    let req = Request::from_parts(parts, Body::from(bytes));
    let resp = PENDING.scope(pending.clone(), next.run(req)).await;

    // Complete (or write) the event with the answer.
    let (rparts, rbody) = resp.into_parts();
    let rbytes = match axum::body::to_bytes(rbody, MAX_RESPONSE).await {
        Ok(b) => b,
        Err(_) => bytes::Bytes::new(),
    };
    let status = rparts.status;
    let rjson: Option<Value> = serde_json::from_slice(&rbytes).ok();
    let mut event = pending.event.clone();
    event.status = Some(i32::from(status.as_u16()));
    if status.is_success() {
        let created = rjson
            .as_ref()
            .and_then(|j| operations::created_name(&op, j));
        let resources = operations::resources(&state.region, &op, created.as_deref());
        event.resources = resources_json(&resources);
        event.response_elements = rjson.as_ref().and_then(sanitize::response_summary);
    } else {
        event.error_message = rjson
            .as_ref()
            .and_then(|j| j.get("message").or_else(|| j.get("Message")))
            .and_then(Value::as_str)
            .map(str::to_string);
        // A call refused by the caller's policies is CloudTrail's `AccessDenied`.
        let denied = status == http::StatusCode::FORBIDDEN
            && event
                .error_message
                .as_deref()
                .is_some_and(crate::iam::is_denial_message);
        event.error_code = Some(if denied {
            "AccessDenied".to_string()
        } else {
            rparts
                .headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|t| t.split(':').next().unwrap_or(t).to_string())
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_string())
        });
    }
    let result = if pending.written.load(Ordering::Acquire) {
        crate::store::audit::complete(&state.db, &event).await
    } else {
        match state.db.acquire().await {
            Ok(mut conn) => crate::store::audit::insert(&mut conn, &event, true).await,
            Err(e) => Err(e),
        }
    };
    if let Err(error) = result {
        tracing::error!(%error, event = %event.event_name, "writing an audit event failed");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

/// (Username, AccessKeyId, identity type) of a caller as `auth::Caller` names it.
async fn identity(state: &AppState, caller: &str) -> (String, String, String) {
    if let Some(user) = caller.strip_prefix("console:") {
        return (user.to_string(), String::new(), "ConsoleUser".into());
    }
    match crate::store::access_keys::owner_username(&state.db, caller).await {
        Ok(Some(user)) => (user, caller.to_string(), "IAMUser".into()),
        _ => ("root".into(), caller.to_string(), "Root".into()),
    }
}

fn resources_json(resources: &[(String, String)]) -> Value {
    Value::Array(
        resources
            .iter()
            .map(|(t, n)| json!({"type": t, "name": n}))
            .collect(),
    )
}

/// Deletes events past retention once an hour (every replica; the delete is idempotent).
pub async fn prune_task(db: sqlx::PgPool) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match crate::store::audit::prune(&db, RETENTION_DAYS).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "audit events past retention pruned"),
            Err(error) => tracing::warn!(%error, "pruning audit events failed"),
        }
    }
}
