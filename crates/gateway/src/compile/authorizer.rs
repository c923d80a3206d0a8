//! Authorizers and the methods' authorization, compiled once per stage: which identity a
//! request must carry, how it is checked, and which function (Lambda authorizers) or
//! issuers (COGNITO_USER_POOLS) decide.
//!
//! The grammar of `identitySource` lives here, once: the control plane checks an
//! authorizer by calling [`check`] when it is saved, and the node compiles the same text.
//!
//! - TOKEN and COGNITO_USER_POOLS: exactly one `method.request.header.{Name}`.
//! - REQUEST: a comma-separated list of `method.request.header.X`,
//!   `method.request.multivalueheader.X`, `method.request.querystring.X`,
//!   `method.request.multivaluequerystring.X`, `stageVariables.X`, `context.X`; required
//!   when results are cached (TTL > 0), optional otherwise.

use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config as pb;
use http::header::HeaderName;

use super::function::{self, FunctionTarget, FunctionUriError};
use super::mapping::{MappingError, SourceScope, ValueSource};

/// The largest result TTL API Gateway accepts (1 hour).
pub const MAX_TTL_SECONDS: i32 = 3600;

/// Why an authorizer cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    /// Not TOKEN, REQUEST or COGNITO_USER_POOLS.
    #[error("invalid authorizer type {0:?}: must be TOKEN, REQUEST or COGNITO_USER_POOLS")]
    Type(String),
    /// TOKEN / COGNITO_USER_POOLS need one header source.
    #[error("invalid identity source {0:?}: must be method.request.header.{{name}} for this type")]
    HeaderSource(String),
    /// A REQUEST source outside the grammar.
    #[error("invalid identity source {source_text:?}: {why}")]
    RequestSource {
        /// The offending source.
        source_text: String,
        /// What is wrong.
        why: String,
    },
    /// REQUEST authorizers with caching need at least one source.
    #[error("identitySource is required when authorizerResultTtlInSeconds is not 0")]
    MissingSources,
    /// `identityValidationExpression` is not a regex.
    #[error("invalid identityValidationExpression: {0}")]
    Regex(#[from] regex::Error),
    /// TOKEN / REQUEST need a function.
    #[error("authorizerUri is required for {0} authorizers")]
    MissingUri(&'static str),
    /// The function URI is unusable.
    #[error("invalid authorizerUri: {0}")]
    Uri(#[from] FunctionUriError),
    /// The function URI is unusable with this stage's variables.
    #[error("authorizerUri with this stage's variables: {0}")]
    StageVariables(String),
    /// TTL outside 0..=3600.
    #[error("authorizerResultTtlInSeconds must be between 0 and 3600, got {0}")]
    Ttl(i32),
    /// COGNITO_USER_POOLS need providers.
    #[error("providerARNs is required for COGNITO_USER_POOLS authorizers")]
    MissingProviders,
}

/// What decides, by authorizer type.
#[derive(Debug)]
pub enum AuthorizerKind {
    /// A Lambda function given one token from a header.
    Token {
        /// The header carrying the token.
        header: HeaderName,
        /// The token must match it entirely, or the request gets 401 without a call.
        validation: Option<regex::Regex>,
        /// The function.
        function: FunctionTarget,
    },
    /// A Lambda function given the request's parameters; sources are per method (they
    /// may name context values), in [`Authorization::Custom`].
    Request {
        /// The function.
        function: FunctionTarget,
    },
    /// Unusable with this stage's variables: every request gets 500
    /// AUTHORIZER_CONFIGURATION_ERROR.
    Misconfigured(Box<str>),
    /// A JWT verified against the providers' keys.
    Cognito {
        /// The header carrying the token.
        header: HeaderName,
        /// `providerARNs` entries (issuer URLs or user-pool ARNs), resolved by the node.
        providers: Box<[Box<str>]>,
        /// The client id check (`aud` or `client_id`).
        client_id: Option<regex::Regex>,
    },
    /// An HTTP API's JWT authorizer: issuer and audience (`jwtConfiguration`).
    Jwt(Box<super::http_api::JwtConfig>),
    /// An HTTP API's Lambda REQUEST authorizer (payload format, simple responses).
    HttpRequest(Box<super::http_api::LambdaConfig>),
}

/// An authorizer ready to run.
#[derive(Debug)]
pub struct CompiledAuthorizer {
    /// The authorizer's id.
    pub id: Box<str>,
    /// Its name (logs, TestInvokeAuthorizer).
    pub name: Box<str>,
    /// How it decides.
    pub kind: AuthorizerKind,
    /// How long a decision is reused (zero: every request calls the function).
    pub ttl: Duration,
    /// REQUEST: the raw `identitySource`, compiled per method.
    pub request_sources: Box<[Box<str>]>,
}

/// How a method is protected.
#[derive(Debug, Default)]
pub enum Authorization {
    /// Open (`NONE`).
    #[default]
    None,
    /// `AWS_IAM`: a SigV4 signature by one of the control plane's access keys.
    Iam,
    /// `CUSTOM`: a Lambda authorizer, with the method's REQUEST sources.
    Custom {
        /// The authorizer.
        authorizer: Arc<CompiledAuthorizer>,
        /// REQUEST: the identity sources, in order (empty for TOKEN).
        sources: Box<[ValueSource]>,
    },
    /// `COGNITO_USER_POOLS`: a JWT, with the method's `authorizationScopes`.
    Cognito {
        /// The authorizer.
        authorizer: Arc<CompiledAuthorizer>,
        /// The token must carry at least one of them (when any).
        scopes: Box<[Box<str>]>,
    },
    /// An HTTP API's `JWT` route, with its `authorizationScopes`.
    Jwt {
        /// The authorizer.
        authorizer: Arc<CompiledAuthorizer>,
        /// The token must carry at least one of them (when any).
        scopes: Box<[Box<str>]>,
    },
}

/// Checks an authorizer as the control plane saves it (stage variables are unknown then,
/// so a URI made of them is checked for its shape only).
pub fn check(authorizer: &pb::Authorizer) -> Result<(), AuthorizerError> {
    compile(authorizer, &Default::default(), true).map(|_| ())
}

/// Compiles one authorizer for a stage with `variables`.
pub fn compile(
    a: &pb::Authorizer,
    variables: &std::collections::BTreeMap<String, String>,
    checking: bool,
) -> Result<CompiledAuthorizer, AuthorizerError> {
    if !(0..=MAX_TTL_SECONDS).contains(&a.result_ttl_seconds) {
        return Err(AuthorizerError::Ttl(a.result_ttl_seconds));
    }
    let validation = || -> Result<Option<regex::Regex>, AuthorizerError> {
        let expr = a.identity_validation_expression.trim();
        if expr.is_empty() {
            return Ok(None);
        }
        Ok(Some(regex::Regex::new(&format!("^(?:{expr})$"))?))
    };
    let function = |kind: &'static str| -> Result<FunctionTarget, AuthorizerError> {
        if a.authorizer_uri.trim().is_empty() {
            return Err(AuthorizerError::MissingUri(kind));
        }
        if checking {
            super::check::function_uri(&a.authorizer_uri)?;
            // A placeholder: only the shape was checked.
            return Ok(FunctionTarget {
                name: "".into(),
                qualifier: None,
                account: None,
            });
        }
        match function::parse_uri(&a.authorizer_uri, variables) {
            (Ok(target), _) => Ok(target),
            // This stage's variables, not the deployment, are at fault: only the methods
            // using this authorizer fail (500), at call time.
            (Err(e), true) => Err(AuthorizerError::StageVariables(e.to_string())),
            (Err(e), false) => Err(e.into()),
        }
    };
    let mut request_sources: Vec<Box<str>> = Vec::new();
    let kind = match kind(a, &validation, &function, &mut request_sources, variables) {
        Err(AuthorizerError::StageVariables(why)) => AuthorizerKind::Misconfigured(why.into()),
        other => other?,
    };
    Ok(CompiledAuthorizer {
        id: a.id.as_str().into(),
        name: a.name.as_str().into(),
        kind,
        ttl: Duration::from_secs(u64::try_from(a.result_ttl_seconds).unwrap_or(0)),
        request_sources: request_sources.into(),
    })
}

fn kind(
    a: &pb::Authorizer,
    validation: &dyn Fn() -> Result<Option<regex::Regex>, AuthorizerError>,
    function: &dyn Fn(&'static str) -> Result<FunctionTarget, AuthorizerError>,
    request_sources: &mut Vec<Box<str>>,
    variables: &std::collections::BTreeMap<String, String>,
) -> Result<AuthorizerKind, AuthorizerError> {
    Ok(match a.r#type.to_ascii_uppercase().as_str() {
        "TOKEN" => AuthorizerKind::Token {
            header: header_source(&a.identity_source)?,
            validation: validation()?,
            function: function("TOKEN")?,
        },
        "REQUEST" => {
            *request_sources = split_sources(&a.identity_source);
            if request_sources.is_empty() && a.result_ttl_seconds > 0 {
                return Err(AuthorizerError::MissingSources);
            }
            for source in request_sources.iter() {
                request_source(source, &empty_scope(variables))?;
            }
            AuthorizerKind::Request {
                function: function("REQUEST")?,
            }
        }
        "COGNITO_USER_POOLS" => {
            if a.provider_arns.is_empty() {
                return Err(AuthorizerError::MissingProviders);
            }
            AuthorizerKind::Cognito {
                header: header_source(&a.identity_source)?,
                providers: a.provider_arns.iter().map(|p| p.as_str().into()).collect(),
                client_id: validation()?,
            }
        }
        other => return Err(AuthorizerError::Type(other.to_owned())),
    })
}

/// The REQUEST sources of `authorizer` for one method (`scope` resolves stage variables
/// and fixed context values to constants).
pub fn method_sources(
    authorizer: &CompiledAuthorizer,
    scope: &SourceScope<'_>,
) -> Result<Box<[ValueSource]>, AuthorizerError> {
    authorizer
        .request_sources
        .iter()
        .map(|s| request_source(s, scope))
        .collect()
}

fn split_sources(text: &str) -> Vec<Box<str>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Into::into)
        .collect()
}

fn header_source(text: &str) -> Result<HeaderName, AuthorizerError> {
    let name = text
        .trim()
        .strip_prefix("method.request.header.")
        .ok_or_else(|| AuthorizerError::HeaderSource(text.to_owned()))?;
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| AuthorizerError::HeaderSource(text.to_owned()))
}

fn request_source(text: &str, scope: &SourceScope<'_>) -> Result<ValueSource, AuthorizerError> {
    let bad = |why: String| AuthorizerError::RequestSource {
        source_text: text.to_owned(),
        why,
    };
    let allowed = [
        "method.request.header.",
        "method.request.multivalueheader.",
        "method.request.querystring.",
        "method.request.multivaluequerystring.",
        "stageVariables.",
        "context.",
    ];
    let Some(prefix) = allowed.iter().find(|p| text.starts_with(*p)) else {
        return Err(bad(format!(
            "must start with one of {}",
            allowed.join(", ")
        )));
    };
    if text.len() == prefix.len() {
        return Err(bad("the name is empty".into()));
    }
    ValueSource::parse(text, scope).map_err(|e: MappingError| bad(e.to_string()))
}

fn empty_scope(variables: &std::collections::BTreeMap<String, String>) -> SourceScope<'_> {
    SourceScope {
        param_names: &[],
        stage_variables: variables,
        api_id: "",
        stage: "",
        resource_path: "",
        resource_id: "",
        deployment_id: "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations";

    fn token() -> pb::Authorizer {
        pb::Authorizer {
            id: "a1".into(),
            name: "tok".into(),
            r#type: "TOKEN".into(),
            authorizer_uri: URI.into(),
            identity_source: "method.request.header.Authorization".into(),
            result_ttl_seconds: 300,
            ..Default::default()
        }
    }

    #[test]
    fn token_authorizers_need_one_header_and_a_function() {
        check(&token()).unwrap();
        let mut bad = token();
        bad.identity_source = "method.request.querystring.t".into();
        assert!(matches!(check(&bad), Err(AuthorizerError::HeaderSource(_))));
        let mut bad = token();
        bad.authorizer_uri = String::new();
        assert!(matches!(check(&bad), Err(AuthorizerError::MissingUri(_))));
        let mut bad = token();
        bad.identity_validation_expression = "(".into();
        assert!(matches!(check(&bad), Err(AuthorizerError::Regex(_))));
        let mut bad = token();
        bad.result_ttl_seconds = 3601;
        assert!(matches!(check(&bad), Err(AuthorizerError::Ttl(3601))));
    }

    #[test]
    fn request_sources_follow_the_grammar() {
        let mut a = token();
        a.r#type = "REQUEST".into();
        a.identity_source =
            "method.request.header.h, method.request.querystring.q, stageVariables.s, context.httpMethod"
                .into();
        let compiled = compile(&a, &Default::default(), false).unwrap();
        assert_eq!(compiled.request_sources.len(), 4);
        a.identity_source = "method.request.path.id".into();
        assert!(matches!(
            check(&a),
            Err(AuthorizerError::RequestSource { .. })
        ));
        a.identity_source = String::new();
        assert!(matches!(check(&a), Err(AuthorizerError::MissingSources)));
        a.result_ttl_seconds = 0;
        check(&a).unwrap();
    }

    #[test]
    fn validation_expressions_match_the_whole_token() {
        let mut a = token();
        a.identity_validation_expression = "allow|deny".into();
        let compiled = compile(&a, &Default::default(), false).unwrap();
        let AuthorizerKind::Token { validation, .. } = compiled.kind else {
            panic!("not a token authorizer");
        };
        let re = validation.unwrap();
        assert!(re.is_match("allow"));
        assert!(!re.is_match("allowed"));
    }
}
