//! Runtime values, modelled on the Java objects Velocity sees (String,
//! Integer/Long, Double, Boolean, ArrayList, LinkedHashMap, ...), with
//! Java's `toString`, `equals` and Velocity's truthiness. JSON taken from the
//! request body is borrowed, never copied, so looking it up allocates nothing.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::doc::Doc as Json;

use crate::ast::Node;

/// A map value: insertion-ordered, like Java's LinkedHashMap.
pub(crate) type MapData<'a> = Vec<(Value<'a>, Value<'a>)>;

/// Which parameter map of `$input.params()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamKind {
    Path,
    Query,
    Header,
}

/// Writable override maps under `$context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OverrideKind {
    ResponseHeader,
    RequestHeader,
    RequestQuery,
    RequestPath,
}

/// A value during rendering; `'a` is the lifetime of the template and input.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    String(Rc<str>),
    /// Borrowed JSON array or object from the body (scalars are converted).
    Json(&'a Json<'a>),
    List(Rc<RefCell<Vec<Value<'a>>>>),
    Map(Rc<RefCell<MapData<'a>>>),
    /// `Map.Entry` from `entrySet()`.
    Entry(Rc<(Value<'a>, Value<'a>)>),
    /// A `#define` block, rendered where referenced.
    Block(&'a [Node]),
    /// `$foreach`: (index, hasNext).
    Loop(usize, bool),
    Input,
    Util,
    Context,
    ResponseOverride,
    RequestOverride,
    Overrides(OverrideKind),
}

impl<'a> Value<'a> {
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Velocity 1.7 truthiness: null and false are false, all else true.
    pub(crate) fn truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    pub(crate) fn string(s: String) -> Self {
        Value::String(Rc::from(s))
    }

    pub(crate) fn new_list(v: Vec<Value<'a>>) -> Self {
        Value::List(Rc::new(RefCell::new(v)))
    }

    pub(crate) fn new_map(v: MapData<'a>) -> Self {
        Value::Map(Rc::new(RefCell::new(v)))
    }

    /// Converts a JSON node: scalars become values, containers stay borrowed.
    pub(crate) fn from_json(j: &'a Json<'a>) -> Self {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => number(n),
            Json::String(s) => Value::Str(s),
            Json::Array(_) | Json::Object(_) => Value::Json(j),
        }
    }

    /// Deep-copies owned JSON (from `$util.parseJson`) into values.
    pub(crate) fn from_owned_json(j: serde_json::Value) -> Self {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => number(&n),
            serde_json::Value::String(s) => Value::string(s),
            serde_json::Value::Array(a) => {
                Value::new_list(a.into_iter().map(Value::from_owned_json).collect())
            }
            serde_json::Value::Object(o) => Value::new_map(
                o.into_iter()
                    .map(|(k, v)| (Value::string(k), Value::from_owned_json(v)))
                    .collect(),
            ),
        }
    }

    /// The string content if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_))
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Java class family, for `equals` and for choosing methods.
    fn family(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Float(_) => 3,
            Value::Str(_) | Value::String(_) => 4,
            Value::List(_) => 5,
            Value::Json(Json::Array(_)) => 5,
            Value::Map(_) | Value::Json(_) => 6,
            _ => 7,
        }
    }

    /// Java `toString()`, appended to `out`, stopping once `out` is longer
    /// than [`MAX_PRINT_BYTES`] more than it was: lists that contain each
    /// other many times over must not print without end.
    pub(crate) fn write_java(&self, out: &mut String) {
        let limit = out.len().saturating_add(MAX_PRINT_BYTES);
        self.write_java_at(out, 0, limit);
    }

    /// `write_java` that stops once `out` is longer than `limit` bytes; the
    /// caller turns an overlong result into `RenderError::OutputTooLarge`.
    pub(crate) fn write_java_bounded(&self, out: &mut String, limit: usize) {
        self.write_java_at(out, 0, limit);
    }

    fn write_java_at(&self, out: &mut String, depth: usize, limit: usize) {
        if out.len() > limit {
            return;
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_java_double(*f, out),
            Value::Str(s) => out.push_str(s),
            Value::String(s) => out.push_str(s),
            Value::Json(j) => write_json_java(j, out),
            Value::List(_) | Value::Map(_) | Value::Entry(_) if depth >= MAX_PRINT_DEPTH => {
                out.push_str("...");
            }
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.borrow().iter().enumerate() {
                    if out.len() > limit {
                        return;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match v {
                        // Java's AbstractCollection.toString.
                        Value::List(inner) if Rc::ptr_eq(inner, l) => {
                            out.push_str("(this Collection)")
                        }
                        v => v.write_java_at(out, depth + 1, limit),
                    }
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if out.len() > limit {
                        return;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    for (j, x) in [k, v].into_iter().enumerate() {
                        if j == 1 {
                            out.push('=');
                        }
                        match x {
                            // Java's AbstractMap.toString.
                            Value::Map(inner) if Rc::ptr_eq(inner, m) => out.push_str("(this Map)"),
                            x => x.write_java_at(out, depth + 1, limit),
                        }
                    }
                }
                out.push('}');
            }
            Value::Entry(e) => {
                e.0.write_java_at(out, depth + 1, limit);
                out.push('=');
                e.1.write_java_at(out, depth + 1, limit);
            }
            Value::Loop(..) | Value::Block(_) => {}
            Value::Input | Value::Util | Value::Context => {}
            Value::ResponseOverride | Value::RequestOverride | Value::Overrides(_) => {}
        }
    }

    /// Java `toString()` as a new string (allocates; used for comparisons).
    pub(crate) fn to_java_string(&self) -> String {
        let mut s = String::new();
        self.write_java(&mut s);
        s
    }

    /// Java `equals`, extended with Velocity's `==` rules when `velocity_eq`:
    /// numbers compare by value and different classes compare as strings.
    /// Bounded: nested or shared collections stop comparing (as unequal)
    /// after [`MAX_EQ_STEPS`] element comparisons.
    pub(crate) fn java_eq(&self, other: &Value<'a>, velocity_eq: bool) -> bool {
        let mut budget = MAX_EQ_STEPS;
        self.java_eq_at(other, velocity_eq, &mut budget)
    }

    fn java_eq_at(&self, other: &Value<'a>, velocity_eq: bool, budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match (self, other) {
            (Value::Null, Value::Null) => return true,
            (Value::Null, _) | (_, Value::Null) => return false,
            (Value::List(a), Value::List(b)) if Rc::ptr_eq(a, b) => return true,
            (Value::Map(a), Value::Map(b)) if Rc::ptr_eq(a, b) => return true,
            _ => {}
        }
        if let (Some(a), Some(b)) = (self.as_f64(), other.as_f64()) {
            if velocity_eq || self.family() == other.family() {
                return match (self, other) {
                    (Value::Int(x), Value::Int(y)) => x == y,
                    _ => a == b,
                };
            }
            return false;
        }
        if let (Some(a), Some(b)) = (self.as_str(), other.as_str()) {
            return a == b;
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => return a == b,
            (Value::Json(a), Value::Json(b)) => return a == b,
            _ => {}
        }
        if self.family() == other.family() && self.family() == 5 {
            let a = list_items(self);
            let b = list_items(other);
            return a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| x.java_eq_at(y, false, budget));
        }
        if self.family() == other.family() && self.family() == 6 {
            // Java's AbstractMap.equals: same size, every key maps to an equal value.
            let a = map_entries(self);
            let b = map_entries(other);
            return a.len() == b.len()
                && a.iter().all(|(k, v)| {
                    b.iter()
                        .find(|(k2, _)| k.java_eq_at(k2, false, budget))
                        .is_some_and(|(_, v2)| v.java_eq_at(v2, false, budget))
                });
        }
        if velocity_eq && self.family() != other.family() {
            // Velocity compares different classes by their toString();
            // print no more of either side than the shorter string needs.
            let cap = match (self.as_str(), other.as_str()) {
                (Some(s), _) | (_, Some(s)) => s.len() + 1,
                _ => MAX_EQ_PRINT_BYTES,
            };
            let (mut x, mut y) = (String::new(), String::new());
            self.write_java_bounded(&mut x, cap);
            other.write_java_bounded(&mut y, cap);
            return x == y;
        }
        false
    }
}

/// Deepest collection nesting `toString()` prints before writing `...`.
const MAX_PRINT_DEPTH: usize = 64;
/// Most bytes one `toString()` of a value may add to a string.
pub(crate) const MAX_PRINT_BYTES: usize = 16 << 20;
/// Element comparisons one `equals` may make.
const MAX_EQ_STEPS: usize = 1_000_000;
/// Bytes printed per side when comparing two non-string values as strings.
const MAX_EQ_PRINT_BYTES: usize = 64 * 1024;

/// The entries of a map-like value (copies handles, not data).
fn map_entries<'a>(v: &Value<'a>) -> Vec<(Value<'a>, Value<'a>)> {
    match v {
        Value::Map(m) => m.borrow().clone(),
        Value::Json(Json::Object(o)) => o
            .iter()
            .map(|(k, v)| (Value::Str(k.as_ref()), Value::from_json(v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The elements of a list-like value (copies handles, not data).
pub(crate) fn list_items<'a>(v: &Value<'a>) -> Vec<Value<'a>> {
    match v {
        Value::List(l) => l.borrow().clone(),
        Value::Json(Json::Array(a)) => a.iter().map(Value::from_json).collect(),
        _ => Vec::new(),
    }
}

fn number<'a>(n: &serde_json::Number) -> Value<'a> {
    if let Some(i) = n.as_i64() {
        Value::Int(i)
    } else {
        Value::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Java's `Double.toString`.
pub(crate) fn write_java_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
    } else if (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        out.push_str(mant);
        if !mant.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

/// How API Gateway prints JSON taken with `$input.path`: objects as Java
/// maps (`{a=1, b=x}`), arrays as compact JSON.
pub(crate) fn write_json_java(j: &Json<'_>, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => number(n).write_java(out),
        Json::String(s) => out.push_str(s),
        Json::Array(_) => write_json_compact(j, out),
        Json::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_json_java(v, out);
            }
            out.push('}');
        }
    }
}

/// Compact JSON text, as `$input.json` produces.
pub(crate) fn write_json_compact(j: &Json<'_>, out: &mut String) {
    j.write_compact(out);
}
