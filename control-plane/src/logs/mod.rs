//! The CloudWatch Logs API subset over the log store, on `POST /` (JSON 1.1,
//! `X-Amz-Target: Logs_20140328.<Op>`, SigV4 service `logs`, or a console session), in the
//! shapes of `logs.service-2.json`:
//!
//! - `DescribeLogGroups`: `logGroupNamePrefix`, `limit` 1–50 (default 50), `nextToken`;
//!   name order.
//! - `DescribeLogStreams`: `logGroupName` / `logGroupIdentifier`, `logStreamNamePrefix`,
//!   `orderBy` `LogStreamName` (default) or `LastEventTime` (not with a prefix, as AWS
//!   says), `descending`, `limit`, `nextToken`.
//! - `GetLogEvents`: one stream, `startTime` / `endTime` (ms; end exclusive), `limit` 1–10 000
//!   (default 10 000), `startFromHead` (default false: the newest `limit` events of the
//!   range), and AWS's two tokens: `nextForwardToken` (`f/...`, the events after this
//!   page) and `nextBackwardToken` (`b/...`, those before it). At either end the token
//!   given comes back unchanged, which is how AWS's callers know they are done.
//! - `FilterLogEvents`: `logGroupName` / `logGroupIdentifier` (a name or its ARN),
//!   `logStreamNames` or `logStreamNamePrefix`, `startTime` / `endTime`, `filterPattern`
//!   ([`pattern`]), `limit` (default 10 000), `nextToken`; events of every chosen stream
//!   interleaved in time order. A call scans at most [`SCAN_ROWS`] stored lines (and
//!   answers at most 1 MB of messages); when it stops early it answers a `nextToken`, even
//!   with few or no events, as CloudWatch does on a long search.
//!
//! Errors are the model's (`InvalidParameterException`, `ResourceNotFoundException`,
//! `ServiceUnavailableException`), status 400 (500 for ours), in the JSON protocol's
//! `{"__type", "message"}` shape ([`crate::aws_json`]). Other operations are
//! `UnknownOperationException`. Timestamps are Unix milliseconds, as in the model.

pub mod console;
pub mod pattern;
pub mod retention;

use axum::extract::Request;
use axum::response::Response;
use base64::Engine as _;
use http::StatusCode;
use serde_json::{json, Value};

use crate::aws_json::{AwsJsonError, JSON_1_1};
use crate::ingest::logs::{valid_group_name, valid_stream_name};
use crate::store::logs::{self as store, EventRange, StreamOrder, StreamSet};
use crate::AppState;
use pattern::Pattern;

/// The JSON protocol's target prefix of CloudWatch Logs.
pub const TARGET_PREFIX: &str = "Logs_20140328.";

/// Most stored lines one FilterLogEvents call reads before answering a `nextToken`.
pub const SCAN_ROWS: usize = 20_000;
/// Most message bytes one answer carries (CloudWatch's 1 MB).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Rows read from the store per round of a scan.
const SCAN_BATCH: i64 = 2_000;
const MAX_BODY: usize = 1024 * 1024;

/// A refused CloudWatch Logs call.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// A member's value is not acceptable.
    #[error("{0}")]
    InvalidParameter(String),
    /// The log group or stream does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// The body is not a JSON object.
    #[error("{0}")]
    Serialization(String),
    /// Another CloudWatch Logs operation.
    #[error("{0}")]
    UnknownOperation(String),
    /// Authentication failed.
    #[error("{0}")]
    Auth(String, AwsJsonError),
    /// Our failure (logged, not shown).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for LogsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

impl From<crate::error::ApiError> for LogsError {
    fn from(e: crate::error::ApiError) -> Self {
        match crate::aws_json::auth_failure(e) {
            Ok(f) => Self::Auth(f.message.clone(), f),
            Err(detail) => Self::Internal(detail),
        }
    }
}

impl LogsError {
    /// The model's shape name (`__type`).
    pub fn json_type(&self) -> &'static str {
        match self {
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Auth(_, f) => f.code,
            Self::Internal(_) => "ServiceUnavailableException",
        }
    }

    fn answer(&self) -> AwsJsonError {
        match self {
            Self::Auth(_, f) => f.clone(),
            Self::Internal(detail) => {
                tracing::error!(%detail, "CloudWatch Logs API internal error");
                AwsJsonError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: self.json_type(),
                    message: "The service cannot complete the request.".into(),
                }
            }
            other => AwsJsonError {
                status: StatusCode::BAD_REQUEST,
                code: other.json_type(),
                message: other.to_string(),
            },
        }
    }

    fn no_group() -> Self {
        Self::ResourceNotFound("The specified log group does not exist.".into())
    }
}

fn invalid(msg: impl Into<String>) -> LogsError {
    LogsError::InvalidParameter(msg.into())
}

/// Serves one CloudWatch Logs call.
pub async fn handle(state: &AppState, req: Request) -> Response {
    match call(state, req).await {
        Ok(v) => crate::aws_json::ok_1_1(&v),
        Err(e) => {
            if !matches!(e, LogsError::Internal(_)) {
                tracing::info!(code = e.json_type(), message = %e, "CloudWatch Logs call refused");
            }
            e.answer().response(JSON_1_1)
        }
    }
}

async fn call(state: &AppState, req: Request) -> Result<Value, LogsError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        LogsError::Serialization("The request body is too large or unreadable.".into())
    })?;
    let caller = crate::auth::service_caller(state, &parts, &bytes, "logs").await?;
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    crate::iam::authorize(state, &caller, &format!("logs:{op}"), "*").await?;
    let input: Value = if bytes.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| LogsError::Serialization(format!("The body is not JSON: {e}")))?
    };
    if !input.is_object() {
        return Err(LogsError::Serialization(
            "The body is not a JSON object.".into(),
        ));
    }
    let input = Input(&input);
    match op {
        "DescribeLogGroups" => describe_log_groups(state, input).await,
        "DescribeLogStreams" => describe_log_streams(state, input).await,
        "GetLogEvents" => get_log_events(state, input).await,
        "FilterLogEvents" => filter_log_events(state, input).await,
        other => Err(LogsError::UnknownOperation(format!(
            "The operation {other} is not supported by this gateway's CloudWatch Logs API (DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents)."
        ))),
    }
}

/// Typed reads of the input's members; a wrong type names the member.
#[derive(Clone, Copy)]
struct Input<'a>(&'a Value);

impl Input<'_> {
    fn get(&self, m: &str) -> Option<&Value> {
        self.0.get(m).filter(|v| !v.is_null())
    }

    fn str(&self, m: &str) -> Result<Option<&str>, LogsError> {
        match self.get(m) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| invalid(format!("{m} must be a string."))),
        }
    }

    fn int(&self, m: &str) -> Result<Option<i64>, LogsError> {
        match self.get(m) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(Some)
                .ok_or_else(|| invalid(format!("{m} must be an integer."))),
        }
    }

    fn bool(&self, m: &str) -> Result<Option<bool>, LogsError> {
        match self.get(m) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| invalid(format!("{m} must be true or false."))),
        }
    }

    fn strings(&self, m: &str) -> Result<Option<Vec<String>>, LogsError> {
        match self.get(m) {
            None => Ok(None),
            Some(v) => {
                let list = v
                    .as_array()
                    .ok_or_else(|| invalid(format!("{m} must be a list of strings.")))?;
                list.iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| invalid(format!("{m} must be a list of strings.")))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
        }
    }

    /// A `limit` member within `lo..=hi`, else `default`.
    fn limit(&self, m: &str, hi: i64, default: i64) -> Result<i64, LogsError> {
        match self.int(m)? {
            None => Ok(default),
            Some(n) if (1..=hi).contains(&n) => Ok(n),
            Some(n) => Err(invalid(format!(
                "1 validation error detected: Value '{n}' at '{m}' failed to satisfy constraint: Member must have value between 1 and {hi}"
            ))),
        }
    }

    /// A timestamp (ms, ≥ 0).
    fn time(&self, m: &str) -> Result<Option<i64>, LogsError> {
        match self.int(m)? {
            Some(n) if n < 0 => Err(invalid(format!(
                "1 validation error detected: Value '{n}' at '{m}' failed to satisfy constraint: Member must have value greater than or equal to 0"
            ))),
            other => Ok(other),
        }
    }
}

fn pattern_error(member: &str, value: &str, pattern: &str) -> LogsError {
    invalid(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    ))
}

/// The log group a call names: `logGroupName`, or `logGroupIdentifier` (a name or the
/// group's ARN), not both.
fn group_name(state: &AppState, input: Input<'_>) -> Result<String, LogsError> {
    let name = input.str("logGroupName")?;
    let ident = input.str("logGroupIdentifier")?;
    let name = match (name, ident) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            ))
        }
        (None, None) => {
            return Err(invalid(
                "Either logGroupName or logGroupIdentifier must be specified.",
            ))
        }
        (Some(n), None) => n.to_string(),
        (None, Some(id)) => group_from_identifier(&state.region, id)?,
    };
    if !valid_group_name(&name) {
        return Err(pattern_error(
            "logGroupName",
            &name,
            "[\\.\\-_/#A-Za-z0-9]+",
        ));
    }
    Ok(name)
}

/// A `logGroupIdentifier`: a name, or `arn:aws:logs:{region}:{account}:log-group:{name}[:*]`.
/// The region and account are not checked: a stage's `destinationArn` may name any
/// account, and there is one store.
pub fn group_from_identifier(region: &str, id: &str) -> Result<String, LogsError> {
    let Some(rest) = id.strip_prefix("arn:") else {
        return Ok(id.to_string());
    };
    let parts: Vec<&str> = rest.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, "logs", _, _, "log-group", name] => {
            Ok(name.strip_suffix(":*").unwrap_or(name).to_string())
        }
        _ => Err(invalid(format!(
            "{id} is not a log group ARN (arn:aws:logs:{region}:{}:log-group:NAME).",
            crate::store::account_id()
        ))),
    }
}

/// A log group's ARN (`logGroupArn`; `arn` ends with `:*`, as CloudWatch answers it).
pub fn group_arn(region: &str, name: &str) -> String {
    format!(
        "arn:aws:logs:{region}:{}:log-group:{name}",
        crate::store::account_id()
    )
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn unb64(s: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    String::from_utf8(raw).ok()
}

fn bad_token() -> LogsError {
    invalid("The specified nextToken is invalid.")
}

async fn describe_log_groups(state: &AppState, input: Input<'_>) -> Result<Value, LogsError> {
    let prefix = input.str("logGroupNamePrefix")?;
    if let Some(p) = prefix {
        if !valid_group_name(p) {
            return Err(pattern_error(
                "logGroupNamePrefix",
                p,
                "[\\.\\-_/#A-Za-z0-9]+",
            ));
        }
    }
    if input.get("logGroupNamePattern").is_some() && prefix.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let limit = input.limit("limit", 50, 50)?;
    let after = match input.str("nextToken")? {
        None => None,
        Some(t) => Some(
            unb64(t)
                .and_then(|s| s.strip_prefix("g:").map(str::to_string))
                .ok_or_else(bad_token)?,
        ),
    };
    let mut rows = store::groups(&state.db, prefix, after.as_deref(), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let retention = state.log_retention_days;
    let groups: Vec<Value> = rows
        .iter()
        .map(|g| {
            let arn = group_arn(&state.region, &g.name);
            json!({
                "logGroupName": g.name,
                "creationTime": g.created_ms,
                "retentionInDays": retention,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": g.stored_bytes,
                "logGroupClass": "STANDARD",
            })
        })
        .collect();
    let mut out = json!({ "logGroups": groups });
    if more {
        if let Some(last) = rows.last() {
            out["nextToken"] = Value::String(b64(&format!("g:{}", last.name)));
        }
    }
    Ok(out)
}

async fn describe_log_streams(state: &AppState, input: Input<'_>) -> Result<Value, LogsError> {
    let group = group_name(state, input)?;
    let prefix = input.str("logStreamNamePrefix")?;
    let by_time = match input.str("orderBy")? {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )))
        }
    };
    if by_time && prefix.is_some() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let descending = input.bool("descending")?.unwrap_or(false);
    let limit = input.limit("limit", 50, 50)?;
    let token = match input.str("nextToken")? {
        None => None,
        Some(t) => Some(unb64(t).ok_or_else(bad_token)?),
    };
    let order = if by_time {
        StreamOrder::LastEvent(match token {
            None => None,
            Some(t) => {
                let rest = t.strip_prefix("t:").ok_or_else(bad_token)?;
                let (ms, name) = rest.split_once(':').ok_or_else(bad_token)?;
                Some((ms.parse().map_err(|_| bad_token())?, name.to_string()))
            }
        })
    } else {
        StreamOrder::Name(match token {
            None => None,
            Some(t) => Some(t.strip_prefix("n:").ok_or_else(bad_token)?.to_string()),
        })
    };
    if !store::group_exists(&state.db, &group).await? {
        return Err(LogsError::no_group());
    }
    let mut rows = store::streams(&state.db, &group, prefix, &order, descending, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let arn = group_arn(&state.region, &group);
    let streams: Vec<Value> = rows
        .iter()
        .map(|s| {
            json!({
                "logStreamName": s.name,
                "creationTime": s.created_ms,
                "firstEventTimestamp": s.first_event_ms,
                "lastEventTimestamp": s.last_event_ms,
                "lastIngestionTime": s.last_ingestion_ms,
                "arn": format!("{arn}:log-stream:{}", s.name),
                "storedBytes": s.stored_bytes,
            })
        })
        .collect();
    let mut out = json!({ "logStreams": streams });
    if more {
        if let Some(last) = rows.last() {
            let t = if by_time {
                format!("t:{}:{}", last.last_event_ms, last.name)
            } else {
                format!("n:{}", last.name)
            };
            out["nextToken"] = Value::String(b64(&t));
        }
    }
    Ok(out)
}

/// GetLogEvents' token: `f/{ts}/{id}` (the events after that position) or `b/{ts}/{id}`
/// (those before it).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    After(i64, i64),
    Before(i64, i64),
}

impl Cursor {
    fn parse(s: &str) -> Option<Cursor> {
        let (dir, rest) = s.split_once('/')?;
        let (ts, id) = rest.split_once('/')?;
        let (ts, id) = (ts.parse().ok()?, id.parse().ok()?);
        match dir {
            "f" => Some(Cursor::After(ts, id)),
            "b" => Some(Cursor::Before(ts, id)),
            _ => None,
        }
    }

    fn render(self) -> String {
        match self {
            Cursor::After(t, i) => format!("f/{t}/{i}"),
            Cursor::Before(t, i) => format!("b/{t}/{i}"),
        }
    }
}

async fn get_log_events(state: &AppState, input: Input<'_>) -> Result<Value, LogsError> {
    let group = group_name(state, input)?;
    let stream = input
        .str("logStreamName")?
        .ok_or_else(|| invalid("logStreamName is required."))?
        .to_string();
    if !valid_stream_name(&stream) {
        return Err(pattern_error("logStreamName", &stream, "[^:*]*"));
    }
    let start = input.time("startTime")?;
    let end = input.time("endTime")?;
    let limit = input.limit("limit", 10_000, 10_000)?;
    let from_head = input.bool("startFromHead")?.unwrap_or(false);
    let cursor = match input.str("nextToken")? {
        None => None,
        Some(t) => Some(Cursor::parse(t).ok_or_else(bad_token)?),
    };
    if !store::group_exists(&state.db, &group).await? {
        return Err(LogsError::no_group());
    }
    if !store::stream_exists(&state.db, &group, &stream).await? {
        return Err(LogsError::ResourceNotFound(
            "The specified log stream does not exist.".into(),
        ));
    }
    let mut range = EventRange {
        group,
        streams: StreamSet::Named(vec![stream]),
        start_ms: start,
        end_ms: end,
        ..EventRange::default()
    };
    // Forward reads go oldest first from a position; backward reads newest first, then
    // the page is put back in time order.
    let forward = match cursor {
        Some(Cursor::After(t, i)) => {
            range.after = Some((t, i));
            true
        }
        Some(Cursor::Before(t, i)) => {
            range.before = Some((t, i));
            false
        }
        None => from_head,
    };
    range.descending = !forward;
    let mut rows = store::events(&state.db, &range, limit).await?;
    if !forward {
        rows.reverse();
    }
    // Keep the answer within 1 MB, from the end the read started at.
    let mut bytes = 0;
    let mut keep = rows.len();
    for (n, r) in rows.iter().enumerate() {
        bytes += r.message.len() + 26;
        if bytes > MAX_ANSWER_BYTES {
            keep = n;
            break;
        }
    }
    if keep < rows.len() {
        if forward {
            rows.truncate(keep.max(1));
        } else {
            let cut = rows.len() - keep.max(1);
            rows.drain(..cut);
        }
    }
    let (fwd, back) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (
            Cursor::After(last.ts_ms, last.id),
            Cursor::Before(first.ts_ms, first.id),
        ),
        // Nothing: the token given comes back for the direction read; the other one
        // turns around at the same place.
        _ => match cursor {
            Some(Cursor::After(t, i)) => (Cursor::After(t, i), Cursor::Before(t, i + 1)),
            Some(Cursor::Before(t, i)) => (Cursor::After(t, i - 1), Cursor::Before(t, i)),
            None => {
                let t = start.unwrap_or(0);
                (Cursor::After(t, 0), Cursor::Before(t, 0))
            }
        },
    };
    let events: Vec<Value> = rows
        .iter()
        .map(|r| json!({"timestamp": r.ts_ms, "message": r.message, "ingestionTime": r.ingestion_ms}))
        .collect();
    Ok(json!({
        "events": events,
        "nextForwardToken": fwd.render(),
        "nextBackwardToken": back.render(),
    }))
}

async fn filter_log_events(state: &AppState, input: Input<'_>) -> Result<Value, LogsError> {
    let group = group_name(state, input)?;
    let names = input.strings("logStreamNames")?;
    let prefix = input.str("logStreamNamePrefix")?;
    let streams = match (names, prefix) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
            ))
        }
        (Some(n), None) => {
            if n.is_empty() || n.len() > 100 {
                return Err(invalid(
                    "logStreamNames must name between 1 and 100 log streams.",
                ));
            }
            if let Some(bad) = n.iter().find(|s| !valid_stream_name(s)) {
                return Err(pattern_error("logStreamNames", bad, "[^:*]*"));
            }
            StreamSet::Named(n)
        }
        (None, Some(p)) => StreamSet::Prefix(p.to_string()),
        (None, None) => StreamSet::All,
    };
    let start = input.time("startTime")?;
    let end = input.time("endTime")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(invalid("startTime must be less than or equal to endTime."));
        }
    }
    let pattern = Pattern::parse(input.str("filterPattern")?.unwrap_or(""))
        .map_err(|why| invalid(format!("Invalid filter pattern: {why}.")))?;
    let limit = usize::try_from(input.limit("limit", 10_000, 10_000)?).unwrap_or(10_000);
    let after = match input.str("nextToken")? {
        None => None,
        Some(t) => {
            let s = unb64(t).ok_or_else(bad_token)?;
            let (ts, id) = s
                .strip_prefix("e:")
                .and_then(|r| r.split_once(':'))
                .ok_or_else(bad_token)?;
            Some((
                ts.parse::<i64>().map_err(|_| bad_token())?,
                id.parse::<i64>().map_err(|_| bad_token())?,
            ))
        }
    };
    if !store::group_exists(&state.db, &group).await? {
        return Err(LogsError::no_group());
    }
    let mut range = EventRange {
        group,
        streams,
        start_ms: start,
        // endTime is inclusive for FilterLogEvents ("not later than").
        end_ms: end.map(|e| e.saturating_add(1)),
        after,
        ..EventRange::default()
    };
    let mut events = Vec::new();
    let (mut scanned, mut bytes) = (0usize, 0usize);
    let mut last: Option<(i64, i64)> = None;
    let mut exhausted = false;
    'scan: while scanned < SCAN_ROWS {
        let want = SCAN_BATCH.min(i64::try_from(SCAN_ROWS - scanned).unwrap_or(SCAN_BATCH));
        let rows = store::events(&state.db, &range, want).await?;
        let got = rows.len();
        for r in rows {
            scanned += 1;
            last = Some((r.ts_ms, r.id));
            if pattern.matches(&r.message) {
                bytes += r.message.len() + 64;
                events.push(json!({
                    "logStreamName": r.log_stream,
                    "timestamp": r.ts_ms,
                    "message": r.message,
                    "ingestionTime": r.ingestion_ms,
                    "eventId": r.id.to_string(),
                }));
                if events.len() >= limit || bytes >= MAX_ANSWER_BYTES {
                    break 'scan;
                }
            }
        }
        if (got as i64) < want {
            exhausted = true;
            break;
        }
        range.after = last;
    }
    let mut out = json!({ "events": events, "searchedLogStreams": [] });
    if !exhausted {
        if let Some((t, i)) = last {
            out["nextToken"] = Value::String(b64(&format!("e:{t}:{i}")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_name_groups() {
        assert_eq!(group_from_identifier("us-east-1", "g/a").unwrap(), "g/a");
        let arn = group_arn("us-east-1", "g/a");
        assert_eq!(group_from_identifier("us-east-1", &arn).unwrap(), "g/a");
        assert_eq!(
            group_from_identifier("us-east-1", &format!("{arn}:*")).unwrap(),
            "g/a"
        );
        assert_eq!(
            group_from_identifier(
                "us-east-1",
                "arn:aws:logs:eu-west-1:123456789012:log-group:x"
            )
            .unwrap(),
            "x"
        );
        assert!(group_from_identifier("us-east-1", "arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn cursors_round_trip() {
        for c in [Cursor::After(5, 7), Cursor::Before(0, 1)] {
            assert_eq!(Cursor::parse(&c.render()), Some(c));
        }
        assert_eq!(Cursor::parse("x/1/2"), None);
        assert_eq!(Cursor::parse("f/1"), None);
    }
}
