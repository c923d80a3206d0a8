//! The `resources` table: the resource tree of an API, one row per resource with its full
//! path. Methods (with their method responses, integration and integration responses)
//! are stored inside their resource's row, so they are loaded and saved with it.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::error::{ApiError, ApiResult};
use crate::wire::{Method, Resource};

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

/// Loads one resource; `lock` takes a row lock.
pub async fn load(
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
pub async fn all(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<ResourceRow>> {
    let rows: Vec<ResourceTuple> = sqlx::query_as(
        "SELECT id, parent_id, path_part, path, methods FROM resources
         WHERE api_id = $1 ORDER BY path",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(row_of).collect())
}

/// The `(id, path_part)` of every child of `parent_id`.
pub async fn children(
    conn: &mut PgConnection,
    api_id: &str,
    parent_id: &str,
) -> ApiResult<Vec<(String, Option<String>)>> {
    Ok(
        sqlx::query_as("SELECT id, path_part FROM resources WHERE api_id = $1 AND parent_id = $2")
            .bind(api_id)
            .bind(parent_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Inserts a new resource row.
pub async fn insert(conn: &mut PgConnection, api_id: &str, row: &ResourceRow) -> ApiResult<()> {
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

/// Gives the resource `row` (renamed or moved, formerly at `old_path`) its new parent,
/// path part and path, and rewrites the paths of its whole subtree; a path that another
/// resource already has is AWS's ConflictException.
pub async fn move_subtree(
    conn: &mut PgConnection,
    api_id: &str,
    row: &ResourceRow,
    old_path: &str,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE resources SET
            path = $4 || substr(path, length($3) + 1),
            parent_id = CASE WHEN id = $2 THEN $5 ELSE parent_id END,
            path_part = CASE WHEN id = $2 THEN $6 ELSE path_part END
         WHERE api_id = $1 AND (path = $3 OR starts_with(path, $3 || '/'))",
    )
    .bind(api_id)
    .bind(&row.id)
    .bind(old_path)
    .bind(&row.path)
    .bind(&row.parent_id)
    .bind(&row.path_part)
    .execute(conn)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            ApiError::conflict(format!(
                "Another resource already has the path {}",
                row.path
            ))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Deletes the resource at `path` and everything below it.
pub async fn delete_subtree(conn: &mut PgConnection, api_id: &str, path: &str) -> ApiResult<()> {
    sqlx::query(
        "DELETE FROM resources WHERE api_id = $1 AND (path = $2 OR starts_with(path, $2 || '/'))",
    )
    .bind(api_id)
    .bind(path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes every resource of an API but its root (`root_id`), and the root's methods
/// (PutRestApi with `mode=overwrite`).
pub async fn clear(conn: &mut PgConnection, api_id: &str, root_id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM resources WHERE api_id = $1 AND id <> $2")
        .bind(api_id)
        .bind(root_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE resources SET methods = '{}'::jsonb WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(root_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Runs `edit` on a locked resource row (of an existing API) and writes its methods back,
/// in one transaction: how every method and integration change is made.
pub async fn edit<T>(
    db: &PgPool,
    api_id: &str,
    resource_id: &str,
    edit: impl FnOnce(&mut ResourceRow) -> ApiResult<T>,
) -> ApiResult<T> {
    let (tx, mut row) = begin_edit(db, api_id, resource_id).await?;
    let out = edit(&mut row)?;
    finish_edit(tx, api_id, &row).await?;
    Ok(out)
}

/// The first half of [`edit`], for a change that must also read other tables in the same
/// transaction before it is saved (an integration naming a VPC link): the open
/// transaction and the locked row.
pub async fn begin_edit(
    db: &PgPool,
    api_id: &str,
    resource_id: &str,
) -> ApiResult<(Transaction<'static, Postgres>, ResourceRow)> {
    let mut tx = db.begin().await?;
    super::rest_apis::load(&mut tx, api_id, false).await?;
    let row = load(&mut tx, api_id, resource_id, true).await?;
    Ok((tx, row))
}

/// The second half of [`edit`]: writes the row's methods back and commits.
pub async fn finish_edit(
    mut tx: Transaction<'static, Postgres>,
    api_id: &str,
    row: &ResourceRow,
) -> ApiResult<()> {
    save_methods(&mut tx, api_id, row).await?;
    crate::audit::commit(tx).await?;
    Ok(())
}

/// Loads a resource row (of an existing API) for reading.
pub async fn read(db: &PgPool, api_id: &str, resource_id: &str) -> ApiResult<ResourceRow> {
    let mut conn = db.acquire().await?;
    super::rest_apis::load(&mut conn, api_id, false).await?;
    load(&mut conn, api_id, resource_id, false).await
}
