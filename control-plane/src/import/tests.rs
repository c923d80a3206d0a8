//! The reader on small documents of both dialects.

use serde_json::{json, Value};

use super::*;

fn read_doc(doc: Value, base_path: BasePath) -> Result<Imported, ImportError> {
    read(
        doc.to_string().as_bytes(),
        &Options {
            api_id: "abc",
            base_path,
            ignore_documentation: false,
        },
    )
}

fn method<'a>(i: &'a Imported, path: &str, verb: &str) -> &'a ImportedMethod {
    i.resources
        .iter()
        .find(|r| r.path == path)
        .and_then(|r| r.methods.iter().find(|m| m.method.http_method == verb))
        .unwrap_or_else(|| panic!("{verb} {path} in {:?}", i.resources))
}

#[test]
fn an_openapi_operation_becomes_a_method() {
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "pets", "description": "d", "version": 2},
        "x-amazon-apigateway-request-validator": "all",
        "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true}},
        "paths": {"/pets/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "q", "in": "query", "required": true}],
            "post": {
                "operationId": "addToy",
                "parameters": [{"name": "q", "in": "query"},
                               {"$ref": "#/components/parameters/Trace"}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"pet": {"$ref": "#/components/schemas/Pet"}}}}}},
                "responses": {"201": {"description": "made",
                    "headers": {"x-id": {"required": true, "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
                "security": [{"api_key": []}, {"pool": ["pets/write"]}],
                "x-amazon-apigateway-integration": {
                    "type": "http", "httpMethod": "POST", "uri": "https://h/{id}",
                    "passthroughBehavior": "never",
                    "responses": {"default": {"statusCode": 201},
                                  "5\\d{2}": {"statusCode": "502"}}}}}},
        "components": {
            "schemas": {"Pet": {"type": "object"}},
            "parameters": {"Trace": {"name": "x-trace", "in": "header"}},
            "securitySchemes": {
                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                        "providerARNs": ["arn:aws:cognito-idp:us-east-1:1:userpool/us-east-1_x"]}}}}
    });
    let i = read_doc(doc, BasePath::Ignore).unwrap();
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    assert_eq!(i.api.name.as_deref(), Some("pets"));
    assert_eq!(i.api.version.as_deref(), Some("2"));
    let m = method(&i, "/pets/{id}", "POST");
    assert_eq!(m.at, "paths./pets/{id}.post");
    assert_eq!(m.validator.as_deref(), Some("all"), "the API's default");
    assert_eq!(m.authorizer.as_deref(), Some("pool"));
    let method = &m.method;
    assert_eq!(method.operation_name.as_deref(), Some("addToy"));
    assert_eq!(method.authorization_type, "COGNITO_USER_POOLS");
    assert_eq!(method.authorization_scopes, ["pets/write"]);
    assert!(method.api_key_required);
    assert_eq!(
        serde_json::to_value(&method.request_parameters).unwrap(),
        json!({"method.request.path.id": true,
               "method.request.querystring.q": false,
               "method.request.header.x-trace": false}),
        "the operation's q overrides the path item's"
    );
    assert_eq!(method.request_models["application/json"], "AddToyRequest");
    let r = &method.method_responses["201"];
    assert_eq!(r.response_models["application/json"], "Pet");
    assert!(r.response_parameters["method.response.header.x-id"]);
    let integration = method.method_integration.as_ref().unwrap();
    assert_eq!(integration.integration_type, "HTTP");
    assert_eq!(integration.passthrough_behavior, "NEVER");
    assert_eq!(integration.timeout_in_millis, 29_000);
    assert_eq!(integration.connection_type, "INTERNET");
    assert!(
        integration.cache_namespace.is_empty(),
        "left to the resource id"
    );
    assert_eq!(
        integration.integration_responses["201"].selection_pattern,
        None
    );
    assert_eq!(
        integration.integration_responses["502"]
            .selection_pattern
            .as_deref(),
        Some("5\\d{2}")
    );

    let inline = i.models.iter().find(|m| m.name == "AddToyRequest").unwrap();
    assert_eq!(
        inline.at,
        "paths./pets/{id}.post.requestBody.content.application/json.schema"
    );
    let schema: Value = serde_json::from_str(&inline.schema).unwrap();
    assert_eq!(
        schema["properties"]["pet"]["$ref"],
        "https://apigateway.amazonaws.com/restapis/abc/models/Pet"
    );
    let a = &i.authorizers[0];
    assert_eq!(a.authorizer.authorizer_type, "COGNITO_USER_POOLS");
    assert_eq!(
        a.authorizer.identity_source.as_deref(),
        Some("method.request.header.Authorization"),
        "from the scheme's header"
    );
    assert_eq!(a.authorizer.authorizer_result_ttl_in_seconds, Some(300));
}

#[test]
fn a_swagger_operation_becomes_a_method() {
    let doc = json!({
        "swagger": "2.0",
        "info": {"title": "pets"},
        "basePath": "/v1/beta",
        "produces": ["application/json", "application/xml"],
        "paths": {"/pets": {"x-amazon-apigateway-any-method": {
            "consumes": ["application/json", "text/plain"],
            "parameters": [{"in": "body", "name": "Pet", "schema": {"$ref": "#/definitions/Pet"}}],
            "responses": {"200": {"description": "ok", "schema": {"type": "string"},
                                  "headers": {"x-a": {"type": "string"}}}},
            "security": [{"sigv4": []}]}}},
        "definitions": {"Pet": {"type": "object"}},
        "securityDefinitions": {"sigv4": {"type": "apiKey", "name": "Authorization",
            "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}}
    });
    let i = read_doc(doc.clone(), BasePath::Ignore).unwrap();
    let m = &method(&i, "/pets", "ANY").method;
    assert_eq!(m.authorization_type, "AWS_IAM");
    assert_eq!(
        serde_json::to_value(&m.request_models).unwrap(),
        json!({"application/json": "Pet", "text/plain": "Pet"})
    );
    let r = &m.method_responses["200"];
    assert_eq!(
        r.response_models.len(),
        2,
        "one per document-level produces"
    );
    assert!(!r.response_parameters["method.response.header.x-a"]);
    assert!(m.method_integration.is_none());

    let paths = |b| {
        read_doc(doc.clone(), b)
            .unwrap()
            .resources
            .into_iter()
            .map(|r| r.path)
            .collect::<Vec<_>>()
    };
    assert_eq!(paths(BasePath::Prepend), ["/v1/beta/pets"]);
    assert_eq!(paths(BasePath::Split), ["/beta/pets"]);
}

#[test]
fn what_is_ignored_is_a_warning() {
    let doc = json!({
        "openapi": "3.0.0",
        "info": {"title": "w"},
        "x-amazon-apigateway-foo": 1,
        "x-other-vendor": 1,
        "paths": {"/a": {
            "trace": {"responses": {}},
            "get": {
                "parameters": [{"name": "c", "in": "cookie"}],
                "responses": {"default": {"description": "x"}},
                "security": [{"oauth": []}],
                "x-amazon-apigateway-bar": {},
                "x-amazon-apigateway-integration": {"type": "mock", "tlsConfig": {},
                    "responses": {"default": {"statusCode": "200", "foo": 1}}}}}},
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}}
    });
    let i = read_doc(doc, BasePath::Ignore).unwrap();
    let mut w = i.warnings.clone();
    w.sort();
    let starts: Vec<&str> = w
        .iter()
        .map(|w| w.split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        starts,
        [
            "components.securitySchemes.oauth",
            "paths./a.get.parameters.0",
            "paths./a.get.responses.default",
            "paths./a.get.x-amazon-apigateway-bar",
            "paths./a.get.x-amazon-apigateway-integration.responses.default.foo",
            "paths./a.get.x-amazon-apigateway-integration.tlsConfig",
            "paths./a.trace",
            "x-amazon-apigateway-foo",
        ],
        "{w:#?}"
    );
    let m = method(&i, "/a", "GET");
    assert_eq!(
        m.method.authorization_type, "NONE",
        "oauth2 is not enforced"
    );
}

#[test]
fn contradictions_are_errors_that_say_where() {
    let base = json!({"openapi": "3.0.1", "info": {"title": "e"}, "paths": {}});
    let err = |paths: Value| {
        let mut doc = base.clone();
        doc["paths"] = paths;
        read_doc(doc, BasePath::Ignore).unwrap_err().to_string()
    };
    assert_eq!(
        err(json!({"pets": {}})),
        "paths.pets: a path must start with /"
    );
    let e = err(
        json!({"/p": {"get": {"x-amazon-apigateway-integration": {"type": "mock",
        "responses": {"default": {"statusCode": "200"}, "2..": {"statusCode": "200"}}}}}}),
    );
    assert!(
        e.starts_with(
            "paths./p.get.x-amazon-apigateway-integration.responses.2..: statusCode 200 is also \
             the status of the response 'default'"
        ),
        "{e}"
    );
    let e = err(json!({"/p": {"get": {"x-amazon-apigateway-integration": {
        "responses": {"default": {}}}}}}));
    assert!(
        e.ends_with("an integration response needs a statusCode"),
        "{e}"
    );
    let e = err(json!({"/p": {"get": {"parameters": [{"$ref": "#/components/parameters/x"}]}}}));
    assert_eq!(
        e,
        "paths./p.get.parameters.0: unknown $ref '#/components/parameters/x'"
    );
    let e = err(json!({"/p": {"get": {"parameters": [{"$ref": "other.yaml#/x"}]}}}));
    assert!(e.contains("only references within the document"), "{e}");
    let e = err(json!({"/p": {"get": {"responses": "nope"}}}));
    assert_eq!(
        e,
        "paths./p.get.responses: expected an object, found a string"
    );
}
