//! A JSON document that borrows from the text it was parsed from: strings
//! without escapes point into the request body, objects keep their keys in
//! document order in a vector. Parsing a body this way allocates one vector
//! per array or object instead of one string per key and value plus a hash
//! table per object, which is most of the cost of a render.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// A JSON value; `'a` is the lifetime of the parsed text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Doc<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Doc<'a>>),
    Object(Obj<'a>),
}

/// A JSON object: entries in document order; a repeated key keeps its first
/// position and its last value, as `serde_json` (and Jackson) do.
#[derive(Debug, Clone, Default)]
pub(crate) struct Obj<'a>(Vec<(Cow<'a, str>, Doc<'a>)>);

/// Objects up to this size find duplicate keys by scanning.
const SCAN_LIMIT: usize = 32;

impl<'a> Obj<'a> {
    /// Looks a key up (linear: request objects are small, and this avoids
    /// hashing and a table per object).
    pub(crate) fn get(&self, key: &str) -> Option<&Doc<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Cow<'a, str>, &Doc<'a>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Doc<'a>> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Adds an entry while parsing: a repeated key overwrites the value in
    /// place. Small objects find repeats by scanning, large ones through
    /// `index`, built once the object outgrows [`SCAN_LIMIT`].
    fn insert(
        &mut self,
        k: Cow<'a, str>,
        v: Doc<'a>,
        index: &mut Option<std::collections::HashMap<Cow<'a, str>, usize>>,
    ) {
        let existing = match index {
            Some(ix) => ix.get(&k).copied(),
            None => self
                .0
                .iter()
                .position(|(x, _)| x.len() == k.len() && *x == k),
        };
        if let Some(i) = existing {
            self.0[i].1 = v;
            return;
        }
        if let Some(ix) = index {
            ix.insert(k.clone(), self.0.len());
        }
        self.0.push((k, v));
        if index.is_none() && self.0.len() > SCAN_LIMIT {
            *index = Some(
                self.0
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            );
        }
    }
}

impl PartialEq for Obj<'_> {
    /// Order-insensitive, like `serde_json::Map` and Java's `Map.equals`.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<'a> Doc<'a> {
    pub(crate) fn as_object(&self) -> Option<&Obj<'a>> {
        match self {
            Doc::Object(o) => Some(o),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Doc<'a>]> {
        match self {
            Doc::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Parses JSON text, borrowing unescaped strings from it.
    pub(crate) fn parse(text: &'a str) -> Result<Doc<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Views a `serde_json::Value` (the caller's `$context`) as a document.
    pub(crate) fn from_serde(v: &'a serde_json::Value) -> Doc<'a> {
        match v {
            serde_json::Value::Null => Doc::Null,
            serde_json::Value::Bool(b) => Doc::Bool(*b),
            serde_json::Value::Number(n) => Doc::Number(n.clone()),
            serde_json::Value::String(s) => Doc::String(Cow::Borrowed(s)),
            serde_json::Value::Array(a) => Doc::Array(a.iter().map(Doc::from_serde).collect()),
            serde_json::Value::Object(o) => Doc::Object(Obj(o
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Doc::from_serde(v)))
                .collect())),
        }
    }

    /// Copies every borrowed string, detaching the document from its text.
    pub(crate) fn into_owned(self) -> Doc<'static> {
        match self {
            Doc::Null => Doc::Null,
            Doc::Bool(b) => Doc::Bool(b),
            Doc::Number(n) => Doc::Number(n),
            Doc::String(s) => Doc::String(Cow::Owned(s.into_owned())),
            Doc::Array(a) => Doc::Array(a.into_iter().map(Doc::into_owned).collect()),
            Doc::Object(o) => Doc::Object(Obj(o
                .0
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                .collect())),
        }
    }

    /// Compact JSON text, byte for byte what `serde_json::to_string` writes.
    pub(crate) fn write_compact(&self, out: &mut String) {
        match self {
            Doc::Null => out.push_str("null"),
            Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Doc::Number(n) => {
                use fmt::Write as _;
                let _ = write!(out, "{n}");
            }
            Doc::String(s) => write_json_string(s, out),
            Doc::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_compact(out);
                }
                out.push(']');
            }
            Doc::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write_compact(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string literal with `serde_json`'s escaping.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A key that borrows from the text when it can.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Doc<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Doc<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Doc<'de>, E> {
                Ok(Doc::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Doc<'de>, E> {
                Ok(Doc::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Doc<'de>, E> {
                Ok(Doc::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Doc<'de>, E> {
                Ok(Number::from_f64(n).map_or(Doc::Null, Doc::Number))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Doc<'de>, E> {
                Ok(Doc::String(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Doc<'de>, E> {
                Ok(Doc::String(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Doc<'de>, E> {
                Ok(Doc::String(Cow::Owned(s)))
            }
            fn visit_unit<E>(self) -> Result<Doc<'de>, E> {
                Ok(Doc::Null)
            }
            fn visit_none<E>(self) -> Result<Doc<'de>, E> {
                Ok(Doc::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Doc<'de>, D::Error> {
                Doc::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc<'de>, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(Doc::Array(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc<'de>, A::Error> {
                let mut obj = Obj(Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096)));
                let mut index = None;
                while let Some(Key(k)) = map.next_key()? {
                    let v = map.next_value()?;
                    obj.insert(k, v, &mut index);
                }
                Ok(Doc::Object(obj))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_and_matches_serde_json() {
        let text = r#"{"a":"x","b":"q\"uote\u0001","n":[1,-2,2.5,1e21,18446744073709551615],"a":"last","o":{}}"#;
        let doc = Doc::parse(text).expect("parses");
        let Doc::Object(o) = &doc else {
            panic!("object")
        };
        assert!(matches!(
            o.get("a"),
            Some(Doc::String(Cow::Borrowed("last")))
        ));
        assert_eq!(o.len(), 4, "duplicate key keeps one entry");
        let mut ours = String::new();
        doc.write_compact(&mut ours);
        let theirs: serde_json::Value = serde_json::from_str(text).expect("serde");
        assert_eq!(ours, serde_json::to_string(&theirs).expect("to_string"));
        assert_eq!(Doc::from_serde(&theirs), doc);
    }

    #[test]
    fn many_duplicate_keys_stay_linear() {
        let mut text = String::from("{");
        for i in 0..5000 {
            text.push_str(&format!("\"k{}\":{i},", i % 100));
        }
        text.push_str("\"end\":0}");
        let Doc::Object(o) = Doc::parse(&text).expect("parses") else {
            panic!("object")
        };
        assert_eq!(o.len(), 101);
        assert_eq!(o.get("k7"), Some(&Doc::Number(4907.into())));
    }
}
