//! The WebSocket benchmark's load generator and peers (driven by `bench/ws_bench.py`).
//!
//! - `ws-load ws-echo ADDR`: a WebSocket server echoing every text or binary message (the
//!   direct target, and nginx's upstream).
//! - `ws-load http-echo ADDR`: an HTTP/1.1 server answering every request with its body (the
//!   gateway's HTTP_PROXY integration).
//! - `ws-load run URL HOST CONNS SECONDS SIZE`: a closed loop, each of CONNS connections sends
//!   a SIZE-byte text message and waits for one message back; prints one JSON line with the
//!   messages per second and latency percentiles (µs).
//! - `ws-load idle URL HOST CONNS`: opens CONNS connections, prints `open N` and holds them
//!   until its standard input closes.
//!
//! One thread each (`current_thread`), so the bench pins each to a core.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| format!("missing argument {i}; see the module docs"))
    };
    match args.first().map(String::as_str) {
        Some("ws-echo") => ws_echo(&arg(1)?).await,
        Some("http-echo") => http_echo(&arg(1)?).await,
        Some("run") => {
            let (url, host) = (arg(1)?, arg(2)?);
            let conns: usize = arg(3)?.parse()?;
            let seconds: u64 = arg(4)?.parse()?;
            let size: usize = arg(5)?.parse()?;
            run(&url, &host, conns, Duration::from_secs(seconds), size).await
        }
        Some("idle") => idle(&arg(1)?, &arg(2)?, arg(3)?.parse()?).await,
        _ => Err("usage: ws-load ws-echo|http-echo|run|idle ... (see the module docs)".into()),
    }
}

async fn ws_echo(addr: &str) -> Result<(), Error> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(msg)) = ws.next().await {
                if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn http_echo(addr: &str) -> Result<(), Error> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|req: hyper::Request<Incoming>| async move {
                let body = req
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                Ok::<_, Infallible>(hyper::Response::new(Full::new(body)))
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn connect(url: &str, host: &str) -> Result<Ws, Error> {
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("host", HeaderValue::from_str(host)?);
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

async fn run(
    url: &str,
    host: &str,
    conns: usize,
    seconds: Duration,
    size: usize,
) -> Result<(), Error> {
    let payload = "x".repeat(size);
    let mut sockets = Vec::with_capacity(conns);
    for _ in 0..conns {
        sockets.push(connect(url, host).await?);
    }
    let started = Instant::now();
    let deadline = started + seconds;
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let payload = payload.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if ws.send(Message::text(payload.clone())).await.is_err() {
                        errors += 1;
                        break;
                    }
                    match ws.next().await {
                        Some(Ok(m)) if m.len() == payload.len() => {
                            latencies.push(sent.elapsed().as_micros() as u32)
                        }
                        Some(Ok(_)) => errors += 1,
                        _ => {
                            errors += 1;
                            break;
                        }
                    }
                }
                let _ = ws.close(None).await;
                (latencies, errors)
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (mut latencies, mut errors) = (Vec::new(), 0u64);
    for r in results {
        let (l, e) = r?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{}",
        serde_json::json!({
            "messages": latencies.len(), "errors": errors,
            "msgs_per_s": latencies.len() as f64 / elapsed,
            "p50_us": pct(0.50), "p99_us": pct(0.99), "p999_us": pct(0.999),
        })
    );
    Ok(())
}

async fn idle(url: &str, host: &str, conns: usize) -> Result<(), Error> {
    let mut sockets = Vec::with_capacity(conns);
    for i in 0..conns {
        match connect(url, host).await {
            Ok(ws) => sockets.push(ws),
            Err(e) => return Err(format!("connection {i} failed: {e}").into()),
        }
    }
    println!("open {}", sockets.len());
    // Hold until the bench closes our standard input; answer pings meanwhile is not needed
    // (the node does not ping), so the sockets just sit.
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    Ok(())
}
