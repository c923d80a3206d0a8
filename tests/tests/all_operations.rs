//! Every operation of the `apigateway` service model is routed (issue 12).
//!
//! `tests/data/apigateway-operations.json` is each operation's name, HTTP method and
//! request URI, taken from botocore's service model (`tests/data/extract_operations.py`).
//! The test sends every one of them to a real control plane, with dummy ids in the path,
//! and fails on `UnknownOperationException` (or a 5xx) for any operation that is not on
//! [`NOT_APPLICABLE`]. That list is kept honest the other way too: an operation on it that
//! is routed fails the test, so an entry goes when its feature lands.
//!
//! Also here: the SDK operations (GetSdkTypes, GetSdkType, GetSdk), whose answers say that
//! this gateway generates no SDKs and what to use instead.

use apigw_e2e::rest_api::{deploy, mock_integration, new_api};
use apigw_e2e::{fresh_database, ControlPlane, RestApi};
use serde_json::{json, Value};

/// The operations this control plane does not route, each with why. Empty since issue 18
/// routed the domain-name, base-path-mapping, access-association and client-certificate
/// operations; the checks stay so that any gap shows.
const NOT_APPLICABLE: &[(&str, &str)] = &[];

/// One operation of the model.
struct Operation {
    name: String,
    method: String,
    request_uri: String,
}

fn operations() -> Vec<Operation> {
    let data: Value = serde_json::from_str(include_str!("../data/apigateway-operations.json"))
        .expect("tests/data/apigateway-operations.json is JSON");
    data["operations"]
        .as_array()
        .expect("an operations list")
        .iter()
        .map(|o| Operation {
            name: o["name"].as_str().unwrap_or_default().to_string(),
            method: o["method"].as_str().unwrap_or_default().to_string(),
            request_uri: o["requestUri"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// The request URI with every `{label}` filled with a dummy value that has the label's
/// shape (an HTTP method where a method goes, a status code where one goes, ...).
fn fill(uri: &str) -> String {
    let mut out = String::new();
    let mut rest = uri;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or(rest.len());
        let label = &rest[start + 1..end];
        out.push_str(match label {
            "http_method" => "GET",
            "status_code" => "200",
            "export_type" => "oas30",
            "sdk_type" => "javascript",
            "response_type" => "DEFAULT_4XX",
            "resource_arn" => "arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fnosuchapi0",
            _ => "nosuchid00",
        });
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_vendored_operations_are_the_models() {
    let ops = operations();
    assert_eq!(ops.len(), 124, "apigateway 2015-07-09 has 124 operations");
    for (name, _) in NOT_APPLICABLE {
        assert!(
            ops.iter().any(|o| o.name == *name),
            "{name} is on the not-applicable list but is no operation of the model"
        );
    }
    assert_eq!(
        fill("/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}"),
        "/restapis/nosuchid00/resources/nosuchid00/methods/GET"
    );
    assert_eq!(fill("/apikeys?mode=import"), "/apikeys?mode=import");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_model_is_routed() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let mut unrouted = Vec::new();
    let mut listed_but_routed = Vec::new();
    for op in operations() {
        let path = fill(&op.request_uri);
        let body = matches!(op.method.as_str(), "POST" | "PUT" | "PATCH").then(|| json!({}));
        let answer = m.call(&op.method, &path, body).await;
        let unknown = answer.error_type.as_deref() == Some("UnknownOperationException");
        let listed = NOT_APPLICABLE.iter().any(|(n, _)| *n == op.name);
        assert!(
            answer.status < 500,
            "{} ({} {path}) failed on our side: {} {}",
            op.name,
            op.method,
            answer.status,
            answer.body
        );
        match (unknown, listed) {
            (true, false) => unrouted.push(format!("{} ({} {})", op.name, op.method, path)),
            (false, true) => listed_but_routed.push(op.name),
            _ => {}
        }
    }
    assert!(
        unrouted.is_empty(),
        "operations answered UnknownOperationException: {unrouted:#?}"
    );
    assert!(
        listed_but_routed.is_empty(),
        "operations on NOT_APPLICABLE are routed now; take them off the list: \
         {listed_but_routed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_operations_say_no_sdk_is_generated_and_what_to_use() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    assert_eq!(m.get("/sdktypes").await.ok(), json!({"item": []}));
    let msg = m
        .get("/sdktypes/javascript")
        .await
        .err(404, "NotFoundException");
    assert!(msg.contains("GetExport"), "{msg}");

    let api = RestApi::create(&m, "sdk").await;
    api.method(&api.root, "GET", mock_integration(200)).await;
    deploy(&m, &api.id, "prod", json!({})).await;
    let sdk = |api: &str, stage: &str| format!("/restapis/{api}/stages/{stage}/sdks/javascript");
    let msg = m
        .get(&sdk(&api.id, "prod"))
        .await
        .err(400, "BadRequestException");
    assert!(
        msg.contains("does not generate client SDKs") && msg.contains("oas30"),
        "{msg}"
    );
    // The API and the stage are checked first, as for every stage operation.
    m.get(&sdk(&api.id, "nosuchstage"))
        .await
        .err(404, "NotFoundException");
    let (other, _) = new_api(&m, "other").await;
    m.delete(&format!("/restapis/{other}")).await.ok();
    m.get(&sdk(&other, "prod"))
        .await
        .err(404, "NotFoundException");
}
