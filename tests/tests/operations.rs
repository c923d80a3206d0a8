//! The operational contract of the binaries: readiness, draining on SIGTERM, JSON logs.

use std::process::Stdio;
use std::time::Duration;

use apigw_e2e::process::bin_dir;
use apigw_e2e::{eventually, free_port, Backend, Cluster};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Deploys `GET /slow` → HTTP_PROXY to the backend's `/slow/{ms}`; returns the API id.
async fn deploy_slow_api(cluster: &Cluster, backend: &Backend, ms: u64) -> String {
    let m = cluster.cp.mgmt();
    let api = m.post("/restapis", json!({"name": "ops"})).await.ok();
    let (id, root) = (
        api["id"].as_str().unwrap_or_default(),
        api["rootResourceId"].as_str().unwrap_or_default(),
    );
    let res = m
        .post(
            &format!("/restapis/{id}/resources/{root}"),
            json!({"pathPart": "slow"}),
        )
        .await
        .ok();
    let method = format!(
        "/restapis/{id}/resources/{}/methods/GET",
        res["id"].as_str().unwrap_or_default()
    );
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    m.put(
        &format!("{method}/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/slow/{ms}", backend.url())}),
    )
    .await
    .ok();
    m.post(
        &format!("/restapis/{id}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await
    .ok();
    id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests() {
    let mut cluster = Cluster::start(1).await;
    let backend = Backend::start("slow").await;
    let id = deploy_slow_api(&cluster, &backend, 1500).await;
    let url = cluster.nodes[0].invoke_url(&id, "prod", "/slow");
    eventually(
        "the deployment on the node",
        Duration::from_secs(10),
        || async {
            let r = reqwest::get(&url).await.ok()?;
            (r.status() == 200).then_some(())
        },
    )
    .await;

    let before = backend.slow_started();
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move {
            let r = reqwest::get(&url)
                .await
                .expect("the in-flight request completes");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    });
    // SIGTERM only once the request is in flight: the node has passed it to the backend,
    // which holds it for 1.5 s.
    eventually(
        "the request in flight at the backend",
        Duration::from_secs(10),
        || async { (backend.slow_started() > before).then_some(()) },
    )
    .await;
    let port = cluster.nodes[0].port;
    cluster.nodes[0].stop().await; // SIGTERM, then waits for the process to exit
    assert_eq!(
        in_flight.await.expect("request task"),
        (200, "slow".to_string())
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "a stopped node accepts no new connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_is_live_but_not_ready_until_it_has_a_config() {
    // No control plane listens there: the node is up but has nothing to serve.
    let node =
        apigw_e2e::DataPlane::start(&format!("http://127.0.0.1:{}", free_port()), "lonely").await;
    let readyz = reqwest::get(format!("{}/readyz", node.base()))
        .await
        .expect("readyz");
    assert_eq!(readyz.status(), 503);
    let healthz = reqwest::get(format!("{}/healthz", node.base()))
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
    // Invoke URLs answer AWS's 403 for an API the node does not know, never a 5xx.
    let r = reqwest::get(node.invoke_url("nope", "prod", "/x"))
        .await
        .expect("invoke");
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "Forbidden"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_format_json_writes_one_json_object_per_line() {
    let port = free_port();
    let mut child = tokio::process::Command::new(bin_dir().join("data-plane"))
        .args([
            "--log-format",
            "json",
            "--http-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--control-plane",
            &format!("http://127.0.0.1:{}", free_port()),
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting data-plane");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("log lines within 30 s")
            .expect("reading stderr")
            .expect("the process keeps logging");
        let parsed: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            parsed["level"].is_string() && parsed["timestamp"].is_string(),
            "{line}"
        );
        seen.push(parsed);
    }
    assert!(
        seen.iter().any(|l| l["message"] == "data plane listening"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_control_plane_logs() {
    let db = apigw_e2e::fresh_database().await.expect("database");
    let (http, grpc) = (free_port(), free_port());
    let secret = "log-probe-secret-do-not-print-0123456789";
    let child = tokio::process::Command::new(bin_dir().join("control-plane"))
        .env("DATABASE_URL", &db)
        .env("CP_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("CP_GRPC_ADDR", format!("127.0.0.1:{grpc}"))
        .env("APIGW_ACCESS_KEY_ID", "AKIALOGPROBE00000001")
        .env("APIGW_SECRET_ACCESS_KEY", secret)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting control-plane");
    // Drain both pipes while it runs: trace-level logs fill a pipe's buffer long before
    // the test ends, and a full pipe would block the control plane's writes.
    let drain = |pipe: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| {
        tokio::spawn(async move {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut out).await;
            }
            out
        })
    };
    let mut child = child;
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let base = format!("http://127.0.0.1:{http}");
    eventually("control plane up", Duration::from_secs(60), || async {
        reqwest::get(format!("{base}/healthz"))
            .await
            .ok()
            .filter(|r| r.status() == 200)
    })
    .await;
    let good = apigw_e2e::Mgmt::new(&base, "AKIALOGPROBE00000001", secret);
    good.post("/restapis", json!({"name": "probe"})).await.ok();
    let bad = apigw_e2e::Mgmt::new(
        &base,
        "AKIALOGPROBE00000001",
        "a-wrong-secret-also-not-printed",
    );
    assert_eq!(bad.get("/restapis").await.status, 403);

    let _ = tokio::process::Command::new("kill")
        .args(["-TERM", &child.id().expect("pid").to_string()])
        .status()
        .await;
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits after SIGTERM")
        .expect("exit status");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout.await.expect("stdout")),
        String::from_utf8_lossy(&stderr.await.expect("stderr"))
    );
    assert!(
        logs.contains("/restapis"),
        "the requests were logged:\n{logs}"
    );
    for needle in [secret, "a-wrong-secret", "Signature="] {
        assert!(!logs.contains(needle), "{needle:?} appears in the logs");
    }
}
