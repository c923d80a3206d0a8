//! The console's policy endpoints: list, create and delete identity policies, and attach
//! them to users or detach them (`/console/api/policies`,
//! `/console/api/users/{user}/policies/{name}`). Each is authorized with its IAM action
//! ([`super::actions`]).
//!
//! `AdministratorAccess` and the user's `isAdmin` flag go together: attaching it makes the
//! user an admin, detaching it makes them not one (never one's own, never the last
//! enabled admin's).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{actions, authorize_user, policy_arn, user_arn};
use crate::console::error::{ConsoleError, ConsoleResult};
use crate::console::identity::SignedIn;
use crate::extract::AwsJson;
use crate::store::{self, console_users, policies};
use crate::AppState;

/// The built-in policy granting everything.
pub const ADMINISTRATOR_ACCESS: &str = "AdministratorAccess";
/// The built-in read-only policy (new users' policy).
pub const READ_ONLY_ACCESS: &str = "ReadOnlyAccess";

/// Body of CreatePolicy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicy {
    name: String,
    document: Value,
}

/// A policy on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyOut {
    name: String,
    document: Value,
    builtin: bool,
    created_date: i64,
    attachment_count: i64,
}

/// List body.
#[derive(Debug, Serialize)]
pub struct PolicyList {
    item: Vec<PolicyOut>,
}

/// IAM's policy names: 1 to 128 of letters, digits and `+=,.@_-`.
fn check_name(name: &str) -> ConsoleResult<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::bad_request(
            "Invalid policy name: use 1 to 128 letters, digits and +=,.@_-",
        ))
    }
}

/// The document as an object: given as a JSON object, or as a string of JSON text (as
/// IAM's API takes it); compiled to check it.
fn check_document(document: Value) -> ConsoleResult<Value> {
    let value = match document {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            ConsoleError::bad_request(format!("Invalid policy document: not valid JSON: {e}"))
        })?,
        other => other,
    };
    apigw_iam_policy::parse_identity_policy(&value)
        .map_err(|e| ConsoleError::bad_request(e.to_string()))?;
    Ok(value)
}

fn out(row: policies::PolicyRow) -> PolicyOut {
    PolicyOut {
        document: serde_json::from_str(&row.document).unwrap_or(Value::Null),
        name: row.name,
        builtin: row.builtin,
        created_date: row.created_date,
        attachment_count: row.attachment_count,
    }
}

/// GET /console/api/policies
pub async fn list(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
) -> ConsoleResult<Json<PolicyList>> {
    authorize_user(&state, &id.user, actions::LIST_POLICIES, "*").await?;
    let rows = policies::list(&state.db).await?;
    Ok(Json(PolicyList {
        item: rows.into_iter().map(out).collect(),
    }))
}

/// POST /console/api/policies
pub async fn create(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    AwsJson(req): AwsJson<CreatePolicy>,
) -> ConsoleResult<(StatusCode, Json<PolicyOut>)> {
    authorize_user(
        &state,
        &id.user,
        actions::CREATE_POLICY,
        &policy_arn(&req.name),
    )
    .await?;
    check_name(&req.name)?;
    let document = check_document(req.document)?;
    let mut tx = state.db.begin().await?;
    let created = policies::insert(&mut *tx, &req.name, &document.to_string())
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                ConsoleError::Conflict(format!("A policy named '{}' already exists", req.name))
            } else {
                e.into()
            }
        })?;
    crate::audit::commit(tx).await?;
    tracing::info!(by = %id.user.username, policy = %req.name, "policy created");
    Ok((
        StatusCode::CREATED,
        Json(PolicyOut {
            name: req.name,
            document,
            builtin: false,
            created_date: created,
            attachment_count: 0,
        }),
    ))
}

/// DELETE /console/api/policies/{name}
pub async fn delete(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    Path(name): Path<String>,
) -> ConsoleResult<StatusCode> {
    authorize_user(&state, &id.user, actions::DELETE_POLICY, &policy_arn(&name)).await?;
    let mut tx = state.db.begin().await?;
    match policies::delete(&mut tx, &name).await? {
        policies::Deleted::Deleted => {}
        policies::Deleted::NotFound => {
            return Err(ConsoleError::NotFound(format!("No policy named '{name}'")))
        }
        policies::Deleted::Builtin => {
            return Err(ConsoleError::bad_request(format!(
                "'{name}' is a built-in policy and cannot be deleted"
            )))
        }
        policies::Deleted::Attached(n) => {
            return Err(ConsoleError::Conflict(format!(
                "'{name}' is attached to {n} user(s) or access key(s); detach it first"
            )))
        }
    }
    crate::audit::commit(tx).await?;
    tracing::info!(by = %id.user.username, policy = %name, "policy deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Under the user-changes lock, the user `username` (locked) and the stored name of the
/// policy `name`; NotFound names whichever is missing.
async fn user_and_policy(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    username: &str,
    name: &str,
) -> ConsoleResult<(console_users::UserRow, String)> {
    console_users::lock_user_changes(tx).await?;
    let user = console_users::find_by_name(&mut **tx, username, true)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("No user named '{username}'")))?;
    let policy = policies::canonical_name(&mut **tx, name)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("No policy named '{name}'")))?;
    Ok((user, policy))
}

/// PUT /console/api/users/{username}/policies/{name}
pub async fn attach(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    Path((username, name)): Path<(String, String)>,
) -> ConsoleResult<StatusCode> {
    authorize_user(
        &state,
        &id.user,
        actions::ATTACH_USER_POLICY,
        &user_arn(&username),
    )
    .await?;
    let mut tx = state.db.begin().await?;
    let (user, policy) = user_and_policy(&mut tx, &username, &name).await?;
    policies::attach_to_user(&mut *tx, user.id, &policy).await?;
    if policy == ADMINISTRATOR_ACCESS {
        console_users::set_admin(&mut tx, user.id, true).await?;
    }
    crate::audit::commit(tx).await?;
    tracing::info!(by = %id.user.username, user = %user.username, %policy, "policy attached");
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /console/api/users/{username}/policies/{name}
pub async fn detach(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    Path((username, name)): Path<(String, String)>,
) -> ConsoleResult<StatusCode> {
    authorize_user(
        &state,
        &id.user,
        actions::DETACH_USER_POLICY,
        &user_arn(&username),
    )
    .await?;
    let mut tx = state.db.begin().await?;
    let (user, policy) = user_and_policy(&mut tx, &username, &name).await?;
    if policy == ADMINISTRATOR_ACCESS && user.id == id.user.id {
        return Err(ConsoleError::bad_request(
            "You cannot remove your own admin role",
        ));
    }
    if !policies::detach_from_user(&mut *tx, user.id, &policy).await? {
        return Err(ConsoleError::NotFound(format!(
            "'{policy}' is not attached to '{}'",
            user.username
        )));
    }
    if policy == ADMINISTRATOR_ACCESS {
        console_users::set_admin(&mut tx, user.id, false).await?;
        if console_users::count_enabled_admins(&mut *tx).await? == 0 {
            return Err(ConsoleError::Conflict(
                "At least one enabled admin must remain".into(),
            ));
        }
    }
    crate::audit::commit(tx).await?;
    tracing::info!(by = %id.user.username, user = %user.username, %policy, "policy detached");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_iam_rules() {
        assert!(check_name("Deploy-Only_v2.1@team+x=y,z").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name("slash/no").is_err());
        assert!(check_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn documents_are_checked_with_a_message() {
        let ok = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "apigateway:GET", "Resource": "*"}]});
        assert_eq!(check_document(ok.clone()).ok(), Some(ok.clone()));
        assert_eq!(check_document(Value::String(ok.to_string())).ok(), Some(ok));
        let msg = |v: Value| match check_document(v) {
            Err(ConsoleError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        };
        assert!(msg(json!("{not json")).contains("not valid JSON"));
        assert!(msg(json!([1])).contains("must be a JSON object"));
        assert!(
            msg(json!({"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}))
                .contains("'Effect' must be")
        );
    }
}
