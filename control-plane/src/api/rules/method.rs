//! The rules of a method and what it holds: method responses, the integration and its
//! integration responses (PutMethod, PutMethodResponse, PutIntegration,
//! PutIntegrationResponse, their updates, and every method an import writes).
//!
//! Each answers which member broke a rule ([`Broken`]); references to other entities
//! (authorizers, models, validators) are checked by the caller, which knows the API, but
//! for [`vpc_link`], which reads the store.

use std::collections::BTreeMap;

use super::{path_params, Broken, Member, RuleResult};
use crate::error::ApiError;
use crate::store;
use crate::validate;
use crate::wire::{Integration, IntegrationResponse, Method, MethodResponse};

fn broken(member: &'static str, message: String) -> Broken {
    Broken {
        member,
        error: ApiError::bad_request(message),
    }
}

/// Checks a method against its resource path and the API's authorizers (`authorizers`:
/// id → type).
pub fn method(
    m: &Method,
    resource_path: &str,
    authorizers: &BTreeMap<String, String>,
) -> RuleResult {
    match m.authorization_type.as_str() {
        "NONE" | "AWS_IAM" => {}
        kind @ ("CUSTOM" | "COGNITO_USER_POOLS") => {
            let id = m.authorizer_id.as_deref().unwrap_or_default();
            if id.is_empty() {
                return Err(broken(
                    "authorizerId",
                    format!(
                        "Invalid authorizer ID specified. Setting the authorization type to \
                         {kind} requires a valid authorizer."
                    ),
                ));
            }
            let Some(authorizer_type) = authorizers.get(id) else {
                return Err(broken(
                    "authorizerId",
                    format!("Invalid authorizer ID specified: {id}"),
                ));
            };
            let cognito = authorizer_type == "COGNITO_USER_POOLS";
            if cognito != (kind == "COGNITO_USER_POOLS") {
                return Err(broken(
                    "authorizationType",
                    format!(
                        "Invalid authorization type {kind} for authorizer {id} of type \
                         {authorizer_type}: use COGNITO_USER_POOLS with Cognito authorizers and \
                         CUSTOM with TOKEN or REQUEST authorizers"
                    ),
                ));
            }
        }
        other => {
            return Err(broken(
                "authorizationType",
                format!(
                    "Invalid authorization type '{other}': must be NONE, AWS_IAM, CUSTOM or \
                     COGNITO_USER_POOLS"
                ),
            ))
        }
    }
    // `authorizationScopes` are kept whatever the type (tools send them along) and only
    // enforced with COGNITO_USER_POOLS, as in API Gateway.
    for key in m.request_parameters.keys() {
        let (loc, name) = validate::method_request_parameter(key).member("requestParameters")?;
        if loc == "path" && !path_params(resource_path).any(|p| p == name) {
            return Err(broken(
                "requestParameters",
                format!(
                    "Invalid method request parameter specified: {key}: the resource path \
                     {resource_path} has no {{{name}}}"
                ),
            ));
        }
    }
    // `$default` names the model used for any content type without its own.
    for ct in m.request_models.keys().filter(|ct| *ct != "$default") {
        validate::content_type(ct).member("requestModels")?;
    }
    Ok(())
}

/// Checks a method response.
pub fn method_response(r: &MethodResponse) -> RuleResult {
    validate::status_code(&r.status_code).member("statusCode")?;
    for key in r.response_parameters.keys() {
        validate::method_response_parameter(key).member("responseParameters")?;
    }
    for ct in r.response_models.keys() {
        validate::content_type(ct).member("responseModels")?;
    }
    Ok(())
}

/// Checks an integration against its method and resource path.
pub fn integration(i: &Integration, method: &Method, resource_path: &str) -> RuleResult {
    let needs_method = |i: &Integration| {
        if i.http_method.as_deref().unwrap_or_default().is_empty() {
            Err(broken(
                "httpMethod",
                "Enumeration value for HttpMethod must be non-empty".into(),
            ))
        } else {
            Ok(())
        }
    };
    let uri = i.uri.as_deref().unwrap_or_default();
    match i.integration_type.as_str() {
        "MOCK" => {}
        "HTTP" | "HTTP_PROXY" => {
            needs_method(i)?;
            validate::http_uri(uri).member("uri")?;
        }
        "AWS" => {
            needs_method(i)?;
            validate::aws_uri(uri).member("uri")?;
        }
        "AWS_PROXY" => {
            needs_method(i)?;
            validate::aws_proxy_uri(uri).member("uri")?;
        }
        other => {
            return Err(broken(
                "type",
                format!(
                    "Invalid integration type '{other}': must be MOCK, HTTP, HTTP_PROXY, AWS or \
                     AWS_PROXY"
                ),
            ))
        }
    }
    if let Some(m) = &i.http_method {
        if !m.is_empty() {
            validate::http_method(m).member("httpMethod")?;
        }
    }
    if !(50..=29_000).contains(&i.timeout_in_millis) {
        return Err(broken(
            "timeoutInMillis",
            "Timeout should be between 50 ms and 29000 ms".into(),
        ));
    }
    if !matches!(
        i.passthrough_behavior.as_str(),
        "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER"
    ) {
        return Err(broken(
            "passthroughBehavior",
            format!(
                "Invalid passthrough behavior '{}': must be WHEN_NO_MATCH, WHEN_NO_TEMPLATES or \
                 NEVER",
                i.passthrough_behavior
            ),
        ));
    }
    match i.connection_type.as_str() {
        "INTERNET" => {
            if i.connection_id.is_some() {
                return Err(broken(
                    "connectionId",
                    "connectionId is only valid when connectionType is VPC_LINK".into(),
                ));
            }
        }
        "VPC_LINK" => {
            if !matches!(i.integration_type.as_str(), "HTTP" | "HTTP_PROXY") {
                return Err(broken(
                    "connectionType",
                    format!(
                        "Invalid connection type VPC_LINK for an integration of type {}: \
                         private integrations are HTTP or HTTP_PROXY",
                        i.integration_type
                    ),
                ));
            }
            if i.connection_id.is_none() {
                return Err(broken(
                    "connectionId",
                    "connectionId is required when connectionType is VPC_LINK: the id of a \
                     VPC link (GetVpcLinks), or a stage variable naming one"
                        .into(),
                ));
            }
        }
        other => {
            return Err(broken(
                "connectionType",
                format!("Invalid connection type '{other}': must be INTERNET or VPC_LINK"),
            ))
        }
    }
    if let Some(ch) = &i.content_handling {
        validate::content_handling(ch).member("contentHandling")?;
    }
    let declared = |loc: &str, name: &str| {
        method
            .request_parameters
            .contains_key(&format!("method.request.{loc}.{name}"))
            || (loc == "path" && path_params(resource_path).any(|p| p == name))
    };
    for (target, source) in &i.request_parameters {
        validate::integration_request_target(target).member("requestParameters")?;
        validate::integration_request_source(source, declared).member("requestParameters")?;
    }
    for ct in i.request_templates.keys() {
        validate::content_type(ct).member("requestTemplates")?;
    }
    templates(&i.request_templates).member("requestTemplates")
}

/// A `connectionId` that names its VPC link through a stage variable
/// (`${stageVariables.vpcLinkId}`): resolved per stage, so not checked when saved.
fn is_stage_variable(id: &str) -> bool {
    id.strip_prefix("${stageVariables.")
        .and_then(|rest| rest.strip_suffix('}'))
        .is_some_and(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// A VPC_LINK integration must name an existing VPC link (the one rule of an integration
/// that reads the store); the link's row is share-locked until the transaction ends, so a
/// concurrent DeleteVpcLink waits and then sees the integration.
pub async fn vpc_link(conn: &mut sqlx::PgConnection, i: &Integration) -> RuleResult {
    let Some(id) = i.connection_id.as_deref() else {
        return Ok(());
    };
    if i.connection_type != "VPC_LINK" || is_stage_variable(id) {
        return Ok(());
    }
    match store::vpc_links::load(conn, id, store::vpc_links::Lock::Share).await {
        Err(ApiError::NotFound(_)) => Err(broken(
            "connectionId",
            format!("Invalid connectionId '{id}': there is no VPC link with this id"),
        )),
        other => other.map(|_| ()).member("connectionId"),
    }
}

/// Parses mapping templates so a broken one is refused when saved, naming where it breaks
/// (the data plane would otherwise refuse the whole deployment).
pub fn templates(templates: &BTreeMap<String, String>) -> crate::error::ApiResult<()> {
    for (content_type, text) in templates {
        if let Err(e) = apigw_gateway::compile::check::template(text) {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping template specified for content type '{content_type}': \
                 line {}, column {}: {}",
                e.line, e.column, e.message
            )));
        }
    }
    Ok(())
}

/// Checks an integration response against the method's declared method responses.
pub fn integration_response(r: &IntegrationResponse, method: &Method) -> RuleResult {
    validate::status_code(&r.status_code).member("statusCode")?;
    let method_response = method
        .method_responses
        .get(&r.status_code)
        .ok_or_else(|| Broken {
            member: "statusCode",
            error: ApiError::not_found("Invalid Response status code specified"),
        })?;
    if let Some(p) = &r.selection_pattern {
        apigw_gateway::compile::check::selection_pattern(p).map_err(|e| {
            broken(
                "selectionPattern",
                format!("Invalid selection pattern '{p}': {e}"),
            )
        })?;
    }
    for (target, source) in &r.response_parameters {
        validate::method_response_parameter(target).member("responseParameters")?;
        if !method_response.response_parameters.contains_key(target) {
            return Err(broken(
                "responseParameters",
                format!(
                    "Invalid mapping expression specified: Validation Result: warnings : [], \
                     errors : [Invalid mapping expression specified: {target}] (declare it in \
                     the method response {} first)",
                    r.status_code
                ),
            ));
        }
        validate::integration_response_source(source).member("responseParameters")?;
    }
    for ct in r.response_templates.keys() {
        validate::content_type(ct).member("responseTemplates")?;
    }
    templates(&r.response_templates).member("responseTemplates")?;
    if let Some(ch) = &r.content_handling {
        validate::content_handling(ch).member("contentHandling")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_integration(uri: &str) -> Integration {
        Integration {
            integration_type: "HTTP_PROXY".into(),
            http_method: Some("GET".into()),
            uri: Some(uri.into()),
            connection_type: "INTERNET".into(),
            passthrough_behavior: "WHEN_NO_MATCH".into(),
            timeout_in_millis: 29_000,
            ..Default::default()
        }
    }

    #[test]
    fn method_validation() {
        let mut m = Method {
            http_method: "GET".into(),
            authorization_type: "NONE".into(),
            ..Default::default()
        };
        assert!(method(&m, "/pets/{id}", &BTreeMap::new()).is_ok());
        m.request_parameters
            .insert("method.request.path.id".into(), true);
        assert!(method(&m, "/pets/{id}", &BTreeMap::new()).is_ok());
        let err = method(&m, "/pets", &BTreeMap::new()).unwrap_err();
        assert_eq!(err.member, "requestParameters");
        m.authorization_type = "BASIC".into();
        let err = method(&m, "/pets/{id}", &BTreeMap::new()).unwrap_err();
        assert_eq!(err.member, "authorizationType");
    }

    #[test]
    fn integration_validation() {
        let m = Method::default();
        assert!(integration(&http_integration("http://h/{id}"), &m, "/p/{id}").is_ok());
        let err = integration(&http_integration("h/x"), &m, "/").unwrap_err();
        assert_eq!(err.member, "uri");
        let mut i = http_integration("http://h");
        i.timeout_in_millis = 49;
        assert_eq!(
            integration(&i, &m, "/").unwrap_err().member,
            "timeoutInMillis"
        );
        i.timeout_in_millis = 29_001;
        assert!(integration(&i, &m, "/").is_err());
        let mut i = http_integration("http://h");
        i.http_method = None;
        assert_eq!(integration(&i, &m, "/").unwrap_err().member, "httpMethod");
        let mut i = http_integration("http://h");
        i.request_parameters.insert(
            "integration.request.path.id".into(),
            "method.request.path.id".into(),
        );
        assert!(integration(&i, &m, "/p/{id}").is_ok());
        assert_eq!(
            integration(&i, &m, "/p").unwrap_err().member,
            "requestParameters"
        );
    }

    #[test]
    fn vpc_links_are_for_http_integrations_with_an_id() {
        let m = Method::default();
        let mut i = http_integration("http://h");
        i.connection_id = Some("abc".into());
        assert_eq!(integration(&i, &m, "/").unwrap_err().member, "connectionId");
        i.connection_type = "VPC_LINK".into();
        assert!(integration(&i, &m, "/").is_ok());
        i.connection_id = None;
        assert_eq!(integration(&i, &m, "/").unwrap_err().member, "connectionId");
        i.connection_id = Some("${stageVariables.link}".into());
        i.integration_type = "MOCK".into();
        assert_eq!(
            integration(&i, &m, "/").unwrap_err().member,
            "connectionType"
        );
        assert!(is_stage_variable("${stageVariables.link}"));
        assert!(!is_stage_variable("${context.x}"));
    }

    #[test]
    fn integration_response_validation() {
        let mut m = Method::default();
        let mut r = IntegrationResponse {
            status_code: "200".into(),
            ..Default::default()
        };
        assert!(integration_response(&r, &m).is_err(), "no method response");
        m.method_responses.insert("200".into(), Default::default());
        assert!(integration_response(&r, &m).is_ok());
        r.selection_pattern = Some("(".into());
        assert_eq!(
            integration_response(&r, &m).unwrap_err().member,
            "selectionPattern"
        );
        // Java patterns with lookaround are accepted, as API Gateway accepts them.
        r.selection_pattern = Some(r"(?!2)\d{3}".into());
        assert!(integration_response(&r, &m).is_ok());
    }

    #[test]
    fn templates_are_parsed_when_saved() {
        let m = Method::default();
        let mut i = http_integration("http://h");
        i.request_templates.insert(
            "application/json".into(),
            r#"{"age" : $input.json('$.personData.age')}"#.into(),
        );
        assert!(integration(&i, &m, "/").is_ok());
        i.request_templates
            .insert("text/plain".into(), "ok\n#foreach($x in [1..2]".into());
        let err = integration(&i, &m, "/").unwrap_err();
        assert_eq!(err.member, "requestTemplates");
        let err = err.error.to_string();
        assert!(
            err.contains("'text/plain'") && err.contains("line 2, column"),
            "{err}"
        );

        let mut m = Method::default();
        m.method_responses.insert("200".into(), Default::default());
        let mut r = IntegrationResponse {
            status_code: "200".into(),
            ..Default::default()
        };
        r.response_templates.insert(
            "application/json".into(),
            r#"{"your-age": $input.json('$')}"#.into(),
        );
        assert!(integration_response(&r, &m).is_ok());
        r.response_templates
            .insert("application/json".into(), "#if($a)".into());
        let err = integration_response(&r, &m).unwrap_err().error.to_string();
        assert!(err.contains("line 1, column"), "{err}");
    }
}
