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

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use http::request::Parts;
use http::Response;
use http_body_util::BodyExt;

use super::invoke_api::{self, FunctionsEndpoint};
use super::media_type;
use crate::backend_client::BackendClient;
use crate::body::{Body, BodyError};
use crate::compile::function::{ContentHandling, FunctionIntegration};
use crate::compile::TemplateChoice;
use crate::pipeline::context::RequestContext;
use crate::pipeline::gateway_response::GatewayError;
use crate::pipeline::integration_response::{self, IntegrationOutput, OutputBody};
use crate::pipeline::route::Routed;
use crate::pipeline::template::TemplateEnv;

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
    let raw = read_body(body).await?;
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
    let result = convert_result(invocation.payload, selected.content_handling)?;
    let output = IntegrationOutput {
        headers: None,
        body: OutputBody::Buffered(result),
    };
    integration_response::respond(selected, output, &mut env).await
}

/// Reads the client's body within the payload limit.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, GatewayError> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(BodyError::TooLarge) => Err(GatewayError::RequestTooLarge),
        Err(BodyError::Transport(_) | BodyError::Backend(_)) => Err(GatewayError::BadRequest(
            "the request body could not be read",
        )),
    }
}

/// Applies the integration's `contentHandling` to the request body.
fn convert_request(
    body: Bytes,
    binary: bool,
    handling: ContentHandling,
) -> Result<Bytes, GatewayError> {
    match handling {
        ContentHandling::ConvertToText if binary => Ok(Bytes::from(BASE64.encode(&body))),
        ContentHandling::ConvertToBinary if !binary && !body.is_empty() => BASE64
            .decode(body.trim_ascii())
            .map(Bytes::from)
            .map_err(|_| GatewayError::BadRequest("the request body is not valid base64")),
        _ => Ok(body),
    }
}

/// Applies an integration response's `contentHandling` to the function's result. A JSON
/// string result (what a function returning a string produces) is unquoted first.
fn convert_result(payload: Bytes, handling: ContentHandling) -> Result<Bytes, GatewayError> {
    match handling {
        ContentHandling::Passthrough => Ok(payload),
        ContentHandling::ConvertToText => Ok(Bytes::from(BASE64.encode(&payload))),
        ContentHandling::ConvertToBinary => {
            let text = match serde_json::from_slice::<serde_json::Value>(&payload) {
                Ok(serde_json::Value::String(s)) => s,
                _ => String::from_utf8_lossy(&payload).into_owned(),
            };
            BASE64.decode(text.trim()).map(Bytes::from).map_err(|_| {
                GatewayError::IntegrationFailure(
                    "function result is not base64 (CONVERT_TO_BINARY)".into(),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_content_handling() {
        let png = Bytes::from_static(&[0x89, b'P', b'N', b'G']);
        assert_eq!(
            convert_request(png.clone(), true, ContentHandling::ConvertToText).unwrap(),
            "iVBORw=="
        );
        // Only binary bodies are converted to text; text bodies pass.
        assert_eq!(
            convert_request(
                Bytes::from_static(b"{}"),
                false,
                ContentHandling::ConvertToText
            )
            .unwrap(),
            "{}"
        );
        assert_eq!(
            convert_request(
                Bytes::from_static(b"iVBORw=="),
                false,
                ContentHandling::ConvertToBinary
            )
            .unwrap(),
            png
        );
        assert_eq!(
            convert_request(
                Bytes::from_static(b"%%"),
                false,
                ContentHandling::ConvertToBinary
            )
            .unwrap_err()
            .status(),
            400
        );
        assert_eq!(
            convert_request(png.clone(), true, ContentHandling::Passthrough).unwrap(),
            png
        );
    }

    #[test]
    fn result_content_handling() {
        assert_eq!(
            convert_result(
                Bytes::from_static(b"\"AAEC\""),
                ContentHandling::ConvertToBinary
            )
            .unwrap(),
            Bytes::from_static(&[0, 1, 2])
        );
        assert_eq!(
            convert_result(
                Bytes::from_static(b"AAEC"),
                ContentHandling::ConvertToBinary
            )
            .unwrap(),
            Bytes::from_static(&[0, 1, 2])
        );
        assert_eq!(
            convert_result(
                Bytes::from_static(&[0, 1, 2]),
                ContentHandling::ConvertToText
            )
            .unwrap(),
            "AAEC"
        );
        assert_eq!(
            convert_result(
                Bytes::from_static(b"{\"a\":1}"),
                ContentHandling::ConvertToBinary
            )
            .unwrap_err()
            .status(),
            502
        );
    }
}
