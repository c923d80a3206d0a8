//! End-to-end test harness: starts the real binaries as processes.
//!
//! Each test gets its own Postgres database and its own ports, so tests run in parallel
//! against the machine's shared Postgres. Processes are killed when their handle drops.
//! The binaries are built once per test run (`cargo build` of both packages), so
//! `cargo nextest run --workspace` (or `cargo test --workspace`) alone is enough.

pub mod backend;
pub mod functions;
pub mod invoke;
pub mod load;
pub mod mgmt;
pub mod oidc;
pub mod postgres;
pub mod process;
pub mod redis_cluster;
pub mod redis_server;
pub mod redis_tls;
pub mod rest_api;
pub mod scale;
pub mod throttle_load;
pub mod tls;
pub mod websocket;

pub use backend::{Backend, StallingBackend};
pub use functions::FunctionsHost;
pub use mgmt::Mgmt;
pub use process::{Cluster, ControlPlane, DataPlane};
pub use redis_server::RedisServer;
pub use rest_api::RestApi;

use std::time::Duration;

/// Postgres server used by the tests (`TEST_PG_URL` overrides it); a database per test is
/// created on it.
pub fn pg_server_url() -> String {
    std::env::var("TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Redis used by the data plane in tests (`TEST_REDIS_URL` overrides it).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Redis's clock (`TIME`) at `url`, in whole milliseconds, floored as the limiter's admission
/// script floors it: the clock the shared token buckets refill by. A test that bounds what
/// a bucket admitted over a stretch of time measures that stretch with this, not with its
/// own clock. `url` may name a Redis Cluster (`redis+cluster://`): its nodes share this
/// machine's clock.
pub async fn redis_time_ms(url: &str) -> u64 {
    let target = apigw_shared_redis::RedisTarget::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let mut conn = target
        .connect_lazy(apigw_shared_redis::Timeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(2),
            retries: 1,
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (secs, micros): (u64, u64) = redis::cmd("TIME")
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("Redis TIME at {url}: {e}"));
    secs * 1000 + micros / 1000
}

/// Creates a fresh, uniquely named database and returns its URL.
pub async fn fresh_database() -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("apigw_e2e_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{}/test", pg_server_url())).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(format!("{}/{name}", pg_server_url()))
}

/// A local port that nobody listens on and no other test process can be handed, kept for
/// this process until it exits.
///
/// Ports come from outside the kernel's ephemeral range, so no outgoing connection (of this
/// or any other test) takes one as its source port between now and the server's `bind`,
/// and each is reserved across test processes (nextest runs one per test) by a lock on
/// `{tmp}/apigw-e2e-ports/{port}.lock`, released by the kernel when the process ends.
pub fn free_port() -> u16 {
    use std::sync::Mutex;
    static HELD: Mutex<Vec<std::fs::File>> = Mutex::new(Vec::new());
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join("apigw-e2e-ports");
    std::fs::create_dir_all(&dir).expect("the port lock directory");
    let (low, high) = port_range();
    let span = u32::from(high - low);
    // Start where the process id points, so parallel processes rarely contend.
    let start = (std::process::id().wrapping_mul(7919)) % span;
    for _ in 0..span {
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = low + ((start + i) % span) as u16;
        let Ok(file) = std::fs::File::create(dir.join(format!("{port}.lock"))) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            HELD.lock().unwrap_or_else(|e| e.into_inner()).push(file);
            return port;
        }
    }
    panic!("no free local port in {low}..{high}");
}

/// The ports tests hand out: outside the kernel's ephemeral range (below it, as on a
/// default Linux with 32768-60999; above it where it starts low).
fn port_range() -> (u16, u16) {
    let range: Vec<u16> = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    match range[..] {
        [low, _] if low > 21000 => (20000, low),
        [_, high] if high < 64000 => (high + 1, 65535),
        _ => (20000, 32768),
    }
}

/// Polls `f` every 25 ms until it returns `Some`, or fails after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Sends `head` (request line and headers, without the blank line) and then `body_len`
/// bytes of body in `chunk`-sized writes, while reading the answer concurrently; returns
/// the response's status code. Write errors after the gateway has answered are ignored:
/// this is how a client sees an early 413 from a server that stops reading.
pub async fn raw_status(port: u16, head: &str, body_len: usize, chunked: bool) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the node");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!("{head}\r\n\r\n");
    let writer_task = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < body_len {
            let n = chunk.len().min(body_len - sent);
            if chunked {
                writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                writer.write_all(&chunk[..n]).await?;
                writer.write_all(b"\r\n").await?;
            } else {
                writer.write_all(&chunk[..n]).await?;
            }
            sent += n;
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        // Keep our side open until the answer is read: hyper closes a connection whose
        // client half-closes before the response is written.
        std::future::pending::<()>().await;
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let status = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let n = reader.read(&mut buf).await.expect("read the answer");
            assert!(n > 0, "connection closed without an answer");
            answer.extend_from_slice(&buf[..n]);
            if let Some(line_end) = answer.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&answer[..line_end]).to_string();
                return line
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse::<u16>().ok())
                    .unwrap_or_else(|| panic!("not a status line: {line}"));
            }
        }
    })
    .await
    .expect("an answer within 30 s");
    writer_task.abort();
    status
}
