//! MOCK integration: no backend. The request template chosen by content type is rendered;
//! its output's JSON `statusCode` selects the integration response like a backend status
//! would, and that response's template (if any) makes the body.

use http::request::Parts;
use http::{Response, StatusCode};

use super::media_type;
use crate::body::Body;
use crate::compile::{mock_status, MockIntegration, TemplateChoice};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::integration_response::{self, IntegrationOutput, OutputBody};
use crate::phases::route::Routed;
use crate::template::{read_request_body, TemplateEnv};

/// Answers a MOCK method; the request body is read only when a template is rendered.
pub async fn invoke(
    mock: &MockIntegration,
    ctx: &RequestContext,
    routed: &Routed,
    parts: &Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    let mut env = TemplateEnv::new(ctx, routed, parts);
    let status = match mock.templates.choose(media_type(&parts.headers)) {
        TemplateChoice::Template(Some(template)) => {
            let text = read_request_body(body).await?;
            mock_status(&env.render(template, text)?.body)
        }
        TemplateChoice::Template(None) | TemplateChoice::Passthrough => StatusCode::OK,
        TemplateChoice::Unsupported => return Err(GatewayError::UnsupportedMediaType),
    };
    let selected = integration_response::select(&mock.responses, status.as_str())?;
    let output = IntegrationOutput {
        headers: None,
        body: OutputBody::Empty,
    };
    integration_response::respond(selected, output, &mut env).await
}
