//! The client against small raw-TCP backends: connection reuse, backends that close
//! idle connections, `Connection: close`, abandoned and empty bodies, chunked bodies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{build, BackendClient, ClientError};
use crate::body::Body;

/// How the test backend answers each request of a connection.
#[derive(Clone, Copy)]
enum Mode {
    /// `Content-Length` response, connection kept.
    KeepAlive,
    /// One response, then the backend closes the connection.
    CloseAfterOne,
    /// `Connection: close` in the response, then close.
    ConnectionClose,
    /// A chunked response, connection kept.
    Chunked,
    /// A 1 MB body, connection kept.
    Large,
    /// Reads the request body (Content-Length or chunked) and answers with it.
    Echo,
}

struct Backend {
    addr: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<tokio::sync::Mutex<Vec<String>>>,
}

async fn backend(mode: Mode) -> Backend {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let (count, seen) = (Arc::clone(&connections), Arc::clone(&requests));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(stream, mode, Arc::clone(&seen)));
        }
    });
    Backend {
        addr,
        connections,
        requests,
    }
}

async fn serve(mut stream: TcpStream, mode: Mode, seen: Arc<tokio::sync::Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    loop {
        let head = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                buf.drain(..end + 4);
                break head;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let is_head = head.starts_with("HEAD ");
        let lower = head.to_ascii_lowercase();
        let mut request_body = Vec::new();
        if let Some(len) = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            while buf.len() < len {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            request_body = buf.drain(..len).collect();
        } else if lower.contains("transfer-encoding: chunked") {
            // Just enough of a chunked decoder for the test: read to the last chunk.
            while !buf.windows(5).any(|w| w == b"0\r\n\r\n") {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let end = buf.windows(5).position(|w| w == b"0\r\n\r\n").unwrap() + 5;
            let raw: Vec<u8> = buf.drain(..end).collect();
            let mut rest = &raw[..];
            loop {
                let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
                let size =
                    usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16)
                        .unwrap();
                rest = &rest[line_end + 2..];
                if size == 0 {
                    break;
                }
                request_body.extend_from_slice(&rest[..size]);
                rest = &rest[size + 2..];
            }
        }
        seen.lock().await.push(head);
        let response: Vec<u8> = match mode {
            Mode::KeepAlive | Mode::CloseAfterOne => {
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec()
            }
            Mode::ConnectionClose => {
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec()
            }
            Mode::Chunked => {
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
                    .to_vec()
            }
            Mode::Large => {
                let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".to_vec();
                r.resize(r.len() + 1_048_576, b'x');
                r
            }
            Mode::Echo => {
                let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", request_body.len())
                    .into_bytes();
                r.extend_from_slice(&request_body);
                r
            }
        };
        let response = if is_head {
            let end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            response[..end].to_vec()
        } else {
            response
        };
        if stream.write_all(&response).await.is_err() {
            return;
        }
        if matches!(mode, Mode::CloseAfterOne | Mode::ConnectionClose) {
            return;
        }
    }
}

fn get(addr: &str, path: &str) -> Request<Body> {
    let mut request = Request::new(Body::Empty);
    *request.uri_mut() = format!("http://{addr}{path}").parse().unwrap();
    request
}

async fn call(client: &BackendClient, request: Request<Body>) -> (StatusCode, Bytes) {
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

/// Lets a closed connection's FIN reach our side, usually: nothing may depend on it having
/// arrived (wait for that with [`reaped`]).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Reaps until no idle connection is left (their backends closed them), for at most 10 s:
/// a FIN on a loaded machine may take longer than [`settle`] to be seen.
async fn reaped(client: &BackendClient) -> usize {
    for _ in 0..1000 {
        client.pool.reap();
        if client.pool.idle_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client.pool.idle_count()
}

#[tokio::test]
async fn reuses_one_connection_for_sequential_requests() {
    let backend = backend(Mode::KeepAlive).await;
    let client = build();
    for _ in 0..5 {
        assert_eq!(
            call(&client, get(&backend.addr, "/x?y=1")).await,
            (StatusCode::OK, Bytes::from_static(b"hello"))
        );
    }
    assert_eq!(backend.connections.load(Ordering::SeqCst), 1);
    assert_eq!(client.pool.idle_count(), 1);
    // Origin-form request line, and the Host the client added.
    let requests = backend.requests.lock().await;
    assert!(
        requests[0].starts_with("GET /x?y=1 HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains(&format!("host: {}", backend.addr)),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn concurrent_requests_open_parallel_connections_then_share_them() {
    let backend = backend(Mode::KeepAlive).await;
    let client = build();
    let calls = (0..4).map(|_| {
        let client = client.clone();
        let addr = backend.addr.clone();
        tokio::spawn(async move { call(&client, get(&addr, "/")).await })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().0, StatusCode::OK);
    }
    let opened = backend.connections.load(Ordering::SeqCst);
    assert!((1..=4).contains(&opened), "{opened}");
    for _ in 0..4 {
        call(&client, get(&backend.addr, "/")).await;
    }
    assert_eq!(backend.connections.load(Ordering::SeqCst), opened);
}

#[tokio::test]
async fn a_connection_the_backend_closed_is_not_reused() {
    let backend = backend(Mode::CloseAfterOne).await;
    let client = build();
    for _ in 0..3 {
        assert_eq!(
            call(&client, get(&backend.addr, "/")).await.0,
            StatusCode::OK
        );
        // Usually the next checkout then sees the FIN and connects anew; if it has not
        // arrived yet, the request fails on the dead connection and is retried on a new
        // one: a new connection per request either way.
        settle().await;
    }
    assert_eq!(backend.connections.load(Ordering::SeqCst), 3);
    assert_eq!(reaped(&client).await, 0);
}

#[tokio::test]
async fn a_closed_connection_is_retried_on_a_new_one_without_waiting() {
    // No settling: the FIN may not have been seen at checkout, so the request can hit a
    // dead connection; it must still succeed (retried on a fresh connection).
    let backend = backend(Mode::CloseAfterOne).await;
    let client = build();
    for _ in 0..20 {
        assert_eq!(
            call(&client, get(&backend.addr, "/")).await.0,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn connection_close_responses_are_not_pooled() {
    let backend = backend(Mode::ConnectionClose).await;
    let client = build();
    call(&client, get(&backend.addr, "/")).await;
    assert_eq!(client.pool.idle_count(), 0);
    call(&client, get(&backend.addr, "/")).await;
    assert_eq!(backend.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn chunked_bodies_complete_and_pool_their_connection() {
    let backend = backend(Mode::Chunked).await;
    let client = build();
    for _ in 0..3 {
        assert_eq!(
            call(&client, get(&backend.addr, "/")).await,
            (StatusCode::OK, Bytes::from_static(b"hello"))
        );
    }
    assert_eq!(backend.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn head_responses_pool_their_connection_without_being_read() {
    let backend = backend(Mode::KeepAlive).await;
    let client = build();
    for _ in 0..3 {
        let mut request = get(&backend.addr, "/");
        *request.method_mut() = Method::HEAD;
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        drop(response);
    }
    assert_eq!(backend.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_abandoned_body_closes_its_connection() {
    let backend = backend(Mode::Large).await;
    let client = build();
    let response = client.request(get(&backend.addr, "/")).await.unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert!(first.data_ref().is_some_and(|d| !d.is_empty()));
    drop(body);
    assert_eq!(client.pool.idle_count(), 0);
    let (status, body) = call(&client, get(&backend.addr, "/")).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 1_048_576));
    assert_eq!(backend.connections.load(Ordering::SeqCst), 2);
    assert_eq!(client.pool.idle_count(), 1);
}

#[tokio::test]
async fn large_bodies_stream_through_whole() {
    let backend = backend(Mode::Large).await;
    let client = build();
    for _ in 0..2 {
        let (status, body) = call(&client, get(&backend.addr, "/")).await;
        assert_eq!((status, body.len()), (StatusCode::OK, 1_048_576));
    }
    assert_eq!(backend.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unreachable_backends_fail_to_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let client = build();
    let error = client.request(get(&addr, "/")).await.unwrap_err();
    assert!(matches!(error, ClientError::Connect(_)), "{error:?}");
}

#[tokio::test]
async fn relative_uris_are_refused() {
    let client = build();
    let mut request = Request::new(Body::Empty);
    *request.uri_mut() = "/relative".parse().unwrap();
    let error = client.request(request).await.unwrap_err();
    assert!(matches!(error, ClientError::InvalidUri(_)), "{error:?}");
}

#[tokio::test]
async fn idle_connections_expire() {
    let backend = backend(Mode::KeepAlive).await;
    let mut client = build();
    client.pool = Arc::new(super::pool::Pool::new(Duration::from_millis(20), 8));
    call(&client, get(&backend.addr, "/")).await;
    assert_eq!(client.pool.idle_count(), 1);
    tokio::time::sleep(Duration::from_millis(40)).await;
    client.pool.reap();
    assert_eq!(client.pool.idle_count(), 0);
    call(&client, get(&backend.addr, "/")).await;
    assert_eq!(backend.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn in_memory_bodies_are_sent_with_their_length() {
    let backend = backend(Mode::Echo).await;
    let client = build();
    for size in [0usize, 5, 100_000] {
        let payload = Bytes::from(vec![b'p'; size]);
        let mut request = get(&backend.addr, "/");
        *request.method_mut() = Method::POST;
        *request.body_mut() = Body::full(payload.clone());
        assert_eq!(call(&client, request).await, (StatusCode::OK, payload));
    }
    let requests = backend.requests.lock().await;
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("content-length: 0"),
        "{}",
        requests[0]
    );
    assert!(
        requests[2]
            .to_ascii_lowercase()
            .contains("content-length: 100000"),
        "{}",
        requests[2]
    );
    assert_eq!(backend.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bodies_of_unknown_length_are_sent_chunked() {
    // A chunked backend response, streamed on as the body of a request to another backend.
    let source = backend(Mode::Chunked).await;
    let echo = backend(Mode::Echo).await;
    let client = build();
    let streamed = client
        .request(get(&source.addr, "/"))
        .await
        .unwrap()
        .into_body();
    let mut request = get(&echo.addr, "/");
    *request.method_mut() = Method::PUT;
    *request.body_mut() = Body::backend(streamed);
    assert_eq!(
        call(&client, request).await,
        (StatusCode::OK, Bytes::from_static(b"hello"))
    );
    let requests = echo.requests.lock().await;
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn requests_without_a_body_carry_no_framing() {
    let backend = backend(Mode::Echo).await;
    let client = build();
    call(&client, get(&backend.addr, "/")).await;
    let requests = backend.requests.lock().await;
    let lower = requests[0].to_ascii_lowercase();
    assert!(
        !lower.contains("content-length") && !lower.contains("transfer-encoding"),
        "{lower}"
    );
}

/// A backend that answers every connection's first request with `response`, as is.
async fn scripted(response: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(response).await;
        }
    });
    addr
}

#[tokio::test]
async fn malformed_responses_fail_cleanly() {
    let addr = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n").await;
    let client = build();
    let error = client.request(get(&addr, "/")).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Head(super::HeadError::ContentLength)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_an_error() {
    let addr = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").await;
    let client = build();
    let response = client.request(get(&addr, "/")).await.unwrap();
    let error = response.into_body().collect().await.unwrap_err();
    assert!(matches!(error, ClientError::Closed), "{error:?}");
    assert_eq!(client.pool.idle_count(), 0);
}

/// An HTTPS backend with a certificate of a throwaway authority, echoing request bodies;
/// returns its port, the authority to trust, and the connection count.
async fn tls_backend() -> (u16, rustls::RootCertStore, Arc<AtomicUsize>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let der: CertificateDer<'static> = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    |req: http::Request<hyper::body::Incoming>| async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        Ok::<_, hyper::Error>(http::Response::new(http_body_util::Full::new(body)))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    (port, roots, connections)
}

#[tokio::test]
async fn https_backends_are_verified_pooled_and_carry_bodies() {
    let (port, roots, connections) = tls_backend().await;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = super::build_with_tls(tls);
    for size in [3usize, 40_000] {
        let payload = Bytes::from(vec![b's'; size]);
        let mut request = Request::new(Body::full(payload.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = format!("https://127.0.0.1:{port}/echo").parse().unwrap();
        assert_eq!(call(&client, request).await, (StatusCode::OK, payload));
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    // The webpki roots do not know the test authority: the handshake fails (502 path).
    let untrusting = build();
    let mut request = Request::new(Body::Empty);
    *request.uri_mut() = format!("https://127.0.0.1:{port}/").parse().unwrap();
    let error = untrusting.request(request).await.unwrap_err();
    assert!(matches!(error, ClientError::Connect(_)), "{error:?}");
}
