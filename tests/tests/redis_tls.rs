//! The gateway on Redis over TLS (issue 21), with a private CA: `--redis-ca-file` /
//! `REDIS_CA_FILE` on both binaries. (a) One `redis-server` serving TLS only and requiring
//! client certificates (mutual TLS: `--redis-client-cert-file` / `--redis-client-key-file`);
//! (b) a six-node Redis Cluster serving TLS only (cluster bus and replication too;
//! `rediss+cluster://`). For each, a control plane and two nodes: a usage-plan quota is
//! exact across the nodes (shared through the TLS Redis), GetUsage reports what was admitted
//! (the control plane's usage mover ran over TLS) and `apigw_redis_up` is 1 on each node.
//! A node given a CA that did not issue the server's certificate does not hang: it reports
//! Redis down and serves from local shares. A missing or invalid CA file stops either binary
//! at start with a message naming the file.

use std::sync::Arc;
use std::time::Duration;

use apigw_e2e::process::bin_dir;
use apigw_e2e::redis_cluster::RedisCluster;
use apigw_e2e::redis_tls::{RedisTls, TlsRedisServer};
use apigw_e2e::rest_api::{key_in_plan, keyed_mock_api};
use apigw_e2e::throttle_load::{invoke, load, urls, usage_total};
use apigw_e2e::{eventually, free_port, fresh_database, ControlPlane, DataPlane};
use serde_json::{json, Value};

/// Waits until every URL answers 200 with `key` (a 403 while a node does not know the key
/// yet spends nothing); returns how many were admitted (one per URL).
async fn wait_admitted(urls: &[String], key: &str) -> u64 {
    let client = reqwest::Client::new();
    for u in urls {
        eventually(
            &format!("{u} admitting the key"),
            Duration::from_secs(30),
            || {
                let (client, u) = (client.clone(), u.clone());
                async move { (invoke(&client, &u, Some(key)).await.0 == 200).then_some(()) }
            },
        )
        .await;
    }
    urls.len() as u64
}

/// A gauge or counter's value on a node's `/metrics` (absent: `None`).
async fn metric(node: &DataPlane, name: &str) -> Option<f64> {
    let body = reqwest::get(format!("{}/metrics", node.base()))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    body.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A control plane and two nodes on `env` (a `rediss://` or `rediss+cluster://` URL and
/// its TLS files): a quota of 20 a DAY is exact across the two nodes, GetUsage reports the
/// 20 admitted, and `apigw_redis_up` is 1 on both nodes. Returns the running processes
/// (for more checks) and the API id.
async fn quota_exact_over_tls(env: &[(&str, String)]) -> (ControlPlane, Vec<DataPlane>, String) {
    let db = fresh_database().await.expect("creating a test database");
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), env).await;
    let mut nodes = Vec::new();
    for i in 0..2 {
        nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("node-{i}"), env).await);
    }
    for n in &nodes {
        n.wait_ready().await;
    }
    let m = cp.mgmt();
    let api = keyed_mock_api(&m, "on-tls").await;
    let pets = urls(&nodes.iter().collect::<Vec<_>>(), &api, "/pets");

    for n in &nodes {
        let up = eventually(
            &format!("apigw_redis_up 1 on {}", n.node_id),
            Duration::from_secs(20),
            || async { metric(n, "apigw_redis_up").await.filter(|v| *v == 1.0) },
        )
        .await;
        assert_eq!(up, 1.0);
    }

    let (key, value, plan) = key_in_plan(
        &m,
        &api,
        "shared",
        json!({"quota": {"limit": 20, "period": "DAY"}}),
    )
    .await;
    let probes = wait_admitted(&pets, &value).await;
    let t = load(
        pets.clone(),
        Some(value.clone()),
        6,
        Duration::from_secs(60),
        Some(40),
    )
    .await
    .tally;
    assert_eq!(probes, 2);
    // 40 more requests: 18 within the quota, 22 over it, wherever they landed.
    assert_eq!((t.admitted, t.quota, t.other), (18, 22, 0), "{t:?}");
    for n in &nodes {
        assert_eq!(
            metric(n, "apigw_redis_fallback_admissions_total")
                .await
                .unwrap_or(0.0),
            0.0,
            "{} admitted nothing on its own: every admission went through the TLS Redis",
            n.node_id
        );
    }

    // GetUsage: the control plane's usage mover took the counts from the TLS Redis.
    let d = today();
    let path = format!("/usageplans/{plan}/usage?startDate={d}&endDate={d}&keyId={key}");
    let usage: Value = eventually(
        "GetUsage reporting the 20 admitted",
        Duration::from_secs(30),
        || async {
            let usage = m.get(&path).await.ok();
            (usage_total(&usage) == 20).then_some(usage)
        },
    )
    .await;
    assert_eq!(usage["values"][&key][0], json!([20, 0]), "{usage}");
    (cp, nodes, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_and_usage_are_shared_through_one_tls_redis_with_client_certificates() {
    let tls = RedisTls::new("apigw-e2e Redis CA");
    let redis = TlsRedisServer::start(free_port(), &tls, true).await;
    let mut env = vec![("REDIS_URL", redis.url())];
    env.extend(tls.env(true));
    let (cp, _nodes, api) = quota_exact_over_tls(&env).await;

    // A node trusting another CA: the TLS handshake fails, so Redis is down for it: it
    // reports so and serves from local shares instead of hanging.
    let other = RedisTls::new("another CA");
    let mut wrong = vec![("REDIS_URL", redis.url())];
    wrong.extend(other.env(true));
    let stray = DataPlane::start_env(&cp.grpc_url(), "node-wrong-ca", &wrong).await;
    stray.wait_ready().await;
    eventually(
        "apigw_redis_up 0 on the node with the wrong CA",
        Duration::from_secs(20),
        || async { metric(&stray, "apigw_redis_up").await.filter(|v| *v == 0.0) },
    )
    .await;
    let m = cp.mgmt();
    let (_, value, _) = key_in_plan(
        &m,
        &api,
        "stray",
        json!({"quota": {"limit": 1000, "period": "DAY"}}),
    )
    .await;
    let url = stray.invoke_url(&api, "prod", "/pets");
    let client = reqwest::Client::new();
    eventually(
        "the node with the wrong CA admitting from its local share",
        Duration::from_secs(30),
        || {
            let (client, url, value) = (client.clone(), url.clone(), value.clone());
            async move { (invoke(&client, &url, Some(&value)).await.0 == 200).then_some(()) }
        },
    )
    .await;
    let fallbacks = metric(&stray, "apigw_redis_fallback_admissions_total")
        .await
        .unwrap_or(0.0);
    assert!(
        fallbacks >= 1.0,
        "the wrong-CA node admitted locally, not through Redis: {fallbacks}"
    );
    assert_eq!(
        metric(&stray, "apigw_redis_up").await,
        Some(0.0),
        "Redis stays down for the wrong-CA node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_and_usage_are_shared_through_a_tls_redis_cluster() {
    let tls = RedisTls::new("apigw-e2e Redis Cluster CA");
    let redis = RedisCluster::start_tls(Arc::clone(&tls)).await;
    let url = redis.url();
    assert!(url.starts_with("rediss+cluster://"), "{url}");
    let mut env = vec![("REDIS_URL", url)];
    env.extend(tls.env(false));
    quota_exact_over_tls(&env).await;
}

/// Runs `bin` with `env` and waits (bounded) for it to exit; (exit success, stderr).
async fn run_to_exit(bin: &str, env: &[(&str, String)]) -> (bool, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(bin_dir().join(bin))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{bin} with a bad Redis CA file kept running"))
    .unwrap_or_else(|e| panic!("running {bin}: {e}"));
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_invalid_redis_ca_file_stops_both_binaries_at_start() {
    let tls = RedisTls::new("apigw-e2e Redis CA");
    let missing = tls.dir.join("no-such-ca.pem");
    let invalid = tls.dir.join("not-a-ca.pem");
    std::fs::write(&invalid, "this is not PEM\n").expect("writing the invalid file");
    for file in [&missing, &invalid] {
        let file = file.to_string_lossy().into_owned();
        let common = [
            ("REDIS_URL", "rediss://127.0.0.1:1".to_string()),
            ("REDIS_CA_FILE", file.clone()),
            ("REDIS_KEY_PREFIX", "e2e:bad-ca:".to_string()),
        ];
        let mut cp_env = common.to_vec();
        cp_env.extend([
            (
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:1/none".to_string(),
            ),
            ("CP_HTTP_ADDR", format!("127.0.0.1:{}", free_port())),
            ("CP_GRPC_ADDR", format!("127.0.0.1:{}", free_port())),
            ("APIGW_JWT_SECRET", "x".repeat(40)),
        ]);
        let mut dp_env = common.to_vec();
        dp_env.extend([
            ("CONTROL_PLANE_URL", "http://127.0.0.1:1".to_string()),
            ("DP_HTTP_ADDR", format!("127.0.0.1:{}", free_port())),
            ("DP_HTTPS_ADDR", format!("127.0.0.1:{}", free_port())),
            ("DP_STATE_DIR", String::new()),
        ]);
        for (bin, env) in [("control-plane", &cp_env), ("data-plane", &dp_env)] {
            let (ok, output) = run_to_exit(bin, env).await;
            assert!(!ok, "{bin} started with the CA file {file}: {output}");
            assert!(
                output.contains(&file),
                "{bin}'s error names the file {file}: {output}"
            );
        }
    }
}
