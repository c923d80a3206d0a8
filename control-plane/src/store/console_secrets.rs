//! The `console_secrets` table (the generated session signing key, sealed with the master
//! key), and sealing the plaintext secrets that versions before migration 0005 stored.

use sqlx::{PgConnection, PgExecutor};

use crate::keys::KeyVault;

/// Stores a sealed signing key unless one is already stored.
pub async fn insert_signing_key_if_absent<'e>(
    db: impl PgExecutor<'e>,
    sealed: Vec<u8>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO console_secrets (name, value_enc) VALUES ('jwt_signing_key', $1)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(sealed)
    .execute(db)
    .await?;
    Ok(())
}

/// The stored signing key: (plaintext of a row not yet sealed, sealed).
pub async fn signing_key<'e>(
    db: impl PgExecutor<'e>,
) -> sqlx::Result<(Option<String>, Option<Vec<u8>>)> {
    sqlx::query_as("SELECT value, value_enc FROM console_secrets WHERE name = 'jwt_signing_key'")
        .fetch_one(db)
        .await
}

/// Moves every plaintext `{column}` of `table` into `{column}_enc`, sealed; returns how many
/// rows it sealed. The names are `'static` literals of the callers, never input.
pub async fn seal_column(
    tx: &mut PgConnection,
    vault: &KeyVault,
    table: &'static str,
    id: &'static str,
    column: &'static str,
) -> sqlx::Result<usize> {
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT {id}, {column} FROM {table}
         WHERE {column}_enc IS NULL AND {column} IS NOT NULL FOR UPDATE"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let update = format!("UPDATE {table} SET {column}_enc = $2, {column} = NULL WHERE {id} = $1");
    for (key, plain) in &rows {
        sqlx::query(&update)
            .bind(key)
            .bind(vault.encrypt(plain))
            .execute(&mut *tx)
            .await?;
    }
    Ok(rows.len())
}
