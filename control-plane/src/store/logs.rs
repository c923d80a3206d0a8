//! The log store (migration 0012): log groups, one log stream per node and group, the
//! lines themselves in `log_events` (range-partitioned by day on `ts_ms`), and
//! `log_shipments`, which makes each node shipment stored exactly once.
//!
//! Partitions: [`ensure_partitions`] creates the day partitions a range needs (under an
//! advisory lock, so replicas do not race), [`drop_partitions_before`] drops whole days
//! past the retention. A shipment creates the partitions of the days its events fall in
//! when they are missing, before its transaction, so an insert never lacks one.

use sqlx::{PgPool, Postgres, QueryBuilder};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Advisory lock key of partition maintenance ("apigwlog").
const PARTITION_LOCK: i64 = 0x6170_6967_776c_6f67;

/// One line to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The log group.
    pub log_group: String,
    /// When it was written, Unix ms.
    pub ts_ms: i64,
    /// 0 access, 1 execution.
    pub kind: i16,
    /// The line.
    pub message: String,
    /// Console search fields ('' / 0 when unknown).
    pub api_id: String,
    /// Stage.
    pub stage: String,
    /// Request id.
    pub request_id: String,
    /// Status.
    pub status: i32,
    /// Source IP.
    pub source_ip: String,
    /// API key id.
    pub api_key_id: String,
    /// Request path.
    pub path: String,
}

/// What storing a shipment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipOutcome {
    /// Stored now; `previous_seq` is what was stored before (0 for a new node process).
    Stored {
        /// The shipment's seq.
        applied_seq: u64,
        /// The seq stored before it.
        previous_seq: u64,
    },
    /// A retry of a shipment already stored: nothing written.
    AlreadyStored {
        /// The highest seq stored.
        applied_seq: u64,
    },
}

fn nonneg(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The partition holding day `day` (days since the epoch).
pub fn partition_name(day: i64) -> String {
    let d = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(day);
    format!(
        "log_events_p{:04}{:02}{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

/// Creates the day partitions of days `from..=to` (days since the epoch) that do not exist.
pub async fn ensure_partitions(db: &PgPool, from: i64, to: i64) -> sqlx::Result<usize> {
    let names: Vec<String> = (from..=to).map(partition_name).collect();
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT n FROM unnest($1::text[]) n WHERE to_regclass(n) IS NULL ORDER BY n",
    )
    .bind(&names)
    .fetch_all(db)
    .await?;
    if missing.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .execute(&mut *tx)
        .await?;
    let mut created = 0;
    for day in from..=to {
        let name = partition_name(day);
        if !missing.contains(&name) {
            continue;
        }
        // `name` is ours (digits), the bounds are integers: nothing of the caller's is
        // spliced into the statement.
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {name} PARTITION OF log_events FOR VALUES FROM ({}) TO ({})",
            day * DAY_MS,
            (day + 1) * DAY_MS
        );
        sqlx::query(&sql).execute(&mut *tx).await?;
        created += 1;
    }
    tx.commit().await?;
    Ok(created)
}

/// Drops every day partition that ends at or before `cutoff_ms`; answers their names.
pub async fn drop_partitions_before(db: &PgPool, cutoff_ms: i64) -> sqlx::Result<Vec<String>> {
    let parts: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent
          WHERE p.relname = 'log_events' ORDER BY 1",
    )
    .fetch_all(db)
    .await?;
    let cutoff_day = cutoff_ms.div_euclid(DAY_MS);
    let mut dropped = Vec::new();
    for name in parts {
        let Some(day) = partition_day(&name) else {
            continue;
        };
        // The partition holds [day, day + 1): gone once day + 1 <= cutoff.
        if day < cutoff_day {
            let mut tx = db.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PARTITION_LOCK)
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// The day (since the epoch) of a partition named by [`partition_name`].
pub fn partition_day(name: &str) -> Option<i64> {
    let digits = name.strip_prefix("log_events_p")?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = digits[0..4].parse().ok()?;
    let m: u8 = digits[4..6].parse().ok()?;
    let d: u8 = digits[6..8].parse().ok()?;
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    Some((date - time::Date::from_calendar_date(1970, time::Month::January, 1).ok()?).whole_days())
}

/// Stores one node shipment exactly once: a `seq` at or below the node process's stored
/// seq is a retry and writes nothing. Groups and streams are created as lines arrive; the
/// lines go in with one statement. `now_ms` is the ingestion time.
pub async fn apply_shipment(
    db: &PgPool,
    node_instance: uuid::Uuid,
    node_id: &str,
    seq: i64,
    events: &[NewEvent],
    now_ms: i64,
) -> sqlx::Result<ShipOutcome> {
    if let (Some(lo), Some(hi)) = (
        events.iter().map(|e| e.ts_ms).min(),
        events.iter().map(|e| e.ts_ms).max(),
    ) {
        ensure_partitions(db, lo.div_euclid(DAY_MS), hi.div_euclid(DAY_MS)).await?;
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO log_shipments (node_instance, node_id, applied_seq) VALUES ($1, $2, 0)
         ON CONFLICT (node_instance) DO NOTHING",
    )
    .bind(node_instance)
    .bind(node_id)
    .execute(&mut *tx)
    .await?;
    let applied: i64 = sqlx::query_scalar(
        "SELECT applied_seq FROM log_shipments WHERE node_instance = $1 FOR UPDATE",
    )
    .bind(node_instance)
    .fetch_one(&mut *tx)
    .await?;
    if seq <= applied {
        tx.rollback().await?;
        return Ok(ShipOutcome::AlreadyStored {
            applied_seq: nonneg(applied),
        });
    }
    if !events.is_empty() {
        // Per group: first and last event, bytes (sorted, so concurrent shipments lock
        // the same rows in the same order).
        let mut per_group: std::collections::BTreeMap<&str, (i64, i64, i64)> =
            std::collections::BTreeMap::new();
        for e in events {
            let entry = per_group
                .entry(e.log_group.as_str())
                .or_insert((e.ts_ms, e.ts_ms, 0));
            entry.0 = entry.0.min(e.ts_ms);
            entry.1 = entry.1.max(e.ts_ms);
            entry.2 += i64::try_from(e.message.len()).unwrap_or(i64::MAX);
        }
        let groups: Vec<&str> = per_group.keys().copied().collect();
        let firsts: Vec<i64> = per_group.values().map(|v| v.0).collect();
        let lasts: Vec<i64> = per_group.values().map(|v| v.1).collect();
        let bytes: Vec<i64> = per_group.values().map(|v| v.2).collect();
        sqlx::query(
            "INSERT INTO log_groups (name, created_ms) SELECT g, $2 FROM unnest($1::text[]) g
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&groups)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO log_streams (log_group, name, created_ms, first_event_ms, last_event_ms,
                                      last_ingestion_ms, stored_bytes)
             SELECT g, $2, $3, f, l, $3, b
               FROM unnest($1::text[], $4::bigint[], $5::bigint[], $6::bigint[]) AS t(g, f, l, b)
             ON CONFLICT (log_group, name) DO UPDATE SET
               first_event_ms = LEAST(log_streams.first_event_ms, EXCLUDED.first_event_ms),
               last_event_ms = GREATEST(log_streams.last_event_ms, EXCLUDED.last_event_ms),
               last_ingestion_ms = EXCLUDED.last_ingestion_ms,
               stored_bytes = log_streams.stored_bytes + EXCLUDED.stored_bytes",
        )
        .bind(&groups)
        .bind(node_id)
        .bind(now_ms)
        .bind(&firsts)
        .bind(&lasts)
        .bind(&bytes)
        .execute(&mut *tx)
        .await?;
        insert_events(&mut tx, node_id, events, now_ms).await?;
    }
    sqlx::query(
        "UPDATE log_shipments SET applied_seq = $2, node_id = $3, last_shipped_at = now()
         WHERE node_instance = $1",
    )
    .bind(node_instance)
    .bind(seq)
    .bind(node_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ShipOutcome::Stored {
        applied_seq: nonneg(seq),
        previous_seq: nonneg(applied),
    })
}

/// One `INSERT ... SELECT FROM unnest(...)` for all the lines of a shipment.
async fn insert_events(
    conn: &mut sqlx::PgConnection,
    stream: &str,
    events: &[NewEvent],
    now_ms: i64,
) -> sqlx::Result<()> {
    let col = |f: fn(&NewEvent) -> &str| events.iter().map(f).collect::<Vec<&str>>();
    let ts: Vec<i64> = events.iter().map(|e| e.ts_ms).collect();
    let kinds: Vec<i16> = events.iter().map(|e| e.kind).collect();
    let statuses: Vec<i32> = events.iter().map(|e| e.status).collect();
    sqlx::query(
        "INSERT INTO log_events (ts_ms, log_group, log_stream, ingestion_ms, kind, message, api_id,
                                 stage, request_id, status, source_ip, api_key_id, path)
         SELECT ts, g, $2, $3, k, m, a, s, r, st, ip, key, p
           FROM unnest($1::bigint[], $4::text[], $5::smallint[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[])
                AS t(ts, g, k, m, a, s, r, st, ip, key, p)",
    )
    .bind(&ts)
    .bind(stream)
    .bind(now_ms)
    .bind(col(|e| &e.log_group))
    .bind(&kinds)
    .bind(col(|e| &e.message))
    .bind(col(|e| &e.api_id))
    .bind(col(|e| &e.stage))
    .bind(col(|e| &e.request_id))
    .bind(&statuses)
    .bind(col(|e| &e.source_ip))
    .bind(col(|e| &e.api_key_id))
    .bind(col(|e| &e.path))
    .execute(conn)
    .await?;
    Ok(())
}

/// A log group as DescribeLogGroups shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    /// Name.
    pub name: String,
    /// When its first line arrived.
    pub created_ms: i64,
    /// Bytes of messages stored (all streams; retention does not subtract).
    pub stored_bytes: i64,
}

/// Log groups in name order, after `after`, starting with `prefix`.
pub async fn groups(
    db: &PgPool,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<GroupRow>> {
    sqlx::query_as(
        "SELECT g.name, g.created_ms,
                COALESCE((SELECT sum(s.stored_bytes) FROM log_streams s WHERE s.log_group = g.name), 0)::bigint AS stored_bytes
           FROM log_groups g
          WHERE ($1::text IS NULL OR starts_with(g.name, $1))
            AND ($2::text IS NULL OR g.name > $2)
          ORDER BY g.name LIMIT $3",
    )
    .bind(prefix)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Whether a group exists.
pub async fn group_exists(db: &PgPool, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM log_groups WHERE name = $1)")
        .bind(name)
        .fetch_one(db)
        .await
}

/// A log stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StreamRow {
    /// Name (the node id).
    pub name: String,
    /// When its first line arrived.
    pub created_ms: i64,
    /// Its oldest line's time.
    pub first_event_ms: i64,
    /// Its newest line's time.
    pub last_event_ms: i64,
    /// When its last line arrived.
    pub last_ingestion_ms: i64,
    /// Bytes stored.
    pub stored_bytes: i64,
}

/// How DescribeLogStreams orders.
#[derive(Debug, Clone)]
pub enum StreamOrder {
    /// By name; the cursor is the last name seen.
    Name(Option<String>),
    /// By last event time, then name; the cursor is the last (time, name) seen.
    LastEvent(Option<(i64, String)>),
}

/// A page of a group's streams.
pub async fn streams(
    db: &PgPool,
    group: &str,
    prefix: Option<&str>,
    order: &StreamOrder,
    descending: bool,
    limit: i64,
) -> sqlx::Result<Vec<StreamRow>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes
           FROM log_streams WHERE log_group = ",
    );
    q.push_bind(group);
    if let Some(p) = prefix {
        q.push(" AND starts_with(name, ").push_bind(p).push(")");
    }
    let (cmp, dir) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    match order {
        StreamOrder::Name(after) => {
            if let Some(a) = after {
                q.push(format!(" AND name {cmp} ")).push_bind(a.clone());
            }
            q.push(format!(" ORDER BY name {dir}"));
        }
        StreamOrder::LastEvent(after) => {
            if let Some((t, n)) = after {
                q.push(format!(" AND (last_event_ms, name) {cmp} ("))
                    .push_bind(*t)
                    .push(", ")
                    .push_bind(n.clone())
                    .push(")");
            }
            q.push(format!(" ORDER BY last_event_ms {dir}, name {dir}"));
        }
    }
    q.push(" LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

/// Whether a stream exists in a group.
pub async fn stream_exists(db: &PgPool, group: &str, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM log_streams WHERE log_group = $1 AND name = $2)",
    )
    .bind(group)
    .bind(name)
    .fetch_one(db)
    .await
}

/// A stored line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    /// Time, Unix ms.
    pub ts_ms: i64,
    /// Its id (orders lines of the same millisecond).
    pub id: i64,
    /// Its group.
    pub log_group: String,
    /// Its stream.
    pub log_stream: String,
    /// When it arrived.
    pub ingestion_ms: i64,
    /// The line.
    pub message: String,
    /// 0 access, 1 execution.
    pub kind: i16,
    /// Api id.
    pub api_id: String,
    /// Stage.
    pub stage: String,
    /// Request id.
    pub request_id: String,
    /// Status.
    pub status: i32,
    /// Source IP.
    pub source_ip: String,
    /// API key id.
    pub api_key_id: String,
    /// Path.
    pub path: String,
}

/// Which streams of a group an event read covers.
#[derive(Debug, Clone, Default)]
pub enum StreamSet {
    /// Every stream.
    #[default]
    All,
    /// These names.
    Named(Vec<String>),
    /// Names starting with this.
    Prefix(String),
}

/// An event read over `(ts_ms, id)` order, within `[start, end)`.
#[derive(Debug, Clone, Default)]
pub struct EventRange {
    /// The group.
    pub group: String,
    /// Its streams.
    pub streams: StreamSet,
    /// Earliest time (inclusive).
    pub start_ms: Option<i64>,
    /// Latest time (exclusive).
    pub end_ms: Option<i64>,
    /// Only positions after this.
    pub after: Option<(i64, i64)>,
    /// Only positions before this.
    pub before: Option<(i64, i64)>,
    /// Newest first.
    pub descending: bool,
}

/// At most `limit` lines of a range, in its order.
pub async fn events(db: &PgPool, r: &EventRange, limit: i64) -> sqlx::Result<Vec<EventRow>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT ts_ms, id, log_group, log_stream, ingestion_ms, message, kind, api_id, stage,
                request_id, status, source_ip, api_key_id, path
           FROM log_events WHERE log_group = ",
    );
    q.push_bind(r.group.clone());
    match &r.streams {
        StreamSet::All => {}
        StreamSet::Named(names) => {
            q.push(" AND log_stream = ANY(")
                .push_bind(names.clone())
                .push(")");
        }
        StreamSet::Prefix(p) => {
            q.push(" AND starts_with(log_stream, ")
                .push_bind(p.clone())
                .push(")");
        }
    }
    if let Some(s) = r.start_ms {
        q.push(" AND ts_ms >= ").push_bind(s);
    }
    if let Some(e) = r.end_ms {
        q.push(" AND ts_ms < ").push_bind(e);
    }
    if let Some((t, i)) = r.after {
        q.push(" AND (ts_ms, id) > (")
            .push_bind(t)
            .push(", ")
            .push_bind(i)
            .push(")");
    }
    if let Some((t, i)) = r.before {
        q.push(" AND (ts_ms, id) < (")
            .push_bind(t)
            .push(", ")
            .push_bind(i)
            .push(")");
    }
    q.push(if r.descending {
        " ORDER BY ts_ms DESC, id DESC"
    } else {
        " ORDER BY ts_ms, id"
    });
    q.push(" LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

/// The console's search: any group (or one), a time range, and exact fields.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// One group, or every group.
    pub group: Option<String>,
    /// Earliest time (inclusive), Unix ms.
    pub start_ms: i64,
    /// Latest time (exclusive), Unix ms.
    pub end_ms: i64,
    /// Status.
    pub status: Option<i32>,
    /// Source IP.
    pub source_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// API key id.
    pub api_key_id: Option<String>,
    /// Path (exact, or a prefix ending in `*`).
    pub path: Option<String>,
    /// Only lines before this position (newest-first paging).
    pub before: Option<(i64, i64)>,
}

/// At most `limit` lines of a console search, newest first.
pub async fn search(db: &PgPool, s: &Search, limit: i64) -> sqlx::Result<Vec<EventRow>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT ts_ms, id, log_group, log_stream, ingestion_ms, message, kind, api_id, stage,
                request_id, status, source_ip, api_key_id, path
           FROM log_events WHERE ts_ms >= ",
    );
    q.push_bind(s.start_ms)
        .push(" AND ts_ms < ")
        .push_bind(s.end_ms);
    if let Some(g) = &s.group {
        q.push(" AND log_group = ").push_bind(g.clone());
    }
    if let Some(v) = s.status {
        q.push(" AND status = ").push_bind(v);
    }
    if let Some(v) = &s.source_ip {
        q.push(" AND source_ip = ").push_bind(v.clone());
    }
    if let Some(v) = &s.request_id {
        q.push(" AND request_id = ").push_bind(v.clone());
    }
    if let Some(v) = &s.api_key_id {
        q.push(" AND api_key_id = ").push_bind(v.clone());
    }
    if let Some(v) = &s.path {
        match v.strip_suffix('*') {
            Some(p) => q
                .push(" AND starts_with(path, ")
                .push_bind(p.to_string())
                .push(")"),
            None => q.push(" AND path = ").push_bind(v.clone()),
        };
    }
    if let Some((t, i)) = s.before {
        q.push(" AND (ts_ms, id) < (")
            .push_bind(t)
            .push(", ")
            .push_bind(i)
            .push(")");
    }
    q.push(" ORDER BY ts_ms DESC, id DESC LIMIT ")
        .push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip() {
        let day = 20_428; // 2025-12-06
        assert_eq!(partition_name(day), "log_events_p20251206");
        assert_eq!(partition_day("log_events_p20251206"), Some(day));
        assert_eq!(partition_day("log_events_p0"), None);
        assert_eq!(partition_day("other"), None);
        assert_eq!(partition_name(0), "log_events_p19700101");
    }
}
