//! The `iam_policies` table (named identity policy documents, the built-in ones among
//! them) and their attachments to console users (`console_user_policies`) and to access
//! keys (`access_key_policies`, for keys narrowed with `scoped`). What the documents mean
//! is [`crate::iam`]'s business; this module only stores them.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A policy as stored.
#[derive(Debug, Clone)]
pub struct PolicyRow {
    /// The policy's name (unique, case-insensitive).
    pub name: String,
    /// The JSON document, as text.
    pub document: String,
    /// Built-in (cannot be deleted).
    pub builtin: bool,
    /// Creation date, epoch seconds.
    pub created_date: i64,
    /// How many users and keys have it attached.
    pub attachment_count: i64,
}

type Tuple = (String, String, bool, i64, i64);

/// Every policy, built-in ones first, then by name.
pub async fn list<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<PolicyRow>> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT p.name, p.document::text, p.builtin, EXTRACT(EPOCH FROM p.created_at)::BIGINT,
                (SELECT count(*) FROM console_user_policies u WHERE u.policy_name = p.name)
              + (SELECT count(*) FROM access_key_policies k WHERE k.policy_name = p.name)
         FROM iam_policies p ORDER BY p.builtin DESC, lower(p.name)",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|t| PolicyRow {
            name: t.0,
            document: t.1,
            builtin: t.2,
            created_date: t.3,
            attachment_count: t.4,
        })
        .collect())
}

/// The stored spelling of the policy named `name` (matched case-insensitively).
pub async fn canonical_name<'e>(
    db: impl PgExecutor<'e>,
    name: &str,
) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT name FROM iam_policies WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Inserts a policy (the document already validated); a taken name is a unique violation
/// ([`super::is_unique_violation`]). Returns the creation date.
pub async fn insert<'e>(db: impl PgExecutor<'e>, name: &str, document: &str) -> sqlx::Result<i64> {
    let (created,): (i64,) = sqlx::query_as(
        "INSERT INTO iam_policies (name, document) VALUES ($1, $2::jsonb)
         RETURNING EXTRACT(EPOCH FROM created_at)::BIGINT",
    )
    .bind(name)
    .bind(document)
    .fetch_one(db)
    .await?;
    Ok(created)
}

/// What deleting a policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// It is gone.
    Deleted,
    /// There is no such policy.
    NotFound,
    /// It is built in and stays.
    Builtin,
    /// Users or keys have it attached (detach it first).
    Attached(i64),
}

/// Deletes a customer policy that nothing has attached.
pub async fn delete(conn: &mut PgConnection, name: &str) -> sqlx::Result<Deleted> {
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT name, builtin FROM iam_policies WHERE lower(name) = lower($1) FOR UPDATE",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((name, builtin)) = row else {
        return Ok(Deleted::NotFound);
    };
    if builtin {
        return Ok(Deleted::Builtin);
    }
    let (attached,): (i64,) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM console_user_policies WHERE policy_name = $1)
              + (SELECT count(*) FROM access_key_policies WHERE policy_name = $1)",
    )
    .bind(&name)
    .fetch_one(&mut *conn)
    .await?;
    if attached > 0 {
        return Ok(Deleted::Attached(attached));
    }
    sqlx::query("DELETE FROM iam_policies WHERE name = $1")
        .bind(&name)
        .execute(conn)
        .await?;
    Ok(Deleted::Deleted)
}

/// Attaches the policy `name` (its stored spelling) to a user; `false` if it already was.
pub async fn attach_to_user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
    name: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO console_user_policies (user_id, policy_name) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(name)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Detaches the policy `name` (its stored spelling) from a user; `false` if it was not
/// attached.
pub async fn detach_from_user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
    name: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM console_user_policies WHERE user_id = $1 AND policy_name = $2")
            .bind(user_id)
            .bind(name)
            .execute(db)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The names of the policies attached to each user: (user id, policy name), by name.
pub async fn user_attachments<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT user_id, policy_name FROM console_user_policies ORDER BY lower(policy_name)",
    )
    .fetch_all(db)
    .await
}

/// The (name, document) of every policy attached to the user `user_id`.
pub async fn documents_of_user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT p.name, p.document::text FROM console_user_policies a
         JOIN iam_policies p ON p.name = a.policy_name WHERE a.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The owner of an access key, as authorization needs it.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    /// The owning console user (id, name); `None` for keys from configuration.
    pub user: Option<(Uuid, String)>,
    /// Whether the key is narrowed by its own policies.
    pub scoped: bool,
}

/// Who owns the key `access_key_id`, and whether it is narrowed; `None` if no such key.
pub async fn key_owner<'e>(
    db: impl PgExecutor<'e>,
    access_key_id: &str,
) -> sqlx::Result<Option<KeyOwner>> {
    let row: Option<(Option<Uuid>, Option<String>, bool)> = sqlx::query_as(
        "SELECT k.user_id, u.username, k.scoped FROM access_keys k
         LEFT JOIN console_users u ON u.id = k.user_id WHERE k.access_key_id = $1",
    )
    .bind(access_key_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name, scoped)| KeyOwner {
        user: id.zip(name),
        scoped,
    }))
}

/// The (name, document) of every policy attached to the key `access_key_id`.
pub async fn documents_of_key<'e>(
    db: impl PgExecutor<'e>,
    access_key_id: &str,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT p.name, p.document::text FROM access_key_policies a
         JOIN iam_policies p ON p.name = a.policy_name WHERE a.access_key_id = $1",
    )
    .bind(access_key_id)
    .fetch_all(db)
    .await
}

/// Narrows a key to `names` (stored spellings): marks it scoped and attaches them.
pub async fn scope_key(
    conn: &mut PgConnection,
    access_key_id: &str,
    names: &[String],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE access_keys SET scoped = TRUE WHERE access_key_id = $1")
        .bind(access_key_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO access_key_policies (access_key_id, policy_name)
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(access_key_id)
    .bind(names)
    .execute(conn)
    .await?;
    Ok(())
}

/// The policies narrowing each key of a user: (access key id, policy name).
pub async fn key_attachments_of_user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT a.access_key_id, a.policy_name FROM access_key_policies a
         JOIN access_keys k ON k.access_key_id = a.access_key_id WHERE k.user_id = $1
         ORDER BY lower(a.policy_name)",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
