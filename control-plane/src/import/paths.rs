//! Paths → resources and methods: each operation's parameters, body and responses (their
//! schemas through `schemas.rs`), `security` (API keys, `sigv4`, authorizers), request
//! validator and `x-amazon-apigateway-integration`; security schemes → authorizers.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::schemas::Schemas;
use super::source::{
    array, invalid, join, object, opt_bool, opt_i32, opt_string, scalar, string_list, string_map,
};
use super::{ImportError, ImportedAuthorizer, ImportedMethod, ImportedResource, Warnings};
use crate::export::Dialect;
use crate::wire::{Authorizer, Integration, IntegrationResponse, Method, MethodResponse};

/// Follows local `$ref`s (`#/components/...`) from `v`.
fn resolve<'d>(doc: &'d Value, mut v: &'d Value, at: &str) -> Result<&'d Value, ImportError> {
    for _ in 0..16 {
        let Some(r) = v.get("$ref") else {
            return Ok(v);
        };
        let r = r
            .as_str()
            .ok_or_else(|| invalid(at, "a $ref must be a string"))?;
        let pointer = r
            .strip_prefix('#')
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| {
                invalid(
                    at,
                    format!(
                        "unsupported $ref '{r}': only references within the document (#/...) are"
                    ),
                )
            })?;
        v = doc
            .pointer(pointer)
            .ok_or_else(|| invalid(at, format!("unknown $ref '{r}'")))?;
    }
    Err(invalid(at, "$ref chain too long or circular"))
}

/// What a security scheme means to API Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// `x-api-key` in a header: `apiKeyRequired`.
    ApiKey,
    /// `x-amazon-apigateway-authtype: awsSigv4`: `AWS_IAM`.
    Sigv4,
    /// An `x-amazon-apigateway-authorizer`: `CUSTOM`, or `COGNITO_USER_POOLS` when true.
    Authorizer {
        /// A COGNITO_USER_POOLS authorizer.
        cognito: bool,
    },
    /// Anything else (OAuth 2 flows, HTTP basic, …): not enforced here.
    Other,
}

/// The document's security schemes.
#[derive(Debug, Default)]
pub struct SecuritySchemes {
    /// Scheme name → meaning.
    pub kinds: BTreeMap<String, Scheme>,
    /// The authorizers among them.
    pub authorizers: Vec<ImportedAuthorizer>,
}

const SCHEME_MEMBERS: &[&str] = &[
    "type",
    "name",
    "in",
    "description",
    "scheme",
    "bearerFormat",
    "flows",
    "flow",
    "openIdConnectUrl",
    "authorizationUrl",
    "tokenUrl",
    "scopes",
    "x-amazon-apigateway-authtype",
    "x-amazon-apigateway-authorizer",
];

const AUTHORIZER_MEMBERS: &[&str] = &[
    "type",
    "authorizerUri",
    "authorizerCredentials",
    "identitySource",
    "identityValidationExpression",
    "authorizerResultTtlInSeconds",
    "providerARNs",
];

impl SecuritySchemes {
    /// Reads `components.securitySchemes` (`securityDefinitions`).
    pub fn read(
        doc: &Value,
        dialect: Dialect,
        warnings: &mut Warnings,
    ) -> Result<Self, ImportError> {
        let (at, found) = match dialect {
            Dialect::Oas30 => (
                "components.securitySchemes",
                doc.get("components").and_then(|c| c.get("securitySchemes")),
            ),
            Dialect::Swagger => ("securityDefinitions", doc.get("securityDefinitions")),
        };
        let mut out = Self::default();
        let Some(found) = found else {
            return Ok(out);
        };
        for (name, v) in object(found, at)? {
            let s_at = join(at, name);
            let o = object(resolve(doc, v, &s_at)?, &s_at)?;
            let scheme_type = opt_string(o, "type", &s_at)?.unwrap_or_default();
            let location = opt_string(o, "in", &s_at)?.unwrap_or_default();
            let header = opt_string(o, "name", &s_at)?.unwrap_or_default();
            let auth_type = opt_string(o, "x-amazon-apigateway-authtype", &s_at)?;
            let kind = if let Some(a) = o.get("x-amazon-apigateway-authorizer") {
                let a_at = join(&s_at, "x-amazon-apigateway-authorizer");
                let ao = object(a, &a_at)?;
                let authorizer_type = opt_string(ao, "type", &a_at)?
                    .ok_or_else(|| {
                        invalid(
                            &join(&a_at, "type"),
                            "the authorizer's type is required: token, request or \
                             cognito_user_pools",
                        )
                    })?
                    .to_ascii_uppercase();
                let in_header = location.eq_ignore_ascii_case("header") && !header.is_empty();
                let identity_source = opt_string(ao, "identitySource", &a_at)?.or_else(|| {
                    (in_header && authorizer_type != "REQUEST")
                        .then(|| format!("method.request.header.{header}"))
                });
                let cognito = authorizer_type == "COGNITO_USER_POOLS";
                out.authorizers.push(ImportedAuthorizer {
                    at: a_at.clone(),
                    authorizer: Authorizer {
                        id: String::new(),
                        name: name.clone(),
                        authorizer_type,
                        authorizer_uri: opt_string(ao, "authorizerUri", &a_at)?,
                        authorizer_credentials: opt_string(ao, "authorizerCredentials", &a_at)?,
                        identity_source,
                        identity_validation_expression: opt_string(
                            ao,
                            "identityValidationExpression",
                            &a_at,
                        )?,
                        authorizer_result_ttl_in_seconds: Some(
                            opt_i32(ao, "authorizerResultTtlInSeconds", &a_at)?
                                .unwrap_or(crate::api::rules::authorizer::DEFAULT_TTL_SECONDS),
                        ),
                        provider_arns: string_list(ao, "providerARNs", &a_at)?,
                        auth_type: auth_type.clone(),
                    },
                });
                warnings.unknown_members(ao, &a_at, AUTHORIZER_MEMBERS, false);
                Scheme::Authorizer { cognito }
            } else if auth_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"))
            {
                Scheme::Sigv4
            } else if scheme_type == "apiKey"
                && location.eq_ignore_ascii_case("header")
                && header.eq_ignore_ascii_case("x-api-key")
            {
                Scheme::ApiKey
            } else {
                warnings.add(
                    &s_at,
                    format!(
                        "a security scheme of type '{scheme_type}' without \
                         x-amazon-apigateway-authorizer is not enforced by this gateway; \
                         methods that require it are not protected by it"
                    ),
                );
                Scheme::Other
            };
            warnings.unknown_members(o, &s_at, SCHEME_MEMBERS, false);
            out.kinds.insert(name.clone(), kind);
        }
        Ok(out)
    }
}

const PATH_ITEM_MEMBERS: &[&str] = &[
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "parameters",
    "summary",
    "description",
    "$ref",
    "x-amazon-apigateway-any-method",
];

const OPERATION_MEMBERS: &[&str] = &[
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "security",
    "summary",
    "description",
    "tags",
    "externalDocs",
    "deprecated",
    "consumes",
    "produces",
    "schemes",
    "x-amazon-apigateway-integration",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-auth",
];

const INTEGRATION_MEMBERS: &[&str] = &[
    "type",
    "httpMethod",
    "uri",
    "connectionType",
    "connectionId",
    "requestParameters",
    "requestTemplates",
    "passthroughBehavior",
    "contentHandling",
    "timeoutInMillis",
    "cacheNamespace",
    "cacheKeyParameters",
    "responses",
];

const INTEGRATION_RESPONSE_MEMBERS: &[&str] = &[
    "statusCode",
    "responseParameters",
    "responseTemplates",
    "contentHandling",
];

/// Reads the paths of one document.
pub struct Reader<'a, 'b> {
    /// The document.
    pub doc: &'b Value,
    /// Its dialect.
    pub dialect: Dialect,
    /// Its schemas, and the models inline schemas add.
    pub schemas: &'b mut Schemas<'a>,
    /// Its security schemes.
    pub schemes: &'b SecuritySchemes,
    /// The root's `x-amazon-apigateway-request-validator`.
    pub default_validator: Option<&'b str>,
    /// `ignore=documentation`.
    pub ignore_documentation: bool,
    /// Where warnings go.
    pub warnings: &'b mut Warnings,
}

/// One parameter of an operation (path-level ones included).
struct Param<'d> {
    at: String,
    name: String,
    location: String,
    o: &'d Map<String, Value>,
}

/// The parameters of an operation: the path item's, overridden by the operation's own
/// with the same name and location (each list with where it is).
fn parameters<'d>(
    doc: &'d Value,
    lists: [(Option<&'d Value>, String); 2],
) -> Result<Vec<Param<'d>>, ImportError> {
    let mut out: Vec<Param<'d>> = Vec::new();
    for (list, at) in lists {
        let Some(list) = list else { continue };
        let at = join(&at, "parameters");
        for (i, p) in array(list, &at)?.iter().enumerate() {
            let p_at = join(&at, &i.to_string());
            let o = object(resolve(doc, p, &p_at)?, &p_at)?;
            let name = scalar(o.get("name").unwrap_or(&Value::Null), &join(&p_at, "name"))?;
            let location = scalar(o.get("in").unwrap_or(&Value::Null), &join(&p_at, "in"))?;
            let param = Param {
                at: p_at,
                name,
                location,
                o,
            };
            match out
                .iter_mut()
                .find(|q| q.name == param.name && q.location == param.location)
            {
                Some(q) => *q = param,
                None => out.push(param),
            }
        }
    }
    Ok(out)
}

impl<'b> Reader<'_, 'b> {
    /// Every path of the document as a resource under `prefix` (the base path's segments
    /// that `basepath` keeps).
    pub fn paths(&mut self, prefix: &[String]) -> Result<Vec<ImportedResource>, ImportError> {
        let doc = self.doc;
        let Some(paths) = doc.get("paths") else {
            return Ok(Vec::new());
        };
        let mut out: BTreeMap<String, ImportedResource> = BTreeMap::new();
        for (key, item) in object(paths, "paths")? {
            let at = join("paths", key);
            if !key.starts_with('/') {
                return Err(invalid(&at, "a path must start with /"));
            }
            let mut path: String = prefix.iter().map(|s| format!("/{s}")).collect();
            if key != "/" {
                path.push_str(key);
            }
            if path.is_empty() {
                path.push('/');
            }
            if let Some(other) = out.get(&path) {
                return Err(invalid(
                    &at,
                    format!("the resource path {path} is also {}", other.at),
                ));
            }
            let item = object(resolve(doc, item, &at)?, &at)?;
            let shared = item.get("parameters");
            let mut methods = Vec::new();
            for (key, op) in item {
                let verb = match key.as_str() {
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" => {
                        key.to_ascii_uppercase()
                    }
                    "x-amazon-apigateway-any-method" => "ANY".to_string(),
                    "trace" => {
                        self.warnings.add(
                            &join(&at, key),
                            "TRACE is not a method API Gateway supports; ignored",
                        );
                        continue;
                    }
                    _ => continue,
                };
                methods.push(self.operation(&at, key, verb, op, shared)?);
            }
            self.warnings.unknown_members(
                item,
                &at,
                &[PATH_ITEM_MEMBERS, &["trace"]].concat(),
                self.ignore_documentation,
            );
            out.insert(path.clone(), ImportedResource { at, path, methods });
        }
        Ok(out.into_values().collect())
    }

    /// A name models of this operation are named after.
    fn model_base(m: &Method, path_at: &str) -> String {
        match &m.operation_name {
            Some(op) => op.clone(),
            None => format!(
                "{} {}",
                m.http_method.to_ascii_lowercase(),
                path_at.trim_start_matches("paths.")
            ),
        }
    }

    /// Swagger's `consumes` / `produces` of an operation (its own, else the document's,
    /// else JSON).
    fn media_types(
        &self,
        o: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Vec<String>, ImportError> {
        let own = string_list(o, key, at)?;
        if !own.is_empty() {
            return Ok(own);
        }
        let root = object(self.doc, "")?;
        let doc_level = string_list(root, key, "")?;
        Ok(if doc_level.is_empty() {
            vec!["application/json".to_string()]
        } else {
            doc_level
        })
    }

    fn operation(
        &mut self,
        path_at: &str,
        key: &str,
        verb: String,
        op: &'b Value,
        shared: Option<&'b Value>,
    ) -> Result<ImportedMethod, ImportError> {
        let doc = self.doc;
        let at = join(path_at, key);
        let o = object(op, &at)?;
        let mut m = Method {
            http_method: verb,
            authorization_type: "NONE".into(),
            operation_name: opt_string(o, "operationId", &at)?,
            ..Default::default()
        };
        let base = Self::model_base(&m, path_at);

        let mut body: Option<Param<'_>> = None;
        for p in parameters(
            doc,
            [
                (shared, path_at.to_string()),
                (o.get("parameters"), at.clone()),
            ],
        )? {
            let required = opt_bool(p.o, "required", &p.at)?;
            let within = match p.location.as_str() {
                "path" => "path",
                "query" => "querystring",
                "header" => "header",
                "body" if self.dialect == Dialect::Swagger => {
                    body = Some(p);
                    continue;
                }
                other => {
                    self.warnings.add(
                        &p.at,
                        format!("{other} parameters are not supported by API Gateway; ignored"),
                    );
                    continue;
                }
            };
            let required = required.unwrap_or(within == "path");
            m.request_parameters
                .insert(format!("method.request.{within}.{}", p.name), required);
        }

        match self.dialect {
            Dialect::Oas30 => {
                if let Some(rb) = o.get("requestBody") {
                    let rb_at = join(&at, "requestBody");
                    let rb = object(resolve(doc, rb, &rb_at)?, &rb_at)?;
                    if let Some(content) = rb.get("content") {
                        let c_at = join(&rb_at, "content");
                        for (ct, media) in object(content, &c_at)? {
                            let media_at = join(&c_at, ct);
                            let media = object(media, &media_at)?;
                            let name = self.schemas.model_for(
                                media.get("schema"),
                                &join(&media_at, "schema"),
                                &format!("{base} request"),
                                ct,
                            )?;
                            if let Some(name) = name {
                                m.request_models.insert(ct.clone(), name);
                            }
                        }
                    }
                }
            }
            Dialect::Swagger => {
                if let Some(p) = body {
                    let types = self.media_types(o, "consumes", &at)?;
                    let first = types.first().cloned().unwrap_or_default();
                    let name = self.schemas.model_for(
                        p.o.get("schema"),
                        &join(&p.at, "schema"),
                        &format!("{base} request"),
                        &first,
                    )?;
                    if let Some(name) = name {
                        for ct in types {
                            m.request_models.insert(ct, name.clone());
                        }
                    }
                }
            }
        }

        if let Some(rs) = o.get("responses") {
            let rs_at = join(&at, "responses");
            for (code, r) in object(rs, &rs_at)? {
                let r_at = join(&rs_at, code);
                if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    self.warnings.add(
                        &r_at,
                        "a method response needs a status code (default and ranges are not \
                         supported); ignored",
                    );
                    continue;
                }
                let r = object(resolve(doc, r, &r_at)?, &r_at)?;
                let mr = self.response(code, r, &r_at, o, &at, &base)?;
                m.method_responses.insert(code.clone(), mr);
            }
        }

        let authorizer = self.security(&mut m, o, &at)?;
        if let Some(auth) = o.get("x-amazon-apigateway-auth") {
            let a_at = join(&at, "x-amazon-apigateway-auth");
            let kind = opt_string(object(auth, &a_at)?, "type", &a_at)?;
            if let Some(kind) = kind.filter(|_| m.authorization_type == "NONE") {
                m.authorization_type = crate::validate::authorization_type(&kind);
            }
        }
        let validator = opt_string(o, "x-amazon-apigateway-request-validator", &at)?
            .or_else(|| self.default_validator.map(str::to_string));
        if let Some(i) = o.get("x-amazon-apigateway-integration") {
            let i_at = join(&at, "x-amazon-apigateway-integration");
            m.method_integration = Some(self.integration(i, &i_at)?);
        }
        self.warnings
            .unknown_members(o, &at, OPERATION_MEMBERS, self.ignore_documentation);
        Ok(ImportedMethod {
            at,
            method: m,
            validator,
            authorizer,
        })
    }

    /// A method response: its headers and its models.
    fn response(
        &mut self,
        code: &str,
        r: &Map<String, Value>,
        r_at: &str,
        op: &Map<String, Value>,
        op_at: &str,
        base: &str,
    ) -> Result<MethodResponse, ImportError> {
        let doc = self.doc;
        let mut mr = MethodResponse {
            status_code: code.to_string(),
            ..Default::default()
        };
        if let Some(headers) = r.get("headers") {
            let h_at = join(r_at, "headers");
            for (name, h) in object(headers, &h_at)? {
                let one_at = join(&h_at, name);
                let h = object(resolve(doc, h, &one_at)?, &one_at)?;
                let required = opt_bool(h, "required", &one_at)?.unwrap_or(false);
                mr.response_parameters
                    .insert(format!("method.response.header.{name}"), required);
            }
        }
        let suggested = format!("{base} response {code}");
        match self.dialect {
            Dialect::Oas30 => {
                if let Some(content) = r.get("content") {
                    let c_at = join(r_at, "content");
                    for (ct, media) in object(content, &c_at)? {
                        let media_at = join(&c_at, ct);
                        let media = object(media, &media_at)?;
                        let name = self.schemas.model_for(
                            media.get("schema"),
                            &join(&media_at, "schema"),
                            &suggested,
                            ct,
                        )?;
                        if let Some(name) = name {
                            mr.response_models.insert(ct.clone(), name);
                        }
                    }
                }
            }
            Dialect::Swagger => {
                if r.get("schema").is_some() {
                    let types = self.media_types(op, "produces", op_at)?;
                    let first = types.first().cloned().unwrap_or_default();
                    let name = self.schemas.model_for(
                        r.get("schema"),
                        &join(r_at, "schema"),
                        &suggested,
                        &first,
                    )?;
                    if let Some(name) = name {
                        for ct in types {
                            mr.response_models.insert(ct, name.clone());
                        }
                    }
                }
            }
        }
        Ok(mr)
    }

    /// The operation's `security` (else the document's): API key, `sigv4` and authorizer
    /// requirements; answers the authorizer's name.
    fn security(
        &mut self,
        m: &mut Method,
        op: &Map<String, Value>,
        op_at: &str,
    ) -> Result<Option<String>, ImportError> {
        let (requirements, at) = match op.get("security") {
            Some(s) => (s, join(op_at, "security")),
            None => match self.doc.get("security") {
                Some(s) => (s, "security".to_string()),
                None => return Ok(None),
            },
        };
        let mut authorizer = None;
        for (i, req) in array(requirements, &at)?.iter().enumerate() {
            let req_at = join(&at, &i.to_string());
            for (name, scopes) in object(req, &req_at)? {
                let scheme = self.schemes.kinds.get(name).ok_or_else(|| {
                    invalid(
                        &req_at,
                        format!(
                            "unknown security scheme '{name}': declare it in {}",
                            match self.dialect {
                                Dialect::Oas30 => "components.securitySchemes",
                                Dialect::Swagger => "securityDefinitions",
                            }
                        ),
                    )
                })?;
                let kind = match scheme {
                    Scheme::ApiKey => {
                        m.api_key_required = true;
                        continue;
                    }
                    Scheme::Other => continue,
                    Scheme::Sigv4 => "AWS_IAM",
                    Scheme::Authorizer { cognito: true } => "COGNITO_USER_POOLS",
                    Scheme::Authorizer { cognito: false } => "CUSTOM",
                };
                if m.authorization_type != "NONE" {
                    return Err(invalid(
                        &req_at,
                        format!(
                            "a method has one authorization type: {name} would make it {kind}, \
                             but it is already {}",
                            m.authorization_type
                        ),
                    ));
                }
                m.authorization_type = kind.to_string();
                if kind != "AWS_IAM" {
                    authorizer = Some(name.clone());
                    m.authorization_scopes = array(scopes, &join(&req_at, name))?
                        .iter()
                        .enumerate()
                        .map(|(j, s)| scalar(s, &join(&join(&req_at, name), &j.to_string())))
                        .collect::<Result<_, _>>()?;
                }
            }
        }
        Ok(authorizer)
    }

    /// `x-amazon-apigateway-integration`, with PutIntegration's defaults.
    fn integration(&mut self, v: &Value, at: &str) -> Result<Integration, ImportError> {
        let o = object(v, at)?;
        let mut responses = BTreeMap::new();
        if let Some(rs) = o.get("responses") {
            let rs_at = join(at, "responses");
            for (pattern, r) in object(rs, &rs_at)? {
                let r_at = join(&rs_at, pattern);
                let ro = object(r, &r_at)?;
                let status = opt_string(ro, "statusCode", &r_at)?.ok_or_else(|| {
                    invalid(
                        &join(&r_at, "statusCode"),
                        "an integration response needs a statusCode",
                    )
                })?;
                let ir = IntegrationResponse {
                    status_code: status.clone(),
                    selection_pattern: (pattern != "default" && !pattern.is_empty())
                        .then(|| pattern.clone()),
                    response_parameters: string_map(ro, "responseParameters", &r_at)?,
                    response_templates: string_map(ro, "responseTemplates", &r_at)?,
                    content_handling: opt_string(ro, "contentHandling", &r_at)?,
                };
                self.warnings.unknown_members(
                    ro,
                    &r_at,
                    INTEGRATION_RESPONSE_MEMBERS,
                    self.ignore_documentation,
                );
                if let Some(other) = responses.insert(status.clone(), ir) {
                    return Err(invalid(
                        &r_at,
                        format!(
                            "statusCode {status} is also the status of the response '{}': an \
                             integration has one response per status",
                            other.selection_pattern.as_deref().unwrap_or("default")
                        ),
                    ));
                }
            }
        }
        for unsupported in ["credentials", "tlsConfig"] {
            if o.contains_key(unsupported) {
                self.warnings.add(
                    &join(at, unsupported),
                    "not supported by this gateway yet; ignored",
                );
            }
        }
        self.warnings.unknown_members(
            o,
            at,
            &[INTEGRATION_MEMBERS, &["credentials", "tlsConfig"]].concat(),
            self.ignore_documentation,
        );
        Ok(Integration {
            integration_type: opt_string(o, "type", at)?
                .unwrap_or_default()
                .to_ascii_uppercase(),
            http_method: opt_string(o, "httpMethod", at)?,
            uri: opt_string(o, "uri", at)?,
            connection_type: opt_string(o, "connectionType", at)?
                .map_or_else(|| "INTERNET".into(), |c| c.to_ascii_uppercase()),
            connection_id: opt_string(o, "connectionId", at)?.filter(|c| !c.is_empty()),
            request_parameters: string_map(o, "requestParameters", at)?,
            request_templates: string_map(o, "requestTemplates", at)?,
            passthrough_behavior: opt_string(o, "passthroughBehavior", at)?.map_or_else(
                || "WHEN_NO_MATCH".into(),
                |p| crate::validate::passthrough_behavior(&p),
            ),
            content_handling: opt_string(o, "contentHandling", at)?,
            timeout_in_millis: opt_i32(o, "timeoutInMillis", at)?.unwrap_or(29_000),
            cache_namespace: opt_string(o, "cacheNamespace", at)?.unwrap_or_default(),
            cache_key_parameters: string_list(o, "cacheKeyParameters", at)?,
            tls_config: None,
            integration_responses: responses,
        })
    }
}
