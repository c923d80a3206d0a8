//! The execution trace of one request: the "Endpoint request …" / "Endpoint response …"
//! lines of API Gateway's execution log (SPEC 6), written by the integration steps when a
//! trace is attached to the request, as TestInvokeMethod does.
//!
//! A request without a trace pays one `Option` check per log point; the lines are only
//! formatted when someone reads them. With a trace, streamed bodies are buffered so that
//! they can be shown (bounded by the payload limit), which is why only test invocations
//! attach one.

use std::sync::Mutex;

use http::HeaderMap;

/// The lines logged for one request, in order.
#[derive(Debug, Default)]
pub struct ExecutionTrace {
    lines: Mutex<Vec<String>>,
}

impl ExecutionTrace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a line.
    pub fn push(&self, line: String) {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line);
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `{a=1, b=2}`: how API Gateway's logs print header maps (values of a repeated header
/// joined with commas, as Java's maps of lists print them flattened).
pub fn header_map(headers: &HeaderMap) -> String {
    let mut entries: Vec<String> = Vec::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        entries.push(format!("{name}={}", values.join(",")));
    }
    format!("{{{}}}", entries.join(", "))
}

/// A body as the log shows it: text as is (invalid UTF-8 replaced), cut at 1 KB with
/// API Gateway's marker.
pub fn body_text(body: &[u8]) -> String {
    const LIMIT: usize = 1024;
    let shown = &body[..body.len().min(LIMIT)];
    let mut text = String::from_utf8_lossy(shown).into_owned();
    if body.len() > LIMIT {
        text.push_str(" [TRUNCATED]");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_maps_print_like_api_gateway() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        assert_eq!(
            header_map(&headers),
            "{content-type=application/json, x-a=1,2}"
        );
        assert_eq!(header_map(&HeaderMap::new()), "{}");
    }

    #[test]
    fn long_bodies_are_truncated() {
        assert_eq!(body_text(b"{}"), "{}");
        let long = vec![b'x'; 2000];
        let shown = body_text(&long);
        assert!(shown.ends_with(" [TRUNCATED]") && shown.len() == 1024 + 12);
    }

    #[test]
    fn lines_are_kept_in_order() {
        let trace = ExecutionTrace::new();
        trace.push("a".into());
        trace.push("b".into());
        assert_eq!(trace.lines(), ["a", "b"]);
    }
}
