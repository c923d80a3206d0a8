//! Nodes that start alone (issue 21): each node keeps its last applied config in its state
//! directory and serves it at the next start before the control plane answers; a corrupt
//! or foreign state file is refused with a log line and never applied; private keys are
//! never in the file in clear (sealed with `DP_STATE_KEY`, or left out without one).
//! Real processes: a control plane, nodes with their own state directories, a backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use apigw_e2e::rest_api::mock_method;
use apigw_e2e::tls::{https_get, TestCa};
use apigw_e2e::{
    eventually, fresh_database, raw_status, Backend, ControlPlane, DataPlane, Mgmt, RestApi,
};
use serde_json::json;

/// A state directory of its own, removed when dropped.
struct StateDir(PathBuf);

impl StateDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "apigw-e2e-state-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("a state directory");
        StateDir(dir)
    }

    fn env(&self) -> (&'static str, String) {
        ("DP_STATE_DIR", self.0.display().to_string())
    }

    fn file(&self) -> PathBuf {
        self.0.join("state.bin")
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Waits until `file` exists and holds `needle` (the writer runs just after each apply).
async fn wait_file_holds(file: &Path, needle: &str) -> Vec<u8> {
    eventually(
        &format!("{} holds {needle}", file.display()),
        Duration::from_secs(20),
        || async {
            std::fs::read(file)
                .ok()
                .filter(|bytes| contains(bytes, needle.as_bytes()))
        },
    )
    .await
}

async fn get(url: &str) -> (u16, String) {
    match reqwest::get(url).await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

async fn wait_serves(node: &DataPlane, api: &str, path: &str, needle: &str) {
    let url = node.invoke_url(api, "prod", path);
    eventually(
        &format!("{} serves {url}", node.node_id),
        Duration::from_secs(30),
        || async {
            let (status, body) = get(&url).await;
            (status == 200 && body.contains(needle)).then_some(())
        },
    )
    .await;
}

async fn readyz(node: &DataPlane) -> u16 {
    get(&format!("{}/readyz", node.base())).await.0
}

/// An API with `GET /hello` (MOCK) and `GET /pets` (HTTP to the `backend` stage variable),
/// deployed to `prod`.
async fn api_with_backend(m: &Mgmt, name: &str, backend: &str) -> String {
    let api = RestApi::create(m, name).await;
    let hello = api.resource(&api.root, "hello").await;
    let pets = api.resource(&api.root, "pets").await;
    mock_method(
        m,
        &api.id,
        &hello,
        "GET",
        &format!("{{\"api\": \"{name}\"}}"),
    )
    .await;
    api.method_with_responses(
        &pets,
        "GET",
        json!({"type": "HTTP", "httpMethod": "GET", "uri": "http://${stageVariables.backend}/pets"}),
        &[("200", &[], json!({}))],
    )
    .await;
    api.deploy("prod", json!({"backend": backend})).await;
    api.id
}

/// A MOCK API answering `GET /hello` with `{"api": "<name>"}`, deployed to `prod`.
async fn mock_api(m: &Mgmt, name: &str) -> String {
    let api = RestApi::create(m, name).await;
    let hello = api.resource(&api.root, "hello").await;
    mock_method(
        m,
        &api.id,
        &hello,
        "GET",
        &format!("{{\"api\": \"{name}\"}}"),
    )
    .await;
    api.deploy("prod", json!({})).await;
    api.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_serves_its_state_while_the_control_plane_is_down() {
    let db = fresh_database().await.expect("a test database");
    let mut cp = ControlPlane::start(&db).await;
    let grpc = cp.grpc_url();
    let backend = Backend::start("pets-backend").await;
    let backend_host = backend.url().trim_start_matches("http://").to_string();
    let (dir_a, dir_b) = (StateDir::new("a"), StateDir::new("b"));
    let mut node_a = DataPlane::start_env(&grpc, "node-a", &[dir_a.env()]).await;
    let node_b = DataPlane::start_env(&grpc, "node-b", &[dir_b.env()]).await;
    let m = cp.mgmt();

    // Two deployments: the first reaches the nodes in their full update, the second as a
    // delta, so the file holds the two folded together.
    let first = api_with_backend(&m, "first", &backend_host).await;
    for node in [&node_a, &node_b] {
        node.wait_ready().await;
        wait_serves(node, &first, "/hello", "\"api\": \"first\"").await;
    }
    let second = mock_api(&m, "second").await;
    for node in [&node_a, &node_b] {
        wait_serves(node, &second, "/hello", "\"api\": \"second\"").await;
    }
    for dir in [&dir_a, &dir_b] {
        let bytes = wait_file_holds(&dir.file(), &second).await;
        assert!(bytes.starts_with(b"APIGWDPS"), "the state file's magic");
        assert!(contains(&bytes, first.as_bytes()));
    }

    // The control plane goes away; node A crashes and comes back on its state directory.
    cp.stop().await;
    node_a.kill().await;
    let node_a = DataPlane::start_env(&grpc, "node-a", &[dir_a.env()]).await;
    assert_eq!(
        readyz(&node_a).await,
        200,
        "ready from the state file alone"
    );
    let (status, body) = get(&node_a.invoke_url(&first, "prod", "/hello")).await;
    assert_eq!((status, body.as_str()), (200, "{\"api\": \"first\"}"));
    let (status, body) = get(&node_a.invoke_url(&first, "prod", "/pets")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("pets-backend"),
        "the backend answered: {body}"
    );
    let (status, body) = get(&node_a.invoke_url(&second, "prod", "/hello")).await;
    assert_eq!((status, body.as_str()), (200, "{\"api\": \"second\"}"));

    // A corrupted copy of B's state file (bytes flipped in the payload): refused with a
    // log line naming the file and the reason; the node serves nothing and stays up.
    let dir_c = StateDir::new("corrupt");
    let mut bytes = std::fs::read(dir_b.file()).expect("B's state file");
    let middle = 56 + (bytes.len() - 56) / 2;
    for b in &mut bytes[middle..middle + 4] {
        *b ^= 0xa5;
    }
    std::fs::write(dir_c.file(), &bytes).expect("writing the corrupt copy");
    let log_c = dir_c.0.with_extension("log");
    let node_c =
        DataPlane::start_logged(&grpc, "node-c", &[dir_c.env()], Some(log_c.as_path())).await;
    // And a file of a newer format version.
    let dir_d = StateDir::new("newer");
    let mut bytes = std::fs::read(dir_b.file()).expect("B's state file");
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(dir_d.file(), &bytes).expect("writing the newer copy");
    let log_d = dir_d.0.with_extension("log");
    let node_d =
        DataPlane::start_logged(&grpc, "node-d", &[dir_d.env()], Some(log_d.as_path())).await;
    for (node, log, reason) in [
        (&node_c, &log_c, "checksum mismatch"),
        (&node_d, &log_d, "format version 7"),
    ] {
        let line = eventually("the refusal is logged", Duration::from_secs(10), || async {
            std::fs::read_to_string(log).ok().and_then(|text| {
                text.lines()
                    .find(|l| l.contains("state file refused"))
                    .map(str::to_string)
            })
        })
        .await;
        assert!(line.contains(reason), "{line}");
        assert!(line.contains("state.bin"), "names the file: {line}");
        assert_eq!(readyz(node).await, 503, "{}", node.node_id);
        let (status, _) = get(&node.invoke_url(&first, "prod", "/hello")).await;
        assert!(status == 404 || status == 403, "{}: {status}", node.node_id);
        assert_eq!(get(&format!("{}/healthz", node.base())).await.0, 200);
    }

    // The control plane comes back on the same database: every node catches up, the
    // restored one and those that refused their files included.
    let cp = ControlPlane::start_on(&db, cp.http_port, cp.grpc_port).await;
    let m = cp.mgmt();
    let third = mock_api(&m, "third").await;
    for node in [&node_a, &node_b, &node_c, &node_d] {
        wait_serves(node, &third, "/hello", "\"api\": \"third\"").await;
        wait_serves(node, &first, "/hello", "\"api\": \"first\"").await;
        assert_eq!(readyz(node).await, 200);
    }
    // The refused files are replaced by good ones.
    for dir in [&dir_a, &dir_c, &dir_d] {
        let bytes = wait_file_holds(&dir.file(), &third).await;
        assert_eq!(&bytes[8..12], &1u32.to_le_bytes());
    }
    let _ = std::fs::remove_file(log_c);
    let _ = std::fs::remove_file(log_d);
}

/// The base64 lines of a PEM (its body), without the armour.
fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

fn assert_no_private_key(bytes: &[u8], key_pem: &str) {
    assert!(
        !contains(bytes, b"PRIVATE KEY"),
        "a PEM private key in the state file"
    );
    for line in pem_body_lines(key_pem) {
        assert!(
            !contains(bytes, line.as_bytes()),
            "the private key's body in the state file"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_keys_are_sealed_or_left_out_of_the_state_file() {
    let db = fresh_database().await.expect("a test database");
    let mut cp = ControlPlane::start(&db).await;
    let grpc = cp.grpc_url();
    let state_key = base64_key();
    let (dir_plain, dir_keyed) = (StateDir::new("plain"), StateDir::new("keyed"));
    let keyed_env = [dir_keyed.env(), ("DP_STATE_KEY", state_key.clone())];
    let mut plain = DataPlane::start_env(&grpc, "node-plain", &[dir_plain.env()]).await;
    let mut keyed = DataPlane::start_env(&grpc, "node-keyed", &keyed_env).await;
    let m = cp.mgmt();

    let ca = TestCa::new("state test ca");
    let cert = ca.server("api.example.com");
    let api = RestApi::create(&m, "domain-api").await;
    let who = api.resource(&api.root, "who").await;
    mock_method(&m, &api.id, &who, "GET", "{\"api\": \"domain\"}").await;
    api.deploy("prod", json!({})).await;
    let created = m
        .post(
            "/domainnames",
            json!({"domainName": "api.example.com", "certificateBody": cert.cert_pem,
                   "certificatePrivateKey": cert.key_pem,
                   "endpointConfiguration": {"types": ["REGIONAL"]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let mapped = m
        .post(
            "/domainnames/api.example.com/basepathmappings",
            json!({"restApiId": api.id, "stage": "prod"}),
        )
        .await;
    assert_eq!(mapped.status, 201, "{}", mapped.body);
    // A client certificate: the control plane generates its key, streamed to the nodes.
    let generated = m
        .post(
            "/clientcertificates",
            json!({"description": "backend mTLS"}),
        )
        .await;
    assert_eq!(generated.status, 201, "{}", generated.body);
    let client_cert_id = generated.body["clientCertificateId"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    for node in [&plain, &keyed] {
        let port = node.https_port;
        eventually(
            "the domain reaches the node",
            Duration::from_secs(30),
            || async {
                https_get(port, "api.example.com", "/who", &ca.pem, None)
                    .await
                    .ok()
                    .filter(|a| a.status == 200)
            },
        )
        .await;
    }
    let plain_bytes = wait_file_holds(&dir_plain.file(), &client_cert_id).await;
    let keyed_bytes = wait_file_holds(&dir_keyed.file(), &client_cert_id).await;
    for bytes in [&plain_bytes, &keyed_bytes] {
        assert!(contains(bytes, b"api.example.com"));
        assert_no_private_key(bytes, &cert.key_pem);
    }
    assert!(contains(&keyed_bytes, b"apigw-sealed:v1:"), "keys sealed");
    assert!(
        !contains(&plain_bytes, b"apigw-sealed:v1:"),
        "keys left out"
    );

    // The control plane goes away; both nodes restart on their state.
    cp.stop().await;
    keyed.kill().await;
    plain.kill().await;
    let keyed = DataPlane::start_env(&grpc, "node-keyed", &keyed_env).await;
    let plain = DataPlane::start_env(&grpc, "node-plain", &[dir_plain.env()]).await;
    for node in [&plain, &keyed] {
        assert_eq!(readyz(node).await, 200, "{}", node.node_id);
        // The custom domain routes on the plain listener either way.
        let status = raw_status(
            node.port,
            "GET /who HTTP/1.1\r\nHost: api.example.com\r\nConnection: close",
            0,
            false,
        )
        .await;
        assert_eq!(status, 200, "{}", node.node_id);
    }
    // With the key, HTTPS for the domain is served from the state, with its certificate.
    let got = https_get(keyed.https_port, "api.example.com", "/who", &ca.pem, None)
        .await
        .expect("an HTTPS answer from the restored keyed node");
    assert_eq!(got.status, 200);
    assert_eq!(got.server_cert, cert.der());
    assert!(got.body.contains("\"api\": \"domain\""), "{}", got.body);
    // Without it, the handshake waits for the control plane.
    let refused = https_get(plain.https_port, "api.example.com", "/who", &ca.pem, None).await;
    assert!(refused.is_err(), "{refused:?}");
    // The key in the environment does not leak into the files either.
    let keyed_bytes = std::fs::read(dir_keyed.file()).expect("the keyed state file");
    assert!(!contains(&keyed_bytes, state_key.as_bytes()));

    // The control plane returns: the plain node gets its key back and serves HTTPS.
    let _cp = ControlPlane::start_on(&db, cp.http_port, cp.grpc_port).await;
    let port = plain.https_port;
    let got = eventually(
        "HTTPS after the control plane returns",
        Duration::from_secs(30),
        || async {
            https_get(port, "api.example.com", "/who", &ca.pem, None)
                .await
                .ok()
                .filter(|a| a.status == 200)
        },
    )
    .await;
    assert_eq!(got.server_cert, cert.der());
}

/// 32 random bytes, base64 (a `DP_STATE_KEY`).
fn base64_key() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    redis::Client::open(apigw_e2e::redis_url())
        .expect("Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis")
}

/// A brand-new node (no state directory, nothing of its own) started while the control
/// plane is down serves the last state the control plane published to Redis; a published
/// state that does not check out is refused with a log line and never applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_new_node_bootstraps_from_the_state_published_to_redis() {
    let db = fresh_database().await.expect("a test database");
    let mut cp = ControlPlane::start(&db).await;
    let grpc = cp.grpc_url();
    let prefix = apigw_e2e::process::redis_prefix(&grpc);
    let key = format!("{prefix}state");
    let m = cp.mgmt();
    let api = mock_api(&m, "published").await;
    let first = DataPlane::start(&grpc, "first").await;
    wait_serves(&first, &api, "/hello", "published").await;

    // The control plane publishes each state it loads; wait for the one with the API.
    let mut redis = redis_conn().await;
    eventually(
        "the state with the API published to Redis",
        Duration::from_secs(20),
        || {
            let mut redis = redis.clone();
            let (key, api) = (key.clone(), api.clone());
            async move {
                let state: Option<Vec<u8>> = redis::cmd("HGET")
                    .arg(&key)
                    .arg("state")
                    .query_async(&mut redis)
                    .await
                    .ok()?;
                state.filter(|s| contains(s, api.as_bytes()))
            }
        },
    )
    .await;
    let version: u64 = redis::cmd("HGET")
        .arg(&key)
        .arg("version")
        .query_async(&mut redis)
        .await
        .expect("the published version");
    assert!(version > 0);

    cp.stop().await;
    // No state directory (the harness default): nothing of its own.
    let fresh = DataPlane::start(&grpc, "brand-new").await;
    fresh.wait_ready().await;
    wait_serves(&fresh, &api, "/hello", "published").await;

    // A corrupted copy is refused whole: the node stays unready and says why.
    let () = redis::cmd("HSET")
        .arg(&key)
        .arg("state")
        .arg(b"APIGWDPS garbage".as_slice())
        .query_async(&mut redis)
        .await
        .expect("HSET");
    let log = std::env::temp_dir().join(format!(
        "apigw-e2e-bootstrap-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let refused = DataPlane::start_logged(&grpc, "refuses", &[], Some(&log)).await;
    let line = eventually("the refusal logged", Duration::from_secs(20), || async {
        std::fs::read_to_string(&log)
            .ok()?
            .lines()
            .find(|l| l.contains("published state refused"))
            .map(str::to_string)
    })
    .await;
    assert!(line.contains("truncated"), "{line}");
    assert_eq!(readyz(&refused).await, 503, "nothing half-applied");
    let _ = std::fs::remove_file(&log);
}
