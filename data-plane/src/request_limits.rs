//! What a request head must satisfy before the gateway sees it (README "Limits and
//! hardening"):
//!
//! - the whole head fits in [`MAX_HEAD_BYTES`] (hyper's HTTP/1 read buffer and the h2
//!   header-list limit; hyper answers 431 itself), nginx's four 8 KB buffers;
//! - one header field (name and value) is at most [`MAX_HEADER_BYTES`], API Gateway's
//!   10 KB header-value quota: 431 Request Header Fields Too Large;
//! - an HTTP/1.1 request names exactly one `Host` (RFC 9112 §3.2, as nginx): 400.
//!
//! A refusal closes the connection (`Connection: close`): its body, if any, is not read.
//! (Smuggling shapes never get here: hyper refuses two different `Content-Length`s and
//! frames a `Content-Length` + `Transfer-Encoding` request by the latter, dropping the
//! length and closing the connection after the response, as RFC 9112 §6.1 asks.)
//!
//! Checked once per request on the head hyper has already parsed: one pass over the
//! header lengths, no allocation unless a request is refused.

use http::header::{HeaderValue, CONNECTION, CONTENT_TYPE, HOST};
use http::{Request, Response, StatusCode, Version};

use apigw_gateway::body::Body;

/// The largest request head (request line and every header) accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// The largest single header field (name, `: ` and value) accepted, in bytes.
pub const MAX_HEADER_BYTES: usize = 10 * 1024;

/// The refusal of a request whose head breaks a limit, or `None` to serve it.
pub fn check<B>(request: &Request<B>) -> Option<Response<Body>> {
    let headers = request.headers();
    if request.version() == Version::HTTP_11 {
        let mut hosts = headers.get_all(HOST).iter();
        match (hosts.next(), hosts.next()) {
            (None, _) => return Some(refuse(StatusCode::BAD_REQUEST, "Missing Host header")),
            (Some(_), Some(_)) => {
                return Some(refuse(StatusCode::BAD_REQUEST, "More than one Host header"))
            }
            (Some(_), None) => {}
        }
    }
    let oversized = headers
        .iter()
        .any(|(name, value)| name.as_str().len() + 2 + value.len() > MAX_HEADER_BYTES);
    if oversized {
        return Some(refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request Header Fields Too Large",
        ));
    }
    None
}

#[cold]
fn refuse(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::full(format!("{{\"message\":\"{message}\"}}")));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: Version, headers: &[(&str, String)]) -> Request<()> {
        let mut builder = Request::builder().uri("/x").version(version);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        builder.body(()).unwrap()
    }

    fn status(request: &Request<()>) -> Option<u16> {
        check(request).map(|r| r.status().as_u16())
    }

    #[test]
    fn http11_needs_exactly_one_host() {
        let host = ("host", "h".to_string());
        assert_eq!(status(&request(Version::HTTP_11, &[])), Some(400));
        assert_eq!(
            status(&request(Version::HTTP_11, &[host.clone(), host.clone()])),
            Some(400)
        );
        assert_eq!(status(&request(Version::HTTP_11, &[host])), None);
        assert_eq!(status(&request(Version::HTTP_10, &[])), None);
        assert_eq!(status(&request(Version::HTTP_2, &[])), None);
    }

    #[test]
    fn one_header_field_is_limited() {
        let host = ("host", "h".to_string());
        let fits = "v".repeat(MAX_HEADER_BYTES - "x-a: ".len());
        assert_eq!(
            status(&request(Version::HTTP_11, &[host.clone(), ("x-a", fits)])),
            None
        );
        let over = "v".repeat(MAX_HEADER_BYTES);
        assert_eq!(
            status(&request(Version::HTTP_11, &[host, ("x-a", over)])),
            Some(431)
        );
    }
}
