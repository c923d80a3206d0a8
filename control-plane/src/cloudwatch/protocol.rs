//! The two wire protocols of the CloudWatch API, over one input and one output model.
//!
//! - JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, what boto3 1.43 and the
//!   AWS CLI send, with `x-amzn-query-mode: true`): the body is the input structure;
//!   timestamps are Unix seconds.
//! - query (`Action=<Op>&Version=2010-08-01&...`, form-encoded, as older SDKs send): lists
//!   are `Member.member.N`, nested structures `A.B`; the answer is XML in the model's
//!   namespace, `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`.
//!
//! Both inputs become one `serde_json::Value` read through [`Input`], whose accessors take
//! a value in either form ("60" or 60, an ISO 8601 date or Unix seconds) and name the
//! member they refuse (`MissingParameter`, `InvalidParameterValue`). Handlers answer an
//! [`Out`] tree that says what each value is (a timestamp, a list, a map), which is what
//! the two renderings need and all they need. Hand-written per operation, from the shapes
//! of `monitoring.service-2.json`: eight operations do not justify a generic model
//! interpreter.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

use super::error::CwError;

/// The JSON protocol's target prefix (`metadata.targetPrefix`).
pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";
/// The query protocol's XML namespace (`metadata.xmlNamespace`).
pub const XML_NAMESPACE: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

/// The protocol a request speaks (and its answer must).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.0` with `X-Amz-Target`.
    Json,
    /// Form-encoded `Action=...`, XML answers.
    Query,
}

impl Protocol {
    /// JSON when the request names a target, the query protocol otherwise.
    pub fn detect(headers: &HeaderMap) -> Self {
        if headers.contains_key("x-amz-target") {
            Self::Json
        } else {
            Self::Query
        }
    }

    /// The operation name and its input.
    pub fn parse(self, headers: &HeaderMap, body: &[u8]) -> Result<(String, Value), CwError> {
        match self {
            Self::Json => {
                let target = headers
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let op = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| {
                    CwError::UnknownOperation(format!("Unknown target: {target}"))
                })?;
                let input = if body.iter().all(u8::is_ascii_whitespace) {
                    Value::Object(Default::default())
                } else {
                    serde_json::from_slice(body).map_err(|e| {
                        CwError::Serialization(format!("The request body is not valid JSON: {e}"))
                    })?
                };
                if !input.is_object() {
                    return Err(CwError::Serialization(
                        "The request body must be a JSON object".into(),
                    ));
                }
                Ok((op.to_string(), input))
            }
            Self::Query => {
                let mut tree = Node::Obj(BTreeMap::new());
                let mut action = None;
                for (k, v) in form_urlencoded_pairs(body) {
                    match k.as_str() {
                        "Action" => action = Some(v),
                        "Version" => {}
                        _ => tree.insert(&k, v),
                    }
                }
                let action = action.ok_or_else(|| {
                    CwError::UnknownOperation(
                        "Could not find operation: the request has no Action".into(),
                    )
                })?;
                Ok((action, tree.into_value()))
            }
        }
    }

    /// A successful answer: `out` is the operation's output structure (`None` for
    /// operations without one).
    pub fn render_ok(self, op: &str, out: Option<Out>, request_id: &str) -> Response {
        match self {
            Self::Json => {
                let body = out
                    .map(|o| o.to_json())
                    .unwrap_or_else(|| Value::Object(Default::default()));
                with_type(
                    (StatusCode::OK, body.to_string()).into_response(),
                    "application/x-amz-json-1.0",
                )
            }
            Self::Query => {
                let mut xml = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"{XML_NAMESPACE}\">"
                );
                if let Some(out) = out {
                    xml.push_str(&format!("<{op}Result>"));
                    out.write_xml_children(&mut xml);
                    xml.push_str(&format!("</{op}Result>"));
                }
                xml.push_str(&format!(
                    "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
                    escape(request_id)
                ));
                with_type((StatusCode::OK, xml).into_response(), "text/xml")
            }
        }
    }

    /// An error answer: JSON `__type` + `message` with `x-amzn-query-error`, or the query
    /// protocol's `<ErrorResponse>`.
    pub fn render_err(self, e: &CwError, request_id: &str) -> Response {
        let message = e.public_message();
        let status = e.status();
        match self {
            Self::Json => {
                let body = serde_json::json!({ "__type": e.json_type(), "message": message });
                let mut resp = with_type(
                    (status, body.to_string()).into_response(),
                    "application/x-amz-json-1.0",
                );
                if let Ok(v) = HeaderValue::from_str(&format!("{};{}", e.query_code(), e.fault())) {
                    resp.headers_mut().insert("x-amzn-query-error", v);
                }
                resp
            }
            Self::Query => {
                let xml = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{XML_NAMESPACE}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                    e.fault(),
                    e.query_code(),
                    escape(&message),
                    escape(request_id)
                );
                with_type((status, xml).into_response(), "text/xml")
            }
        }
    }
}

fn with_type(mut resp: Response, content_type: &'static str) -> Response {
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    resp
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = it.next().unwrap_or_default();
            let v = it.next().unwrap_or_default();
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &[u8]) -> String {
    let plus: Vec<u8> = s
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// The query protocol's flattened members, rebuilt into a tree.
enum Node {
    Leaf(String),
    Obj(BTreeMap<String, Node>),
    List(BTreeMap<u64, Node>),
}

impl Node {
    fn insert(&mut self, key: &str, value: String) {
        let segments: Vec<&str> = key.split('.').collect();
        let mut node = self;
        let mut i = 0;
        while i < segments.len() {
            let last = i + 1 == segments.len();
            let seg = segments[i];
            // `Name.member.N`: a list element.
            if seg == "member" && i + 1 < segments.len() {
                if let Ok(index) = segments[i + 1].parse::<u64>() {
                    if !matches!(node, Node::List(_)) {
                        *node = Node::List(BTreeMap::new());
                    }
                    let Node::List(items) = node else { return };
                    let done = i + 2 == segments.len();
                    let child = items.entry(index).or_insert_with(|| {
                        if done {
                            Node::Leaf(String::new())
                        } else {
                            Node::Obj(BTreeMap::new())
                        }
                    });
                    if done {
                        *child = Node::Leaf(value);
                        return;
                    }
                    node = child;
                    i += 2;
                    continue;
                }
            }
            if !matches!(node, Node::Obj(_)) {
                *node = Node::Obj(BTreeMap::new());
            }
            let Node::Obj(members) = node else { return };
            if last {
                // `Name=` with an empty value is how the query protocol sends an empty list.
                members.entry(seg.to_string()).or_insert(Node::Leaf(value));
                return;
            }
            node = members
                .entry(seg.to_string())
                .or_insert_with(|| Node::Obj(BTreeMap::new()));
            i += 1;
        }
    }

    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Obj(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, v.into_value())).collect())
            }
            Node::List(m) => Value::Array(m.into_values().map(Node::into_value).collect()),
        }
    }
}

/// A member of the input, read leniently in either protocol's form, with its path for
/// error messages (`MetricDataQueries.member.1.Id`).
#[derive(Clone, Copy)]
pub struct Input<'a> {
    value: &'a Value,
    path: &'a str,
}

/// The input structure of a call.
pub fn input(value: &Value) -> Input<'_> {
    Input { value, path: "" }
}

/// A member of a structure: its value (if present) and its path.
pub struct Member<'a> {
    value: Option<&'a Value>,
    path: String,
}

impl<'a> Input<'a> {
    /// The member `name` of this structure.
    pub fn get(&self, name: &str) -> Member<'a> {
        let path = if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        };
        let value = self.value.get(name).filter(|v| !v.is_null());
        Member { value, path }
    }
}

impl<'a> Member<'a> {
    /// Its path, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether it is present.
    pub fn is_present(&self) -> bool {
        self.value.is_some()
    }

    /// A required string.
    pub fn string(&self) -> Result<String, CwError> {
        self.opt_string()?
            .ok_or_else(|| CwError::missing(&self.path))
    }

    /// An optional string.
    pub fn opt_string(&self) -> Result<Option<String>, CwError> {
        match self.value {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(CwError::invalid(
                &self.path,
                format!("must be a string, not {other}."),
            )),
        }
    }

    /// An optional string that must be one of `allowed` (a model enum).
    pub fn opt_enum(&self, allowed: &[&str]) -> Result<Option<String>, CwError> {
        match self.opt_string()? {
            Some(s) if !allowed.contains(&s.as_str()) => {
                Err(CwError::InvalidParameterValue(format!(
                    "The value {s} for parameter {} is not valid; it must be one of: {}.",
                    self.path,
                    allowed.join(", ")
                )))
            }
            other => Ok(other),
        }
    }

    /// An optional number.
    pub fn opt_f64(&self) -> Result<Option<f64>, CwError> {
        let n = match self.value {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(CwError::invalid(&self.path, "must be a number.")),
        }
    }

    /// An optional integer.
    pub fn opt_i64(&self) -> Result<Option<i64>, CwError> {
        let n = match self.value {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        n.map(Some)
            .ok_or_else(|| CwError::invalid(&self.path, "must be an integer."))
    }

    /// An optional boolean.
    pub fn opt_bool(&self) -> Result<Option<bool>, CwError> {
        match self.value {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(CwError::invalid(&self.path, "must be true or false.")),
        }
    }

    /// A required timestamp: Unix seconds (JSON) or ISO 8601 (query), as Unix seconds.
    pub fn time(&self) -> Result<f64, CwError> {
        self.opt_time()?.ok_or_else(|| CwError::missing(&self.path))
    }

    /// An optional timestamp, as Unix seconds.
    pub fn opt_time(&self) -> Result<Option<f64>, CwError> {
        let t = match self.value {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => parse_time(s),
            Some(_) => None,
        };
        match t {
            // 1970 to 9999, as CloudWatch's timestamps go.
            Some(t) if (0.0..=253_402_300_799.0).contains(&t) => Ok(Some(t)),
            _ => Err(CwError::invalid(
                &self.path,
                "must be a timestamp between 1970 and 9999 (ISO 8601 or seconds since the epoch).",
            )),
        }
    }

    /// An optional list of structures (or strings), each with its path.
    pub fn list(&self) -> Result<Vec<(Input<'a>, String)>, CwError> {
        match self.value {
            None => Ok(Vec::new()),
            // The query protocol's empty list (`Name=`).
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        Input { value: v, path: "" },
                        format!("{}.member.{}", self.path, i + 1),
                    )
                })
                .collect()),
            Some(_) => Err(CwError::invalid(&self.path, "must be a list.")),
        }
    }

    /// An optional list of strings.
    pub fn strings(&self) -> Result<Vec<String>, CwError> {
        self.list()?
            .into_iter()
            .map(|(item, path)| match item.value {
                Value::String(s) => Ok(s.clone()),
                _ => Err(CwError::invalid(&path, "must be a string.")),
            })
            .collect()
    }

    /// A structure member, whose members' paths extend `path` (hold it while reading).
    pub fn structure<'p>(&'p self) -> Result<Option<Input<'p>>, CwError>
    where
        'a: 'p,
    {
        match self.value {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(Input {
                value: v,
                path: &self.path,
            })),
            Some(_) => Err(CwError::invalid(&self.path, "must be a structure.")),
        }
    }
}

impl<'a> Input<'a> {
    /// This list element with its own path (for nested members' messages).
    pub fn at<'p>(&self, path: &'p str) -> Input<'p>
    where
        'a: 'p,
    {
        Input {
            value: self.value,
            path,
        }
    }

    /// Whether it is a string (a list of strings' element).
    pub fn as_str(&self) -> Option<&'a str> {
        self.value.as_str()
    }
}

fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

/// An output value, tagged with what the renderings need to know.
#[derive(Debug, Clone)]
pub enum Out {
    /// A string.
    Str(String),
    /// A double.
    F64(f64),
    /// An integer.
    I64(i64),
    /// A boolean.
    Bool(bool),
    /// A timestamp, Unix seconds.
    Time(f64),
    /// A list (`<member>` elements in XML).
    List(Vec<Out>),
    /// A map (`<entry><key/><value/></entry>` in XML).
    Map(Vec<(String, Out)>),
    /// A structure; members in the model's `xmlOrder`.
    Struct(Vec<(&'static str, Out)>),
}

/// Builds a structure, leaving out absent members.
#[derive(Default)]
pub struct StructOut(Vec<(&'static str, Out)>);

impl StructOut {
    /// A new, empty structure.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a member.
    pub fn with(mut self, name: &'static str, v: Out) -> Self {
        self.0.push((name, v));
        self
    }
    /// Adds a member when present.
    pub fn opt(self, name: &'static str, v: Option<Out>) -> Self {
        match v {
            Some(v) => self.with(name, v),
            None => self,
        }
    }
    /// The structure.
    pub fn done(self) -> Out {
        Out::Struct(self.0)
    }
}

impl Out {
    /// A string.
    pub fn s(v: impl Into<String>) -> Self {
        Self::Str(v.into())
    }

    /// The JSON protocol's form.
    pub fn to_json(&self) -> Value {
        match self {
            Out::Str(s) => Value::String(s.clone()),
            Out::F64(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Out::I64(i) => Value::from(*i),
            Out::Bool(b) => Value::Bool(*b),
            Out::Time(t) => serde_json::Number::from_f64((t * 1000.0).round() / 1000.0)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Out::List(items) => Value::Array(items.iter().map(Out::to_json).collect()),
            Out::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Out::Struct(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The query protocol's form of this value's content (inside its element).
    pub fn write_xml_children(&self, out: &mut String) {
        match self {
            Out::Str(s) => out.push_str(&escape(s)),
            Out::F64(f) => out.push_str(&format!("{f:?}")),
            Out::I64(i) => out.push_str(&i.to_string()),
            Out::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Out::Time(t) => out.push_str(&iso8601(*t)),
            Out::List(items) => {
                for item in items {
                    out.push_str("<member>");
                    item.write_xml_children(out);
                    out.push_str("</member>");
                }
            }
            Out::Map(entries) => {
                for (k, v) in entries {
                    out.push_str("<entry><key>");
                    out.push_str(&escape(k));
                    out.push_str("</key><value>");
                    v.write_xml_children(out);
                    out.push_str("</value></entry>");
                }
            }
            Out::Struct(members) => {
                for (k, v) in members {
                    out.push('<');
                    out.push_str(k);
                    out.push('>');
                    v.write_xml_children(out);
                    out.push_str("</");
                    out.push_str(k);
                    out.push('>');
                }
            }
        }
    }
}

/// `2026-12-06T10:01:00.000Z`.
pub fn iso8601(unix_seconds: f64) -> String {
    let nanos = (unix_seconds * 1e9) as i128;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// XML text escaping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_members_become_a_tree() {
        let body = b"Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=m1&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=ApiName&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=pets+api&MetricDataQueries.member.1.MetricStat.Period=60&Statistics.member.2=Sum&Statistics.member.1=Average";
        let (op, v) = Protocol::Query.parse(&HeaderMap::new(), body).unwrap();
        assert_eq!(op, "GetMetricData");
        assert_eq!(
            v,
            serde_json::json!({
                "MetricDataQueries": [{"Id": "m1", "MetricStat": {
                    "Metric": {"Dimensions": [{"Name": "ApiName", "Value": "pets api"}]},
                    "Period": "60"}}],
                "Statistics": ["Average", "Sum"]
            })
        );
    }

    #[test]
    fn xml_renders_lists_maps_and_times() {
        let out = StructOut::new()
            .with("Label", Out::s("Latency"))
            .with(
                "Datapoints",
                Out::List(vec![StructOut::new()
                    .with("Timestamp", Out::Time(0.0))
                    .with("Sum", Out::F64(2.0))
                    .with(
                        "ExtendedStatistics",
                        Out::Map(vec![("p99".into(), Out::F64(1.5))]),
                    )
                    .done()]),
            )
            .done();
        let mut xml = String::new();
        out.write_xml_children(&mut xml);
        assert_eq!(xml, "<Label>Latency</Label><Datapoints><member><Timestamp>1970-01-01T00:00:00.000Z</Timestamp><Sum>2.0</Sum><ExtendedStatistics><entry><key>p99</key><value>1.5</value></entry></ExtendedStatistics></member></Datapoints>");
    }
}
