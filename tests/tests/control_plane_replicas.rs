//! Several control planes (issue 21): a node given several control-plane URLs
//! (`CONTROL_PLANE_URL=a,b`) streams its config from one and, when that replica dies,
//! moves to the next within seconds; a change made through the surviving replica reaches
//! it; its metrics shipments follow it, counted once. A node whose first URL answers
//! nothing still becomes ready through the second. The replica the nodes stream from
//! SIGKILLed (no drain) under a load of keyed requests fails none of them, and loses and
//! doubles no usage count.

use std::time::{Duration, Instant};

use apigw_e2e::load::{KeyedApi, Load, Targets};
use apigw_e2e::rest_api::{deploy, method_path, mock_method, new_api};
use apigw_e2e::{eventually, free_port, fresh_database, Backend, ControlPlane, DataPlane};
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

/// Requests of `plan` the usage mover has moved into Postgres.
async fn moved_usage(database_url: &str, plan: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url)
        .await
        .expect("the database");
    sqlx::query_scalar::<_, Option<i64>>(
        "SELECT sum(requests)::bigint FROM usage_records WHERE plan_id = $1",
    )
    .bind(plan)
    .fetch_one(&mut conn)
    .await
    .expect("the usage records")
    .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connected_control_plane_sigkilled_under_load_fails_no_request() {
    let (mut a, b, prefix) = replicas().await;
    let urls = format!("{},{}", a.grpc_url(), b.grpc_url());
    let mut nodes = Vec::new();
    for i in 0..3 {
        let env = [("REDIS_KEY_PREFIX", prefix.clone())];
        nodes.push(DataPlane::start_env(&urls, &format!("sigkill-{i}"), &env).await);
    }
    for n in &nodes {
        n.wait_ready().await;
    }
    let backend = Backend::start("pets").await;
    let api = KeyedApi::create(&a.mgmt(), &backend.url()).await;
    // Every node admits the key before the load starts; these probes are metered too
    // (the 403s before the key arrives are not).
    let mut admitted = 0i64;
    for n in &nodes {
        eventually(
            &format!("{} admitting the key", n.node_id),
            Duration::from_secs(20),
            || async { api.keyed_ok(&n.base()).await.then_some(()) },
        )
        .await;
        admitted += 1;
    }

    let targets = Targets::new(
        nodes.iter().map(|n| n.base()).collect(),
        Duration::from_secs(10),
    );
    let mut load = Load::start(targets, api.request(), 6, Duration::from_millis(5));
    let before = eventually("the load under way", Duration::from_secs(30), || async {
        let t = load.tally();
        (t.served >= 300).then_some(t)
    })
    .await;

    // A, the first URL of every node (so the replica all three stream from), dies.
    let killed = Instant::now();
    a.kill().await;
    let m = b.mgmt();
    let deployment = api.deploy(&m, "2").await;
    let deployed = killed.elapsed();
    deployment.expect("a deployment through B right after A died");
    let mut reached = Vec::new();
    for n in &nodes {
        eventually(
            &format!("{} serving the deployment made through B", n.node_id),
            Duration::from_secs(30),
            || async {
                (api.served_version(&n.base()).await.as_deref() == Some("2")).then_some(())
            },
        )
        .await;
        reached.push((n.node_id.clone(), killed.elapsed()));
    }
    // The load goes on after the failover as well.
    let at_failover = load.tally();
    eventually(
        "the load going on after the failover",
        Duration::from_secs(30),
        || async { (load.tally().served >= at_failover.served + 300).then_some(()) },
    )
    .await;
    let tally = load.stop().await;
    println!(
        "SIGKILL of the connected control plane under load: deployment through B made {deployed:?} \
         after the kill; served by each node at (since the kill): {reached:?}; requests: \
         {} before the kill, {} in all; slowest answer {} ms",
        before.served, tally.sent, tally.live_max_ms
    );
    println!("{tally:?}");
    assert_eq!(
        tally.live_failures(),
        0,
        "failed requests: {:?}",
        load.samples()
    );
    assert_eq!(tally.dead_failures(), 0, "no node was killed: {tally:?}");
    assert_eq!(tally.served, tally.sent, "{tally:?}");

    // Usage: every admitted request counted once. The mover of A may have died mid-round;
    // B's must move what A left (a pending batch) exactly once.
    admitted += tally.served as i64;
    let since = Instant::now();
    eventually(
        "every admitted request moved into Postgres",
        Duration::from_secs(30),
        || async { (moved_usage(&b.database_url, &api.plan).await >= admitted).then_some(()) },
    )
    .await;
    println!(
        "usage of {admitted} requests moved {:?} after the load",
        since.elapsed()
    );
    // Two more mover rounds: a batch applied twice would show now.
    tokio::time::sleep(apigw_control_plane::metering::MOVE_EVERY * 2).await;
    assert_eq!(moved_usage(&b.database_url, &api.plan).await, admitted);
    assert_eq!(
        api.usage_today(&m).await,
        Some(admitted),
        "GetUsage through B"
    );
}
