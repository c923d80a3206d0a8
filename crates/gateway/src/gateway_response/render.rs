//! Renders a [`GatewayError`] as the client-facing response: the API's customised gateway
//! response for that type, else DEFAULT_4XX / DEFAULT_5XX by the error's status class,
//! else the built-in (`{"message":"..."}`).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use serde_json::{json, Value};

use super::scope::ErrorScope;
use crate::body::Body;
use crate::compile::gateway_responses::HeaderSource;
use crate::compile::CompiledStage;
use crate::context::RequestContext;
use crate::error::{Builtin, GatewayError, ResponseType, X_AMZN_ERROR_TYPE};

/// Renders a gateway error as the client-facing response, through the stage's
/// customisations when there are any (the request id is added by the pipeline, as for
/// every response).
pub fn render(error: &GatewayError, ctx: &RequestContext, scope: &ErrorScope) -> Response<Body> {
    let builtin = error.builtin();
    let responses = scope.stage.as_ref().map(|s| &s.gateway_responses);
    let fallback = if builtin.status.is_server_error() {
        ResponseType::Default5xx
    } else {
        ResponseType::Default4xx
    };
    let specific = responses.and_then(|r| r.get(builtin.response_type));
    let custom = specific.or_else(|| responses.and_then(|r| r.get(fallback)));
    let (Some(custom), Some(stage)) = (custom, scope.stage.as_ref()) else {
        return render_builtin(&builtin);
    };
    let status = specific.and_then(|c| c.status).unwrap_or(builtin.status);
    let context = error_context(&builtin, ctx, stage, scope);
    let mut response = if custom.templates.is_empty() {
        json_response(status, default_body(&builtin.message))
    } else {
        let accept = scope.request.as_ref().and_then(|r| r.accept.as_deref());
        let (content_type, template) = choose_template(&custom.templates, accept);
        let input = vtl::RenderInput {
            body: String::new(),
            params: params(scope),
            context: context.clone(),
            stage_variables: (*stage_variables(scope)).clone(),
            variables: serde_json::Map::new(),
        };
        match template.render(&input) {
            Ok(out) => {
                let status = out
                    .response_override_status
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(status);
                let mut response = Response::new(Body::full(Bytes::from(out.body)));
                *response.status_mut() = status;
                if let Ok(v) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(CONTENT_TYPE, v);
                }
                for (k, v) in out.response_override_headers {
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(&v),
                    ) {
                        response.headers_mut().insert(k, v);
                    }
                }
                response
            }
            Err(e) => {
                tracing::warn!(error = %e, response_type = builtin.response_type.name(),
                    "gateway response template failed; sending the built-in body");
                json_response(status, default_body(&builtin.message))
            }
        }
    };
    response.headers_mut().insert(
        X_AMZN_ERROR_TYPE.clone(),
        HeaderValue::from_static(builtin.error_type),
    );
    for (name, source) in &custom.headers {
        if let Some(v) = header_value(source, scope, &context) {
            response.headers_mut().insert(name.clone(), v);
        }
    }
    response
}

/// Renders a gateway error the way HTTP APIs answer it: AWS's status and
/// `{"message":"..."}` (no customisation, no `x-amzn-ErrorType`).
pub fn render_http_api(error: &GatewayError) -> Response<Body> {
    let (status, message) = error.http_api();
    let mut response = json_response(status, default_body(message));
    if let GatewayError::InvalidToken(why) = error {
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, www_authenticate(why));
    }
    response
}

/// AWS's `www-authenticate` of a refused JWT: `Bearer scope="" error="invalid_token"
/// error_description="{why}"`, the reason made a valid quoted string (no quotes,
/// backslashes or control characters).
fn www_authenticate(why: &str) -> HeaderValue {
    let why: String = why
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect();
    HeaderValue::try_from(format!(
        "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{why}\""
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""))
}

fn default_body(message: &str) -> String {
    json!({ "message": message }).to_string()
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::full(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn render_builtin(builtin: &Builtin) -> Response<Body> {
    let mut response = json_response(builtin.status, default_body(&builtin.message));
    response.headers_mut().insert(
        X_AMZN_ERROR_TYPE.clone(),
        HeaderValue::from_static(builtin.error_type),
    );
    response
}

/// The template for the request's `Accept` (exact media type), else
/// `application/json`, else the first.
fn choose_template<'a>(
    templates: &'a [(Box<str>, vtl::Template)],
    accept: Option<&str>,
) -> (&'a str, &'a vtl::Template) {
    let wanted = accept.into_iter().flat_map(|a| a.split(',')).map(|m| {
        m.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let found = wanted
        .filter_map(|w| templates.iter().find(|(ct, _)| **ct == *w))
        .next()
        .or_else(|| templates.iter().find(|(ct, _)| &**ct == "application/json"))
        .unwrap_or(&templates[0]);
    (&found.0, &found.1)
}

fn stage_variables(scope: &ErrorScope) -> Arc<BTreeMap<String, String>> {
    scope
        .method
        .as_ref()
        .map(|m| Arc::clone(&m.template_scope.stage_variables))
        .or_else(|| scope.stage.as_ref().map(|s| Arc::clone(&s.stage_variables)))
        .unwrap_or_default()
}

fn params(scope: &ErrorScope) -> vtl::Params {
    let Some(r) = &scope.request else {
        return vtl::Params::default();
    };
    vtl::Params {
        path: r.path_params.clone(),
        querystring: r.query.clone(),
        header: r
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
    }
}

/// `$context` for error templates and `context.*` headers.
fn error_context(
    builtin: &Builtin,
    ctx: &RequestContext,
    stage: &CompiledStage,
    scope: &ErrorScope,
) -> Value {
    let message = builtin.message.as_ref();
    let epoch_ms = ctx
        .received_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let request = scope.request.as_ref();
    json!({
        "requestId": ctx.request_id_str(),
        "extendedRequestId": ctx.extended_request_id().as_str(),
        "apiId": &*stage.api_id,
        "stage": &*stage.stage_name,
        "deploymentId": &*stage.deployment_id,
        "resourcePath": scope.method.as_ref().map(|m| &*m.resource_path),
        "httpMethod": request.map(|r| r.http_method.as_str()),
        "path": request.map(|r| r.path.as_str()),
        "requestTimeEpoch": epoch_ms,
        "identity": {
            "sourceIp": ctx.source_ip.to_string(),
            "apiKeyId": ctx.api_key_id.get().map(|k| &**k),
        },
        "error": {
            "message": message,
            "messageString": Value::String(message.to_string()).to_string(),
            "responseType": builtin.response_type.name(),
            "validationErrorString": builtin.detail.as_deref().unwrap_or(message),
        },
    })
}

fn header_value(source: &HeaderSource, scope: &ErrorScope, context: &Value) -> Option<HeaderValue> {
    let text = match source {
        HeaderSource::Static(v) => return Some(v.clone()),
        HeaderSource::RequestHeader(name) => {
            return scope.request.as_ref()?.headers.get(name).cloned();
        }
        HeaderSource::RequestQuery(name) => scope.request.as_ref()?.query.get(&**name)?.clone(),
        HeaderSource::RequestPath(name) => {
            scope.request.as_ref()?.path_params.get(&**name)?.clone()
        }
        HeaderSource::StageVariable(name) => stage_variables(scope).get(&**name)?.clone(),
        HeaderSource::Context(path) => {
            let mut v = context;
            for seg in path.split('.') {
                v = v.get(seg)?;
            }
            match v {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            }
        }
    };
    HeaderValue::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::gateway_responses::{parse_source, GatewayResponses};
    use crate::error::ALL_TYPES;
    use apigw_proto::config as pb;
    use http_body_util::BodyExt;

    fn all_errors() -> Vec<(GatewayError, u16)> {
        vec![
            (GatewayError::Forbidden, 403),
            (GatewayError::MissingAuthenticationToken, 403),
            (GatewayError::InvalidApiKey, 403),
            (GatewayError::QuotaExceeded, 429),
            (GatewayError::Throttled, 429),
            (GatewayError::RequestTooLarge, 413),
            (GatewayError::UnsupportedMediaType, 415),
            (GatewayError::BadRequest("x"), 400),
            (GatewayError::BadRequestParameters(vec!["a".into()]), 400),
            (GatewayError::BadRequestBody("x".into()), 400),
            (GatewayError::IntegrationTimeout, 504),
            (GatewayError::IntegrationFailure("refused".into()), 502),
            (GatewayError::Configuration("x"), 500),
        ]
    }

    async fn body_of(r: Response<Body>) -> String {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn builtins_are_json_with_an_error_type() {
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        for (error, status) in all_errors() {
            let response = render(&error, &ctx, &ErrorScope::default());
            assert_eq!(response.status().as_u16(), status, "{error:?}");
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert!(response.headers().contains_key(&X_AMZN_ERROR_TYPE));
            let json: Value = serde_json::from_str(&body_of(response).await).unwrap();
            assert!(json["message"].is_string());
        }
    }

    #[test]
    fn missing_parameters_are_named_as_aws_words_them() {
        let e = GatewayError::BadRequestParameters(vec!["q".into(), "x-token".into()]);
        assert_eq!(
            e.builtin().message,
            "Missing required request parameters: [q, x-token]"
        );
        assert_eq!(
            GatewayError::BadRequestBody("detail".into())
                .builtin()
                .message,
            "Invalid request body"
        );
    }

    #[test]
    fn every_type_round_trips_its_name() {
        for (t, name) in ALL_TYPES {
            assert_eq!(t.name(), name);
            assert_eq!(ResponseType::from_name(name), Some(t));
        }
        assert_eq!(ResponseType::from_name("NOPE"), None);
    }

    fn custom(
        t: &str,
        status: &str,
        params: &[(&str, &str)],
        templates: &[(&str, &str)],
    ) -> pb::GatewayResponse {
        pb::GatewayResponse {
            response_type: t.into(),
            status_code: status.into(),
            response_parameters: params
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            response_templates: templates
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    #[test]
    fn compile_refuses_bad_customisations() {
        assert!(GatewayResponses::compile(&[custom("NOPE", "", &[], &[])]).is_err());
        assert!(GatewayResponses::compile(&[custom("THROTTLED", "99x", &[], &[])]).is_err());
        assert!(GatewayResponses::compile(&[custom(
            "THROTTLED",
            "",
            &[("method.response.header.x", "'v'")],
            &[]
        )])
        .is_err());
        assert!(GatewayResponses::compile(&[custom(
            "THROTTLED",
            "",
            &[],
            &[("application/json", "#if(")]
        )])
        .is_err());
        let ok = GatewayResponses::compile(&[custom(
            "DEFAULT_4XX",
            "",
            &[("gatewayresponse.header.Access-Control-Allow-Origin", "'*'")],
            &[(
                "application/json",
                "{\"message\":$context.error.messageString}",
            )],
        )])
        .unwrap();
        assert!(ok.get(ResponseType::Default4xx).is_some());
        assert!(!ok.needs_request());
        let reads = GatewayResponses::compile(&[custom(
            "THROTTLED",
            "",
            &[
                ("gatewayresponse.header.a", "method.request.header.Origin"),
                ("gatewayresponse.header.b", "method.request.querystring.q"),
                ("gatewayresponse.header.c", "method.request.path.id"),
            ],
            &[],
        )])
        .unwrap();
        assert!(reads.needs_request());
        assert_eq!(reads.read_headers, vec![HeaderName::from_static("origin")]);
        assert_eq!(reads.read_query, vec![Box::from("q")]);
        assert_eq!(reads.read_path, vec![Box::from("id")]);
        assert!(!reads.has_templates);
    }

    fn stage_with(responses: Vec<pb::GatewayResponse>) -> Arc<CompiledStage> {
        Arc::new(
            crate::compile::compile_stage(&pb::StageConfig {
                api_id: "api1".into(),
                stage_name: "prod".into(),
                variables: [("who".to_string(), "stage-var".to_string())].into(),
                deployment: Some(pb::DeploymentSnapshot {
                    gateway_responses: responses,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn default_4xx_applies_to_4xx_types_only_and_renders_its_template() {
        let stage = stage_with(vec![custom(
            "DEFAULT_4XX",
            "",
            &[
                ("gatewayresponse.header.x-origin", "method.request.header.origin"),
                ("gatewayresponse.header.x-who", "stageVariables.who"),
                ("gatewayresponse.header.x-type", "context.error.responseType"),
            ],
            &[(
                "application/json",
                "{\"m\":$context.error.messageString,\"v\":\"$context.error.validationErrorString\"}",
            )],
        )]);
        let parts = http::Request::builder()
            .uri("/restapis/api1/prod/_user_request_/x")
            .header("origin", "https://o.example")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let mut scope = ErrorScope::default();
        scope.observe(&stage, None, &parts);
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        let r = render(
            &GatewayError::BadRequestBody("age: not an integer".into()),
            &ctx,
            &scope,
        );
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-origin"], "https://o.example");
        assert_eq!(r.headers()["x-who"], "stage-var");
        assert_eq!(r.headers()["x-type"], "BAD_REQUEST_BODY");
        assert_eq!(r.headers()[&X_AMZN_ERROR_TYPE], "BadRequestException");
        assert_eq!(
            body_of(r).await,
            r#"{"m":"Invalid request body","v":"[age: not an integer]"}"#
        );
        // A 5xx has no customisation to fall back to: the built-in.
        let r = render(&GatewayError::IntegrationTimeout, &ctx, &scope);
        assert_eq!(r.status(), 504);
        assert!(r.headers().get("x-origin").is_none());
        assert_eq!(
            body_of(r).await,
            r#"{"message":"Endpoint request timed out"}"#
        );
    }

    #[tokio::test]
    async fn a_specific_type_wins_over_the_default_and_overrides_the_status() {
        let stage = stage_with(vec![
            custom(
                "DEFAULT_4XX",
                "",
                &[("gatewayresponse.header.x-d", "'4xx'")],
                &[],
            ),
            custom(
                "THROTTLED",
                "503",
                &[("gatewayresponse.header.x-t", "'t'")],
                &[],
            ),
        ]);
        let parts = http::Request::builder()
            .uri("/")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let mut scope = ErrorScope::default();
        scope.observe(&stage, None, &parts);
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        let r = render(&GatewayError::Throttled, &ctx, &scope);
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["x-t"], "t");
        assert!(r.headers().get("x-d").is_none());
        assert_eq!(body_of(r).await, r#"{"message":"Too Many Requests"}"#);
        let r = render(&GatewayError::InvalidApiKey, &ctx, &scope);
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["x-d"], "4xx");
    }

    #[test]
    fn sources_parse_as_aws_writes_them() {
        assert_eq!(
            parse_source("'*'"),
            Some(HeaderSource::Static(HeaderValue::from_static("*")))
        );
        assert_eq!(
            parse_source("method.request.header.Origin"),
            Some(HeaderSource::RequestHeader(HeaderName::from_static(
                "origin"
            )))
        );
        assert_eq!(
            parse_source("stageVariables.o"),
            Some(HeaderSource::StageVariable("o".into()))
        );
        assert_eq!(
            parse_source("context.requestId"),
            Some(HeaderSource::Context("requestId".into()))
        );
        assert_eq!(parse_source("integration.response.header.x"), None);
        assert_eq!(parse_source("*"), None);
    }

    #[test]
    fn templates_are_chosen_by_accept_then_json_then_first() {
        let t = |s: &str| vtl::Template::parse(s).unwrap();
        let templates = vec![
            ("application/json".into(), t("j")),
            ("application/xml".into(), t("x")),
        ];
        assert_eq!(
            choose_template(&templates, Some("application/xml")).0,
            "application/xml"
        );
        assert_eq!(
            choose_template(&templates, Some("text/html, application/xml;q=0.9")).0,
            "application/xml"
        );
        assert_eq!(
            choose_template(&templates, Some("text/html")).0,
            "application/json"
        );
        assert_eq!(choose_template(&templates, None).0, "application/json");
        let only_xml = vec![("application/xml".into(), t("x"))];
        assert_eq!(choose_template(&only_xml, None).0, "application/xml");
    }
}
