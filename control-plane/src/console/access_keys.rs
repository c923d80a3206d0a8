//! "My access keys": a console user creates SigV4 access keys for the CLI and SDKs. The
//! secret is returned once, at creation, and never again. Keys live in the same
//! `access_keys` table the SigV4 middleware reads, linked to the user.
//!
//! A key acts with its user's policies; created with `"policies": [names]` it is narrowed
//! to what those policies allow as well (user's AND key's: never wider than the user).
//! Managing one's own keys needs no policy (as IAM's self-service credentials policy):
//! a key can do nothing its user cannot.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::error::{ConsoleError, ConsoleResult};
use super::identity::SignedIn;
use crate::extract::AwsJson;
use crate::store::access_keys::{self, KeyRow};
use crate::store::{console_users, policies};
use crate::AppState;

/// Most keys one user may hold (AWS allows two per IAM user; we allow a few more).
pub const MAX_KEYS_PER_USER: i64 = 5;

/// A key as listed (no secret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKey {
    access_key_id: String,
    description: Option<String>,
    enabled: bool,
    created_date: i64,
    /// The policies narrowing the key; absent for a key with its user's full policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    policies: Option<Vec<String>>,
}

/// A key just created, with its secret (shown once).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    #[serde(flatten)]
    key: AccessKey,
    secret_access_key: String,
}

/// Body of CreateAccessKey.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKey {
    description: Option<String>,
    /// Narrows the key to these policies (on top of its user's).
    policies: Option<Vec<String>>,
}

/// Body of UpdateAccessKey.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateKey {
    enabled: bool,
}

/// List body.
#[derive(Debug, Serialize)]
pub struct KeyList {
    item: Vec<AccessKey>,
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// A new key pair in AWS's shape: `AKIA` + 16 of A-Z0-9, and a 40-character secret.
fn new_pair() -> (String, String) {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (
        format!("AKIA{}", random_from(UPPER, 16)),
        random_from(SECRET, 40),
    )
}

fn key(t: KeyRow) -> AccessKey {
    AccessKey {
        access_key_id: t.0,
        description: t.1,
        enabled: t.2,
        created_date: t.3,
        policies: None,
    }
}

/// GET /console/api/me/access-keys
pub async fn list(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
) -> ConsoleResult<Json<KeyList>> {
    let rows = access_keys::list_of_user(&state.db, id.user.id).await?;
    let scoped = access_keys::scoped_of_user(&state.db, id.user.id).await?;
    let attached = policies::key_attachments_of_user(&state.db, id.user.id).await?;
    Ok(Json(KeyList {
        item: rows
            .into_iter()
            .map(|t| {
                let mut k = key(t);
                if scoped.contains(&k.access_key_id) {
                    k.policies = Some(
                        attached
                            .iter()
                            .filter(|(kid, _)| *kid == k.access_key_id)
                            .map(|(_, name)| name.clone())
                            .collect(),
                    );
                }
                k
            })
            .collect(),
    }))
}

/// POST /console/api/me/access-keys
pub async fn create(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    AwsJson(req): AwsJson<CreateKey>,
) -> ConsoleResult<(StatusCode, Json<CreatedKey>)> {
    if req
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 256)
    {
        return Err(ConsoleError::bad_request(
            "Description must be at most 256 characters",
        ));
    }
    let mut tx = state.db.begin().await?;
    let mut narrowing = None;
    if let Some(names) = &req.policies {
        let mut found = Vec::with_capacity(names.len());
        for name in names {
            let canonical = policies::canonical_name(&mut *tx, name)
                .await?
                .ok_or_else(|| ConsoleError::bad_request(format!("No policy named '{name}'")))?;
            found.push(canonical);
        }
        narrowing = Some(found);
    }
    console_users::lock(&mut tx, id.user.id).await?;
    let count = access_keys::count_of_user(&mut tx, id.user.id).await?;
    if count >= MAX_KEYS_PER_USER {
        return Err(ConsoleError::Conflict(format!(
            "You already have {MAX_KEYS_PER_USER} access keys; delete one first"
        )));
    }
    let (access_key_id, secret) = new_pair();
    let t = access_keys::insert_for_user(
        &mut tx,
        &state.keys,
        &access_key_id,
        &secret,
        req.description.as_deref(),
        id.user.id,
    )
    .await?;
    if let Some(names) = &narrowing {
        policies::scope_key(&mut tx, &access_key_id, names).await?;
    }
    crate::audit::commit(tx).await?;
    tracing::info!(user = %id.user.username, %access_key_id, "access key created");
    let mut created = key(t);
    created.policies = narrowing;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: created,
            secret_access_key: secret,
        }),
    ))
}

fn not_found(k: &str) -> ConsoleError {
    ConsoleError::NotFound(format!("You have no access key {k}"))
}

/// PATCH /console/api/me/access-keys/{id} — enable or disable.
pub async fn update(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    Path(access_key_id): Path<String>,
    AwsJson(req): AwsJson<UpdateKey>,
) -> ConsoleResult<Json<AccessKey>> {
    let mut tx = state.db.begin().await?;
    let t = access_keys::set_enabled(&mut *tx, &access_key_id, id.user.id, req.enabled).await?;
    let Some(t) = t else {
        return Err(not_found(&access_key_id));
    };
    crate::audit::commit(tx).await?;
    Ok(Json(key(t)))
}

/// DELETE /console/api/me/access-keys/{id}
pub async fn delete(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    Path(access_key_id): Path<String>,
) -> ConsoleResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    if !access_keys::delete_of_user(&mut *tx, &access_key_id, id.user.id).await? {
        return Err(not_found(&access_key_id));
    }
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_pairs_have_aws_shape() {
        let (id, secret) = super::new_pair();
        assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
        assert_eq!(secret.len(), 40);
        assert_ne!(super::new_pair().0, id);
    }
}
