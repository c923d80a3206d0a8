//! Integration URIs compiled into a fixed scheme/authority and a path template with `{name}`
//! slots, so a request only concatenates strings to build the backend URI.
//!
//! `${stageVariables.x}` is substituted when the stage is compiled (stage variables are
//! fixed per compiled stage); `{name}` / `{name+}` are filled per request.

use std::collections::BTreeMap;

use http::header::HeaderValue;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::Uri;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters encoded in a value placed into a path segment (RFC 3986 `pchar` stays).
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Characters encoded in a query key or value (only unreserved characters stay).
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a value for a path segment (`/` included).
pub fn encode_path_value(value: &str) -> impl Iterator<Item = &str> {
    utf8_percent_encode(value, PATH_VALUE)
}

/// Percent-encodes a query-string key or value.
pub fn encode_query_component(value: &str) -> impl Iterator<Item = &str> {
    utf8_percent_encode(value, QUERY_COMPONENT)
}

/// Why an integration URI was rejected at compile time.
#[derive(Debug, thiserror::Error)]
pub enum UriError {
    /// Only absolute `http://` and `https://` URIs are integration endpoints.
    #[error("must be an absolute http:// or https:// URL")]
    NotHttp,
    /// The host[:port] part is not valid.
    #[error("invalid host: {0}")]
    Authority(#[from] http::uri::InvalidUri),
    /// A `{` without its `}`, or an empty `{}`.
    #[error("malformed path placeholder")]
    Placeholder,
    /// The path or query contains characters not allowed in a URI.
    #[error("invalid path or query")]
    PathAndQuery,
}

/// One piece of the path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriPart {
    /// Text copied as is.
    Literal(Box<str>),
    /// A `{name}` slot; the index is into [`UriTemplate::slot_names`].
    Slot(usize),
}

/// A compiled integration URI.
#[derive(Debug, Clone)]
pub struct UriTemplate {
    scheme: Scheme,
    authority: Authority,
    host: HeaderValue,
    parts: Vec<UriPart>,
    slot_names: Vec<Box<str>>,
    query: Option<Box<str>>,
    literal_len: usize,
}

/// Replaces every `${stageVariables.name}` with the variable's value (empty when unset,
/// as API Gateway does).
pub fn substitute_stage_variables(uri: &str, variables: &BTreeMap<String, String>) -> String {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        out.push_str(&rest[..start]);
        if let Some(value) = variables.get(&after[..end]) {
            out.push_str(value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

impl UriTemplate {
    /// Compiles an integration URI (stage variables already substituted).
    pub fn compile(uri: &str) -> Result<Self, UriError> {
        let (scheme, rest) = if let Some(rest) = uri.strip_prefix("http://") {
            (Scheme::HTTP, rest)
        } else if let Some(rest) = uri.strip_prefix("https://") {
            (Scheme::HTTPS, rest)
        } else {
            return Err(UriError::NotHttp);
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority: Authority = rest[..authority_end].parse()?;
        if authority.host().is_empty() {
            return Err(UriError::NotHttp);
        }
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| UriError::NotHttp)?;
        let (path, query) = match rest[authority_end..].split_once('?') {
            Some((path, query)) => (path, (!query.is_empty()).then(|| Box::<str>::from(query))),
            None => (&rest[authority_end..], None),
        };
        let mut template = UriTemplate {
            scheme,
            authority,
            host,
            parts: Vec::new(),
            slot_names: Vec::new(),
            query,
            literal_len: 0,
        };
        template.parse_path(if path.is_empty() { "/" } else { path })?;
        // Validate once with every slot filled, so rendering can only fail on values.
        let sample = template.render(|_, out| out.push('x'), None, "");
        sample.map_err(|_| UriError::PathAndQuery)?;
        Ok(template)
    }

    fn parse_path(&mut self, path: &str) -> Result<(), UriError> {
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').ok_or(UriError::Placeholder)? + open;
            let name = rest[open + 1..close].trim_end_matches('+');
            if name.is_empty() {
                return Err(UriError::Placeholder);
            }
            self.push_literal(&rest[..open]);
            let slot = match self.slot_names.iter().position(|n| n.as_ref() == name) {
                Some(slot) => slot,
                None => {
                    self.slot_names.push(name.into());
                    self.slot_names.len() - 1
                }
            };
            self.parts.push(UriPart::Slot(slot));
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(UriError::Placeholder);
        }
        self.push_literal(rest);
        Ok(())
    }

    fn push_literal(&mut self, text: &str) {
        if !text.is_empty() {
            self.literal_len += text.len();
            self.parts.push(UriPart::Literal(text.into()));
        }
    }

    /// The `{name}` slots of the path, in first-appearance order.
    pub fn slot_names(&self) -> &[Box<str>] {
        &self.slot_names
    }

    /// The `Host` header value for requests to this backend.
    pub fn host(&self) -> &HeaderValue {
        &self.host
    }

    /// Builds the backend URI: slots filled by `fill`, then the template's own query, the
    /// incoming query and the mapped query (already `k=v&...` encoded), joined with `&`.
    pub fn render(
        &self,
        mut fill: impl FnMut(usize, &mut String),
        incoming_query: Option<&str>,
        mapped_query: &str,
    ) -> Result<Uri, http::Error> {
        let incoming = incoming_query.unwrap_or("");
        let template_query = self.query.as_deref().unwrap_or("");
        let mut pq = String::with_capacity(
            self.literal_len + 32 + incoming.len() + mapped_query.len() + template_query.len(),
        );
        for part in &self.parts {
            match part {
                UriPart::Literal(text) => pq.push_str(text),
                UriPart::Slot(slot) => fill(*slot, &mut pq),
            }
        }
        let mut separator = '?';
        for query in [template_query, incoming, mapped_query] {
            if !query.is_empty() {
                pq.push(separator);
                pq.push_str(query);
                separator = '&';
            }
        }
        let path_and_query = PathAndQuery::try_from(pq)?;
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_stage_variables_anywhere() {
        let vars = BTreeMap::from([
            ("host".to_owned(), "backend:8080".to_owned()),
            ("v".to_owned(), "v2".to_owned()),
        ]);
        assert_eq!(
            substitute_stage_variables(
                "http://${stageVariables.host}/${stageVariables.v}/x",
                &vars
            ),
            "http://backend:8080/v2/x"
        );
        assert_eq!(
            substitute_stage_variables("http://h/${stageVariables.none}y", &vars),
            "http://h/y"
        );
        assert_eq!(
            substitute_stage_variables("http://h/${stageVariables.open", &vars),
            "http://h/${stageVariables.open"
        );
    }

    #[test]
    fn renders_slots_and_queries() {
        let t = UriTemplate::compile("http://example.com:8080/api/{id}/files/{proxy+}?fixed=1")
            .unwrap();
        assert_eq!(
            t.slot_names(),
            &["id".into(), "proxy".into()] as &[Box<str>]
        );
        assert_eq!(t.host(), "example.com:8080");
        let values = ["42", "a/b/c.txt"];
        let uri = t
            .render(
                |slot, out| out.push_str(values[slot]),
                Some("q=1&r=2"),
                "m=x%20y",
            )
            .unwrap();
        assert_eq!(
            uri.to_string(),
            "http://example.com:8080/api/42/files/a/b/c.txt?fixed=1&q=1&r=2&m=x%20y"
        );
    }

    #[test]
    fn bare_host_gets_root_path() {
        let t = UriTemplate::compile("https://example.com").unwrap();
        let uri = t.render(|_, _| {}, Some("a=1"), "").unwrap();
        assert_eq!(uri.to_string(), "https://example.com/?a=1");
    }

    #[test]
    fn rejects_bad_uris() {
        assert!(matches!(
            UriTemplate::compile("ftp://x/"),
            Err(UriError::NotHttp)
        ));
        assert!(matches!(
            UriTemplate::compile("example.com/x"),
            Err(UriError::NotHttp)
        ));
        assert!(UriTemplate::compile("http:///path").is_err());
        assert!(matches!(
            UriTemplate::compile("http://h/{id"),
            Err(UriError::Placeholder)
        ));
        assert!(matches!(
            UriTemplate::compile("http://h/{}"),
            Err(UriError::Placeholder)
        ));
        assert!(matches!(
            UriTemplate::compile("http://h/a b"),
            Err(UriError::PathAndQuery)
        ));
        assert!(UriTemplate::compile("http://bad host/").is_err());
    }

    #[test]
    fn encodes_values() {
        assert_eq!(
            encode_path_value("a/b c%").collect::<String>(),
            "a%2Fb%20c%25"
        );
        assert_eq!(
            encode_query_component("a=b&c").collect::<String>(),
            "a%3Db%26c"
        );
    }
}
