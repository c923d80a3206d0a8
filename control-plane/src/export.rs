//! GetExport's document: a deployment snapshot as OpenAPI 3.0.1 (`oas30`) or Swagger 2.0
//! (`swagger`), with API Gateway's `x-amazon-apigateway-*` extensions when asked for.
//!
//! Pure: snapshot in, JSON value out; `api/exports.rs` loads the snapshot and renders it
//! as JSON or YAML. Everything comes from the deployed snapshot, never from the current
//! (undeployed) edits.
//!
//! What does not round-trip through the importer (`import/`): model descriptions and ids
//! (the snapshot keeps name, content type and schema only); the API's description (not in
//! the snapshot) and version (`info.version` is the deployment's date); resources without
//! methods (a path item needs an operation; intermediate resources are implied by the
//! paths below them); the path parameters we declare for a path's `{name}` slots that the
//! method did not list in `requestParameters` (OpenAPI requires them; the importer adds
//! `method.request.path.name` to the method); in Swagger, whether a method response header
//! is required, and a second request or response model of another content type (one
//! `body` parameter, one response `schema`).

use std::collections::BTreeMap;

use apigw_proto::config as pb;
use serde_json::{json, Map, Value};

/// The document's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAPI 3.0.1.
    Oas30,
    /// Swagger (OpenAPI) 2.0.
    Swagger,
}

impl Dialect {
    /// The `export_type` path segment, or `None` for a type we do not export.
    pub fn parse(export_type: &str) -> Option<Self> {
        match export_type {
            "oas30" => Some(Self::Oas30),
            "swagger" => Some(Self::Swagger),
            _ => None,
        }
    }

    /// The export type's name, as in the request path and the file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Oas30 => "oas30",
            Self::Swagger => "swagger",
        }
    }
}

/// Which API Gateway extensions the document carries (the `extensions` parameter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `integrations` (or `apigateway`): `x-amazon-apigateway-integration` and the
    /// API-level extensions (validators, gateway responses, binary media types, API key
    /// source, minimum compression size, resource policy).
    pub integrations: bool,
    /// `authorizers` (or `apigateway`): the authorizers' security schemes.
    pub authorizers: bool,
    /// `documentation`: the stage's documentation version as
    /// `x-amazon-apigateway-documentation` (see [`documentation`]).
    pub documentation: bool,
}

/// Where the stage is served, for `servers` / `host` + `basePath`.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The invoke host, `{apiId}.{execute-api domain}`.
    pub host: &'a str,
    /// The stage name.
    pub stage: &'a str,
}

/// A deployment's `createdDate` (epoch seconds) as AWS writes `info.version`:
/// `2026-01-02T03:04:05Z`.
pub fn version_of(created_date: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(created_date)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| created_date.to_string())
}

/// The `x-amazon-apigateway-documentation` object of a documentation version: its version
/// and its parts, each with its location and its properties as an object (the form
/// ImportDocumentationParts reads back).
pub fn documentation(version: &str, parts: &[crate::wire::DocumentationPart]) -> Value {
    let parts: Vec<Value> = parts
        .iter()
        .map(|p| {
            let properties: Value =
                serde_json::from_str(&p.properties).unwrap_or_else(|_| json!({}));
            json!({ "location": p.location, "properties": properties })
        })
        .collect();
    json!({ "version": version, "documentationParts": parts })
}

/// The models' base URL in `$ref`s between models (`.../restapis/{id}/models/{name}`).
const MODEL_REF_MARKER: &str = "/models/";

/// Builds the export document of `snap`; `Err` names a stored model schema that is not
/// JSON (never expected: schemas are checked when saved).
pub fn document(
    snap: &pb::DeploymentSnapshot,
    dialect: Dialect,
    ext: Extensions,
    target: &Target<'_>,
) -> Result<Value, String> {
    let version = version_of(snap.created_date);
    let models: BTreeMap<&str, &pb::Model> =
        snap.models.iter().map(|m| (m.name.as_str(), m)).collect();
    let validators: BTreeMap<&str, &pb::RequestValidator> = snap
        .request_validators
        .iter()
        .map(|v| (v.id.as_str(), v))
        .collect();
    let authorizers: BTreeMap<&str, &pb::Authorizer> = snap
        .authorizers
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    let ctx = Ctx {
        dialect,
        ext,
        models: &models,
        validators: &validators,
        authorizers: &authorizers,
    };

    let mut doc = Map::new();
    match dialect {
        Dialect::Oas30 => {
            doc.insert("openapi".into(), json!("3.0.1"));
        }
        Dialect::Swagger => {
            doc.insert("swagger".into(), json!("2.0"));
        }
    }
    doc.insert(
        "info".into(),
        json!({"title": snap.api_name, "version": version}),
    );
    match dialect {
        Dialect::Oas30 => {
            doc.insert(
                "servers".into(),
                json!([{
                    "url": format!("https://{}/{{basePath}}", target.host),
                    "variables": {"basePath": {"default": target.stage}},
                }]),
            );
        }
        Dialect::Swagger => {
            doc.insert("host".into(), json!(target.host));
            doc.insert("basePath".into(), json!(format!("/{}", target.stage)));
            doc.insert("schemes".into(), json!(["https"]));
        }
    }

    let mut resources: Vec<&pb::Resource> = snap.resources.iter().collect();
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    let mut paths = Map::new();
    let mut uses_api_key = false;
    let mut uses_sigv4 = false;
    let mut used_authorizers = std::collections::BTreeSet::new();
    for r in resources {
        if r.methods.is_empty() {
            continue;
        }
        let mut item = Map::new();
        let mut methods: Vec<&pb::Method> = r.methods.iter().collect();
        methods.sort_by(|a, b| a.http_method.cmp(&b.http_method));
        for m in methods {
            uses_api_key |= m.api_key_required;
            uses_sigv4 |= ext.authorizers && m.authorization_type == "AWS_IAM";
            if ext.authorizers {
                if let Some(a) = ctx.authorizer_of(m) {
                    used_authorizers.insert(a.id.as_str());
                }
            }
            let key = if m.http_method == "ANY" {
                "x-amazon-apigateway-any-method".to_string()
            } else {
                m.http_method.to_ascii_lowercase()
            };
            item.insert(key, ctx.operation(&r.path, m));
        }
        paths.insert(r.path.clone(), Value::Object(item));
    }
    doc.insert("paths".into(), Value::Object(paths));

    let mut schemas = Map::new();
    for m in &snap.models {
        schemas.insert(m.name.clone(), ctx.schema_of(m)?);
    }
    let mut schemes = Map::new();
    if uses_api_key {
        schemes.insert(
            "api_key".into(),
            json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
        );
    }
    if uses_sigv4 {
        schemes.insert(
            "sigv4".into(),
            json!({"type": "apiKey", "name": "Authorization", "in": "header",
                   "x-amazon-apigateway-authtype": "awsSigv4"}),
        );
    }
    for id in used_authorizers {
        if let Some(a) = authorizers.get(id) {
            schemes.insert(a.name.clone(), authorizer_scheme(a));
        }
    }
    match dialect {
        Dialect::Oas30 => {
            let mut components = Map::new();
            if !schemas.is_empty() {
                components.insert("schemas".into(), Value::Object(schemas));
            }
            if !schemes.is_empty() {
                components.insert("securitySchemes".into(), Value::Object(schemes));
            }
            doc.insert("components".into(), Value::Object(components));
        }
        Dialect::Swagger => {
            if !schemes.is_empty() {
                doc.insert("securityDefinitions".into(), Value::Object(schemes));
            }
            if !schemas.is_empty() {
                doc.insert("definitions".into(), Value::Object(schemas));
            }
        }
    }

    if ext.integrations {
        if !snap.request_validators.is_empty() {
            let mut v = Map::new();
            for rv in &snap.request_validators {
                v.insert(
                    rv.name.clone(),
                    json!({"validateRequestBody": rv.validate_request_body,
                           "validateRequestParameters": rv.validate_request_parameters}),
                );
            }
            doc.insert(
                "x-amazon-apigateway-request-validators".into(),
                Value::Object(v),
            );
        }
        if !snap.gateway_responses.is_empty() {
            let mut g = Map::new();
            for gr in &snap.gateway_responses {
                let mut o = Map::new();
                if !gr.status_code.is_empty() {
                    o.insert("statusCode".into(), json!(gr.status_code));
                }
                put_map(&mut o, "responseParameters", &gr.response_parameters);
                put_map(&mut o, "responseTemplates", &gr.response_templates);
                g.insert(gr.response_type.clone(), Value::Object(o));
            }
            doc.insert(
                "x-amazon-apigateway-gateway-responses".into(),
                Value::Object(g),
            );
        }
        if !snap.binary_media_types.is_empty() {
            doc.insert(
                "x-amazon-apigateway-binary-media-types".into(),
                json!(snap.binary_media_types),
            );
        }
        if !snap.api_key_source.is_empty() {
            doc.insert(
                "x-amazon-apigateway-api-key-source".into(),
                json!(snap.api_key_source),
            );
        }
        if snap.minimum_compression_size >= 0 {
            doc.insert(
                "x-amazon-apigateway-minimum-compression-size".into(),
                json!(snap.minimum_compression_size),
            );
        }
        if !snap.policy.trim().is_empty() {
            // The policy document as JSON, as AWS writes it; text that is not JSON (never
            // stored: policies are compiled when saved) as it is.
            let policy = serde_json::from_str::<Value>(&snap.policy)
                .unwrap_or_else(|_| Value::String(snap.policy.clone()));
            doc.insert("x-amazon-apigateway-policy".into(), policy);
        }
    }
    Ok(Value::Object(doc))
}

/// An authorizer as a security scheme with API Gateway's `x-amazon-apigateway-authorizer`.
fn authorizer_scheme(a: &pb::Authorizer) -> Value {
    let header = a
        .identity_source
        .strip_prefix("method.request.header.")
        .filter(|h| !h.contains(','))
        .unwrap_or("Unused");
    let cognito = a.r#type == "COGNITO_USER_POOLS";
    let mut authorizer = Map::new();
    authorizer.insert("type".into(), json!(a.r#type.to_ascii_lowercase()));
    if cognito {
        authorizer.insert("providerARNs".into(), json!(a.provider_arns));
    } else {
        authorizer.insert("authorizerUri".into(), json!(a.authorizer_uri));
        authorizer.insert(
            "authorizerResultTtlInSeconds".into(),
            json!(a.result_ttl_seconds),
        );
    }
    if !a.identity_source.is_empty() {
        authorizer.insert("identitySource".into(), json!(a.identity_source));
    }
    if !a.identity_validation_expression.is_empty() {
        authorizer.insert(
            "identityValidationExpression".into(),
            json!(a.identity_validation_expression),
        );
    }
    json!({
        "type": "apiKey",
        "name": header,
        "in": "header",
        "x-amazon-apigateway-authtype": if cognito { "cognito_user_pools" } else { "custom" },
        "x-amazon-apigateway-authorizer": authorizer,
    })
}

struct Ctx<'a> {
    dialect: Dialect,
    ext: Extensions,
    models: &'a BTreeMap<&'a str, &'a pb::Model>,
    validators: &'a BTreeMap<&'a str, &'a pb::RequestValidator>,
    authorizers: &'a BTreeMap<&'a str, &'a pb::Authorizer>,
}

impl Ctx<'_> {
    /// The authorizer of a CUSTOM or COGNITO_USER_POOLS method.
    fn authorizer_of(&self, m: &pb::Method) -> Option<&pb::Authorizer> {
        match m.authorization_type.as_str() {
            "CUSTOM" | "COGNITO_USER_POOLS" => {
                self.authorizers.get(m.authorizer_id.as_str()).copied()
            }
            _ => None,
        }
    }

    /// A local `$ref` to model `name`.
    fn model_ref(&self, name: &str) -> Value {
        match self.dialect {
            Dialect::Oas30 => json!({"$ref": format!("#/components/schemas/{name}")}),
            Dialect::Swagger => json!({"$ref": format!("#/definitions/{name}")}),
        }
    }

    /// A model's schema, its `$schema` dropped and its `$ref`s to other models of the API
    /// (`https://apigateway.amazonaws.com/restapis/{id}/models/{name}`) made local.
    fn schema_of(&self, m: &pb::Model) -> Result<Value, String> {
        let mut v: Value = serde_json::from_str(&m.schema)
            .map_err(|e| format!("model {} is not JSON: {e}", m.name))?;
        if let Value::Object(o) = &mut v {
            // `shift_remove` keeps the other members in the model's order (`remove` would
            // move the last one into `$schema`'s place).
            o.shift_remove("$schema");
        }
        self.localise_refs(&mut v);
        Ok(v)
    }

    fn localise_refs(&self, v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, child) in o.iter_mut() {
                    if k == "$ref" {
                        if let Some(name) = child
                            .as_str()
                            .and_then(|s| s.rsplit_once(MODEL_REF_MARKER))
                            .map(|(_, n)| n.to_string())
                            .filter(|n| self.models.contains_key(n.as_str()))
                        {
                            if let Some(r) = self.model_ref(&name).get("$ref") {
                                *child = r.clone();
                            }
                        }
                    } else {
                        self.localise_refs(child);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|c| self.localise_refs(c)),
            _ => {}
        }
    }

    /// A plain string parameter's type, as each dialect writes it.
    fn string_type(&self, p: &mut Map<String, Value>) {
        match self.dialect {
            Dialect::Oas30 => {
                p.insert("schema".into(), json!({"type": "string"}));
            }
            Dialect::Swagger => {
                p.insert("type".into(), json!("string"));
            }
        }
    }

    fn operation(&self, path: &str, m: &pb::Method) -> Value {
        let mut op = Map::new();
        if !m.operation_name.is_empty() {
            op.insert("operationId".into(), json!(m.operation_name));
        }

        // Parameters: the path's slots (always required), then requestParameters.
        let mut params: Vec<Value> = Vec::new();
        let slots = path_slots(path);
        for slot in &slots {
            let mut p = Map::new();
            p.insert("name".into(), json!(slot));
            p.insert("in".into(), json!("path"));
            p.insert("required".into(), json!(true));
            self.string_type(&mut p);
            params.push(Value::Object(p));
        }
        let mut rp: Vec<(&String, &bool)> = m.request_parameters.iter().collect();
        rp.sort();
        for (key, required) in rp {
            let Some(rest) = key.strip_prefix("method.request.") else {
                continue;
            };
            let Some((loc, name)) = rest.split_once('.') else {
                continue;
            };
            let within = match loc {
                "path" => {
                    // Declared above from the path itself.
                    continue;
                }
                "querystring" => "query",
                "header" => "header",
                _ => continue,
            };
            let mut p = Map::new();
            p.insert("name".into(), json!(name));
            p.insert("in".into(), json!(within));
            if *required {
                p.insert("required".into(), json!(true));
            }
            self.string_type(&mut p);
            params.push(Value::Object(p));
        }

        // The request body: one model per content type.
        let mut body_models: Vec<(&String, &String)> = m
            .request_models
            .iter()
            .filter(|(_, name)| self.models.contains_key(name.as_str()))
            .collect();
        body_models.sort();
        match self.dialect {
            Dialect::Oas30 => {
                if !params.is_empty() {
                    op.insert("parameters".into(), Value::Array(params));
                }
                if !body_models.is_empty() {
                    let mut content = Map::new();
                    for (ct, name) in &body_models {
                        content.insert((*ct).clone(), json!({"schema": self.model_ref(name)}));
                    }
                    op.insert(
                        "requestBody".into(),
                        json!({"content": content, "required": true}),
                    );
                }
            }
            Dialect::Swagger => {
                if !body_models.is_empty() {
                    op.insert(
                        "consumes".into(),
                        json!(body_models.iter().map(|(ct, _)| ct).collect::<Vec<_>>()),
                    );
                    // Swagger has one body; the first content type's model describes it.
                    let (_, name) = body_models[0];
                    params.push(json!({"in": "body", "name": name, "required": true,
                                       "schema": self.model_ref(name)}));
                }
                let produces: Vec<&String> = {
                    let mut p: Vec<&String> = m
                        .method_responses
                        .iter()
                        .flat_map(|r| r.response_models.keys())
                        .collect();
                    p.sort();
                    p.dedup();
                    p
                };
                if !produces.is_empty() {
                    op.insert("produces".into(), json!(produces));
                }
                if !params.is_empty() {
                    op.insert("parameters".into(), Value::Array(params));
                }
            }
        }

        // Method responses.
        let mut responses = Map::new();
        let mut mrs: Vec<&pb::MethodResponse> = m.method_responses.iter().collect();
        mrs.sort_by(|a, b| a.status_code.cmp(&b.status_code));
        for r in mrs {
            responses.insert(r.status_code.clone(), self.response(r));
        }
        op.insert("responses".into(), Value::Object(responses));

        let mut security = Vec::new();
        if m.api_key_required {
            security.push(json!({"api_key": []}));
        }
        if self.ext.authorizers && m.authorization_type == "AWS_IAM" {
            security.push(json!({"sigv4": []}));
        }
        if let Some(a) = self.authorizer_of(m).filter(|_| self.ext.authorizers) {
            let mut entry = Map::new();
            entry.insert(a.name.clone(), json!(m.authorization_scopes));
            security.push(Value::Object(entry));
        }
        if !security.is_empty() {
            op.insert("security".into(), Value::Array(security));
        }

        if self.ext.integrations {
            if let Some(v) = self.validators.get(m.request_validator_id.as_str()) {
                op.insert(
                    "x-amazon-apigateway-request-validator".into(),
                    json!(v.name),
                );
            }
            if let Some(i) = &m.integration {
                op.insert("x-amazon-apigateway-integration".into(), integration_of(i));
            }
        }
        Value::Object(op)
    }

    fn response(&self, r: &pb::MethodResponse) -> Value {
        let mut o = Map::new();
        o.insert(
            "description".into(),
            json!(format!("{} response", r.status_code)),
        );
        let mut headers = Map::new();
        let mut rp: Vec<(&String, &bool)> = r.response_parameters.iter().collect();
        rp.sort();
        for (key, required) in rp {
            if let Some(name) = key.strip_prefix("method.response.header.") {
                let mut h = Map::new();
                // OpenAPI 3's header object says whether it is required; Swagger's cannot.
                if *required && self.dialect == Dialect::Oas30 {
                    h.insert("required".into(), json!(true));
                }
                self.string_type(&mut h);
                headers.insert(name.to_string(), Value::Object(h));
            }
        }
        if !headers.is_empty() {
            o.insert("headers".into(), Value::Object(headers));
        }
        let mut models: Vec<(&String, &String)> = r
            .response_models
            .iter()
            .filter(|(_, name)| self.models.contains_key(name.as_str()))
            .collect();
        models.sort();
        match self.dialect {
            Dialect::Oas30 => {
                if !models.is_empty() {
                    let mut content = Map::new();
                    for (ct, name) in models {
                        content.insert(ct.clone(), json!({"schema": self.model_ref(name)}));
                    }
                    o.insert("content".into(), Value::Object(content));
                }
            }
            Dialect::Swagger => {
                if let Some((_, name)) = models.first() {
                    o.insert("schema".into(), self.model_ref(name));
                }
            }
        }
        Value::Object(o)
    }
}

/// The `{name}` / `{name+}` slots of a resource path, as parameter names.
pub fn path_slots(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_end_matches('+').to_string())
        .collect()
}

/// `x-amazon-apigateway-integration`, as AWS writes it: `type` and `passthroughBehavior`
/// lower-cased, `cacheNamespace` (the resource id by default) kept, `responses` keyed by selection pattern (`default` for the empty one).
fn integration_of(i: &pb::Integration) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(i.r#type.to_ascii_lowercase()));
    if !i.http_method.is_empty() {
        o.insert("httpMethod".into(), json!(i.http_method));
    }
    if !i.uri.is_empty() {
        o.insert("uri".into(), json!(i.uri));
    }
    // INTERNET is the default; AWS writes only VPC_LINK.
    if !i.connection_type.is_empty() && i.connection_type != "INTERNET" {
        o.insert("connectionType".into(), json!(i.connection_type));
    }
    // A VPC_LINK integration's link (an id, or a stage variable naming one): without it the
    // document would not import back.
    if !i.connection_id.is_empty() {
        o.insert("connectionId".into(), json!(i.connection_id));
    }
    put_map(&mut o, "requestParameters", &i.request_parameters);
    put_map(&mut o, "requestTemplates", &i.request_templates);
    if !i.passthrough_behavior.is_empty() {
        o.insert(
            "passthroughBehavior".into(),
            json!(i.passthrough_behavior.to_ascii_lowercase()),
        );
    }
    if !i.content_handling.is_empty() {
        o.insert("contentHandling".into(), json!(i.content_handling));
    }
    if i.timeout_in_millis > 0 {
        o.insert("timeoutInMillis".into(), json!(i.timeout_in_millis));
    }
    if !i.cache_namespace.is_empty() {
        o.insert("cacheNamespace".into(), json!(i.cache_namespace));
    }
    if !i.cache_key_parameters.is_empty() {
        o.insert("cacheKeyParameters".into(), json!(i.cache_key_parameters));
    }
    if !i.integration_responses.is_empty() {
        let mut rs = Map::new();
        for r in &i.integration_responses {
            let key = if r.selection_pattern.is_empty() {
                "default".to_string()
            } else {
                r.selection_pattern.clone()
            };
            let mut ro = Map::new();
            ro.insert("statusCode".into(), json!(r.status_code));
            put_map(&mut ro, "responseParameters", &r.response_parameters);
            put_map(&mut ro, "responseTemplates", &r.response_templates);
            if !r.content_handling.is_empty() {
                ro.insert("contentHandling".into(), json!(r.content_handling));
            }
            rs.insert(key, Value::Object(ro));
        }
        o.insert("responses".into(), Value::Object(rs));
    }
    Value::Object(o)
}

/// Inserts `map` (sorted) under `key` unless it is empty.
fn put_map<V: serde::Serialize + Ord>(
    o: &mut Map<String, Value>,
    key: &str,
    map: &BTreeMap<String, V>,
) {
    if map.is_empty() {
        return;
    }
    o.insert(key.into(), json!(map));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_iso_created_date() {
        assert_eq!(version_of(0), "1970-01-01T00:00:00Z");
        assert_eq!(version_of(1_767_225_600), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn path_slots_include_greedy_ones() {
        assert_eq!(path_slots("/pets/{id}/{proxy+}"), vec!["id", "proxy"]);
        assert!(path_slots("/").is_empty());
    }
}
