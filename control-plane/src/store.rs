//! Postgres access for the REST API definitions.
//!
//! Handlers open a transaction, load what they change with `FOR UPDATE`, mutate typed
//! values and write them back; this module is the only place that knows the tables.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::{Method, Resource, RestApi};

/// The account id that appears in AWS-style messages and ARNs.
pub const ACCOUNT_ID: &str = "000000000000";

/// A resource row: the structural columns plus its methods.
#[derive(Debug, Clone)]
pub struct ResourceRow {
    /// Resource id.
    pub id: String,
    /// Parent id; none for `/`.
    pub parent_id: Option<String>,
    /// Last path segment; none for `/`.
    pub path_part: Option<String>,
    /// Full path.
    pub path: String,
    /// HTTP method -> method.
    pub methods: BTreeMap<String, Method>,
}

impl ResourceRow {
    /// The wire form; `embed` decides between full methods and `{}` placeholders.
    pub fn to_wire(&self, embed_methods: bool) -> Resource {
        let methods = (!self.methods.is_empty()).then(|| {
            self.methods
                .iter()
                .map(|(k, m)| {
                    let v = if embed_methods {
                        serde_json::to_value(m).unwrap_or_default()
                    } else {
                        serde_json::json!({})
                    };
                    (k.clone(), v)
                })
                .collect()
        });
        Resource {
            id: self.id.clone(),
            parent_id: self.parent_id.clone(),
            path_part: self.path_part.clone(),
            path: self.path.clone(),
            resource_methods: methods,
        }
    }

    /// The method named `http_method`, or AWS's NotFound.
    pub fn method(&self, http_method: &str) -> ApiResult<&Method> {
        self.methods
            .get(http_method)
            .ok_or_else(|| ApiError::not_found("Invalid Method identifier specified"))
    }

    /// Mutable access to the method named `http_method`, or AWS's NotFound.
    pub fn method_mut(&mut self, http_method: &str) -> ApiResult<&mut Method> {
        self.methods
            .get_mut(http_method)
            .ok_or_else(|| ApiError::not_found("Invalid Method identifier specified"))
    }
}

type ResourceTuple = (
    String,
    Option<String>,
    Option<String>,
    String,
    Json<BTreeMap<String, Method>>,
);

fn row_of(t: ResourceTuple) -> ResourceRow {
    ResourceRow {
        id: t.0,
        parent_id: t.1,
        path_part: t.2,
        path: t.3,
        methods: t.4 .0,
    }
}

fn api_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid API identifier specified {ACCOUNT_ID}:{id}"
    ))
}

/// Loads a REST API; `lock` takes a row lock for the rest of the transaction.
pub async fn load_api(conn: &mut PgConnection, id: &str, lock: bool) -> ApiResult<RestApi> {
    let sql = if lock {
        "SELECT doc FROM rest_apis WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT doc FROM rest_apis WHERE id = $1"
    };
    let row: Option<(Json<RestApi>,)> = sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.0 .0).ok_or_else(|| api_not_found(id))
}

/// Inserts or replaces a REST API document.
pub async fn save_api(conn: &mut PgConnection, api: &RestApi) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO rest_apis (id, doc) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(&api.id)
    .bind(Json(api))
    .execute(conn)
    .await?;
    Ok(())
}

/// All REST APIs, oldest first.
pub async fn list_apis(conn: &mut PgConnection) -> ApiResult<Vec<RestApi>> {
    let rows: Vec<(Json<RestApi>,)> =
        sqlx::query_as("SELECT doc FROM rest_apis ORDER BY created_at, id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Loads one resource; `lock` takes a row lock.
pub async fn load_resource(
    conn: &mut PgConnection,
    api_id: &str,
    id: &str,
    lock: bool,
) -> ApiResult<ResourceRow> {
    let sql = if lock {
        "SELECT id, parent_id, path_part, path, methods FROM resources
         WHERE api_id = $1 AND id = $2 FOR UPDATE"
    } else {
        "SELECT id, parent_id, path_part, path, methods FROM resources
         WHERE api_id = $1 AND id = $2"
    };
    let row: Option<ResourceTuple> = sqlx::query_as(sql)
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(row_of)
        .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
}

/// Every resource of an API, ordered by path (so parents come before children).
pub async fn all_resources(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<ResourceRow>> {
    let rows: Vec<ResourceTuple> = sqlx::query_as(
        "SELECT id, parent_id, path_part, path, methods FROM resources
         WHERE api_id = $1 ORDER BY path",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(row_of).collect())
}

/// Inserts a new resource row.
pub async fn insert_resource(
    conn: &mut PgConnection,
    api_id: &str,
    row: &ResourceRow,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO resources (api_id, id, parent_id, path_part, path, methods)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(api_id)
    .bind(&row.id)
    .bind(&row.parent_id)
    .bind(&row.path_part)
    .bind(&row.path)
    .bind(Json(&row.methods))
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes back the methods of a resource.
pub async fn save_methods(
    conn: &mut PgConnection,
    api_id: &str,
    row: &ResourceRow,
) -> ApiResult<()> {
    sqlx::query("UPDATE resources SET methods = $3 WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(&row.id)
        .bind(Json(&row.methods))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that what is deployed changed: bumps the config version and wakes every
/// control-plane replica (delivered when the transaction commits).
pub async fn bump_config(conn: &mut PgConnection) -> ApiResult<()> {
    sqlx::query("SELECT pg_notify('apigw_config', nextval('config_version')::text)")
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a Postgres error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}
