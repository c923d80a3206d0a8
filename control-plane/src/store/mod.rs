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

/// The account id that appears in AWS-style messages and ARNs.
pub const ACCOUNT_ID: &str = "000000000000";

/// Whether a Postgres error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}
