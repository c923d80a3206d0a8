//! GetUsage, UpdateUsage, and the billing export.
//!
//! Usage is what the data plane admitted past the usage-plan step, per key and UTC day:
//! Postgres usage records plus the counters still in Redis ([`crate::metering`]), the same
//! figures quota enforcement used. `remaining` is the quota left at the end of each day
//! (for today: the live quota counter, which includes UpdateUsage grants; 0 for plans
//! without a quota).
//!
//! Export (our own endpoint, not in the AWS model):
//! `GET /usageplans/{usageplanId}/usage/export?startDate=YYYY-MM-DD&endDate=YYYY-MM-DD[&keyId=]`
//! answers `text/csv` with the header `keyId,keyName,customerId,usagePlanId,day,requests`
//! and one row per key and day with at least one request.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use time::{Date, Duration};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, PageQuery};
use crate::ids::now_epoch;
use crate::metering::parse_day;
use crate::patch::{Op, PatchRequest};
use crate::store;
use crate::wire::{ApiKey, UsagePlan};
use crate::AppState;
use apigw_quota::{day_of, day_text, effective_limit, Period};

/// The longest range GetUsage and the export accept, in days.
const MAX_DAYS: i64 = 366;

/// Query of GetUsage and the export.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    key_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

fn parse_date(what: &str, v: &Option<String>) -> ApiResult<Date> {
    let v = v
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("{what} is required (YYYY-MM-DD)")))?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(v, &format)
        .map_err(|_| ApiError::bad_request(format!("Invalid {what} '{v}': expected YYYY-MM-DD")))
}

fn date_text(d: Date) -> String {
    day_text(d)
}

fn range(q: &UsageQuery) -> ApiResult<(Date, Date)> {
    let start = parse_date("startDate", &q.start_date)?;
    let end = parse_date("endDate", &q.end_date)?;
    if end < start {
        return Err(ApiError::bad_request(
            "endDate must not be before startDate",
        ));
    }
    if (end - start).whole_days() >= MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "The date range must be at most {MAX_DAYS} days"
        )));
    }
    Ok((start, end))
}

/// Usage of a plan per (key, day), from the metering store (or Postgres alone without Redis).
async fn usage_counts(
    state: &AppState,
    plan_id: &str,
    start: Date,
    end: Date,
) -> ApiResult<BTreeMap<(String, Date), i64>> {
    if let Some(m) = &state.metering {
        return m
            .usage(plan_id, start, end)
            .await
            .map_err(|e| ApiError::Internal(format!("usage: {e}")));
    }
    let mut conn = state.db.acquire().await?;
    let rows = store::usage::records(&mut conn, plan_id, start, end).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, d, n)| Some(((k, parse_day(&d)?), n)))
        .collect())
}

/// The keys of a plan (id → document), plus any key id seen in `counts`.
async fn plan_key_docs(state: &AppState, plan_id: &str) -> ApiResult<BTreeMap<String, ApiKey>> {
    let mut conn = state.db.acquire().await?;
    store::usage_plans::key_docs(&mut conn, plan_id).await
}

/// The plan's quota, its creation time, and per key the usage before `start` inside the
/// period that contains `start` (it counts against that period).
struct QuotaContext<'a> {
    period: Period,
    quota: &'a crate::wire::QuotaSettings,
    created: i64,
    before: BTreeMap<String, i64>,
}

async fn quota_context<'a>(
    state: &AppState,
    plan: &'a UsagePlan,
    start: Date,
) -> ApiResult<Option<QuotaContext<'a>>> {
    let Some((period, quota)) = plan
        .quota
        .as_ref()
        .and_then(|q| Period::parse(&q.period).map(|p| (p, q)))
    else {
        return Ok(None);
    };
    let created = plan_created(state, plan).await?;
    let mut before = BTreeMap::new();
    let period_start = period.start_of(start);
    if period_start < start {
        let earlier =
            usage_counts(state, &plan.id, period_start, start - Duration::days(1)).await?;
        for ((k, _), n) in earlier {
            *before.entry(k).or_default() += n;
        }
    }
    Ok(Some(QuotaContext {
        period,
        quota,
        created,
        before,
    }))
}

/// The `[used, remaining]` series of one key over `[start, end]`.
async fn series(
    state: &AppState,
    plan: &UsagePlan,
    key_id: &str,
    (start, end): (Date, Date),
    counts: &BTreeMap<(String, Date), i64>,
    quota: Option<&QuotaContext<'_>>,
) -> ApiResult<Vec<[i64; 2]>> {
    let today = day_of(now_epoch());
    let mut out = Vec::new();
    let mut day = start;
    let mut used_in_period = quota
        .and_then(|q| q.before.get(key_id).copied())
        .unwrap_or(0);
    while day <= end {
        let used = counts.get(&(key_id.to_string(), day)).copied().unwrap_or(0);
        let remaining = match quota {
            None => 0,
            Some(q) => {
                let period_start = q.period.start_of(day);
                if period_start == day {
                    used_in_period = 0;
                }
                used_in_period += used;
                let limit = effective_limit(
                    q.period,
                    q.quota.limit,
                    q.quota.offset,
                    q.created,
                    period_start,
                );
                // Today's figure is the live counter: it includes UpdateUsage grants.
                let live = match (&state.metering, day == today) {
                    (Some(m), true) => Some(
                        m.quota_used(&plan.id, key_id, period_start)
                            .await
                            .map_err(|e| ApiError::Internal(format!("quota: {e}")))?,
                    ),
                    _ => None,
                };
                (limit - live.unwrap_or(used_in_period)).max(0)
            }
        };
        out.push([used, remaining]);
        day += Duration::days(1);
    }
    Ok(out)
}

/// When a plan was created (its quota `offset` applies to that first period).
async fn plan_created(state: &AppState, plan: &UsagePlan) -> ApiResult<i64> {
    let mut conn = state.db.acquire().await?;
    store::usage_plans::created_epoch(&mut conn, &plan.id).await
}

async fn usage_document(
    state: &AppState,
    plan: &UsagePlan,
    key_filter: Option<&str>,
    start: Date,
    end: Date,
    page: &PageQuery,
) -> ApiResult<crate::wire::Usage> {
    let counts = usage_counts(state, &plan.id, start, end).await?;
    let mut keys: BTreeSet<String> = plan_key_docs(state, &plan.id).await?.into_keys().collect();
    keys.extend(counts.keys().map(|(k, _)| k.clone()));
    if let Some(only) = key_filter {
        keys.retain(|k| k == only);
    }
    let page = page.page(keys.into_iter().collect::<Vec<_>>())?;
    let quota = quota_context(state, plan, start).await?;
    let mut values = BTreeMap::new();
    for key_id in page.item {
        let s = series(state, plan, &key_id, (start, end), &counts, quota.as_ref()).await?;
        values.insert(key_id, s);
    }
    Ok(crate::wire::Usage {
        usage_plan_id: plan.id.clone(),
        start_date: date_text(start),
        end_date: date_text(end),
        values,
        position: page.position,
    })
}

/// GET /usageplans/{usageplanId}/usage
pub async fn get(
    State(state): State<AppState>,
    Path(plan_id): Path<String>,
    AwsQuery(q): AwsQuery<UsageQuery>,
) -> ApiResult<Json<crate::wire::Usage>> {
    let (start, end) = range(&q)?;
    let mut conn = state.db.acquire().await?;
    let plan = store::usage_plans::load(&mut conn, &plan_id, false).await?;
    drop(conn);
    Ok(Json(
        usage_document(&state, &plan, q.key_id.as_deref(), start, end, &q.page).await?,
    ))
}

/// PATCH /usageplans/{usageplanId}/keys/{keyId}/usage: `replace /remaining` sets the quota
/// left in the current period (a grant when above what is left, a cut when below). Answers
/// once the change is in effect on every node ([`apigw_quota::USED_UP_MEMO`] after the write).
pub async fn update(
    State(state): State<AppState>,
    Path((plan_id, key_id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<crate::wire::Usage>> {
    let mut conn = state.db.acquire().await?;
    let plan = store::usage_plans::load(&mut conn, &plan_id, false).await?;
    let bound = store::usage_plans::holds_key(&mut conn, &plan_id, &key_id).await?;
    drop(conn);
    if !bound {
        return Err(ApiError::not_found(format!(
            "API key {key_id} is not in usage plan {plan_id}"
        )));
    }
    let (period, quota) = plan
        .quota
        .as_ref()
        .and_then(|q| Period::parse(&q.period).map(|p| (p, q)))
        .ok_or_else(|| ApiError::bad_request("The usage plan has no quota to extend"))?;
    let metering = state.metering.as_ref().ok_or_else(|| {
        ApiError::bad_request("Quota changes need Redis: start the control plane with --redis-url")
    })?;
    let today = day_of(now_epoch());
    let start = period.start_of(today);
    let limit = effective_limit(
        period,
        quota.limit,
        quota.offset,
        plan_created(&state, &plan).await?,
        start,
    );
    for op in &req.patch_operations {
        let segs = op.segments()?;
        let names: Vec<&str> = segs.iter().map(String::as_str).collect();
        let target_ok = matches!(names.as_slice(), ["remaining"])
            || matches!(names.as_slice(), ["keys", k, "remaining"] if *k == key_id);
        if !target_ok || op.op != Op::Replace {
            return Err(op.unsupported());
        }
        let remaining = op
            .value()?
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid remaining quota '{}': must be a non-negative integer",
                    op.value().unwrap_or_default()
                ))
            })?;
        metering
            .set_quota_used(
                &plan_id,
                &key_id,
                start,
                period.end_of(today),
                limit - remaining,
            )
            .await
            .map_err(|e| ApiError::Internal(format!("quota: {e}")))?;
    }
    if !req.patch_operations.is_empty() {
        // A node that Redis told the quota was used up refuses the key on its own for at
        // most USED_UP_MEMO, timed from before it read the counter: once that has passed
        // since the write, the new figure is in effect on every node.
        tokio::time::sleep(apigw_quota::USED_UP_MEMO + std::time::Duration::from_millis(10)).await;
    }
    Ok(Json(
        usage_document(
            &state,
            &plan,
            Some(&key_id),
            today,
            today,
            &PageQuery::default(),
        )
        .await?,
    ))
}

/// GET /usageplans/{usageplanId}/usage/export: billing CSV (see the module docs).
pub async fn export(
    State(state): State<AppState>,
    Path(plan_id): Path<String>,
    AwsQuery(q): AwsQuery<UsageQuery>,
) -> ApiResult<Response> {
    let (start, end) = range(&q)?;
    let mut conn = state.db.acquire().await?;
    let plan = store::usage_plans::load(&mut conn, &plan_id, false).await?;
    drop(conn);
    let counts = usage_counts(&state, &plan.id, start, end).await?;
    let ids: Vec<String> = counts.keys().map(|(k, _)| k.clone()).collect();
    let mut conn = state.db.acquire().await?;
    let docs: BTreeMap<String, ApiKey> = store::api_keys::docs(&mut conn, &ids).await?;
    drop(conn);
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    w.write_record([
        "keyId",
        "keyName",
        "customerId",
        "usagePlanId",
        "day",
        "requests",
    ])
    .map_err(csv_err)?;
    for ((key_id, day), n) in &counts {
        if *n == 0 || q.key_id.as_ref().is_some_and(|k| k != key_id) {
            continue;
        }
        let doc = docs.get(key_id);
        w.write_record([
            key_id.as_str(),
            doc.map(|d| d.name.as_str()).unwrap_or_default(),
            doc.and_then(|d| d.customer_id.as_deref())
                .unwrap_or_default(),
            plan.id.as_str(),
            &date_text(*day),
            &n.to_string(),
        ])
        .map_err(csv_err)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    let name = format!(
        "attachment; filename=\"usage-{}-{}-{}.csv\"",
        plan.id,
        date_text(start),
        date_text(end)
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv".to_string()),
            (CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
