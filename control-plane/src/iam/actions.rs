//! The IAM action names the console's access-control endpoints are authorized with (AWS's
//! names for the same operations). `AdministratorAccess` (`*`) has them all;
//! `ReadOnlyAccess` has none of them (managing users and policies is not reading the
//! gateway).

/// `GET /console/api/users`.
pub const LIST_USERS: &str = "iam:ListUsers";
/// `POST /console/api/users`.
pub const CREATE_USER: &str = "iam:CreateUser";
/// `PATCH /console/api/users/{user}` and `POST .../unlock`.
pub const UPDATE_USER: &str = "iam:UpdateUser";
/// `GET /console/api/policies`.
pub const LIST_POLICIES: &str = "iam:ListPolicies";
/// `POST /console/api/policies`.
pub const CREATE_POLICY: &str = "iam:CreatePolicy";
/// `DELETE /console/api/policies/{name}`.
pub const DELETE_POLICY: &str = "iam:DeletePolicy";
/// `PUT /console/api/users/{user}/policies/{name}`.
pub const ATTACH_USER_POLICY: &str = "iam:AttachUserPolicy";
/// `DELETE /console/api/users/{user}/policies/{name}`.
pub const DETACH_USER_POLICY: &str = "iam:DetachUserPolicy";
/// `GET /console/api/logs/search` (the console's log search is a `FilterLogEvents`).
pub const FILTER_LOG_EVENTS: &str = "logs:FilterLogEvents";
