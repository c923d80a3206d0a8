//! Whether Postgres answers (the control plane's `/readyz`).

/// One round trip (`SELECT 1`) through the pool: fails within the pool's acquire timeout
/// when Postgres is unreachable.
pub async fn ping(db: &sqlx::PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(db).await.map(|_| ())
}
