//! Step 4, integration response: choose the integration response by selection pattern
//! (default otherwise) — against the backend status (HTTP, MOCK) or the function's error
//! message (AWS) — then build the method response: its status (possibly overridden by
//! `$context.responseOverride.status`), its `method.response.header.*` mappings, and its
//! body (the response template chosen by `Accept`, rendered; else the integration's body
//! streamed through).

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::backend_client::BackendBody;
use crate::body::Body;
use crate::compile::{IntegrationResponse, IntegrationResponses, DEFAULT_CONTENT_TYPE};
use crate::error::GatewayError;
use crate::template::{text_of, TemplateEnv};

/// Selects by the selection key (status code string). No match and no default is an API
/// configuration error (500), as API Gateway reports it.
pub fn select<'a>(
    responses: &'a IntegrationResponses,
    key: &str,
) -> Result<&'a IntegrationResponse, GatewayError> {
    responses.select(key).ok_or(GatewayError::Configuration(
        "no match for output mapping and no default output mapping configured",
    ))
}

/// Selection for function (AWS) integrations: an error's `errorMessage` is matched
/// against the selection patterns (anchored); a successful invocation uses the default
/// response, as API Gateway does.
pub fn select_for_function<'a>(
    responses: &'a IntegrationResponses,
    error_message: Option<&str>,
) -> Result<&'a IntegrationResponse, GatewayError> {
    let selected = match error_message {
        Some(message) => responses.select(message),
        None => responses.default_response(),
    };
    selected.ok_or(GatewayError::Configuration(
        "no match for output mapping and no default output mapping configured",
    ))
}

/// What the integration produced, before the integration response shapes it.
#[derive(Debug)]
pub struct IntegrationOutput<'h> {
    /// The backend's headers (HTTP); `None` for MOCK and functions.
    pub headers: Option<&'h HeaderMap>,
    /// The integration's body.
    pub body: OutputBody,
}

/// An integration's body: streamed through unless a template or mapping must read it.
#[derive(Debug)]
pub enum OutputBody {
    /// No body (MOCK).
    Empty,
    /// Already in memory (function results).
    Buffered(Bytes),
    /// A backend's streamed body.
    Stream(BackendBody),
}

impl OutputBody {
    async fn bytes(self) -> Result<Bytes, GatewayError> {
        match self {
            OutputBody::Empty => Ok(Bytes::new()),
            OutputBody::Buffered(bytes) => Ok(bytes),
            OutputBody::Stream(backend) => {
                crate::phases::integration::read_backend_body(backend).await
            }
        }
    }

    fn into_body(self) -> Body {
        match self {
            OutputBody::Empty => Body::Empty,
            OutputBody::Buffered(bytes) => Body::full(bytes),
            OutputBody::Stream(backend) => Body::backend(backend),
        }
    }
}

/// Builds the method response from the selected integration response.
pub async fn respond(
    selected: &IntegrationResponse,
    output: IntegrationOutput<'_>,
    env: &mut TemplateEnv<'_>,
) -> Result<Response<Body>, GatewayError> {
    let chosen = selected.templates.choose(env.accept());
    let template = chosen.and_then(|c| c.template);
    let backend_headers = output.headers;
    let mut status = selected.status;
    let mut overrides = Vec::new();
    let (body, body_text, content_type) = if template.is_some() || selected.needs_body {
        let bytes = output.body.bytes().await?;
        let text = text_of(&bytes);
        match (template, chosen) {
            (Some(template), Some(chosen)) => {
                let out = env.render(template, text)?;
                let text = if selected.needs_body {
                    Some(env.take_body())
                } else {
                    None
                };
                if let Some(code) = out
                    .response_override_status
                    .and_then(|code| StatusCode::from_u16(code).ok())
                {
                    status = code;
                }
                overrides = out.response_override_headers.into_iter().collect();
                (Body::full(out.body), text, chosen.content_type.clone())
            }
            _ => (
                Body::full(bytes),
                Some(text),
                backend_content_type(backend_headers),
            ),
        }
    } else {
        (
            output.body.into_body(),
            None,
            backend_content_type(backend_headers),
        )
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    for (name, source) in &selected.headers {
        if let Some(value) = source.value(backend_headers, body_text.as_deref(), env.context()) {
            headers.insert(name.clone(), value);
        }
    }
    for (name, value) in overrides {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => tracing::debug!(%name, "responseOverride header is not a valid header"),
        }
    }
    Ok(response)
}

fn backend_content_type(headers: Option<&HeaderMap>) -> HeaderValue {
    headers
        .and_then(|h| h.get(CONTENT_TYPE))
        .cloned()
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE))
}
