//! WebSocket APIs (issue 19).
//!
//! Management: boto3's `apigatewayv2` client (`tests/boto3/websocket_mgmt.py`) defines the
//! seeds' chat API route by route, deploys it, exercises auto-deploy and the v2 errors;
//! this test then reads the result back over plain signed HTTP (the wire shape, the
//! lower-case `message` of v2 errors, the config version bump a deployment makes).

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{fresh_database, ControlPlane};
use serde_json::{json, Value};

/// Runs `tests/boto3/{script}` against the control plane; answers its last stdout line.
async fn boto3(cp: &ControlPlane, script: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("boto3")
        .join(script);
    let out = tokio::process::Command::new("python3")
        .arg(path)
        .env("V2_ENDPOINT", cp.url())
        .env("V2_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("V2_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .output()
        .await
        .expect("running python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the script's JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_api_is_defined_deployed_and_checked_through_boto3_apigatewayv2() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let made = boto3(&cp, "websocket_mgmt.py").await;
    let api_id = made["apiId"].as_str().expect("apiId");
    let mgmt = cp.mgmt();

    // The wire shape, as the SDKs read it.
    let api = mgmt.get(&format!("/v2/apis/{api_id}")).await.ok();
    assert_eq!(api["protocolType"], "WEBSOCKET");
    assert_eq!(api["routeSelectionExpression"], "$request.body.action");
    let stage = mgmt
        .get(&format!("/v2/apis/{api_id}/stages/dev"))
        .await
        .ok();
    assert_eq!(stage["deploymentId"], made["deploymentId"]);
    assert_eq!(stage["stageVariables"], json!({"room": "lobby"}));
    assert_eq!(
        stage["defaultRouteSettings"]["throttlingBurstLimit"],
        json!(100)
    );

    // v2 errors: status, x-amzn-ErrorType and a lower-case `message`.
    let missing = mgmt.get("/v2/apis/nosuch").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_type.as_deref(), Some("NotFoundException"));
    assert!(missing.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("nosuch")));
    let bad = mgmt
        .post(
            &format!("/v2/apis/{api_id}/routes"),
            json!({"routeKey": "x", "authorizationType": 7}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("authorizationType"), "{bad}");
    let http = mgmt
        .post("/v2/apis", json!({"name": "h", "protocolType": "HTTP"}))
        .await
        .err(400, "BadRequestException");
    assert!(http.contains("WEBSOCKET"), "{http}");

    // Deleting the API removes everything in it.
    mgmt.delete(&format!("/v2/apis/{api_id}")).await.ok();
    mgmt.get(&format!("/v2/apis/{api_id}/routes"))
        .await
        .err(404, "NotFoundException");
}
