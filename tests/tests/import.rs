//! ImportRestApi and PutRestApi (issue 12, "OpenAPI in"), against real processes.
//!
//! A PetStore-style API (models with a `$ref` between them, two request validators, gateway
//! responses, a resource policy, binary media types, a minimum compression size, MOCK,
//! HTTP, HTTP_PROXY (one through a VPC link) and AWS_PROXY integrations, a TOKEN and a
//! COGNITO_USER_POOLS authorizer, an API-key method, an AWS_IAM `ANY /{proxy+}`) is
//! deployed and exported (`oas30` and `swagger`, `extensions=apigateway`); each export is
//! imported into a new API (JSON and YAML), which is deployed and called through a
//! data-plane node, and exported again. The two documents must be the same but for what names the API and its
//! deployment:
//!
//! - `servers[0].url` (OpenAPI 3) / `host` (Swagger): the invoke host is
//!   `{api id}.execute-api.localhost`, and the import is a new API with a new id;
//! - `info.version`: GetExport writes the exported deployment's date there, and the
//!   import's deployment is a later one.
//!
//! Everything else (titles, ids inside the document such as `cacheNamespace`, which the
//! import keeps as the document gives it) is equal. Then: `mode=merge` keeps a resource
//! the document does not name and `mode=overwrite` removes it (stages and deployments
//! stay); an unknown `x-amazon-apigateway-foo` is a warning in the answer, and a refusal
//! with `failonwarnings=true`; bad documents get 400s that say where.

use std::time::Duration;

use apigw_e2e::mgmt::Answer;
use apigw_e2e::rest_api::{mock_integration, text};
use apigw_e2e::{eventually, fresh_database, Backend, Cluster, ControlPlane, Mgmt, RestApi};
use serde_json::{json, Value};

const PET: &str = r#"{"$schema": "http://json-schema.org/draft-04/schema#", "title": "Pet",
  "type": "object", "required": ["type"],
  "properties": {"id": {"type": "integer"}, "type": {"type": "string"}, "price": {"type": "number"}}}"#;

const FUNCTION_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
                            arn:aws:lambda:us-east-1:123456789012:function:petstore/invocations";

const TOKEN_AUTHORIZER_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/\
     functions/arn:aws:lambda:us-east-1:123456789012:function:token-authorizer/invocations";

const NLB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/private/0123456789abcdef";

const USER_POOL: &str = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_PetStore";

/// Builds the PetStore API (its HTTP integrations towards `backend`) and deploys it to
/// `prod`; returns its id.
async fn build_and_deploy(m: &Mgmt, backend: &str) -> String {
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*"}]});
    let api = RestApi::create_with(
        m,
        "PetStore",
        json!({"binaryMediaTypes": ["image/png"], "apiKeySource": "HEADER",
               "minimumCompressionSize": 1024, "policy": policy.to_string()}),
    )
    .await;
    let id = api.id.clone();
    let pets_schema = format!(
        r#"{{"type": "array", "items": {{"$ref": "https://apigateway.amazonaws.com/restapis/{id}/models/Pet"}}}}"#
    );
    for (name, schema) in [("Pet", PET.to_string()), ("Pets", pets_schema)] {
        m.post(
            &format!("/restapis/{id}/models"),
            json!({"name": name, "contentType": "application/json", "schema": schema}),
        )
        .await
        .ok();
    }
    let body_validator = m
        .post(
            &format!("/restapis/{id}/requestvalidators"),
            json!({"name": "body-and-params", "validateRequestBody": true,
                   "validateRequestParameters": true}),
        )
        .await
        .ok();
    let params_validator = m
        .post(
            &format!("/restapis/{id}/requestvalidators"),
            json!({"name": "params-only", "validateRequestParameters": true}),
        )
        .await
        .ok();
    m.put(
        &format!("/restapis/{id}/gatewayresponses/DEFAULT_4XX"),
        json!({"responseParameters": {"gatewayresponse.header.x-why": "'client'"},
               "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"}}),
    )
    .await
    .ok();
    m.put(
        &format!("/restapis/{id}/gatewayresponses/UNAUTHORIZED"),
        json!({"statusCode": "401",
               "responseTemplates": {"application/json": "{\"message\":\"who are you?\"}"}}),
    )
    .await
    .ok();
    let tokens = m
        .post(
            &format!("/restapis/{id}/authorizers"),
            json!({"name": "tokens", "type": "TOKEN", "authorizerUri": TOKEN_AUTHORIZER_URI,
                   "identitySource": "method.request.header.Authorization",
                   "identityValidationExpression": "[A-Za-z][A-Za-z0-9:-]*",
                   "authorizerResultTtlInSeconds": 60}),
        )
        .await
        .ok();
    let pool = m
        .post(
            &format!("/restapis/{id}/authorizers"),
            json!({"name": "pool", "type": "COGNITO_USER_POOLS", "providerARNs": [USER_POOL],
                   "identitySource": "method.request.header.Authorization"}),
        )
        .await
        .ok();

    // GET /pets: MOCK, a required query parameter (validated), a header, the Pets model.
    let pets = api.resource(&api.root, "pets").await;
    let get_pets = api.method_path(&pets, "GET");
    m.put(
        &get_pets,
        json!({"authorizationType": "NONE", "operationName": "ListPets",
               "requestValidatorId": text(&params_validator["id"]),
               "requestParameters": {"method.request.querystring.page": true,
                                     "method.request.querystring.type": false,
                                     "method.request.header.x-trace": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{get_pets}/responses/200"),
        json!({"responseParameters": {"method.response.header.x-next": false,
                                      "method.response.header.x-page": true},
               "responseModels": {"application/json": "Pets"}}),
    )
    .await
    .ok();
    m.put(&format!("{get_pets}/integration"), mock_integration(200))
        .await
        .ok();
    m.put(
        &format!("{get_pets}/integration/responses/200"),
        json!({"selectionPattern": "",
               "responseParameters": {"method.response.header.x-next": "'2'",
                                      "method.response.header.x-page": "'1'"},
               "responseTemplates": {"application/json": "[]"}}),
    )
    .await
    .ok();

    // POST /pets: HTTP to the backend, the Pet model validated, an API key required.
    let post_pets = api.method_path(&pets, "POST");
    m.put(
        &post_pets,
        json!({"authorizationType": "NONE", "apiKeyRequired": true, "operationName": "AddPet",
               "requestModels": {"application/json": "Pet"},
               "requestValidatorId": text(&body_validator["id"])}),
    )
    .await
    .ok();
    for status in ["200", "400"] {
        m.put(
            &format!("{post_pets}/responses/{status}"),
            json!({"responseModels": {"application/json": if status == "200" { "Pet" } else { "Error" }}}),
        )
        .await
        .ok();
    }
    m.put(
        &format!("{post_pets}/integration"),
        json!({"type": "HTTP", "httpMethod": "POST", "uri": format!("{backend}/pets"),
               "requestParameters": {"integration.request.header.x-source": "'gateway'"},
               "requestTemplates": {"application/json": "$input.body"},
               "passthroughBehavior": "WHEN_NO_TEMPLATES", "timeoutInMillis": 5000,
               "contentHandling": "CONVERT_TO_TEXT"}),
    )
    .await
    .ok();
    m.put(
        &format!("{post_pets}/integration/responses/200"),
        json!({"selectionPattern": ""}),
    )
    .await
    .ok();
    m.put(
        &format!("{post_pets}/integration/responses/400"),
        json!({"selectionPattern": "4\\d{2}",
               "responseTemplates": {"application/json": "{\"message\": \"bad pet\"}"}}),
    )
    .await
    .ok();

    // GET /pets/{petId}: HTTP_PROXY behind the TOKEN authorizer, the path parameter mapped.
    let pet = api.resource(&pets, "{petId}").await;
    let get_pet = api.method_path(&pet, "GET");
    m.put(
        &get_pet,
        json!({"authorizationType": "CUSTOM", "authorizerId": text(&tokens["id"]),
               "requestParameters": {"method.request.path.petId": true}}),
    )
    .await
    .ok();
    m.put(
        &format!("{get_pet}/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{backend}/pets/{{id}}"),
               "requestParameters": {"integration.request.path.id": "method.request.path.petId"},
               "cacheKeyParameters": ["method.request.path.petId"]}),
    )
    .await
    .ok();

    // DELETE /pets/{petId}: MOCK behind the Cognito user pool, with a scope.
    let delete_pet = api.method_path(&pet, "DELETE");
    m.put(
        &delete_pet,
        json!({"authorizationType": "COGNITO_USER_POOLS", "authorizerId": text(&pool["id"]),
               "authorizationScopes": ["pets/write"]}),
    )
    .await
    .ok();
    m.put(&format!("{delete_pet}/responses/204"), json!({}))
        .await
        .ok();
    m.put(&format!("{delete_pet}/integration"), mock_integration(204))
        .await
        .ok();
    m.put(
        &format!("{delete_pet}/integration/responses/204"),
        json!({"selectionPattern": ""}),
    )
    .await
    .ok();

    // GET /health: HTTP_PROXY to the backend, open.
    let health = api.resource(&api.root, "health").await;
    api.method(
        &health,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{backend}/health")}),
    )
    .await;

    // GET /private: HTTP_PROXY through a VPC link.
    let link = m
        .post("/vpclinks", json!({"name": "private", "targetArns": [NLB]}))
        .await
        .ok();
    let private = api.resource(&api.root, "private").await;
    api.method(
        &private,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{backend}/inside"),
               "connectionType": "VPC_LINK", "connectionId": text(&link["id"])}),
    )
    .await;

    // ANY /{proxy+}: AWS_PROXY to a function, signed callers only.
    let proxy = api.resource(&api.root, "{proxy+}").await;
    let any = api.method_path(&proxy, "ANY");
    m.put(&any, json!({"authorizationType": "AWS_IAM"}))
        .await
        .ok();
    m.put(
        &format!("{any}/integration"),
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": FUNCTION_URI}),
    )
    .await
    .ok();

    api.deploy("prod", json!({})).await;
    id
}

/// GetExport of stage `prod` with `extensions=apigateway`, as text.
async fn export(m: &Mgmt, api: &str, ty: &str, accept: &str) -> String {
    let raw = m
        .get_raw(
            &format!("/restapis/{api}/stages/prod/exports/{ty}?extensions=apigateway"),
            Some(accept),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    raw.text
}

/// ImportRestApi with `query` (after `mode=import`).
async fn import(m: &Mgmt, body: &str, query: &str) -> Answer {
    m.call_raw(
        "POST",
        &format!("/restapis?mode=import{query}"),
        body.as_bytes(),
        "application/json",
    )
    .await
}

/// PutRestApi with `query`.
async fn put_rest_api(m: &Mgmt, api: &str, body: &str, query: &str) -> Answer {
    m.call_raw(
        "PUT",
        &format!("/restapis/{api}{query}"),
        body.as_bytes(),
        "application/json",
    )
    .await
}

/// The document without what names the API (`servers` / `host`) and its deployment
/// (`info.version`).
fn comparable(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(o) = doc.as_object_mut() {
        o.remove("servers");
        o.remove("host");
    }
    if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut) {
        info.remove("version");
    }
    doc
}

/// Deploys `api` to `prod` and waits until `node` serves `GET /health` from it.
async fn deploy_and_wait(m: &Mgmt, api: &str, node: &apigw_e2e::DataPlane) {
    apigw_e2e::rest_api::deploy(m, api, "prod", json!({})).await;
    let url = node.invoke_url(api, "prod", "/health");
    eventually(
        "the node serves the imported API",
        Duration::from_secs(30),
        || {
            let url = url.clone();
            async move {
                let r = reqwest::get(&url).await.ok()?;
                (r.status() == 200).then_some(())
            }
        },
    )
    .await;
}

/// Calls the imported API through `node`: every kind of method answers as it did.
async fn call_through(node: &apigw_e2e::DataPlane, api: &str) {
    let client = reqwest::Client::new();
    let url = |path: &str| node.invoke_url(api, "prod", path);

    let r = client
        .get(url("/health"))
        .send()
        .await
        .expect("GET /health");
    assert_eq!(r.status(), 200);
    let echoed: Value = r.json().await.expect("echo");
    assert_eq!(echoed["path"], "/health", "HTTP_PROXY reached the backend");

    let r = client
        .get(url("/pets?page=1"))
        .send()
        .await
        .expect("GET /pets");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-next"], "2", "the mapped response header");
    assert_eq!(r.text().await.unwrap_or_default(), "[]");

    // The params-only validator: `page` is required.
    let r = client.get(url("/pets")).send().await.expect("GET /pets");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["x-why"],
        "client",
        "the DEFAULT_4XX gateway response"
    );

    // POST /pets wants an API key.
    let r = client
        .post(url("/pets"))
        .header("content-type", "application/json")
        .body(r#"{"type": "dog"}"#)
        .send()
        .await
        .expect("POST /pets");
    assert_eq!(r.status(), 403);

    // GET /private goes through the VPC link.
    let r = client
        .get(url("/private"))
        .send()
        .await
        .expect("GET /private");
    assert_eq!(r.status(), 200);
    let echoed: Value = r.json().await.expect("echo");
    assert_eq!(echoed["path"], "/inside");

    // GET /pets/{petId} is behind the TOKEN authorizer: no token, 401 with the customised
    // UNAUTHORIZED response (the function is never called).
    let r = client
        .get(url("/pets/7"))
        .send()
        .await
        .expect("GET /pets/7");
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap_or_default(),
        r#"{"message":"who are you?"}"#
    );
}

#[tokio::test]
async fn oas30_export_imports_into_an_api_that_exports_the_same() {
    let cluster = Cluster::start(1).await;
    let m = cluster.cp.mgmt();
    let node = &cluster.nodes[0];
    let backend = Backend::start("pets").await;
    let original = build_and_deploy(&m, &backend.url()).await;

    let json_text = export(&m, &original, "oas30", "application/json").await;
    let exported: Value = serde_json::from_str(&json_text).expect("JSON export");
    assert_eq!(
        exported["x-amazon-apigateway-minimum-compression-size"],
        1024
    );
    assert_eq!(
        exported["x-amazon-apigateway-policy"]["Statement"][0]["Action"],
        "execute-api:Invoke"
    );
    assert_eq!(
        exported["paths"]["/pets"]["get"]["responses"]["200"]["headers"]["x-page"]["required"],
        true
    );

    // JSON in: a new API, with no warnings (GetExport writes nothing an import ignores).
    let answer = import(&m, &json_text, "").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let imported = answer.body;
    let copy = text(&imported["id"]);
    assert_ne!(copy, original);
    assert_eq!(imported["name"], "PetStore");
    assert_eq!(imported["binaryMediaTypes"], json!(["image/png"]));
    assert_eq!(imported["minimumCompressionSize"], 1024);
    assert!(imported.get("warnings").is_none(), "{imported}");
    assert!(imported["policy"]
        .as_str()
        .is_some_and(|p| p.contains("execute-api:Invoke")));

    // The import holds what the calls built: validators, authorizers, models, methods.
    let validators = m
        .get(&format!("/restapis/{copy}/requestvalidators"))
        .await
        .ok();
    assert_eq!(validators["item"].as_array().map(Vec::len), Some(2));
    let authorizers = m.get(&format!("/restapis/{copy}/authorizers")).await.ok();
    let tokens = authorizers["item"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "tokens"))
        .cloned()
        .expect("the tokens authorizer");
    assert_eq!(tokens["type"], "TOKEN");
    assert_eq!(tokens["authorizerResultTtlInSeconds"], 60);
    let pets_model = m.get(&format!("/restapis/{copy}/models/Pets")).await.ok();
    assert!(
        text(&pets_model["schema"]).contains(&format!(
            "https://apigateway.amazonaws.com/restapis/{copy}/models/Pet"
        )),
        "model $refs name the new API: {pets_model}"
    );
    let resources = m
        .get(&format!(
            "/restapis/{copy}/resources?embed=methods&limit=100"
        ))
        .await
        .ok();
    let pet = resources["item"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["path"] == "/pets/{petId}"))
        .cloned()
        .expect("/pets/{petId}");
    assert_eq!(pet["resourceMethods"]["GET"]["authorizationType"], "CUSTOM");
    assert_eq!(pet["resourceMethods"]["GET"]["authorizerId"], tokens["id"]);
    assert_eq!(
        pet["resourceMethods"]["DELETE"]["authorizationScopes"],
        json!(["pets/write"])
    );

    deploy_and_wait(&m, &copy, node).await;
    call_through(node, &copy).await;

    let again: Value = serde_json::from_str(&export(&m, &copy, "oas30", "application/json").await)
        .expect("JSON export");
    assert_eq!(
        again["servers"][0]["url"],
        format!("https://{copy}.execute-api.localhost/{{basePath}}")
    );
    assert_eq!(comparable(&again), comparable(&exported));

    // YAML in: the same API again.
    let yaml_text = export(&m, &original, "oas30", "application/yaml").await;
    let answer = import(&m, &yaml_text, "").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let from_yaml = text(&answer.body["id"]);
    deploy_and_wait(&m, &from_yaml, node).await;
    call_through(node, &from_yaml).await;
    let again: Value =
        serde_json::from_str(&export(&m, &from_yaml, "oas30", "application/json").await)
            .expect("JSON export");
    assert_eq!(comparable(&again), comparable(&exported));
}

#[tokio::test]
async fn swagger_export_imports_into_an_api_that_exports_the_same() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let original = build_and_deploy(&m, "http://127.0.0.1:9").await;
    let exported_text = export(&m, &original, "swagger", "application/json").await;
    let exported: Value = serde_json::from_str(&exported_text).expect("JSON export");

    let answer = import(&m, &exported_text, "").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert!(answer.body.get("warnings").is_none(), "{}", answer.body);
    let copy = text(&answer.body["id"]);
    apigw_e2e::rest_api::deploy(&m, &copy, "prod", json!({})).await;
    let again: Value =
        serde_json::from_str(&export(&m, &copy, "swagger", "application/json").await)
            .expect("JSON export");
    assert_eq!(again["host"], format!("{copy}.execute-api.localhost"));
    assert_eq!(again["basePath"], "/prod");
    assert_eq!(comparable(&again), comparable(&exported));

    // YAML, in Swagger's dialect.
    let yaml = export(&m, &original, "swagger", "application/yaml").await;
    let answer = import(&m, &yaml, "").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

/// A small document: `GET /pets` answering `body` through a MOCK integration.
fn small_doc(title: &str, body: &str) -> String {
    json!({
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1"},
        "paths": {"/pets": {"get": {
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {
                "type": "mock",
                "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "responses": {"default": {"statusCode": "200",
                    "responseTemplates": {"application/json": body}}}}}}},
        "components": {"schemas": {"Toy": {"type": "object"}}},
        "x-amazon-apigateway-request-validators": {"all": {
            "validateRequestBody": true, "validateRequestParameters": true}}
    })
    .to_string()
}

async fn paths_of(m: &Mgmt, api: &str) -> Vec<String> {
    let resources = m
        .get(&format!("/restapis/{api}/resources?limit=100"))
        .await
        .ok();
    let mut paths: Vec<String> = resources["item"]
        .as_array()
        .map(|a| a.iter().map(|r| text(&r["path"])).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

async fn names_of(m: &Mgmt, path: &str) -> Vec<String> {
    let items = m.get(path).await.ok();
    let mut names: Vec<String> = items["item"]
        .as_array()
        .map(|a| a.iter().map(|i| text(&i["name"])).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn merge_keeps_what_the_document_does_not_name_and_overwrite_replaces_it() {
    let cluster = Cluster::start(1).await;
    let m = cluster.cp.mgmt();
    let node = &cluster.nodes[0];

    // An API with /pets and /health (MOCK), a model and a stage.
    let api = RestApi::create_with(&m, "shop", json!({"description": "the shop"})).await;
    let pets = api.resource(&api.root, "pets").await;
    apigw_e2e::rest_api::mock_method(&m, &api.id, &pets, "GET", "\"v1\"").await;
    let health = api.resource(&api.root, "health").await;
    apigw_e2e::rest_api::mock_method(&m, &api.id, &health, "GET", "\"ok\"").await;
    m.post(
        &format!("/restapis/{}/models", api.id),
        json!({"name": "Kept", "contentType": "application/json", "schema": "{\"type\": \"object\"}"}),
    )
    .await
    .ok();
    let first = api.deploy("prod", json!({})).await;

    // merge (the default): GET /pets replaced, /health, Kept and the description kept.
    let answer = put_rest_api(&m, &api.id, &small_doc("shop v2", "\"v2\""), "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "shop v2");
    assert_eq!(answer.body["description"], "the shop");
    assert_eq!(paths_of(&m, &api.id).await, ["/", "/health", "/pets"]);
    let models = names_of(&m, &format!("/restapis/{}/models", api.id)).await;
    assert_eq!(models, ["Empty", "Error", "Kept", "Toy"]);
    let pets_id = api.method_path(&pets, "GET");
    let integration = m.get(&format!("{pets_id}/integration")).await.ok();
    assert_eq!(
        integration["integrationResponses"]["200"]["responseTemplates"]["application/json"],
        "\"v2\"",
        "the same resource keeps its id, its method is replaced"
    );
    // A second merge of the same document changes nothing (validator kept by name).
    let before = names_of(&m, &format!("/restapis/{}/requestvalidators", api.id)).await;
    let answer = put_rest_api(&m, &api.id, &small_doc("shop v2", "\"v2\""), "?mode=merge").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let after = names_of(&m, &format!("/restapis/{}/requestvalidators", api.id)).await;
    assert_eq!(before, ["all"]);
    assert_eq!(after, before);

    // overwrite: /health and Kept gone, the description reset; stage and deployment stay.
    let answer = put_rest_api(
        &m,
        &api.id,
        &small_doc("shop v3", "\"v3\""),
        "?mode=overwrite",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["id"], api.id);
    assert_eq!(answer.body["rootResourceId"], api.root);
    assert!(answer.body.get("description").is_none(), "{}", answer.body);
    assert_eq!(paths_of(&m, &api.id).await, ["/", "/pets"]);
    let models = names_of(&m, &format!("/restapis/{}/models", api.id)).await;
    assert_eq!(models, ["Empty", "Error", "Toy"]);
    let stage = m
        .get(&format!("/restapis/{}/stages/prod", api.id))
        .await
        .ok();
    assert_eq!(stage["deploymentId"], first.as_str());

    // The stage still serves the first deployment until the overwrite is deployed.
    let health_url = node.invoke_url(&api.id, "prod", "/health");
    eventually(
        "the first deployment served",
        Duration::from_secs(30),
        || {
            let url = health_url.clone();
            async move { (reqwest::get(&url).await.ok()?.status() == 200).then_some(()) }
        },
    )
    .await;
    api.deploy("prod", json!({})).await;
    let pets_url = node.invoke_url(&api.id, "prod", "/pets");
    eventually("the overwrite served", Duration::from_secs(30), || {
        let url = pets_url.clone();
        async move {
            let r = reqwest::get(&url).await.ok()?;
            (r.text().await.ok()? == "\"v3\"").then_some(())
        }
    })
    .await;
    let r = reqwest::get(&health_url).await.expect("GET /health");
    assert_eq!(r.status(), 403, "no /health any more");

    // PutRestApi errors: an unknown API, a mode outside the model's enum.
    put_rest_api(&m, "nosuchapi", &small_doc("x", "1"), "")
        .await
        .err(404, "NotFoundException");
    let msg = put_rest_api(&m, &api.id, &small_doc("x", "1"), "?mode=replace")
        .await
        .err(400, "ValidationException");
    assert!(msg.contains("merge, overwrite"), "{msg}");
}

#[tokio::test]
async fn warnings_are_answered_or_fail_the_import() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let mut doc: Value = serde_json::from_str(&small_doc("warned", "1")).expect("JSON");
    doc["x-amazon-apigateway-foo"] = json!({"bar": 1});
    doc["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["credentials"] =
        json!("arn:aws:iam::123456789012:role/apigw");
    let doc = doc.to_string();

    let count = |m: &Mgmt| {
        let m = m.clone();
        async move {
            m.get("/restapis?limit=500").await.ok()["item"]
                .as_array()
                .map_or(0, Vec::len)
        }
    };
    let before = count(&m).await;
    let msg = import(&m, &doc, "&failonwarnings=true")
        .await
        .err(400, "BadRequestException");
    assert!(msg.starts_with("Warnings found during import"), "{msg}");
    assert!(
        msg.contains("x-amazon-apigateway-foo: unknown extension"),
        "{msg}"
    );
    assert!(
        msg.contains("paths./pets.get.x-amazon-apigateway-integration.credentials"),
        "{msg}"
    );
    assert_eq!(count(&m).await, before, "nothing was created");

    let answer = import(&m, &doc, "").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let warnings: Vec<String> = answer.body["warnings"]
        .as_array()
        .map(|w| w.iter().map(text).collect())
        .unwrap_or_default();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings
        .iter()
        .any(|w| w.starts_with("x-amazon-apigateway-foo")));
    let api = text(&answer.body["id"]);

    // PutRestApi too.
    let msg = put_rest_api(&m, &api, &doc, "?failonwarnings=true")
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("x-amazon-apigateway-foo"), "{msg}");
    let answer = put_rest_api(&m, &api, &doc, "?mode=overwrite&failonwarnings=false").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["warnings"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_documents_get_400s_that_say_where() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let refused = |body: String| {
        let m = m.clone();
        async move { import(&m, &body, "").await.err(400, "BadRequestException") }
    };

    let msg = refused("{\"openapi\": \"3.0.1\",".into()).await;
    assert!(msg.contains("invalid JSON"), "{msg}");
    let msg = refused("openapi: 3.0.1\npaths: [unclosed\n".into()).await;
    assert!(msg.contains("invalid YAML"), "{msg}");
    let msg = refused(String::new()).await;
    assert!(msg.contains("required"), "{msg}");
    let msg = refused(json!({"info": {"title": "x"}}).to_string()).await;
    assert!(
        msg.contains("neither an openapi nor a swagger member"),
        "{msg}"
    );

    let with = |patch: &dyn Fn(&mut Value)| {
        let mut doc: Value = serde_json::from_str(&small_doc("bad", "1")).expect("JSON");
        patch(&mut doc);
        doc.to_string()
    };
    let integration = "/paths/~1pets/get/x-amazon-apigateway-integration";

    let msg = refused(with(&|d| {
        if let Some(i) = d.pointer_mut(integration) {
            i["requestParameters"] =
                json!({"integration.request.header.x-a": "method.request.nowhere.a"});
        }
    }))
    .await;
    assert!(
        msg.contains("paths./pets.get.x-amazon-apigateway-integration.requestParameters: Invalid mapping expression"),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        if let Some(i) = d.pointer_mut(integration) {
            i["type"] = json!("http");
            i["httpMethod"] = json!("GET");
            i["uri"] = json!("not a url");
        }
    }))
    .await;
    assert!(
        msg.contains("paths./pets.get.x-amazon-apigateway-integration.uri: Invalid HTTP endpoint"),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        if let Some(i) = d.pointer_mut(integration) {
            i["responses"]["default"]["responseTemplates"]["application/json"] = json!("#if($x");
        }
    }))
    .await;
    assert!(
        msg.contains(
            "paths./pets.get.x-amazon-apigateway-integration.responses.default.responseTemplates"
        ),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        d["paths"]["/pets"]["get"]["responses"]["200"]["content"] =
            json!({"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}});
    }))
    .await;
    assert!(
        msg.contains("paths./pets.get.responses.200.content.application/json.schema.$ref: unknown $ref '#/components/schemas/Nope'"),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        d["components"]["schemas"]["Toy"] =
            json!({"type": "object", "properties": {"a": {"type": 12}}});
    }))
    .await;
    assert!(
        msg.contains("components.schemas.Toy: Invalid model"),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        d["paths"]["/pets"]["get"]["x-amazon-apigateway-request-validator"] = json!("nope");
    }))
    .await;
    assert!(msg.contains("unknown request validator 'nope'"), "{msg}");
    let msg = refused(with(&|d| {
        d["paths"]["/pets"]["get"]["security"] = json!([{"nope": []}]);
    }))
    .await;
    assert!(
        msg.contains("paths./pets.get.security.0: unknown security scheme 'nope'"),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        d["paths"]["/pets/{a}"] = json!({});
        d["paths"]["/pets/{b}"] = json!({});
    }))
    .await;
    assert!(msg.contains("only one is allowed"), "{msg}");
    let msg = refused(with(&|d| {
        d["x-amazon-apigateway-gateway-responses"] = json!({"NOT_A_TYPE": {"statusCode": "400"}});
    }))
    .await;
    assert!(
        msg.contains(
            "x-amazon-apigateway-gateway-responses.NOT_A_TYPE: Invalid gateway response type"
        ),
        "{msg}"
    );
    let msg = refused(with(&|d| {
        d["info"].as_object_mut().map(|o| o.remove("title"));
    }))
    .await;
    assert!(msg.contains("info.title: Invalid REST API name"), "{msg}");

    // Nothing was created by any of them.
    let apis = m.get("/restapis").await.ok();
    assert_eq!(apis["item"].as_array().map(Vec::len), Some(0), "{apis}");
}

#[tokio::test]
async fn base_paths_are_ignored_prepended_or_split() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let mut doc: Value = serde_json::from_str(&small_doc("based", "1")).expect("JSON");
    doc["servers"] = json!([{"url": "https://api.example.com/v1/beta"}]);
    let doc = doc.to_string();
    for (query, want) in [
        ("", vec!["/", "/pets"]),
        ("&basepath=ignore", vec!["/", "/pets"]),
        (
            "&basepath=prepend",
            vec!["/", "/v1", "/v1/beta", "/v1/beta/pets"],
        ),
        ("&basepath=split", vec!["/", "/beta", "/beta/pets"]),
    ] {
        let answer = import(&m, &doc, query).await;
        assert_eq!(answer.status, 201, "{query}: {}", answer.body);
        assert_eq!(
            paths_of(&m, &text(&answer.body["id"])).await,
            want,
            "{query}"
        );
    }
    let answer = import(&m, &doc, "&endpointConfigurationTypes=REGIONAL").await;
    assert_eq!(
        answer.body["endpointConfiguration"]["types"],
        json!(["REGIONAL"])
    );
    import(&m, &doc, "&basepath=sideways")
        .await
        .err(400, "BadRequestException");
}

/// The API's documentation parts as `(location, properties)` JSON, sorted.
async fn parts_of(m: &Mgmt, api: &str) -> Vec<Value> {
    let items = m
        .get(&format!("/restapis/{api}/documentation/parts?limit=100"))
        .await
        .ok();
    let mut parts: Vec<Value> = items["item"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    json!({"location": p["location"],
                        "properties": serde_json::from_str::<Value>(&text(&p["properties"])).ok()})
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort_by_key(Value::to_string);
    parts
}

#[tokio::test]
async fn documentation_travels_with_the_api() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let with_docs = |parts: Value| {
        let mut doc: Value = serde_json::from_str(&small_doc("documented", "1")).expect("JSON");
        doc["x-amazon-apigateway-documentation"] =
            json!({"version": "1.0", "documentationParts": parts});
        doc.to_string()
    };
    let api_part = json!({"location": {"type": "API"}, "properties": {"description": "pets"}});
    let get_part = json!({"location": {"type": "METHOD", "path": "/pets", "method": "GET"},
        "properties": {"summary": "List pets"}});

    // ImportRestApi saves the parts; one that is no part is a warning, not a failure.
    let answer = import(
        &m,
        &with_docs(json!([api_part, get_part, {"location": {"type": "NOPE"}}])),
        "",
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let api = text(&answer.body["id"]);
    let warnings = answer.body["warnings"].to_string();
    assert!(
        warnings.contains("x-amazon-apigateway-documentation: Documentation part #3: skipped"),
        "{warnings}"
    );
    let mut want = vec![api_part.clone(), get_part.clone()];
    want.sort_by_key(Value::to_string);
    assert_eq!(parts_of(&m, &api).await, want);
    // ... and refuses the import, creating nothing, with failonwarnings=true.
    let msg = import(
        &m,
        &with_docs(json!([api_part, {"location": {"type": "NOPE"}}])),
        "&failonwarnings=true",
    )
    .await
    .err(400, "BadRequestException");
    assert!(msg.contains("Documentation part #2"), "{msg}");

    // PutRestApi merge: a named location gets the new properties (same part), others stay.
    let ids_before = m
        .get(&format!("/restapis/{api}/documentation/parts"))
        .await
        .ok()["item"]
        .to_string();
    let new_api_part = json!({"location": {"type": "API"}, "properties": {"description": "v2"}});
    let model_part = json!({"location": {"type": "MODEL", "name": "Toy"},
        "properties": {"description": "a toy"}});
    let answer = put_rest_api(
        &m,
        &api,
        &with_docs(json!([new_api_part, model_part])),
        "?mode=merge",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut want = vec![new_api_part.clone(), get_part.clone(), model_part.clone()];
    want.sort_by_key(Value::to_string);
    assert_eq!(parts_of(&m, &api).await, want);
    let items = m
        .get(&format!("/restapis/{api}/documentation/parts"))
        .await
        .ok();
    let api_part_id = items["item"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["location"]["type"] == "API"))
        .map(|p| text(&p["id"]))
        .unwrap_or_default();
    assert!(
        !api_part_id.is_empty() && ids_before.contains(&api_part_id),
        "the API part keeps its id {api_part_id}: {ids_before}"
    );

    // ignore=documentation leaves the parts alone, silently.
    let answer = put_rest_api(
        &m,
        &api,
        &with_docs(json!([{"location": {"type": "NOPE"}}])),
        "?mode=overwrite&ignore=documentation",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.get("warnings").is_none(), "{}", answer.body);
    assert_eq!(parts_of(&m, &api).await, want);

    // PutRestApi overwrite: the document's parts replace the API's.
    let answer = put_rest_api(&m, &api, &with_docs(json!([get_part])), "?mode=overwrite").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(parts_of(&m, &api).await, vec![get_part.clone()]);

    // What GetExport publishes (extensions=documentation) imports into a new API as it was.
    m.post(
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await
    .ok();
    m.post(
        &format!("/restapis/{api}/documentation/versions"),
        json!({"documentationVersion": "2.0", "stageName": "prod"}),
    )
    .await
    .ok();
    let exported = m
        .get_raw(
            &format!("/restapis/{api}/stages/prod/exports/oas30?extensions=documentation"),
            Some("application/json"),
        )
        .await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    assert!(exported.text.contains("List pets"), "{}", exported.text);
    let answer = import(&m, &exported.text, "").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        parts_of(&m, &text(&answer.body["id"])).await,
        vec![get_part]
    );

    // A documentationParts that is no list is an error that says where.
    let mut doc: Value = serde_json::from_str(&small_doc("bad", "1")).expect("JSON");
    doc["x-amazon-apigateway-documentation"] = json!({"documentationParts": {"a": 1}});
    let msg = import(&m, &doc.to_string(), "")
        .await
        .err(400, "BadRequestException");
    assert!(
        msg.contains("x-amazon-apigateway-documentation.documentationParts"),
        "{msg}"
    );
}
