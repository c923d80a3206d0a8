//! The console's log search, `GET /console/api/logs/search` (a signed-in session): the
//! stored lines of one log group or all of them in a time range, narrowed by the fields
//! nodes ship beside each line (status, source IP, request id, API key id, path; a path
//! ending in `*` is a prefix), newest first, paged by `nextToken`. The Logs page reads the
//! group list through the Logs API's DescribeLogGroups.

use axum::extract::{Query, State};
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::console::error::{ConsoleError, ConsoleResult};
use crate::console::identity::SignedIn;
use crate::store::logs::{self as store, Search};
use crate::AppState;

/// Longest range one search covers.
const MAX_RANGE_MS: i64 = 31 * store::DAY_MS;

/// The query string.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    group: Option<String>,
    /// Unix ms, inclusive; default an hour before `end`.
    start: Option<i64>,
    /// Unix ms, exclusive; default now.
    end: Option<i64>,
    status: Option<String>,
    source_ip: Option<String>,
    request_id: Option<String>,
    api_key_id: Option<String>,
    path: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

/// One line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    timestamp: i64,
    log_group_name: String,
    log_stream_name: String,
    kind: &'static str,
    message: String,
    api_id: String,
    stage: String,
    request_id: String,
    status: i32,
    source_ip: String,
    api_key_id: String,
    path: String,
}

/// A page of lines.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    items: Vec<Line>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// GET /console/api/logs/search (authorized as `logs:FilterLogEvents`)
pub async fn search(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<SearchQuery>,
) -> ConsoleResult<Json<Page>> {
    crate::iam::authorize_user(
        &state,
        &who.user,
        crate::iam::actions::FILTER_LOG_EVENTS,
        "*",
    )
    .await?;
    let end = q.end.unwrap_or_else(crate::ingest::logs::now_ms);
    let start = q.start.unwrap_or(end - 3_600_000);
    if start > end {
        return Err(ConsoleError::bad_request(
            "The start of the range is after its end.",
        ));
    }
    if end - start > MAX_RANGE_MS {
        return Err(ConsoleError::bad_request(
            "A search covers at most 31 days: narrow the time range.",
        ));
    }
    let status = match nonempty(q.status) {
        None => None,
        Some(s) => Some(
            s.parse::<i32>()
                .ok()
                .filter(|n| (100..=599).contains(n))
                .ok_or_else(|| {
                    ConsoleError::bad_request(format!("Status '{s}' is not an HTTP status code."))
                })?,
        ),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ConsoleError::bad_request(
            "limit must be between 1 and 200.",
        ));
    }
    let before = match nonempty(q.next_token) {
        None => None,
        Some(t) => Some(decode(&t).ok_or_else(|| {
            ConsoleError::bad_request("The nextToken is not one this search gave.")
        })?),
    };
    let s = Search {
        group: nonempty(q.group),
        start_ms: start,
        end_ms: end,
        status,
        source_ip: nonempty(q.source_ip),
        request_id: nonempty(q.request_id),
        api_key_id: nonempty(q.api_key_id),
        path: nonempty(q.path),
        before,
    };
    let mut rows = store::search(&state.db, &s, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_token = if more {
        rows.last().map(|r| encode(r.ts_ms, r.id))
    } else {
        None
    };
    Ok(Json(Page {
        items: rows
            .into_iter()
            .map(|r| Line {
                timestamp: r.ts_ms,
                log_group_name: r.log_group,
                log_stream_name: r.log_stream,
                kind: if r.kind == 1 { "EXECUTION" } else { "ACCESS" },
                message: r.message,
                api_id: r.api_id,
                stage: r.stage,
                request_id: r.request_id,
                status: r.status,
                source_ip: r.source_ip,
                api_key_id: r.api_key_id,
                path: r.path,
            })
            .collect(),
        next_token,
    }))
}

fn encode(ts: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ts}:{id}"))
}

fn decode(t: &str) -> Option<(i64, i64)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
