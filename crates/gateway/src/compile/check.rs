//! What the management API checks when configuration is saved, through the parsers the
//! stage compiler itself uses: whatever the control plane accepts, a node can compile.
//! The control plane adds only AWS's wording and the checks that need its store (is a
//! path parameter declared, does a referenced model exist).

use super::function::{parse_function_uri, FunctionUriError};
use super::mapping::{
    parse_response_target, MappingError, RequestTarget, ResponseSource, SourceScope, ValueSource,
};
use super::selection::ResponseSelector;

/// The scope a mapping is checked in when saved: no stage yet, so stage and context
/// variables have no values (they are valid, and resolved per stage when deployed).
fn unbound<R>(f: impl FnOnce(&SourceScope<'_>) -> R) -> R {
    let variables = std::collections::BTreeMap::new();
    f(&SourceScope {
        param_names: &[],
        stage_variables: &variables,
        api_id: "",
        stage: "",
        resource_path: "",
        resource_id: "",
        deployment_id: "",
    })
}

/// A request-side source (`method.request.querystring.q`, `'static'`, `context.requestId`, …).
pub fn request_source(expr: &str) -> Result<(), MappingError> {
    unbound(|scope| ValueSource::parse(expr, scope)).map(drop)
}

/// A request-side target (`integration.request.{header|querystring|path}.name`).
pub fn request_target(expr: &str) -> Result<(), MappingError> {
    RequestTarget::parse(expr).map(drop)
}

/// A response-side source (`integration.response.header.X`, `integration.response.body.a`, …).
pub fn response_source(expr: &str) -> Result<(), MappingError> {
    unbound(|scope| ResponseSource::parse(expr, scope)).map(drop)
}

/// A response-side target (`method.response.header.X`).
pub fn response_target(expr: &str) -> Result<(), MappingError> {
    parse_response_target(expr).map(drop)
}

/// An integration response's `selectionPattern`, compiled as selection compiles it
/// (anchored, Java-style).
pub fn selection_pattern(pattern: &str) -> Result<(), fancy_regex::Error> {
    ResponseSelector::compile([pattern]).map(drop)
}

/// A mapping template (request, response or gateway-response body).
pub fn template(text: &str) -> Result<(), vtl::ParseError> {
    super::template::CompiledTemplate::parse(text).map(drop)
}

/// A Lambda function integration URI; `${stageVariables.name}` may stand for any part of
/// the function (it is checked again once substituted, per stage, when deployed).
pub fn function_uri(uri: &str) -> Result<(), FunctionUriError> {
    let mut probe = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(start) = rest.find("${") {
        probe.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            return Err(FunctionUriError::Substitution(rest[start..].to_owned()));
        };
        let reference = &rest[start + 2..start + end];
        let name_ok = reference.strip_prefix("stageVariables.").is_some_and(|n| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if !name_ok {
            return Err(FunctionUriError::Substitution(format!("${{{reference}}}")));
        }
        probe.push_str("stagevar");
        rest = &rest[start + end + 1..];
    }
    probe.push_str(rest);
    parse_function_uri(&probe).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_compiler_accepts() {
        assert!(request_source("method.request.querystring.q").is_ok());
        assert!(request_source("'static'").is_ok());
        assert!(request_source("stageVariables.host").is_ok());
        assert!(request_source("method.request.nowhere.q").is_err());
        assert!(request_target("integration.request.header.X-Y").is_ok());
        assert!(request_target("integration.request.body").is_err());
        assert!(response_source("integration.response.body.a.b").is_ok());
        assert!(response_source("integration.response.header.X").is_ok());
        assert!(response_source("'bad\nvalue'").is_err());
        assert!(response_target("method.response.header.X").is_ok());
        assert!(response_target("method.response.body").is_err());
        assert!(selection_pattern("2\\d{2}").is_ok());
        assert!(selection_pattern("(?<=a)b").is_ok());
        assert!(selection_pattern("(").is_err());
        assert!(template("#if($a)x#end").is_ok());
        assert!(template("#if($a)x").is_err());
    }

    #[test]
    fn function_uris_with_stage_variables() {
        let p = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/";
        assert!(function_uri(&format!(
            "{p}arn:aws:lambda:us-east-1:1:function:f/invocations"
        ))
        .is_ok());
        assert!(function_uri(&format!(
            "{p}arn:aws:lambda:us-east-1:1:function:${{stageVariables.fn}}:live/invocations"
        ))
        .is_ok());
        assert!(function_uri(&format!("{p}f:${{stageVariables.alias}}/invocations")).is_ok());
        assert!(function_uri(&format!("{p}${{context.x}}/invocations")).is_err());
        assert!(function_uri(&format!("{p}${{stageVariables.x/invocations")).is_err());
        assert!(function_uri(&format!("{p}bad name/invocations")).is_err());
        assert!(function_uri(&format!("{p}f/other")).is_err());
    }
}
