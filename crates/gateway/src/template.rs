//! Rendering mapping templates for one request (SPEC 5.9): builds what a template sees —
//! `$input.params()`, `$context.*`, `$stageVariables` — on first use and only the parts
//! the template reads ([`Needs`], found at compile time), and reuses it for the request
//! template and the response template.
//!
//! Templates were parsed when the stage was compiled; only rendering happens here. Used by
//! the MOCK and HTTP integrations, the integration response step and the function (AWS)
//! integration.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HOST, USER_AGENT};
use http::request::Parts;
use serde_json::{json, Map, Value};

use crate::compile::mapping::decode;
use crate::compile::template::{CompiledTemplate, Needs, ParamNeeds, CONTEXT_FIELDS};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::api_key::X_API_KEY;
use crate::phases::route::Routed;

/// Renders templates for one request; what they see is built on the first render.
#[derive(Debug)]
pub struct TemplateEnv<'a> {
    ctx: &'a RequestContext,
    routed: &'a Routed,
    parts: &'a Parts,
    input: vtl::RenderInput,
    /// What `input` holds so far.
    built: Needs,
    /// Which parameters `input.params` holds.
    params_built: ParamNeeds,
}

impl<'a> TemplateEnv<'a> {
    /// An environment for the request `parts` routed to `routed`.
    pub fn new(ctx: &'a RequestContext, routed: &'a Routed, parts: &'a Parts) -> Self {
        TemplateEnv {
            ctx,
            routed,
            parts,
            input: vtl::RenderInput {
                context: Value::Object(Map::new()),
                ..Default::default()
            },
            built: Needs::default(),
            params_built: ParamNeeds::None,
        }
    }

    /// The request's `Accept` header, which picks the response template.
    pub fn accept(&self) -> Option<&'a str> {
        self.parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
    }

    /// Renders `template` over `body` (`$input.body`). A render that fails (a limit, a
    /// method that throws) is an execution failure of the API's configuration: 500.
    pub fn render(
        &mut self,
        template: &CompiledTemplate,
        body: String,
    ) -> Result<vtl::RenderOutput, GatewayError> {
        self.provide(template.needs);
        self.provide_params(&template.params);
        self.input.body = body;
        template.render(&self.input).map_err(|error| {
            tracing::warn!(
                request_id = self.ctx.request_id_str(),
                %error,
                "mapping template failed to render"
            );
            GatewayError::Configuration("mapping template could not be rendered")
        })
    }

    /// The request's context, for `context.requestId` / `extendedRequestId` mappings.
    pub fn context(&self) -> &'a RequestContext {
        self.ctx
    }

    /// Takes back the body of the last render (saves a copy when it is needed again).
    pub fn take_body(&mut self) -> String {
        std::mem::take(&mut self.input.body)
    }

    /// Builds `$input.params` for what the template may ask (only the named parameters when
    /// it names them all), keeping what earlier templates of the request needed.
    fn provide_params(&mut self, wanted: &ParamNeeds) {
        let next = match (&self.params_built, wanted) {
            (_, ParamNeeds::None) | (ParamNeeds::All, _) => return,
            (_, ParamNeeds::All) => ParamNeeds::All,
            (ParamNeeds::Named(have), ParamNeeds::Named(want))
                if want.iter().all(|w| have.contains(w)) =>
            {
                return
            }
            (ParamNeeds::Named(have), ParamNeeds::Named(want)) => ParamNeeds::Named(
                have.iter()
                    .chain(want.iter().filter(|w| !have.contains(w)))
                    .cloned()
                    .collect(),
            ),
            (ParamNeeds::None, named) => named.clone(),
        };
        let only = match &next {
            ParamNeeds::Named(names) => Some(&**names),
            _ => None,
        };
        self.input.params = params(self.routed, self.parts, only);
        self.params_built = next;
    }

    /// Adds to the render input what `needs` asks for and it does not hold yet.
    fn provide(&mut self, needs: Needs) {
        if self.built.covers(needs) {
            return;
        }
        let (ctx, routed, parts) = (self.ctx, self.routed, self.parts);
        if needs.stage_variables && !self.built.stage_variables {
            self.input.stage_variables = (*routed.method.template_scope.stage_variables).clone();
        }
        let missing = needs.context & !self.built.context;
        if missing != 0 {
            if let Value::Object(map) = &mut self.input.context {
                for (i, name) in CONTEXT_FIELDS.iter().enumerate() {
                    if missing & (1 << i) != 0 {
                        map.insert((*name).to_owned(), context_field(name, ctx, routed, parts));
                    }
                }
            }
        }
        self.built = self.built.union(needs);
    }
}

/// What a WebSocket integration's templates see for one message (or `$connect`): its
/// `$context` (the event's `requestContext`: connectionId, routeKey, eventType, messageId,
/// identity, authorizer, ...), `$stageVariables`, and at `$connect` the upgrade request's
/// headers and query string as `$input.params()`. The request template and the integration
/// response's template of the message share it.
#[derive(Debug, Default)]
pub struct WsTemplateEnv {
    input: vtl::RenderInput,
}

impl WsTemplateEnv {
    /// An environment over `context` and the stage's variables.
    pub fn new(
        context: Value,
        stage_variables: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        WsTemplateEnv {
            input: vtl::RenderInput {
                context,
                stage_variables: stage_variables
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                ..Default::default()
            },
        }
    }

    /// `$input.params()`: the `$connect` request's headers and query parameters.
    pub fn with_params(mut self, headers: &http::HeaderMap, query: Option<&str>) -> Self {
        let header = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let querystring = crate::query::pairs(query.unwrap_or(""))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        self.input.params = vtl::Params {
            path: BTreeMap::new(),
            querystring,
            header,
        };
        self
    }

    /// Renders `template` over `body` (`$input.body`).
    pub fn render(
        &mut self,
        template: &CompiledTemplate,
        body: &[u8],
    ) -> Result<String, vtl::RenderError> {
        self.input.body = text_of(body);
        template.render(&self.input).map(|out| out.body)
    }
}

/// A body as `$input.body` text: valid UTF-8 copied as is (the common, fast case),
/// otherwise with invalid bytes replaced.
pub fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Reads a client's request body for a template (`$input.body`), within the payload
/// limit; bytes that are not UTF-8 are replaced, as API Gateway's text view does.
pub async fn read_request_body(body: crate::body::Body) -> Result<String, GatewayError> {
    Ok(text_of(&crate::phases::read_body(body).await?))
}

/// `$input.params()`: decoded path parameters, query parameters (the last value of a
/// repeated key, as API Gateway's single-value view) and headers; with `only`, just the
/// entries `$input.params(name)` could return for those names (headers matched without
/// case, as its lookup does).
fn params(routed: &Routed, parts: &Parts, only: Option<&[Box<str>]>) -> vtl::Params {
    let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|n| **n == *name));
    let wanted_header =
        |name: &str| only.is_none_or(|names| names.iter().any(|n| n.eq_ignore_ascii_case(name)));
    let stage_path = routed.stage_path(parts.uri.path());
    let path = routed
        .method
        .template_scope
        .param_names
        .iter()
        .zip(&routed.captures)
        .filter(|(name, _)| wanted(name))
        .map(|(name, capture)| {
            (
                name.to_string(),
                decode(capture.of(stage_path)).into_owned(),
            )
        })
        .collect();
    // Inserted in order, so a repeated key keeps its last value.
    let querystring = crate::query::pairs(parts.uri.query().unwrap_or(""))
        .filter(|(k, _)| wanted(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut header = BTreeMap::new();
    for (name, value) in &parts.headers {
        if !wanted_header(name.as_str()) {
            continue;
        }
        if let Ok(value) = value.to_str() {
            header.insert(name.as_str().to_owned(), value.to_owned());
        }
    }
    vtl::Params {
        path,
        querystring,
        header,
    }
}

/// One `$context` field (SPEC 5.9) by name.
fn context_field(name: &str, ctx: &RequestContext, routed: &Routed, parts: &Parts) -> Value {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let scope = &routed.method.template_scope;
    match name {
        "requestId" => json!(ctx.request_id_str()),
        "extendedRequestId" => json!(ctx.extended_request_id().as_str()),
        "apiId" => json!(&*routed.stage.api_id),
        "stage" => json!(&*routed.stage.stage_name),
        "deploymentId" => json!(&*scope.deployment_id),
        // Present only on stages with a canary, as in API Gateway.
        "isCanaryRequest" => match (routed.stage.is_canary, &routed.stage.canary) {
            (true, _) => json!(true),
            (false, Some(_)) => json!(false),
            (false, None) => Value::Null,
        },
        "resourcePath" => json!(&*routed.method.resource_path),
        "resourceId" => json!(&*scope.resource_id),
        "httpMethod" => json!(parts.method.as_str()),
        // `/{stage}/{path}` whichever invoke URL form reached us.
        "path" => json!(format!(
            "/{}{}",
            routed.stage.stage_name,
            routed.stage_path(parts.uri.path())
        )),
        "protocol" => json!(format!("{:?}", parts.version)),
        "domainName" => json!(header(HOST.as_str()).or(parts.uri.host())),
        // The first label of the host, as API Gateway gives it.
        "domainPrefix" => json!(header(HOST.as_str())
            .or(parts.uri.host())
            .map(|host| host.split(['.', ':']).next().unwrap_or(""))),
        "requestTime" => json!(request_time(ctx.received_at)),
        "requestTimeEpoch" => {
            let epoch_ms = ctx
                .received_at
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default();
            json!(u64::try_from(epoch_ms).unwrap_or(u64::MAX))
        }
        "identity" => {
            let api_key_id = ctx.api_key_id.get();
            let caller = ctx.iam_caller.get();
            json!({
                "sourceIp": ctx.source_ip.to_string(),
                "userAgent": header(USER_AGENT.as_str()),
                "apiKey": api_key_id.and(header(X_API_KEY)),
                "apiKeyId": api_key_id.map(|id| &**id),
                "accessKey": caller.map(|c| &*c.access_key),
                "userArn": caller.map(|c| &*c.user_arn),
                "caller": caller.map(|c| &*c.user_arn),
                "clientCert": ctx.client_cert.as_ref().map(|c| c.to_json()),
            })
        }
        "authorizer" => ctx
            .authorizer
            .get()
            .map_or_else(|| Value::Object(Default::default()), |a| a.context_object()),
        _ => Value::Null,
    }
}

/// API Gateway's `$context.requestTime` format: `dd/MMM/yyyy:HH:mm:ss +0000` (UTC).
pub fn request_time(at: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time::OffsetDateTime::from(at);
    let month = MONTHS
        .get(usize::from(u8::from(t.month())).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{:02}/{month}/{:04}:{:02}:{:02}:{:02} +0000",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn request_time_has_api_gateway_format() {
        // 2021-03-04T05:06:07Z
        let at = UNIX_EPOCH + Duration::from_secs(1_614_834_367);
        assert_eq!(request_time(at), "04/Mar/2021:05:06:07 +0000");
    }

    #[test]
    fn query_values_are_decoded_like_forms() {
        assert_eq!(crate::query::decode("a+b%2Fc"), "a b/c");
    }
}
