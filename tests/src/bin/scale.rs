//! The scale measurements of issue 22 (docs/scale.md): starts a control plane (fresh
//! database on the test Postgres) and three nodes, deploys N generated APIs
//! (`apigw_e2e::scale`) and prints, without asserting anything: the generation's call
//! times, node and control-plane RSS with 1 and with N APIs, request latency with 1 and
//! with N APIs loaded, delta propagation to every node after more deployments, and the
//! full state's size and time to a node that joins.
//!
//! ```text
//! E2E_BIN_DIR=/work/main/target/release \
//!   cargo run -p apigw-e2e --bin scale -- --apis 1000 [--resources 20] [--concurrency 8]
//!   [--rounds 20] [--latency-requests 2000]
//! ```
//!
//! Without `E2E_BIN_DIR` it builds and runs the debug binaries (as the tests do).

use std::time::{Duration, Instant};

use apigw_e2e::scale::{self, Api, Spec};
use apigw_e2e::{fresh_database, ControlPlane, DataPlane};

struct Args {
    spec: Spec,
    rounds: usize,
    latency_requests: usize,
}

fn args() -> Args {
    let mut out = Args {
        spec: Spec::default(),
        rounds: 20,
        latency_requests: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |what: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("{what} takes a number")))
        };
        match flag.as_str() {
            "--apis" => out.spec.apis = num("--apis").max(1),
            "--resources" => out.spec.resources = num("--resources").max(2),
            "--concurrency" => out.spec.concurrency = num("--concurrency").max(1),
            "--rounds" => out.rounds = num("--rounds").max(1),
            "--latency-requests" => out.latency_requests = num("--latency-requests").max(1),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    out
}

fn usage(why: &str) -> ! {
    if !why.is_empty() {
        eprintln!("scale: {why}");
    }
    eprintln!(
        "usage: scale [--apis N (10000)] [--resources R (20)] [--concurrency C (8)] \
         [--rounds K (20)] [--latency-requests L (2000)]\n\
         E2E_BIN_DIR=<dir> runs the control-plane and data-plane binaries found there."
    );
    std::process::exit(2)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `n` sequential requests of `/r0` of `api` on one keep-alive connection: their latencies.
async fn latencies(http: &reqwest::Client, base: &str, api: &Api, n: usize) -> Vec<Duration> {
    let url = scale::invoke_url(base, api, scale::probe_path());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let ok = match http.get(&url).send().await {
            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
            Err(_) => false,
        };
        out.push(t.elapsed());
        assert!(ok, "{url} failed during the latency probe");
    }
    out
}

/// The size of the state the control plane of `grpc_url` published to Redis (0: none).
async fn published_state_bytes(grpc_url: &str) -> u64 {
    let key = format!(
        "{}{}",
        apigw_e2e::process::redis_prefix(grpc_url),
        apigw_proto::PUBLISHED_STATE_KEY
    );
    let Ok(client) = redis::Client::open(apigw_e2e::redis_url()) else {
        return 0;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return 0;
    };
    redis::cmd("HSTRLEN")
        .arg(&key)
        .arg("state")
        .query_async::<u64>(&mut conn)
        .await
        .unwrap_or(0)
}

fn rss(pid: Option<u32>) -> u64 {
    pid.map_or(0, scale::rss_bytes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Args {
        spec,
        rounds,
        latency_requests,
    } = args();
    let n = spec.apis;
    println!(
        "scale: N = {n} APIs x {} resources, concurrency {}, binaries in {}",
        spec.resources,
        spec.concurrency,
        apigw_e2e::process::bin_dir().display()
    );
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let grpc = cp.grpc_url();
    let mut nodes = Vec::new();
    for i in 0..3 {
        let env: &[(&str, String)] = if i == 0 {
            &[("DP_WORKER_THREADS", "1".to_string())]
        } else {
            &[]
        };
        nodes.push(DataPlane::start_env(&grpc, &format!("node-{i}"), env).await);
    }
    let http = reqwest::Client::new();

    // One API: the baseline.
    let (first, _) = scale::create_one(&m, &spec, 0).await;
    for node in &nodes {
        node.wait_ready().await;
        scale::wait_all_served(
            &http,
            &node.base(),
            std::slice::from_ref(&first),
            spec.resources,
            Duration::from_secs(60),
        )
        .await;
    }
    // Settle (allocator, first-request paths) before measuring.
    latencies(&http, &nodes[0].base(), &first, 200).await;
    let lat_1 = latencies(&http, &nodes[0].base(), &first, latency_requests).await;
    let node_rss_1 = rss(nodes[0].pid());
    let cp_rss_1 = rss(cp.pid());

    // The other N - 1, while the three nodes follow.
    let generated = scale::generate(&m, &spec, 1..n, |done| {
        eprintln!("scale: {} APIs created", done + 1);
    })
    .await;
    let mut all = vec![first.clone()];
    all.extend(generated.apis.iter().cloned());
    println!(
        "generation: {} APIs in {:.1} s ({:.1} APIs/s)",
        all.len(),
        generated.total.as_secs_f64(),
        (all.len() - 1) as f64 / generated.total.as_secs_f64().max(1e-9)
    );
    println!("  ImportRestApi    {}", scale::summary(&generated.import));
    println!("  CreateDeployment {}", scale::summary(&generated.deploy));
    println!("  CreateUsagePlan  {}", scale::summary(&generated.plan));

    let t = Instant::now();
    for node in &nodes {
        scale::wait_all_served(
            &http,
            &node.base(),
            &all,
            spec.resources,
            Duration::from_secs(600),
        )
        .await;
    }
    println!(
        "every node serves all {n} APIs (checked every API on 3 nodes in {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    // Memory.
    let node_rss_n = rss(nodes[0].pid());
    let cp_rss_n = rss(cp.pid());
    println!(
        "node RSS: {:.1} MiB with 1 API, {:.1} MiB with {n} ({:.1} KiB per API)",
        mib(node_rss_1),
        mib(node_rss_n),
        node_rss_n.saturating_sub(node_rss_1) as f64 / 1024.0 / (n.max(2) - 1) as f64
    );
    for node in &nodes[1..] {
        println!("  {} RSS {:.1} MiB", node.node_id, mib(rss(node.pid())));
    }
    println!(
        "control-plane RSS: {:.1} MiB with 1 API, {:.1} MiB with {n}",
        mib(cp_rss_1),
        mib(cp_rss_n)
    );

    // Request latency with N loaded, same API and path as the baseline.
    latencies(&http, &nodes[0].base(), &first, 200).await;
    let lat_n = latencies(&http, &nodes[0].base(), &first, latency_requests).await;
    println!("request latency (node-0, one connection, sequential, MOCK with template):");
    println!("  with 1 API:  {}", scale::summary(&lat_1));
    println!("  with {n} APIs: {}", scale::summary(&lat_n));

    // Deltas: one more deployment at a time, timed to each node serving it.
    let compiled = |base: String| {
        let http = http.clone();
        async move {
            scale::node_metric(&http, &base, "apigw_config_stages_compiled_total")
                .await
                .unwrap_or(f64::NAN)
        }
    };
    let mut compiled_before = Vec::new();
    for node in &nodes {
        compiled_before.push(compiled(node.base()).await);
    }
    let mut deploy_times = Vec::new();
    let mut propagation = Vec::new();
    for round in 1..=rounds {
        let api = &all[(round * 7919) % all.len()];
        let mark = format!("d{round}");
        deploy_times.push(scale::redeploy(&m, api, &mark).await);
        let since = Instant::now();
        let bases: Vec<String> = nodes.iter().map(DataPlane::base).collect();
        let waits = bases.iter().map(|base| {
            scale::time_until_marked(
                &http,
                base,
                api,
                &mark,
                since,
                Duration::from_millis(1),
                Duration::from_secs(60),
            )
        });
        propagation.extend(futures::future::join_all(waits).await);
    }
    println!("one more deployment ({rounds} rounds, one API each, {n} APIs deployed):");
    println!("  CreateDeployment {}", scale::summary(&deploy_times));
    println!(
        "  served by each of 3 nodes after the call returned: {}",
        scale::summary(&propagation)
    );
    for (node, before) in nodes.iter().zip(compiled_before) {
        let after = compiled(node.base()).await;
        let delta_bytes = scale::node_metric(&http, &node.base(), "apigw_config_last_delta_bytes")
            .await
            .unwrap_or(f64::NAN);
        let delta_build =
            scale::node_metric(&http, &node.base(), "apigw_config_last_delta_build_seconds")
                .await
                .unwrap_or(f64::NAN);
        println!(
            "  {}: stages compiled for the {rounds} deltas: {} (last delta {delta_bytes} bytes, built in {:.2} ms)",
            node.node_id,
            after - before,
            delta_build * 1000.0
        );
    }

    // A node that joins: the full state.
    let started = Instant::now();
    let joiner = DataPlane::start(&grpc, "node-3").await;
    let readyz = format!("{}/readyz", joiner.base());
    loop {
        if let Ok(r) = http.get(&readyz).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(600) {
            panic!("node-3 not ready in 600 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready_after = started.elapsed();
    let full_bytes =
        scale::node_metric(&http, &joiner.base(), "apigw_config_last_full_update_bytes")
            .await
            .unwrap_or(f64::NAN);
    let full_build = scale::node_metric(
        &http,
        &joiner.base(),
        "apigw_config_last_full_build_seconds",
    )
    .await
    .unwrap_or(f64::NAN);
    // The same full state as the control planes publish it to Redis (a framed full
    // update without private keys): its size whatever the nodes' version reports.
    let published = published_state_bytes(&grpc).await;
    println!(
        "full state published to Redis: {:.1} MiB ({:.1} KiB per API)",
        published as f64 / 1024.0 / 1024.0,
        published as f64 / 1024.0 / n as f64
    );
    println!(
        "a new node: ready (serving all {n} APIs) {:.0} ms after its process started; full update {:.1} MiB ({:.1} KiB per API), built in {:.0} ms; RSS {:.1} MiB, peak RSS {:.1} MiB",
        ready_after.as_secs_f64() * 1000.0,
        full_bytes / 1024.0 / 1024.0,
        full_bytes / 1024.0 / n as f64,
        full_build * 1000.0,
        mib(rss(joiner.pid())),
        mib(joiner.pid().map_or(0, scale::peak_rss_bytes))
    );
    scale::wait_all_served(
        &http,
        &joiner.base(),
        &all,
        spec.resources,
        Duration::from_secs(60),
    )
    .await;
    println!("node-3 serves all {n} APIs");
}
