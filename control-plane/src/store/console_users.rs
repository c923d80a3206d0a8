//! The `console_users` table: console users with their argon2id hash, admin and enabled
//! flags and session epoch.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A user as stored.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Stable id (the session's `sub`).
    pub id: Uuid,
    /// Sign-in name (unique, case-insensitive).
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// May manage users.
    pub is_admin: bool,
    /// Disabled users cannot sign in and their sessions stop working.
    pub enabled: bool,
    /// Bumped on password changes to end every existing session.
    pub session_epoch: i32,
    /// Creation date, epoch seconds.
    pub created_date: i64,
}

type Tuple = (Uuid, String, String, bool, bool, i32, i64);

/// A user row and whether a given session was signed out.
type SessionTuple = (Uuid, String, String, bool, bool, i32, i64, bool);

const COLUMNS: &str = "id, username, password_hash, is_admin, enabled, session_epoch, \
                       EXTRACT(EPOCH FROM created_at)::BIGINT";

fn row(t: Tuple) -> UserRow {
    UserRow {
        id: t.0,
        username: t.1,
        password_hash: t.2,
        is_admin: t.3,
        enabled: t.4,
        session_epoch: t.5,
        created_date: t.6,
    }
}

/// The user with id `id`, and whether the console session `sid` was signed out: one
/// query for what every session-authenticated request checks.
pub async fn find_for_session<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    sid: &str,
) -> sqlx::Result<Option<(UserRow, bool)>> {
    let t: Option<SessionTuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM console_signed_out_sessions WHERE sid = $2) \
         FROM console_users WHERE id = $1"
    ))
    .bind(id)
    .bind(sid)
    .fetch_optional(db)
    .await?;
    Ok(t.map(|t| (row((t.0, t.1, t.2, t.3, t.4, t.5, t.6)), t.7)))
}

/// The user named `username` (case-insensitive); `lock` takes a row lock.
pub async fn find_by_name<'e>(
    db: impl PgExecutor<'e>,
    username: &str,
    lock: bool,
) -> sqlx::Result<Option<UserRow>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let t: Option<Tuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users WHERE lower(username) = lower($1){lock}"
    ))
    .bind(username)
    .fetch_optional(db)
    .await?;
    Ok(t.map(row))
}

/// Every user, by name.
pub async fn list<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<UserRow>> {
    let rows: Vec<Tuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users ORDER BY lower(username)"
    ))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(row).collect())
}

/// How many users there are.
pub async fn count<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM console_users")
        .fetch_one(db)
        .await?;
    Ok(n)
}

/// How many enabled admins there are.
pub async fn count_enabled_admins<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM console_users WHERE is_admin AND enabled")
            .fetch_one(db)
            .await?;
    Ok(n)
}

/// Inserts a user with an already computed hash, with their first policy attached in the
/// same statement: `AdministratorAccess` for an admin, `ReadOnlyAccess` otherwise (see
/// [`crate::iam`]). A taken name is a unique violation ([`super::is_unique_violation`]).
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> sqlx::Result<UserRow> {
    let t: Tuple = sqlx::query_as(&format!(
        "WITH u AS (
             INSERT INTO console_users (id, username, password_hash, is_admin)
             VALUES ($1, $2, $3, $4) RETURNING *
         ), p AS (
             INSERT INTO console_user_policies (user_id, policy_name)
             SELECT id, CASE WHEN is_admin THEN 'AdministratorAccess' ELSE 'ReadOnlyAccess' END
             FROM u
         )
         SELECT {COLUMNS} FROM u"
    ))
    .bind(Uuid::new_v4())
    .bind(username)
    .bind(password_hash)
    .bind(is_admin)
    .fetch_one(db)
    .await?;
    Ok(row(t))
}

/// Serialises the transactions that change users (creating the first admin, changing
/// admin and enabled flags), so "the last admin" cannot race away.
pub async fn lock_user_changes(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('console_users'))")
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks one user's row until the end of the transaction.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM console_users WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets a user's admin flag (kept equal to whether `AdministratorAccess` is attached).
pub async fn set_admin(conn: &mut PgConnection, id: Uuid, is_admin: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE console_users SET is_admin = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(is_admin)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back a user's flags, hash and session epoch.
pub async fn save(conn: &mut PgConnection, user: &UserRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE console_users SET enabled = $2, is_admin = $3, password_hash = $4,
         session_epoch = $5, updated_at = now() WHERE id = $1",
    )
    .bind(user.id)
    .bind(user.enabled)
    .bind(user.is_admin)
    .bind(&user.password_hash)
    .bind(user.session_epoch)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a user's password hash and ends their sessions; returns the new session epoch.
pub async fn set_password<'e>(db: impl PgExecutor<'e>, id: Uuid, hash: &str) -> sqlx::Result<i32> {
    let (epoch,): (i32,) = sqlx::query_as(
        "UPDATE console_users SET password_hash = $2, session_epoch = session_epoch + 1,
         updated_at = now() WHERE id = $1 RETURNING session_epoch",
    )
    .bind(id)
    .bind(hash)
    .fetch_one(db)
    .await?;
    Ok(epoch)
}
