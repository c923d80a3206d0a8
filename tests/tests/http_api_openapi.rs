//! HTTP APIs from OpenAPI 3.0 documents (ImportApi, ReimportApi, ExportApi), end to end:
//! boto3's `apigatewayv2` client (`tests/boto3/http_api_openapi.py`) imports a YAML
//! document with AWS's HTTP API extensions, checks what was created, failOnWarnings and
//! the errors, exports it (JSON, YAML, a stage, without extensions) and imports the export
//! as a second API that exports the same document; then both nodes serve the imported
//! API's routes from its `$default` auto-deploy stage (HTTP_PROXY to an echo backend with
//! the document's parameter mapping, the shared integration, `$default`) and the copy.
//! A ReimportApi replaces the routes, and the nodes serve the new definition without a
//! CreateDeployment (auto-deploy).

use std::time::Duration;

use apigw_e2e::process::{DataPlane, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{eventually, fresh_database, Backend, ControlPlane};
use serde_json::Value;

/// Runs `tests/boto3/http_api_openapi.py {args}`; answers its last stdout line.
async fn boto3(cp: &ControlPlane, backend: &Backend, args: &[&str]) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/http_api_openapi.py");
    let out = tokio::process::Command::new("python3")
        .arg(path)
        .args(args)
        .env("V2_ENDPOINT", cp.url())
        .env("V2_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("V2_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("BACKEND_URL", backend.url())
        .output()
        .await
        .expect("running python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "http_api_openapi.py {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the script's JSON line")
}

/// `GET {path}` on `node` with the invoke Host of `api` (`$default` stage: no stage
/// segment): status and JSON body (the echo backend's).
async fn get(node: &DataPlane, api: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", node.base()))
        .header("host", format!("{api}.execute-api.localhost"))
        .send()
        .await
        .expect("a response");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Waits until `node` answers `path` of `api` through the backend at `backend_path`.
async fn served(node: &DataPlane, api: &str, path: &str, backend_path: &str) -> Value {
    eventually(
        &format!("{path} of {api} proxied to {backend_path}"),
        Duration::from_secs(20),
        || async {
            let (status, body) = get(node, api, path).await;
            (status == 200 && body["path"] == backend_path).then_some(body)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_apis_are_imported_exported_and_reimported_through_boto3_and_served() {
    let started = std::time::Instant::now();
    let backend = Backend::start("openapi-backend").await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let nodes = [
        DataPlane::start(&cp.grpc_url(), "openapi-0").await,
        DataPlane::start(&cp.grpc_url(), "openapi-1").await,
    ];
    for node in &nodes {
        node.wait_ready().await;
    }

    eprintln!("[{:?}] nodes ready", started.elapsed());
    let made = boto3(&cp, &backend, &["import"]).await;
    eprintln!("[{:?}] imported", started.elapsed());
    let api = made["apiId"].as_str().expect("apiId").to_string();
    let copy = made["copyId"].as_str().expect("copyId").to_string();

    for node in &nodes {
        // GET /pets: the document's requestParameters (a header overwritten, a query
        // string appended) reach the backend.
        let pets = served(node, &api, "/pets?a=1", "/pets").await;
        assert_eq!(pets["headers"]["x-imported"], "yes", "{pets}");
        assert!(
            pets["query"]
                .as_str()
                .is_some_and(|q| q.contains("a=1") && q.contains("source=openapi")),
            "{pets}"
        );
        // ANY /pets/{petId}: the shared integration.
        served(node, &api, "/pets/7", "/shared").await;
        // Anything else: the $default route.
        served(node, &api, "/elsewhere", "/fallback").await;
        // POST /pets needs a JWT: the route's authorizer is imported and enforced.
        let resp = reqwest::Client::new()
            .post(format!("{}/pets", node.base()))
            .header("host", format!("{api}.execute-api.localhost"))
            .send()
            .await
            .expect("a response");
        assert_eq!(resp.status().as_u16(), 401);
    }
    eprintln!("[{:?}] served", started.elapsed());
    // The copy made from the export has no stage: nothing is served for it.
    let (status, _) = get(&nodes[0], &copy, "/pets").await;
    assert_ne!(status, 200);

    // ReimportApi: the old routes are gone, the new one is live without a deployment call.
    let re = boto3(&cp, &backend, &["reimport", &api]).await;
    assert!(re["deploymentId"].is_string(), "{re}");
    for node in &nodes {
        let items = served(node, &api, "/v2/items/a/b", "/items/a/b").await;
        assert_eq!(items["headers"]["x-reimported"], "a/b", "{items}");
        eventually(
            "GET /pets gone after the reimport",
            Duration::from_secs(20),
            || async { (get(node, &api, "/pets").await.0 == 404).then_some(()) },
        )
        .await;
    }
}
