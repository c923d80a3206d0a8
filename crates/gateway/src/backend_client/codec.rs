//! HTTP/1.1 message heads on the backend leg (RFC 9112): the request head we write, the
//! response head we parse (with `httparse`), and the framing rules that decide how each
//! body is delimited and whether the connection can carry another request.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};

/// Most response header fields accepted (hyper's default).
pub(super) const MAX_HEADERS: usize = 100;
/// Largest response head accepted, in bytes.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// How a request body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RequestFraming {
    /// No body and no framing header (methods that do not expect one).
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked` (length unknown in advance).
    Chunked,
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// Exactly this many bytes (0 for HEAD, 204, 304, `Content-Length: 0`).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the backend closes the connection.
    UntilClose,
}

/// Why a response head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Not a valid HTTP/1.x status line and header section.
    #[error("malformed response head: {0}")]
    Malformed(&'static str),
    /// More than [`MAX_HEADERS`] fields.
    #[error("response has too many header fields")]
    TooManyHeaders,
    /// Larger than [`MAX_HEAD`].
    #[error("response head too large")]
    TooLarge,
    /// `Content-Length` is not one non-negative integer.
    #[error("invalid Content-Length in response")]
    ContentLength,
    /// `101 Switching Protocols`: integrations do not upgrade connections.
    #[error("backend switched protocols")]
    Upgrade,
}

/// A parsed response head and what it implies for the body and the connection.
#[derive(Debug)]
pub(super) struct ResponseHead {
    pub(super) status: StatusCode,
    pub(super) version: Version,
    pub(super) headers: HeaderMap,
    pub(super) framing: Framing,
    /// Whether the connection may carry another request once this body is read.
    pub(super) keep_alive: bool,
}

/// Writes the request line and header section. `Content-Length` and `Transfer-Encoding`
/// among `headers` are replaced by the ones `framing` calls for. `extra` is header lines
/// already encoded (`name: value\r\n` each), written after `headers`.
pub(super) fn encode_request_head(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    extra: &[u8],
    framing: RequestFraming,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(extra);
    match framing {
        RequestFraming::None => {}
        RequestFraming::Length(len) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        RequestFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether a request with this method and no body should still say `Content-Length: 0`
/// (methods whose requests usually carry content; as hyper and curl do).
pub(super) fn expects_body(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET
            | Method::HEAD
            | Method::DELETE
            | Method::OPTIONS
            | Method::CONNECT
            | Method::TRACE
    )
}

/// Parses a complete response head at the start of `buf`, skipping interim (1xx)
/// responses. `Ok(None)`: incomplete, read more. The head's bytes are split off `buf`
/// (header values share them, no copy); what follows stays in `buf`. `spans` is scratch
/// space, kept by the connection so that parsing allocates (and zeroes) nothing.
pub(super) fn parse_response_head(
    buf: &mut BytesMut,
    method: &Method,
    spans: &mut Vec<Span>,
) -> Result<Option<ResponseHead>, HeadError> {
    loop {
        spans.clear();
        let (len, code, minor) = {
            let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut []);
            let status = httparse::ParserConfig::default().parse_response_with_uninit_headers(
                &mut response,
                buf,
                &mut slots,
            );
            let len = match status {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                    return Err(HeadError::TooLarge)
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
                Err(error) => return Err(HeadError::Malformed(malformed(error))),
            };
            if len > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            let base = buf.as_ptr() as usize;
            spans.extend(response.headers.iter().map(|header| Span {
                name: (header.name.as_ptr() as usize - base, header.name.len()),
                value: (header.value.as_ptr() as usize - base, header.value.len()),
            }));
            (
                len,
                response.code.unwrap_or(0),
                response.version.unwrap_or(1),
            )
        };
        let head = buf.split_to(len).freeze();
        let status = StatusCode::from_u16(code).map_err(|_| HeadError::Malformed("status code"))?;
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(HeadError::Upgrade);
        }
        if status.is_informational() {
            // 100 Continue, 103 Early Hints, …: the final response follows.
            continue;
        }
        let mut headers = HeaderMap::with_capacity(spans.len());
        for span in spans.iter() {
            let name = HeaderName::from_bytes(&head[span.name.0..span.name.0 + span.name.1])
                .map_err(|_| HeadError::Malformed("header name"))?;
            let value = HeaderValue::from_maybe_shared(slice(&head, span.value))
                .map_err(|_| HeadError::Malformed("header value"))?;
            headers.append(name, value);
        }
        let version = if minor == 0 {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        return Ok(Some(frame(status, version, headers, method)?));
    }
}

/// Where a header field's name and value lie in the head.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Span {
    name: (usize, usize),
    value: (usize, usize),
}

fn slice(head: &Bytes, (start, len): (usize, usize)) -> Bytes {
    head.slice(start..start + len)
}

fn malformed(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::HeaderName => "header name",
        httparse::Error::HeaderValue => "header value",
        httparse::Error::NewLine => "line ending",
        httparse::Error::Status => "status code",
        httparse::Error::Version => "version",
        httparse::Error::Token | httparse::Error::TooManyHeaders => "status line",
    }
}

/// RFC 9112 §6.3: how the body of this response is delimited, and §9.3: whether the
/// connection persists. A response with both `Transfer-Encoding` and `Content-Length`
/// is framed by the former, and its connection is not reused (a smuggling signal).
fn frame(
    status: StatusCode,
    version: Version,
    mut headers: HeaderMap,
    method: &Method,
) -> Result<ResponseHead, HeadError> {
    let closes = headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| has_token(v.as_bytes(), b"close"));
    let mut keep_alive = if version == Version::HTTP_11 {
        !closes
    } else {
        !closes
            && headers
                .get_all(CONNECTION)
                .iter()
                .any(|v| has_token(v.as_bytes(), b"keep-alive"))
    };
    let bodiless = *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let framing = if bodiless {
        Framing::Length(0)
    } else if headers.contains_key(TRANSFER_ENCODING) {
        if headers.contains_key(CONTENT_LENGTH) {
            headers.remove(CONTENT_LENGTH);
            keep_alive = false;
        }
        let chunked_last = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.as_bytes().rsplit(|&b| b == b',').next())
            .is_some_and(|coding| trim(coding).eq_ignore_ascii_case(b"chunked"));
        if chunked_last {
            Framing::Chunked
        } else {
            keep_alive = false;
            Framing::UntilClose
        }
    } else if headers.contains_key(CONTENT_LENGTH) {
        Framing::Length(content_length(&headers)?)
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    Ok(ResponseHead {
        status,
        version,
        headers,
        framing,
        keep_alive,
    })
}

/// Every `Content-Length` value (lines and comma-separated lists) must be the same
/// non-negative integer.
fn content_length(headers: &HeaderMap) -> Result<u64, HeadError> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for item in value.as_bytes().split(|&b| b == b',') {
            let item = trim(item);
            if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
                return Err(HeadError::ContentLength);
            }
            let n = item.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            if length.is_some_and(|l| l != n) {
                return Err(HeadError::ContentLength);
            }
            length = Some(n);
        }
    }
    length.ok_or(HeadError::ContentLength)
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str, method: Method) -> Result<Option<ResponseHead>, HeadError> {
        let mut buf = BytesMut::from(raw.as_bytes());
        parse_response_head(&mut buf, &method, &mut Vec::new())
    }

    fn parse_buf(buf: &mut BytesMut, method: &Method) -> Result<Option<ResponseHead>, HeadError> {
        parse_response_head(buf, method, &mut Vec::new())
    }

    fn head(raw: &str) -> ResponseHead {
        parse(raw, Method::GET).unwrap().unwrap()
    }

    #[test]
    fn encodes_the_request_head_with_our_framing() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("backend:8080"));
        headers.insert("content-length", HeaderValue::from_static("999"));
        headers.insert("transfer-encoding", HeaderValue::from_static("gzip"));
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        let mut out = Vec::new();
        encode_request_head(
            &Method::POST,
            "/p?q=1",
            &headers,
            b"traceparent: 00-1-2-01\r\n",
            RequestFraming::Length(5),
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /p?q=1 HTTP/1.1\r\nhost: backend:8080\r\nx-multi: a\r\nx-multi: b\r\n\
             traceparent: 00-1-2-01\r\ncontent-length: 5\r\n\r\n"
        );
        let mut out = Vec::new();
        encode_request_head(
            &Method::PUT,
            "/",
            &HeaderMap::new(),
            &[],
            RequestFraming::Chunked,
            &mut out,
        );
        assert_eq!(out, b"PUT / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n");
    }

    #[test]
    fn parses_a_head_and_leaves_the_body() {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello"[..],
        );
        let head = parse_buf(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(head.status, StatusCode::CREATED);
        assert_eq!(head.version, Version::HTTP_11);
        assert_eq!(head.framing, Framing::Length(5));
        assert!(head.keep_alive);
        let values: Vec<_> = head.headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert_eq!(&buf[..], b"hello");
    }

    #[test]
    fn an_incomplete_head_asks_for_more() {
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Le", Method::GET)
            .unwrap()
            .is_none());
        assert!(parse("HTTP/1.1 2", Method::GET).unwrap().is_none());
    }

    #[test]
    fn skips_interim_responses() {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
               HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..],
        );
        let head = parse_buf(&mut buf, &Method::POST).unwrap().unwrap();
        assert_eq!(head.status, StatusCode::OK);
        assert!(!head.headers.contains_key("link"));
        assert_eq!(&buf[..], b"ok");
        // Only the interim response has arrived so far.
        let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\n"[..]);
        assert!(parse_buf(&mut buf, &Method::POST).unwrap().is_none());
        assert!(buf.is_empty());
    }

    #[test]
    fn frames_bodies_as_rfc_9112_says() {
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing,
            Framing::Chunked
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").framing,
            Framing::Chunked
        );
        let gzip = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!(
            (gzip.framing, gzip.keep_alive),
            (Framing::UntilClose, false)
        );
        let neither = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(
            (neither.framing, neither.keep_alive),
            (Framing::UntilClose, false)
        );
        for bodiless in [
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
        ] {
            assert_eq!(head(bodiless).framing, Framing::Length(0));
        }
        let to_head = parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", Method::HEAD)
            .unwrap()
            .unwrap();
        assert_eq!(to_head.framing, Framing::Length(0));
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n").framing,
            Framing::Length(7)
        );
    }

    #[test]
    fn both_length_and_chunked_frame_by_chunks_and_close() {
        let both =
            head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!((both.framing, both.keep_alive), (Framing::Chunked, false));
        assert!(!both.headers.contains_key(CONTENT_LENGTH));
    }

    #[test]
    fn decides_whether_the_connection_persists() {
        assert!(
            !head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive
        );
        assert!(
            !head("HTTP/1.1 200 OK\r\nConnection: x, Close\r\nContent-Length: 0\r\n\r\n")
                .keep_alive
        );
        assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        let ten = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(ten.keep_alive && ten.version == Version::HTTP_10);
    }

    #[test]
    fn refuses_bad_heads() {
        for (raw, error) in [
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\n\r\n",
                HeadError::Upgrade,
            ),
            ("HTTP/2 200 OK\r\n\r\n", HeadError::Malformed("version")),
            (
                "HTTP/1.1 20 OK\r\n\r\n",
                HeadError::Malformed("status code"),
            ),
            (
                "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                HeadError::Malformed("header name"),
            ),
        ] {
            assert_eq!(parse(raw, Method::GET).unwrap_err(), error, "{raw:?}");
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(
            parse(&format!("HTTP/1.1 200 OK\r\n{many}\r\n"), Method::GET).unwrap_err(),
            HeadError::TooManyHeaders
        );
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}", "v".repeat(MAX_HEAD + 1));
        assert_eq!(parse(&huge, Method::GET).unwrap_err(), HeadError::TooLarge);
    }
}
