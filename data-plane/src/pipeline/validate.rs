//! Step 6, request validation (SPEC §5): required request parameters present and
//! non-blank, and the body valid against the method's model for its content type.
//!
//! Everything is compiled with the stage: each model's JSON Schema (draft-04) becomes a
//! [`jsonschema::Validator`] once, with `$ref`s to other models of the API
//! (`https://apigateway.amazonaws.com/restapis/{id}/models/{name}`, AWS's form) resolved
//! from the snapshot, never fetched. A request only pays for the checks its method's
//! validator asks for.

use std::collections::HashMap;
use std::sync::Arc;

use apigw_proto::config as pb;
use http::request::Parts;
use http_body_util::BodyExt;
use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;

use super::gateway_response::GatewayError;
use super::route::Routed;
use crate::body::{Body, BodyError};

/// Where AWS's model references point.
const MODEL_URL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// Why a stage's models or validators cannot be compiled (the control plane refuses
/// these when saved; this guards snapshots from elsewhere).
#[derive(Debug, thiserror::Error)]
pub enum ValidationCompileError {
    /// A model's schema is not JSON.
    #[error("model {model}: schema is not JSON: {reason}")]
    SchemaJson {
        /// The model name.
        model: String,
        /// The parser's message.
        reason: String,
    },
    /// A model's schema is not a valid draft-04 schema or a reference does not resolve.
    #[error("model {model}: invalid schema: {reason}")]
    Schema {
        /// The model name.
        model: String,
        /// The compiler's message.
        reason: String,
    },
    /// A method names a model the API does not have.
    #[error("unknown model {0:?}")]
    UnknownModel(String),
    /// A method names a request validator the API does not have.
    #[error("unknown request validator {0:?}")]
    UnknownValidator(String),
}

/// Where a required parameter is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Path,
    Querystring,
    Header,
}

/// One `method.request.{location}.{name}: true`.
#[derive(Debug)]
struct Required {
    location: Location,
    name: Box<str>,
}

/// What one method checks before its integration runs.
#[derive(Debug)]
pub struct MethodValidation {
    required: Vec<Required>,
    /// Media type (lowercase) → compiled model; `$default` matches any other type.
    bodies: Vec<(Box<str>, Arc<Validator>)>,
}

impl MethodValidation {
    /// Whether the body has to be read to validate this method's requests.
    pub fn checks_body(&self) -> bool {
        !self.bodies.is_empty()
    }
}

/// Resolves model URLs of one API from its snapshot.
struct ModelRetriever {
    api_id: String,
    schemas: HashMap<String, Value>,
}

impl Retrieve for ModelRetriever {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = uri.as_str();
        let name = text
            .strip_prefix(MODEL_URL_PREFIX)
            .and_then(|rest| rest.strip_prefix(self.api_id.as_str()))
            .and_then(|rest| rest.strip_prefix("/models/"))
            .map(|rest| rest.split('#').next().unwrap_or(rest))
            .ok_or_else(|| format!("{text} is not a model of API {}", self.api_id))?;
        self.schemas
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no model named {name:?}").into())
    }
}

/// The compiled models and validators of one deployment.
#[derive(Default)]
pub struct StageModels {
    models: HashMap<String, Arc<Validator>>,
    validators: HashMap<String, pb::RequestValidator>,
}

impl std::fmt::Debug for StageModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageModels")
            .field("models", &self.models.keys().collect::<Vec<_>>())
            .field("validators", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl StageModels {
    /// Compiles every model with a schema; models without one (non-JSON content) are
    /// kept out and never validate anything.
    pub fn compile(snapshot: &pb::DeploymentSnapshot) -> Result<Self, ValidationCompileError> {
        let mut schemas = HashMap::new();
        for m in snapshot
            .models
            .iter()
            .filter(|m| !m.schema.trim().is_empty())
        {
            let value: Value = serde_json::from_str(&m.schema).map_err(|e| {
                ValidationCompileError::SchemaJson {
                    model: m.name.clone(),
                    reason: e.to_string(),
                }
            })?;
            schemas.insert(m.name.clone(), value);
        }
        let mut models = HashMap::new();
        // Only models that some method validates against are compiled.
        let used: std::collections::HashSet<&str> = snapshot
            .resources
            .iter()
            .flat_map(|r| &r.methods)
            .flat_map(|m| m.request_models.values())
            .map(String::as_str)
            .collect();
        for (name, schema) in schemas.iter().filter(|(n, _)| used.contains(n.as_str())) {
            let retriever = ModelRetriever {
                api_id: snapshot.api_id.clone(),
                schemas: schemas.clone(),
            };
            let validator = jsonschema::draft4::options()
                .with_retriever(retriever)
                .should_validate_formats(true)
                .build(schema)
                .map_err(|e| ValidationCompileError::Schema {
                    model: name.clone(),
                    reason: e.to_string(),
                })?;
            models.insert(name.clone(), Arc::new(validator));
        }
        let validators = snapshot
            .request_validators
            .iter()
            .map(|v| (v.id.clone(), v.clone()))
            .collect();
        Ok(StageModels { models, validators })
    }

    /// The checks of one method, `None` when it has no validator or nothing to check.
    pub fn method(
        &self,
        method: &pb::Method,
    ) -> Result<Option<Arc<MethodValidation>>, ValidationCompileError> {
        if method.request_validator_id.is_empty() {
            return Ok(None);
        }
        let v = self
            .validators
            .get(&method.request_validator_id)
            .ok_or_else(|| {
                ValidationCompileError::UnknownValidator(method.request_validator_id.clone())
            })?;
        let mut required = Vec::new();
        if v.validate_request_parameters {
            // Sorted by key (the order the management API lists them), so the missing
            // names always come out in the same order.
            let mut keys: Vec<&String> = method
                .request_parameters
                .iter()
                .filter(|(_, req)| **req)
                .map(|(k, _)| k)
                .collect();
            keys.sort();
            for key in keys {
                let parsed = key.strip_prefix("method.request.").and_then(|rest| {
                    let (loc, name) = rest.split_once('.')?;
                    let location = match loc {
                        "path" => Location::Path,
                        "querystring" => Location::Querystring,
                        "header" => Location::Header,
                        _ => return None,
                    };
                    Some(Required {
                        location,
                        name: name.into(),
                    })
                });
                required.extend(parsed);
            }
        }
        let mut bodies = Vec::new();
        if v.validate_request_body {
            for (content_type, model) in &method.request_models {
                match self.models.get(model) {
                    Some(validator) => bodies.push((
                        content_type.trim().to_ascii_lowercase().into_boxed_str(),
                        Arc::clone(validator),
                    )),
                    None if model == "Empty" => {}
                    None => return Err(ValidationCompileError::UnknownModel(model.clone())),
                }
            }
        }
        if required.is_empty() && bodies.is_empty() {
            return Ok(None);
        }
        Ok(Some(Arc::new(MethodValidation { required, bodies })))
    }
}

/// Runs the method's checks: parameters first, then (reading it, within the payload
/// limit) the body. Returns the body to hand to the integration.
pub async fn check(
    validation: &MethodValidation,
    routed: &Routed,
    parts: &Parts,
    body: hyper::body::Incoming,
) -> Result<Body, GatewayError> {
    check_parameters(validation, routed, parts)?;
    if !validation.checks_body() {
        return Ok(Body::limited(body));
    }
    let bytes = match Body::limited(body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(BodyError::TooLarge) => return Err(GatewayError::RequestTooLarge),
        Err(BodyError::Transport(_) | BodyError::Backend(_)) => {
            return Err(GatewayError::BadRequest(
                "the request body could not be read",
            ))
        }
    };
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

/// Whether the query string has `name` with a non-blank value.
fn query_has(query: &str, name: &str) -> bool {
    query.split('&').any(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        let v = percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        k == name && !v.trim().is_empty()
    })
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
