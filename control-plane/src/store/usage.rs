//! Usage records (`usage_records`: requests per plan, key and UTC day) and the ids of the
//! Redis batches already added to them (`usage_batches`), for the metering mover and
//! GetUsage. Days travel as `YYYY-MM-DD` text.

use sqlx::PgConnection;
use time::Date;

use apigw_quota::day_text;

/// Advisory-lock key serialising movers (across replicas) and usage reads.
const LOCK_KEY: i64 = 0x6170_6967_7775_7367; // "apigwusg"

/// Takes the usage lock until the end of the transaction.
pub async fn lock(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that batch `id` is being applied; false when it already was.
pub async fn record_batch(conn: &mut PgConnection, id: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("INSERT INTO usage_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The batch ids among `ids` already applied.
pub async fn applied_batches(conn: &mut PgConnection, ids: &[&str]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT batch_id FROM usage_batches WHERE batch_id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Adds `requests` to the record of (plan, key, day).
pub async fn add(
    conn: &mut PgConnection,
    plan_id: &str,
    key_id: &str,
    day: Date,
    requests: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO usage_records (plan_id, key_id, day, requests)
         VALUES ($1, $2, $3::date, $4)
         ON CONFLICT (plan_id, key_id, day)
         DO UPDATE SET requests = usage_records.requests + EXCLUDED.requests",
    )
    .bind(plan_id)
    .bind(key_id)
    .bind(day_text(day))
    .bind(requests)
    .execute(conn)
    .await?;
    Ok(())
}

/// The records of a plan in `[start, end]`: (key id, `YYYY-MM-DD`, requests).
pub async fn records(
    conn: &mut PgConnection,
    plan_id: &str,
    start: Date,
    end: Date,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT key_id, day::text, requests FROM usage_records
         WHERE plan_id = $1 AND day BETWEEN $2::date AND $3::date",
    )
    .bind(plan_id)
    .bind(day_text(start))
    .bind(day_text(end))
    .fetch_all(conn)
    .await
}
