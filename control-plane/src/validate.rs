//! Validation rules shared by handlers: methods, integrations and their responses, and tags.
//!
//! Each function answers `BadRequestException` with a message that says what is wrong,
//! worded after AWS where AWS has a wording. The grammars themselves (mapping
//! expressions, function URIs) are the engine's ([`apigw_gateway::compile::check`]), so
//! what is accepted here is exactly what a node compiles.

use apigw_gateway::compile::check;

use crate::error::{ApiError, ApiResult};

/// HTTP methods a method may be put for.
pub fn http_method(m: &str) -> ApiResult<()> {
    match m {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "ANY" => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid HttpMethod specified: '{m}'. Valid values are GET, POST, PUT, PATCH, \
             DELETE, HEAD, OPTIONS, ANY"
        ))),
    }
}

/// `authorizationType` as it is stored. The service model types it as a plain string
/// (not an enum, so no `ValidationException`), and AWS documents its values as
/// case-insensitive (the `x-amazon-apigateway-auth` extension: "Values are case
/// insensitive"); clients rely on it (Zappa sends `none`). AWS does not document whether
/// it keeps the caller's spelling, so it is normalised to upper case, the spelling of
/// every value AWS documents and returns (`NONE`, `AWS_IAM`, `CUSTOM`, `COGNITO_USER_POOLS`).
pub fn authorization_type(v: &str) -> String {
    v.to_ascii_uppercase()
}

/// `passthroughBehavior` as it is stored: a plain string in the service model whose
/// values AWS documents in upper case for the management API (`WHEN_NO_MATCH`, …) and in
/// lower case for the OpenAPI extension (`when_no_match`, …), so either spelling is
/// accepted; like [`authorization_type`], it is normalised to upper case.
pub fn passthrough_behavior(v: &str) -> String {
    v.to_ascii_uppercase()
}

/// A status code of a method or integration response: three digits, 100..=599.
pub fn status_code(s: &str) -> ApiResult<()> {
    match s.parse::<u16>() {
        Ok(n) if s.len() == 3 && (100..=599).contains(&n) => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid status code '{s}': must be a number between 100 and 599"
        ))),
    }
}

/// Where a method request parameter lives.
pub const REQUEST_LOCATIONS: &[&str] = &[
    "path",
    "querystring",
    "header",
    "multivaluequerystring",
    "multivalueheader",
];

/// Splits `prefix.location.name` into (location, name) when location is one of `locations`.
fn split_param<'a>(expr: &'a str, prefix: &str, locations: &[&str]) -> Option<(&'a str, &'a str)> {
    let rest = expr.strip_prefix(prefix)?;
    let (loc, name) = rest.split_once('.')?;
    (locations.contains(&loc) && !name.is_empty()).then_some((loc, name))
}

/// A method `requestParameters` key: `method.request.{path|querystring|header|...}.name`.
pub fn method_request_parameter(key: &str) -> ApiResult<(&str, &str)> {
    split_param(key, "method.request.", REQUEST_LOCATIONS).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid method request parameter specified: '{key}'. Must look like \
             method.request.{{path|querystring|header}}.name"
        ))
    })
}

/// A method response `responseParameters` key: `method.response.header.name`.
pub fn method_response_parameter(key: &str) -> ApiResult<&str> {
    split_param(key, "method.response.", &["header"])
        .filter(|_| check::response_target(key).is_ok())
        .map(|(_, n)| n)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid mapping expression specified: {key}. Must look like \
                 method.response.header.name"
            ))
        })
}

/// An integration `requestParameters` key: `integration.request.{path|querystring|header}.name`.
pub fn integration_request_target(key: &str) -> ApiResult<(&str, &str)> {
    split_param(key, "integration.request.", REQUEST_LOCATIONS)
        .filter(|_| check::request_target(key).is_ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid mapping expression specified: {key}. Must look like \
             integration.request.{{path|querystring|header}}.name"
            ))
        })
}

/// A simple `prefix.name` reference (stage variables in URIs).
fn is_reference(v: &str, prefix: &str) -> bool {
    v.strip_prefix(prefix).is_some_and(|n| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    })
}

/// An integration request mapping source. `declared` says whether a method request
/// parameter (location, name) exists on the method or its resource path.
pub fn integration_request_source(v: &str, declared: impl Fn(&str, &str) -> bool) -> ApiResult<()> {
    if check::request_source(v).is_err() {
        return Err(ApiError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : \
             [Invalid mapping expression specified: {v}]"
        )));
    }
    match split_param(v, "method.request.", REQUEST_LOCATIONS) {
        Some((loc, name)) if !declared(loc, name) => Err(ApiError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : \
             [Invalid mapping expression parameter specified: {v}]"
        ))),
        _ => Ok(()),
    }
}

/// An integration response mapping source.
pub fn integration_response_source(v: &str) -> ApiResult<()> {
    check::response_source(v).map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : \
             [Invalid mapping expression specified: {v}]"
        ))
    })
}

/// A content type key of templates and models (`type/subtype`).
pub fn content_type(ct: &str) -> ApiResult<()> {
    let ok = ct
        .split_once('/')
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !ct.contains(char::is_whitespace));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid content type '{ct}': must look like type/subtype"
        )))
    }
}

/// `contentHandling` values.
pub fn content_handling(v: &str) -> ApiResult<()> {
    match v {
        "CONVERT_TO_BINARY" | "CONVERT_TO_TEXT" => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid content handling '{v}': must be CONVERT_TO_BINARY or CONVERT_TO_TEXT"
        ))),
    }
}

/// An HTTP(S) integration URI: absolute http(s) URL with a host, where
/// `${stageVariables.x}` may stand anywhere and `{param}` in the path.
pub fn http_uri(uri: &str) -> ApiResult<()> {
    let bad = |why: &str| {
        ApiError::bad_request(format!(
            "Invalid HTTP endpoint specified for URI: '{uri}' ({why})"
        ))
    };
    // Stage variables are resolved per stage; stand in a placeholder to check the rest.
    let mut probe = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(start) = rest.find("${") {
        probe.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            return Err(bad("unterminated ${...}"));
        };
        let var = &rest[start + 2..start + end];
        if !is_reference(var, "stageVariables.") {
            return Err(bad("only ${stageVariables.name} may be substituted"));
        }
        probe.push_str("stagevar");
        rest = &rest[start + end + 1..];
    }
    probe.push_str(rest);
    let (scheme, after) = probe
        .split_once("://")
        .ok_or_else(|| bad("must be an absolute http or https URL"))?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad("the scheme must be http or https"));
    }
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains(char::is_whitespace) {
        return Err(bad("the URL has no host"));
    }
    if probe.contains(char::is_whitespace) {
        return Err(bad("the URL contains whitespace"));
    }
    Ok(())
}

/// An AWS service integration URI: `arn:aws:apigateway:{region}:{service}:{path|action}/...`.
pub fn aws_uri(uri: &str) -> ApiResult<()> {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "apigateway"
        && !parts[3].is_empty()
        && !parts[4].is_empty()
        && (parts[5].starts_with("path/") || parts[5].starts_with("action/"));
    if !ok {
        return Err(ApiError::bad_request(format!(
            "AWS ARN for integration must contain path or action: '{uri}'"
        )));
    }
    if parts[4] == "lambda" {
        lambda_function_uri(uri)?;
    }
    Ok(())
}

/// An `AWS_PROXY` integration URI: the Lambda proxy integration calls a function, so the
/// URI must be a Lambda function invocation URI, by the engine's grammar (an S3 or SQS
/// service path is refused here, not at deployment). A URI that is no service ARN, or a
/// malformed Lambda one, gets [`aws_uri`]'s answer; another service's gets a message whose
/// first sentence is worded like AWS's refusal (from memory of its console, not checked
/// against a live AWS) and whose rest says why.
pub fn aws_proxy_uri(uri: &str) -> ApiResult<()> {
    aws_uri(uri)?;
    check::function_uri(uri).map_err(|why| {
        ApiError::bad_request(format!(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and \
             Firehose stream invocations. Invalid Lambda function integration URI '{uri}': {why}"
        ))
    })
}

/// A Lambda function integration URI, by the engine's parser:
/// `path/2015-03-31/functions/{function}/invocations`, where `{function}` is a name, a
/// partial ARN (`{account}:function:{name}`) or an ARN
/// (`arn:aws:lambda:{region}:{account}:function:{name}`), each with an optional `:{qualifier}`;
/// `${stageVariables.x}` may stand for any part (checked once substituted, per stage).
fn lambda_function_uri(uri: &str) -> ApiResult<()> {
    check::function_uri(uri).map_err(|why| {
        ApiError::bad_request(format!(
            "Invalid Lambda function integration URI '{uri}': {why}"
        ))
    })
}

/// The most tags one resource may carry (AWS's "Tag restrictions and usage conventions").
pub const MAX_TAGS: usize = 50;

/// A resource's tags, as AWS documents them for API Gateway: at most [`MAX_TAGS`] per
/// resource, keys of 1 to 128 and values of up to 256 Unicode characters, letters,
/// digits, spaces and `+ - = . _ : / @` only, and no key starting with the reserved
/// `aws:` prefix (in any case).
pub fn tags(tags: &std::collections::BTreeMap<String, String>) -> ApiResult<()> {
    fn allowed(c: char) -> bool {
        c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c)
    }
    for (key, value) in tags {
        let key_len = key.chars().count();
        if !(1..=128).contains(&key_len) {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key '{key}': a tag key must be 1 to 128 characters long"
            )));
        }
        if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key '{key}': the prefix 'aws:' is reserved for AWS use"
            )));
        }
        if !key.chars().all(allowed) {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key '{key}': tag keys may contain only letters, digits, spaces \
                 and + - = . _ : / @"
            )));
        }
        if value.chars().count() > 256 {
            return Err(ApiError::bad_request(format!(
                "Invalid tag value for key '{key}': a tag value can be at most 256 characters long"
            )));
        }
        if !value.chars().all(allowed) {
            return Err(ApiError::bad_request(format!(
                "Invalid tag value for key '{key}': tag values may contain only letters, \
                 digits, spaces and + - = . _ : / @"
            )));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!(
            "Too many tags: a resource can have at most {MAX_TAGS} tags, this would give it {}",
            tags.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tag_rules() {
        use std::collections::BTreeMap;
        let one = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(super::tags(&one("team", "payments/eu-1 @x")).is_ok());
        assert!(super::tags(&one("", "v")).is_err());
        assert!(super::tags(&one(&"k".repeat(128), &"v".repeat(256))).is_ok());
        assert!(super::tags(&one(&"k".repeat(129), "v")).is_err());
        assert!(super::tags(&one("k", &"v".repeat(257))).is_err());
        assert!(super::tags(&one("AWS:owner", "v")).is_err());
        assert!(super::tags(&one("a*b", "v")).is_err());
        let many: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(super::tags(&many).is_err());
    }

    use super::*;

    #[test]
    fn uris() {
        for ok in [
            "http://example.com",
            "https://example.com/pets/{id}",
            "http://${stageVariables.host}/x",
            "http://127.0.0.1:8000/{proxy}?a=b",
            "https://${stageVariables.host}:8443/${stageVariables.path}",
        ] {
            assert!(http_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "example.com",
            "ftp://example.com",
            "http://",
            "http:///path",
            "/relative",
            "http://${context.x}/",
            "http://${stageVariables.x",
            "http://exa mple.com",
        ] {
            assert!(http_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arns() {
        assert!(aws_uri(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations"
        )
        .is_ok());
        assert!(aws_uri("arn:aws:lambda:us-east-1:123:function:f").is_err());
        let lambda = "arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/";
        for ok in [
            "arn:aws:lambda:eu-central-1:123456789012:function:photos",
            "arn:aws:lambda:eu-central-1:123456789012:function:photos:prod",
            "arn:aws:lambda:eu-central-1:123456789012:function:photos:${stageVariables.alias}",
            "arn:aws:lambda:eu-central-1:123456789012:function:${stageVariables.fn}",
            "123456789012:function:photos:$LATEST",
            "photos",
        ] {
            assert!(
                aws_uri(&format!("{lambda}{ok}/invocations")).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "photos",
            "photos/invocations/x",
            "bad name/invocations",
            "photos:${context.x}/invocations",
            "photos:${stageVariables.x/invocations",
            "a:b:c:d:e/invocations",
            "photos:al ias/invocations",
        ] {
            assert!(aws_uri(&format!("{lambda}{bad}")).is_err(), "{bad}");
        }
        // Other services keep their own paths, but not behind a Lambda proxy.
        assert!(aws_uri("arn:aws:apigateway:us-east-1:s3:path/bucket/{key}").is_ok());
        assert!(aws_proxy_uri("arn:aws:apigateway:us-east-1:s3:path/bucket/{key}").is_err());
        assert!(aws_proxy_uri("https://example.com/").is_err());
        assert!(aws_proxy_uri(&format!("{lambda}photos/invocations")).is_ok());
        assert!(aws_proxy_uri(&format!("{lambda}photos")).is_err());
    }

    #[test]
    fn mapping_expressions() {
        let declared = |loc: &str, name: &str| loc == "path" && name == "id";
        assert!(integration_request_source("method.request.path.id", declared).is_ok());
        assert!(integration_request_source("method.request.path.nope", declared).is_err());
        assert!(integration_request_source("'static'", declared).is_ok());
        assert!(integration_request_source("stageVariables.x", declared).is_ok());
        assert!(integration_request_source("context.requestId", declared).is_ok());
        assert!(integration_request_source("garbage", declared).is_err());
        assert!(integration_response_source("integration.response.header.X-Y").is_ok());
        assert!(integration_response_source("integration.response.body.a.b").is_ok());
        assert!(integration_response_source("method.request.path.id").is_err());
        assert!(integration_request_target("integration.request.header.x").is_ok());
        assert!(integration_request_target("integration.response.header.x").is_err());
        assert!(method_request_parameter("method.request.querystring.q").is_ok());
        assert!(method_request_parameter("method.request.body").is_err());
        assert!(method_response_parameter("method.response.header.X").is_ok());
    }

    #[test]
    fn statuses() {
        assert!(status_code("200").is_ok());
        assert!(status_code("099").is_err());
        assert!(status_code("600").is_err());
        assert!(status_code("20").is_err());
    }
}
