//! The `config_version` sequence: bumped by every transaction that changes what nodes
//! see, read by the distribution watcher.

use sqlx::PgConnection;

use crate::error::ApiResult;

/// The notification channel every config change is announced on (payload: the version).
pub const CHANNEL: &str = "apigw_config";

/// Records that what is deployed changed: bumps the config version and wakes every
/// control-plane replica (delivered when the transaction commits).
pub async fn bump(conn: &mut PgConnection) -> ApiResult<()> {
    sqlx::query("SELECT pg_notify('apigw_config', nextval('config_version')::text)")
        .execute(conn)
        .await?;
    Ok(())
}

/// The sequence's `(last_value, is_called)`: `is_called` is false until the first bump.
pub async fn version<'e, E>(conn: E) -> sqlx::Result<(i64, bool)>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query_as("SELECT last_value, is_called FROM config_version")
        .fetch_one(conn)
        .await
}
