//! `contentHandling` (SPEC 5, "binary media types"): base64 conversions between what the
//! client sends or receives and what the integration sees, for the non-proxy types (HTTP
//! and AWS functions), as API Gateway's conversion tables say: on the request, a body
//! whose Content-Type is one of the API's `binaryMediaTypes` is base64-encoded for
//! CONVERT_TO_TEXT and any other body is base64-decoded for CONVERT_TO_BINARY; on the
//! response, the selected integration response's setting converts the integration's body.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;

use crate::compile::function::ContentHandling;
use crate::error::GatewayError;

/// Applies an integration's `contentHandling` to the request body (`binary`: its
/// Content-Type is one of the API's binary media types).
pub fn convert_request(
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

/// Applies an integration response's `contentHandling` to the integration's body. With
/// `unquote_json` (function results), a JSON string — what a function returning a string
/// produces — is unquoted before decoding.
pub fn convert_response(
    payload: Bytes,
    handling: ContentHandling,
    unquote_json: bool,
) -> Result<Bytes, GatewayError> {
    match handling {
        ContentHandling::Passthrough => Ok(payload),
        ContentHandling::ConvertToText => Ok(Bytes::from(BASE64.encode(&payload))),
        ContentHandling::ConvertToBinary => {
            let quoted = unquote_json
                .then(
                    || match serde_json::from_slice::<serde_json::Value>(&payload) {
                        Ok(serde_json::Value::String(s)) => Some(s),
                        _ => None,
                    },
                )
                .flatten();
            let decoded = match &quoted {
                Some(text) => BASE64.decode(text.trim()),
                None => BASE64.decode(payload.trim_ascii()),
            };
            decoded.map(Bytes::from).map_err(|_| {
                GatewayError::IntegrationFailure(
                    "integration response body is not base64 (CONVERT_TO_BINARY)".into(),
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
            convert_response(
                Bytes::from_static(b"\"AAEC\""),
                ContentHandling::ConvertToBinary,
                true
            )
            .unwrap(),
            Bytes::from_static(&[0, 1, 2])
        );
        assert_eq!(
            convert_response(
                Bytes::from_static(b"AAEC"),
                ContentHandling::ConvertToBinary,
                true
            )
            .unwrap(),
            Bytes::from_static(&[0, 1, 2])
        );
        assert_eq!(
            convert_response(
                Bytes::from_static(&[0, 1, 2]),
                ContentHandling::ConvertToText,
                true
            )
            .unwrap(),
            "AAEC"
        );
        assert_eq!(
            convert_response(
                Bytes::from_static(b"{\"a\":1}"),
                ContentHandling::ConvertToBinary,
                true
            )
            .unwrap_err()
            .status(),
            502
        );
        // HTTP bodies are raw: quotes are not stripped.
        assert_eq!(
            convert_response(
                Bytes::from_static(b"AAEC\n"),
                ContentHandling::ConvertToBinary,
                false
            )
            .unwrap(),
            Bytes::from_static(&[0, 1, 2])
        );
        assert!(convert_response(
            Bytes::from_static(b"\"AAEC\""),
            ContentHandling::ConvertToBinary,
            false
        )
        .is_err());
    }
}
