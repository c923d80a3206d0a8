//! The rules of a customised gateway response (PutGatewayResponse,
//! UpdateGatewayResponse, and every gateway response an import writes): header mappings
//! from AWS's sources only, templates parsed when saved so a deployment never carries one
//! that fails at request time.

use crate::error::{ApiError, ApiResult};
use crate::validate;
use crate::wire::GatewayResponse;

/// Checks a `gatewayresponse.header.X` key and its source expression.
pub fn parameter(key: &str, value: &str) -> ApiResult<()> {
    let name = key.strip_prefix("gatewayresponse.header.").unwrap_or("");
    if name.is_empty() || http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(ApiError::bad_request(format!(
            "Invalid parameter name specified: {key}: must be gatewayresponse.header.<name>"
        )));
    }
    let ok = if let Some(inner) = value.strip_prefix('\'') {
        inner.ends_with('\'')
            && value.len() >= 2
            && http::HeaderValue::from_str(&inner[..inner.len() - 1]).is_ok()
    } else if let Some(rest) = value.strip_prefix("method.request.") {
        [
            "header.",
            "querystring.",
            "path.",
            "multivalueheader.",
            "multivaluequerystring.",
        ]
        .iter()
        .any(|p| rest.strip_prefix(p).is_some_and(|n| !n.is_empty()))
    } else if let Some(rest) = value.strip_prefix("stageVariables.") {
        !rest.is_empty()
    } else if let Some(rest) = value.strip_prefix("context.") {
        !rest.is_empty()
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : \
             [Invalid mapping expression specified: {value}: must be a quoted static value, \
             method.request.(header|querystring|path).<name>, stageVariables.<name> or \
             context.<name>]"
        )))
    }
}

/// Checks a whole gateway response (its type one of the 21) before it is saved.
pub fn response(r: &GatewayResponse) -> ApiResult<()> {
    GatewayResponse::default_status(&r.response_type)?;
    if let Some(s) = &r.status_code {
        validate::status_code(s)?;
    }
    for (k, v) in &r.response_parameters {
        parameter(k, v)?;
    }
    for (ct, text) in &r.response_templates {
        validate::content_type(ct)?;
        apigw_gateway::compile::check::template(text).map_err(|e| {
            ApiError::bad_request(format!(
                "Invalid mapping template specified for {ct}: line {}, column {}: {}",
                e.line, e.column, e.message
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_accept_aws_sources_only() {
        let k = "gatewayresponse.header.Access-Control-Allow-Origin";
        for v in [
            "'*'",
            "method.request.header.Origin",
            "method.request.querystring.q",
            "stageVariables.origin",
            "context.requestId",
        ] {
            assert!(parameter(k, v).is_ok(), "{v}");
        }
        for v in [
            "*",
            "'unterminated",
            "integration.response.header.x",
            "context.",
        ] {
            assert!(parameter(k, v).is_err(), "{v}");
        }
        assert!(parameter("method.response.header.x", "'v'").is_err());
    }

    #[test]
    fn templates_are_parsed_when_saved() {
        let mut r = GatewayResponse::built_in("DEFAULT_4XX").unwrap();
        assert!(response(&r).is_ok());
        r.response_templates
            .insert("application/json".into(), "#if($x".into());
        let err = response(&r).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
