//! The gateway on a REAL Redis Cluster (six local `redis-server`s: three masters, one
//! replica each; `apigw_e2e::redis_cluster`): a control plane and three data-plane nodes
//! given `REDIS_URL=redis+cluster://...`. Under concurrent load from the test, a per-key
//! throttle keeps the token-bucket bounds and a usage-plan quota is exact, as on one Redis;
//! every key of the gateway sits in one hash slot; then the master holding that slot is
//! SIGKILLed mid-load: the nodes keep serving (local shares), its replica is promoted, the
//! nodes return to shared enforcement (an exact quota again), and the usage recorded differs
//! from what was admitted by at most max(10, 2 %) of the failover window's admissions.
//! WebSocket `@connections` delivery crosses nodes through sharded pub/sub.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use apigw_e2e::process::redis_prefix;
use apigw_e2e::redis_cluster::{node_connection, RedisCluster};
use apigw_e2e::rest_api::{key_in_plan, keyed_mock_api};
use apigw_e2e::throttle_load::{assert_bucket_bounds, invoke, load, load_timed, urls, usage_total};
use apigw_e2e::{eventually, free_port, fresh_database, ControlPlane, DataPlane, Mgmt};
use apigw_shared_redis::{cluster_prefix, key_slot};
use serde_json::{json, Value};

/// Waits until every URL answers 200 with `key` (a 403 while a node does not know the key
/// yet spends nothing); returns how many were admitted (one per URL).
async fn wait_admitted(urls: &[String], key: &str) -> i64 {
    let client = reqwest::Client::new();
    for u in urls {
        eventually(
            &format!("{u} admitting the key"),
            Duration::from_secs(20),
            || {
                let (client, u) = (client.clone(), u.clone());
                async move { (invoke(&client, &u, Some(key)).await.0 == 200).then_some(()) }
            },
        )
        .await;
    }
    urls.len() as i64
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn usage_of(m: &Mgmt, plan: &str, key: &str) -> Value {
    let d = today();
    m.get(&format!(
        "/usageplans/{plan}/usage?startDate={d}&endDate={d}&keyId={key}"
    ))
    .await
    .ok()
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

/// What the failover load saw.
#[derive(Default)]
struct Metered {
    /// 200s.
    admitted: AtomicU64,
    /// 200s sent while [`Metered::window`] was set.
    in_window: AtomicU64,
    /// Anything else.
    other: AtomicU64,
    /// Set from the master's kill until every node enforces through Redis again.
    window: AtomicBool,
    /// Stops the load.
    stop: AtomicBool,
}

/// Loops of requests over `urls` until `m.stop`.
async fn metered_load(urls: Vec<String>, key: String, workers: usize, m: Arc<Metered>) {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, urls, key, m) = (client.clone(), urls.clone(), key.clone(), m.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while !m.stop.load(Ordering::Relaxed) {
                let in_window = m.window.load(Ordering::Relaxed);
                let (status, _) = invoke(&client, &urls[i % urls.len()], Some(&key)).await;
                if status == 200 {
                    m.admitted.fetch_add(1, Ordering::Relaxed);
                    if in_window || m.window.load(Ordering::Relaxed) {
                        m.in_window.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    m.other.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await.expect("load worker");
    }
}

/// Waits until `m` admitted `more` requests beyond `from`.
async fn wait_for_load(m: &Metered, from: u64, more: u64, what: &str) {
    eventually(what, Duration::from_secs(60), || async {
        (m.admitted.load(Ordering::Relaxed) >= from + more).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_usage_stay_exact_on_redis_cluster_and_survive_a_master_failover() {
    let mut redis = RedisCluster::start().await;
    let url = redis.url();
    let env = [("REDIS_URL", url.clone())];
    let db = fresh_database().await.expect("creating a test database");
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), &env).await;
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("node-{i}"), &env).await);
    }
    for n in &nodes {
        n.wait_ready().await;
    }
    let node_refs: Vec<&DataPlane> = nodes.iter().collect();
    let m = cp.mgmt();
    let api = keyed_mock_api(&m, "on-cluster").await;
    let pets = urls(&node_refs, &api, "/pets");

    // Throttling: rate 10, burst 20 per key, load spread over the three nodes; the bounds
    // are measured by Redis's clock (the cluster's nodes share this machine's).
    let (key, value, plan) = key_in_plan(
        &m,
        &api,
        "throttled",
        json!({"throttle": {"rateLimit": 10, "burstLimit": 20}}),
    )
    .await;
    let probes = wait_admitted(&pets, &value).await;
    // The probes spent three tokens: let the bucket fill again (it refills at 10/s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let run = load_timed(
        Some(&url),
        pets.clone(),
        Some(value.clone()),
        9,
        Duration::from_secs(3),
        None,
    )
    .await;
    assert_bucket_bounds("per-key on Redis Cluster", &run, 10.0, 20.0);
    assert!(
        run.tally.throttled > 0,
        "the load exceeded the limit: {:?}",
        run.tally
    );
    let usage = usage_of(&m, &plan, &key).await;
    assert_eq!(
        usage_total(&usage),
        run.tally.admitted as i64 + probes,
        "429s never count: {usage}"
    );

    // Quota: 100 per DAY, exact across the three nodes.
    let (qkey, qvalue, qplan) = key_in_plan(
        &m,
        &api,
        "quota",
        json!({"quota": {"limit": 100, "period": "DAY"}}),
    )
    .await;
    let probes = wait_admitted(&pets, &qvalue).await;
    let t = load(
        pets.clone(),
        Some(qvalue.clone()),
        9,
        Duration::from_secs(60),
        Some(127),
    )
    .await
    .tally;
    assert_eq!(probes, 3);
    assert_eq!((t.admitted, t.quota, t.other), (97, 30, 0), "{t:?}");
    let usage = usage_of(&m, &qplan, &qkey).await;
    assert_eq!(usage["values"][&qkey][0], json!([100, 0]), "{usage}");

    // Every key of this gateway is in the prefix's hash slot, on one master, and our slot
    // function agrees with the cluster's.
    let prefix = cluster_prefix(&redis_prefix(&cp.grpc_url())).expect("a prefix");
    let slot = key_slot(prefix.as_bytes());
    let ask = redis.ports()[0];
    let keys = redis.scan(ask, &format!("{prefix}*")).await;
    let names: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
    for want in ["cluster", "nodes", "state"] {
        assert!(
            names.contains(&format!("{prefix}{want}").as_str()),
            "{prefix}{want} among {names:?}"
        );
    }
    assert!(
        names.iter().any(|k| k.starts_with(&format!("{prefix}q:"))),
        "a quota counter among {names:?}"
    );
    let master = redis
        .master_of_slot(ask, slot)
        .await
        .expect("a master serves the prefix's slot");
    for (port, k) in &keys {
        assert_eq!(
            *port, master,
            "{k} is on {port}, not on the slot's master {master}"
        );
        assert_eq!(key_slot(k.as_bytes()), slot, "{k}");
    }
    let mut conn = node_connection(master).await.expect("the master");
    let theirs: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(format!("{prefix}b:acct"))
        .query_async(&mut conn)
        .await
        .expect("CLUSTER KEYSLOT");
    assert_eq!(theirs, slot, "CLUSTER KEYSLOT agrees with key_slot");

    // Failover: load on a plan without limits; SIGKILL the slot's master mid-load.
    let (mkey, mvalue, mplan) = key_in_plan(&m, &api, "metered", json!({})).await;
    let probes = wait_admitted(&pets, &mvalue).await;
    let fallbacks_before: f64 = {
        let mut sum = 0.0;
        for n in &nodes {
            sum += metric(n, "apigw_redis_fallback_admissions_total")
                .await
                .unwrap_or(0.0);
        }
        sum
    };
    let metered = Arc::new(Metered::default());
    let background = tokio::spawn(metered_load(
        pets.clone(),
        mvalue.clone(),
        6,
        metered.clone(),
    ));
    wait_for_load(&metered, 0, 100, "load before the kill").await;
    metered.window.store(true, Ordering::Relaxed);
    redis.kill(master).await;
    let live = redis.live_ports();
    let promoted = eventually(
        "the killed master's replica promoted",
        Duration::from_secs(90),
        || {
            let redis = &redis;
            let ask = live[0];
            async move {
                let p = redis.master_of_slot(ask, slot).await?;
                (p != master).then_some(p)
            }
        },
    )
    .await;
    redis.wait_healthy(&live).await;
    eprintln!("master {master} killed; replica {promoted} promoted");
    for n in &nodes {
        eventually(
            &format!("{} enforcing through Redis again", n.node_id),
            Duration::from_secs(60),
            || async { (metric(n, "apigw_redis_up").await? == 1.0).then_some(()) },
        )
        .await;
    }
    metered.window.store(false, Ordering::Relaxed);
    let at_recovery = metered.admitted.load(Ordering::Relaxed);
    wait_for_load(&metered, at_recovery, 100, "load after recovery").await;
    metered.stop.store(true, Ordering::Relaxed);
    background.await.expect("the load");
    let admitted = metered.admitted.load(Ordering::Relaxed) as i64;
    let in_window = metered.in_window.load(Ordering::Relaxed) as i64;
    assert_eq!(
        metered.other.load(Ordering::Relaxed),
        0,
        "the nodes kept serving through the failover"
    );
    let mut fallbacks = 0.0;
    for n in &nodes {
        fallbacks += metric(n, "apigw_redis_fallback_admissions_total")
            .await
            .unwrap_or(0.0);
    }
    assert!(
        fallbacks > fallbacks_before,
        "the nodes served from local shares while the slot had no master ({fallbacks_before} → {fallbacks})"
    );
    let usage = usage_of(&m, &mplan, &mkey).await;
    let recorded = usage_total(&usage);
    let expected = admitted + probes;
    let bound = 10.max(in_window * 2 / 100);
    eprintln!(
        "failover: admitted {expected} ({in_window} in the window), recorded {recorded}, bound {bound}"
    );
    assert!(
        (recorded - expected).abs() <= bound,
        "usage recorded {recorded} vs admitted {expected}: more than {bound} apart ({in_window} admitted in the failover window)"
    );

    // Shared enforcement again: a fresh quota of 50 is exact across the three nodes (local
    // shares would each allow a third of it).
    let (fkey, fvalue, fplan) = key_in_plan(
        &m,
        &api,
        "after-failover",
        json!({"quota": {"limit": 50, "period": "DAY"}}),
    )
    .await;
    let probes = wait_admitted(&pets, &fvalue).await;
    let t = load(pets, Some(fvalue), 9, Duration::from_secs(60), Some(77))
        .await
        .tally;
    assert_eq!(probes, 3);
    assert_eq!((t.admitted, t.quota, t.other), (47, 30, 0), "{t:?}");
    let usage = usage_of(&m, &fplan, &fkey).await;
    assert_eq!(usage["values"][&fkey][0], json!([50, 0]), "{usage}");
}

/// A signed `@connections` POST of `body` on `node` (service `execute-api`); its status.
async fn post_to_connection(node: &DataPlane, api: &str, id: &str, body: &[u8]) -> u16 {
    use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
    let host = apigw_e2e::websocket::host(api);
    let url = format!("http://{host}/dev/@connections/{id}");
    let mut headers = http::HeaderMap::new();
    headers.insert("host", host.parse().expect("host"));
    let params = apigw_sigv4::SigningParams {
        access_key_id: ACCESS_KEY_ID,
        secret: &apigw_sigv4::SecretKey::new(SECRET_ACCESS_KEY),
        security_token: None,
        region: "us-east-1",
        service: "execute-api",
        time: time::OffsetDateTime::now_utc(),
    };
    let signed = apigw_sigv4::sign("POST", &url, &headers, body, &params).expect("signing");
    signed.apply_to(&mut headers).expect("headers");
    reqwest::Client::new()
        .post(format!("{}/dev/@connections/{id}", node.base()))
        .headers(headers)
        .body(body.to_vec())
        .send()
        .await
        .expect("@connections call")
        .status()
        .as_u16()
}

/// WebSocket delivery across nodes on a cluster is sharded pub/sub: a message posted to
/// `@connections` on one node reaches the client connected to another (`SPUBLISH` on the
/// channel's slot's master, where the holding node `SSUBSCRIBE`d), and a gone connection
/// answers 410.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_delivery_crosses_nodes_on_redis_cluster() {
    use apigw_e2e::websocket::{connect, id, next_text};
    let redis = RedisCluster::start().await;
    let env = [("REDIS_URL", redis.url())];
    let db = fresh_database().await.expect("creating a test database");
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), &env).await;
    let node0 = DataPlane::start_env(&cp.grpc_url(), "ws-0", &env).await;
    let node1 = DataPlane::start_env(&cp.grpc_url(), "ws-1", &env).await;
    let m = cp.mgmt();
    let api = m
        .post(
            "/v2/apis",
            json!({"name": "on-cluster", "protocolType": "WEBSOCKET",
                   "routeSelectionExpression": "$request.body.action"}),
        )
        .await
        .ok();
    let api = id(&api, "apiId");
    let base = format!("/v2/apis/{api}");
    let mock = m
        .post(
            &format!("{base}/integrations"),
            json!({"integrationType": "MOCK",
                   "requestTemplates": {"$default": "{\"statusCode\": 200}"},
                   "templateSelectionExpression": "\\$default"}),
        )
        .await
        .ok();
    m.post(
        &format!("{base}/routes"),
        json!({"routeKey": "$connect",
               "target": format!("integrations/{}", id(&mock, "integrationId"))}),
    )
    .await
    .ok();
    m.post(
        &format!("{base}/stages"),
        json!({"stageName": "dev", "autoDeploy": true}),
    )
    .await
    .ok();
    let mut client = eventually(
        "node 0 serves the WebSocket stage",
        Duration::from_secs(30),
        || async { connect(node0.port, &api, "/dev").await.ok() },
    )
    .await;
    // The connection's id, from its registry entry (in the prefix's slot).
    let prefix = cluster_prefix(&redis_prefix(&cp.grpc_url())).expect("a prefix");
    let registry = format!("{prefix}ws:conn:");
    let conn_id = eventually(
        "the connection in the registry",
        Duration::from_secs(10),
        || {
            let (redis, registry) = (&redis, registry.clone());
            async move {
                let keys = redis.scan(redis.ports()[0], &format!("{registry}*")).await;
                keys.first()
                    .map(|(_, k)| k.trim_start_matches(registry.as_str()).to_string())
            }
        },
    )
    .await;
    // Node 1 must know the stage too before it accepts @connections for it.
    let posted = eventually(
        "node 1 delivering to node 0's client",
        Duration::from_secs(30),
        || async {
            let status =
                post_to_connection(&node1, &api, &conn_id, b"{\"hello\":\"cluster\"}").await;
            (status == 200).then_some(status)
        },
    )
    .await;
    assert_eq!(posted, 200);
    assert_eq!(
        next_text(&mut client, "the message posted on node 1").await,
        json!({"hello": "cluster"})
    );
    assert_eq!(
        post_to_connection(&node1, &api, "no-such-connection", b"x").await,
        410
    );
}
