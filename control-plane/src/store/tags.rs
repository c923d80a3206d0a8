//! Tags of the taggable resources (RestApi, Stage, ApiKey, UsagePlan, VpcLink, DomainName,
//! ClientCertificate).
//!
//! A resource's tags are the `tags` member of its own document (`rest_apis`, `stages`,
//! `api_keys`, `usage_plans`, `vpc_links`), so creating a resource with tags, Get/list answering them
//! and deleting a resource with its tags need nothing here. This module is what
//! GetTags/TagResource/UntagResource use: read or replace the tags of one resource named
//! by a [`Target`], without touching the rest of its document.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};

/// A taggable resource, as named by an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/restapis/{id}`
    RestApi(String),
    /// `/restapis/{id}/stages/{name}`
    Stage {
        /// REST API id.
        api_id: String,
        /// Stage name.
        name: String,
    },
    /// `/apikeys/{id}`
    ApiKey(String),
    /// `/usageplans/{id}`
    UsagePlan(String),
    /// `/vpclinks/{id}`
    VpcLink(String),
    /// `/domainnames/{name}`
    DomainName(String),
    /// `/clientcertificates/{id}`
    ClientCertificate(String),
}

type Tags = BTreeMap<String, String>;

/// The table, the key columns' condition and the key values of a target.
fn locate(target: &Target) -> (&'static str, &'static str, [&str; 2]) {
    match target {
        Target::RestApi(id) => ("rest_apis", "id = $1", [id, ""]),
        Target::Stage { api_id, name } => {
            ("stages", "api_id = $1 AND stage_name = $2", [api_id, name])
        }
        Target::ApiKey(id) => ("api_keys", "id = $1", [id, ""]),
        Target::UsagePlan(id) => ("usage_plans", "id = $1", [id, ""]),
        Target::VpcLink(id) => ("vpc_links", "id = $1", [id, ""]),
        Target::DomainName(name) => ("domain_names", "domain_name = $1", [name, ""]),
        Target::ClientCertificate(id) => ("client_certificates", "id = $1", [id, ""]),
    }
}

fn not_found(target: &Target) -> ApiError {
    ApiError::not_found(match target {
        Target::RestApi(id) => format!(
            "Invalid API identifier specified {}:{id}",
            super::account_id()
        ),
        Target::Stage { api_id, name } => {
            format!("Invalid stage identifier specified: {api_id}/{name}")
        }
        Target::ApiKey(_) => "Invalid API Key identifier specified".to_string(),
        Target::UsagePlan(id) => format!("Invalid Usage Plan ID specified: {id}"),
        Target::VpcLink(id) => format!("Invalid Vpc link identifier specified: {id}"),
        Target::DomainName(name) => {
            format!("Invalid domain name identifier specified: {name}")
        }
        Target::ClientCertificate(id) => {
            format!("Invalid client certificate identifier specified: {id}")
        }
    })
}

/// The tags of a resource (NotFound when it does not exist); `lock` takes a row lock for
/// the rest of the transaction, for a read-modify-write.
pub async fn load(conn: &mut PgConnection, target: &Target, lock: bool) -> ApiResult<Tags> {
    let (table, cond, [a, b]) = locate(target);
    let sql = format!(
        "SELECT doc->'tags' FROM {table} WHERE {cond}{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let mut query = sqlx::query_as::<_, (Option<Json<Tags>>,)>(&sql).bind(a);
    if matches!(target, Target::Stage { .. }) {
        query = query.bind(b);
    }
    let row = query.fetch_optional(conn).await?;
    match row {
        None => Err(not_found(target)),
        Some((tags,)) => Ok(tags.map(|t| t.0).unwrap_or_default()),
    }
}

/// Replaces a resource's tags (an empty map removes the member).
pub async fn save(conn: &mut PgConnection, target: &Target, tags: &Tags) -> ApiResult<()> {
    let (table, cond, [a, b]) = locate(target);
    let param = if matches!(target, Target::Stage { .. }) {
        "$3"
    } else {
        "$2"
    };
    let sql = format!(
        "UPDATE {table} SET doc = CASE WHEN {param}::jsonb = '{{}}'::jsonb THEN doc - 'tags'
                                  ELSE jsonb_set(doc, '{{tags}}', {param}::jsonb) END
         WHERE {cond}"
    );
    let mut query = sqlx::query(&sql).bind(a);
    if matches!(target, Target::Stage { .. }) {
        query = query.bind(b);
    }
    let done = query.bind(Json(tags)).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(not_found(target));
    }
    Ok(())
}
