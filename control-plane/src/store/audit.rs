//! The management audit log (`audit_events`, migration 0011): insert an event (in the
//! transaction of the change it records, or alone for a failed call), complete it with the
//! response summary once, look events up newest first by one attribute and a time range
//! (keyset paging on `(event_time, event_id)`), prune what is past retention. Nothing here
//! changes or deletes an event otherwise, and the table's trigger refuses it anyway.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// An event as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    /// EventId.
    pub event_id: Uuid,
    /// Microseconds since the Unix epoch.
    pub event_us: i64,
    /// The operation, e.g. `CreateRestApi`.
    pub event_name: String,
    /// `apigateway.amazonaws.com`, `iam.amazonaws.com` or `signin.amazonaws.com`.
    pub event_source: String,
    /// Username.
    pub username: String,
    /// AccessKeyId ('' for a console session).
    pub access_key_id: String,
    /// IAMUser, Root or ConsoleUser.
    pub identity_type: String,
    /// Whether the call only read.
    pub read_only: bool,
    /// The caller's address.
    pub source_ip: String,
    /// The caller's `User-Agent`.
    pub user_agent: String,
    /// The response's `x-amzn-RequestId`.
    pub request_id: String,
    /// Path, query and body members, secrets hidden.
    pub request_parameters: Option<serde_json::Value>,
    /// A small summary of the response (the created id), if any.
    pub response_elements: Option<serde_json::Value>,
    /// HTTP status of the answer (None until completed for a successful call).
    pub status: Option<i32>,
    /// The error type of a failed call.
    pub error_code: Option<String>,
    /// The error message of a failed call.
    pub error_message: Option<String>,
    /// `[{"type": ..., "name": ...}]`.
    pub resources: serde_json::Value,
}

const COLUMNS: &str = "event_id,
    (EXTRACT(EPOCH FROM event_time) * 1000000)::int8 AS event_us,
    event_name, event_source, username, access_key_id, identity_type, read_only, source_ip,
    user_agent, request_id, request_parameters, response_elements, status, error_code,
    error_message, resources";

/// Inserts an event; `completed` when nothing will be added to it later.
pub async fn insert(conn: &mut PgConnection, e: &EventRow, completed: bool) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (event_id, event_time, event_name, event_source, username,
            access_key_id, identity_type, read_only, source_ip, user_agent, request_id,
            request_parameters, response_elements, status, error_code, error_message,
            resources, completed)
         VALUES ($1, 'epoch'::timestamptz + $2 * interval '1 microsecond', $3, $4, $5, $6, $7,
            $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(e.event_id)
    .bind(e.event_us)
    .bind(&e.event_name)
    .bind(&e.event_source)
    .bind(&e.username)
    .bind(&e.access_key_id)
    .bind(&e.identity_type)
    .bind(e.read_only)
    .bind(&e.source_ip)
    .bind(&e.user_agent)
    .bind(&e.request_id)
    .bind(&e.request_parameters)
    .bind(&e.response_elements)
    .bind(e.status)
    .bind(&e.error_code)
    .bind(&e.error_message)
    .bind(&e.resources)
    .bind(completed)
    .execute(conn)
    .await?;
    Ok(())
}

/// Completes an event written in its change's transaction with the response: status,
/// summary, the resources the response named (a created id), and the error if the call
/// failed after its commit. Once only.
pub async fn complete(db: &PgPool, e: &EventRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE audit_events SET status = $2, response_elements = $3, resources = $4,
            error_code = $5, error_message = $6, completed = TRUE
         WHERE event_id = $1 AND NOT completed",
    )
    .bind(e.event_id)
    .bind(e.status)
    .bind(&e.response_elements)
    .bind(&e.resources)
    .bind(&e.error_code)
    .bind(&e.error_message)
    .execute(db)
    .await?;
    Ok(())
}

/// The one lookup attribute of a LookupEvents call.
#[derive(Debug, Clone)]
pub enum Attribute {
    /// EventName.
    EventName(String),
    /// Username.
    Username(String),
    /// ResourceName (an ARN, matched exactly).
    ResourceName(String),
    /// ResourceType, e.g. `AWS::ApiGateway::RestApi`.
    ResourceType(String),
    /// AccessKeyId.
    AccessKeyId(String),
    /// ReadOnly.
    ReadOnly(bool),
    /// EventId.
    EventId(Uuid),
    /// EventSource.
    EventSource(String),
}

/// A page of LookupEvents: newest first, from `after` (the last event of the page before:
/// `(event_us, event_id)`), at most `limit`, within `[start_us, end_us]`.
pub async fn lookup(
    db: &PgPool,
    attribute: Option<&Attribute>,
    start_us: i64,
    end_us: i64,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    let filter = match attribute {
        None => "TRUE",
        Some(Attribute::EventName(_)) => "event_name = $1",
        Some(Attribute::Username(_)) => "username = $1",
        Some(Attribute::ResourceName(_)) => {
            "resources @> jsonb_build_array(jsonb_build_object('name', $1::text))"
        }
        Some(Attribute::ResourceType(_)) => {
            "resources @> jsonb_build_array(jsonb_build_object('type', $1::text))"
        }
        Some(Attribute::AccessKeyId(_)) => "access_key_id = $1",
        Some(Attribute::ReadOnly(_)) => "read_only = ($1::text = 'true')",
        Some(Attribute::EventId(_)) => "event_id = $1::uuid",
        Some(Attribute::EventSource(_)) => "event_source = $1",
    };
    let value: Option<String> = attribute.map(|a| match a {
        Attribute::EventName(s)
        | Attribute::Username(s)
        | Attribute::ResourceName(s)
        | Attribute::ResourceType(s)
        | Attribute::AccessKeyId(s)
        | Attribute::EventSource(s) => s.clone(),
        Attribute::ReadOnly(b) => b.to_string(),
        Attribute::EventId(u) => u.to_string(),
    });
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events
         WHERE ($1::text IS NULL OR {filter})
           AND event_time >= 'epoch'::timestamptz + $2 * interval '1 microsecond'
           AND event_time <= 'epoch'::timestamptz + $3 * interval '1 microsecond'
           AND ($4::int8 IS NULL
                OR (event_time, event_id) <
                   ('epoch'::timestamptz + $4 * interval '1 microsecond', $5::uuid))
         ORDER BY event_time DESC, event_id DESC
         LIMIT $6"
    );
    sqlx::query_as(&sql)
        .bind(value)
        .bind(start_us)
        .bind(end_us)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Deletes the events older than `days` days (CloudTrail's event history keeps 90).
pub async fn prune(db: &PgPool, days: i32) -> sqlx::Result<u64> {
    let r =
        sqlx::query("DELETE FROM audit_events WHERE event_time < now() - $1 * interval '1 day'")
            .bind(days)
            .execute(db)
            .await?;
    Ok(r.rows_affected())
}
