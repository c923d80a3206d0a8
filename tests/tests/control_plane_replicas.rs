//! Several control planes (issue 21): a node given several control-plane URLs
//! (`CONTROL_PLANE_URL=a,b`) streams its config from one and, when that replica dies,
//! moves to the next within seconds; a change made through the surviving replica reaches
//! it; its metrics shipments follow it, counted once. A node whose first URL answers
//! nothing still becomes ready through the second.

use std::time::{Duration, Instant};

use apigw_e2e::rest_api::{deploy, method_path, mock_method, new_api};
use apigw_e2e::{eventually, free_port, fresh_database, ControlPlane, DataPlane};
use serde_json::{json, Value};

/// Two replicas over one database and one Redis key prefix (one cluster).
async fn replicas() -> (ControlPlane, ControlPlane, String) {
    let db = fresh_database().await.expect("a database");
    let prefix = format!("e2e-replicas:{}:", uuid::Uuid::new_v4().simple());
    let env = [("REDIS_KEY_PREFIX", prefix.clone())];
    let a = ControlPlane::start_with_env(&db, free_port(), free_port(), &env).await;
    let b = ControlPlane::start_with_env(&db, free_port(), free_port(), &env).await;
    (a, b, prefix)
}

async fn body_of(node: &DataPlane, api: &str) -> Option<Value> {
    let response = reqwest::get(node.invoke_url(api, "prod", "/")).await.ok()?;
    if response.status() != 200 {
        return None;
    }
    response.json().await.ok()
}

async fn metered_count(database_url: &str, api: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url)
        .await
        .expect("the database");
    sqlx::query_scalar("SELECT COALESCE(SUM(count), 0)::BIGINT FROM metric_minutes WHERE api_id = $1 AND resource = '' AND method = ''")
        .bind(api)
        .fetch_one(&mut conn)
        .await
        .expect("the metrics")
}

/// The metered count once it stood still for 2.5 s (the node ships every second).
async fn settled_count(database_url: &str, api: &str) -> i64 {
    let mut last = metered_count(database_url, api).await;
    loop {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let now = metered_count(database_url, api).await;
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_moves_to_another_replica_when_its_control_plane_dies() {
    let (mut a, b, prefix) = replicas().await;
    let urls = format!("{},{}", a.grpc_url(), b.grpc_url());
    let node = DataPlane::start_env(
        &urls,
        "follows-replicas",
        &[
            ("REDIS_KEY_PREFIX", prefix),
            ("METRICS_SHIP_INTERVAL", "1".to_string()),
        ],
    )
    .await;
    node.wait_ready().await;

    let m = a.mgmt();
    let (api, root) = new_api(&m, "replicas").await;
    mock_method(&m, &api, &root, "GET", r#"{"version": "v1"}"#).await;
    deploy(&m, &api, "prod", json!({})).await;
    eventually("v1 served", Duration::from_secs(20), || async {
        body_of(&node, &api).await.filter(|b| b["version"] == "v1")
    })
    .await;

    // The node streams from A (the first URL). A dies; a change through B must reach it.
    a.stop().await;
    let m = b.mgmt();
    m.put(
        &format!("{}/integration/responses/200", method_path(&api, &root, "GET")),
        json!({"selectionPattern": "", "responseTemplates": {"application/json": r#"{"version": "v2"}"#}}),
    )
    .await
    .ok();
    deploy(&m, &api, "prod", json!({})).await;
    let since = Instant::now();
    eventually(
        "the change made through B served after A died",
        Duration::from_secs(20),
        || async { body_of(&node, &api).await.filter(|b| b["version"] == "v2") },
    )
    .await;
    println!(
        "a deployment through B reached the node {:?} after it was made",
        since.elapsed()
    );

    // Metrics of requests served after A died are shipped through B, each counted once.
    // The requests so far (the polls above) are shipped first: the count must stand still
    // for longer than two shipping intervals.
    let before = settled_count(&b.database_url, &api).await;
    for _ in 0..25 {
        assert!(body_of(&node, &api).await.is_some());
    }
    let after = eventually(
        "the 25 requests metered through B",
        Duration::from_secs(30),
        || async {
            let now = metered_count(&b.database_url, &api).await;
            (now >= before + 25).then_some(now)
        },
    )
    .await;
    // Give a duplicate (a shipment applied by A and retried through B) time to show.
    let settled = settled_count(&b.database_url, &api).await;
    assert_eq!(settled, after, "no shipment counted twice");
    assert_eq!(settled - before, 25, "each request counted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_first_control_plane_is_down_starts_through_the_next() {
    let (a, b, prefix) = replicas().await;
    // Nothing listens on the first URL.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let urls = format!("{dead},{}", b.grpc_url());
    let node = DataPlane::start_env(&urls, "second-url", &[("REDIS_KEY_PREFIX", prefix)]).await;
    let since = Instant::now();
    node.wait_ready().await;
    println!("ready through the second URL in {:?}", since.elapsed());

    let m = a.mgmt();
    let (api, root) = new_api(&m, "second-url").await;
    mock_method(&m, &api, &root, "GET", r#"{"version": "v1"}"#).await;
    deploy(&m, &api, "prod", json!({})).await;
    eventually(
        "a deployment through A served by the node streaming from B",
        Duration::from_secs(20),
        || async { body_of(&node, &api).await.filter(|b| b["version"] == "v1") },
    )
    .await;
}
