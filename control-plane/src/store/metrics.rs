//! The cluster's request metrics (migration 0009): the per-minute series the data-plane
//! nodes ship (`metric_minutes`), their hourly roll-up (`metric_hours`), which shipments were
//! applied (`metric_shipments`) and how far the roll-up got (`metric_rollup`).
//!
//! Times are Unix seconds (`i64`) throughout; the tables hold `TIMESTAMPTZ`.
//!
//! # Series and dimensions
//!
//! A node counts each request exactly once: in the row of its API and stage, with `resource`
//! and `method` empty, or, when the stage's method settings turn detailed metrics on for its
//! method, in the row of that resource and method. So:
//! - a query with `resource` and `method` both `None` (CloudWatch's `{ApiName}` and
//!   `{ApiName, Stage}` dimension sets) adds up **every** row of the matching API(s) and
//!   stage(s), detailed or not: an API's `Count` is all its requests;
//! - a query with both `Some` (`{ApiName, Stage, Resource, Method}`) reads that method's rows
//!   only; one without the other, or a method without a stage, is no metric of
//!   `AWS/ApiGateway` and answers no data;
//! - `api_name` / `api_id` / `stage` `None` mean "every API" / "every stage".
//! - WebSocket APIs' rows (`method` = `WEBSOCKET`, see `metrics.proto`) are read only by a
//!   query with `websocket: true` (then `resource` is the route, `None` for the whole stage)
//!   and never by the others, so a REST API's sums never include them. HTTP APIs' rows
//!   (`method` = `HTTPAPI`) likewise, with `http_api: true`.
//!
//! # Reading ([`series`], [`list_series`])
//!
//! [`series`] answers one [`Bucket`] per period that has data, in time order. A row counts
//! in the bucket `floor(t / period) * period` of its minute (or hour) `t`, for `t` in
//! `[start, end)`. Ranges starting within the last 15 days with a period that is a multiple
//! of 60 read the minutes (exact to the minute), unless period, start and end are all whole
//! hours. Those, and ranges starting earlier (whose period must be a multiple of 3600), read
//! the hours: `metric_hours` before the roll-up's watermark, the minutes not rolled up yet
//! after it, so the newest hour is never missing; the sums are the same as the minutes'.
//! [`list_series`] lists the distinct series that have minutes since a time (ListMetrics).
//!
//! # Writing ([`apply_shipment`])
//!
//! One transaction per shipment, exactly once per `(node_instance, seq)`: the instance's
//! `metric_shipments` row is locked; a `seq` at or below `applied_seq` is a retry and changes
//! nothing; otherwise every series is added to its minute (counts summed, sketches merged
//! read-modify-write under the row lock, `api_name` set to the shipment's) and `applied_seq`
//! becomes `seq`. Rows are upserted in one statement in key order (so concurrent shipments
//! from many nodes wait for one another but never deadlock), then their merged sketches are
//! written in a second one.
//!
//! # Roll-up and retention ([`roll_up`], [`prune`])
//!
//! `metric_rollup.rolled_up_to` is the watermark: every hour before it is in `metric_hours`.
//! [`roll_up`] (under an advisory lock, so one replica at a time) rolls the complete hours
//! from the watermark on (an hour is complete 5 minutes after its end) in one batch: reads
//! their minutes, merges them per series and hour, replaces those `metric_hours` rows and
//! moves the watermark. A late shipment for a minute before the watermark is merged into
//! its hour too, in the shipment's transaction: shipments read the watermark `FOR SHARE`
//! and the roll-up holds it `FOR UPDATE`, so each minute reaches its hour exactly once,
//! whichever commits first. [`prune`] deletes minutes older than 15 days (once rolled up),
//! hours older than 15 months and shipment records of node processes silent for 2 days
//! (their shipments would be refused as too old anyway).

use std::collections::BTreeMap;

use apigw_proto::metrics as pb;
use apigw_sketch::Sketch;
use prost::Message;
use sqlx::{PgConnection, PgPool, Row};

/// Minutes are kept this long (CloudWatch keeps one-minute data for 15 days).
pub const MINUTE_RETENTION_SECS: i64 = 15 * 86_400;
/// Hours are kept this long (CloudWatch: 15 months), as a Postgres interval.
pub const HOUR_RETENTION: &str = "15 months";
/// An hour is rolled up once it ended this long ago (late shipments still reach it).
pub const ROLLUP_DELAY_SECS: i64 = 300;
/// Shipment records of node processes silent this long are deleted.
pub const SHIPMENT_RETENTION: &str = "2 days";
/// At most this many hours are rolled up in one transaction.
const ROLLUP_MAX_HOURS: i64 = 6;
/// Rows deleted per statement when pruning.
const PRUNE_BATCH: i64 = 10_000;
/// 9999-12-31T23:59:59Z: reads clamp their range to `[0, LAST_SECOND]`.
const LAST_SECOND: i64 = 253_402_300_799;
/// Advisory-lock key of the roll-up and pruning (one replica at a time).
const ROLLUP_LOCK_KEY: i64 = 0x6170_6967_6d72_6f6c; // "apigmrol"

/// Why a metrics read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Postgres failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored sketch does not decode (never written by this code).
    #[error("stored sketch is unreadable: {0}")]
    Corrupt(String),
    /// The query asks for something the stored data cannot answer (a period that is not a
    /// multiple of 60, or of 3600 for data older than 15 days); the message says which.
    #[error("{0}")]
    BadQuery(String),
}

/// One series over a time range, for GetMetricStatistics / GetMetricData and the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesQuery {
    /// The `ApiName` dimension; `None`: every API.
    pub api_name: Option<String>,
    /// The API's id (the console knows it); `None`: any.
    pub api_id: Option<String>,
    /// The `Stage` dimension; `None`: every stage.
    pub stage: Option<String>,
    /// The `Resource` dimension (resource path); `None`: the whole stage (see the module doc).
    pub resource: Option<String>,
    /// The `Method` dimension (HTTP method); `None`: the whole stage.
    pub method: Option<String>,
    /// A WebSocket API's series (rows whose `method` is [`pb::WEBSOCKET_METHOD`]): then
    /// `resource` is the `Route` dimension (`None`: the whole stage) and `method` is
    /// ignored; otherwise those rows are left out.
    pub websocket: bool,
    /// An HTTP API's series (rows whose `method` is [`pb::HTTP_API_METHOD`]), the same way:
    /// `resource` is the `Route` dimension (the route key). With neither flag only REST
    /// rows are read; with both, the rows of either kind (an API id is of one kind only).
    pub http_api: bool,
    /// Inclusive start, Unix seconds.
    pub start: i64,
    /// Exclusive end, Unix seconds.
    pub end: i64,
    /// Bucket length in seconds: a multiple of 60 (of 3600 beyond 15 days).
    pub period_seconds: i64,
}

/// What a series holds in one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucket {
    /// Start of the period, Unix seconds (a multiple of the period).
    pub start: i64,
    /// Requests.
    pub count: u64,
    /// Requests answered 4XX.
    pub error_4xx: u64,
    /// Requests answered 5XX.
    pub error_5xx: u64,
    /// Cache hits.
    pub cache_hit: u64,
    /// Cache misses.
    pub cache_miss: u64,
    /// Latency (ms) of the requests.
    pub latency: Sketch,
    /// IntegrationLatency (ms) of the requests that reached an integration.
    pub integration_latency: Sketch,
    /// Request and response body bytes (HTTP APIs' DataProcessed; 0 for other kinds).
    pub data_processed: u64,
}

/// Which series to list (ListMetrics); `None` matches any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesFilter {
    /// `ApiName`.
    pub api_name: Option<String>,
    /// `Stage`.
    pub stage: Option<String>,
    /// `Resource`.
    pub resource: Option<String>,
    /// `Method`.
    pub method: Option<String>,
    /// Only series with minutes at or after this (Unix seconds).
    pub since: i64,
}

/// One stored series: resource and method are `""` for a stage's non-detailed row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// `ApiName`.
    pub api_name: String,
    /// The API's id.
    pub api_id: String,
    /// `Stage`.
    pub stage: String,
    /// `Resource`, `""` when not detailed.
    pub resource: String,
    /// `Method`, `""` when not detailed.
    pub method: String,
}

/// One series' delta for one minute, as a shipment carries it (validated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MinuteDelta {
    /// Start of the minute, Unix seconds, a multiple of 60.
    pub minute: i64,
    /// API id.
    pub api_id: String,
    /// API name.
    pub api_name: String,
    /// Stage name.
    pub stage: String,
    /// Resource path, `""` unless detailed.
    pub resource: String,
    /// HTTP method, `""` unless detailed.
    pub method: String,
    /// Requests.
    pub count: i64,
    /// 4XX answers.
    pub error_4xx: i64,
    /// 5XX answers.
    pub error_5xx: i64,
    /// Cache hits.
    pub cache_hit: i64,
    /// Cache misses.
    pub cache_miss: i64,
    /// Latency sketch.
    pub latency: Sketch,
    /// IntegrationLatency sketch.
    pub integration_latency: Sketch,
    /// Body bytes (HTTP APIs' DataProcessed).
    pub data_processed: i64,
}

impl MinuteDelta {
    /// Adds `other` (same series and minute) into `self`.
    fn absorb(&mut self, other: &MinuteDelta) {
        self.count = self.count.saturating_add(other.count);
        self.error_4xx = self.error_4xx.saturating_add(other.error_4xx);
        self.error_5xx = self.error_5xx.saturating_add(other.error_5xx);
        self.cache_hit = self.cache_hit.saturating_add(other.cache_hit);
        self.cache_miss = self.cache_miss.saturating_add(other.cache_miss);
        self.data_processed = self.data_processed.saturating_add(other.data_processed);
        self.latency.merge(&other.latency);
        self.integration_latency.merge(&other.integration_latency);
        self.api_name.clone_from(&other.api_name);
    }
}

/// What [`apply_shipment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipOutcome {
    /// Merged; `previous_seq` was the instance's applied seq before (0 for a new instance).
    Applied {
        /// The seq now applied.
        applied_seq: u64,
        /// The seq applied before this one.
        previous_seq: u64,
    },
    /// A retry of a shipment already applied: nothing changed.
    AlreadyApplied {
        /// The instance's highest applied seq.
        applied_seq: u64,
    },
}

/// The stored form of a sketch: encoded `apigw.metrics.v1.Sketch`.
pub fn encode_sketch(s: &Sketch) -> Vec<u8> {
    s.to_proto().encode_to_vec()
}

/// Reads a stored sketch (empty bytes: an empty sketch).
pub fn decode_sketch(bytes: &[u8]) -> Result<Sketch, StoreError> {
    let p = pb::Sketch::decode(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Sketch::from_proto(&p).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn nonneg(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Makes sure the watermark row exists: at its first creation nothing has been stored, so
/// every hour before the current one counts as rolled up.
pub async fn ensure_rollup_row(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO metric_rollup (rolled_up_to) VALUES (date_trunc('hour', now()))
         ON CONFLICT (id) DO NOTHING",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The roll-up watermark (Unix seconds), `None` before the row exists.
pub async fn rolled_up_to(conn: &mut PgConnection) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT extract(epoch FROM rolled_up_to)::bigint FROM metric_rollup")
        .fetch_optional(conn)
        .await
}

/// The buckets of one series (see the module doc), in time order, only those with data.
pub async fn series(db: &PgPool, q: &SeriesQuery) -> Result<Vec<Bucket>, StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    series_at(db, q, now).await
}

/// [`series`] as of `now` (Unix seconds), which decides between minutes and hours.
pub async fn series_at(db: &PgPool, q: &SeriesQuery, now: i64) -> Result<Vec<Bucket>, StoreError> {
    let period = q.period_seconds;
    if period <= 0 || period % 60 != 0 {
        return Err(StoreError::BadQuery(format!(
            "The period {period} must be a positive multiple of 60 seconds."
        )));
    }
    // No data lies outside 1970..=9999 (and Postgres timestamps end soon after).
    let mut q = q.clone();
    q.start = q.start.clamp(0, LAST_SECOND);
    q.end = q.end.clamp(0, LAST_SECOND);
    let v2 = q.websocket || q.http_api;
    if v2 {
        q.method = None;
    }
    if (!v2 && q.resource.is_some() != q.method.is_some())
        || (q.resource.is_some() && q.stage.is_none())
        || q.end <= q.start
    {
        return Ok(Vec::new());
    }
    let hourly = period % 3600 == 0 && q.start % 3600 == 0 && q.end % 3600 == 0;
    // Whole hours read the (60 times fewer) hour rows even where minutes exist: the same sums.
    let from_minutes = q.start >= now - MINUTE_RETENTION_SECS && !hourly;
    if !from_minutes && period % 3600 != 0 {
        return Err(StoreError::BadQuery(format!(
            "Data older than 15 days is kept per hour: the period {period} must be a multiple of 3600 seconds."
        )));
    }
    const FILTER: &str = "($3::text IS NULL OR api_name = $3)
          AND ($4::text IS NULL OR api_id = $4)
          AND ($5::text IS NULL OR stage = $5)
          AND ($6::text IS NULL OR resource = $6)
          AND ($7::text IS NULL OR method = $7)
          AND (CASE WHEN method = $9 THEN $8 WHEN method = $11 THEN $10
                    ELSE NOT ($8 OR $10) END)";
    const COLUMNS: &str =
        "count, error_4xx, error_5xx, cache_hit, cache_miss, latency, integration_latency,
         data_processed";
    let sql = if from_minutes {
        format!(
            "SELECT extract(epoch FROM minute)::bigint AS t, {COLUMNS} FROM metric_minutes
             WHERE minute >= to_timestamp($1) AND minute < to_timestamp($2) AND {FILTER}"
        )
    } else {
        format!(
            "WITH w AS (SELECT COALESCE((SELECT rolled_up_to FROM metric_rollup),
                                        '-infinity'::timestamptz) AS t)
             SELECT extract(epoch FROM hour)::bigint AS t, {COLUMNS} FROM metric_hours, w
             WHERE hour >= to_timestamp($1) AND hour < to_timestamp($2) AND hour < w.t
               AND {FILTER}
             UNION ALL
             SELECT extract(epoch FROM minute)::bigint AS t, {COLUMNS} FROM metric_minutes, w
             WHERE minute >= to_timestamp($1) AND minute < to_timestamp($2) AND minute >= w.t
               AND {FILTER}"
        )
    };
    let rows = sqlx::query(&sql)
        .bind(q.start as f64)
        .bind(q.end as f64)
        .bind(q.api_name.as_deref())
        .bind(q.api_id.as_deref())
        .bind(q.stage.as_deref())
        .bind(q.resource.as_deref())
        .bind(q.method.as_deref())
        .bind(q.websocket)
        .bind(pb::WEBSOCKET_METHOD)
        .bind(q.http_api)
        .bind(pb::HTTP_API_METHOD)
        .fetch_all(db)
        .await?;
    let mut buckets: BTreeMap<i64, Bucket> = BTreeMap::new();
    for row in rows {
        let t: i64 = row.try_get("t")?;
        let start = t.div_euclid(period) * period;
        let b = buckets.entry(start).or_insert_with(|| Bucket {
            start,
            ..Bucket::default()
        });
        b.count += nonneg(row.try_get("count")?);
        b.error_4xx += nonneg(row.try_get("error_4xx")?);
        b.error_5xx += nonneg(row.try_get("error_5xx")?);
        b.cache_hit += nonneg(row.try_get("cache_hit")?);
        b.cache_miss += nonneg(row.try_get("cache_miss")?);
        b.data_processed += nonneg(row.try_get("data_processed")?);
        let lat: Vec<u8> = row.try_get("latency")?;
        b.latency.merge(&decode_sketch(&lat)?);
        let ilat: Vec<u8> = row.try_get("integration_latency")?;
        b.integration_latency.merge(&decode_sketch(&ilat)?);
    }
    Ok(buckets.into_values().collect())
}

/// The distinct series with minutes since `f.since` matching `f` (ListMetrics), sorted.
pub async fn list_series(db: &PgPool, f: &SeriesFilter) -> Result<Vec<SeriesKey>, StoreError> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT api_name, api_id, stage, resource, method FROM metric_minutes
         WHERE minute >= to_timestamp($1)
           AND ($2::text IS NULL OR api_name = $2)
           AND ($3::text IS NULL OR stage = $3)
           AND ($4::text IS NULL OR resource = $4)
           AND ($5::text IS NULL OR method = $5)
         ORDER BY api_name, stage, resource, method, api_id",
    )
    .bind(f.since.clamp(0, LAST_SECOND) as f64)
    .bind(f.api_name.as_deref())
    .bind(f.stage.as_deref())
    .bind(f.resource.as_deref())
    .bind(f.method.as_deref())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(api_name, api_id, stage, resource, method)| SeriesKey {
            api_name,
            api_id,
            stage,
            resource,
            method,
        })
        .collect())
}

/// The key a delta is stored under, in the primary key's column order.
type RowKey = (String, String, String, String, i64);

/// Adds up the deltas of one key (a shipment may carry a series' minute twice), in key order.
fn combine(deltas: Vec<MinuteDelta>, bucket: i64) -> BTreeMap<RowKey, MinuteDelta> {
    let mut out: BTreeMap<RowKey, MinuteDelta> = BTreeMap::new();
    for mut d in deltas {
        d.minute = d.minute.div_euclid(bucket) * bucket;
        let key = (
            d.api_id.clone(),
            d.stage.clone(),
            d.resource.clone(),
            d.method.clone(),
            d.minute,
        );
        match out.get_mut(&key) {
            Some(have) => have.absorb(&d),
            None => {
                out.insert(key, d);
            }
        }
    }
    out
}

/// A row's key and its stored (latency, integration latency) sketches.
type StoredSketches = (String, String, String, String, i64, Vec<u8>, Vec<u8>);

/// Which table [`merge_rows`] adds into.
#[derive(Clone, Copy)]
enum Grain {
    Minute,
    Hour,
}

impl Grain {
    fn table(self) -> &'static str {
        match self {
            Grain::Minute => "metric_minutes",
            Grain::Hour => "metric_hours",
        }
    }
    fn column(self) -> &'static str {
        match self {
            Grain::Minute => "minute",
            Grain::Hour => "hour",
        }
    }
}

/// Column arrays for an `UNNEST` upsert, in key order.
#[derive(Default)]
struct Columns {
    api_id: Vec<String>,
    stage: Vec<String>,
    resource: Vec<String>,
    method: Vec<String>,
    t: Vec<i64>,
    api_name: Vec<String>,
    count: Vec<i64>,
    error_4xx: Vec<i64>,
    error_5xx: Vec<i64>,
    cache_hit: Vec<i64>,
    cache_miss: Vec<i64>,
    latency: Vec<Vec<u8>>,
    integration_latency: Vec<Vec<u8>>,
    data_processed: Vec<i64>,
}

impl Columns {
    fn push(&mut self, d: &MinuteDelta, latency: Vec<u8>, integration_latency: Vec<u8>) {
        self.api_id.push(d.api_id.clone());
        self.stage.push(d.stage.clone());
        self.resource.push(d.resource.clone());
        self.method.push(d.method.clone());
        self.t.push(d.minute);
        self.api_name.push(d.api_name.clone());
        self.count.push(d.count);
        self.error_4xx.push(d.error_4xx);
        self.error_5xx.push(d.error_5xx);
        self.cache_hit.push(d.cache_hit);
        self.cache_miss.push(d.cache_miss);
        self.latency.push(latency);
        self.integration_latency.push(integration_latency);
        self.data_processed.push(d.data_processed);
    }
}

/// Adds `rows` (keyed and ordered as the primary key) into `grain`'s table: one upsert
/// adding the counts, locking every row in key order and answering the sketches stored
/// before; then one update writing the merged sketches.
async fn merge_rows(
    conn: &mut PgConnection,
    grain: Grain,
    rows: &BTreeMap<RowKey, MinuteDelta>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (table, col) = (grain.table(), grain.column());
    let mut c = Columns::default();
    let empty = encode_sketch(&Sketch::new());
    for d in rows.values() {
        c.push(d, empty.clone(), empty.clone());
    }
    // New rows start with empty sketches, so every returned sketch is "what was stored".
    let upsert = format!(
        "INSERT INTO {table} (api_id, stage, resource, method, {col}, api_name, count,
                              error_4xx, error_5xx, cache_hit, cache_miss, latency,
                              integration_latency, data_processed)
         SELECT a, s, r, m, to_timestamp(t), n, c, e4, e5, ch, cm, l, il, dp
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                     $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
                     $11::bigint[], $12::bytea[], $13::bytea[], $14::bigint[])
              WITH ORDINALITY AS u(a, s, r, m, t, n, c, e4, e5, ch, cm, l, il, dp, ord)
         ORDER BY ord
         ON CONFLICT (api_id, stage, resource, method, {col}) DO UPDATE SET
           api_name = EXCLUDED.api_name,
           count = {table}.count + EXCLUDED.count,
           error_4xx = {table}.error_4xx + EXCLUDED.error_4xx,
           error_5xx = {table}.error_5xx + EXCLUDED.error_5xx,
           cache_hit = {table}.cache_hit + EXCLUDED.cache_hit,
           cache_miss = {table}.cache_miss + EXCLUDED.cache_miss,
           data_processed = {table}.data_processed + EXCLUDED.data_processed
         RETURNING api_id, stage, resource, method, extract(epoch FROM {col})::bigint,
                   latency, integration_latency"
    );
    let before: Vec<StoredSketches> = sqlx::query_as(&upsert)
        .bind(&c.api_id)
        .bind(&c.stage)
        .bind(&c.resource)
        .bind(&c.method)
        .bind(&c.t)
        .bind(&c.api_name)
        .bind(&c.count)
        .bind(&c.error_4xx)
        .bind(&c.error_5xx)
        .bind(&c.cache_hit)
        .bind(&c.cache_miss)
        .bind(&c.latency)
        .bind(&c.integration_latency)
        .bind(&c.data_processed)
        .fetch_all(&mut *conn)
        .await?;
    let mut merged = Columns::default();
    for (a, s, r, m, t, lat, ilat) in before {
        let Some(d) = rows.get(&(a, s, r, m, t)) else {
            continue;
        };
        let mut latency = decode_sketch(&lat)?;
        latency.merge(&d.latency);
        let mut integration_latency = decode_sketch(&ilat)?;
        integration_latency.merge(&d.integration_latency);
        merged.push(
            d,
            encode_sketch(&latency),
            encode_sketch(&integration_latency),
        );
    }
    let update = format!(
        "UPDATE {table} AS x SET latency = u.l, integration_latency = u.il
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                     $6::bytea[], $7::bytea[]) AS u(a, s, r, m, t, l, il)
         WHERE x.api_id = u.a AND x.stage = u.s AND x.resource = u.r AND x.method = u.m
           AND x.{col} = to_timestamp(u.t)"
    );
    sqlx::query(&update)
        .bind(&merged.api_id)
        .bind(&merged.stage)
        .bind(&merged.resource)
        .bind(&merged.method)
        .bind(&merged.t)
        .bind(&merged.latency)
        .bind(&merged.integration_latency)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Applies one node shipment exactly once (see the module doc). `series` must be validated:
/// minutes multiples of 60, non-negative counts, non-empty api id and stage.
pub async fn apply_shipment(
    db: &PgPool,
    node_instance: uuid::Uuid,
    node_id: &str,
    seq: i64,
    series: Vec<MinuteDelta>,
) -> Result<ShipOutcome, StoreError> {
    let mut tx = db.begin().await?;
    // Lock order, the same for every shipment: watermark (shared), this instance's
    // shipment row, minutes in key order, hours in key order.
    ensure_rollup_row(&mut tx).await?;
    let watermark: i64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM rolled_up_to)::bigint FROM metric_rollup FOR SHARE",
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO metric_shipments (node_instance, node_id, applied_seq) VALUES ($1, $2, 0)
         ON CONFLICT (node_instance) DO NOTHING",
    )
    .bind(node_instance)
    .bind(node_id)
    .execute(&mut *tx)
    .await?;
    let applied: i64 = sqlx::query_scalar(
        "SELECT applied_seq FROM metric_shipments WHERE node_instance = $1 FOR UPDATE",
    )
    .bind(node_instance)
    .fetch_one(&mut *tx)
    .await?;
    if seq <= applied {
        tx.rollback().await?;
        return Ok(ShipOutcome::AlreadyApplied {
            applied_seq: nonneg(applied),
        });
    }
    let minutes = combine(series, 60);
    merge_rows(&mut tx, Grain::Minute, &minutes).await?;
    let late: Vec<MinuteDelta> = minutes
        .values()
        .filter(|d| d.minute < watermark)
        .cloned()
        .collect();
    if !late.is_empty() {
        let hours = combine(late, 3600);
        merge_rows(&mut tx, Grain::Hour, &hours).await?;
    }
    sqlx::query(
        "UPDATE metric_shipments SET applied_seq = $2, node_id = $3, last_shipped_at = now()
         WHERE node_instance = $1",
    )
    .bind(node_instance)
    .bind(seq)
    .bind(node_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ShipOutcome::Applied {
        applied_seq: nonneg(seq),
        previous_seq: nonneg(applied),
    })
}

/// What one [`roll_up`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollupReport {
    /// Whether this replica held the lock (another one is rolling up otherwise).
    pub locked: bool,
    /// Hours rolled up by this call.
    pub hours: i64,
    /// `metric_hours` rows written.
    pub rows: usize,
    /// The watermark afterwards (Unix seconds).
    pub rolled_up_to: i64,
}

/// Rolls up, as of `now` (Unix seconds), at most [`ROLLUP_MAX_HOURS`] complete hours from
/// the watermark on, in one transaction. Call again while it reports hours rolled.
pub async fn roll_up(db: &PgPool, now: i64) -> Result<RollupReport, StoreError> {
    let mut tx = db.begin().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(ROLLUP_LOCK_KEY)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        tx.rollback().await?;
        return Ok(RollupReport::default());
    }
    ensure_rollup_row(&mut tx).await?;
    let watermark: i64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM rolled_up_to)::bigint FROM metric_rollup FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await?;
    let complete = (now - ROLLUP_DELAY_SECS).div_euclid(3600) * 3600;
    let upto = complete.min(watermark + ROLLUP_MAX_HOURS * 3600);
    if upto <= watermark {
        tx.rollback().await?;
        return Ok(RollupReport {
            locked: true,
            rolled_up_to: watermark,
            ..RollupReport::default()
        });
    }
    // The minutes of the hours to roll, oldest first (so the newest api_name wins).
    let minutes = sqlx::query(
        "SELECT api_id, stage, resource, method, extract(epoch FROM minute)::bigint AS t,
                api_name, count, error_4xx, error_5xx, cache_hit, cache_miss, latency,
                integration_latency, data_processed
         FROM metric_minutes
         WHERE minute >= to_timestamp($1) AND minute < to_timestamp($2)
         ORDER BY minute",
    )
    .bind(watermark as f64)
    .bind(upto as f64)
    .fetch_all(&mut *tx)
    .await?;
    let mut deltas = Vec::with_capacity(minutes.len());
    for row in minutes {
        let lat: Vec<u8> = row.try_get("latency")?;
        let ilat: Vec<u8> = row.try_get("integration_latency")?;
        deltas.push(MinuteDelta {
            minute: row.try_get("t")?,
            api_id: row.try_get("api_id")?,
            api_name: row.try_get("api_name")?,
            stage: row.try_get("stage")?,
            resource: row.try_get("resource")?,
            method: row.try_get("method")?,
            count: row.try_get("count")?,
            error_4xx: row.try_get("error_4xx")?,
            error_5xx: row.try_get("error_5xx")?,
            cache_hit: row.try_get("cache_hit")?,
            cache_miss: row.try_get("cache_miss")?,
            data_processed: row.try_get("data_processed")?,
            latency: decode_sketch(&lat)?,
            integration_latency: decode_sketch(&ilat)?,
        });
    }
    let hours = combine(deltas, 3600);
    // Replace: these hours are at or after the watermark, so no shipment merged into them.
    sqlx::query(
        "DELETE FROM metric_hours WHERE hour >= to_timestamp($1) AND hour < to_timestamp($2)",
    )
    .bind(watermark as f64)
    .bind(upto as f64)
    .execute(&mut *tx)
    .await?;
    merge_rows(&mut tx, Grain::Hour, &hours).await?;
    sqlx::query("UPDATE metric_rollup SET rolled_up_to = to_timestamp($1)")
        .bind(upto as f64)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(RollupReport {
        locked: true,
        hours: (upto - watermark) / 3600,
        rows: hours.len(),
        rolled_up_to: upto,
    })
}

/// What one [`prune`] call deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    /// `metric_minutes` rows.
    pub minutes: u64,
    /// `metric_hours` rows.
    pub hours: u64,
    /// `metric_shipments` rows.
    pub shipments: u64,
}

/// Deletes, as of `now`, minutes older than 15 days that are rolled up, hours older than
/// 15 months and shipment records idle for 2 days, in batches of [`PRUNE_BATCH`] rows, each
/// batch its own transaction holding the roll-up's advisory lock (so one replica prunes,
/// and never while another rolls up).
pub async fn prune(db: &PgPool, now: i64) -> Result<PruneReport, StoreError> {
    let minutes = "DELETE FROM metric_minutes WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM metric_minutes
           WHERE minute < to_timestamp($1) - ($2::text)::interval
             AND minute < (SELECT rolled_up_to FROM metric_rollup)
           LIMIT $3))";
    let hours = "DELETE FROM metric_hours WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM metric_hours WHERE hour < to_timestamp($1) - ($2::text)::interval
           LIMIT $3))";
    let shipments = "DELETE FROM metric_shipments WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM metric_shipments
           WHERE last_shipped_at < to_timestamp($1) - ($2::text)::interval
           LIMIT $3))";
    let minute_retention = format!("{MINUTE_RETENTION_SECS} seconds");
    let mut deleted = [0u64; 3];
    let jobs = [
        (minutes, minute_retention.as_str()),
        (hours, HOUR_RETENTION),
        (shipments, SHIPMENT_RETENTION),
    ];
    'jobs: for ((sql, keep), counter) in jobs.into_iter().zip(deleted.iter_mut()) {
        loop {
            let mut tx = db.begin().await?;
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                .bind(ROLLUP_LOCK_KEY)
                .fetch_one(&mut *tx)
                .await?;
            if !locked {
                break 'jobs;
            }
            let done = sqlx::query(sql)
                .bind(now as f64)
                .bind(keep)
                .bind(PRUNE_BATCH)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            *counter += done;
            if done < PRUNE_BATCH as u64 {
                break;
            }
        }
    }
    let [minutes, hours, shipments] = deleted;
    Ok(PruneReport {
        minutes,
        hours,
        shipments,
    })
}
