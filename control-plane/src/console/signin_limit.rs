//! Rate limiting of failed sign-ins, in Postgres so that every control-plane replica sees
//! the same counts.
//!
//! Two counters per client IP: one per username as typed (whether or not it exists, so a
//! lock reveals nothing), and one for all usernames from that IP (against password
//! spraying). Reaching a limit within the window locks sign-in for that key; a lock is
//! checked before the password, so even the right password is refused while it lasts.
//! A successful sign-in clears the (username, IP) counter.

use sqlx::PgPool;

use super::error::{ConsoleError, ConsoleResult};

/// The limits.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures of one username from one IP within the window that lock it.
    pub per_user: i32,
    /// Failures of any usernames from one IP within the window that lock the IP.
    pub per_ip: i32,
    /// Counting window, seconds.
    pub window_secs: f64,
    /// Lock duration, seconds.
    pub lock_secs: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            per_user: 5,
            per_ip: 50,
            window_secs: 900.0,
            lock_secs: 900.0,
        }
    }
}

/// The counter key of a username: lower-cased and bounded, matching the lookup.
fn user_key(username: &str) -> String {
    username.to_lowercase().chars().take(128).collect()
}

/// Fails with 429 while `username` or `ip` is locked.
pub async fn check(db: &PgPool, username: &str, ip: &str) -> ConsoleResult<()> {
    let left: Option<(f64,)> = sqlx::query_as(
        "SELECT EXTRACT(EPOCH FROM max(locked_until) - now())::float8
         FROM console_signin_failures
         WHERE ip = $2 AND username IN ($1, '') AND locked_until > now()
         HAVING max(locked_until) IS NOT NULL",
    )
    .bind(user_key(username))
    .bind(ip)
    .fetch_optional(db)
    .await?;
    match left {
        Some((secs,)) => Err(ConsoleError::TooManyRequests {
            retry_after_secs: secs.ceil().max(1.0) as i64,
        }),
        None => Ok(()),
    }
}

async fn bump(db: &PgPool, username: &str, ip: &str, max: i32, p: &Policy) -> sqlx::Result<()> {
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
    .bind(username)
    .bind(ip)
    .bind(max)
    .bind(p.window_secs)
    .bind(p.lock_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Counts a failed sign-in of `username` from `ip`, locking when a limit is reached.
pub async fn record_failure(
    db: &PgPool,
    p: &Policy,
    username: &str,
    ip: &str,
) -> ConsoleResult<()> {
    bump(db, &user_key(username), ip, p.per_user, p).await?;
    bump(db, "", ip, p.per_ip, p).await?;
    // Forget counters whose window and lock are both over.
    sqlx::query(
        "DELETE FROM console_signin_failures
         WHERE window_started_at < now() - make_interval(secs => $1)
           AND (locked_until IS NULL OR locked_until < now())",
    )
    .bind(p.window_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Clears the counter of `username` from `ip` after a successful sign-in.
pub async fn record_success(db: &PgPool, username: &str, ip: &str) -> ConsoleResult<()> {
    sqlx::query("DELETE FROM console_signin_failures WHERE username = $1 AND ip = $2")
        .bind(user_key(username))
        .bind(ip)
        .execute(db)
        .await?;
    Ok(())
}
