//! The execution log of one request: the lines of API Gateway's execution log (SPEC 6),
//! written by the phases when a trace is attached to the request. TestInvokeMethod
//! attaches one to every test call; a node attaches one after routing when the method's
//! `logging/loglevel` is INFO (`logging/dataTrace` adds headers and bodies). The wording
//! of every line lives here ([`lines`]), so TestInvokeMethod's log and the nodes'
//! execution logs cannot drift.
//!
//! A request without a trace pays one `OnceLock` check per log point; the lines are only
//! formatted when someone reads them. With a data trace, streamed bodies are buffered so
//! that they can be shown (bounded by the payload limit, shown cut at 1 KB). Secrets are
//! masked: the values of `Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`,
//! `Proxy-Authorization` and `X-Amz-Security-Token` headers, and API keys.

use std::sync::Mutex;

use http::HeaderMap;

/// Lines kept per request at most (a data trace of a long authorizer / integration
/// exchange stays bounded); later lines are dropped and the last one says so.
pub const MAX_LINES: usize = 256;

/// The lines logged for one request, in order.
#[derive(Debug)]
pub struct ExecutionTrace {
    lines: Mutex<Vec<String>>,
    /// Headers and bodies are shown (`logging/dataTrace`).
    pub data: bool,
    /// The engine writes the method request and completion lines itself (a node's
    /// execution log); TestInvokeMethod writes them from its own input and output.
    pub framed: bool,
}

impl Default for ExecutionTrace {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecutionTrace {
    /// An empty trace showing data, framed by its reader (TestInvokeMethod's).
    pub fn new() -> Self {
        ExecutionTrace {
            lines: Mutex::new(Vec::new()),
            data: true,
            framed: false,
        }
    }

    /// An empty trace of a node's execution log, with or without data.
    pub fn for_node(data: bool) -> Self {
        ExecutionTrace {
            lines: Mutex::new(Vec::new()),
            data,
            framed: true,
        }
    }

    /// Appends a line.
    pub fn push(&self, line: String) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        match lines.len() {
            n if n < MAX_LINES - 1 => lines.push(line),
            n if n == MAX_LINES - 1 => lines.push("Execution log truncated".into()),
            _ => {}
        }
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes the lines out.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Headers whose values are secrets.
fn is_secret_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-amz-security-token",
    ]
    .iter()
    .any(|s| name.eq_ignore_ascii_case(s))
}

/// A secret as logs show it: asterisks, and the last 4 characters of a long one
/// (`****************abcd`), as API Gateway shows API keys.
pub fn mask(secret: &str) -> String {
    let count = secret.chars().count();
    if count >= 20 {
        let tail: String = secret.chars().skip(count - 4).collect();
        format!("{}{tail}", "*".repeat(count - 4))
    } else {
        "*".repeat(count.max(1))
    }
}

/// `{a=1, b=2}` of `(name, value)` pairs, secrets masked.
pub fn java_map<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let inner: Vec<String> = entries
        .map(|(k, v)| {
            if is_secret_header(k) {
                format!("{k}={}", mask(v))
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// The path parameters of `path` under the resource template `resource_path`
/// (`/pets/{id}` and `/pets/7` give `id=7`; a greedy `{proxy+}` takes the rest), for
/// logs that have no routed request (TestInvokeMethod's). Segments that do not line up
/// give no parameter.
pub fn path_params<'a>(resource_path: &'a str, path: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut rest = path.trim_start_matches('/');
    for segment in resource_path.trim_start_matches('/').split('/') {
        let (value, after) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if let Some(greedy) = name.strip_suffix('+') {
                out.push((greedy, rest));
                break;
            }
            out.push((name, value));
        }
        rest = after;
    }
    out
}

/// `{a=1, b=2}`: how API Gateway's logs print header maps (values of a repeated header
/// joined with commas, as Java's maps of lists print them flattened), secrets masked.
pub fn header_map(headers: &HeaderMap) -> String {
    let mut entries: Vec<String> = Vec::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let value = values.join(",");
        if is_secret_header(name.as_str()) {
            entries.push(format!("{name}={}", mask(&value)));
        } else {
            entries.push(format!("{name}={value}"));
        }
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

/// The wording of execution-log lines, API Gateway's, shared by the nodes' execution logs
/// and TestInvokeMethod's log.
pub mod lines {
    /// "Extended Request Id: {id}", a node's first line of a request.
    pub fn extended_request_id(id: &str) -> String {
        format!("Extended Request Id: {id}")
    }

    /// Why a method that requires an API key refused the request's key (`masked_key` as
    /// [`super::mask`] shows it, empty when none came).
    pub fn api_key_refused(
        masked_key: &str,
        http_method: &str,
        resource_path: &str,
        api_stage: &str,
        reason: ApiKeyRefusal,
    ) -> String {
        let why = match reason {
            ApiKeyRefusal::Missing => "request did not contain API Key".to_string(),
            ApiKeyRefusal::Unknown => "API Key is invalid or disabled".to_string(),
            ApiKeyRefusal::NotInPlan => {
                format!("API Key is not associated with a Usage Plan for API Stage {api_stage}")
            }
        };
        format!(
            "API Key {masked_key} not authorized because method '{http_method} {resource_path}' requires API Key and {why}"
        )
    }

    /// Why [`api_key_refused`] refused a key.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ApiKeyRefusal {
        /// No key came with the request.
        Missing,
        /// The key is unknown or disabled.
        Unknown,
        /// The key is in no usage plan of this API stage.
        NotInPlan,
    }

    /// "Starting execution for request: {id}".
    pub fn starting(request_id: &str) -> String {
        format!("Starting execution for request: {request_id}")
    }

    /// "HTTP Method: GET, Resource Path: /pets".
    pub fn method(http_method: &str, resource_path: &str) -> String {
        format!("HTTP Method: {http_method}, Resource Path: {resource_path}")
    }

    /// "Method request path: {petId=1}" (`map` as [`super::java_map`] prints the path
    /// parameters).
    pub fn request_path(map: &str) -> String {
        format!("Method request path: {map}")
    }

    /// "Method request query string: {a=1}".
    pub fn request_query(map: &str) -> String {
        format!("Method request query string: {map}")
    }

    /// "Method request headers: {…}" (data trace).
    pub fn request_headers(map: &str) -> String {
        format!("Method request headers: {map}")
    }

    /// "Method request body before transformations: …" (data trace).
    pub fn request_body(body: &str) -> String {
        format!("Method request body before transformations: {body}")
    }

    /// The usage-plan lines of a request whose method requires an API key and that
    /// presented one (`masked_key` as [`super::mask`] shows it).
    pub fn usage_plan_with_key(
        request_id: &str,
        masked_key: &str,
        api_stage: &str,
        http_method: &str,
        resource_path: &str,
    ) -> [String; 3] {
        [
            format!(
                "Verifying Usage Plan for request: {request_id}. API Key: {masked_key} API Stage: {api_stage}"
            ),
            format!(
                "API Key {masked_key} authorized because method '{http_method} {resource_path}' requires API Key and request contained API Key"
            ),
            format!("Usage Plan check succeeded for API Key {masked_key} and API Stage {api_stage}"),
        ]
    }

    /// The usage-plan lines of a request whose method requires no API key.
    pub fn usage_plan_without_key(
        request_id: &str,
        api_stage: &str,
        http_method: &str,
        resource_path: &str,
    ) -> [String; 3] {
        [
            format!("Verifying Usage Plan for request: {request_id}. API Key:  API Stage: {api_stage}"),
            format!(
                "API Key  authorized because method '{http_method} {resource_path}' does not require API Key. Request will not contribute to throttle or quota limits"
            ),
            format!("Usage Plan check succeeded for API Key  and API Stage {api_stage}"),
        ]
    }

    /// "Method response body after transformations: …" (data trace).
    pub fn response_body(body: &str) -> String {
        format!("Method response body after transformations: {body}")
    }

    /// "Method response headers: {…}" (data trace).
    pub fn response_headers(map: &str) -> String {
        format!("Method response headers: {map}")
    }

    /// The last two lines: the outcome and "Method completed with status: N".
    pub fn completed(status: u16) -> [String; 2] {
        [
            if status < 500 {
                "Successfully completed execution".into()
            } else {
                "Execution failed".into()
            },
            format!("Method completed with status: {status}"),
        ]
    }
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
    fn path_parameters_follow_the_resource_template() {
        assert_eq!(path_params("/pets/{id}", "/pets/7"), [("id", "7")]);
        assert_eq!(
            path_params("/a/{x}/b/{rest+}", "/a/1/b/c/d"),
            [("x", "1"), ("rest", "c/d")]
        );
        assert!(path_params("/pets", "/pets").is_empty());
        assert!(path_params("/", "/").is_empty());
    }

    #[test]
    fn secrets_are_masked() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-api-key",
            HeaderValue::from_static("abcdefghijklmnopqrstuvwxyz"),
        );
        headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        let shown = header_map(&headers);
        assert!(
            !shown.contains("abcdefghij") && !shown.contains("Bearer"),
            "{shown}"
        );
        assert!(
            shown.contains("x-api-key=**********************wxyz"),
            "{shown}"
        );
        assert_eq!(
            java_map([("Cookie", "a=b"), ("X", "y")].into_iter()),
            "{Cookie=***, X=y}"
        );
    }

    #[test]
    fn traces_are_bounded() {
        let trace = ExecutionTrace::for_node(false);
        for i in 0..MAX_LINES + 10 {
            trace.push(i.to_string());
        }
        let lines = trace.take();
        assert_eq!(lines.len(), MAX_LINES);
        assert_eq!(lines.last().unwrap(), "Execution log truncated");
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
