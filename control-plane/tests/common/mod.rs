//! What the control plane's store-level tests share: a fresh, migrated database per test.

use sqlx::{Connection, PgPool};

/// A new database on the machine's Postgres server (`TEST_PG_URL` overriding
/// `postgres://postgres@127.0.0.1:5432`), migrated as the control plane migrates its own.
pub async fn fresh_db() -> PgPool {
    let server = std::env::var("TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("apigw_cp_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connecting to Postgres");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("creating the test database");
    apigw_control_plane::connect(&format!("{server}/{name}"))
        .await
        .expect("migrating the test database")
}
