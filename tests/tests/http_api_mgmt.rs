//! HTTP APIs' management (issue 20), end to end against the real control plane:
//! boto3's `apigatewayv2` client (`tests/boto3/http_api_mgmt.py`) quick-creates APIs from a
//! URL and from a Lambda ARN, defines routes, integrations, JWT and Lambda authorizers and
//! stages, and checks auto-deploy and the v2 errors; the test then reads what a node gets
//! from the config stream (`ConfigUpdate.v2.http_stages`, as a node subscribes) and checks
//! each `HttpStageConfig` member against what was defined.

use std::time::Duration;

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{eventually, fresh_database, ControlPlane};
use apigw_proto::config::config_discovery_client::ConfigDiscoveryClient;
use apigw_proto::config::{node_message, ConfigUpdate, Hello, HttpStageConfig, NodeMessage};
use futures::StreamExt as _;
use serde_json::{json, Value};

const BACKEND: &str = "http://127.0.0.1:9/";

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
        .env("HTTP_BACKEND", BACKEND)
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

/// The full state a node gets when it subscribes to the config stream.
async fn full_update(cp: &ControlPlane) -> ConfigUpdate {
    let mut client = ConfigDiscoveryClient::connect(cp.grpc_url())
        .await
        .expect("connecting to the config stream")
        .max_decoding_message_size(256 * 1024 * 1024);
    let hello = NodeMessage {
        msg: Some(node_message::Msg::Hello(Hello {
            node_id: "http-api-mgmt-test".into(),
            last_applied_version: 0,
            software_version: "test".into(),
        })),
    };
    // Hello, then stay open (no acks: one update is all this reads).
    let outbound = futures::stream::iter([hello]).chain(futures::stream::pending());
    let mut updates = client
        .stream(outbound)
        .await
        .expect("the stream opens")
        .into_inner();
    let update = tokio::time::timeout(Duration::from_secs(10), updates.message())
        .await
        .expect("an update within 10 s")
        .expect("a well-formed update")
        .expect("the full update");
    assert!(update.full, "the first update is the full state");
    update
}

/// The first full state (a fresh subscription each try) that satisfies `pred`: the
/// control plane picks changes up asynchronously.
async fn update_where(
    cp: &ControlPlane,
    what: &str,
    pred: impl Fn(&ConfigUpdate) -> bool,
) -> ConfigUpdate {
    let pred = &pred;
    eventually(what, Duration::from_secs(10), || async move {
        let update = full_update(cp).await;
        pred(&update).then_some(update)
    })
    .await
}

fn http_stages(update: &ConfigUpdate) -> &[HttpStageConfig] {
    update.v2.as_ref().map_or(&[], |v2| &v2.http_stages)
}

fn stage<'a>(update: &'a ConfigUpdate, api: &str, name: &str) -> &'a HttpStageConfig {
    update
        .v2
        .as_ref()
        .expect("v2 stages in the full update")
        .http_stages
        .iter()
        .find(|s| s.api_id == api && s.stage_name == name)
        .unwrap_or_else(|| panic!("no HttpStageConfig for {api} {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_apis_are_managed_through_boto3_and_distributed_as_http_stage_configs() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let made = boto3(&cp, "http_api_mgmt.py").await;
    let api_id = made["apiId"].as_str().expect("apiId");
    let lambda_api = made["lambdaApiId"].as_str().expect("lambdaApiId");
    let mgmt = cp.mgmt();

    // The wire shape over plain signed HTTP.
    let api = mgmt.get(&format!("/v2/apis/{api_id}")).await.ok();
    assert_eq!(api["protocolType"], "HTTP");
    assert_eq!(
        api["apiEndpoint"],
        json!(format!("https://{api_id}.execute-api.localhost"))
    );
    let err = mgmt
        .post(
            &format!("/v2/apis/{api_id}/routes"),
            json!({"routeKey": "GET /x", "authorizationType": "OAUTH"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(err.contains("authorizationType"), "{err}");

    let default_deployment = made["defaultDeploymentId"].as_str().unwrap_or_default();
    let update = update_where(&cp, "the $default stage's last deployment", |u| {
        http_stages(u)
            .iter()
            .any(|s| s.api_id == api_id && s.deployment_id == default_deployment)
    })
    .await;
    let v2 = update.v2.as_ref().expect("v2");
    assert!(
        v2.stages.iter().all(|s| s.api_id != api_id),
        "an HTTP API is not sent as a WebSocket stage"
    );

    // The quick-created $default stage: the current definition.
    let default = stage(&update, api_id, "$default");
    assert_eq!(
        default.deployment_id,
        made["defaultDeploymentId"].as_str().unwrap_or_default()
    );
    assert_eq!(default.api_name, "quick-url");
    // The control plane's region and account, for the engine's ARNs and `accountId`.
    assert_eq!(
        (default.region.as_str(), default.account_id.as_str()),
        ("us-east-1", "000000000000")
    );
    let mut keys: Vec<&str> = default
        .routes
        .iter()
        .map(|r| r.route_key.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["$default", "GET /pets/{id}", "POST /pets"]);
    let route = |key: &str| {
        default
            .routes
            .iter()
            .find(|r| r.route_key == key)
            .unwrap_or_else(|| panic!("route {key}"))
    };
    let get_pet = route("GET /pets/{id}");
    assert_eq!(get_pet.authorization_type, "JWT");
    assert_eq!(
        get_pet.authorizer_id,
        made["jwtAuthorizerId"].as_str().unwrap_or_default()
    );
    assert_eq!(get_pet.authorization_scopes, ["pets/read"]);
    let proxy_id = made["proxyIntegrationId"].as_str().unwrap_or_default();
    assert_eq!(get_pet.integration_id, proxy_id);
    let post_pet = route("POST /pets");
    assert_eq!(post_pet.authorization_type, "CUSTOM");
    assert_eq!(route("$default").authorization_type, "NONE");

    let proxy = default
        .integrations
        .iter()
        .find(|i| i.id == proxy_id)
        .expect("the proxy integration");
    assert_eq!(proxy.integration_type, "HTTP_PROXY");
    assert_eq!(proxy.uri, format!("{BACKEND}pets/{{id}}"));
    assert_eq!(proxy.method, "GET");
    assert_eq!(proxy.payload_format_version, "1.0");
    assert_eq!(proxy.timeout_in_millis, 30_000);
    assert_eq!(proxy.request_parameters["append:header.x-from"], "gateway");
    assert_eq!(
        proxy.request_parameters["overwrite:querystring.id"],
        "$request.path.id"
    );
    assert_eq!(
        proxy.response_parameters["404"].entries["overwrite:statuscode"],
        "204"
    );
    assert_eq!(proxy.server_name_to_verify, "backend.example.com");
    let function = default
        .integrations
        .iter()
        .find(|i| i.id == made["lambdaIntegrationId"].as_str().unwrap_or_default())
        .expect("the function integration");
    assert_eq!(function.integration_type, "AWS_PROXY");
    assert_eq!(function.payload_format_version, "2.0");
    assert_eq!(function.timeout_in_millis, 30_000);

    let jwt = default
        .authorizers
        .iter()
        .find(|a| a.authorizer_type == "JWT")
        .expect("the JWT authorizer");
    assert_eq!(jwt.jwt_issuer, "https://issuer.example.com");
    assert_eq!(jwt.jwt_audience, ["pets"]);
    assert_eq!(jwt.identity_source, ["$request.header.Authorization"]);
    let lambda_auth = default
        .authorizers
        .iter()
        .find(|a| a.authorizer_type == "REQUEST")
        .expect("the Lambda authorizer");
    assert_eq!(lambda_auth.payload_format_version, "2.0");
    assert!(lambda_auth.enable_simple_responses);
    assert_eq!(lambda_auth.result_ttl_in_seconds, 60);
    assert_eq!(
        lambda_auth.identity_source,
        ["$request.header.x-token", "$request.querystring.t"]
    );

    let cors = default.cors.as_ref().expect("the API's CORS configuration");
    assert_eq!(cors.allow_origins, ["https://www.example.com"]);
    assert_eq!(cors.allow_methods, ["GET", "POST"]);
    assert_eq!(cors.allow_headers, ["authorization", "content-type"]);
    assert_eq!(cors.expose_headers, ["x-trace"]);
    assert_eq!(cors.max_age, 300);
    assert!(cors.allow_credentials);
    assert!(!default.disable_execute_api_endpoint);
    assert!(default.default_throttle.is_none());
    assert!(default.access_log.is_none());
    assert!(default.last_updated_date > 1_700_000_000);

    // The named stage: its settings, and its own (older) deployment.
    let dev = stage(&update, api_id, "dev");
    assert_eq!(
        dev.deployment_id,
        made["devDeploymentId"].as_str().unwrap_or_default()
    );
    assert_eq!(dev.variables["color"], "green");
    let throttle = dev.default_throttle.expect("default throttle");
    assert_eq!((throttle.burst_limit, throttle.rate_limit), (100, 50.0));
    let per_route = dev.route_throttle["GET /pets/{id}"];
    assert_eq!((per_route.burst_limit, per_route.rate_limit), (5, 2.0));
    assert!(dev.detailed_metrics);
    assert_eq!(
        dev.route_detailed_metrics.get("GET /pets/{id}"),
        Some(&false)
    );
    let log = dev.access_log.as_ref().expect("access log settings");
    assert!(log.destination_arn.ends_with(":log-group:http"), "{log:?}");
    assert!(log.format.contains("$context.requestId"), "{log:?}");
    // Deployed before the ANY /docs route went away: it still has it.
    assert!(dev
        .routes
        .iter()
        .all(|r| r.route_key != "ANY /docs/{proxy+}"));

    // The Lambda quick create.
    let lambda = stage(&update, lambda_api, "$default");
    assert_eq!(lambda.routes.len(), 1);
    assert_eq!(lambda.routes[0].route_key, "GET /hello");
    assert_eq!(lambda.integrations[0].integration_type, "AWS_PROXY");
    assert_eq!(
        lambda.integrations[0].uri,
        "arn:aws:lambda:us-east-1:000000000000:function:http-echo"
    );
    assert_eq!(lambda.integrations[0].payload_format_version, "2.0");
    assert!(lambda.cors.is_none());

    // disableExecuteApiEndpoint and DeleteCorsConfiguration reach the stream at once
    // (auto-deploy).
    mgmt.call(
        "PATCH",
        &format!("/v2/apis/{lambda_api}"),
        Some(json!({"disableExecuteApiEndpoint": true,
                    "corsConfiguration": {"allowOrigins": ["*"]}})),
    )
    .await
    .ok();
    let update = update_where(&cp, "disableExecuteApiEndpoint", |u| {
        http_stages(u)
            .iter()
            .any(|s| s.api_id == lambda_api && s.disable_execute_api_endpoint)
    })
    .await;
    let lambda = stage(&update, lambda_api, "$default");
    assert_eq!(
        lambda.cors.as_ref().map(|c| c.allow_origins.clone()),
        Some(vec!["*".to_string()])
    );
    assert_eq!(lambda.cors.as_ref().map(|c| c.max_age), Some(-1));
    mgmt.delete(&format!("/v2/apis/{lambda_api}/cors"))
        .await
        .ok();
    update_where(&cp, "CORS deleted", |u| {
        http_stages(u)
            .iter()
            .any(|s| s.api_id == lambda_api && s.cors.is_none())
    })
    .await;

    // Deleting the API takes its stages off the stream.
    mgmt.delete(&format!("/v2/apis/{lambda_api}")).await.ok();
    update_where(&cp, "the deleted API's stage gone", |u| {
        http_stages(u).iter().all(|s| s.api_id != lambda_api)
            && http_stages(u).iter().any(|s| s.api_id == api_id)
    })
    .await;
}
