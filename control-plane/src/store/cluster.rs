//! The cluster's identity row (migration 0017).

/// The cluster id recorded in this database, created (a random UUID) on first use; every
/// replica reads the same one.
pub async fn ensure_id(db: &sqlx::PgPool) -> sqlx::Result<uuid::Uuid> {
    sqlx::query(
        "INSERT INTO cluster_identity (cluster_id) VALUES ($1) ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4())
    .execute(db)
    .await?;
    sqlx::query_scalar("SELECT cluster_id FROM cluster_identity")
        .fetch_one(db)
        .await
}
