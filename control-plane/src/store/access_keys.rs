//! The `access_keys` table: SigV4 access keys, their secrets sealed with the master key;
//! the bootstrap key from the environment and the keys console users create for
//! themselves (`user_id`).

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::keys::KeyVault;

/// A user's key as listed: access key id, description, enabled, creation (epoch seconds).
pub type KeyRow = (String, Option<String>, bool, i64);

const COLUMNS: &str = "access_key_id, description, enabled, EXTRACT(EPOCH FROM created_at)::BIGINT";

/// The stored secret of an enabled key: (plaintext of rows not yet sealed, sealed).
pub async fn enabled_secret<'e>(
    db: impl PgExecutor<'e>,
    access_key_id: &str,
) -> sqlx::Result<Option<(Option<String>, Option<Vec<u8>>)>> {
    sqlx::query_as(
        "SELECT secret, secret_enc FROM access_keys WHERE access_key_id = $1 AND enabled",
    )
    .bind(access_key_id)
    .fetch_optional(db)
    .await
}

/// Creates or refreshes the bootstrap access key (enabled, its secret sealed).
pub async fn ensure_bootstrap<'e>(
    db: impl PgExecutor<'e>,
    vault: &KeyVault,
    access_key_id: &str,
    secret: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, secret, secret_enc, description, enabled)
         VALUES ($1, NULL, $2, 'bootstrap key from APIGW_ACCESS_KEY_ID', TRUE)
         ON CONFLICT (access_key_id) DO UPDATE
             SET secret = NULL, secret_enc = EXCLUDED.secret_enc, enabled = TRUE",
    )
    .bind(access_key_id)
    .bind(vault.encrypt(secret))
    .execute(db)
    .await?;
    Ok(())
}

/// A user's keys, oldest first.
pub async fn list_of_user<'e>(db: impl PgExecutor<'e>, user_id: Uuid) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM access_keys WHERE user_id = $1 ORDER BY created_at"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The ids of a user's keys narrowed by their own policies.
pub async fn scoped_of_user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT access_key_id FROM access_keys WHERE user_id = $1 AND scoped")
            .bind(user_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// How many keys a user has.
pub async fn count_of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM access_keys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// Inserts an enabled key of a user, its secret sealed with `vault`.
pub async fn insert_for_user(
    conn: &mut PgConnection,
    vault: &KeyVault,
    access_key_id: &str,
    secret: &str,
    description: Option<&str>,
    user_id: Uuid,
) -> sqlx::Result<KeyRow> {
    sqlx::query_as(&format!(
        "INSERT INTO access_keys (access_key_id, secret_enc, description, enabled, user_id)
         VALUES ($1, $2, $3, TRUE, $4)
         RETURNING {COLUMNS}"
    ))
    .bind(access_key_id)
    .bind(vault.encrypt(secret))
    .bind(description)
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Enables or disables a key of a user; `None` when the user has no such key.
pub async fn set_enabled<'e>(
    db: impl PgExecutor<'e>,
    access_key_id: &str,
    user_id: Uuid,
    enabled: bool,
) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as(&format!(
        "UPDATE access_keys SET enabled = $3 WHERE access_key_id = $1 AND user_id = $2
         RETURNING {COLUMNS}"
    ))
    .bind(access_key_id)
    .bind(user_id)
    .bind(enabled)
    .fetch_optional(db)
    .await
}

/// Disables every key of a user.
pub async fn disable_all_of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE access_keys SET enabled = FALSE WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a key of a user; false when the user has no such key.
pub async fn delete_of_user<'e>(
    db: impl PgExecutor<'e>,
    access_key_id: &str,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1 AND user_id = $2")
        .bind(access_key_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// An enabled key as AWS_IAM verification needs it: access key id, plaintext secret of a
/// row not yet sealed, sealed secret, the owning console user's name (none for the
/// bootstrap key).
pub type EnabledKey = (String, Option<String>, Option<Vec<u8>>, Option<String>);

/// Every enabled key, by access key id.
pub async fn all_enabled(conn: &mut PgConnection) -> sqlx::Result<Vec<EnabledKey>> {
    sqlx::query_as(
        "SELECT k.access_key_id, k.secret, k.secret_enc, u.username
         FROM access_keys k LEFT JOIN console_users u ON u.id = k.user_id
         WHERE k.enabled ORDER BY k.access_key_id",
    )
    .fetch_all(conn)
    .await
}

/// The console user owning an access key (`None` for the bootstrap key or an unknown key).
pub async fn owner_username<'e>(
    db: impl PgExecutor<'e>,
    access_key_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT u.username FROM access_keys k JOIN console_users u ON u.id = k.user_id
         WHERE k.access_key_id = $1",
    )
    .bind(access_key_id)
    .fetch_optional(db)
    .await
}
