//! ImportRestApi's and PutRestApi's document: an OpenAPI 3.0.x or Swagger 2.0 definition,
//! JSON or YAML, with API Gateway's `x-amazon-apigateway-*` extensions, turned into the
//! management API's typed items (the REST API's members, resources with their methods,
//! integrations and responses, models, request validators, authorizers, gateway
//! responses) plus the warnings AWS reports for what it ignored.
//!
//! Pure: bytes in, [`Imported`] out. `api/imports.rs` checks every item with the rules the
//! individual calls use (`api/rules/`) and writes them in one transaction. This is the
//! inverse of [`crate::export`]: a document GetExport writes with `extensions=apigateway`
//! imports back into the API it describes. `source.rs` reads the text, `schemas.rs` makes
//! models, `paths.rs` resources and methods.
//!
//! References between items are by name here (a method's validator and authorizer), since
//! ids are the store's; models are named by the document and their `$ref`s are already
//! API Gateway's model URLs of the target API. Errors say where in the document they are
//! (`paths./pets.get.x-amazon-apigateway-integration.uri: ...`); an unknown
//! `x-amazon-apigateway-*` extension, or a feature this gateway lacks, is a warning.

mod paths;
mod schemas;
pub mod source;

use serde_json::{Map, Value};

use self::source::{invalid, join, object, opt_bool, opt_i32, opt_string, string_map};
use crate::export::Dialect;
use crate::wire::{Authorizer, GatewayResponse, Method, RequestValidator};

/// The extension prefix of API Gateway.
const EXT: &str = "x-amazon-apigateway-";

/// How the document's base path becomes part of the resources' paths (the `basepath`
/// parameter), as AWS documents it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BasePath {
    /// The base path is not part of any resource path (the default).
    #[default]
    Ignore,
    /// Every path is under the whole base path.
    Prepend,
    /// The base path's first segment (a stage name) is dropped, the rest prepended.
    Split,
}

impl BasePath {
    /// The `basepath` parameter's value.
    pub fn parse(v: &str) -> Option<Self> {
        match v.to_ascii_lowercase().as_str() {
            "ignore" => Some(Self::Ignore),
            "prepend" => Some(Self::Prepend),
            "split" => Some(Self::Split),
            _ => None,
        }
    }
}

/// How to read a document.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The API the items are for (model URLs name it).
    pub api_id: &'a str,
    /// The `basepath` parameter.
    pub base_path: BasePath,
    /// `ignore=documentation`: documentation is skipped without a warning.
    pub ignore_documentation: bool,
}

/// Why a document cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// No document at all.
    #[error("the API definition is empty")]
    Empty,
    /// Not JSON or YAML text.
    #[error("the API definition cannot be read: {0}")]
    Syntax(String),
    /// A member of the document is wrong.
    #[error("{at}: {message}")]
    Invalid {
        /// Where: `paths./pets.get.responses.200`.
        at: String,
        /// What is wrong.
        message: String,
    },
}

/// What a document defines.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The document's dialect.
    pub dialect: Option<Dialect>,
    /// The REST API's members the document names.
    pub api: ApiMembers,
    /// Every resource path the document names, sorted, with its methods.
    pub resources: Vec<ImportedResource>,
    /// Models: the document's schemas and inline bodies.
    pub models: Vec<ImportedModel>,
    /// `x-amazon-apigateway-request-validators` (ids empty).
    pub validators: Vec<RequestValidator>,
    /// Authorizers of the security schemes (ids empty).
    pub authorizers: Vec<ImportedAuthorizer>,
    /// `x-amazon-apigateway-gateway-responses`.
    pub gateway_responses: Vec<GatewayResponse>,
    /// The `documentationParts` of `x-amazon-apigateway-documentation`, unchecked (the
    /// handler checks them as ImportDocumentationParts does); `None` when the document has
    /// none or `ignore=documentation` was given.
    pub documentation: Option<Vec<Value>>,
    /// What was ignored, and where.
    pub warnings: Vec<String>,
}

/// RestApi members a document sets; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiMembers {
    /// `info.title`.
    pub name: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.version`.
    pub version: Option<String>,
    /// `x-amazon-apigateway-binary-media-types`.
    pub binary_media_types: Option<Vec<String>>,
    /// `x-amazon-apigateway-api-key-source`.
    pub api_key_source: Option<String>,
    /// `x-amazon-apigateway-minimum-compression-size`.
    pub minimum_compression_size: Option<i32>,
    /// `x-amazon-apigateway-policy` (as text).
    pub policy: Option<String>,
    /// `x-amazon-apigateway-endpoint-configuration.disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: Option<bool>,
}

/// A resource path of the document and its methods.
#[derive(Debug, Clone)]
pub struct ImportedResource {
    /// Where: `paths./pets/{id}`.
    pub at: String,
    /// The resource's path (the base path applied).
    pub path: String,
    /// Its methods.
    pub methods: Vec<ImportedMethod>,
}

/// A method with its responses and integration; `integration.cacheNamespace` is empty
/// when the document leaves it to the default (the resource's id).
#[derive(Debug, Clone)]
pub struct ImportedMethod {
    /// Where: `paths./pets.get`.
    pub at: String,
    /// The method; `authorizerId` and `requestValidatorId` unset (see below).
    pub method: Method,
    /// The request validator, by name.
    pub validator: Option<String>,
    /// The authorizer, by (security scheme) name.
    pub authorizer: Option<String>,
}

/// A model made of a schema of the document.
#[derive(Debug, Clone)]
pub struct ImportedModel {
    /// Where: `components.schemas.Pet`.
    pub at: String,
    /// The model's name.
    pub name: String,
    /// The content type it describes.
    pub content_type: String,
    /// The schema text (draft-04, `$ref`s as model URLs).
    pub schema: String,
}

/// An authorizer of a security scheme.
#[derive(Debug, Clone)]
pub struct ImportedAuthorizer {
    /// Where: `components.securitySchemes.tokens`.
    pub at: String,
    /// The authorizer (id empty).
    pub authorizer: Authorizer,
}

/// Reads a document.
pub fn read(body: &[u8], options: &Options<'_>) -> Result<Imported, ImportError> {
    let doc = source::parse(body)?;
    let dialect = source::dialect(&doc)?;
    let mut out = Imported {
        dialect: Some(dialect),
        ..Default::default()
    };
    let mut warnings = Warnings::default();
    let root = object(&doc, "")?;
    out.api = api_members(root, options, &mut warnings)?;
    let validators = validators(root)?;
    let default_validator = opt_string(root, "x-amazon-apigateway-request-validator", "")?;
    out.gateway_responses = gateway_responses(root)?;
    if !options.ignore_documentation {
        out.documentation = documentation(root)?;
    }
    let mut schemas = schemas::Schemas::read(&doc, dialect, options.api_id)?;
    let schemes = paths::SecuritySchemes::read(&doc, dialect, &mut warnings)?;
    let base = source::base_path(&doc, dialect)?;
    let prefix: &[String] = match options.base_path {
        BasePath::Ignore => &[],
        BasePath::Prepend => &base,
        BasePath::Split => base.get(1..).unwrap_or_default(),
    };
    let mut reader = paths::Reader {
        doc: &doc,
        dialect,
        schemas: &mut schemas,
        schemes: &schemes,
        default_validator: default_validator.as_deref(),
        ignore_documentation: options.ignore_documentation,
        warnings: &mut warnings,
    };
    out.resources = reader.paths(prefix)?;
    out.validators = validators;
    out.models = schemas.models;
    out.authorizers = schemes.authorizers;
    warnings.unknown_members(root, "", ROOT_MEMBERS, options.ignore_documentation);
    out.warnings = warnings.0;
    Ok(out)
}

/// What the document's top level may hold besides extensions.
const ROOT_MEMBERS: &[&str] = &[
    "openapi",
    "swagger",
    "info",
    "servers",
    "host",
    "basePath",
    "schemes",
    "consumes",
    "produces",
    "paths",
    "components",
    "definitions",
    "parameters",
    "responses",
    "securityDefinitions",
    "security",
    "tags",
    "externalDocs",
    "x-amazon-apigateway-api-key-source",
    "x-amazon-apigateway-binary-media-types",
    "x-amazon-apigateway-minimum-compression-size",
    "x-amazon-apigateway-policy",
    "x-amazon-apigateway-endpoint-configuration",
    "x-amazon-apigateway-request-validators",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-gateway-responses",
    "x-amazon-apigateway-documentation",
];

/// The warnings of one import.
#[derive(Debug, Default)]
pub struct Warnings(pub Vec<String>);

impl Warnings {
    /// Adds a warning about `at`.
    pub fn add(&mut self, at: &str, what: impl std::fmt::Display) {
        self.0.push(format!("{at}: {what}"));
    }

    /// Warns about the members of `o` that are not in `known`: an API Gateway extension this
    /// gateway does not know or support, or a member OpenAPI does not define there (other
    /// vendors' `x-` extensions are theirs, and skipped quietly).
    pub fn unknown_members(
        &mut self,
        o: &Map<String, Value>,
        at: &str,
        known: &[&str],
        ignore_documentation: bool,
    ) {
        for key in o.keys().filter(|k| !known.contains(&k.as_str())) {
            let where_ = join(at, key);
            match key.strip_prefix(EXT) {
                Some("documentation") if ignore_documentation => {}
                Some("documentation") => self.add(
                    &where_,
                    "x-amazon-apigateway-documentation is read at the document's top level \
                     only; ignored",
                ),
                Some(
                    known @ ("cors"
                    | "importexport-version"
                    | "integrations"
                    | "tag-value"
                    | "auth"
                    | "any-method"
                    | "integration"
                    | "request-validator"),
                ) => self.add(
                    &where_,
                    format!("x-amazon-apigateway-{known} is not supported here; ignored"),
                ),
                Some(_) => self.add(&where_, "unknown extension; ignored"),
                None if key.starts_with("x-") => {}
                None => self.add(&where_, "not an OpenAPI member here; ignored"),
            }
        }
    }
}

/// `info` and the API-level extensions.
fn api_members(
    root: &Map<String, Value>,
    options: &Options<'_>,
    warnings: &mut Warnings,
) -> Result<ApiMembers, ImportError> {
    let mut m = ApiMembers::default();
    if let Some(info) = root.get("info") {
        let info = object(info, "info")?;
        m.name = opt_string(info, "title", "info")?;
        m.description = opt_string(info, "description", "info")?;
        m.version = opt_string(info, "version", "info")?;
    }
    m.api_key_source = opt_string(root, "x-amazon-apigateway-api-key-source", "")?;
    m.minimum_compression_size = opt_i32(root, "x-amazon-apigateway-minimum-compression-size", "")?;
    if root.contains_key("x-amazon-apigateway-binary-media-types") {
        m.binary_media_types = Some(source::string_list(
            root,
            "x-amazon-apigateway-binary-media-types",
            "",
        )?);
    }
    m.policy = match root.get("x-amazon-apigateway-policy") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v @ Value::Object(_)) => Some(v.to_string()),
        Some(v) => {
            return Err(invalid(
                "x-amazon-apigateway-policy",
                format!("expected a policy document, found {}", source::kind(v)),
            ))
        }
    };
    let ec = "x-amazon-apigateway-endpoint-configuration";
    if let Some(v) = root.get(ec) {
        let o = object(v, ec)?;
        m.disable_execute_api_endpoint = opt_bool(o, "disableExecuteApiEndpoint", ec)?;
        if o.contains_key("vpcEndpointIds") {
            warnings.add(
                &join(ec, "vpcEndpointIds"),
                "private endpoints are not supported by this gateway; ignored",
            );
        }
        warnings.unknown_members(
            o,
            ec,
            &["disableExecuteApiEndpoint", "vpcEndpointIds"],
            options.ignore_documentation,
        );
    }
    Ok(m)
}

/// `x-amazon-apigateway-request-validators`.
fn validators(root: &Map<String, Value>) -> Result<Vec<RequestValidator>, ImportError> {
    let at = "x-amazon-apigateway-request-validators";
    let Some(v) = root.get(at) else {
        return Ok(Vec::new());
    };
    object(v, at)?
        .iter()
        .map(|(name, v)| {
            let at = join(at, name);
            let o = object(v, &at)?;
            Ok(RequestValidator {
                id: String::new(),
                name: Some(name.clone()),
                validate_request_body: opt_bool(o, "validateRequestBody", &at)?.unwrap_or(false),
                validate_request_parameters: opt_bool(o, "validateRequestParameters", &at)?
                    .unwrap_or(false),
            })
        })
        .collect()
}

/// `x-amazon-apigateway-documentation`: its `documentationParts` (its `version` names a
/// documentation version of the exporting API; importing parts does not create one, as in
/// AWS).
fn documentation(root: &Map<String, Value>) -> Result<Option<Vec<Value>>, ImportError> {
    let at = "x-amazon-apigateway-documentation";
    let Some(v) = root.get(at) else {
        return Ok(None);
    };
    match object(v, at)?.get("documentationParts") {
        None | Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(parts)) => Ok(Some(parts.clone())),
        Some(other) => Err(invalid(
            &join(at, "documentationParts"),
            format!(
                "expected a list of documentation parts, found {}",
                source::kind(other)
            ),
        )),
    }
}

/// `x-amazon-apigateway-gateway-responses`.
fn gateway_responses(root: &Map<String, Value>) -> Result<Vec<GatewayResponse>, ImportError> {
    let at = "x-amazon-apigateway-gateway-responses";
    let Some(v) = root.get(at) else {
        return Ok(Vec::new());
    };
    object(v, at)?
        .iter()
        .map(|(response_type, v)| {
            let at = join(at, response_type);
            let o = object(v, &at)?;
            Ok(GatewayResponse {
                response_type: response_type.clone(),
                status_code: opt_string(o, "statusCode", &at)?.filter(|s| !s.is_empty()),
                response_parameters: string_map(o, "responseParameters", &at)?,
                response_templates: string_map(o, "responseTemplates", &at)?,
                default_response: false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
