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
fn execute_api_id<'a>(host: &'a str, domain_suffix: &str) -> Option<&'a str> {
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

/// The method of `stage` for the request: 403 Missing Authentication Token when none.
pub fn method(
    stage: &Arc<CompiledStage>,
    parts: &Parts,
    path_start: usize,
) -> Result<Routed, GatewayError> {
    let path = parts.uri.path().get(path_start..).unwrap_or("");
    let mut captures = Vec::new();
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

    #[test]
    fn unknown_stage_is_forbidden() {
        let p = parts("abc.execute-api.localhost", "/prod/x");
        let err = route(&GatewayState::default(), "abc", "prod", &p, 5, false).unwrap_err();
        assert!(matches!(err, GatewayError::Forbidden));
    }
}
