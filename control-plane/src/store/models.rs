//! The `models` table: one `Model` document (API Gateway's named JSON Schemas) per
//! (API, name).

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::ids::random_id;
use crate::wire::Model;

/// AWS's message for an unknown model name.
pub fn model_not_found() -> ApiError {
    ApiError::not_found("Invalid model name specified")
}

/// Every model of an API, by name.
pub async fn all(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<Model>> {
    let rows: Vec<(Json<Model>,)> =
        sqlx::query_as("SELECT doc FROM models WHERE api_id = $1 ORDER BY name")
            .bind(api_id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Loads a model by name; `lock` takes a row lock.
pub async fn load(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    lock: bool,
) -> ApiResult<Model> {
    let sql = if lock {
        "SELECT doc FROM models WHERE api_id = $1 AND name = $2 FOR UPDATE"
    } else {
        "SELECT doc FROM models WHERE api_id = $1 AND name = $2"
    };
    let row: Option<(Json<Model>,)> = sqlx::query_as(sql)
        .bind(api_id)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.0 .0).ok_or_else(model_not_found)
}

/// Whether the API has a model called `name` (used by PutMethod for `requestModels`).
pub async fn exists(conn: &mut PgConnection, api_id: &str, name: &str) -> ApiResult<bool> {
    let row: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM models WHERE api_id = $1 AND name = $2")
            .bind(api_id)
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Inserts a new model.
pub async fn insert(conn: &mut PgConnection, api_id: &str, model: &Model) -> ApiResult<()> {
    sqlx::query("INSERT INTO models (api_id, name, id, doc) VALUES ($1, $2, $3, $4)")
        .bind(api_id)
        .bind(&model.name)
        .bind(&model.id)
        .bind(Json(model))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back the model called `name`.
pub async fn save(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    model: &Model,
) -> ApiResult<()> {
    sqlx::query("UPDATE models SET doc = $3 WHERE api_id = $1 AND name = $2")
        .bind(api_id)
        .bind(name)
        .bind(Json(model))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the model called `name`.
pub async fn delete(conn: &mut PgConnection, api_id: &str, name: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM models WHERE api_id = $1 AND name = $2")
        .bind(api_id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes every model of an API.
pub async fn delete_all(conn: &mut PgConnection, api_id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM models WHERE api_id = $1")
        .bind(api_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The models AWS creates with every REST API: `Empty` and `Error`.
pub async fn insert_defaults(conn: &mut PgConnection, api_id: &str) -> ApiResult<()> {
    let defaults = [
        (
            "Empty",
            "This is a default empty schema model",
            "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
        ),
        (
            "Error",
            "This is a default error schema model",
            "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
        ),
    ];
    for (name, description, schema) in defaults {
        let model = Model {
            id: random_id(6),
            name: name.into(),
            description: Some(description.into()),
            schema: Some(schema.into()),
            content_type: "application/json".into(),
        };
        insert(conn, api_id, &model).await?;
    }
    Ok(())
}

/// Copies the models (their `$ref`s re-pointed at the new API), request validators (same
/// ids, so cloned methods keep theirs) and customised gateway responses of `src` to `dst`.
pub async fn clone_api_items(conn: &mut PgConnection, src: &str, dst: &str) -> ApiResult<()> {
    let from = format!("{}{src}/models/", crate::wire::MODEL_URL_PREFIX);
    let to = format!("{}{dst}/models/", crate::wire::MODEL_URL_PREFIX);
    for mut model in all(conn, src).await? {
        model.id = random_id(6);
        model.schema = model.schema.map(|s| s.replace(&from, &to));
        insert(conn, dst, &model).await?;
    }
    super::api_docs::copy::<crate::wire::RequestValidator>(conn, src, dst).await?;
    super::api_docs::copy::<crate::wire::Authorizer>(conn, src, dst).await?;
    super::gateway_responses::copy(conn, src, dst).await
}
