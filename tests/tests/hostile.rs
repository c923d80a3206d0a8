//! Hostile input and faults (issue 21), probed as an attacker would, against the real
//! binaries with raw TCP clients where an HTTP library would refuse to send the probe:
//!
//! - path traversal through `{proxy+}` (`..`, `%2e%2e`, `..%2f`): dot segments are resolved
//!   within the stage before routing, and a path that would climb out of it, or hides a dot
//!   segment behind an encoded separator, is refused with 400;
//! - connections that send nothing, or trickle a head (slowloris), are closed after the
//!   header read timeout, on the node and on both control-plane listeners;
//! - a backend's malformed or overflowing chunking is a 502 (not an empty reply), a
//!   client's overflowing chunk size a 400 (not a 502);
//! - header limits (one field 10 KB, the whole head 32 KB) answer 431; HTTP/1.1 without
//!   `Host` 400;
//! - request smuggling shapes (CL+TE, two Content-Lengths), NUL and bare CR in headers,
//!   looping templates and a catastrophic regex are refused or bounded;
//! - a backend failure leaves one warning on the node (request id, API, stage, error), and
//!   its log file has no ANSI colour codes;
//! - with Postgres down, management calls answer 503 ServiceUnavailableException at once
//!   (the pool's acquire timeout) and `/readyz` says so, then recover.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use apigw_e2e::invoke::get;
use apigw_e2e::postgres::PrivatePostgres;
use apigw_e2e::{eventually, fresh_database, Backend, ControlPlane, DataPlane, RestApi};

/// How long the tests' processes wait for a request head (short, so the probes are quick).
const HEADER_READ_TIMEOUT: &str = "1";

/// Sends `request` on a new connection and reads until the server closes it (or 30 s
/// pass); returns what was read.
async fn exchange(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(request).await.expect("send the probe");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed in 30 s"
    );
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status code of a raw answer (0 for an empty reply).
fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Whether the server closes a connection that sends nothing (or only `trickle`, one
/// byte every 200 ms) within 30 s.
async fn closes_idle_connection(port: u16, trickle: &[u8]) -> bool {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    closes_idle_stream(stream, trickle).await
}

/// [`closes_idle_connection`] on an open stream (a TLS one after its handshake).
async fn closes_idle_stream(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    trickle: &[u8],
) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut next = trickle.iter().cycle();
    while tokio::time::Instant::now() < deadline {
        if !trickle.is_empty() {
            let byte = [*next.next().unwrap_or(&b'x')];
            if stream.write_all(&byte).await.is_err() {
                return true;
            }
        }
        // EOF or reset: closed. Data (a 408 or 400 on the way out) or nothing yet: go on.
        let read = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            return true;
        }
    }
    false
}

/// A backend answering with broken chunked framing, by path: `/bad` a size that is not
/// hex, `/overflow` a size of 2^72 - 1, `/late` a bad size sent 200 ms after its head.
async fn broken_backend() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head).to_string();
                let start = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                let body: &str = if line.contains("/overflow") {
                    "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"
                } else {
                    "zz\r\nhello\r\n0\r\n\r\n"
                };
                if line.contains("/late") {
                    let _ = socket.write_all(start.as_bytes()).await;
                    let _ = socket.flush().await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let _ = socket.write_all(body.as_bytes()).await;
                } else {
                    let _ = socket.write_all(format!("{start}{body}").as_bytes()).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn the_node_refuses_hostile_requests_and_logs_backend_failures() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start_with_env(
        &db,
        apigw_e2e::free_port(),
        apigw_e2e::free_port(),
        &[("HEADER_READ_TIMEOUT", HEADER_READ_TIMEOUT.to_string())],
    )
    .await;
    let log_dir = std::env::temp_dir().join(format!("apigw-hostile-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&log_dir).expect("log dir");
    let log = log_dir.join("node.log");
    let node = DataPlane::start_logged(
        &cp.grpc_url(),
        "hostile-0",
        &[("HEADER_READ_TIMEOUT", HEADER_READ_TIMEOUT.to_string())],
        Some(&log),
    )
    .await;
    let backend = Backend::start("echo").await;
    let (broken, _broken_task) = broken_backend().await;

    let m = cp.mgmt();
    let api = RestApi::create(&m, "hostile").await;
    let p = api.resource(&api.root, "p").await;
    let proxy = api.resource(&p, "{proxy+}").await;
    m.put(
        &api.method_path(&proxy, "ANY"),
        json!({"authorizationType": "NONE",
               "requestParameters": {"method.request.path.proxy": true}}),
    )
    .await
    .ok();
    m.put(
        &format!("{}/integration", api.method_path(&proxy, "ANY")),
        json!({"type": "HTTP_PROXY", "httpMethod": "ANY",
               "uri": format!("http://{}/mapped/{{proxy}}", backend.addr),
               "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}}),
    )
    .await
    .ok();
    let echo = api.resource(&api.root, "echo").await;
    api.method(
        &echo,
        "POST",
        json!({"type": "HTTP_PROXY", "httpMethod": "POST",
               "uri": format!("http://{}/echo", backend.addr)}),
    )
    .await;
    for name in ["bad", "overflow", "late"] {
        let resource = api.resource(&api.root, name).await;
        api.method(
            &resource,
            "GET",
            json!({"type": "HTTP_PROXY", "httpMethod": "GET",
                   "uri": format!("http://{broken}/{name}")}),
        )
        .await;
    }
    // A looping template and a catastrophic regex in a template: bounded.
    let looping = api.resource(&api.root, "loop").await;
    api.method(
        &looping,
        "GET",
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    api.response(
        &looping,
        "GET",
        200,
        json!({"responseTemplates": {"application/json":
            "#foreach($i in [1..1000])#foreach($j in [1..1000])x#end#end"}}),
    )
    .await;
    let regex = api.resource(&api.root, "regex").await;
    api.method(
        &regex,
        "GET",
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    api.response(
        &regex,
        "GET",
        200,
        json!({"responseTemplates": {"application/json":
            "#set($s = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\")$s.matches(\"(a+)+$\")"}}),
    )
    .await;
    api.deploy("prod", json!({})).await;
    node.wait_ready().await;
    let base = format!("/restapis/{}/prod/_user_request_", api.id);
    let url = |path: &str| format!("{}{base}{path}", node.base());
    eventually("the API is served", Duration::from_secs(20), || async {
        (get(&url("/p/x"), &[]).await.status == 200).then_some(())
    })
    .await;

    // Path traversal: resolved within the stage, never out of the mapped prefix.
    let raw_get = |path: String| {
        format!("GET {base}{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    };
    let answer = exchange(node.port, raw_get("/p/a/../b".into()).as_bytes()).await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert!(answer.contains("\"path\":\"/mapped/b\""), "{answer}");
    let answer = exchange(node.port, raw_get("/p/a/%2e%2E/c".into()).as_bytes()).await;
    assert!(answer.contains("\"path\":\"/mapped/c\""), "{answer}");
    for probe in [
        "/p/../../../etc/passwd",
        "/p/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/p/..%2f..%2f..%2fetc%2fpasswd",
        "/p/x/..%2F..%2F..%2Fetc%2Fpasswd",
        "/p/..%5c..%5cwindows",
    ] {
        let answer = exchange(node.port, raw_get(probe.into()).as_bytes()).await;
        assert_eq!(status(&answer), 400, "{probe}: {answer}");
        assert!(
            !answer.contains("/mapped"),
            "{probe} reached the backend: {answer}"
        );
    }

    // HTTP/1.1 without Host, or with two.
    let path = format!("{base}/p/x");
    let answer = exchange(
        node.port,
        format!("GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status(&answer), 400, "{answer}");
    let answer = exchange(
        node.port,
        format!("GET {path} HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(status(&answer), 400, "{answer}");
    // HTTP/1.0 needs no Host.
    let answer = exchange(node.port, format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes()).await;
    assert_eq!(status(&answer), 200, "{answer}");

    // Header limits: one field over 10 KB, the whole head over 32 KB (each field small),
    // and 100 KB in one: 431, never forwarded.
    let head_with = |extra: String| {
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n")
    };
    let fits = format!("X-Big: {}\r\n", "v".repeat(10 * 1024 - 7));
    assert_eq!(
        status(&exchange(node.port, head_with(fits).as_bytes()).await),
        200
    );
    for extra in [
        format!("X-Big: {}\r\n", "v".repeat(10 * 1024)),
        format!("X-Big: {}\r\n", "v".repeat(100 * 1024)),
        (0..10)
            .map(|i| format!("X-Part-{i}: {}\r\n", "v".repeat(4000)))
            .collect(),
    ] {
        let answer = exchange(node.port, head_with(extra).as_bytes()).await;
        assert_eq!(status(&answer), 431, "{answer}");
    }

    // Request smuggling. CL+TE: framed by Transfer-Encoding (the length dropped), one
    // answer, then the connection is closed, so the smuggled request is never served.
    let post = format!("POST {base}/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let answer = exchange(
        node.port,
        format!(
            "{post}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\
             GET {base}/p/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert!(answer.contains("\"body\":\"\""), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    assert!(!answer.contains("smuggled"), "{answer}");
    // Two Content-Lengths, NUL and bare CR in a header: 400, one answer, closed.
    for probe in [
        format!("{post}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        format!("{post}X-Nul: a\0b\r\nContent-Length: 0\r\n\r\n"),
        format!("{post}X-Cr: a\rb\r\nContent-Length: 0\r\n\r\n"),
    ] {
        let answer = exchange(node.port, probe.as_bytes()).await;
        assert_eq!(status(&answer), 400, "{probe:?}: {answer}");
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    }

    // A client's chunk size that overflows: 400, not 502.
    let post = format!("{post}Connection: close\r\n");
    let answer = exchange(
        node.port,
        format!("{post}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(status(&answer), 400, "{answer}");

    // A backend's broken chunking: 502 with a body, not an empty reply.
    let mut failed_ids = Vec::new();
    for name in ["bad", "overflow", "late"] {
        let got = get(&url(&format!("/{name}")), &[]).await;
        assert_eq!(got.status, 502, "/{name}: {}", got.body);
        assert_eq!(got.json()["message"], "Internal server error", "/{name}");
        failed_ids.push(got.header("x-amzn-requestid").to_string());
    }

    // Looping template and catastrophic regex: answered at once, the loop refused (500).
    let got = get(&url("/loop"), &[("accept", "application/json")]).await;
    assert_eq!(got.status, 500, "{}", got.body);
    let got = get(&url("/regex"), &[("accept", "application/json")]).await;
    assert_eq!((got.status, got.body.as_str()), (200, "false"));

    // Silent and trickling connections are closed: node, control plane HTTP and gRPC.
    assert!(closes_idle_connection(node.port, b"").await, "node: silent");
    assert!(
        closes_idle_connection(
            node.port,
            format!("GET {path} HTTP/1.1\r\nX-Slow: ").as_bytes()
        )
        .await,
        "node: slowloris"
    );
    assert!(
        closes_idle_connection(cp.http_port, b"").await,
        "control plane: silent"
    );
    assert!(
        closes_idle_connection(cp.http_port, b"GET /healthz HTTP/1.1\r\nX-Slow: ").await,
        "control plane: slowloris"
    );
    assert!(
        closes_idle_connection(cp.grpc_port, b"").await,
        "gRPC: silent"
    );
    // A connection that has sent its request is served, however long it then waits.
    assert_eq!(
        status(&exchange(node.port, raw_get("/p/x".into()).as_bytes()).await),
        200
    );

    // The backend failures left one warning each, naming request, API and stage; the log
    // file carries no ANSI colour codes.
    let text = eventually(
        "the failures are logged",
        Duration::from_secs(10),
        || async {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            failed_ids
                .iter()
                .all(|id| text.contains(id.as_str()))
                .then_some(text)
        },
    )
    .await;
    assert!(
        !text.contains('\u{1b}'),
        "ANSI codes in the log file:\n{text}"
    );
    for id in &failed_ids {
        let line = text
            .lines()
            .find(|l| l.contains(id.as_str()))
            .expect("the line");
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("integration failed"), "{line}");
        assert!(
            line.contains(&format!("api=\"{}\"", api.id))
                || line.contains(&format!("api={}", api.id)),
            "{line}"
        );
        assert!(
            line.contains("stage=\"prod\"") || line.contains("stage=prod"),
            "{line}"
        );
        assert!(line.contains("chunk"), "{line}");
    }
    let _ = std::fs::remove_dir_all(&log_dir);
}

#[tokio::test]
async fn postgres_down_fails_fast_with_503_and_readyz_says_so() {
    let pg = PrivatePostgres::start();
    let cp = ControlPlane::start_with_env(
        &pg.url(),
        apigw_e2e::free_port(),
        apigw_e2e::free_port(),
        &[],
    )
    .await;
    let m = cp.mgmt();
    let readyz = format!("{}/readyz", cp.url());
    assert_eq!(get(&readyz, &[]).await.status, 200);
    m.get("/restapis").await.ok();

    pg.stop();
    // Bounded well above the 2 s acquire timeout, well below sqlx's 30 s default.
    let answer = tokio::time::timeout(Duration::from_secs(15), m.get("/restapis"))
        .await
        .expect("a management call answers while Postgres is down");
    let message = answer.err(503, "ServiceUnavailableException");
    assert!(message.contains("database"), "{message}");
    let answer = tokio::time::timeout(
        Duration::from_secs(15),
        m.post("/restapis", json!({"name": "while-down"})),
    )
    .await
    .expect("a write answers too");
    answer.err(503, "ServiceUnavailableException");
    let got = tokio::time::timeout(Duration::from_secs(15), get(&readyz, &[]))
        .await
        .expect("/readyz answers");
    assert_eq!(got.status, 503, "{}", got.body);
    assert!(got.json()["postgres"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let health = get(&format!("{}/healthz", cp.url()), &[]).await;
    assert_eq!(health.status, 200, "liveness stays up");

    pg.start_again();
    eventually("/readyz is 200 again", Duration::from_secs(30), || async {
        (get(&readyz, &[]).await.status == 200).then_some(())
    })
    .await;
    eventually(
        "management calls work again",
        Duration::from_secs(30),
        || async { (m.get("/restapis").await.status == 200).then_some(()) },
    )
    .await;
}

/// The HTTPS listener bounds its connections like the plain one: a client that completes
/// the TLS handshake and then sends nothing (HTTP/1.1 or HTTP/2 by ALPN), or trickles a
/// request head, is closed after the header read timeout (1 s here, well below the 75 s
/// keep-alive timeout, so it is that timer and no other); a client that connects and never
/// finishes its handshake (silent, or a ClientHello trickled a byte at a time) is dropped
/// too. The control plane's gRPC listener over TLS closes a silent connection likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_https_listener_closes_silent_and_slow_clients_and_unfinished_handshakes() {
    use apigw_e2e::tls::{client_hello, https_get, tls_connect, TestCa};
    let ca = TestCa::new("hostile ca");
    let dir = std::env::temp_dir().join(format!("apigw-hostile-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let grpc_cert = ca.server("127.0.0.1");
    let cert_file = dir.join("grpc.pem");
    let key_file = dir.join("grpc.key");
    std::fs::write(&cert_file, &grpc_cert.cert_pem).expect("cert file");
    std::fs::write(&key_file, &grpc_cert.key_pem).expect("key file");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).expect("CA file");
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start_with_env(
        &db,
        apigw_e2e::free_port(),
        apigw_e2e::free_port(),
        &[
            ("HEADER_READ_TIMEOUT", HEADER_READ_TIMEOUT.to_string()),
            ("CP_GRPC_TLS_CERT_FILE", cert_file.display().to_string()),
            ("CP_GRPC_TLS_KEY_FILE", key_file.display().to_string()),
        ],
    )
    .await;
    let node = DataPlane::start_env(
        &cp.grpc_tls_url(),
        "hostile-tls",
        &[
            ("HEADER_READ_TIMEOUT", HEADER_READ_TIMEOUT.to_string()),
            ("CONTROL_PLANE_CA_FILE", ca_file.display().to_string()),
        ],
    )
    .await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "slow").await;
    apigw_e2e::rest_api::mock_method(&m, &api.id, &api.root, "GET", "{\"ok\": true}").await;
    api.deploy("prod", json!({})).await;
    let cert = ca.server("slow.example.com");
    let created = m
        .post(
            "/domainnames",
            json!({"domainName": "slow.example.com", "certificateBody": cert.cert_pem,
                   "certificatePrivateKey": cert.key_pem}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let mapped = m
        .post(
            "/domainnames/slow.example.com/basepathmappings",
            json!({"restApiId": api.id, "stage": "prod"}),
        )
        .await;
    assert_eq!(mapped.status, 201, "{}", mapped.body);
    let port = node.https_port;
    eventually("the domain is served", Duration::from_secs(30), || async {
        https_get(port, "slow.example.com", "/", &ca.pem, None)
            .await
            .ok()
            .filter(|a| a.status == 200)
    })
    .await;

    // After the handshake: silence over HTTP/1.1 and over HTTP/2, and a trickled head.
    for (alpn, trickle) in [
        (&b"http/1.1"[..], &b""[..]),
        (b"h2", b""),
        (
            b"http/1.1",
            b"GET / HTTP/1.1\r\nHost: slow.example.com\r\nX-Slow: ",
        ),
    ] {
        let stream = tls_connect(port, "slow.example.com", &ca.pem, &[alpn])
            .await
            .expect("the handshake completes");
        assert_eq!(
            stream.get_ref().1.alpn_protocol(),
            Some(alpn),
            "ALPN negotiated"
        );
        assert!(
            closes_idle_stream(stream, trickle).await,
            "HTTPS, {}: {:?} not closed",
            String::from_utf8_lossy(alpn),
            String::from_utf8_lossy(trickle)
        );
    }
    // Before it: a silent connection, and a ClientHello that never ends.
    assert!(
        closes_idle_connection(port, b"").await,
        "HTTPS: silent before the handshake"
    );
    assert!(
        closes_idle_connection(port, &client_hello("slow.example.com")).await,
        "HTTPS: a trickled ClientHello"
    );
    // A client that sends its request in time is served.
    let got = https_get(port, "slow.example.com", "/", &ca.pem, None)
        .await
        .expect("served");
    assert_eq!(got.status, 200);

    // The gRPC listener over TLS: silent before the handshake, and silent after it.
    assert!(
        closes_idle_connection(cp.grpc_port, b"").await,
        "gRPC over TLS: silent"
    );
    assert!(
        closes_idle_connection(cp.grpc_port, &client_hello("127.0.0.1")).await,
        "gRPC over TLS: a trickled ClientHello"
    );
    let stream = tls_connect(cp.grpc_port, "127.0.0.1", &ca.pem, &[b"h2"])
        .await
        .expect("the gRPC handshake completes");
    assert!(
        closes_idle_stream(stream, b"").await,
        "gRPC over TLS: silent after the handshake"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
