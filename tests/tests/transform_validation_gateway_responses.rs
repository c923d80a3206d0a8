//! Models, request validators, gateway responses and CORS, end to end: a control plane
//! and two data-plane nodes as real processes, driven through the management API.
//!
//! Each test replays a step of the seeds' walkthroughs (003: "Using models and
//! validators", "Enable CORS"; 000: "Gateway responses" with CORS headers on errors), or
//! produces every gateway response type the data plane can produce for real, customised,
//! then falling back to DEFAULT_4XX/DEFAULT_5XX, then to the built-in.

use std::time::Duration;

use apigw_e2e::rest_api::{add_resource, deploy, mock_integration, text};
use apigw_e2e::{eventually, Backend, Cluster, DataPlane, Mgmt};
use serde_json::{json, Value};

/// The CompareData model of seed 003, as written there.
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

/// What one invoke answered.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Option<Reply> {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().ok()?, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.send().await.ok()?;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.ok()?;
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// Puts a method with `method_body`, its integration, and (non-proxy) a 200 method and
/// integration response.
async fn method(
    m: &Mgmt,
    api: &str,
    rid: &str,
    http: &str,
    method_body: Value,
    integration: Value,
    with_responses: bool,
) {
    let path = format!("/restapis/{api}/resources/{rid}/methods/{http}");
    m.put(&path, method_body).await.ok();
    m.put(&format!("{path}/integration"), integration)
        .await
        .ok();
    if with_responses {
        m.put(&format!("{path}/responses/200"), json!({}))
            .await
            .ok();
        m.put(
            &format!("{path}/integration/responses/200"),
            json!({"selectionPattern": ""}),
        )
        .await
        .ok();
    }
}

/// Waits until `check` accepts the reply of the request on every node.
async fn on_every_node(
    nodes: &[DataPlane],
    api: &str,
    what: &str,
    (method, path): (&str, &str),
    headers: &[(&str, &str)],
    body: Option<&str>,
    check: impl Fn(&Reply) -> bool,
) -> Reply {
    let mut last = None;
    for n in nodes {
        let url = n.invoke_url(api, "prod", path);
        last = Some(
            eventually(
                &format!("{what} on {}", n.node_id),
                Duration::from_secs(15),
                || {
                    let url = url.clone();
                    let check = &check;
                    async move {
                        let r = send(method, &url, headers, body).await?;
                        check(&r).then_some(r)
                    }
                },
            )
            .await,
        );
    }
    last.expect("at least one node")
}

#[tokio::test]
async fn using_models_and_validators_compare_data_rejects_a_bad_body() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let backend = Backend::start("compare").await;
    let api = m.post("/restapis", json!({"name": "compare"})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);

    // Every API starts with AWS's Empty and Error models.
    let models = m.get(&format!("/restapis/{id}/models")).await.ok();
    let names: Vec<String> = models["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text(&m["name"]))
        .collect();
    assert_eq!(names, vec!["Empty", "Error"]);

    // The seed's CompareData model, and bad ones refused when saved.
    let created = m
        .post(
            &format!("/restapis/{id}/models"),
            json!({"name": "CompareData", "contentType": "application/json", "schema": COMPARE_DATA}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["name"], "CompareData");
    m.post(
        &format!("/restapis/{id}/models"),
        json!({"name": "CompareData", "contentType": "application/json", "schema": "{}"}),
    )
    .await
    .err(409, "ConflictException");
    let msg = m
        .post(
            &format!("/restapis/{id}/models"),
            json!({"name": "Broken", "contentType": "application/json", "schema": "{\"type\": 5}"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.starts_with("Invalid model specified"), "{msg}");
    m.post(
        &format!("/restapis/{id}/models"),
        json!({"name": "bad-name", "contentType": "application/json"}),
    )
    .await
    .err(400, "BadRequestException");

    // `$ref` between models of the API, by AWS's model URL.
    let person_ref = format!("https://apigateway.amazonaws.com/restapis/{id}/models/CompareData");
    let wrapper = json!({"type": "object", "properties": {"person": {"$ref": person_ref}}, "required": ["person"]});
    m.post(
        &format!("/restapis/{id}/models"),
        json!({"name": "Wrapper", "contentType": "application/json", "schema": wrapper.to_string()}),
    )
    .await
    .ok();
    let dangling =
        json!({"$ref": format!("https://apigateway.amazonaws.com/restapis/{id}/models/Nope")});
    let msg = m
        .post(
            &format!("/restapis/{id}/models"),
            json!({"name": "Dangling", "contentType": "application/json", "schema": dangling.to_string()}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("Invalid model referenced"), "{msg}");

    // GetModelTemplate builds a mapping template of the model's shape.
    let template = m
        .get(&format!(
            "/restapis/{id}/models/CompareData/default_template"
        ))
        .await
        .ok();
    let value = text(&template["value"]);
    assert!(
        value.starts_with("#set($inputRoot = $input.path('$'))"),
        "{value}"
    );
    assert!(value.contains("\"age\" : $inputRoot.age"), "{value}");

    // Validators.
    let body_only = text(&m
        .post(
            &format!("/restapis/{id}/requestvalidators"),
            json!({"name": "body", "validateRequestBody": true, "validateRequestParameters": false}),
        )
        .await
        .ok()["id"]);
    let params_only = text(
        &m.post(
            &format!("/restapis/{id}/requestvalidators"),
            json!({"name": "params", "validateRequestParameters": true}),
        )
        .await
        .ok()["id"],
    );
    let listed = m
        .get(&format!("/restapis/{id}/requestvalidators"))
        .await
        .ok();
    assert_eq!(listed["item"].as_array().unwrap().len(), 2);

    // POST /compare validated against CompareData; GET /search needs q and x-token.
    let compare = add_resource(&m, &id, &root, "compare").await;
    let unknown = m
        .put(
            &format!("/restapis/{id}/resources/{compare}/methods/POST"),
            json!({"authorizationType": "NONE", "requestValidatorId": "nope00"}),
        )
        .await
        .err(404, "NotFoundException");
    assert!(unknown.contains("nope00"), "{unknown}");
    m.put(
        &format!("/restapis/{id}/resources/{compare}/methods/POST"),
        json!({"authorizationType": "NONE", "requestModels": {"application/json": "Nope"}}),
    )
    .await
    .err(400, "BadRequestException");
    method(
        &m,
        &id,
        &compare,
        "POST",
        json!({"authorizationType": "NONE", "requestValidatorId": body_only,
               "requestModels": {"application/json": "CompareData"}}),
        json!({"type": "HTTP_PROXY", "httpMethod": "POST", "uri": format!("{}/compare", backend.url())}),
        false,
    )
    .await;
    let search = add_resource(&m, &id, &root, "search").await;
    method(
        &m,
        &id,
        &search,
        "GET",
        json!({"authorizationType": "NONE", "requestValidatorId": params_only,
               "requestParameters": {"method.request.querystring.q": true,
                                     "method.request.header.x-token": true,
                                     "method.request.querystring.page": false}}),
        mock_integration(200),
        true,
    )
    .await;
    // Models in use cannot be deleted.
    m.delete(&format!("/restapis/{id}/models/CompareData"))
        .await
        .err(409, "ConflictException");
    deploy(&m, &id, "prod", json!({})).await;

    let good = r#"{"age": 30, "height": 180, "income": 1000}"#;
    let json_ct = [("content-type", "application/json")];
    let r = on_every_node(
        &cluster.nodes,
        &id,
        "a good body reaches the backend",
        ("POST", "/compare"),
        &json_ct,
        Some(good),
        |r| r.status == 200,
    )
    .await;
    assert_eq!(r.json()["body"], good, "the backend got the body unchanged");
    for (what, bad) in [
        (
            "wrong type",
            r#"{"age": "thirty", "height": 180, "income": 1000}"#,
        ),
        ("missing required", r#"{"age": 30}"#),
        ("not JSON", "age=30"),
        ("empty", ""),
    ] {
        for n in &cluster.nodes {
            let r = send(
                "POST",
                &n.invoke_url(&id, "prod", "/compare"),
                &json_ct,
                Some(bad),
            )
            .await
            .expect("an answer");
            assert_eq!(r.status, 400, "{what}: {}", r.body);
            assert_eq!(
                r.json(),
                json!({"message": "Invalid request body"}),
                "{what}"
            );
            assert_eq!(r.header("x-amzn-errortype"), Some("BadRequestException"));
        }
    }
    // No model for text/plain: AWS does not validate it.
    let n = &cluster.nodes[0];
    let r = send(
        "POST",
        &n.invoke_url(&id, "prod", "/compare"),
        &[("content-type", "text/plain")],
        Some("x"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    // Required parameters, named as AWS names them.
    let url = n.invoke_url(&id, "prod", "/search");
    let r = send("GET", &url, &[], None).await.unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"message": "Missing required request parameters: [x-token, q]"})
    );
    let r = send(
        "GET",
        &format!("{url}?q=%20&page=1"),
        &[("x-token", "t")],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        r.json(),
        json!({"message": "Missing required request parameters: [q]"})
    );
    let r = send("GET", &format!("{url}?q=cats"), &[("X-Token", "t")], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    // Changes take effect only when deployed: turning body validation off.
    m.patch(
        &format!("/restapis/{id}/requestvalidators/{body_only}"),
        json!([{"op": "replace", "path": "/validateRequestBody", "value": "false"}]),
    )
    .await
    .ok();
    let bad = r#"{"age": "thirty"}"#;
    let r = send(
        "POST",
        &n.invoke_url(&id, "prod", "/compare"),
        &json_ct,
        Some(bad),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400, "still validated until deployed");
    deploy(&m, &id, "prod", json!({})).await;
    on_every_node(
        &cluster.nodes,
        &id,
        "validation off once deployed",
        ("POST", "/compare"),
        &json_ct,
        Some(bad),
        |r| r.status == 200,
    )
    .await;

    // A clone carries the models (references re-pointed), validators and methods.
    let clone = m
        .post(
            "/restapis",
            json!({"name": "compare-copy", "cloneFrom": id}),
        )
        .await
        .ok();
    let clone_id = text(&clone["id"]);
    let wrapper = m
        .get(&format!("/restapis/{clone_id}/models/Wrapper"))
        .await
        .ok();
    assert!(
        text(&wrapper["schema"]).contains(&format!("/restapis/{clone_id}/models/CompareData")),
        "{wrapper}"
    );
    let validators = m
        .get(&format!("/restapis/{clone_id}/requestvalidators"))
        .await
        .ok();
    assert_eq!(validators["item"].as_array().unwrap().len(), 2);
    m.post(
        &format!("/restapis/{clone_id}/deployments"),
        json!({"stageName": "copy"}),
    )
    .await
    .ok();

    // Updating a model re-checks it; deleting an unused one works.
    m.patch(
        &format!("/restapis/{id}/models/Wrapper"),
        json!([{"op": "replace", "path": "/schema", "value": "[1"}]),
    )
    .await
    .err(400, "BadRequestException");
    m.delete(&format!("/restapis/{id}/models/Wrapper"))
        .await
        .ok();
    m.get(&format!("/restapis/{id}/models/Wrapper"))
        .await
        .err(404, "NotFoundException");
}

/// The seed 000 headers, as its walkthrough types them into the console.
const CORS_HEADERS: [(&str, &str); 3] = [
    (
        "Access-Control-Allow-Methods",
        "GET, OPTIONS, PUT, POST, PATCH, DELETE",
    ),
    (
        "Access-Control-Allow-Headers",
        "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token",
    ),
    ("Access-Control-Allow-Origin", "*"),
];

#[tokio::test]
async fn gateway_responses_default_4xx_and_5xx_carry_cors_headers() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let api = m.post("/restapis", json!({"name": "reinvent"})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);
    let pets = add_resource(&m, &id, &root, "pets").await;
    method(
        &m,
        &id,
        &pets,
        "GET",
        json!({"authorizationType": "NONE"}),
        mock_integration(200),
        true,
    )
    .await;
    let broken = add_resource(&m, &id, &root, "broken").await;
    method(
        &m,
        &id,
        &broken,
        "GET",
        json!({"authorizationType": "NONE"}),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://127.0.0.1:1/"}),
        false,
    )
    .await;

    let params: serde_json::Map<String, Value> = CORS_HEADERS
        .iter()
        .map(|(k, v)| {
            (
                format!("gatewayresponse.header.{k}"),
                json!(format!("'{v}'")),
            )
        })
        .collect();
    for t in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        let r = m
            .put(
                &format!("/restapis/{id}/gatewayresponses/{t}"),
                json!({"responseParameters": params,
                       "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["defaultResponse"], false);
    }
    // GetGatewayResponses lists every type, customised or not.
    let all = m
        .get(&format!("/restapis/{id}/gatewayresponses"))
        .await
        .ok();
    let items = all["item"].as_array().unwrap();
    assert_eq!(items.len(), 21);
    let find = |t: &str| {
        items
            .iter()
            .find(|i| i["responseType"] == t)
            .unwrap()
            .clone()
    };
    assert_eq!(find("DEFAULT_4XX")["defaultResponse"], false);
    assert_eq!(find("THROTTLED")["defaultResponse"], true);
    assert_eq!(find("THROTTLED")["statusCode"], "429");
    assert_eq!(
        find("THROTTLED")["responseTemplates"]["application/json"],
        "{\"message\":$context.error.messageString}"
    );

    // Not deployed yet: errors have no CORS headers.
    deploy(&m, &id, "prod", json!({})).await;
    let r = on_every_node(
        &cluster.nodes,
        &id,
        "403 with CORS headers",
        ("GET", "/nope"),
        &[],
        None,
        |r| r.status == 403 && r.header("access-control-allow-origin") == Some("*"),
    )
    .await;
    assert_eq!(r.json(), json!({"message": "Missing Authentication Token"}));
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    for (k, v) in CORS_HEADERS {
        assert_eq!(r.header(k), Some(v), "{k}");
    }
    let r = on_every_node(
        &cluster.nodes,
        &id,
        "502 with CORS headers",
        ("GET", "/broken"),
        &[],
        None,
        |r| r.status == 502,
    )
    .await;
    for (k, v) in CORS_HEADERS {
        assert_eq!(r.header(k), Some(v), "{k}");
    }
    assert_eq!(r.json(), json!({"message": "Internal server error"}));
    // Success responses are untouched.
    let r = send(
        "GET",
        &cluster.nodes[0].invoke_url(&id, "prod", "/pets"),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn enable_cors_adds_options_mock_and_origin_on_methods() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let api = m.post("/restapis", json!({"name": "cors"})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);
    let compare = add_resource(&m, &id, &root, "compare").await;
    method(
        &m,
        &id,
        &compare,
        "POST",
        json!({"authorizationType": "NONE"}),
        mock_integration(200),
        true,
    )
    .await;
    let resource_after = m
        .put(
            &format!("/restapis/{id}/resources/{compare}/cors"),
            json!({"gatewayResponses": true}),
        )
        .await
        .ok();
    let options = &resource_after["resourceMethods"]["OPTIONS"];
    assert_eq!(options["methodIntegration"]["type"], "MOCK");
    assert_eq!(
        options["methodIntegration"]["integrationResponses"]["200"]["responseParameters"]
            ["method.response.header.Access-Control-Allow-Methods"],
        "'OPTIONS,POST'"
    );
    // Visible through the ordinary API, as the console's edits are.
    let post = m
        .get(&format!("/restapis/{id}/resources/{compare}/methods/POST"))
        .await
        .ok();
    assert_eq!(
        post["methodIntegration"]["integrationResponses"]["200"]["responseParameters"]
            ["method.response.header.Access-Control-Allow-Origin"],
        "'*'"
    );
    let g = m
        .get(&format!("/restapis/{id}/gatewayresponses/DEFAULT_4XX"))
        .await
        .ok();
    assert_eq!(
        g["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"],
        "'*'"
    );
    deploy(&m, &id, "prod", json!({})).await;
    let r = on_every_node(
        &cluster.nodes,
        &id,
        "preflight answered",
        ("OPTIONS", "/compare"),
        &[("origin", "https://jsfiddle.net")],
        None,
        |r| r.status == 200,
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("OPTIONS,POST")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token")
    );
    let r = send(
        "POST",
        &cluster.nodes[1].invoke_url(&id, "prod", "/compare"),
        &[("content-type", "application/json")],
        Some("{}"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = send(
        "GET",
        &cluster.nodes[1].invoke_url(&id, "prod", "/nothing"),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    m.put(
        &format!("/restapis/{id}/resources/{compare}/cors"),
        json!({"allowOrigin": "it's"}),
    )
    .await
    .err(400, "BadRequestException");
}

/// A trigger: how to make the data plane produce a type for real.
struct Trigger {
    response_type: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Option<&'static str>,
    status: u16,
    message: &'static str,
}

/// Sends a request with a declared `Content-Length` over the limit and no body, reading
/// the whole answer (status, headers, body) from the raw connection.
async fn too_large(node: &DataPlane, api: &str) -> Option<Reply> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port: u16 = node.base().rsplit(':').next()?.parse().ok()?;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let head = format!(
        "POST /restapis/{api}/prod/_user_request_/large HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nOrigin: https://o.example\r\n\
         Content-Length: 20000000\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        let (k, v) = line.split_once(':')?;
        headers.insert(
            reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).ok()?,
            v.trim().parse().ok()?,
        );
    }
    Some(Reply {
        status,
        headers,
        body: body.to_string(),
    })
}

async fn fire(node: &DataPlane, api: &str, t: &Trigger) -> Option<Reply> {
    if t.response_type == "REQUEST_TOO_LARGE" {
        return too_large(node, api).await;
    }
    let mut headers: Vec<(&str, &str)> = t.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    headers.push(("origin", "https://o.example"));
    send(
        t.method,
        &node.invoke_url(api, "prod", t.path),
        &headers,
        t.body,
    )
    .await
}

/// Builds one API with a resource per producible error; returns (api id, triggers).
async fn build_error_api(m: &Mgmt, backend: &Backend) -> (String, Vec<Trigger>) {
    let api = m.post("/restapis", json!({"name": "errors"})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);
    let none = json!({"authorizationType": "NONE"});
    let keyed = json!({"authorizationType": "NONE", "apiKeyRequired": true});
    for (part, http, method_body, integration, responses) in [
        ("keyed", "GET", keyed.clone(), mock_integration(200), true),
        ("quota", "GET", keyed.clone(), mock_integration(200), true),
        (
            "throttled",
            "GET",
            keyed.clone(),
            mock_integration(200),
            true,
        ),
        ("large", "POST", none.clone(), mock_integration(200), true),
        (
            "media",
            "POST",
            none.clone(),
            json!({"type": "HTTP", "httpMethod": "POST", "uri": format!("{}/media", backend.url()),
                   "passthroughBehavior": "NEVER",
                   "requestTemplates": {"application/json": "{\"wrapped\": $input.json('$')}"}}),
            true,
        ),
        (
            "timeout",
            "GET",
            none.clone(),
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/slow/3000", backend.url()),
                   "timeoutInMillis": 300}),
            false,
        ),
        (
            "failure",
            "GET",
            none.clone(),
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://127.0.0.1:1/"}),
            false,
        ),
        // A MOCK without integration responses: the method cannot answer.
        ("config", "GET", none.clone(), mock_integration(200), false),
    ] {
        let rid = add_resource(m, &id, &root, part).await;
        method(m, &id, &rid, http, method_body, integration, responses).await;
    }
    let validator = text(
        &m.post(
            &format!("/restapis/{id}/requestvalidators"),
            json!({"name": "all", "validateRequestBody": true, "validateRequestParameters": true}),
        )
        .await
        .ok()["id"],
    );
    m.post(
        &format!("/restapis/{id}/models"),
        json!({"name": "CompareData", "contentType": "application/json", "schema": COMPARE_DATA}),
    )
    .await
    .ok();
    let rid = add_resource(m, &id, &root, "params").await;
    method(
        m,
        &id,
        &rid,
        "GET",
        json!({"authorizationType": "NONE", "requestValidatorId": validator,
               "requestParameters": {"method.request.querystring.q": true}}),
        mock_integration(200),
        true,
    )
    .await;
    let rid = add_resource(m, &id, &root, "body").await;
    method(
        m,
        &id,
        &rid,
        "POST",
        json!({"authorizationType": "NONE", "requestValidatorId": validator,
               "requestModels": {"application/json": "CompareData"}}),
        mock_integration(200),
        true,
    )
    .await;
    deploy(m, &id, "prod", json!({"who": "prod-stage"})).await;

    // Usage plans: one key with a quota of 1 a day, one throttled to 1 request per 100 s.
    let mut keys = Vec::new();
    for (name, plan) in [
        ("quota", json!({"quota": {"limit": 1, "period": "DAY"}})),
        (
            "throttle",
            json!({"throttle": {"rateLimit": 0.01, "burstLimit": 1}}),
        ),
        ("plain", json!({})),
    ] {
        let key = m
            .post("/apikeys", json!({"name": name, "enabled": true}))
            .await
            .ok();
        let mut body = plan;
        body["name"] = json!(name);
        body["apiStages"] = json!([{"apiId": id, "stage": "prod"}]);
        let plan_id = text(&m.post("/usageplans", body).await.ok()["id"]);
        m.post(
            &format!("/usageplans/{plan_id}/keys"),
            json!({"keyId": text(&key["id"]), "keyType": "API_KEY"}),
        )
        .await
        .ok();
        keys.push(text(&key["value"]));
    }
    let t = |response_type,
             method,
             path,
             headers: Vec<(&'static str, String)>,
             body,
             status,
             message| Trigger {
        response_type,
        method,
        path,
        headers,
        body,
        status,
        message,
    };
    let triggers = vec![
        t(
            "MISSING_AUTHENTICATION_TOKEN",
            "GET",
            "/no/such/path",
            vec![],
            None,
            403,
            "Missing Authentication Token",
        ),
        t(
            "INVALID_API_KEY",
            "GET",
            "/keyed",
            vec![("x-api-key", "not-a-key".into())],
            None,
            403,
            "Forbidden",
        ),
        t(
            "QUOTA_EXCEEDED",
            "GET",
            "/quota",
            vec![("x-api-key", keys[0].clone())],
            None,
            429,
            "Limit Exceeded",
        ),
        t(
            "THROTTLED",
            "GET",
            "/throttled",
            vec![("x-api-key", keys[1].clone())],
            None,
            429,
            "Too Many Requests",
        ),
        t(
            "BAD_REQUEST_PARAMETERS",
            "GET",
            "/params",
            vec![],
            None,
            400,
            "Missing required request parameters: [q]",
        ),
        t(
            "BAD_REQUEST_BODY",
            "POST",
            "/body",
            vec![("content-type", "application/json".into())],
            Some(r#"{"age": "x"}"#),
            400,
            "Invalid request body",
        ),
        t(
            "REQUEST_TOO_LARGE",
            "POST",
            "/large",
            vec![],
            None,
            413,
            "Request Too Long",
        ),
        t(
            "UNSUPPORTED_MEDIA_TYPE",
            "POST",
            "/media",
            vec![("content-type", "text/plain".into())],
            Some("hello"),
            415,
            "Unsupported Media Type",
        ),
        t(
            "INTEGRATION_TIMEOUT",
            "GET",
            "/timeout",
            vec![],
            None,
            504,
            "Endpoint request timed out",
        ),
        t(
            "INTEGRATION_FAILURE",
            "GET",
            "/failure",
            vec![],
            None,
            502,
            "Internal server error",
        ),
        t(
            "API_CONFIGURATION_ERROR",
            "GET",
            "/config",
            vec![],
            None,
            500,
            "Internal server error",
        ),
    ];
    (id, triggers)
}

/// Waits until every node answers the trigger as `check` wants.
async fn expect(
    nodes: &[DataPlane],
    api: &str,
    t: &Trigger,
    phase: &str,
    check: impl Fn(&Reply) -> bool,
) -> Reply {
    let mut last = None;
    for n in nodes {
        last = Some(
            eventually(
                &format!("{} ({phase}) on {}", t.response_type, n.node_id),
                Duration::from_secs(20),
                || {
                    let check = &check;
                    async move {
                        let r = fire(n, api, t).await?;
                        check(&r).then_some(r)
                    }
                },
            )
            .await,
        );
    }
    last.expect("nodes")
}

#[tokio::test]
async fn every_gateway_response_type_produced_customised_then_falling_back() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let backend = Backend::start("errors").await;
    let (id, triggers) = build_error_api(&m, &backend).await;

    // Built-ins first (nothing customised).
    for t in &triggers {
        let r = expect(&cluster.nodes, &id, t, "built-in", |r| r.status == t.status).await;
        assert_eq!(
            r.json(),
            json!({"message": t.message}),
            "{}",
            t.response_type
        );
        assert!(
            r.header("x-amzn-errortype").is_some(),
            "{}",
            t.response_type
        );
        assert!(r.header("x-gr-type").is_none());
    }

    // 1. Each type customised: status override, headers from every source kind, template.
    for t in &triggers {
        let status = if t.status >= 500 { "599" } else { "418" };
        m.put(
            &format!("/restapis/{id}/gatewayresponses/{}", t.response_type),
            json!({
                "statusCode": status,
                "responseParameters": {
                    "gatewayresponse.header.x-gr-type": format!("'{}'", t.response_type),
                    "gatewayresponse.header.x-gr-ctx": "context.error.responseType",
                    "gatewayresponse.header.x-gr-origin": "method.request.header.origin",
                    "gatewayresponse.header.x-gr-stage": "stageVariables.who"
                },
                "responseTemplates": {"application/json":
                    "{\"type\":\"$context.error.responseType\",\"msg\":$context.error.messageString,\"stage\":\"$context.stage\"}"}
            }),
        )
        .await
        .ok();
    }
    deploy(&m, &id, "prod", json!({"who": "prod-stage"})).await;
    for t in &triggers {
        let want = if t.status >= 500 { 599 } else { 418 };
        let r = expect(&cluster.nodes, &id, t, "customised", |r| r.status == want).await;
        let what = t.response_type;
        assert_eq!(r.header("x-gr-type"), Some(what));
        assert_eq!(r.header("x-gr-ctx"), Some(what));
        assert_eq!(r.header("x-gr-origin"), Some("https://o.example"), "{what}");
        assert_eq!(r.header("x-gr-stage"), Some("prod-stage"), "{what}");
        assert_eq!(
            r.json(),
            json!({"type": what, "msg": t.message, "stage": "prod"}),
            "{what}: {}",
            r.body
        );
    }

    // 2. Specific customisations removed: DEFAULT_4XX / DEFAULT_5XX apply, built-in status.
    for t in &triggers {
        m.delete(&format!(
            "/restapis/{id}/gatewayresponses/{}",
            t.response_type
        ))
        .await
        .ok();
    }
    for (t, class) in [("DEFAULT_4XX", "4xx"), ("DEFAULT_5XX", "5xx")] {
        m.put(
            &format!("/restapis/{id}/gatewayresponses/{t}"),
            json!({"responseParameters": {
                "gatewayresponse.header.x-gr-default": format!("'{class}'"),
                "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.origin"
            }}),
        )
        .await
        .ok();
    }
    deploy(&m, &id, "prod", json!({"who": "prod-stage"})).await;
    for t in &triggers {
        let class = if t.status >= 500 { "5xx" } else { "4xx" };
        let r = expect(&cluster.nodes, &id, t, "fallback", |r| {
            r.header("x-gr-default").is_some() && r.status == t.status
        })
        .await;
        assert_eq!(r.header("x-gr-default"), Some(class), "{}", t.response_type);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("https://o.example")
        );
        assert!(r.header("x-gr-type").is_none());
        assert_eq!(
            r.json(),
            json!({"message": t.message}),
            "{}",
            t.response_type
        );
    }

    // 3. Nothing customised: the built-in again.
    for t in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        m.delete(&format!("/restapis/{id}/gatewayresponses/{t}"))
            .await
            .ok();
    }
    deploy(&m, &id, "prod", json!({})).await;
    for t in &triggers {
        let r = expect(&cluster.nodes, &id, t, "built-in again", |r| {
            r.header("x-gr-default").is_none() && r.status == t.status
        })
        .await;
        assert_eq!(
            r.json(),
            json!({"message": t.message}),
            "{}",
            t.response_type
        );
    }
}

#[tokio::test]
async fn gateway_response_types_not_produced_yet_are_managed_and_deployed() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let api = m.post("/restapis", json!({"name": "types"})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);
    method(
        &m,
        &id,
        &root,
        "GET",
        json!({"authorizationType": "NONE"}),
        mock_integration(200),
        true,
    )
    .await;
    // Types whose cause (authorizers, IAM, WAF, ...) this gateway does not have yet.
    let types = [
        ("ACCESS_DENIED", "403"),
        ("AUTHORIZER_CONFIGURATION_ERROR", "500"),
        ("AUTHORIZER_FAILURE", "500"),
        ("EXPIRED_TOKEN", "403"),
        ("INVALID_SIGNATURE", "403"),
        ("RESOURCE_NOT_FOUND", "404"),
        ("UNAUTHORIZED", "401"),
        ("WAF_FILTERED", "403"),
    ];
    for (t, default_status) in types {
        let path = format!("/restapis/{id}/gatewayresponses/{t}");
        let d = m.get(&path).await.ok();
        assert_eq!(d["defaultResponse"], true, "{t}");
        assert_eq!(d["statusCode"], default_status, "{t}");
        let put = m
            .put(
                &path,
                json!({"statusCode": "400",
                       "responseParameters": {"gatewayresponse.header.x-t": format!("'{t}'")},
                       "responseTemplates": {"application/json": "{\"t\":\"$context.error.responseType\"}"}}),
            )
            .await;
        assert_eq!(put.status, 201, "{t}: {}", put.body);
        let patched = m
            .patch(
                &path,
                json!([{"op": "replace", "path": "/statusCode", "value": "409"},
                       {"op": "add", "path": "/responseParameters/gatewayresponse.header.x-u", "value": "context.requestId"}]),
            )
            .await
            .ok();
        assert_eq!(patched["statusCode"], "409");
        assert_eq!(patched["defaultResponse"], false);
        assert_eq!(patched["responseParameters"].as_object().unwrap().len(), 2);
    }
    // Refused when saved, with what is wrong.
    let path = format!("/restapis/{id}/gatewayresponses/THROTTLED");
    let msg = m
        .put(
            &path,
            json!({"responseTemplates": {"application/json": "#if($x"}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("line 1"), "{msg}");
    m.put(
        &path,
        json!({"responseParameters": {"gatewayresponse.header.x": "body.x"}}),
    )
    .await
    .err(400, "BadRequestException");
    m.put(&path, json!({"statusCode": "99"}))
        .await
        .err(400, "BadRequestException");
    m.put(
        &format!("/restapis/{id}/gatewayresponses/NOT_A_TYPE"),
        json!({}),
    )
    .await
    .err(400, "BadRequestException");
    m.delete(&path).await.err(404, "NotFoundException");

    // The customisations compile on every node (a broken one would be refused there).
    deploy(&m, &id, "prod", json!({})).await;
    on_every_node(
        &cluster.nodes,
        &id,
        "stage served",
        ("GET", "/"),
        &[],
        None,
        |r| r.status == 200,
    )
    .await;
    let listed = m
        .get(&format!("/restapis/{id}/gatewayresponses"))
        .await
        .ok();
    let customised = listed["item"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["defaultResponse"] == false)
        .count();
    assert_eq!(customised, types.len());
    for (t, default_status) in types {
        let path = format!("/restapis/{id}/gatewayresponses/{t}");
        assert_eq!(m.delete(&path).await.status, 202);
        let d = m.get(&path).await.ok();
        assert_eq!(d["defaultResponse"], true);
        assert_eq!(d["statusCode"], default_status);
    }
}
