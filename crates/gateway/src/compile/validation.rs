//! Compiles request validation (SPEC §5): each model's JSON Schema (draft-04) becomes a
//! [`jsonschema::Validator`] once per stage, with `$ref`s to other models of the API
//! (`https://apigateway.amazonaws.com/restapis/{id}/models/{name}`, AWS's form) resolved
//! from the snapshot, never fetched; each method's validator becomes the list of
//! parameters it requires and the models its bodies must match. The checks themselves
//! run in [`crate::phases::validate`].

use std::collections::HashMap;
use std::sync::Arc;

use apigw_proto::config as pb;
use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;

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
pub(crate) enum Location {
    Path,
    Querystring,
    Header,
}

/// One `method.request.{location}.{name}: true`.
#[derive(Debug)]
pub(crate) struct Required {
    pub(crate) location: Location,
    pub(crate) name: Box<str>,
}

/// What one method checks before its integration runs.
#[derive(Debug)]
pub struct MethodValidation {
    pub(crate) required: Vec<Required>,
    /// Media type (lowercase) → compiled model; `$default` matches any other type.
    pub(crate) bodies: Vec<(Box<str>, Arc<Validator>)>,
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

/// Compiles one model's schema as draft-04, its references resolved among `schemas` (the
/// API's models by name). The control plane calls this when a model is saved.
pub fn compile_schema(
    api_id: &str,
    name: &str,
    schema: &Value,
    schemas: &HashMap<String, Value>,
) -> Result<Validator, ValidationCompileError> {
    let retriever = ModelRetriever {
        api_id: api_id.to_owned(),
        schemas: schemas.clone(),
    };
    jsonschema::draft4::options()
        .with_retriever(retriever)
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| ValidationCompileError::Schema {
            model: name.to_owned(),
            reason: e.to_string(),
        })
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
            let validator = compile_schema(&snapshot.api_id, name, schema, &schemas)?;
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
