//! MOCK integration: no backend. The request template chosen by content type yields a
//! status (its JSON `statusCode`, computed at compile time), which selects the integration
//! response like a backend status would.

use http::request::Parts;
use http::{Response, StatusCode};

use super::media_type;
use crate::body::Body;
use crate::compile::{MockIntegration, TemplateChoice};
use crate::pipeline::context::RequestContext;
use crate::pipeline::gateway_response::GatewayError;
use crate::pipeline::integration_response;

/// Answers a MOCK method; the request body is never read.
pub fn invoke(
    mock: &MockIntegration,
    ctx: &RequestContext,
    parts: &Parts,
) -> Result<Response<Body>, GatewayError> {
    let status = match mock.templates.choose(media_type(&parts.headers)) {
        TemplateChoice::Template(status) => *status,
        TemplateChoice::Passthrough => StatusCode::OK,
        TemplateChoice::Unsupported => return Err(GatewayError::UnsupportedMediaType),
    };
    let selected = integration_response::select(&mock.responses, status.as_str())?;
    Ok(integration_response::respond(selected, None, ctx))
}
