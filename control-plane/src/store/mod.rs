//! Postgres access: the only place that knows the tables.
//!
//! One module per table family. Handlers open a transaction (or take a pooled
//! connection), call these functions to load what they change (with `FOR UPDATE` when they
//! will write it back), mutate typed values and save them. The functions of the
//! management API's tables answer [`ApiResult`](crate::error::ApiResult), with AWS's
//! errors for "not found" and "duplicate"; those that also serve the console, the
//! distribution loader or the metering mover answer `sqlx::Result`, and callers convert.

pub mod access_keys;
pub mod account;
pub mod alarms;
pub mod api_docs;
pub mod api_keys;
pub mod audit;
pub mod client_certificates;
pub mod cluster;
pub mod config;
pub mod console_secrets;
pub mod console_sessions;
pub mod console_users;
pub mod deployed;
pub mod deployments;
pub mod documentation;
pub mod domains;
pub mod gateway_responses;
pub mod health;
pub mod logs;
pub mod metric_reads;
pub mod metrics;
pub mod models;
pub mod policies;
pub mod resources;
pub mod rest_apis;
pub mod signin_failures;
pub mod stages;
pub mod tags;
pub mod usage;
pub mod usage_plans;
pub mod v2;
pub mod vpc_links;

/// The default account id (`--account-id` / `APIGW_ACCOUNT_ID` unset).
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

static ACCOUNT_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The account id that appears in AWS-style messages and ARNs: the control plane's
/// `--account-id`, set once at start ([`set_account_id`]); 000000000000 until then.
pub fn account_id() -> &'static str {
    ACCOUNT_ID.get().map_or(DEFAULT_ACCOUNT_ID, String::as_str)
}

/// Why an account id is refused: AWS account ids are 12 decimal digits.
#[derive(Debug, thiserror::Error)]
#[error("invalid account id {0:?}: an AWS account id is 12 decimal digits (e.g. 123456789012)")]
pub struct InvalidAccountId(pub String);

/// Checks `id` (12 digits) and makes it the process's account id. Called once, by `main`,
/// before anything reads it; a second call with another id is refused (the first stays).
pub fn set_account_id(id: &str) -> Result<(), InvalidAccountId> {
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidAccountId(id.to_string()));
    }
    let stored = ACCOUNT_ID.get_or_init(|| id.to_string());
    if stored != id {
        return Err(InvalidAccountId(format!("{id} (already {stored})")));
    }
    Ok(())
}

/// Whether a Postgres error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}
