//! GetExport (issue 12), against a real control plane process: a PetStore-style API with
//! models, a request validator, gateway responses, binary media types, MOCK, HTTP,
//! HTTP_PROXY and AWS_PROXY integrations, a `{proxy+}` resource and an ANY method is
//! deployed, then exported as `oas30` and `swagger`, in JSON and YAML, with and without
//! API Gateway's extensions. The documents are parsed and checked field by field, and the
//! OpenAPI 3 one structurally (every `$ref` resolves, every path slot is declared). An edit
//! made after the deployment does not show in the export. Errors: unknown API or stage
//! (404), unknown export type, `Accept` or `extensions` value, and `postman` (400).

use apigw_e2e::mgmt::RawAnswer;
use apigw_e2e::rest_api::{mock_integration, text};
use apigw_e2e::{fresh_database, ControlPlane, Mgmt, RestApi};
use serde_json::{json, Value};

const PET: &str = r#"{"$schema": "http://json-schema.org/draft-04/schema#", "title": "Pet",
  "type": "object", "required": ["type"],
  "properties": {"id": {"type": "integer"}, "type": {"type": "string"}, "price": {"type": "number"}}}"#;

const FUNCTION_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
                            arn:aws:lambda:us-east-1:123456789012:function:petstore/invocations";

/// The deployed API: its id and the deployment's `createdDate`.
struct Deployed {
    api: String,
    created_date: i64,
}

fn pets_model(api: &str) -> String {
    format!(
        r#"{{"type": "array", "items": {{"$ref": "https://apigateway.amazonaws.com/restapis/{api}/models/Pet"}}}}"#
    )
}

async fn build_and_deploy(m: &Mgmt) -> Deployed {
    let api = RestApi::create_with(
        m,
        "PetStore",
        json!({"binaryMediaTypes": ["image/png"], "apiKeySource": "HEADER"}),
    )
    .await;
    let id = api.id.clone();
    for (name, schema) in [("Pet", PET.to_string()), ("Pets", pets_model(&id))] {
        m.post(
            &format!("/restapis/{id}/models"),
            json!({"name": name, "contentType": "application/json", "schema": schema}),
        )
        .await
        .ok();
    }
    let validator = m
        .post(
            &format!("/restapis/{id}/requestvalidators"),
            json!({"name": "body-and-params", "validateRequestBody": true,
                   "validateRequestParameters": true}),
        )
        .await
        .ok();
    m.put(
        &format!("/restapis/{id}/gatewayresponses/DEFAULT_4XX"),
        json!({"statusCode": "400",
               "responseParameters": {"gatewayresponse.header.x-why": "'client'"},
               "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"}}),
    )
    .await
    .ok();

    // GET /pets: MOCK, a required and an optional query parameter, a 200 with a header
    // and the Pets model.
    let pets = api.resource(&api.root, "pets").await;
    let get_pets = api.method_path(&pets, "GET");
    m.put(
        &get_pets,
        json!({"authorizationType": "NONE", "operationName": "ListPets",
               "requestParameters": {"method.request.querystring.page": true,
                                     "method.request.querystring.type": false,
                                     "method.request.header.x-trace": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{get_pets}/responses/200"),
        json!({"responseParameters": {"method.response.header.x-next": false},
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
               "responseParameters": {"method.response.header.x-next": "'2'"},
               "responseTemplates": {"application/json": "[]"}}),
    )
    .await
    .ok();

    // POST /pets: HTTP (non-proxy), the Pet model validated, an API key required.
    let post_pets = api.method_path(&pets, "POST");
    m.put(
        &post_pets,
        json!({"authorizationType": "NONE", "apiKeyRequired": true,
               "requestModels": {"application/json": "Pet"},
               "requestValidatorId": text(&validator["id"])}),
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
        json!({"type": "HTTP", "httpMethod": "POST", "uri": "http://petstore.example.com/pets",
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

    // GET /pets/{petId}: HTTP_PROXY with the path parameter mapped and a cache key.
    let pet = api.resource(&pets, "{petId}").await;
    let get_pet = api.method_path(&pet, "GET");
    m.put(
        &get_pet,
        json!({"authorizationType": "NONE",
               "requestParameters": {"method.request.path.petId": true}}),
    )
    .await
    .ok();
    m.put(
        &format!("{get_pet}/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET",
               "uri": "http://petstore.example.com/pets/{id}",
               "requestParameters": {"integration.request.path.id": "method.request.path.petId"},
               "cacheKeyParameters": ["method.request.path.petId"]}),
    )
    .await
    .ok();

    // ANY /{proxy+}: AWS_PROXY to a function.
    let proxy = api.resource(&api.root, "{proxy+}").await;
    api.method(
        &proxy,
        "ANY",
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": FUNCTION_URI}),
    )
    .await;

    let deployment = api.deploy("prod", json!({})).await;
    let d = m
        .get(&format!("/restapis/{id}/deployments/{deployment}"))
        .await
        .ok();
    let created_date = d["createdDate"].as_i64().expect("createdDate");

    // A later edit that is not deployed: must not show in the export.
    let later = api.resource(&api.root, "later").await;
    api.method(&later, "GET", mock_integration(200)).await;
    m.post(
        &format!("/restapis/{id}/models"),
        json!({"name": "Later", "contentType": "application/json", "schema": "{\"type\": \"object\"}"}),
    )
    .await
    .ok();

    Deployed {
        api: id,
        created_date,
    }
}

fn iso(epoch: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .expect("a date")
        .format(&fmt)
        .expect("formatted")
}

async fn export(m: &Mgmt, d: &Deployed, ty: &str, accept: Option<&str>, ext: &str) -> RawAnswer {
    let query = if ext.is_empty() {
        String::new()
    } else {
        format!("?extensions={ext}")
    };
    m.get_raw(
        &format!("/restapis/{}/stages/prod/exports/{ty}{query}", d.api),
        accept,
    )
    .await
}

/// Exports in JSON and YAML, checks the headers of both and that both say the same;
/// returns the document.
async fn export_both(m: &Mgmt, d: &Deployed, ty: &str, ext: &str) -> Value {
    let version = iso(d.created_date);
    let json_answer = export(m, d, ty, Some("application/json"), ext).await;
    assert_eq!(json_answer.status, 200, "{}", json_answer.text);
    assert_eq!(
        json_answer.header("content-type"),
        "application/octet-stream"
    );
    assert_eq!(
        json_answer.header("content-disposition"),
        format!("attachment; filename=\"{ty}_{version}.json\"")
    );
    let doc: Value = serde_json::from_str(&json_answer.text).expect("JSON export");

    let yaml_answer = export(m, d, ty, Some("application/yaml"), ext).await;
    assert_eq!(yaml_answer.status, 200, "{}", yaml_answer.text);
    assert_eq!(
        yaml_answer.header("content-disposition"),
        format!("attachment; filename=\"{ty}_{version}.yaml\"")
    );
    let from_yaml: Value = serde_yaml_ng::from_str(&yaml_answer.text).expect("YAML export");
    assert_eq!(from_yaml, doc, "the YAML form says what the JSON form says");

    // No Accept: JSON.
    let default = export(m, d, ty, None, ext).await;
    assert_eq!(
        serde_json::from_str::<Value>(&default.text).ok(),
        Some(doc.clone())
    );
    doc
}

/// Follows a local `$ref` (`#/a/b`) in `doc`.
fn resolve<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    doc.pointer(r.strip_prefix('#')?)
}

/// Every `$ref` under `v` resolves within `doc`; returns how many there were.
fn check_refs(doc: &Value, v: &Value) -> usize {
    match v {
        Value::Object(o) => o
            .iter()
            .map(|(k, child)| {
                if k == "$ref" {
                    let r = child.as_str().unwrap_or_default();
                    assert!(resolve(doc, r).is_some(), "$ref {r} does not resolve");
                    1
                } else {
                    check_refs(doc, child)
                }
            })
            .sum(),
        Value::Array(a) => a.iter().map(|c| check_refs(doc, c)).sum(),
        _ => 0,
    }
}

/// Every `{slot}` of every path is declared `in: path`, required, by every operation.
fn check_path_parameters(doc: &Value) {
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let slots: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|s| s.trim_end_matches('+'))
            .collect();
        for (verb, op) in item.as_object().expect("path item") {
            for slot in &slots {
                let declared = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["name"] == *slot && p["in"] == "path" && p["required"] == true)
                });
                assert!(declared, "{verb} {path} does not declare {slot}");
            }
        }
    }
}

fn param<'a>(op: &'a Value, within: &str, name: &str) -> &'a Value {
    op["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["in"] == within && p["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn oas30_export_describes_the_deployed_snapshot() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let d = build_and_deploy(&m).await;
    let doc = export_both(&m, &d, "oas30", "apigateway").await;

    assert_eq!(doc["openapi"], "3.0.1");
    assert_eq!(
        doc["info"],
        json!({"title": "PetStore", "version": iso(d.created_date)})
    );
    assert_eq!(
        doc["servers"],
        json!([{"url": format!("https://{}.execute-api.localhost/{{basePath}}", d.api),
                "variables": {"basePath": {"default": "prod"}}}])
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut names: Vec<&String> = paths.keys().collect();
    names.sort();
    assert_eq!(names, ["/pets", "/pets/{petId}", "/{proxy+}"], "not /later");

    // GET /pets: parameters, the 200 with its header and model, the MOCK integration.
    let list = &doc["paths"]["/pets"]["get"];
    assert_eq!(list["operationId"], "ListPets");
    assert_eq!(
        param(list, "query", "page"),
        &json!({"name": "page", "in": "query", "required": true, "schema": {"type": "string"}})
    );
    assert_eq!(
        param(list, "query", "type"),
        &json!({"name": "type", "in": "query", "schema": {"type": "string"}})
    );
    assert_eq!(param(list, "header", "x-trace")["in"], "header");
    assert_eq!(
        list["responses"]["200"],
        json!({"description": "200 response",
               "headers": {"x-next": {"schema": {"type": "string"}}},
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}}})
    );
    // cacheNamespace: the resource's id unless set (AWS writes it too).
    let without_namespace = |i: &Value| {
        let mut i = i.clone();
        let ns = i.as_object_mut().and_then(|o| o.remove("cacheNamespace"));
        assert!(
            ns.is_some_and(|n| n.as_str().is_some_and(|n| !n.is_empty())),
            "{i}"
        );
        i
    };
    assert_eq!(
        without_namespace(&list["x-amazon-apigateway-integration"]),
        json!({"type": "mock",
               "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
               "passthroughBehavior": "when_no_match",
               "timeoutInMillis": 29000,
               "responses": {"default": {"statusCode": "200",
                   "responseParameters": {"method.response.header.x-next": "'2'"},
                   "responseTemplates": {"application/json": "[]"}}}})
    );
    assert!(list.get("security").is_none());

    // POST /pets: body model, validator, API key, HTTP integration.
    let add = &doc["paths"]["/pets"]["post"];
    assert_eq!(
        add["requestBody"],
        json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
               "required": true})
    );
    assert_eq!(
        add["x-amazon-apigateway-request-validator"],
        "body-and-params"
    );
    assert_eq!(add["security"], json!([{"api_key": []}]));
    assert_eq!(
        add["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
    assert_eq!(
        without_namespace(&add["x-amazon-apigateway-integration"]),
        json!({"type": "http", "httpMethod": "POST", "uri": "http://petstore.example.com/pets",
               "requestParameters": {"integration.request.header.x-source": "'gateway'"},
               "requestTemplates": {"application/json": "$input.body"},
               "passthroughBehavior": "when_no_templates", "timeoutInMillis": 5000,
               "contentHandling": "CONVERT_TO_TEXT",
               "responses": {
                   "default": {"statusCode": "200"},
                   "4\\d{2}": {"statusCode": "400",
                       "responseTemplates": {"application/json": "{\"message\": \"bad pet\"}"}}}})
    );

    // GET /pets/{petId}: the path parameter, HTTP_PROXY with its mapping and cache key.
    let one = &doc["paths"]["/pets/{petId}"]["get"];
    assert_eq!(
        param(one, "path", "petId"),
        &json!({"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}})
    );
    let i = &one["x-amazon-apigateway-integration"];
    assert_eq!(i["type"], "http_proxy");
    assert_eq!(i["uri"], "http://petstore.example.com/pets/{id}");
    assert_eq!(
        i["requestParameters"],
        json!({"integration.request.path.id": "method.request.path.petId"})
    );
    assert_eq!(
        i["cacheKeyParameters"],
        json!(["method.request.path.petId"])
    );

    // ANY /{proxy+}: the any-method extension, AWS_PROXY, the greedy slot declared.
    let any = &doc["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"];
    assert_eq!(any["x-amazon-apigateway-integration"]["type"], "aws_proxy");
    assert_eq!(any["x-amazon-apigateway-integration"]["uri"], FUNCTION_URI);
    assert_eq!(any["x-amazon-apigateway-integration"]["httpMethod"], "POST");
    assert_eq!(param(any, "path", "proxy")["required"], true);

    // Components: the deployed models only, `$schema` dropped, refs between models local.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut models: Vec<&String> = schemas.keys().collect();
    models.sort();
    assert_eq!(models, ["Empty", "Error", "Pet", "Pets"], "not Later");
    assert_eq!(schemas["Pet"]["required"], json!(["type"]));
    assert!(schemas["Pet"].get("$schema").is_none());
    assert_eq!(schemas["Pets"]["items"]["$ref"], "#/components/schemas/Pet");
    assert_eq!(
        doc["components"]["securitySchemes"],
        json!({"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}})
    );

    // API-level extensions.
    assert_eq!(
        doc["x-amazon-apigateway-request-validators"],
        json!({"body-and-params": {"validateRequestBody": true, "validateRequestParameters": true}})
    );
    assert_eq!(
        doc["x-amazon-apigateway-gateway-responses"],
        json!({"DEFAULT_4XX": {"statusCode": "400",
               "responseParameters": {"gatewayresponse.header.x-why": "'client'"},
               "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"}}})
    );
    assert_eq!(
        doc["x-amazon-apigateway-binary-media-types"],
        json!(["image/png"])
    );
    assert_eq!(doc["x-amazon-apigateway-api-key-source"], "HEADER");

    // Structure: every $ref resolves, every path slot is declared.
    assert!(check_refs(&doc, &doc) >= 4);
    check_path_parameters(&doc);

    // `integrations` alone gives the same document (there are no authorizers yet).
    assert_eq!(export_both(&m, &d, "oas30", "integrations").await, doc);

    // Without extensions: plain OpenAPI, no x-amazon-apigateway-* but the any-method.
    let plain = export_both(&m, &d, "oas30", "").await;
    let text = plain.to_string();
    assert!(!text.contains("x-amazon-apigateway-integration"), "{text}");
    assert!(
        !text.contains("x-amazon-apigateway-request-validator"),
        "{text}"
    );
    assert!(plain.get("x-amazon-apigateway-gateway-responses").is_none());
    assert!(plain["paths"]["/{proxy+}"]
        .get("x-amazon-apigateway-any-method")
        .is_some());
    assert_eq!(plain["components"], doc["components"]);
    check_refs(&plain, &plain);
    check_path_parameters(&plain);
}

#[tokio::test]
async fn swagger_export_describes_the_deployed_snapshot() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let d = build_and_deploy(&m).await;
    let doc = export_both(&m, &d, "swagger", "integrations").await;

    assert_eq!(doc["swagger"], "2.0");
    assert_eq!(doc["info"]["version"], iso(d.created_date));
    assert_eq!(doc["host"], format!("{}.execute-api.localhost", d.api));
    assert_eq!(doc["basePath"], "/prod");
    assert_eq!(doc["schemes"], json!(["https"]));
    assert!(doc["paths"].get("/later").is_none());

    let add = &doc["paths"]["/pets"]["post"];
    assert_eq!(add["consumes"], json!(["application/json"]));
    assert_eq!(add["produces"], json!(["application/json"]));
    assert_eq!(
        param(add, "body", "Pet"),
        &json!({"in": "body", "name": "Pet", "required": true,
                "schema": {"$ref": "#/definitions/Pet"}})
    );
    assert_eq!(
        add["responses"]["200"]["schema"]["$ref"],
        "#/definitions/Pet"
    );
    assert_eq!(add["security"], json!([{"api_key": []}]));
    assert_eq!(add["x-amazon-apigateway-integration"]["type"], "http");

    let list = &doc["paths"]["/pets"]["get"];
    assert_eq!(
        param(list, "query", "page"),
        &json!({"name": "page", "in": "query", "required": true, "type": "string"})
    );
    assert_eq!(
        list["responses"]["200"]["headers"],
        json!({"x-next": {"type": "string"}})
    );
    assert_eq!(
        param(&doc["paths"]["/pets/{petId}"]["get"], "path", "petId"),
        &json!({"name": "petId", "in": "path", "required": true, "type": "string"})
    );
    assert_eq!(
        doc["securityDefinitions"],
        json!({"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}})
    );
    assert_eq!(
        doc["definitions"]["Pets"]["items"]["$ref"],
        "#/definitions/Pet"
    );
    assert!(doc.get("components").is_none());
    assert_eq!(
        doc["x-amazon-apigateway-request-validators"]["body-and-params"]["validateRequestBody"],
        true
    );
    assert_eq!(
        doc["x-amazon-apigateway-binary-media-types"],
        json!(["image/png"])
    );
    check_refs(&doc, &doc);
    check_path_parameters(&doc);
}

#[tokio::test]
async fn export_errors_are_aws_errors() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "errors").await;
    api.method(&api.root, "GET", mock_integration(200)).await;
    api.deploy("prod", json!({})).await;
    let id = &api.id;

    let answer = |path: String| {
        let m = &m;
        async move { m.get(&path).await }
    };
    answer("/restapis/nope/stages/prod/exports/oas30".into())
        .await
        .err(404, "NotFoundException");
    answer(format!("/restapis/{id}/stages/nope/exports/oas30"))
        .await
        .err(404, "NotFoundException");
    let msg = answer(format!("/restapis/{id}/stages/prod/exports/raml"))
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("raml"), "{msg}");
    let msg = answer(format!(
        "/restapis/{id}/stages/prod/exports/oas30?extensions=postman"
    ))
    .await
    .err(400, "BadRequestException");
    assert!(msg.contains("postman"), "{msg}");
    answer(format!(
        "/restapis/{id}/stages/prod/exports/oas30?extensions=bogus"
    ))
    .await
    .err(400, "BadRequestException");
    let raw = m
        .get_raw(
            &format!("/restapis/{id}/stages/prod/exports/oas30"),
            Some("text/html"),
        )
        .await;
    assert_eq!(raw.status, 400, "{}", raw.text);
    assert_eq!(raw.header("x-amzn-errortype"), "BadRequestException");

    // The root's GET shows as `/`.
    let raw = m
        .get_raw(&format!("/restapis/{id}/stages/prod/exports/oas30"), None)
        .await;
    let doc: Value = serde_json::from_str(&raw.text).expect("JSON export");
    assert!(doc["paths"]["/"].get("get").is_some(), "{doc}");
}
