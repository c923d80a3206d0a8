//! JSON shapes that several console endpoints answer with.

use serde::Serialize;

use crate::store::console_users::UserRow;

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
