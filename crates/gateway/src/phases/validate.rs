//! Step 6, request validation (SPEC §5): required request parameters present and
//! non-blank, and the body valid against the method's model for its content type.
//! A request only pays for the checks its method's validator asks for; what they are
//! was compiled with the stage ([`crate::compile::validation`]).

use http::request::Parts;
use jsonschema::Validator;
use serde_json::Value;

use super::route::Routed;
use crate::body::Body;
use crate::compile::validation::{Location, MethodValidation};
use crate::error::GatewayError;

/// Runs the method's checks: parameters first, then (reading it, within the payload
/// limit) the body. Returns the body to hand to the integration.
pub async fn check(
    validation: &MethodValidation,
    routed: &Routed,
    parts: &Parts,
    body: Body,
) -> Result<Body, GatewayError> {
    check_parameters(validation, routed, parts)?;
    if !validation.checks_body() {
        return Ok(body);
    }
    let bytes = super::read_body(body).await?;
    check_body(validation, parts, &bytes)?;
    Ok(Body::full(bytes))
}

/// Checks required parameters: every one present and non-blank, else
/// `BAD_REQUEST_PARAMETERS` naming the missing ones as AWS does.
pub fn check_parameters(
    validation: &MethodValidation,
    routed: &Routed,
    parts: &Parts,
) -> Result<(), GatewayError> {
    let mut missing = Vec::new();
    for r in &validation.required {
        let present = match r.location {
            Location::Header => parts
                .headers
                .get_all(r.name.as_ref())
                .iter()
                .any(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace)),
            Location::Querystring => query_has(parts.uri.query().unwrap_or(""), &r.name),
            Location::Path => {
                let stage_path = routed.stage_path(parts.uri.path());
                routed
                    .method
                    .template_scope
                    .param_names
                    .iter()
                    .zip(&routed.captures)
                    .any(|(name, capture)| {
                        name.as_ref() == r.name.as_ref()
                            && !capture.of(stage_path).trim().is_empty()
                    })
            }
        };
        if !present {
            missing.push(r.name.to_string());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(GatewayError::BadRequestParameters(missing))
    }
}

/// Whether the query string's value of `name` (the last one) is non-blank.
fn query_has(query: &str, name: &str) -> bool {
    crate::query::last(query, name).is_some_and(|v| !v.trim().is_empty())
}

/// The model for a request's media type: exact match, else `$default`; `None` means the
/// body is not validated (AWS skips validation when no model matches).
fn model_for<'a>(validation: &'a MethodValidation, parts: &Parts) -> Option<&'a Validator> {
    let media_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".to_string());
    validation
        .bodies
        .iter()
        .find(|(ct, _)| **ct == *media_type)
        .or_else(|| validation.bodies.iter().find(|(ct, _)| &**ct == "$default"))
        .map(|(_, v)| v.as_ref())
}

/// Checks a buffered body against the method's model for its content type, else
/// `BAD_REQUEST_BODY`. An empty body is checked as `{}`.
pub fn check_body(
    validation: &MethodValidation,
    parts: &Parts,
    body: &[u8],
) -> Result<(), GatewayError> {
    let Some(validator) = model_for(validation, parts) else {
        return Ok(());
    };
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| GatewayError::BadRequestBody(format!("body is not JSON: {e}")))?
    };
    match validator.validate(&value) {
        Ok(()) => Ok(()),
        Err(e) => Err(GatewayError::BadRequestBody(format!(
            "{e} at '{}'",
            e.instance_path()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::validation::{StageModels, ValidationCompileError};
    use apigw_proto::config as pb;

    const COMPARE_DATA: &str = r#"{
      "$schema": "http://json-schema.org/draft-04/schema#",
      "title": "CompareData",
      "type": "object",
      "properties": {
        "age": {"type": "integer"},
        "height": {"type": "integer"},
        "income": {"type": "integer"}
      },
      "required": ["age", "height", "income"]
    }"#;

    fn snapshot(models: &[(&str, &str)], validate_body: bool) -> pb::DeploymentSnapshot {
        pb::DeploymentSnapshot {
            api_id: "abc123".into(),
            models: models
                .iter()
                .map(|(n, s)| pb::Model {
                    id: (*n).into(),
                    name: (*n).into(),
                    content_type: "application/json".into(),
                    schema: (*s).into(),
                })
                .collect(),
            request_validators: vec![pb::RequestValidator {
                id: "v1".into(),
                name: "all".into(),
                validate_request_body: validate_body,
                validate_request_parameters: true,
            }],
            resources: vec![pb::Resource {
                methods: vec![method(models.first().map_or("", |m| m.0))],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn method(model: &str) -> pb::Method {
        pb::Method {
            http_method: "POST".into(),
            request_validator_id: "v1".into(),
            request_models: [("application/json".to_string(), model.to_string())].into(),
            request_parameters: [
                ("method.request.querystring.q".to_string(), true),
                ("method.request.header.x-token".to_string(), true),
                ("method.request.querystring.optional".to_string(), false),
            ]
            .into(),
            ..Default::default()
        }
    }

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn compare_data_rejects_a_bad_body() {
        let models =
            StageModels::compile(&snapshot(&[("CompareData", COMPARE_DATA)], true)).unwrap();
        let v = models.method(&method("CompareData")).unwrap().unwrap();
        let p = parts("/", &[("content-type", "application/json")]);
        assert!(check_body(&v, &p, br#"{"age": 1, "height": 2, "income": 3}"#).is_ok());
        for bad in [
            &br#"{"age": "old", "height": 2, "income": 3}"#[..],
            br#"{"age": 1}"#,
            b"not json",
            b"",
        ] {
            let err = check_body(&v, &p, bad).unwrap_err();
            assert!(matches!(err, GatewayError::BadRequestBody(_)), "{err:?}");
        }
        // No model for text/plain: AWS does not validate.
        let plain = parts("/", &[("content-type", "text/plain")]);
        assert!(check_body(&v, &plain, b"anything").is_ok());
    }

    #[test]
    fn references_between_models_resolve_from_the_snapshot() {
        let person =
            r#"{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}"#;
        let wrapper = r#"{"type":"object","properties":{"person":
            {"$ref":"https://apigateway.amazonaws.com/restapis/abc123/models/Person"}},
            "required":["person"]}"#;
        let models =
            StageModels::compile(&snapshot(&[("Wrapper", wrapper), ("Person", person)], true))
                .unwrap();
        let v = models.method(&method("Wrapper")).unwrap().unwrap();
        let p = parts("/", &[]);
        assert!(check_body(&v, &p, br#"{"person": {"age": 3}}"#).is_ok());
        assert!(check_body(&v, &p, br#"{"person": {"age": "x"}}"#).is_err());
        let other_api = r#"{"$ref":"https://apigateway.amazonaws.com/restapis/zzz/models/Person"}"#;
        assert!(StageModels::compile(&snapshot(&[("Bad", other_api)], true)).is_err());
    }

    #[test]
    fn unknown_validator_or_model_fails_compilation() {
        let models = StageModels::compile(&snapshot(&[], true)).unwrap();
        assert!(matches!(
            models.method(&method("Nope")),
            Err(ValidationCompileError::UnknownModel(_))
        ));
        let mut m = method("Nope");
        m.request_validator_id = "zz".into();
        assert!(matches!(
            models.method(&m),
            Err(ValidationCompileError::UnknownValidator(_))
        ));
    }

    #[test]
    fn required_parameters_are_kept_in_key_order() {
        let models = StageModels::compile(&snapshot(&[], false)).unwrap();
        let v = models.method(&method("Empty")).unwrap().unwrap();
        let names: Vec<&str> = v.required.iter().map(|r| &*r.name).collect();
        assert_eq!(
            names,
            vec!["x-token", "q"],
            "optional ones are not required"
        );
        assert!(!v.checks_body(), "the validator does not check bodies");
    }

    #[test]
    fn query_values_must_be_non_blank() {
        assert!(query_has("q=1&x=2", "q"));
        assert!(query_has("a=b&q=%20x", "q"));
        assert!(!query_has("q=", "q"));
        assert!(!query_has("q=+", "q"));
        assert!(!query_has("qq=1", "q"));
        assert!(!query_has("", "q"));
    }
}
