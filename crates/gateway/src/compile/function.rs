//! Function integrations (`AWS` and `AWS_PROXY` with a Lambda function URI), compiled once
//! per stage: the function name and qualifier (alias or version) parsed out of API
//! Gateway's URI form after `${stageVariables.x}` substitution, plus what the binary
//! support needs (`binaryMediaTypes`, `contentHandling`).
//!
//! The URI form is
//! `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations`,
//! where `{function}` is a function ARN `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`,
//! a partial ARN `{account}:function:{name}[:{qualifier}]` or a bare name, as Lambda's
//! Invoke API accepts them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::template::MappingTemplate;
use super::uri_template::substitute_stage_variables;
use super::{IntegrationResponses, RequestTemplates, DEFAULT_TIMEOUT};

/// Why a function URI is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionUriError {
    /// Not `arn:aws:apigateway:{region}:{service}:path/...`.
    #[error("not an API Gateway service integration ARN")]
    NotServiceArn,
    /// An AWS service other than Lambda (not run by this gateway).
    #[error("AWS service {0:?} is not supported (only lambda)")]
    UnsupportedService(String),
    /// A Lambda path other than `path/2015-03-31/functions/{function}/invocations`.
    #[error("expected path/2015-03-31/functions/{{function}}/invocations")]
    NotInvocationsPath,
    /// A `${...}` in the URI is not a complete `${stageVariables.name}`.
    #[error("only ${{stageVariables.name}} may be substituted, found {0:?}")]
    Substitution(String),
    /// The function name or qualifier has characters Lambda does not allow.
    #[error("invalid function name or qualifier {0:?}")]
    InvalidFunction(String),
}

/// The function an integration calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionTarget {
    /// The function name (`FunctionName` of the Invoke API).
    pub name: Box<str>,
    /// The alias or version (`Qualifier`), if the URI names one.
    pub qualifier: Option<Box<str>>,
    /// The account of a function ARN (`requestContext.accountId` of proxy events).
    pub account: Option<Box<str>>,
}

/// `contentHandling` of an integration or integration response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentHandling {
    /// Pass the payload through as it is (the default).
    #[default]
    Passthrough,
    /// Binary → base64 text.
    ConvertToText,
    /// Base64 text → binary.
    ConvertToBinary,
}

impl ContentHandling {
    /// Parses the wire value (unknown or empty → passthrough).
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_uppercase().as_str() {
            "CONVERT_TO_TEXT" => ContentHandling::ConvertToText,
            "CONVERT_TO_BINARY" => ContentHandling::ConvertToBinary,
            _ => ContentHandling::Passthrough,
        }
    }
}

/// The REST API's `binaryMediaTypes`: which content types are binary payloads.
#[derive(Debug, Default, Clone)]
pub struct BinaryMediaTypes {
    /// Lowercase `type/subtype` entries; `*` wildcards allowed on either side.
    entries: Vec<(Box<str>, Box<str>)>,
}

impl BinaryMediaTypes {
    /// Compiles the API's list (the management API stores `~1` for `/` in patches;
    /// both spellings are accepted).
    pub fn new<S: AsRef<str>>(types: &[S]) -> Self {
        let entries = types
            .iter()
            .filter_map(|t| {
                let t = t.as_ref().trim().replace("~1", "/").to_ascii_lowercase();
                let (ty, sub) = t.split_once('/')?;
                Some((ty.trim().into(), sub.trim().into()))
            })
            .collect();
        BinaryMediaTypes { entries }
    }

    /// Whether a `Content-Type`/`Accept` media type (parameters ignored) is binary.
    pub fn matches(&self, media_type: Option<&str>) -> bool {
        let Some(media_type) = media_type else {
            return false;
        };
        let media_type = media_type.split(';').next().unwrap_or("").trim();
        let Some((ty, sub)) = media_type.split_once('/') else {
            return false;
        };
        self.entries.iter().any(|(t, s)| {
            (&**t == "*" || t.eq_ignore_ascii_case(ty))
                && (&**s == "*" || s.eq_ignore_ascii_case(sub))
        })
    }

    /// Whether the first media type of an `Accept` header is binary (API Gateway looks at
    /// the first one to decide whether to decode a base64 response).
    pub fn accepts_binary(&self, accept: Option<&str>) -> bool {
        let first = accept.and_then(|a| a.split(',').next());
        self.matches(first)
    }
}

/// A compiled `AWS` / `AWS_PROXY` Lambda integration.
#[derive(Debug)]
pub struct FunctionIntegration {
    /// What to invoke.
    pub target: FunctionTarget,
    /// `timeoutInMillis` (default 29 s): the whole invocation must finish within it.
    pub timeout: Duration,
    /// Request templates and passthrough rule (`AWS` only).
    pub templates: RequestTemplates<MappingTemplate>,
    /// Integration responses, selected by the function's `errorMessage` (`AWS` only).
    pub responses: IntegrationResponses,
    /// The integration's `contentHandling` for the request payload (`AWS` only).
    pub content_handling: ContentHandling,
    /// The API's `binaryMediaTypes`.
    pub binary_media_types: Arc<BinaryMediaTypes>,
}

/// The timeout of an integration (`timeoutInMillis`, default 29 s).
pub fn timeout(timeout_in_millis: i32) -> Duration {
    match timeout_in_millis {
        ms if ms <= 0 => DEFAULT_TIMEOUT,
        ms => Duration::from_millis(ms.unsigned_abs().into()),
    }
}

/// Substitutes stage variables into `uri` and parses the function it names. Returns the
/// target and whether stage variables were substituted (then a bad result is the stage's
/// fault, not the deployment's).
pub fn parse_uri(
    uri: &str,
    variables: &BTreeMap<String, String>,
) -> (Result<FunctionTarget, FunctionUriError>, bool) {
    let substituted = substitute_stage_variables(uri, variables);
    let from_stage_variables = substituted != uri;
    (parse_function_uri(&substituted), from_stage_variables)
}

/// Parses an integration URI naming a Lambda function (stage variables substituted).
pub fn parse_function_uri(uri: &str) -> Result<FunctionTarget, FunctionUriError> {
    let mut parts = uri.trim().splitn(6, ':');
    let (
        Some("arn"),
        Some(_partition),
        Some("apigateway"),
        Some(region),
        Some(service),
        Some(rest),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return Err(FunctionUriError::NotServiceArn);
    };
    if region.is_empty() {
        return Err(FunctionUriError::NotServiceArn);
    }
    if service != "lambda" {
        return Err(FunctionUriError::UnsupportedService(service.to_owned()));
    }
    let function = rest
        .strip_prefix("path/2015-03-31/functions/")
        .and_then(|r| r.strip_suffix("/invocations"))
        .ok_or(FunctionUriError::NotInvocationsPath)?;
    parse_function(function)
}

/// Parses a function reference as Lambda's `FunctionName` accepts it.
fn parse_function(function: &str) -> Result<FunctionTarget, FunctionUriError> {
    let invalid = || FunctionUriError::InvalidFunction(function.to_owned());
    let segments: Vec<&str> = function.split(':').collect();
    let (account, name, qualifier) = match segments.as_slice() {
        ["arn", _, "lambda", _, account, "function", name] => (Some(*account), *name, None),
        ["arn", _, "lambda", _, account, "function", name, q] => (Some(*account), *name, Some(*q)),
        [account, "function", name] => (Some(*account), *name, None),
        [account, "function", name, q] => (Some(*account), *name, Some(*q)),
        [name] => (None, *name, None),
        [name, q] => (None, *name, Some(*q)),
        _ => return Err(invalid()),
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let qualifier_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'$')
    };
    if !name_ok(name) || qualifier.is_some_and(|q| !qualifier_ok(q)) {
        return Err(invalid());
    }
    Ok(FunctionTarget {
        name: name.into(),
        qualifier: qualifier.map(Into::into),
        account: account.filter(|a| !a.is_empty()).map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/";

    #[test]
    fn parses_function_arns_with_and_without_alias() {
        let t = parse_function_uri(&format!(
            "{PREFIX}arn:aws:lambda:eu-central-1:123456789012:function:photos/invocations"
        ))
        .unwrap();
        assert_eq!((&*t.name, t.qualifier), ("photos", None));
        assert_eq!(t.account.as_deref(), Some("123456789012"));
        let t = parse_function_uri(&format!(
            "{PREFIX}arn:aws:lambda:eu-central-1:123456789012:function:photos:prod/invocations"
        ))
        .unwrap();
        assert_eq!((&*t.name, t.qualifier.as_deref()), ("photos", Some("prod")));
        let t = parse_function_uri(&format!("{PREFIX}my_fn:$LATEST/invocations")).unwrap();
        assert_eq!(
            (&*t.name, t.qualifier.as_deref()),
            ("my_fn", Some("$LATEST"))
        );
    }

    #[test]
    fn stage_variables_pick_the_alias() {
        let uri = format!(
            "{PREFIX}arn:aws:lambda:eu-central-1:123456789012:function:photos:${{stageVariables.alias}}/invocations"
        );
        let vars = BTreeMap::from([("alias".to_owned(), "beta".to_owned())]);
        let (target, substituted) = parse_uri(&uri, &vars);
        assert!(substituted);
        assert_eq!(target.unwrap().qualifier.as_deref(), Some("beta"));
        // A missing variable leaves `photos:` with an empty qualifier: unusable.
        let (target, _) = parse_uri(&uri, &BTreeMap::new());
        assert!(matches!(target, Err(FunctionUriError::InvalidFunction(_))));
    }

    #[test]
    fn rejects_other_shapes() {
        assert_eq!(
            parse_function_uri("http://example.com"),
            Err(FunctionUriError::NotServiceArn)
        );
        assert!(matches!(
            parse_function_uri("arn:aws:apigateway:us-east-1:s3:path/bucket/key"),
            Err(FunctionUriError::UnsupportedService(s)) if s == "s3"
        ));
        assert_eq!(
            parse_function_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f"),
            Err(FunctionUriError::NotInvocationsPath)
        );
        assert!(parse_function_uri(&format!("{PREFIX}bad name/invocations")).is_err());
        assert!(parse_function_uri(&format!("{PREFIX}a:b:c:d:e/invocations")).is_err());
    }

    #[test]
    fn binary_media_types_match_with_wildcards() {
        let types = BinaryMediaTypes::new(&["image/png", "application~1octet-stream", "audio/*"]);
        assert!(types.matches(Some("image/png")));
        assert!(types.matches(Some("IMAGE/PNG; charset=x")));
        assert!(types.matches(Some("application/octet-stream")));
        assert!(types.matches(Some("audio/ogg")));
        assert!(!types.matches(Some("image/jpeg")));
        assert!(!types.matches(None));
        assert!(types.accepts_binary(Some("image/png, text/html")));
        assert!(!types.accepts_binary(Some("text/html, image/png")));
        assert!(BinaryMediaTypes::new(&["*/*"]).matches(Some("text/plain")));
    }

    /// Compiles a one-method stage with `integration` and describes what it became.
    fn compile_one(
        integration: apigw_proto::config::Integration,
        variables: &[(&str, &str)],
    ) -> String {
        use super::super::{compile_stage, Integration};
        use apigw_proto::config::{DeploymentSnapshot, Method, Resource, StageConfig};
        let stage = StageConfig {
            api_id: "api1".into(),
            stage_name: "prod".into(),
            deployment_id: "dep1".into(),
            variables: variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            deployment: Some(DeploymentSnapshot {
                api_id: "api1".into(),
                format_version: apigw_proto::SNAPSHOT_FORMAT_VERSION,
                binary_media_types: vec!["image/png".into()],
                resources: vec![Resource {
                    id: "r1".into(),
                    path: "/f".into(),
                    methods: vec![Method {
                        http_method: "POST".into(),
                        integration: Some(integration),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let compiled = match compile_stage(&stage) {
            Ok(compiled) => compiled,
            Err(error) => return format!("error {error}"),
        };
        let methods = compiled.routes.find("/f", &mut Vec::new()).expect("route");
        match &methods
            .get(&http::Method::POST)
            .expect("method")
            .integration
        {
            Integration::Function(f) => format!("AWS {:?}", f.target),
            Integration::FunctionProxy(f) => {
                assert!(f.binary_media_types.matches(Some("image/png")));
                format!("AWS_PROXY {:?} {:?}", f.target, f.timeout)
            }
            Integration::Unsupported(what) => format!("unsupported {what}"),
            Integration::Misconfigured(why) => format!("misconfigured {why}"),
            other => format!("{other:?}"),
        }
    }

    fn integration(kind: &str, uri: &str) -> apigw_proto::config::Integration {
        apigw_proto::config::Integration {
            r#type: kind.into(),
            http_method: "POST".into(),
            uri: uri.into(),
            timeout_in_millis: 2000,
            ..Default::default()
        }
    }

    #[test]
    fn stages_compile_function_integrations() {
        let alias = format!("{PREFIX}photos:${{stageVariables.alias}}/invocations");
        let got = compile_one(integration("AWS_PROXY", &alias), &[("alias", "prod")]);
        assert!(got.starts_with("AWS_PROXY"), "{got}");
        assert!(
            got.contains("qualifier: Some(\"prod\")") && got.contains("2s"),
            "{got}"
        );
        let got = compile_one(integration("AWS", &format!("{PREFIX}f/invocations")), &[]);
        assert!(
            got.starts_with("AWS ") && got.contains("name: \"f\""),
            "{got}"
        );
        // Variables that break the URI make only this method fail (at call time).
        let got = compile_one(integration("AWS_PROXY", &alias), &[]);
        assert!(got.starts_with("misconfigured"), "{got}");
        // Other AWS services are not run here.
        let got = compile_one(
            integration("AWS", "arn:aws:apigateway:us-east-1:s3:path/bucket/key"),
            &[],
        );
        assert_eq!(got, "unsupported AWS s3");
        // A deployment whose URI is unusable on its own is rejected.
        let got = compile_one(
            integration("AWS_PROXY", &format!("{PREFIX}bad name/invocations")),
            &[],
        );
        assert!(
            got.starts_with("error") && got.contains("invalid function"),
            "{got}"
        );
    }

    #[test]
    fn content_handling_values() {
        assert_eq!(
            ContentHandling::parse("CONVERT_TO_TEXT"),
            ContentHandling::ConvertToText
        );
        assert_eq!(
            ContentHandling::parse("CONVERT_TO_BINARY"),
            ContentHandling::ConvertToBinary
        );
        assert_eq!(ContentHandling::parse(""), ContentHandling::Passthrough);
    }
}
