//! The `account` table: the single `Account` document (id 1), absent until first updated.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::wire::Account;

/// The account document, or the defaults when never updated.
pub async fn load(conn: &mut PgConnection) -> sqlx::Result<Account> {
    let row: Option<(Json<Account>,)> = sqlx::query_as("SELECT doc FROM account WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0 .0).unwrap_or_default())
}

/// Serialises account updates until the end of the transaction.
pub async fn lock(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(1)")
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the account document.
pub async fn save(conn: &mut PgConnection, account: &Account) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO account (id, doc) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(Json(account))
    .execute(conn)
    .await?;
    Ok(())
}
