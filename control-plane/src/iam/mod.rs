//! Management access control: who may call which management operation, decided by IAM
//! identity policies (docs/access-control.md).
//!
//! Every authenticated caller ([`crate::auth::Caller`]) resolves to a [`Principal`]: a
//! console user (session), a user's access key (the user's policies, narrowed by the
//! key's own when the key is scoped), or an access key from configuration (full access).
//! [`authorize`] evaluates the policies with `apigw-iam-policy` (default deny, an explicit
//! deny wins, else any allow allows) for one action on one resource and answers AWS's
//! `AccessDeniedException` ("User: ... is not authorized to perform: ... on resource: ...")
//! when the answer is not Allow.
//!
//! Where it is enforced:
//! - the `apigateway`/`apigatewayv2` routes: [`authorize_management`], a middleware after
//!   authentication and before the audit recorder and the handlers; action
//!   `apigateway:{HTTP method}`, resource `arn:aws:apigateway:{region}::{path}` (the v2
//!   paths without their `/v2` prefix, as AWS names them);
//! - the JSON-protocol services on `POST /` (CloudWatch, CloudWatch Logs, CloudTrail): each
//!   calls [`authorize`] with `{service}:{Operation}` on `*` once it knows the operation;
//! - the console's IAM endpoints (users, policies): each handler calls [`authorize_user`]
//!   with IAM's action names ([`actions`]).
//!
//! Policies are read from Postgres and compiled on every call (a few small documents): a
//! change takes effect on the next call, on every replica.

pub mod actions;
pub mod policies;

use apigw_iam_policy::{evaluate_identity, parse_identity_policy, Decision, EvalRequest, Policy};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::store;
use crate::AppState;

/// Who a call is authorized as.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A console user (their session, or one of their access keys).
    User {
        /// The user's id.
        id: Uuid,
        /// The user's name (for the ARN in refusals).
        username: String,
        /// The access key of the user that signed the call, if it is a narrowed one.
        scoped_key: Option<String>,
    },
    /// An access key from configuration (no user): full access.
    ConfigKey,
}

impl Principal {
    /// The principal's ARN, as refusals name it.
    pub fn arn(&self) -> String {
        match self {
            Principal::User { username, .. } => {
                format!("arn:aws:iam::{}:user/{username}", store::account_id())
            }
            Principal::ConfigKey => format!("arn:aws:iam::{}:root", store::account_id()),
        }
    }
}

/// The ARN of a console user.
pub fn user_arn(username: &str) -> String {
    format!("arn:aws:iam::{}:user/{username}", store::account_id())
}

/// The ARN of a policy.
pub fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{}:policy/{name}", store::account_id())
}

/// The principal behind an authenticated caller.
pub async fn principal_of(state: &AppState, caller: &Caller) -> Result<Principal, ApiError> {
    if let Some(username) = caller.access_key_id.strip_prefix("console:") {
        let user = store::console_users::find_by_name(&state.db, username, false)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("Sign in again.".into()))?;
        return Ok(Principal::User {
            id: user.id,
            username: user.username,
            scoped_key: None,
        });
    }
    let owner = store::policies::key_owner(&state.db, &caller.access_key_id).await?;
    Ok(match owner {
        Some(store::policies::KeyOwner {
            user: Some((id, username)),
            scoped,
        }) => Principal::User {
            id,
            username,
            scoped_key: scoped.then(|| caller.access_key_id.clone()),
        },
        Some(store::policies::KeyOwner { user: None, .. }) => Principal::ConfigKey,
        // Deleted since it signed this call (or its user was): never widen a vanished
        // user's key to a configured key's full access.
        None => {
            return Err(ApiError::Unauthorized(
                "The access key no longer exists.".into(),
            ))
        }
    })
}

/// Compiles stored documents; a stored document that no longer compiles (it was valid
/// when created) is an internal error rather than a silent widening or narrowing.
fn compile(docs: Vec<(String, String)>) -> Result<Vec<Policy>, ApiError> {
    docs.into_iter()
        .map(|(name, text)| {
            serde_json::from_str(&text)
                .map_err(|e| e.to_string())
                .and_then(|v| parse_identity_policy(&v).map_err(|e| e.to_string()))
                .map_err(|e| ApiError::Internal(format!("stored policy {name}: {e}")))
        })
        .collect()
}

/// The decision for `principal` calling `action` on `resource`: the user's policies must
/// allow it, and a scoped key's own policies too (the key is never wider than its user).
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    action: &str,
    resource: &str,
) -> Result<Decision, ApiError> {
    let Principal::User { id, scoped_key, .. } = principal else {
        return Ok(Decision::Allow);
    };
    let user = compile(store::policies::documents_of_user(&state.db, *id).await?)?;
    let decision = evaluate(&user, action, resource);
    if decision != Decision::Allow {
        return Ok(decision);
    }
    match scoped_key {
        None => Ok(decision),
        Some(key) => {
            let narrowing = compile(store::policies::documents_of_key(&state.db, key).await?)?;
            Ok(evaluate(&narrowing, action, resource))
        }
    }
}

/// One set of policies' decision (synchronous: the request it builds borrows a context
/// that must not live across an `.await`).
fn evaluate(policies: &[Policy], action: &str, resource: &str) -> Decision {
    evaluate_identity(policies, &EvalRequest::new(action, resource))
}

/// AWS's refusal text.
pub fn denial_message(principal_arn: &str, action: &str, resource: &str) -> String {
    format!("User: {principal_arn} is not authorized to perform: {action} on resource: {resource}")
}

/// Whether an error message is a refusal of [`denial_message`]'s shape (the audit log
/// records such calls with `errorCode` `AccessDenied`).
pub fn is_denial_message(message: &str) -> bool {
    message.starts_with("User: ") && message.contains(" is not authorized to perform: ")
}

/// The refusal as an error.
pub fn denied(principal: &Principal, action: &str, resource: &str) -> ApiError {
    ApiError::Forbidden {
        error_type: "AccessDeniedException",
        message: denial_message(&principal.arn(), action, resource),
    }
}

/// Refuses (403 `AccessDeniedException`) unless `caller` may call `action` on `resource`.
pub async fn authorize(
    state: &AppState,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    let principal = principal_of(state, caller).await?;
    authorize_principal(state, &principal, action, resource).await
}

/// [`authorize`] for a principal already resolved.
pub async fn authorize_principal(
    state: &AppState,
    principal: &Principal,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    match decide(state, principal, action, resource).await? {
        Decision::Allow => Ok(()),
        Decision::Deny | Decision::NotApplicable => {
            tracing::info!(principal = %principal.arn(), %action, %resource, "management call denied by policy");
            Err(denied(principal, action, resource))
        }
    }
}

/// [`authorize`] for a signed-in console user (console handlers).
pub async fn authorize_user(
    state: &AppState,
    user: &store::console_users::UserRow,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    let principal = Principal::User {
        id: user.id,
        username: user.username.clone(),
        scoped_key: None,
    };
    authorize_principal(state, &principal, action, resource).await
}

/// The resource ARN of a management call: `arn:aws:apigateway:{region}::{path}`, the
/// `apigatewayv2` paths without `/v2` (AWS's `/apis/{id}`, `/domainnames/{name}`).
pub fn management_resource(region: &str, path: &str) -> String {
    let path = match path.strip_prefix("/v2") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    };
    format!("arn:aws:apigateway:{region}::{path}")
}

/// Middleware on the management API (inside authentication, outside the audit recorder):
/// refuses a call its caller's policies do not allow.
pub async fn authorize_management(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        // Authentication always sets the caller; without one nothing is allowed.
        return ApiError::Forbidden {
            error_type: "AccessDeniedException",
            message: "The caller is not authenticated".into(),
        }
        .into_response();
    };
    let action = format!("apigateway:{}", req.method());
    let resource = management_resource(&state.region, req.uri().path());
    match authorize(&state, &caller, &action, &resource).await {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_resources_are_the_request_path() {
        assert_eq!(
            management_resource("us-east-1", "/restapis/abc/resources/r1"),
            "arn:aws:apigateway:us-east-1::/restapis/abc/resources/r1"
        );
        assert_eq!(
            management_resource("eu-west-1", "/v2/apis/xyz/routes"),
            "arn:aws:apigateway:eu-west-1::/apis/xyz/routes"
        );
        assert_eq!(
            management_resource("eu-west-1", "/v2"),
            "arn:aws:apigateway:eu-west-1::/v2"
        );
        assert_eq!(
            management_resource("eu-west-1", "/v2apis"),
            "arn:aws:apigateway:eu-west-1::/v2apis"
        );
    }

    #[test]
    fn denial_messages_have_aws_wording() {
        let p = Principal::User {
            id: Uuid::nil(),
            username: "alice".into(),
            scoped_key: None,
        };
        let m = denial_message(
            &p.arn(),
            "apigateway:DELETE",
            "arn:aws:apigateway:us-east-1::/restapis/a",
        );
        assert_eq!(
            m,
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: \
             apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::/restapis/a"
        );
        assert!(is_denial_message(&m));
        assert!(!is_denial_message("Invalid CSRF token"));
    }
}
