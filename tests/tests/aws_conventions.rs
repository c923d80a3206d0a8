//! AWS's conventions on the management API, against a real control plane process
//! (issue 12): what SDKs and tools rely on beyond the shapes of the service model.

use apigw_e2e::rest_api::{add_resource, deploy, method_path, mock_method, new_api};
use apigw_e2e::{fresh_database, ControlPlane};
use serde_json::json;

async fn control_plane() -> ControlPlane {
    ControlPlane::start(&fresh_database().await.expect("a test database")).await
}

fn assert_uuid(id: &Option<String>, what: &str) -> String {
    let id = id
        .clone()
        .unwrap_or_else(|| panic!("{what}: no x-amzn-RequestId"));
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "{what}: x-amzn-RequestId {id:?} is not a UUID"
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_fresh_request_id() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let mut seen = std::collections::HashSet::new();
    let answers = [
        ("a success", m.get("/restapis").await),
        (
            "a creation",
            m.post("/restapis", json!({"name": "ids"})).await,
        ),
        ("a not-found", m.get("/restapis/nope000000").await),
        (
            "a bad request",
            m.post("/restapis", json!({"name": "x", "apiKeySource": "BOGUS"}))
                .await,
        ),
        ("an unknown operation", m.get("/no/such/operation").await),
        (
            "an unsigned call",
            m.call_unsigned("GET", "/restapis").await,
        ),
        (
            "a console API call",
            m.call_unsigned("GET", "/console/api/session").await,
        ),
    ];
    for (what, answer) in &answers {
        assert!(
            seen.insert(assert_uuid(&answer.request_id, what)),
            "{what}: reused id"
        );
    }
    assert_eq!(answers[2].1.status, 404);
    assert_eq!(answers[5].1.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_constraints_are_validation_errors_and_rules_bad_requests() {
    let cp = control_plane().await;
    let m = cp.mgmt();

    // A value outside a model enum: ValidationException, in AWS's words.
    let msg = m
        .post("/restapis", json!({"name": "x", "apiKeySource": "BOGUS"}))
        .await
        .err(400, "ValidationException");
    assert_eq!(
        msg,
        "1 validation error detected: Value 'BOGUS' at 'apiKeySource' failed to satisfy \
         constraint: Member must satisfy enum value set: [HEADER, AUTHORIZER]"
    );
    let msg = m
        .post(
            "/restapis",
            json!({"name": "x", "apiKeySource": "header",
                   "endpointConfiguration": {"types": ["LOCAL"]}}),
        )
        .await
        .err(400, "ValidationException");
    assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
    assert!(
        msg.contains("'[LOCAL]' at 'endpointConfiguration.types'"),
        "{msg}"
    );

    // A rule of API Gateway's, not of the model: BadRequestException.
    m.post("/restapis", json!({"name": " "}))
        .await
        .err(400, "BadRequestException");

    let (api, root) = new_api(&m, "constraints").await;
    let pets = add_resource(&m, &api, &root, "pets").await;
    let method = method_path(&api, &pets, "GET");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    let integration = format!("{method}/integration");
    for (body, member) in [
        (json!({"type": "mock"}), "'mock' at 'type'"),
        (
            json!({"type": "MOCK", "connectionType": "PRIVATE"}),
            "'PRIVATE' at 'connectionType'",
        ),
        (
            json!({"type": "MOCK", "contentHandling": "CONVERT_TO_JSON"}),
            "'CONVERT_TO_JSON' at 'contentHandling'",
        ),
    ] {
        let msg = m
            .put(&integration, body)
            .await
            .err(400, "ValidationException");
        assert!(msg.contains(member), "{msg}");
    }
    m.put(
        &integration,
        json!({"type": "HTTP", "httpMethod": "GET", "uri": "not a url"}),
    )
    .await
    .err(400, "BadRequestException");
    m.put(&integration, json!({"type": "MOCK"})).await.ok();

    let d = deploy(&m, &api, "prod", json!({})).await;
    let msg = m
        .post(
            &format!("/restapis/{api}/stages"),
            json!({"stageName": "big", "deploymentId": d, "cacheClusterSize": "7"}),
        )
        .await
        .err(400, "ValidationException");
    assert!(msg.contains("'7' at 'cacheClusterSize'"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enums_are_case_insensitive_where_api_gateway_is() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "cases").await;
    let pets = add_resource(&m, &api, &root, "pets").await;
    let method = method_path(&api, &pets, "GET");

    // Zappa's `none`: accepted, and answered in AWS's spelling.
    let put = m
        .put(&method, json!({"authorizationType": "none"}))
        .await
        .ok();
    assert_eq!(put["authorizationType"], "NONE");
    assert_eq!(m.get(&method).await.ok()["authorizationType"], "NONE");
    let updated = m
        .patch(
            &method,
            json!([{"op": "replace", "path": "/authorizationType", "value": "aws_iam"}]),
        )
        .await
        .ok();
    assert_eq!(updated["authorizationType"], "AWS_IAM");
    m.patch(
        &method,
        json!([{"op": "replace", "path": "/authorizationType", "value": "basic"}]),
    )
    .await
    .err(400, "BadRequestException");

    let integration = m
        .put(
            &format!("{method}/integration"),
            json!({"type": "MOCK", "passthroughBehavior": "when_no_templates"}),
        )
        .await
        .ok();
    assert_eq!(integration["passthroughBehavior"], "WHEN_NO_TEMPLATES");
    let integration = m
        .patch(
            &format!("{method}/integration"),
            json!([{"op": "replace", "path": "/passthroughBehavior", "value": "Never"}]),
        )
        .await
        .ok();
    assert_eq!(integration["passthroughBehavior"], "NEVER");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_embed_their_api_summary_only_when_asked() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "summaries").await;
    let a = add_resource(&m, &api, &root, "a").await;
    mock_method(&m, &api, &a, "GET", "{}").await;
    let id = deploy(&m, &api, "prod", json!({})).await;
    let summary = json!({"/a": {"GET": {"authorizationType": "NONE", "apiKeyRequired": false}}});
    let deployments = format!("/restapis/{api}/deployments");

    let plain = m.get(&format!("{deployments}/{id}")).await.ok();
    assert_eq!(apigw_e2e::rest_api::text(&plain["id"]), id);
    assert!(plain.get("apiSummary").is_none(), "{plain}");
    let embedded = m
        .get(&format!("{deployments}/{id}?embed=apisummary"))
        .await
        .ok();
    assert_eq!(embedded["apiSummary"], summary);

    let list = m.get(&deployments).await.ok();
    assert_eq!(apigw_e2e::rest_api::text(&list["item"][0]["id"]), id);
    assert!(list["item"][0].get("apiSummary").is_none(), "{list}");
    let list = m.get(&format!("{deployments}?embed=apisummary")).await.ok();
    assert_eq!(list["item"][0]["apiSummary"], summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_stage_keeps_access_log_settings() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "misbehaviours").await;
    let a = add_resource(&m, &api, &root, "a").await;
    mock_method(&m, &api, &a, "GET", "{}").await;
    deploy(&m, &api, "prod", json!({})).await;

    // UpdateStage: access log settings, replaced and removed.
    let stage = format!("/restapis/{api}/stages/prod");
    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:api-access";
    let format = "$context.requestId $context.status";
    let updated = m
        .patch(
            &stage,
            json!([
                {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
                {"op": "replace", "path": "/accessLogSettings/format", "value": format}
            ]),
        )
        .await
        .ok();
    let expected = json!({"destinationArn": arn, "format": format});
    assert_eq!(updated["accessLogSettings"], expected);
    assert_eq!(m.get(&stage).await.ok()["accessLogSettings"], expected);
    m.patch(
        &stage,
        json!([{"op": "replace", "path": "/accessLogSettings/format", "value": "$context.status"}]),
    )
    .await
    .err(400, "BadRequestException");
    m.patch(
        &stage,
        json!([{"op": "replace", "path": "/accessLogSettings/destinationArn", "value": "bucket"}]),
    )
    .await
    .err(400, "BadRequestException");
    let removed = m
        .patch(
            &stage,
            json!([{"op": "remove", "path": "/accessLogSettings"}]),
        )
        .await
        .ok();
    assert!(removed.get("accessLogSettings").is_none(), "{removed}");
    assert!(m.get(&stage).await.ok().get("accessLogSettings").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_rest_api_takes_the_documented_binary_media_type_forms() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, _) = new_api(&m, "binary").await;

    // UpdateRestApi: the binary media type forms AWS documents.
    let rest_api = format!("/restapis/{api}");
    let types = |v: &serde_json::Value| v["binaryMediaTypes"].clone();
    let v = m
        .patch(
            &rest_api,
            json!([
                {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
                {"op": "add", "path": "/binaryMediaTypes/*~1*"}
            ]),
        )
        .await
        .ok();
    assert_eq!(types(&v), json!(["image/jpeg", "*/*"]));
    // The developer guide's "change binary support from JPEG files to raw bytes".
    let v = m
        .patch(
            &rest_api,
            json!([
                {"op": "replace", "path": "/binaryMediaTypes/image~1jpeg",
                 "value": "application/octet-stream"},
                {"op": "remove", "path": "/binaryMediaTypes/image~1jpeg"}
            ]),
        )
        .await
        .ok();
    assert_eq!(types(&v), json!(["application/octet-stream", "*/*"]));
    let v = m
        .patch(
            &rest_api,
            json!([{"op": "remove", "path": "/binaryMediaTypes/*~1*"}]),
        )
        .await
        .ok();
    assert_eq!(types(&v), json!(["application/octet-stream"]));
    assert_eq!(
        types(&m.get(&rest_api).await.ok()),
        json!(["application/octet-stream"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_plans_cannot_be_disabled() {
    let cp = control_plane().await;
    let m = cp.mgmt();

    // UpdateAccount: UsagePlans stays on.
    for op in [
        json!({"op": "remove", "path": "/features", "value": "UsagePlans"}),
        json!({"op": "remove", "path": "/features/UsagePlans"}),
    ] {
        let msg = m
            .patch("/account", json!([op]))
            .await
            .err(400, "BadRequestException");
        assert_eq!(msg, "Usage Plans cannot be disabled once enabled");
    }
    let account = m.get("/account").await.ok();
    assert_eq!(account["features"], json!(["UsagePlans"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_proxy_integrations_need_a_function_uri() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let (api, root) = new_api(&m, "misbehaviours").await;

    // PutIntegration: AWS_PROXY only with a function invocation URI.
    let b = add_resource(&m, &api, &root, "b").await;
    let method = method_path(&api, &b, "POST");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    let proxy = |uri: &str| json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri});
    for (bad, says) in [
        (
            "arn:aws:apigateway:us-east-1:s3:path/bucket/key",
            "AWS_PROXY",
        ),
        (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f",
            "invocations",
        ),
        ("https://example.com/", "path or action"),
    ] {
        let msg = m
            .put(&format!("{method}/integration"), proxy(bad))
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains(says), "{bad}: {msg}");
    }
    let good = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
                arn:aws:lambda:us-east-1:123456789012:function:photos/invocations";
    let i = m
        .put(&format!("{method}/integration"), proxy(good))
        .await
        .ok();
    assert_eq!(i["uri"], good);
    // The same rule holds when an update turns an integration into AWS_PROXY.
    m.patch(
        &format!("{method}/integration"),
        json!([{"op": "replace", "path": "/uri",
                "value": "arn:aws:apigateway:us-east-1:sqs:path/123/q"}]),
    )
    .await
    .err(400, "BadRequestException");
}
