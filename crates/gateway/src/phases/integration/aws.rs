//! AWS (non-proxy) with a Lambda function: the request template's output (or the body
//! passed through) is the event; the function's result goes through the integration
//! responses — a function error's `errorMessage` is matched against the selection
//! patterns, a success takes the default response — whose templates shape the method
//! response.
//!
//! Binary payloads follow `contentHandling`: on the request, a body whose Content-Type is
//! one of the API's `binaryMediaTypes` is base64-encoded for CONVERT_TO_TEXT, a text body
//! is base64-decoded for CONVERT_TO_BINARY; on the response, the selected integration
//! response's `contentHandling` converts the function's result the same way.

use bytes::Bytes;
use http::request::Parts;
use http::Response;

use super::content_handling::{convert_request, convert_response};
use super::invoke_api::{self, FunctionsEndpoint};
use super::media_type;
use crate::backend_client::BackendClient;
use crate::body::Body;
use crate::compile::function::FunctionIntegration;
use crate::compile::TemplateChoice;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::integration_response::{self, IntegrationOutput, OutputBody};
use crate::phases::route::Routed;
use crate::template::TemplateEnv;

/// Invokes the function with the mapped event and maps its result.
pub async fn invoke(
    client: &BackendClient,
    endpoint: Option<&FunctionsEndpoint>,
    integration: &FunctionIntegration,
    ctx: &RequestContext,
    routed: &Routed,
    parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    let mut env = TemplateEnv::new(ctx, routed, &parts);
    let content_type = media_type(&parts.headers);
    let binary = integration.binary_media_types.matches(content_type);
    let choice = integration.templates.choose(content_type);
    if matches!(choice, TemplateChoice::Unsupported) {
        return Err(GatewayError::UnsupportedMediaType);
    }
    let raw = crate::phases::read_body(body).await?;
    let payload = convert_request(raw, binary, integration.content_handling)?;
    let event = match choice {
        TemplateChoice::Template(Some(template)) => {
            let text = String::from_utf8_lossy(&payload).into_owned();
            Bytes::from(env.render(template, text)?.body)
        }
        _ => payload,
    };
    let invocation = invoke_api::invoke(
        client,
        ctx,
        endpoint,
        &integration.target,
        event,
        integration.timeout,
    )
    .await?;
    let error_message = invocation.error_message();
    if let Some(message) = &error_message {
        tracing::debug!(
            request_id = ctx.request_id_str(),
            function = %integration.target.name,
            %message,
            "function returned an error"
        );
    }
    let selected = integration_response::select_for_function(
        &integration.responses,
        error_message.as_deref(),
    )?;
    let result = convert_response(invocation.payload, selected.content_handling, true)?;
    let output = IntegrationOutput {
        headers: None,
        body: OutputBody::Buffered(result),
    };
    integration_response::respond(selected, output, &mut env).await
}
