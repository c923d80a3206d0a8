//! The reads of everything deployed, for the distribution loader: the stages changed since
//! a previous read with their documents, deployment snapshots by id, the row counts and
//! change flags of the other tables nodes are sent, and API keys and usage plans as nodes
//! need them. The loader runs them in one read-only repeatable-read transaction
//! ([`consistent_read`]).
//!
//! "Changed since" is migration 0023's marker: each row's `change_xid` is the transaction
//! that last wrote it, and a row changed since the read in snapshot `S` when `S` does not
//! see that transaction ([`CHANGED_SINCE`]). Exact whatever the commit order; deletions
//! show in the row counts.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::wire::{ApiKey, Stage, UsagePlan};

/// A stage as deployed.
#[derive(Debug)]
pub struct StageRow {
    /// The API.
    pub api_id: String,
    /// The stage's name.
    pub stage_name: String,
    /// The deployment it points at.
    pub deployment_id: String,
    /// The stage document.
    pub doc: Stage,
    /// Last update (epoch s).
    pub last_updated: i64,
    /// FlushStageAuthorizersCache's counter.
    pub authorizer_epoch: i64,
    /// FlushStageCache's counter.
    pub cache_epoch: i64,
    /// The row's random salt of its cache data key (a recreated stage gets a new one).
    pub cache_key_salt: uuid::Uuid,
    /// The transaction that last wrote the row (migration 0023's `change_xid`).
    pub change_xid: i64,
}

/// An API key for nodes: id, value hash, document, ids of the plans holding it.
pub type KeyRow = (String, Vec<u8>, ApiKey, Vec<String>);

/// (api, stage, deployment, document, last updated, authorizer epoch, cache epoch,
/// cache key salt, change xid).
type StoredStageRow = (
    String,
    String,
    String,
    Json<Stage>,
    i64,
    i64,
    i64,
    uuid::Uuid,
    i64,
);

type StoredKeyRow = (String, Vec<u8>, Json<ApiKey>, Vec<String>);

/// Makes the current transaction a read-only snapshot of the database (its first statement).
pub async fn consistent_read(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(conn)
        .await?;
    Ok(())
}

/// The condition "this row's writer is not visible in the snapshot `$1`" (a
/// `pg_current_snapshot()` text): the row was inserted or updated by a transaction that
/// had not committed when that snapshot was taken. The first conjunct lets the
/// `change_xid` index skip every row older than the snapshot's oldest running transaction.
pub const CHANGED_SINCE: &str = "(change_xid >= pg_snapshot_xmin($1::text::pg_snapshot) \
     AND NOT pg_visible_in_snapshot(change_xid, $1::text::pg_snapshot))";

/// The snapshot this transaction reads in, as text (to give back to [`CHANGED_SINCE`]).
pub async fn snapshot(conn: &mut PgConnection) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT pg_current_snapshot()::text")
        .fetch_one(conn)
        .await
}

const STAGE_COLUMNS: &str = "api_id, stage_name, deployment_id, doc, last_updated_date,
     authorizer_cache_epoch, cache_epoch, cache_key_salt, (change_xid::text)::bigint";

/// Every stage.
pub async fn stages(conn: &mut PgConnection) -> sqlx::Result<Vec<StageRow>> {
    let rows: Vec<StoredStageRow> = sqlx::query_as(&format!("SELECT {STAGE_COLUMNS} FROM stages"))
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(stage_row).collect())
}

/// The stages inserted or updated since the read in `since` (a [`snapshot`]), and those
/// named by `also` (api ids and stage names, pairwise) that exist.
pub async fn stages_changed(
    conn: &mut PgConnection,
    since: &str,
    also_apis: &[String],
    also_names: &[String],
) -> sqlx::Result<Vec<StageRow>> {
    let rows: Vec<StoredStageRow> = sqlx::query_as(&format!(
        "SELECT {STAGE_COLUMNS} FROM stages WHERE {CHANGED_SINCE}
         UNION
         SELECT {STAGE_COLUMNS} FROM stages
         WHERE (api_id, stage_name) IN (SELECT * FROM unnest($2::text[], $3::text[]))"
    ))
    .bind(since)
    .bind(also_apis)
    .bind(also_names)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(stage_row).collect())
}

fn stage_row(
    (api_id, stage_name, deployment_id, doc, last_updated, epoch, cache_epoch, salt, xid): StoredStageRow,
) -> StageRow {
    StageRow {
        api_id,
        stage_name,
        deployment_id,
        doc: doc.0,
        last_updated,
        authorizer_epoch: epoch,
        cache_epoch,
        cache_key_salt: salt,
        change_xid: xid,
    }
}

/// How many stages there are.
pub async fn stage_count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM stages")
        .fetch_one(conn)
        .await
}

/// Every stage's key (api id, stage name).
pub async fn stage_keys(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT api_id, stage_name FROM stages")
        .fetch_all(conn)
        .await
}

/// A table whose rows feed the deployed state (besides `stages`), with the rows of it that
/// do (`v2_items` holds every part of a v2 API; nodes get its stages and deployments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    /// The table.
    pub table: &'static str,
    /// The rows of it that count, as a condition.
    pub rows: &'static str,
}

impl Watched {
    /// All rows of `table`.
    pub const fn table(table: &'static str) -> Self {
        Self {
            table,
            rows: "TRUE",
        }
    }
}

/// For each of `tables`: how many rows count, and whether any of them changed since the
/// read in `since` (a [`snapshot`]). One statement; each count is a scan of the table (or
/// of its `change_xid` index), the change flag an index range.
pub async fn table_changes(
    conn: &mut PgConnection,
    since: &str,
    tables: &[Watched],
) -> sqlx::Result<Vec<(i64, bool)>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let sql = tables
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (t, rows) = (w.table, w.rows);
            format!(
                "SELECT {i}, (SELECT count(*) FROM {t} WHERE {rows}),
                        EXISTS (SELECT 1 FROM {t} WHERE {rows} AND {CHANGED_SINCE})"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
        + " ORDER BY 1";
    let rows: Vec<(i32, i64, bool)> = sqlx::query_as(&sql).bind(since).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(_, n, changed)| (n, changed))
        .collect())
}

/// The snapshots (protobuf bytes) of the deployments `(api_ids[i], ids[i])` that exist:
/// (api id, deployment id, bytes).
pub async fn snapshots(
    conn: &mut PgConnection,
    api_ids: &[String],
    ids: &[String],
) -> sqlx::Result<Vec<(String, String, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT d.api_id, d.id, d.snapshot FROM deployments d
         JOIN unnest($1::text[], $2::text[]) AS k(api_id, id)
           ON d.api_id = k.api_id AND d.id = k.id",
    )
    .bind(api_ids)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Every API key with the plans holding it, by id.
pub async fn api_keys(conn: &mut PgConnection) -> sqlx::Result<Vec<KeyRow>> {
    let rows: Vec<StoredKeyRow> = sqlx::query_as(
        "SELECT k.id, k.value_hash, k.doc,
                COALESCE(array_agg(pk.plan_id ORDER BY pk.plan_id)
                         FILTER (WHERE pk.plan_id IS NOT NULL), '{}')
         FROM api_keys k LEFT JOIN usage_plan_keys pk ON pk.key_id = k.id
         GROUP BY k.id ORDER BY k.id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hash, doc, plans)| (id, hash, doc.0, plans))
        .collect())
}

/// Every usage plan with its creation time (epoch seconds), by id.
pub async fn usage_plans(conn: &mut PgConnection) -> sqlx::Result<Vec<(UsagePlan, i64)>> {
    let rows: Vec<(Json<UsagePlan>, i64)> = sqlx::query_as(
        "SELECT doc, extract(epoch FROM created_at)::bigint FROM usage_plans ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(p, c)| (p.0, c)).collect())
}
