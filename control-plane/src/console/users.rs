//! The admin endpoints for console users: create users, disable them, set their
//! passwords and lift their sign-in locks (the users themselves are in [`crate::store::console_users`]).
//! Each is authorized by the caller's policies with IAM's action name
//! ([`crate::iam::actions`]). A new user gets `ReadOnlyAccess` (or `AdministratorAccess`
//! when created with `isAdmin`); setting `isAdmin` attaches or detaches
//! `AdministratorAccess`.
//!
//! Disabling a user also disables the access keys they created, so that neither their
//! sessions nor their CLI keys work any more; re-enabling leaves the keys disabled until
//! the user turns them on again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::{ConsoleError, ConsoleResult};
use super::identity::SignedIn;
use super::wire::User;
use super::{password, signin_limit};
use crate::extract::AwsJson;
use crate::iam::{self, actions, policies::ADMINISTRATOR_ACCESS};
use crate::store::{self, console_users, policies};
use crate::AppState;

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

/// A user as the list shows it: with whether failed sign-ins lock them out (from some IP).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedUser {
    #[serde(flatten)]
    user: User,
    sign_in_locked: bool,
    /// The names of the policies attached to the user.
    policies: Vec<String>,
}

/// List body.
#[derive(Debug, Serialize)]
pub struct UserList {
    item: Vec<ListedUser>,
}

/// GET /console/api/users (`iam:ListUsers`)
pub async fn list(
    State(state): State<AppState>,
    SignedIn(admin): SignedIn,
) -> ConsoleResult<Json<UserList>> {
    iam::authorize_user(&state, &admin.user, actions::LIST_USERS, "*").await?;
    let rows = console_users::list(&state.db).await?;
    let locked = signin_limit::locked_users(&state.db).await?;
    let attached = policies::user_attachments(&state.db).await?;
    Ok(Json(UserList {
        item: rows
            .iter()
            .map(|u| ListedUser {
                user: User::from(u),
                sign_in_locked: signin_limit::is_locked(&locked, &u.username),
                policies: attached
                    .iter()
                    .filter(|(id, _)| *id == u.id)
                    .map(|(_, name)| name.clone())
                    .collect(),
            })
            .collect(),
    }))
}

/// POST /console/api/users/{username}/unlock (`iam:UpdateUser`): lifts the sign-in locks
/// and failure counts of the user, from every IP.
pub async fn unlock(
    State(state): State<AppState>,
    SignedIn(admin): SignedIn,
    Path(username): Path<String>,
) -> ConsoleResult<StatusCode> {
    let arn = iam::user_arn(&username);
    iam::authorize_user(&state, &admin.user, actions::UPDATE_USER, &arn).await?;
    let user = console_users::find_by_name(&state.db, &username, false)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("No user named '{username}'")))?;
    signin_limit::unlock(&state.db, &user.username).await?;
    tracing::info!(by = %admin.user.username, user = %user.username, "console user unlocked");
    Ok(StatusCode::NO_CONTENT)
}

/// POST /console/api/users (`iam:CreateUser`)
pub async fn create(
    State(state): State<AppState>,
    SignedIn(admin): SignedIn,
    AwsJson(req): AwsJson<CreateUser>,
) -> ConsoleResult<(StatusCode, Json<User>)> {
    let arn = iam::user_arn(&req.username);
    iam::authorize_user(&state, &admin.user, actions::CREATE_USER, &arn).await?;
    password::check_username(&req.username)?;
    password::check_password_rules(&req.password)?;
    let hash = password::hash_blocking(req.password).await?;
    let mut tx = state.db.begin().await?;
    let user = console_users::insert(&mut *tx, &req.username, &hash, req.is_admin)
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                ConsoleError::Conflict(format!("A user named '{}' already exists", req.username))
            } else {
                e.into()
            }
        })?;
    crate::audit::commit(tx).await?;
    tracing::info!(by = %admin.user.username, user = %user.username, is_admin = user.is_admin,
        "console user created");
    Ok((StatusCode::CREATED, Json(User::from(&user))))
}

/// PATCH /console/api/users/{username} (`iam:UpdateUser`)
pub async fn update(
    State(state): State<AppState>,
    SignedIn(admin): SignedIn,
    Path(username): Path<String>,
    AwsJson(req): AwsJson<UpdateUser>,
) -> ConsoleResult<Json<User>> {
    let arn = iam::user_arn(&username);
    iam::authorize_user(&state, &admin.user, actions::UPDATE_USER, &arn).await?;
    let hash = match req.password {
        Some(p) => {
            password::check_password_rules(&p)?;
            Some(password::hash_blocking(p).await?)
        }
        None => None,
    };
    let mut tx = state.db.begin().await?;
    // One admin-changing transaction at a time, so "the last admin" cannot race away.
    console_users::lock_user_changes(&mut tx).await?;
    let target = console_users::find_by_name(&mut *tx, &username, true).await?;
    let mut user =
        target.ok_or_else(|| ConsoleError::NotFound(format!("No user named '{username}'")))?;
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
    console_users::save(&mut tx, &user).await?;
    match req.is_admin {
        Some(true) => {
            policies::attach_to_user(&mut *tx, user.id, ADMINISTRATOR_ACCESS).await?;
        }
        Some(false) => {
            policies::detach_from_user(&mut *tx, user.id, ADMINISTRATOR_ACCESS).await?;
        }
        None => {}
    }
    if !user.enabled {
        store::access_keys::disable_all_of_user(&mut tx, user.id).await?;
    }
    if console_users::count_enabled_admins(&mut *tx).await? == 0 {
        return Err(ConsoleError::Conflict(
            "At least one enabled admin must remain".into(),
        ));
    }
    crate::audit::commit(tx).await?;
    tracing::info!(by = %admin.user.username, user = %user.username, enabled = user.enabled,
        is_admin = user.is_admin, "console user updated");
    Ok(Json(User::from(&user)))
}
