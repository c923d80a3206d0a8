//! Cluster identity (issue 21): two gateways pointed by mistake at one Redis with the same
//! key prefix must not mix their usage counts. The first control plane claims the prefix
//! with the cluster id recorded in its database; a control plane of another database
//! refuses to start, naming both clusters; a node refuses the config of a control plane
//! whose cluster is not the prefix's claimant.

use std::time::Duration;

use apigw_e2e::process::{bin_dir, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{eventually, free_port, fresh_database, redis_url, ControlPlane, DataPlane};

async fn redis_get(key: &str) -> Option<String> {
    let client = redis::Client::open(redis_url()).expect("Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis");
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("GET")
}

async fn redis_set(key: &str, value: &str) {
    let client = redis::Client::open(redis_url()).expect("Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis");
    let () = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async(&mut conn)
        .await
        .expect("SET");
}

async fn cluster_id_of(database_url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url)
        .await
        .expect("the database");
    let id: uuid::Uuid = sqlx::query_scalar("SELECT cluster_id FROM cluster_identity")
        .fetch_one(&mut conn)
        .await
        .expect("the cluster id");
    id.to_string()
}

#[tokio::test]
async fn a_second_cluster_on_the_same_redis_prefix_is_refused() {
    let prefix = format!("e2e-identity:{}:", uuid::Uuid::new_v4().simple());
    let first_db = fresh_database().await.expect("a database");
    let first = ControlPlane::start_with_env(
        &first_db,
        free_port(),
        free_port(),
        &[("REDIS_KEY_PREFIX", prefix.clone())],
    )
    .await;
    let ours = cluster_id_of(&first_db).await;
    assert_eq!(
        redis_get(&format!("{prefix}cluster")).await.as_deref(),
        Some(ours.as_str()),
        "the first control plane claims the prefix"
    );

    // Another database, the same prefix: refuses to start, naming both clusters.
    let second_db = fresh_database().await.expect("a database");
    let child = tokio::process::Command::new(bin_dir().join("control-plane"))
        .env("DATABASE_URL", &second_db)
        .env("CP_HTTP_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("CP_GRPC_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("APIGW_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("APIGW_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("APIGW_ADMIN_USER", "admin")
        .env("APIGW_ADMIN_PASSWORD", "e2e-admin-password-0123")
        .env("REDIS_URL", redis_url())
        .env("REDIS_KEY_PREFIX", &prefix)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the second control plane");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the second control plane exits")
        .expect("its output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it started: {stderr}");
    let theirs = cluster_id_of(&second_db).await;
    assert_ne!(ours, theirs);
    assert!(stderr.contains(&ours), "names the claimant: {stderr}");
    assert!(stderr.contains(&theirs), "names its own cluster: {stderr}");
    assert!(stderr.contains(&prefix), "names the prefix: {stderr}");
    assert!(!stderr.contains("postgres@"), "no credentials: {stderr}");

    // The first cluster's own control plane restarts on it (same id), and its node serves.
    let node = DataPlane::start_env(
        &first.grpc_url(),
        "identity-ok",
        &[("REDIS_KEY_PREFIX", prefix.clone())],
    )
    .await;
    node.wait_ready().await;

    // A node whose prefix another cluster claimed refuses the first cluster's config.
    let foreign = format!("e2e-identity:{}:", uuid::Uuid::new_v4().simple());
    let claimant = uuid::Uuid::new_v4().to_string();
    redis_set(&format!("{foreign}cluster"), &claimant).await;
    let log = std::env::temp_dir().join(format!("apigw-identity-{}.log", uuid::Uuid::new_v4()));
    let refused = DataPlane::start_logged(
        &first.grpc_url(),
        "identity-foreign",
        &[("REDIS_KEY_PREFIX", foreign.clone())],
        Some(&log),
    )
    .await;
    let line = eventually(
        "the node refuses the stream",
        Duration::from_secs(30),
        || async {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .find(|l| l.contains("config stream refused"))
                .map(str::to_owned)
        },
    )
    .await;
    assert!(line.contains(&ours) && line.contains(&claimant), "{line}");
    let readyz = apigw_e2e::invoke::get(&format!("{}/readyz", refused.base()), &[]).await;
    assert_eq!(readyz.status, 503, "no config applied: {}", readyz.body);
    let _ = std::fs::remove_file(&log);
}
