//! The reads of everything deployed, for the distribution loader: every stage with its
//! document, deployment snapshots by id, and API keys and usage plans as nodes need them.
//! The loader runs them in one read-only repeatable-read transaction ([`consistent_read`]).

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
}

/// An API key for nodes: id, value hash, document, ids of the plans holding it.
pub type KeyRow = (String, Vec<u8>, ApiKey, Vec<String>);

/// (api, stage, deployment, document, last updated, authorizer epoch, cache epoch,
/// cache key salt).
type StoredStageRow = (
    String,
    String,
    String,
    Json<Stage>,
    i64,
    i64,
    i64,
    uuid::Uuid,
);

type StoredKeyRow = (String, Vec<u8>, Json<ApiKey>, Vec<String>);

/// Makes the current transaction a read-only snapshot of the database (its first statement).
pub async fn consistent_read(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(conn)
        .await?;
    Ok(())
}

/// Every stage.
pub async fn stages(conn: &mut PgConnection) -> sqlx::Result<Vec<StageRow>> {
    let rows: Vec<StoredStageRow> = sqlx::query_as(
        "SELECT api_id, stage_name, deployment_id, doc, last_updated_date,
                authorizer_cache_epoch, cache_epoch, cache_key_salt
         FROM stages",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(api_id, stage_name, deployment_id, doc, last_updated, epoch, cache_epoch, salt)| {
                StageRow {
                    api_id,
                    stage_name,
                    deployment_id,
                    doc: doc.0,
                    last_updated,
                    authorizer_epoch: epoch,
                    cache_epoch,
                    cache_key_salt: salt,
                }
            },
        )
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
