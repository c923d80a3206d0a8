//! Rate limiting of failed sign-ins, in Postgres so that every control-plane replica sees
//! the same counts.
//!
//! Two counters per client IP: one per username as typed (whether or not it exists, so a
//! lock reveals nothing), and one for all usernames from that IP (against password
//! spraying). Reaching a limit within the window locks sign-in for that key; a lock is
//! checked before the password, so even the right password is refused while it lasts.
//! A successful sign-in clears the (username, IP) counter. Failures from one IP never lock
//! the same username at another IP, and an admin can lift a user's locks ([`unlock`]).
//!
//! The IP is the TCP peer address: behind a reverse proxy every client shares the proxy's
//! address (`X-Forwarded-For` is not trusted).

use sqlx::PgPool;

use super::error::{ConsoleError, ConsoleResult};
use crate::store::signin_failures;

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
    let left = signin_failures::lock_left(db, &user_key(username), ip).await?;
    match left {
        Some(secs) => Err(ConsoleError::TooManyRequests {
            retry_after_secs: secs.ceil().max(1.0) as i64,
        }),
        None => Ok(()),
    }
}

/// Counts a failed sign-in of `username` from `ip`, locking when a limit is reached.
pub async fn record_failure(
    db: &PgPool,
    p: &Policy,
    username: &str,
    ip: &str,
) -> ConsoleResult<()> {
    let (window, lock) = (p.window_secs, p.lock_secs);
    signin_failures::bump(db, &user_key(username), ip, p.per_user, window, lock).await?;
    signin_failures::bump(db, "", ip, p.per_ip, window, lock).await?;
    // Forget counters whose window and lock are both over.
    signin_failures::prune(db, p.window_secs).await?;
    Ok(())
}

/// Clears the counter of `username` from `ip` after a successful sign-in.
pub async fn record_success(db: &PgPool, username: &str, ip: &str) -> ConsoleResult<()> {
    signin_failures::clear(db, &user_key(username), ip).await?;
    Ok(())
}

/// Lifts every lock and counter of `username`, from any IP (an admin's unlock).
pub async fn unlock(db: &PgPool, username: &str) -> ConsoleResult<()> {
    signin_failures::clear_user(db, &user_key(username)).await?;
    Ok(())
}

/// The usernames (as counter keys) locked now from some IP.
pub async fn locked_users(db: &PgPool) -> ConsoleResult<std::collections::HashSet<String>> {
    Ok(signin_failures::locked_users(db)
        .await?
        .into_iter()
        .collect())
}

/// Whether `username` is among `locked` (the keys [`locked_users`] answers).
pub fn is_locked(locked: &std::collections::HashSet<String>, username: &str) -> bool {
    locked.contains(&user_key(username))
}
