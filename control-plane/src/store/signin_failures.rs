//! The `console_signin_failures` table: failed sign-ins per (username key, client IP),
//! with their counting window and lock; the username key `''` counts every username of
//! an IP.

use sqlx::PgExecutor;

/// Seconds left of the longest lock on (`user_key`, `ip`) or (`''`, `ip`), if any.
pub async fn lock_left<'e>(
    db: impl PgExecutor<'e>,
    user_key: &str,
    ip: &str,
) -> sqlx::Result<Option<f64>> {
    let left: Option<(f64,)> = sqlx::query_as(
        "SELECT EXTRACT(EPOCH FROM max(locked_until) - now())::float8
         FROM console_signin_failures
         WHERE ip = $2 AND username IN ($1, '') AND locked_until > now()
         HAVING max(locked_until) IS NOT NULL",
    )
    .bind(user_key)
    .bind(ip)
    .fetch_optional(db)
    .await?;
    Ok(left.map(|r| r.0))
}

/// Counts one failure of (`user_key`, `ip`), restarting the count when the window of
/// `window_secs` is over, and locking for `lock_secs` when it reaches `max`.
pub async fn bump<'e>(
    db: impl PgExecutor<'e>,
    user_key: &str,
    ip: &str,
    max: i32,
    window_secs: f64,
    lock_secs: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO console_signin_failures AS f (username, ip, failures, window_started_at, locked_until)
         VALUES ($1, $2, 1, now(), CASE WHEN $3 <= 1 THEN now() + make_interval(secs => $5) END)
         ON CONFLICT (username, ip) DO UPDATE SET
           failures = CASE WHEN f.window_started_at < now() - make_interval(secs => $4)
                           THEN 1 ELSE f.failures + 1 END,
           window_started_at = CASE WHEN f.window_started_at < now() - make_interval(secs => $4)
                           THEN now() ELSE f.window_started_at END,
           locked_until = CASE
             WHEN (CASE WHEN f.window_started_at < now() - make_interval(secs => $4)
                        THEN 1 ELSE f.failures + 1 END) >= $3
             THEN now() + make_interval(secs => $5)
             ELSE f.locked_until END",
    )
    .bind(user_key)
    .bind(ip)
    .bind(max)
    .bind(window_secs)
    .bind(lock_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets counters whose window (of `window_secs`) and lock are both over.
pub async fn prune<'e>(db: impl PgExecutor<'e>, window_secs: f64) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM console_signin_failures
         WHERE window_started_at < now() - make_interval(secs => $1)
           AND (locked_until IS NULL OR locked_until < now())",
    )
    .bind(window_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Clears the counter of (`user_key`, `ip`).
pub async fn clear<'e>(db: impl PgExecutor<'e>, user_key: &str, ip: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM console_signin_failures WHERE username = $1 AND ip = $2")
        .bind(user_key)
        .bind(ip)
        .execute(db)
        .await?;
    Ok(())
}

/// Clears every counter and lock of `user_key`, from any IP (an admin's unlock).
pub async fn clear_user<'e>(db: impl PgExecutor<'e>, user_key: &str) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM console_signin_failures WHERE username = $1")
        .bind(user_key)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The username keys locked now (from some IP).
pub async fn locked_users<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT username FROM console_signin_failures
         WHERE username <> '' AND locked_until > now()",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
