//! Scale (issue 22): a cluster holding 1,000 generated REST APIs (20 resources each, mapping
//! templates, a usage plan each; `apigw_e2e::scale`). Correctness only, no clocks: every
//! API is served by every node (one that followed the deltas while the APIs were created
//! and two that joined afterwards with the full state), one more deployment reaches every
//! node, and each node compiles only the stage that deployment changed. `SCALE_APIS`
//! overrides N; the measurements are the `scale` binary's (docs/scale.md). The cluster has
//! a Redis of its own: the control plane rewrites its copy of the whole state there on
//! every change (megabytes at this N), which would stall the other tests' shared Redis past
//! their nodes' admission timeout.

use std::time::{Duration, Instant};

use apigw_e2e::scale::{self, Spec};
use apigw_e2e::{free_port, fresh_database, ControlPlane, DataPlane, RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_apis_are_served_by_every_node_and_a_delta_compiles_one_stage() {
    let apis = std::env::var("SCALE_APIS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let spec = Spec {
        apis,
        resources: 20,
        concurrency: 6,
        prefix: "scale".into(),
    };
    let db = fresh_database().await.expect("a test database");
    let redis = RedisServer::start(free_port()).await;
    let cp =
        ControlPlane::start_with_env(&db, free_port(), free_port(), &[("REDIS_URL", redis.url())])
            .await;
    let m = cp.mgmt();
    let grpc = cp.grpc_url();
    // One node follows the generation delta by delta (the single-threaded runtime, as in
    // the benchmark); the other two join with the full state of N APIs.
    let mut nodes = vec![
        DataPlane::start_env(
            &grpc,
            "node-0",
            &[
                ("DP_WORKER_THREADS", "1".into()),
                ("REDIS_URL", redis.url()),
            ],
        )
        .await,
    ];

    let generated = scale::generate(&m, &spec, 0..spec.apis, |done| {
        eprintln!("scale: {done} APIs created");
    })
    .await;
    eprintln!(
        "scale: {} APIs in {:.1} s; ImportRestApi {}; CreateDeployment {}; CreateUsagePlan {}",
        generated.apis.len(),
        generated.total.as_secs_f64(),
        scale::summary(&generated.import),
        scale::summary(&generated.deploy),
        scale::summary(&generated.plan),
    );
    let all = &generated.apis;
    assert_eq!(all.len(), spec.apis);

    // The joiners get a Redis key prefix of their own: no state published there, so their
    // first state is the stream's full update (a node otherwise bootstraps from the state
    // the control plane publishes to Redis, then compiles the stream's full update again).
    for i in 1..3 {
        let prefix = format!("e2e-scale-joiner:{}:", uuid::Uuid::new_v4().simple());
        nodes.push(
            DataPlane::start_env(
                &grpc,
                &format!("node-{i}"),
                &[("REDIS_KEY_PREFIX", prefix), ("REDIS_URL", redis.url())],
            )
            .await,
        );
    }
    let http = reqwest::Client::new();
    for node in &nodes {
        node.wait_ready().await;
        let t = Instant::now();
        scale::wait_all_served(
            &http,
            &node.base(),
            all,
            spec.resources,
            Duration::from_secs(120),
        )
        .await;
        eprintln!(
            "scale: {} serves all {} APIs (checked in {:.1} s)",
            node.node_id,
            all.len(),
            t.elapsed().as_secs_f64()
        );
    }

    let metric = |base: String, name: &'static str| {
        let http = http.clone();
        async move {
            scale::node_metric(&http, &base, name)
                .await
                .unwrap_or_else(|| panic!("{base}/metrics has {name}"))
        }
    };
    let mut compiled_before = Vec::new();
    for node in &nodes {
        compiled_before.push(metric(node.base(), "apigw_config_stages_compiled_total").await);
        // The joiners compiled every stage once, from their full update.
        if node.node_id != "node-0" {
            assert_eq!(
                compiled_before.last().copied(),
                Some(spec.apis as f64),
                "{} compiled its full state once",
                node.node_id
            );
        }
    }

    // One more deployment: a new stage variable on one API's stage.
    let target = &all[spec.apis / 2];
    let since = Instant::now();
    scale::redeploy(&m, target, "1").await;
    for node in &nodes {
        let took = scale::time_until_marked(
            &http,
            &node.base(),
            target,
            "1",
            since,
            Duration::from_millis(5),
            Duration::from_secs(60),
        )
        .await;
        eprintln!(
            "scale: {} serves the redeployment after {took:?}",
            node.node_id
        );
    }
    // A joiner's full update carried all N APIs (node-0's carried none).
    let full = metric(nodes[1].base(), "apigw_config_last_full_update_bytes").await;
    for (node, before) in nodes.iter().zip(compiled_before) {
        let after = metric(node.base(), "apigw_config_stages_compiled_total").await;
        assert_eq!(
            after - before,
            1.0,
            "{}: the delta of one stage compiled exactly one stage, not all {}",
            node.node_id,
            spec.apis
        );
        let delta = metric(node.base(), "apigw_config_last_delta_bytes").await;
        eprintln!(
            "scale: {}: last delta {delta} bytes (a joiner's full update: {full} bytes)",
            node.node_id
        );
        assert!(
            delta > 0.0 && delta * 100.0 < full,
            "{}: the delta ({delta} bytes) carries one stage, not the state ({full} bytes)",
            node.node_id
        );
    }
    // The other APIs still answer on every node after the delta (a sample).
    let sample: Vec<_> = all.iter().step_by(37).cloned().collect();
    for node in &nodes {
        let missing = scale::unserved(&http, &node.base(), &sample, spec.resources, 16).await;
        assert!(
            missing.is_empty(),
            "{}: {:?}",
            node.node_id,
            missing.first()
        );
    }
}
