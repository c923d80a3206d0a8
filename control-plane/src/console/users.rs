//! Console users: the `console_users` table and the admin endpoints that create users,
//! disable them and set their passwords.
//!
//! Disabling a user also disables the access keys they created, so that neither their
//! sessions nor their CLI keys work any more; re-enabling leaves the keys disabled until
//! the user turns them on again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::error::{ConsoleError, ConsoleResult};
use super::identity::Admin;
use super::password;
use crate::api::extract::AwsJson;
use crate::AppState;

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

/// The wire form of a user (never the hash).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Admin flag.
    pub is_admin: bool,
    /// Enabled flag.
    pub enabled: bool,
    /// Creation date, epoch seconds.
    pub created_date: i64,
}

impl From<&UserRow> for User {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            is_admin: u.is_admin,
            enabled: u.enabled,
            created_date: u.created_date,
        }
    }
}

type Tuple = (Uuid, String, String, bool, bool, i32, i64);

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

/// The user with id `id`.
pub async fn find_by_id(db: &PgPool, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    let t: Option<Tuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(t.map(row))
}

/// The user named `username` (case-insensitive).
pub async fn find_by_name(db: &PgPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let t: Option<Tuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users WHERE lower(username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(db)
    .await?;
    Ok(t.map(row))
}

/// Usernames: 1–64 of `a-zA-Z0-9._@-`, so they are safe in logs, URLs and cookies.
pub fn check_username(name: &str) -> ConsoleResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::bad_request(
            "Username must be 1 to 64 characters of a-z, A-Z, 0-9, '.', '_', '@' or '-'",
        ))
    }
}

/// Inserts a user with an already computed hash; a taken name is a 409.
pub async fn insert(
    db: &PgPool,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> ConsoleResult<UserRow> {
    let t: Tuple = sqlx::query_as(&format!(
        "INSERT INTO console_users (id, username, password_hash, is_admin)
         VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(username)
    .bind(password_hash)
    .bind(is_admin)
    .fetch_one(db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            ConsoleError::Conflict(format!("A user named '{username}' already exists"))
        }
        _ => e.into(),
    })?;
    Ok(row(t))
}

/// Body of CreateUser.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    password: String,
    #[serde(default)]
    is_admin: bool,
}

/// Body of UpdateUser: every member optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUser {
    enabled: Option<bool>,
    is_admin: Option<bool>,
    password: Option<String>,
}

/// List body.
#[derive(Debug, Serialize)]
pub struct UserList {
    item: Vec<User>,
}

/// GET /console/api/users (admin)
pub async fn list(State(state): State<AppState>, _admin: Admin) -> ConsoleResult<Json<UserList>> {
    let rows: Vec<Tuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users ORDER BY lower(username)"
    ))
    .fetch_all(&state.db)
    .await?;
    Ok(Json(UserList {
        item: rows.into_iter().map(|t| User::from(&row(t))).collect(),
    }))
}

/// POST /console/api/users (admin)
pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    AwsJson(req): AwsJson<CreateUser>,
) -> ConsoleResult<(StatusCode, Json<User>)> {
    check_username(&req.username)?;
    password::check_password_rules(&req.password)?;
    let hash = password::hash_blocking(req.password).await?;
    let user = insert(&state.db, &req.username, &hash, req.is_admin).await?;
    tracing::info!(by = %admin.user.username, user = %user.username, is_admin = user.is_admin,
        "console user created");
    Ok((StatusCode::CREATED, Json(User::from(&user))))
}

/// PATCH /console/api/users/{username} (admin)
pub async fn update(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(username): Path<String>,
    AwsJson(req): AwsJson<UpdateUser>,
) -> ConsoleResult<Json<User>> {
    let hash = match req.password {
        Some(p) => {
            password::check_password_rules(&p)?;
            Some(password::hash_blocking(p).await?)
        }
        None => None,
    };
    let mut tx = state.db.begin().await?;
    // One admin-changing transaction at a time, so "the last admin" cannot race away.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('console_users'))")
        .execute(&mut *tx)
        .await?;
    let target: Option<Tuple> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users WHERE lower(username) = lower($1) FOR UPDATE"
    ))
    .bind(&username)
    .fetch_optional(&mut *tx)
    .await?;
    let mut user = target
        .map(row)
        .ok_or_else(|| ConsoleError::NotFound(format!("No user named '{username}'")))?;
    let is_self = user.id == admin.user.id;
    if is_self && req.enabled == Some(false) {
        return Err(ConsoleError::bad_request(
            "You cannot disable your own user",
        ));
    }
    if is_self && req.is_admin == Some(false) {
        return Err(ConsoleError::bad_request(
            "You cannot remove your own admin role",
        ));
    }
    if let Some(e) = req.enabled {
        user.enabled = e;
    }
    if let Some(a) = req.is_admin {
        user.is_admin = a;
    }
    if let Some(h) = hash {
        user.password_hash = h;
        user.session_epoch += 1;
    }
    sqlx::query(
        "UPDATE console_users SET enabled = $2, is_admin = $3, password_hash = $4,
         session_epoch = $5, updated_at = now() WHERE id = $1",
    )
    .bind(user.id)
    .bind(user.enabled)
    .bind(user.is_admin)
    .bind(&user.password_hash)
    .bind(user.session_epoch)
    .execute(&mut *tx)
    .await?;
    if !user.enabled {
        sqlx::query("UPDATE access_keys SET enabled = FALSE WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
    }
    let admins: (i64,) =
        sqlx::query_as("SELECT count(*) FROM console_users WHERE is_admin AND enabled")
            .fetch_one(&mut *tx)
            .await?;
    if admins.0 == 0 {
        return Err(ConsoleError::Conflict(
            "At least one enabled admin must remain".into(),
        ));
    }
    tx.commit().await?;
    tracing::info!(by = %admin.user.username, user = %user.username, enabled = user.enabled,
        is_admin = user.is_admin, "console user updated");
    Ok(Json(User::from(&user)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames() {
        assert!(super::check_username("alice.b@example-1_x").is_ok());
        assert!(super::check_username("").is_err());
        assert!(super::check_username("a b").is_err());
        assert!(super::check_username(&"a".repeat(65)).is_err());
    }
}
