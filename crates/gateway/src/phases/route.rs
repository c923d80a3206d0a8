//! Step 1, route: recognise the invoke URL, find the stage, choose its deployment (the
//! canary's with probability `percentTraffic`, see [`CompiledStage::pick`]), then the
//! resource (route trie) and the method (exact, then `ANY`).
//!
//! Invoke URLs: Host `{apiId}.{execute-api-domain}[:port]` with path `/{stage}/{path}`, or
//! on any host `/restapis/{apiId}/{stage}/_user_request_/{path}`, or a custom domain name's
//! host (port ignored): its longest matching base path picks (API, stage) and is stripped
//! before resource matching (`compile::domain`); an API's `disableExecuteApiEndpoint`
//! closes the first two forms only. An unknown API or stage
//! is 403 Forbidden; a known stage without a matching route is 403 Missing
//! Authentication Token, as in API Gateway.

use std::sync::Arc;

use http::header::HOST;
use http::request::Parts;

use crate::compile::domain::CompiledDomains;
use crate::compile::route_trie::Capture;
use crate::compile::{CompiledMethod, CompiledStage};
use crate::error::GatewayError;
use crate::state::GatewayState;

/// What a request is addressed to.
#[derive(Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// A deployed API: `path_start` is where the stage-relative path begins in the URI path.
    Invoke {
        /// The API id.
        api_id: &'a str,
        /// The stage name (may be empty: then no stage matches).
        stage: &'a str,
        /// Byte offset of the stage-relative path in `uri.path()`.
        path_start: usize,
        /// Addressed through a custom domain name (served even when the API disables its
        /// execute-api endpoint).
        custom_domain: bool,
    },
    /// Not an invoke URL (the node's own endpoints, or nothing).
    Other,
}

/// The result of routing: everything later steps need, owned (no borrow of the state).
#[derive(Debug)]
pub struct Routed {
    /// The stage serving the request: its own deployment, or its canary's
    /// ([`CompiledStage::is_canary`]).
    pub stage: Arc<CompiledStage>,
    /// The matched method.
    pub method: Arc<CompiledMethod>,
    /// Path parameters, as ranges of the stage-relative path.
    pub captures: Vec<Capture>,
    /// Byte offset of the stage-relative path in `uri.path()`.
    pub path_start: usize,
}

impl Routed {
    /// The stage-relative path (`/pets/1`) within the request's URI path.
    pub fn stage_path<'a>(&self, uri_path: &'a str) -> &'a str {
        uri_path.get(self.path_start..).unwrap_or("")
    }
}

/// Classifies a request by Host and path. `domain_suffix` is `.{execute-api-domain}` in
/// lowercase; `domains` the node's custom domain names.
pub fn classify<'a>(
    parts: &'a Parts,
    domain_suffix: &str,
    domains: &'a CompiledDomains,
) -> Target<'a> {
    let path = parts.uri.path();
    let host = parts
        .uri
        .host()
        .or_else(|| parts.headers.get(HOST).and_then(|h| h.to_str().ok()));
    if let Some(api_id) = host.and_then(|h| execute_api_id(h, domain_suffix)) {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let stage = rest.split('/').next().unwrap_or("");
        let path_start = (path.len() - rest.len() + stage.len()).min(path.len());
        return Target::Invoke {
            api_id,
            stage,
            path_start,
            custom_domain: false,
        };
    }
    if let Some(domain) = host.and_then(|h| domains.get(h)) {
        return match domain.route(path) {
            Some(r) => Target::Invoke {
                api_id: r.api_id,
                stage: r.stage,
                path_start: r.path_start,
                custom_domain: true,
            },
            // No base path matches: API Gateway answers 403 Forbidden.
            None => Target::Invoke {
                api_id: "",
                stage: "",
                path_start: path.len(),
                custom_domain: true,
            },
        };
    }
    user_request(path).unwrap_or(Target::Other)
}

/// `{apiId}` when `host` (optionally with `:port`) is `{apiId}{domain_suffix}`.
pub fn execute_api_id<'a>(host: &'a str, domain_suffix: &str) -> Option<&'a str> {
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let split = host.len().checked_sub(domain_suffix.len())?;
    let (api_id, tail) = (host.get(..split)?, host.get(split..)?);
    (tail.eq_ignore_ascii_case(domain_suffix) && !api_id.is_empty() && !api_id.contains('.'))
        .then_some(api_id)
}

/// `/restapis/{apiId}/{stage}/_user_request_/{path}` on any host.
fn user_request(path: &str) -> Option<Target<'_>> {
    let rest = path.strip_prefix("/restapis/")?;
    let (api_id, rest) = rest.split_once('/')?;
    let (stage, rest) = rest.split_once('/')?;
    let after = rest.strip_prefix("_user_request_")?;
    if !(after.is_empty() || after.starts_with('/')) || api_id.is_empty() {
        return None;
    }
    Some(Target::Invoke {
        api_id,
        stage,
        path_start: path.len() - after.len(),
        custom_domain: false,
    })
}

/// Resolves the dot segments (`.`, `..`, also percent-encoded as `%2e`) of an invoke
/// request's stage-relative path (RFC 3986 §5.2.4), as nginx does, so routing, path
/// parameters and `{proxy+}` see the normalised path and a mapped backend path can never
/// climb out of its prefix. Refused with 400: a `..` that would climb above the stage's
/// root (nginx: 400 too), and a dot segment hidden behind an encoded separator
/// (`..%2f`, `..%5c`), which a backend decoding it would resolve but which cannot be
/// resolved here without changing what the API receives. Most paths have neither dots
/// at a segment's start nor `%2e`/`%2f`/`%5c`, and cost one scan of the path.
pub fn normalize_dot_segments(
    parts: &mut Parts,
    domain_suffix: &str,
    domains: &CompiledDomains,
) -> Result<(), GatewayError> {
    if !may_hold_dot_segments(parts.uri.path().as_bytes()) {
        return Ok(());
    }
    let path_start = match classify(parts, domain_suffix, domains) {
        Target::Invoke { path_start, .. } => path_start,
        Target::Other => return Ok(()),
    };
    let path = parts.uri.path();
    let Some(resolved) = resolve(path.get(path_start..).unwrap_or(""))? else {
        return Ok(());
    };
    let mut path_and_query = String::with_capacity(path.len() + 1);
    path_and_query.push_str(&path[..path_start]);
    path_and_query.push_str(&resolved);
    if let Some(query) = parts.uri.query() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    uri.path_and_query = Some(
        http::uri::PathAndQuery::try_from(path_and_query)
            .map_err(|_| GatewayError::BadRequest("invalid request path"))?,
    );
    parts.uri =
        http::Uri::from_parts(uri).map_err(|_| GatewayError::BadRequest("invalid request path"))?;
    Ok(())
}

/// Whether `path` holds a dot segment (`.`, `..`, either percent-encoded as `%2e`), or
/// one hidden behind an encoded separator, anywhere (the stage segment included). HTTP
/// API stages refuse such paths with 400 instead of resolving them, as AWS does.
pub fn has_dot_segments(path: &str) -> bool {
    may_hold_dot_segments(path.as_bytes())
        && path
            .split('/')
            .any(|raw| segment_kind(raw) != Segment::Other || hides_dot_segment(raw))
}

/// Whether some segment of `path` starts with `.`, or it holds `%2e`, `%2f` or `%5c`
/// (any case), or a backslash.
fn may_hold_dot_segments(path: &[u8]) -> bool {
    path.iter().enumerate().any(|(i, &b)| match b {
        b'.' => i == 0 || path[i - 1] == b'/',
        b'\\' => true,
        b'%' => matches!(
            (path.get(i + 1), path.get(i + 2).map(u8::to_ascii_lowercase)),
            (Some(b'2'), Some(b'e' | b'f')) | (Some(b'5'), Some(b'c'))
        ),
        _ => false,
    })
}

/// What a raw path segment is, with `%2e` read as `.`.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Current,
    Parent,
    Other,
}

fn segment_kind(raw: &str) -> Segment {
    let mut dots = 0;
    let mut rest = raw.as_bytes();
    while !rest.is_empty() {
        match rest {
            [b'.', tail @ ..] => rest = tail,
            [b'%', b'2', e, tail @ ..] if e.eq_ignore_ascii_case(&b'e') => rest = tail,
            _ => return Segment::Other,
        }
        dots += 1;
    }
    match dots {
        1 => Segment::Current,
        2 => Segment::Parent,
        _ => Segment::Other,
    }
}

/// Whether a segment hides a dot segment behind an encoded `/` or `\` (or a raw `\`).
fn hides_dot_segment(raw: &str) -> bool {
    let mut pieces = Vec::new();
    let mut start = 0;
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let width = match &bytes[i..] {
            [b'\\', ..] => 1,
            [b'%', b'2', f, ..] if f.eq_ignore_ascii_case(&b'f') => 3,
            [b'%', b'5', c, ..] if c.eq_ignore_ascii_case(&b'c') => 3,
            _ => 0,
        };
        if width == 0 {
            i += 1;
            continue;
        }
        pieces.push(&raw[start..i]);
        i += width;
        start = i;
    }
    if pieces.is_empty() {
        return false;
    }
    pieces.push(&raw[start..]);
    pieces.iter().any(|p| segment_kind(p) != Segment::Other)
}

/// The stage-relative `path` with its dot segments resolved, `None` when it has none.
fn resolve(path: &str) -> Result<Option<String>, GatewayError> {
    let Some(rest) = path.strip_prefix('/') else {
        return Ok(None);
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut changed = false;
    let mut trailing_slash = false;
    for raw in rest.split('/') {
        trailing_slash = false;
        match segment_kind(raw) {
            Segment::Current => {
                changed = true;
                trailing_slash = true;
            }
            Segment::Parent => {
                changed = true;
                trailing_slash = true;
                if kept.pop().is_none() {
                    return Err(GatewayError::BadRequest(
                        "the path climbs above the stage's root",
                    ));
                }
            }
            Segment::Other if hides_dot_segment(raw) => {
                return Err(GatewayError::BadRequest(
                    "the path hides a dot segment behind an encoded separator",
                ));
            }
            Segment::Other => kept.push(raw),
        }
    }
    if !changed {
        return Ok(None);
    }
    let mut out = String::with_capacity(path.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || out.is_empty() {
        out.push('/');
    }
    Ok(Some(out))
}

/// Finds the stage and the method for a classified invoke request.
pub fn route(
    state: &GatewayState,
    api_id: &str,
    stage: &str,
    parts: &Parts,
    path_start: usize,
    custom_domain: bool,
) -> Result<Routed, GatewayError> {
    method(
        find_stage(state, api_id, stage, custom_domain)?,
        parts,
        path_start,
    )
}

/// The compiled deployment serving a request of the stage: 403 Forbidden for an unknown
/// stage (or one whose execute-api endpoint is disabled); the canary's with probability
/// `percentTraffic` ([`CompiledStage::pick`]). A disabled execute-api endpoint does not
/// close a `custom_domain` request.
pub fn find_stage<'s>(
    state: &'s GatewayState,
    api_id: &str,
    stage: &str,
    custom_domain: bool,
) -> Result<&'s Arc<CompiledStage>, GatewayError> {
    Ok(state
        .stage(api_id, stage)
        .filter(|s| custom_domain || !s.execute_api_disabled)
        .ok_or(GatewayError::Forbidden)?
        .pick())
}

/// The stage serving an invoke request, and where its stage-relative path starts: the
/// named stage when the first segment names one (REST or HTTP API); else, on the
/// execute-api host, an HTTP API's `$default` stage, whose URLs have no stage segment.
/// Unknown: 404 Not Found for an HTTP API, 403 Forbidden otherwise; a disabled
/// execute-api endpoint is 403 Forbidden (custom domains still serve it).
pub fn resolve_stage<'s>(
    state: &'s GatewayState,
    api_id: &str,
    stage: &str,
    path: &str,
    path_start: usize,
    custom_domain: bool,
) -> Result<(&'s Arc<CompiledStage>, usize), GatewayError> {
    let named = |found: &'s Arc<CompiledStage>| {
        if !custom_domain && found.execute_api_disabled {
            return Err(GatewayError::Forbidden);
        }
        Ok((found.pick(), path_start))
    };
    if let Some(found) = state.rest_stage(api_id, stage) {
        return named(found);
    }
    match state.http_stage_or_default(api_id, stage) {
        Some(Some((found, false))) => named(found),
        None => Err(GatewayError::Forbidden),
        Some(_) if custom_domain || path.starts_with("/restapis/") => Err(GatewayError::Forbidden),
        Some(Some((default, true))) => {
            if default.execute_api_disabled {
                return Err(GatewayError::Forbidden);
            }
            // `/{first}/…` is the stage-relative path itself.
            let start = path_start.saturating_sub(stage.len() + usize::from(path.starts_with('/')));
            Ok((default, start))
        }
        Some(None) => Err(GatewayError::NotFound),
    }
}

/// The method of `stage` for the request: 403 Missing Authentication Token when none.
/// HTTP API stages: the most specific path whose route has the request's method (or
/// `ANY`), else the `$default` route, else 404 Not Found.
pub fn method(
    stage: &Arc<CompiledStage>,
    parts: &Parts,
    path_start: usize,
) -> Result<Routed, GatewayError> {
    let path = parts.uri.path().get(path_start..).unwrap_or("");
    let mut captures = Vec::new();
    if let Some(http) = &stage.http {
        let method = match stage
            .routes
            .find_where(path, &mut captures, |m| m.get(&parts.method))
        {
            Some(method) => method,
            None => {
                captures.clear();
                http.default_route.as_ref().ok_or(GatewayError::NotFound)?
            }
        };
        return Ok(Routed {
            stage: Arc::clone(stage),
            method: Arc::clone(method),
            captures,
            path_start,
        });
    }
    let method = stage
        .routes
        .find(path, &mut captures)
        .and_then(|methods| methods.get(&parts.method))
        .ok_or(GatewayError::MissingAuthenticationToken)?;
    Ok(Routed {
        stage: Arc::clone(stage),
        method: Arc::clone(method),
        captures,
        path_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    fn parts(host: &str, uri: &str) -> Parts {
        Request::builder()
            .uri(uri)
            .header(HOST, host)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    const SUFFIX: &str = ".execute-api.localhost";
    static NONE: std::sync::LazyLock<CompiledDomains> =
        std::sync::LazyLock::new(CompiledDomains::default);

    #[test]
    fn classifies_execute_api_hosts() {
        let p = parts("abc123.execute-api.localhost:8081", "/prod/pets/1?x=1");
        assert_eq!(
            classify(&p, SUFFIX, &NONE),
            Target::Invoke {
                api_id: "abc123",
                stage: "prod",
                path_start: 5,
                custom_domain: false
            }
        );
        assert_eq!(&p.uri.path()[5..], "/pets/1");
        let p = parts("ABC.Execute-API.localhost", "/prod");
        assert_eq!(
            classify(&p, SUFFIX, &NONE),
            Target::Invoke {
                api_id: "ABC",
                stage: "prod",
                path_start: 5,
                custom_domain: false
            }
        );
        let p = parts("abc.execute-api.localhost", "/");
        assert_eq!(
            classify(&p, SUFFIX, &NONE),
            Target::Invoke {
                api_id: "abc",
                stage: "",
                path_start: 1,
                custom_domain: false
            }
        );
        assert_eq!(
            classify(&parts("execute-api.localhost", "/prod/x"), SUFFIX, &NONE),
            Target::Other
        );
        assert_eq!(
            classify(
                &parts("a.b.execute-api.localhost", "/prod/x"),
                SUFFIX,
                &NONE
            ),
            Target::Other
        );
        assert_eq!(
            classify(&parts("localhost:8081", "/healthz"), SUFFIX, &NONE),
            Target::Other
        );
    }

    #[test]
    fn classifies_user_request_paths() {
        let p = parts("127.0.0.1:8081", "/restapis/abc/prod/_user_request_/pets/1");
        let Target::Invoke {
            api_id,
            stage,
            path_start,
            ..
        } = classify(&p, SUFFIX, &NONE)
        else {
            panic!()
        };
        assert_eq!(
            (api_id, stage, &p.uri.path()[path_start..]),
            ("abc", "prod", "/pets/1")
        );
        let p = parts("h", "/restapis/abc/prod/_user_request_");
        let Target::Invoke { path_start, .. } = classify(&p, SUFFIX, &NONE) else {
            panic!()
        };
        assert_eq!(&p.uri.path()[path_start..], "");
        assert_eq!(
            classify(&parts("h", "/restapis/abc/prod/other/x"), SUFFIX, &NONE),
            Target::Other
        );
        assert_eq!(
            classify(
                &parts("h", "/restapis/abc/prod/_user_request_x"),
                SUFFIX,
                &NONE
            ),
            Target::Other
        );
    }

    fn normalized(uri: &str) -> Result<String, &'static str> {
        let mut p = parts("abc.execute-api.localhost", uri);
        match normalize_dot_segments(&mut p, SUFFIX, &NONE) {
            Ok(()) => Ok(p.uri.to_string()),
            Err(GatewayError::BadRequest(why)) => Err(why),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn dot_segments_are_found_anywhere_in_the_path() {
        for dotted in [
            "/..",
            "/../x",
            "/a/./b",
            "/a/b/.",
            "/a/%2e%2e/b",
            "/%2E/b",
            "/a/.%2e",
            "/a/..%2fb",
            "/a/b%5c..",
        ] {
            assert!(has_dot_segments(dotted), "{dotted}");
        }
        for plain in [
            "/",
            "/a/b",
            "/a/.well-known",
            "/a/...",
            "/a/..b",
            "/a/b.c",
            "/a%2eb",
        ] {
            assert!(!has_dot_segments(plain), "{plain}");
        }
    }

    #[test]
    fn dot_segments_are_resolved_within_the_stage() {
        for (given, want) in [
            ("/prod/p/a/../b?x=1", "/prod/p/b?x=1"),
            ("/prod/p/./b", "/prod/p/b"),
            ("/prod/p/%2e%2E/b", "/prod/b"),
            ("/prod/p/.%2e/", "/prod/"),
            ("/prod/p/a/..", "/prod/p/"),
            ("/prod/p/..", "/prod/"),
            ("/prod/p/...", "/prod/p/..."),
            ("/prod/p/.well-known/x", "/prod/p/.well-known/x"),
            ("/prod/p/a%2Fb", "/prod/p/a%2Fb"),
            ("/prod/p/a.b/c", "/prod/p/a.b/c"),
        ] {
            assert_eq!(normalized(given).as_deref(), Ok(want), "{given}");
        }
        let p = "/restapis/abc/prod/_user_request_/p/x/../y";
        let mut r = parts("127.0.0.1", p);
        normalize_dot_segments(&mut r, SUFFIX, &NONE).unwrap();
        assert_eq!(r.uri.path(), "/restapis/abc/prod/_user_request_/p/y");
    }

    #[test]
    fn climbing_out_of_the_stage_or_hidden_dots_are_refused() {
        for given in [
            "/prod/p/../../etc/passwd",
            "/prod/../test/x",
            "/prod/p/%2e%2e/%2e%2e/etc",
        ] {
            assert!(normalized(given).is_err(), "{given}");
        }
        let mut p = parts("127.0.0.1", "/restapis/abc/prod/_user_request_/../x");
        assert!(normalize_dot_segments(&mut p, SUFFIX, &NONE).is_err());
        for given in [
            "/prod/p/..%2f..%2fetc%2fpasswd",
            "/prod/p/..%2F",
            "/prod/p/x%5c..%5cy",
            "/prod/p/%2e%2e%2fetc",
        ] {
            assert!(normalized(given).is_err(), "{given}");
        }
        // Not an invoke URL: left alone.
        let mut p = parts("localhost", "/a/../healthz");
        normalize_dot_segments(&mut p, SUFFIX, &NONE).unwrap();
        assert_eq!(p.uri.path(), "/a/../healthz");
    }

    #[test]
    fn unknown_stage_is_forbidden() {
        let p = parts("abc.execute-api.localhost", "/prod/x");
        let err = route(&GatewayState::default(), "abc", "prod", &p, 5, false).unwrap_err();
        assert!(matches!(err, GatewayError::Forbidden));
    }
}
