//! The control plane describes its management API: `GET /openapi.json` (issue 12).
//!
//! The document is served without credentials and is the one the code generates (the
//! control plane's unit tests check it against the AWS model and the console's snapshot).
//! Here the real server's answers are held to it: each call below is looked up in the
//! document by method and path, its status must be the documented success status, and its
//! body must conform to the documented response schema (members, required members, types).

use std::collections::BTreeMap;

use apigw_e2e::{fresh_database, ControlPlane};
use serde_json::{json, Value};

async fn fetch_document(cp: &ControlPlane) -> Value {
    let resp = reqwest::get(format!("{}/openapi.json", cp.url()))
        .await
        .expect("GET /openapi.json");
    assert_eq!(resp.status().as_u16(), 200, "served without credentials");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    resp.json().await.expect("a JSON document")
}

/// The documented operation for a concrete method and path (labels match any segment;
/// a literal segment wins over a label, as the router decides).
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let segs: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, &Value)> = None;
    for (template, item) in doc["paths"].as_object().expect("paths") {
        let t: Vec<&str> = template.split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let fits = t
            .iter()
            .zip(&segs)
            .all(|(t, s)| t.starts_with('{') || t == s);
        let literal = t.iter().filter(|t| !t.starts_with('{')).count();
        let op = &item[method.to_lowercase().as_str()];
        if fits && op.is_object() && best.is_none_or(|(l, _)| literal > l) {
            best = Some((literal, op));
        }
    }
    let (_, op) = best.unwrap_or_else(|| panic!("{method} {path} is not in the document"));
    // A query-selected operation (ImportApiKeys is `POST /apikeys?mode=import`).
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some(alt) = op["x-apigw-operations"]
            .as_array()
            .and_then(|alts| alts.iter().find(|a| a["x-apigw-when-query"][k] == v))
        {
            return alt;
        }
    }
    op
}

/// Checks `value` against an OpenAPI 3.0 schema of the document; returns what is wrong.
fn conform(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return conform(doc, &doc["components"]["schemas"][name], value, at, errors);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            conform(doc, s, value, at, errors);
        }
    }
    if value.is_null() {
        if schema["nullable"] != true && schema.get("type").is_some() {
            errors.push(format!("{at}: null where the schema does not allow it"));
        }
        return;
    }
    let ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: {value} is not a {}", schema["type"]));
        return;
    }
    if let (Some(obj), Some(props)) = (value.as_object(), schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten() {
            let req = req.as_str().unwrap_or_default();
            if !obj.contains_key(req) {
                errors.push(format!("{at}: required member {req} is missing"));
            }
        }
        for (k, v) in obj {
            match props.get(k) {
                Some(s) => conform(doc, s, v, &format!("{at}.{k}"), errors),
                None if schema["additionalProperties"].is_object() => {}
                None => errors.push(format!("{at}: member {k} is not in the schema")),
            }
        }
    } else if let (Some(obj), Some(extra)) = (
        value.as_object(),
        schema["additionalProperties"].as_object(),
    ) {
        let extra = Value::Object(extra.clone());
        for (k, v) in obj {
            conform(doc, &extra, v, &format!("{at}.{k}"), errors);
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            conform(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_describes_what_the_server_answers() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let doc = fetch_document(&cp).await;
    let generated: Value =
        serde_json::from_str(apigw_control_plane::openapi::served_document()).expect("JSON");
    assert_eq!(doc, generated, "the served document is the generated one");
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3.0"));

    let m = cp.mgmt();
    let mut checked = BTreeMap::new();
    let mut call = async |method: &str, path: &str, body: Option<Value>| -> Value {
        let answer = m.call(method, path, body).await;
        let op = operation(&doc, method, path);
        let name = op["operationId"].as_str().unwrap_or_default().to_string();
        let status = answer.status.to_string();
        assert!(
            op["responses"][&status].is_object(),
            "{name} ({method} {path}) answered {status}, documented {}: {}",
            op["responses"],
            answer.body
        );
        let schema = &op["responses"][&status]["content"]["application/json"]["schema"];
        if schema.is_object() {
            let mut errors = Vec::new();
            conform(&doc, schema, &answer.body, &name, &mut errors);
            assert!(errors.is_empty(), "{name}: {errors:#?}\n{}", answer.body);
        }
        checked.insert(name, status);
        answer.body
    };

    let api = call(
        "POST",
        "/restapis",
        Some(json!({"name": "pets", "description": "d"})),
    )
    .await;
    let id = api["id"].as_str().expect("id").to_string();
    let root = api["rootResourceId"].as_str().expect("root").to_string();
    call("GET", "/restapis", None).await;
    call("GET", &format!("/restapis/{id}"), None).await;
    let res = call(
        "POST",
        &format!("/restapis/{id}/resources/{root}"),
        Some(json!({"pathPart": "pets"})),
    )
    .await;
    let rid = res["id"].as_str().expect("resource id").to_string();
    call(
        "GET",
        &format!("/restapis/{id}/resources?embed=methods"),
        None,
    )
    .await;
    let method = format!("/restapis/{id}/resources/{rid}/methods/GET");
    call(
        "PUT",
        &method,
        Some(json!({"authorizationType": "NONE", "requestParameters": {"method.request.querystring.q": false}})),
    )
    .await;
    call(
        "PUT",
        &format!("{method}/integration"),
        Some(json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}})),
    )
    .await;
    call(
        "PUT",
        &format!("{method}/responses/200"),
        Some(json!({"responseModels": {"application/json": "Empty"}})),
    )
    .await;
    call(
        "PUT",
        &format!("{method}/integration/responses/200"),
        Some(json!({"selectionPattern": ""})),
    )
    .await;
    call("GET", &method, None).await;
    call(
        "POST",
        &format!("/restapis/{id}/deployments"),
        Some(json!({"stageName": "prod", "description": "first"})),
    )
    .await;
    call("GET", &format!("/restapis/{id}/deployments"), None).await;
    call("GET", &format!("/restapis/{id}/stages"), None).await;
    call("GET", &format!("/restapis/{id}/stages/prod"), None).await;
    call(
        "PATCH",
        &format!("/restapis/{id}/stages/prod"),
        Some(json!({"patchOperations": [
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "10"}
        ]})),
    )
    .await;
    call("GET", &format!("/restapis/{id}/models"), None).await;
    call("GET", &format!("/restapis/{id}/gatewayresponses"), None).await;
    let key = call(
        "POST",
        "/apikeys",
        Some(json!({"name": "k", "enabled": true, "tags": {"team": "a"}})),
    )
    .await;
    let key_id = key["id"].as_str().expect("key id").to_string();
    call("GET", "/apikeys?includeValues=true", None).await;
    let plan = call(
        "POST",
        "/usageplans",
        Some(json!({
            "name": "gold",
            "apiStages": [{"apiId": id, "stage": "prod"}],
            "throttle": {"rateLimit": 5, "burstLimit": 10},
            "quota": {"limit": 100, "period": "DAY"}
        })),
    )
    .await;
    let plan_id = plan["id"].as_str().expect("plan id").to_string();
    call(
        "POST",
        &format!("/usageplans/{plan_id}/keys"),
        Some(json!({"keyId": key_id, "keyType": "API_KEY"})),
    )
    .await;
    call("GET", &format!("/usageplans/{plan_id}/keys"), None).await;
    call("GET", "/usageplans", None).await;
    call("GET", "/account", None).await;
    call(
        "DELETE",
        &format!("/usageplans/{plan_id}/keys/{key_id}"),
        None,
    )
    .await;
    call("DELETE", &format!("/restapis/{id}/stages/prod"), None).await;

    // The apigatewayv2 API, described from its service model.
    let ws = call(
        "POST",
        "/v2/apis",
        Some(json!({"name": "chat", "protocolType": "WEBSOCKET",
                    "routeSelectionExpression": "$request.body.action"})),
    )
    .await;
    let ws = format!("/v2/apis/{}", ws["apiId"].as_str().expect("apiId"));
    call("GET", "/v2/apis", None).await;
    call("GET", &ws, None).await;
    call("PATCH", &ws, Some(json!({"description": "chat"}))).await;
    let integration = call(
        "POST",
        &format!("{ws}/integrations"),
        Some(json!({"integrationType": "MOCK", "requestTemplates": {"$default": "{\"statusCode\": 200}"},
                    "templateSelectionExpression": "$default"})),
    )
    .await;
    let integration = format!(
        "{ws}/integrations/{}",
        integration["integrationId"]
            .as_str()
            .expect("integrationId")
    );
    call("GET", &format!("{ws}/integrations"), None).await;
    call("GET", &integration, None).await;
    let ir = call(
        "POST",
        &format!("{integration}/integrationresponses"),
        Some(json!({"integrationResponseKey": "$default"})),
    )
    .await;
    call("GET", &format!("{integration}/integrationresponses"), None).await;
    let ir = format!(
        "{integration}/integrationresponses/{}",
        ir["integrationResponseId"]
            .as_str()
            .expect("integrationResponseId")
    );
    call("GET", &ir, None).await;
    let route = call(
        "POST",
        &format!("{ws}/routes"),
        Some(json!({"routeKey": "$default", "target": integration.trim_start_matches(&format!("{ws}/")),
                    "routeResponseSelectionExpression": "$default"})),
    )
    .await;
    let route = format!(
        "{ws}/routes/{}",
        route["routeId"].as_str().expect("routeId")
    );
    call("GET", &format!("{ws}/routes"), None).await;
    call("GET", &route, None).await;
    call("PATCH", &route, Some(json!({"operationName": "echo"}))).await;
    call(
        "POST",
        &format!("{route}/routeresponses"),
        Some(json!({"routeResponseKey": "$default"})),
    )
    .await;
    call("GET", &format!("{route}/routeresponses"), None).await;
    call(
        "POST",
        &format!("{ws}/models"),
        Some(json!({"name": "Message", "contentType": "application/json",
                    "schema": "{\"type\": \"object\"}"})),
    )
    .await;
    call("GET", &format!("{ws}/models"), None).await;
    call(
        "POST",
        &format!("{ws}/stages"),
        Some(json!({"stageName": "dev", "autoDeploy": true,
                    "defaultRouteSettings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5.0}})),
    )
    .await;
    call("GET", &format!("{ws}/stages"), None).await;
    call("GET", &format!("{ws}/stages/dev"), None).await;
    call(
        "PATCH",
        &format!("{ws}/stages/dev"),
        Some(json!({"stageVariables": {"v": "1"}})),
    )
    .await;
    call(
        "POST",
        &format!("{ws}/deployments"),
        Some(json!({"description": "d"})),
    )
    .await;
    call("GET", &format!("{ws}/deployments"), None).await;
    call(
        "GET",
        &format!("{ws}/usage?startDate=2026-01-01&endDate=2026-01-02"),
        None,
    )
    .await;
    call("DELETE", &format!("{ws}/stages/dev"), None).await;
    call("DELETE", &route, None).await;
    call("DELETE", &ws, None).await;

    // An error answers the documented error response.
    let answer = m.get("/restapis/nosuchapi0").await;
    assert_eq!(answer.status, 404);
    let error = &doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"];
    let mut errors = Vec::new();
    conform(&doc, error, &answer.body, "error", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(checked.len() >= 50, "{checked:?}");
}
