//! Distributed tracing of stages with `tracingEnabled` (not TestInvoke's execution log,
//! which is [`crate::trace`]): the engine's side, free of any exporter.
//!
//! When a routed request's stage traces and the gateway was given a [`Tracer`], the engine
//! joins the client's trace (W3C `traceparent`, else the root of an `X-Amzn-Trace-Id`) or
//! starts one, decides sampling (parent-based: a client's sampled flag is obeyed; a new
//! trace is sampled with the tracer's ratio, on the trace id as OpenTelemetry's
//! `TraceIdRatioBased` does), and keeps a [`RequestSpans`] in the request context. The
//! integration receives `traceparent` (parent = the integration span), the client's
//! `tracestate`, and `X-Amzn-Trace-Id` either way; only sampled requests record timings,
//! and at the end of the request the tracer's [`SpanSink`] gets them ([`FinishedTrace`]).
//! The node turns that into OpenTelemetry spans and exports them (`data-plane/src/tracing_export.rs`).
//!
//! A stage without tracing costs one branch: no id, no clock, no header.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::compile::{CompiledMethod, CompiledStage};
use crate::context::RequestContext;

/// `traceparent` (W3C Trace Context).
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// `tracestate` (W3C Trace Context), passed through as the client sent it.
pub static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// `X-Amzn-Trace-Id` (AWS X-Ray's header).
pub static X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");

const TRACEPARENT_LEN: usize = 55;
const AMZN_TRACE_ID_LEN: usize = 74;
/// The length of [`RequestSpans::head_lines`]: `traceparent: {55}\r\n` and
/// `x-amzn-trace-id: {74}\r\n`.
pub const TRACE_HEAD_LEN: usize = 13 + TRACEPARENT_LEN + 2 + 17 + AMZN_TRACE_ID_LEN + 2;

/// A trace's parent as a client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    /// The trace id (never all zero).
    pub trace_id: [u8; 16],
    /// The client's span id (all zero when only an `X-Amzn-Trace-Id` root without
    /// `Parent` was given).
    pub span_id: [u8; 8],
    /// The client's sampling decision.
    pub sampled: bool,
}

/// Parses a W3C `traceparent` (`00-{32 hex}-{16 hex}-{2 hex}`; a higher version is read
/// by its first four fields, as the specification asks). `None` when invalid.
pub fn parse_traceparent(value: &[u8]) -> Option<Parent> {
    if value.len() < 55 || (value.len() > 55 && value[55] != b'-') {
        return None;
    }
    let version = hex_byte(&value[0..2])?;
    if version == 0xff || (version == 0 && value.len() != 55) {
        return None;
    }
    if value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
        return None;
    }
    let mut trace_id = [0u8; 16];
    decode_hex(&value[3..35], &mut trace_id)?;
    let mut span_id = [0u8; 8];
    decode_hex(&value[36..52], &mut span_id)?;
    let flags = hex_byte(&value[53..55])?;
    if trace_id == [0; 16] || span_id == [0; 8] {
        return None;
    }
    Some(Parent {
        trace_id,
        span_id,
        sampled: flags & 1 == 1,
    })
}

/// Parses an `X-Amzn-Trace-Id` (`Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1}`,
/// fields in any order, others ignored): its root becomes the trace id. A missing
/// `Sampled` counts as not sampled by the client (the ratio decides then: see
/// [`Sampler::sampled`]), so it is returned apart.
pub fn parse_amzn_trace_id(value: &[u8]) -> Option<(Parent, Option<bool>)> {
    let text = std::str::from_utf8(value).ok()?;
    let mut root = None;
    let mut parent = [0u8; 8];
    let mut sampled = None;
    for field in text.split(';').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, val) = field.split_once('=')?;
        match key.trim() {
            "Root" => {
                let val = val.trim().as_bytes();
                if val.len() != 35 || &val[0..2] != b"1-" || val[10] != b'-' {
                    return None;
                }
                let mut id = [0u8; 16];
                decode_hex(&val[2..10], &mut id[0..4])?;
                decode_hex(&val[11..35], &mut id[4..16])?;
                root = Some(id);
            }
            "Parent" => {
                decode_hex(val.trim().as_bytes(), &mut parent)?;
            }
            "Sampled" => sampled = Some(val.trim() == "1"),
            _ => {}
        }
    }
    let trace_id = root.filter(|id| *id != [0; 16])?;
    Some((
        Parent {
            trace_id,
            span_id: parent,
            sampled: sampled.unwrap_or(false),
        },
        sampled,
    ))
}

/// Parent-based ratio sampling.
#[derive(Debug, Clone, Copy)]
pub struct Sampler {
    /// Trace ids whose last 8 bytes (big-endian, shifted right by one) are below this are
    /// sampled: `ratio × 2⁶³`, as OpenTelemetry's `TraceIdRatioBased` computes it.
    threshold: u64,
}

impl Sampler {
    /// Samples `ratio` of new traces (clamped to 0..=1; NaN counts as 0).
    pub fn ratio(ratio: f64) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        let threshold = if ratio >= 1.0 {
            u64::MAX
        } else {
            // In range: ratio < 1, so the product is below 2⁶³.
            (ratio * (1u64 << 63) as f64) as u64
        };
        Sampler { threshold }
    }

    /// The decision for a trace: a client's explicit decision is obeyed, else the ratio
    /// decides on the trace id.
    pub fn sampled(&self, client_decision: Option<bool>, trace_id: &[u8; 16]) -> bool {
        if let Some(decision) = client_decision {
            return decision;
        }
        let mut low = [0u8; 8];
        low.copy_from_slice(&trace_id[8..16]);
        (u64::from_be_bytes(low) >> 1) < self.threshold
    }
}

/// One timed child span.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// Start.
    pub start: SystemTime,
    /// End.
    pub end: SystemTime,
    /// Whether the step failed.
    pub failed: bool,
}

/// The trace of one request of a tracing stage, kept in its [`RequestContext`].
#[derive(Debug, Clone)]
pub struct RequestSpans {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The request's (root) span.
    pub span_id: [u8; 8],
    /// The client's span, when the client sent one.
    pub parent_span_id: Option<[u8; 8]>,
    /// The authorizer's child span id.
    pub authorizer_span_id: [u8; 8],
    /// The integration's child span id (the backend's `traceparent` parent).
    pub integration_span_id: [u8; 8],
    /// The throttle/quota step's child span id (a Redis round trip).
    pub limits_span_id: [u8; 8],
    /// Whether spans are recorded and exported.
    pub sampled: bool,
    /// The request's HTTP method.
    pub http_method: Method,
    /// The client's `tracestate`, passed on.
    pub tracestate: Option<HeaderValue>,
    /// Whether the client sent any of the trace headers (`traceparent`, `tracestate`,
    /// `X-Amzn-Trace-Id`): only then has [`RequestSpans::prepare`] any to take out.
    pub client_sent: bool,
    /// The client's `X-Amzn-Trace-Id` root, kept as sent (its id: the root's hex is
    /// lowercase, so encoding the id gives the text back).
    pub amzn_root: Option<[u8; 16]>,
    /// The authorizer step's timing (sampled requests only).
    pub authorizer: OnceLock<Timed>,
    /// The integration's timing (sampled requests only).
    pub integration: OnceLock<Timed>,
    /// The throttle/quota step's timing when it took a Redis round trip.
    pub limits: OnceLock<Timed>,
}

impl RequestSpans {
    /// Joins or starts the trace of a request with these headers.
    pub fn start(headers: &HeaderMap, http_method: &Method, sampler: &Sampler) -> Self {
        let (sent_traceparent, sent_amzn, sent_tracestate) = trace_headers(headers);
        let client_sent =
            sent_traceparent.is_some() || sent_amzn.is_some() || sent_tracestate.is_some();
        let traceparent = sent_traceparent.and_then(|v| parse_traceparent(v.as_bytes()));
        let amzn = sent_amzn.and_then(|v| parse_amzn_trace_id(v.as_bytes()));
        let amzn_root = amzn.as_ref().map(|(p, _)| p.trace_id);
        let (trace_id, parent_span_id, decision, tracestate) = match (traceparent, amzn) {
            (Some(p), _) => (
                p.trace_id,
                Some(p.span_id),
                Some(p.sampled),
                sent_tracestate.cloned(),
            ),
            (None, Some((p, decision))) => (
                p.trace_id,
                Some(p.span_id).filter(|id| *id != [0; 8]),
                decision,
                None,
            ),
            (None, None) => (new_trace_id(), None, None, None),
        };
        // Span ids need to be unique, not unpredictable: a thread-local wyrand
        // (fastrand), as OpenTelemetry's SDK uses a small non-cryptographic generator too.
        let id = || {
            let mut id = fastrand::u64(..).to_be_bytes();
            id[0] |= 1; // never all zero
            id
        };
        RequestSpans {
            trace_id,
            span_id: id(),
            parent_span_id,
            authorizer_span_id: id(),
            integration_span_id: id(),
            limits_span_id: id(),
            sampled: sampler.sampled(decision, &trace_id),
            http_method: http_method.clone(),
            tracestate,
            client_sent,
            amzn_root,
            authorizer: OnceLock::new(),
            integration: OnceLock::new(),
            limits: OnceLock::new(),
        }
    }

    /// The `traceparent` the integration receives: this trace, parent = the integration
    /// span.
    pub fn traceparent(&self) -> HeaderValue {
        // Hex digits and dashes only: always a valid header value.
        HeaderValue::from_bytes(&self.traceparent_bytes()).unwrap_or(HeaderValue::from_static(""))
    }

    fn traceparent_bytes(&self) -> [u8; TRACEPARENT_LEN] {
        let mut out = [0u8; TRACEPARENT_LEN];
        self.write_traceparent(&mut out);
        out
    }

    /// `00-{trace}-{integration span}-{flags}` into `out` ([`TRACEPARENT_LEN`] bytes).
    fn write_traceparent(&self, out: &mut [u8]) {
        out[0..3].copy_from_slice(b"00-");
        encode_hex(&self.trace_id, &mut out[3..35]);
        out[35] = b'-';
        encode_hex(&self.integration_span_id, &mut out[36..52]);
        out[52..55].copy_from_slice(if self.sampled { b"-01" } else { b"-00" });
    }

    /// The `X-Amzn-Trace-Id` the integration receives: `Root=1-{8 hex}-{24 hex}` (the
    /// client's root when it sent one, else the trace id split as X-Ray does),
    /// `Parent={integration span}`, `Sampled={0|1}`.
    pub fn amzn_trace_id(&self) -> HeaderValue {
        // Hex digits and ASCII punctuation only: always a valid header value.
        HeaderValue::from_bytes(&self.amzn_trace_id_bytes()).unwrap_or(HeaderValue::from_static(""))
    }

    fn amzn_trace_id_bytes(&self) -> [u8; AMZN_TRACE_ID_LEN] {
        let mut out = [0u8; AMZN_TRACE_ID_LEN];
        self.write_amzn_trace_id(&mut out, None);
        out
    }

    /// `Root=1-{8}-{24};Parent={16};Sampled={1}` into `out` ([`AMZN_TRACE_ID_LEN`]
    /// bytes), written in place: this runs for every request of a tracing stage, sampled
    /// or not. `traceparent`, when given, is this request's [`RequestSpans::write_traceparent`]
    /// text, whose hex is reused rather than encoded again.
    fn write_amzn_trace_id(&self, out: &mut [u8], traceparent: Option<&[u8]>) {
        out[0..7].copy_from_slice(b"Root=1-");
        match (traceparent, &self.amzn_root) {
            (Some(tp), None) => {
                // The root is the trace id split as X-Ray does: 8 hex digits, a dash, 24.
                out[7..15].copy_from_slice(&tp[3..11]);
                out[15] = b'-';
                out[16..40].copy_from_slice(&tp[11..35]);
            }
            (_, root) => {
                write_amzn_root_ids(root.as_ref().unwrap_or(&self.trace_id), &mut out[7..40])
            }
        }
        out[40..48].copy_from_slice(b";Parent=");
        match traceparent {
            Some(tp) => out[48..64].copy_from_slice(&tp[36..52]),
            None => encode_hex(&self.integration_span_id, &mut out[48..64]),
        }
        out[64..73].copy_from_slice(b";Sampled=");
        out[73] = if self.sampled { b'1' } else { b'0' };
    }

    /// The `traceparent` and `X-Amzn-Trace-Id` header lines of [`RequestSpans::inject`],
    /// encoded for a backend request's head (`name: value\r\n` each): written there by
    /// the backend client instead of going through the header map (two values to
    /// allocate and two insertions saved, on every request of a tracing stage). The
    /// client's own trace headers must be out of the map: [`RequestSpans::prepare`].
    pub fn head_lines(&self) -> [u8; TRACE_HEAD_LEN] {
        const TP: usize = 13; // `traceparent: `
        const AMZN: usize = TP + TRACEPARENT_LEN + 2 + 17; // `\r\nx-amzn-trace-id: `
        let mut out = [0u8; TRACE_HEAD_LEN];
        out[..TP].copy_from_slice(b"traceparent: ");
        self.write_traceparent(&mut out[TP..TP + TRACEPARENT_LEN]);
        out[TP + TRACEPARENT_LEN..AMZN].copy_from_slice(b"\r\nx-amzn-trace-id: ");
        let (traceparent, amzn) = out.split_at_mut(AMZN);
        self.write_amzn_trace_id(&mut amzn[..AMZN_TRACE_ID_LEN], Some(&traceparent[TP..]));
        amzn[AMZN_TRACE_ID_LEN..].copy_from_slice(b"\r\n");
        out
    }

    /// Readies the headers of a request to the integration: with `in_map`, sets the trace
    /// headers in them ([`RequestSpans::inject`]: the execution log shows them); without,
    /// leaves in them only what [`RequestSpans::head_lines`] does not carry, the client's
    /// `tracestate` when it goes on with its `traceparent`, for the backend client to
    /// write the head lines. For the client's own headers (HTTP_PROXY) as for a map the
    /// gateway made (HTTP), so each sends one copy of each trace header.
    pub fn prepare(&self, headers: &mut HeaderMap, in_map: bool) {
        if in_map {
            self.inject(headers);
            return;
        }
        if self.client_sent {
            headers.remove(&TRACEPARENT);
            headers.remove(&X_AMZN_TRACE_ID);
        }
        match &self.tracestate {
            Some(state) => {
                headers.insert(TRACESTATE.clone(), state.clone());
            }
            None if self.client_sent => {
                headers.remove(&TRACESTATE);
            }
            None => {}
        }
    }

    /// Sets the trace headers on a request to the integration.
    pub fn inject(&self, headers: &mut HeaderMap) {
        headers.insert(TRACEPARENT.clone(), self.traceparent());
        match &self.tracestate {
            Some(state) => {
                headers.insert(TRACESTATE.clone(), state.clone());
            }
            None => {
                headers.remove(&TRACESTATE);
            }
        }
        headers.insert(X_AMZN_TRACE_ID.clone(), self.amzn_trace_id());
    }

    /// Records a child span's timing (sampled requests only).
    pub fn record(&self, which: Child, start: SystemTime, failed: bool) {
        if !self.sampled {
            return;
        }
        let cell = match which {
            Child::Authorizer => &self.authorizer,
            Child::Integration => &self.integration,
            Child::Limits => &self.limits,
        };
        let _ = cell.set(Timed {
            start,
            end: SystemTime::now(),
            failed,
        });
    }
}

/// The child spans of a request.
#[derive(Debug, Clone, Copy)]
pub enum Child {
    /// The method's authorizer.
    Authorizer,
    /// The integration (backend call or function invoke).
    Integration,
    /// The throttle/quota step (a Redis round trip).
    Limits,
}

/// `1-{8 hex}-{24 hex}` from a trace id (X-Ray's root: the first 4 bytes are the epoch
/// seconds of a trace this gateway started).
pub fn amzn_root(trace_id: &[u8; 16]) -> String {
    let mut out = [0u8; 35];
    out[0..2].copy_from_slice(b"1-");
    write_amzn_root_ids(trace_id, &mut out[2..]);
    String::from_utf8_lossy(&out).into_owned()
}

/// The first `traceparent`, `X-Amzn-Trace-Id` and `tracestate` values among `headers`
/// (what `get` would give for each). A request carries few headers, so one pass over
/// them, comparing lengths first, costs less than hashing three names to look them up.
fn trace_headers(
    headers: &HeaderMap,
) -> (
    Option<&HeaderValue>,
    Option<&HeaderValue>,
    Option<&HeaderValue>,
) {
    if headers.len() > 16 {
        return (
            headers.get(&TRACEPARENT),
            headers.get(&X_AMZN_TRACE_ID),
            headers.get(&TRACESTATE),
        );
    }
    let (mut traceparent, mut amzn, mut tracestate) = (None, None, None);
    for (name, value) in headers {
        let name = name.as_str();
        let slot = match name.len() {
            11 if name == "traceparent" => &mut traceparent,
            15 if name == "x-amzn-trace-id" => &mut amzn,
            10 if name == "tracestate" => &mut tracestate,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    (traceparent, amzn, tracestate)
}

/// `{8 hex}-{24 hex}` of a trace id into `out` (33 bytes).
fn write_amzn_root_ids(trace_id: &[u8; 16], out: &mut [u8]) {
    encode_hex(&trace_id[..4], &mut out[..8]);
    out[8] = b'-';
    encode_hex(&trace_id[4..], &mut out[9..33]);
}

/// A new trace id: the epoch seconds in the first 4 bytes (so that the X-Ray root carries
/// the time, as X-Ray's own ids do), 12 random bytes after.
fn new_trace_id() -> [u8; 16] {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let mut id = [0u8; 16];
    id[0..4].copy_from_slice(&secs.to_be_bytes());
    id[4..8].copy_from_slice(&fastrand::u32(..).to_be_bytes());
    id[8..16].copy_from_slice(&fastrand::u64(..).to_be_bytes());
    id
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    encode_hex(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Lowercase hex of `bytes` into `out` (twice as long). Four bytes at a time: their
/// nibbles are spread one per byte of a `u64` and turned into digits together (this
/// runs for every request of a tracing stage: 24 bytes for its two trace headers).
fn encode_hex(bytes: &[u8], out: &mut [u8]) {
    let mut words = bytes.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(8);
    for (word, out) in (&mut words).zip(&mut outs) {
        let mut four = [0u8; 4];
        four.copy_from_slice(word);
        out.copy_from_slice(&hex_word(u32::from_be_bytes(four)));
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (b, pair) in words
        .remainder()
        .iter()
        .zip(outs.into_remainder().chunks_exact_mut(2))
    {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
}

/// The eight lowercase hex digits of `v`, most significant first.
#[inline]
fn hex_word(v: u32) -> [u8; 8] {
    // One nibble per byte, the most significant nibble in the most significant byte.
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    // A byte holding 10..=15 gets `'a' - '0' - 10` more: (n + 6) >> 4 is 1 exactly then.
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (x + 0x3030_3030_3030_3030 + letters * 0x27).to_be_bytes()
}

fn decode_hex(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 {
        return None;
    }
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = hex_byte(pair)?;
    }
    Some(())
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    Some(digit(pair[0])? << 4 | digit(pair[1])?)
}

/// The gateway's tracing: the sampler and where finished traces go.
#[derive(Clone)]
pub struct Tracer {
    /// Sampling of new traces.
    pub sampler: Sampler,
    /// Receives every sampled request's spans.
    pub sink: Arc<dyn SpanSink>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("sampler", &self.sampler)
            .finish_non_exhaustive()
    }
}

/// A sampled request's spans, handed to the [`SpanSink`] once its response head is decided.
#[derive(Debug)]
pub struct FinishedTrace<'a> {
    /// The ids and child timings.
    pub spans: &'a RequestSpans,
    /// Request id, API key id, arrival time (the root span's start).
    pub ctx: &'a RequestContext,
    /// The request's HTTP method.
    pub http_method: &'a Method,
    /// The stage.
    pub stage: &'a CompiledStage,
    /// The method, when routing found one.
    pub method: Option<&'a CompiledMethod>,
    /// The status sent to the client.
    pub status: StatusCode,
    /// The root span's end.
    pub end: SystemTime,
}

/// Where sampled requests' spans go (the node's exporter). Called on the request's task:
/// must not block (enqueue and return).
pub trait SpanSink: Send + Sync + 'static {
    /// One finished, sampled request.
    fn finish(&self, trace: &FinishedTrace<'_>);
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_of_any_bytes_is_the_plain_encoding() {
        let plain = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
        let mut cases: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0xff; 16], (0..=255).collect()];
        for len in 1..=24 {
            cases.push((0..len).map(|_| fastrand::u8(..)).collect());
        }
        for bytes in cases {
            assert_eq!(hex(&bytes), plain(&bytes), "{bytes:?}");
        }
    }

    use super::*;

    #[test]
    fn traceparent_round_trip_and_rejections() {
        let tp = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = parse_traceparent(tp).unwrap();
        assert!(parent.sampled);
        assert_eq!(hex(&parent.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&parent.span_id), "00f067aa0ba902b7");
        for bad in [
            &b"00-00000000000000000000000000000000-00f067aa0ba902b7-01"[..],
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            b"garbage",
        ] {
            assert_eq!(
                parse_traceparent(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // A future version may carry more fields.
        assert!(
            parse_traceparent(b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more")
                .is_some_and(|p| !p.sampled)
        );
    }

    #[test]
    fn sampler_is_parent_based_with_a_ratio_on_the_trace_id() {
        let all = Sampler::ratio(1.0);
        let none = Sampler::ratio(0.0);
        let half = Sampler::ratio(0.5);
        let low = [0u8; 16];
        let mut high = [0u8; 16];
        high[8] = 0xff;
        // The client's decision wins either way.
        assert!(none.sampled(Some(true), &low));
        assert!(!all.sampled(Some(false), &low));
        // New traces: the ratio on the last 8 bytes.
        assert!(all.sampled(None, &high));
        assert!(!none.sampled(None, &low));
        assert!(half.sampled(None, &low));
        assert!(!half.sampled(None, &high));
        assert!(!Sampler::ratio(f64::NAN).sampled(None, &low));
        // About the ratio over many random ids.
        let tenth = Sampler::ratio(0.1);
        let hits = (0..10_000)
            .filter(|_| tenth.sampled(None, &rand::random()))
            .count();
        assert!((700..1300).contains(&hits), "{hits}");
    }

    #[test]
    fn propagated_headers_continue_the_clients_trace() {
        let mut headers = HeaderMap::new();
        headers.insert(
            TRACEPARENT.clone(),
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        headers.insert(TRACESTATE.clone(), HeaderValue::from_static("vendor=x"));
        let spans = RequestSpans::start(&headers, &Method::GET, &Sampler::ratio(0.0));
        assert!(spans.sampled);
        assert_eq!(
            spans.parent_span_id,
            Some(
                parse_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                    .unwrap()
                    .span_id
            )
        );
        let mut out = HeaderMap::new();
        spans.inject(&mut out);
        let tp = out[&TRACEPARENT].to_str().unwrap();
        assert!(tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(tp.ends_with("-01"));
        assert_eq!(&tp[36..52], hex(&spans.integration_span_id));
        assert_eq!(out[&TRACESTATE], "vendor=x");
        assert_eq!(
            out[&X_AMZN_TRACE_ID].to_str().unwrap(),
            format!(
                "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent={};Sampled=1",
                hex(&spans.integration_span_id)
            )
        );
    }

    #[test]
    fn head_lines_carry_what_inject_sets_and_prepare_clears_the_clients() {
        // The client's headers, as a proxied request's map holds them.
        let mut client = HeaderMap::new();
        client.insert(
            TRACEPARENT.clone(),
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        client.insert(TRACESTATE.clone(), HeaderValue::from_static("vendor=x"));
        client.insert(
            X_AMZN_TRACE_ID.clone(),
            HeaderValue::from_static("Root=junk"),
        );
        client.insert("accept", HeaderValue::from_static("*/*"));
        let spans = RequestSpans::start(&client, &Method::GET, &Sampler::ratio(0.0));
        let mut injected = client.clone();
        spans.prepare(&mut injected, true);
        spans.prepare(&mut client, false);
        // What goes through the map: the client's `tracestate` (it belongs with its
        // trace), none of its other trace headers.
        let mut left: Vec<&str> = client.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "tracestate"]);
        // A map the gateway makes (an HTTP integration's) gets that `tracestate` too.
        let mut own = HeaderMap::new();
        spans.prepare(&mut own, false);
        assert_eq!(own.len(), 1);
        assert_eq!(own[&TRACESTATE], "vendor=x");
        // What the head gets: the very lines `inject` sets.
        let head = spans.head_lines();
        let text = std::str::from_utf8(&head).unwrap();
        assert_eq!(
            text,
            format!(
                "traceparent: {}\r\nx-amzn-trace-id: {}\r\n",
                injected[&TRACEPARENT].to_str().unwrap(),
                injected[&X_AMZN_TRACE_ID].to_str().unwrap()
            )
        );
        // A stray `tracestate` (no `traceparent`) does not go on; a client that sent no
        // trace header leaves the map as it was.
        let mut stray = HeaderMap::new();
        stray.insert(TRACESTATE.clone(), HeaderValue::from_static("vendor=y"));
        let spans = RequestSpans::start(&stray, &Method::GET, &Sampler::ratio(0.0));
        spans.prepare(&mut stray, false);
        assert!(stray.is_empty());
        let mut none = HeaderMap::new();
        none.insert("accept", HeaderValue::from_static("*/*"));
        let spans = RequestSpans::start(&none, &Method::GET, &Sampler::ratio(0.0));
        assert!(!spans.client_sent);
        spans.prepare(&mut none, false);
        assert_eq!(none.len(), 1);
    }

    #[test]
    fn head_lines_keep_a_clients_xray_root_and_any_number_of_headers_is_read_alike() {
        for filler in [0, 20] {
            let mut headers = HeaderMap::new();
            for i in 0..filler {
                headers.insert(
                    HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()).unwrap(),
                    HeaderValue::from_static("1"),
                );
            }
            headers.append(
                X_AMZN_TRACE_ID.clone(),
                HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            );
            // A second value: as `get`, the first one counts.
            headers.append(
                X_AMZN_TRACE_ID.clone(),
                HeaderValue::from_static("Root=1-00000001-000000000000000000000001;Sampled=0"),
            );
            let spans = RequestSpans::start(&headers, &Method::GET, &Sampler::ratio(0.0));
            assert!(spans.sampled, "{filler} other headers");
            assert!(spans.client_sent);
            let mut injected = HeaderMap::new();
            spans.inject(&mut injected);
            let head = spans.head_lines();
            assert_eq!(
                std::str::from_utf8(&head).unwrap(),
                format!(
                    "traceparent: {}\r\nx-amzn-trace-id: {}\r\n",
                    injected[&TRACEPARENT].to_str().unwrap(),
                    injected[&X_AMZN_TRACE_ID].to_str().unwrap()
                )
            );
            assert!(injected[&X_AMZN_TRACE_ID]
                .to_str()
                .unwrap()
                .starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;Parent="));
        }
    }

    #[test]
    fn amzn_trace_id_format_and_kept_root() {
        // A new trace: the root's first part is the epoch seconds.
        let spans = RequestSpans::start(&HeaderMap::new(), &Method::GET, &Sampler::ratio(1.0));
        let value = spans.amzn_trace_id();
        let text = value.to_str().unwrap();
        let fields: Vec<&str> = text.split(';').collect();
        assert_eq!(fields.len(), 3);
        let root = fields[0].strip_prefix("Root=1-").unwrap();
        let (epoch, rest) = root.split_once('-').unwrap();
        assert_eq!((epoch.len(), rest.len()), (8, 24));
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let secs = u64::from_str_radix(epoch, 16).unwrap();
        assert!(secs <= now && now - secs < 60);
        assert_eq!(fields[1].len(), "Parent=".len() + 16);
        assert_eq!(fields[2], "Sampled=1");

        // A client's X-Ray header: its root is kept and becomes the trace id.
        let mut headers = HeaderMap::new();
        headers.insert(
            X_AMZN_TRACE_ID.clone(),
            HeaderValue::from_static(
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
            ),
        );
        let spans = RequestSpans::start(&headers, &Method::GET, &Sampler::ratio(1.0));
        assert!(!spans.sampled);
        assert_eq!(hex(&spans.trace_id), "5759e988bd862e3fe1be46a994272793");
        assert!(spans
            .amzn_trace_id()
            .to_str()
            .unwrap()
            .starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;Parent="));
        assert!(spans.traceparent().to_str().unwrap().ends_with("-00"));
        assert_eq!(parse_amzn_trace_id(b"Root=1-zz-1"), None);
        // A trailing separator, fields in another order, an unknown field.
        let (parent, sampled) = parse_amzn_trace_id(
            b"Sampled=1; Self=1-abc; Root=1-5759e988-bd862e3fe1be46a994272793;",
        )
        .unwrap();
        assert_eq!(hex(&parent.trace_id), "5759e988bd862e3fe1be46a994272793");
        assert_eq!((parent.span_id, sampled), ([0; 8], Some(true)));
    }
}
