//! Start-up work for the console: the session signing key and the first admin.

use sqlx::PgPool;

use super::error::ConsoleError;
use super::password;
use crate::keys::KeyVault;
use crate::store::{console_secrets, console_users};

/// Shortest configured signing key accepted (HS256 wants at least 256 bits).
pub const MIN_SECRET_LEN: usize = 32;

/// Failures at start-up.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// `APIGW_JWT_SECRET` is too short.
    #[error(
        "the session signing key (APIGW_JWT_SECRET) must be at least {MIN_SECRET_LEN} characters"
    )]
    WeakSecret,
    /// `APIGW_ADMIN_USER` / `APIGW_ADMIN_PASSWORD` are unusable.
    #[error("APIGW_ADMIN_USER/APIGW_ADMIN_PASSWORD: {0}")]
    BadAdmin(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Hashing failed.
    #[error("{0}")]
    Console(#[from] ConsoleError),
    /// The stored signing key does not decrypt under the configured master key.
    #[error("the stored session signing key: {0} (was APIGW_MASTER_KEY changed? set APIGW_JWT_SECRET or restore the key)")]
    Sealed(#[from] crate::keys::VaultError),
}

/// The signing key: the configured one, or one generated once and kept in Postgres
/// (sealed with the master key) so that every replica and every restart signs and
/// verifies with the same key.
pub async fn signing_secret(
    db: &PgPool,
    vault: &KeyVault,
    configured: Option<&str>,
) -> Result<Vec<u8>, BootstrapError> {
    if let Some(s) = configured.filter(|s| !s.is_empty()) {
        if s.len() < MIN_SECRET_LEN {
            return Err(BootstrapError::WeakSecret);
        }
        return Ok(s.as_bytes().to_vec());
    }
    let sealed = vault.encrypt(&(password::random_password() + &password::random_password()));
    console_secrets::insert_signing_key_if_absent(db, sealed).await?;
    let (plain, sealed) = console_secrets::signing_key(db).await?;
    let value = match (sealed, plain) {
        (Some(sealed), _) => vault.decrypt(&sealed)?,
        (None, Some(plain)) => plain,
        (None, None) => return Err(BootstrapError::Db(sqlx::Error::RowNotFound)),
    };
    Ok(value.into_bytes())
}

/// Creates the first admin when there is no console user yet: from the configured name
/// and password, or `admin` with a generated password printed once to stdout. Also warms
/// the decoy hash that unknown-user sign-ins are checked against.
pub async fn first_admin(
    db: &PgPool,
    user: Option<&str>,
    pass: Option<&str>,
) -> Result<(), BootstrapError> {
    // Compute the decoy hash now, so the first sign-in of an unknown user is not slower.
    let _ = tokio::task::spawn_blocking(password::decoy_hash).await;
    let mut tx = db.begin().await?;
    console_users::lock_user_changes(&mut tx).await?;
    let count = console_users::count(&mut *tx).await?;
    if count > 0 {
        return Ok(());
    }
    let name = user
        .filter(|u| !u.is_empty())
        .unwrap_or("admin")
        .to_string();
    password::check_username(&name).map_err(|e| BootstrapError::BadAdmin(e.to_string()))?;
    let (pass, generated) = match pass.filter(|p| !p.is_empty()) {
        Some(p) => {
            password::check_password_rules(p)
                .map_err(|e| BootstrapError::BadAdmin(e.to_string()))?;
            (p.to_string(), false)
        }
        None => (password::random_password(), true),
    };
    let hash = password::hash_blocking(pass.clone()).await?;
    console_users::insert(&mut *tx, &name, &hash, true).await?;
    tx.commit().await?;
    if generated {
        // Printed once; only the hash is stored, so it cannot be shown again.
        println!(
            "\n==== First console admin created ====\n  username: {name}\n  password: {pass}\n\
             Sign in and change it (Settings → My password). It will not be shown again.\n"
        );
    } else {
        tracing::info!(user = %name, "first console admin created from APIGW_ADMIN_USER");
    }
    Ok(())
}
