//! The `console_signed_out_sessions` table: ids of console sessions ended by sign-out,
//! kept until the session would have expired anyway.

use sqlx::PgPool;

/// Records that session `sid` is signed out; its tokens are refused until `expires_at`
/// (epoch seconds). Also forgets sessions whose expiry has passed.
pub async fn sign_out(db: &PgPool, sid: &str, expires_at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO console_signed_out_sessions (sid, expires_at)
         VALUES ($1, to_timestamp($2::float8))
         ON CONFLICT (sid) DO NOTHING",
    )
    .bind(sid)
    .bind(expires_at as f64)
    .execute(db)
    .await?;
    sqlx::query("DELETE FROM console_signed_out_sessions WHERE expires_at < now()")
        .execute(db)
        .await?;
    Ok(())
}
