//! Lambda authorizers end to end (seed 000 "Protecting your API: Authorization"): a control
//! plane, two data-plane nodes and the `functions/` host running the `token-authorizer` and
//! `request-authorizer` examples; the management calls, every outcome of a TOKEN
//! authorizer, caching across nodes (counted by the function host), REQUEST identity
//! sources, `apiKeySource: AUTHORIZER`, and `$context.authorizer` in templates, header
//! mappings and the proxy event.

use std::time::Duration;

use apigw_e2e::invoke::{get, until_status};
use apigw_e2e::rest_api::{mock_method_with, text};
use apigw_e2e::{
    eventually, fresh_database, Backend, ControlPlane, DataPlane, FunctionsHost, Mgmt, RestApi,
};
use serde_json::{json, Value};

struct Env {
    functions: FunctionsHost,
    cp: ControlPlane,
    nodes: Vec<DataPlane>,
}

impl Env {
    async fn start() -> Self {
        let functions = FunctionsHost::start().await;
        let db = fresh_database().await.expect("a test database");
        let cp = ControlPlane::start_with_env(
            &db,
            apigw_e2e::free_port(),
            apigw_e2e::free_port(),
            &[("FUNCTIONS_URL", functions.url.clone())],
        )
        .await;
        let mut nodes = Vec::new();
        for i in 0..2 {
            let env = [
                ("FUNCTIONS_URL", functions.url.clone()),
                // Long enough for a cold Python function on a loaded machine, short enough
                // for the `slow` token to time out.
                ("AUTHORIZER_TIMEOUT_MS", "3000".to_string()),
            ];
            nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("az-node-{i}"), &env).await);
        }
        for node in &nodes {
            node.wait_ready().await;
        }
        Env {
            functions,
            cp,
            nodes,
        }
    }

    fn mgmt(&self) -> Mgmt {
        self.cp.mgmt()
    }
}

fn function_uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
         arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations"
    )
}

/// Creates a TOKEN authorizer on `api`; returns its id.
async fn token_authorizer(m: &Mgmt, api: &str, ttl: i64) -> String {
    let a = m
        .post(
            &format!("/restapis/{api}/authorizers"),
            json!({
                "name": "tokens",
                "type": "TOKEN",
                "authorizerUri": function_uri("token-authorizer"),
                "identitySource": "method.request.header.Authorization",
                "identityValidationExpression": "[A-Za-z][A-Za-z0-9:-]*",
                "authorizerResultTtlInSeconds": ttl,
            }),
        )
        .await
        .ok();
    text(&a["id"])
}

/// Puts `verb` on `resource` with `authorization` (CUSTOM + authorizer id, ...) and a MOCK
/// integration whose 200 response shows `$context.authorizer`.
async fn guarded_mock(api: &RestApi<'_>, resource: &str, verb: &str, method: Value) {
    let template = "{\"principal\": \"$context.authorizer.principalId\", \"user\": \"$context.authorizer.user\", \"level\": \"$context.authorizer.level\", \"tenant\": \"$context.authorizer.tenant\", \"team\": \"$context.authorizer.stageVariable\", \"type\": \"$context.authorizer.type\"}";
    mock_method_with(api.m, &api.id, resource, verb, method, template).await;
}

/// Waits until every node answers `path` (api, stage, path) with `want`.
async fn wait_status(env: &Env, path: (&str, &str, &str), headers: &[(&str, &str)], want: u16) {
    let urls: Vec<String> = env
        .nodes
        .iter()
        .map(|n| n.invoke_url(path.0, path.1, path.2))
        .collect();
    until_status(&urls, headers, want).await;
}

#[tokio::test]
async fn authorizer_management_calls() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-mgmt").await;
    let base = format!("/restapis/{}/authorizers", api.id);

    // Validation: the model's enum, then API Gateway's rules, each with a clear message.
    let bad = m
        .post(&base, json!({"name": "x", "type": "token"}))
        .await
        .err(400, "ValidationException");
    assert!(bad.contains("type"), "{bad}");
    let bad = m
        .post(
            &base,
            json!({"name": "x", "type": "TOKEN", "identitySource": "method.request.header.A"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("authorizerUri"), "{bad}");
    let bad = m
        .post(
            &base,
            json!({"name": "x", "type": "TOKEN", "authorizerUri": function_uri("token-authorizer"),
                   "identitySource": "method.request.querystring.t"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("method.request.header"), "{bad}");
    let bad = m
        .post(
            &base,
            json!({"name": "x", "type": "REQUEST", "authorizerUri": function_uri("request-authorizer"),
                   "identitySource": "method.request.body.x", "authorizerResultTtlInSeconds": 0}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("identity source"), "{bad}");
    let bad = m
        .post(
            &base,
            json!({"name": "x", "type": "TOKEN", "authorizerUri": function_uri("token-authorizer"),
                   "identitySource": "method.request.header.A", "authorizerResultTtlInSeconds": 4000}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("3600"), "{bad}");

    // Create / get / list: the TTL defaults to 300.
    let created = m
        .post(
            &base,
            json!({"name": "tokens", "type": "TOKEN", "authorizerUri": function_uri("token-authorizer"),
                   "identitySource": "method.request.header.Authorization"}),
        )
        .await
        .ok();
    let id = text(&created["id"]);
    assert_eq!(created["authorizerResultTtlInSeconds"], 300);
    assert_eq!(m.get(&format!("{base}/{id}")).await.ok()["name"], "tokens");
    let listed = m.get(&base).await.ok();
    assert_eq!(listed["item"].as_array().map(Vec::len), Some(1));
    m.post(
        &base,
        json!({"name": "tokens", "type": "TOKEN", "authorizerUri": function_uri("token-authorizer"),
               "identitySource": "method.request.header.Authorization"}),
    )
    .await
    .err(409, "ConflictException");

    // Update: every documented path.
    let updated = m
        .patch(
            &format!("{base}/{id}"),
            json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/identitySource", "value": "method.request.header.X-Token"},
                {"op": "replace", "path": "/identityValidationExpression", "value": "^ok$"},
                {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "60"},
                {"op": "replace", "path": "/authType", "value": "custom"},
            ]),
        )
        .await
        .ok();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["identitySource"], "method.request.header.X-Token");
    assert_eq!(updated["authorizerResultTtlInSeconds"], 60);
    m.patch(
        &format!("{base}/{id}"),
        json!([{"op": "replace", "path": "/identityValidationExpression", "value": "("}]),
    )
    .await
    .err(400, "BadRequestException");

    // Methods: CUSTOM needs an authorizer of a Lambda type, COGNITO_USER_POOLS a Cognito one.
    let res = api.resource(&api.root, "pets").await;
    let path = api.method_path(&res, "GET");
    let bad = m
        .put(
            &path,
            json!({"authorizationType": "CUSTOM", "authorizerId": "nope00"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("nope00"), "{bad}");
    m.put(
        &path,
        json!({"authorizationType": "COGNITO_USER_POOLS", "authorizerId": id}),
    )
    .await
    .err(400, "BadRequestException");
    let method = m
        .put(
            &path,
            json!({"authorizationType": "custom", "authorizerId": id}),
        )
        .await
        .ok();
    assert_eq!(method["authorizationType"], "CUSTOM");

    // GetExport with the authorizers extension: the authorizer as a security scheme, and
    // the method's security naming it.
    m.put(
        &format!("{path}/integration"),
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await
    .ok();
    api.deploy("prod", json!({})).await;
    let exported = m
        .get_raw(
            &format!(
                "/restapis/{}/stages/prod/exports/oas30?extensions=authorizers",
                api.id
            ),
            Some("application/json"),
        )
        .await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    let doc: Value = serde_json::from_str(&exported.text).expect("an OpenAPI document");
    let scheme = &doc["components"]["securitySchemes"]["renamed"];
    assert_eq!(scheme["x-amazon-apigateway-authtype"], "custom", "{doc}");
    assert_eq!(scheme["name"], "X-Token");
    assert_eq!(scheme["x-amazon-apigateway-authorizer"]["type"], "token");
    assert_eq!(
        scheme["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"],
        60
    );
    assert_eq!(
        doc["paths"]["/pets"]["get"]["security"],
        json!([{"renamed": []}])
    );

    // Delete: refused while a method uses it, then accepted.
    let refused = m
        .delete(&format!("{base}/{id}"))
        .await
        .err(409, "ConflictException");
    assert!(refused.contains("GET /pets"), "{refused}");
    m.patch(
        &path,
        json!([{"op": "replace", "path": "/authorizationType", "value": "NONE"}]),
    )
    .await
    .ok();
    m.delete(&format!("{base}/{id}")).await.ok();
    m.get(&format!("{base}/{id}"))
        .await
        .err(404, "NotFoundException");
}

#[tokio::test]
async fn token_authorizer_outcomes() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-token").await;
    let authorizer = token_authorizer(&m, &api.id, 0).await;
    let res = api.resource(&api.root, "pets").await;
    guarded_mock(
        &api,
        &res,
        "GET",
        json!({"authorizationType": "CUSTOM", "authorizerId": authorizer}),
    )
    .await;
    api.deploy("prod", json!({})).await;
    wait_status(
        &env,
        (&api.id, "prod", "/pets"),
        &[("authorization", "allow")],
        200,
    )
    .await;
    let url = env.nodes[1].invoke_url(&api.id, "prod", "/pets");
    let calls = || env.functions.invocations("token-authorizer");

    // Allow: the context reaches the template.
    let ok = get(&url, &[("authorization", "allow")]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["principal"], "user-allow");
    assert_eq!(ok.json()["user"], "ann");
    assert_eq!(ok.json()["level"], "3");

    // No token, an empty one, or one failing the validation expression: 401, no call.
    let before = calls().await;
    for headers in [
        vec![],
        vec![("authorization", "")],
        vec![("authorization", "Not Valid!")],
    ] {
        let got = get(&url, &headers).await;
        assert_eq!(got.status, 401, "{headers:?}: {}", got.body);
        assert_eq!(got.json()["message"], "Unauthorized");
        assert_eq!(got.header("x-amzn-errortype"), "UnauthorizedException");
    }
    assert_eq!(
        calls().await,
        before,
        "invalid tokens never reach the function"
    );

    // Deny: 403 with AWS's words; "Unauthorized" from the function: 401.
    let denied = get(&url, &[("authorization", "deny")]).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json()["message"],
        "User is not authorized to access this resource"
    );
    assert_eq!(denied.header("x-amzn-errortype"), "AccessDeniedException");
    assert_eq!(
        get(&url, &[("authorization", "unauthorized")]).await.status,
        401
    );

    // A malformed answer: 500 AUTHORIZER_CONFIGURATION_ERROR; a failing function: 500
    // AUTHORIZER_FAILURE.
    let malformed = get(&url, &[("authorization", "malformed")]).await;
    assert_eq!(malformed.status, 500);
    assert_eq!(
        malformed.header("x-amzn-errortype"),
        "AuthorizerConfigurationException"
    );
    let failed = get(&url, &[("authorization", "fail")]).await;
    assert_eq!(failed.status, 500);
    assert_eq!(
        failed.header("x-amzn-errortype"),
        "AuthorizerFailureException"
    );
    // TTL 0: every request asked the function.
    assert_eq!(calls().await, before + 4);
    // Slower than the node's authorizer timeout: 500 AUTHORIZER_FAILURE.
    let slow = get(&url, &[("authorization", "slow")]).await;
    assert_eq!(slow.status, 500, "{}", slow.body);
    assert_eq!(
        slow.header("x-amzn-errortype"),
        "AuthorizerFailureException"
    );

    // TestInvokeMethod bypasses authorization, as API Gateway's does.
    let tested = m.post(&api.method_path(&res, "GET"), json!({})).await.ok();
    assert_eq!(tested["status"], 200, "{tested}");
    // TestInvokeAuthorizer: what the function answered, or the status a client would get.
    let test_path = format!("/restapis/{}/authorizers/{authorizer}", api.id);
    let tested = m
        .post(&test_path, json!({"headers": {"Authorization": "allow"}}))
        .await
        .ok();
    assert_eq!(tested["clientStatus"], 0, "{tested}");
    assert_eq!(tested["principalId"], "user-allow");
    let policy: Value = serde_json::from_str(tested["policy"].as_str().unwrap_or("null"))
        .expect("the policy as JSON text");
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    assert!(
        tested["log"].as_str().is_some_and(|l| l.contains("tokens")),
        "{tested}"
    );
    for (token, status) in [
        ("unauthorized", 401),
        ("malformed", 500),
        ("Not Valid!", 401),
    ] {
        let tested = m
            .post(&test_path, json!({"headers": {"Authorization": token}}))
            .await
            .ok();
        assert_eq!(tested["clientStatus"], status, "{token}: {tested}");
    }
}

#[tokio::test]
async fn cached_decisions_are_shared_by_nodes_and_judged_per_method() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-cache").await;
    let authorizer = token_authorizer(&m, &api.id, 300).await;
    let custom = json!({"authorizationType": "CUSTOM", "authorizerId": authorizer});
    let pets = api.resource(&api.root, "pets").await;
    let owners = api.resource(&api.root, "owners").await;
    guarded_mock(&api, &pets, "GET", custom.clone()).await;
    guarded_mock(&api, &owners, "GET", custom).await;
    api.deploy("prod", json!({})).await;
    // Wait with a token nothing else uses, so the counts below start clean.
    wait_status(
        &env,
        (&api.id, "prod", "/pets"),
        &[("authorization", "allow-all")],
        200,
    )
    .await;
    let calls = || env.functions.invocations("token-authorizer");
    let before = calls().await;

    // One call for the token, whichever node asks, however often.
    let token = [("authorization", "allow-pets")];
    for node in [0, 1, 0, 1] {
        let got = get(
            &env.nodes[node].invoke_url(&api.id, "prod", "/pets"),
            &token,
        )
        .await;
        assert_eq!(got.status, 200, "node {node}: {}", got.body);
    }
    assert_eq!(
        calls().await,
        before + 1,
        "the decision is cached cluster-wide"
    );

    // The cached policy allows only GET /pets: GET /owners with the same token is denied,
    // without asking the function again.
    for node in [0, 1] {
        let got = get(
            &env.nodes[node].invoke_url(&api.id, "prod", "/owners"),
            &token,
        )
        .await;
        assert_eq!(got.status, 403, "node {node}: {}", got.body);
    }
    assert_eq!(calls().await, before + 1);

    // FlushStageAuthorizersCache: every node asks again (once).
    m.delete(&format!(
        "/restapis/{}/stages/prod/cache/authorizers",
        api.id
    ))
    .await
    .ok();
    m.delete(&format!(
        "/restapis/{}/stages/nope/cache/authorizers",
        api.id
    ))
    .await
    .err(404, "NotFoundException");
    let url0 = env.nodes[0].invoke_url(&api.id, "prod", "/pets");
    eventually(
        "the flush reached the nodes",
        Duration::from_secs(20),
        || async {
            get(&url0, &token).await;
            (calls().await > before + 1).then_some(())
        },
    )
    .await;
    let after_flush = calls().await;
    for node in [0, 1] {
        let got = get(
            &env.nodes[node].invoke_url(&api.id, "prod", "/pets"),
            &token,
        )
        .await;
        assert_eq!(got.status, 200);
    }
    assert!(
        calls().await <= after_flush + 1,
        "at most one more call after the flush"
    );
}

#[tokio::test]
async fn request_authorizer_sources_and_event() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-request").await;
    let authorizer = m
        .post(
            &format!("/restapis/{}/authorizers", api.id),
            json!({
                "name": "requests",
                "type": "REQUEST",
                "authorizerUri": function_uri("request-authorizer"),
                "identitySource": "method.request.header.X-User, method.request.querystring.tenant, stageVariables.team",
                "authorizerResultTtlInSeconds": 300,
            }),
        )
        .await
        .ok();
    let res = api.resource(&api.root, "pets").await;
    guarded_mock(
        &api,
        &res,
        "GET",
        json!({"authorizationType": "CUSTOM", "authorizerId": text(&authorizer["id"])}),
    )
    .await;
    // The same function uncached (TTL 0): no source is required, the function decides.
    let uncached = m
        .post(
            &format!("/restapis/{}/authorizers", api.id),
            json!({
                "name": "uncached",
                "type": "REQUEST",
                "authorizerUri": function_uri("request-authorizer"),
                "identitySource": "method.request.header.X-User",
                "authorizerResultTtlInSeconds": 0,
            }),
        )
        .await
        .ok();
    let owners = api.resource(&api.root, "owners").await;
    guarded_mock(
        &api,
        &owners,
        "GET",
        json!({"authorizationType": "CUSTOM", "authorizerId": text(&uncached["id"])}),
    )
    .await;
    api.deploy("prod", json!({"team": "blue"})).await;
    let ok_headers = [("x-user", "bob")];
    wait_status(
        &env,
        (&api.id, "prod", "/pets?tenant=acme"),
        &ok_headers,
        200,
    )
    .await;
    let calls = || env.functions.invocations("request-authorizer");
    let before = calls().await;

    // A source missing: 401 without a call.
    let url = |q: &str| env.nodes[0].invoke_url(&api.id, "prod", &format!("/pets{q}"));
    assert_eq!(get(&url(""), &ok_headers).await.status, 401);
    assert_eq!(get(&url("?tenant=acme"), &[]).await.status, 401);
    assert_eq!(calls().await, before);

    // The function saw the REQUEST event: type, resource, stage variables, query.
    let got = get(&url("?tenant=other"), &ok_headers).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let body = got.json();
    assert_eq!(body["principal"], "bob");
    assert_eq!(body["tenant"], "other");
    assert_eq!(body["type"], "REQUEST");
    assert_eq!(body["team"], "blue");
    assert_eq!(calls().await, before + 1);
    // Cached on the combination of the sources' values: another tenant asks again.
    assert_eq!(get(&url("?tenant=blocked"), &ok_headers).await.status, 403);
    assert_eq!(get(&url("?tenant=other"), &ok_headers).await.status, 200);
    assert_eq!(calls().await, before + 2);

    // TTL 0: a request without the source still reaches the function (which denies it).
    let owners_url = env.nodes[1].invoke_url(&api.id, "prod", "/owners?tenant=acme");
    assert_eq!(get(&owners_url, &[]).await.status, 403);
    assert_eq!(get(&owners_url, &ok_headers).await.status, 200);
    assert_eq!(calls().await, before + 4);
}

#[tokio::test]
async fn authorizer_context_reaches_mappings_proxy_events_and_usage() {
    let env = Env::start().await;
    let backend = Backend::start("authz").await;
    let m = env.mgmt();
    let api =
        RestApi::create_with(&m, "authz-context", json!({"apiKeySource": "AUTHORIZER"})).await;
    let authorizer = token_authorizer(&m, &api.id, 300).await;
    let custom = json!({"authorizationType": "CUSTOM", "authorizerId": authorizer});

    // HTTP_PROXY with a header mapping from the authorizer's context.
    let echo = api.resource(&api.root, "echo").await;
    let path = api.method_path(&echo, "GET");
    m.put(&path, custom.clone()).await.ok();
    m.put(
        &format!("{path}/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/echo", backend.url()),
               "requestParameters": {
                   "integration.request.header.x-principal": "context.authorizer.principalId",
                   "integration.request.header.x-user": "context.authorizer.user"}}),
    )
    .await
    .ok();
    // AWS_PROXY: the proxy event's requestContext.authorizer.
    let proxy = api.resource(&api.root, "proxy").await;
    let path = api.method_path(&proxy, "GET");
    m.put(&path, custom.clone()).await.ok();
    m.put(
        &format!("{path}/integration"),
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await
    .ok();
    // A metered method: the key comes from the authorizer's usageIdentifierKey.
    let metered = api.resource(&api.root, "metered").await;
    let mut method = custom.clone();
    method["apiKeyRequired"] = json!(true);
    guarded_mock(&api, &metered, "GET", method).await;
    api.deploy("prod", json!({})).await;

    let key = m
        .post(
            "/apikeys",
            json!({"name": "from-authorizer", "enabled": true}),
        )
        .await
        .ok();
    let other = m
        .post("/apikeys", json!({"name": "other", "enabled": true}))
        .await
        .ok();
    let plan = m
        .post(
            "/usageplans",
            json!({"name": "authz-plan", "apiStages": [{"apiId": api.id, "stage": "prod"}]}),
        )
        .await
        .ok();
    let plan_id = text(&plan["id"]);
    for k in [&key, &other] {
        m.post(
            &format!("/usageplans/{plan_id}/keys"),
            json!({"keyId": text(&k["id"]), "keyType": "API_KEY"}),
        )
        .await
        .ok();
    }

    wait_status(
        &env,
        (&api.id, "prod", "/echo"),
        &[("authorization", "allow-all")],
        200,
    )
    .await;
    let url = |p: &str| env.nodes[0].invoke_url(&api.id, "prod", p);
    let echoed = get(&url("/echo"), &[("authorization", "allow-all")])
        .await
        .json();
    assert_eq!(
        echoed["headers"]["x-principal"], "user-allow-all",
        "{echoed}"
    );
    assert_eq!(echoed["headers"]["x-user"], "ann", "{echoed}");

    let event = get(&url("/proxy"), &[("authorization", "allow-all")])
        .await
        .json();
    let context = &event["requestContext"]["authorizer"];
    assert_eq!(context["principalId"], "user-allow-all", "{event}");
    assert_eq!(context["user"], "ann");
    assert_eq!(context["admin"], true);

    // apiKeySource AUTHORIZER: metered on the key the authorizer named, not on x-api-key.
    let token = format!("key:{}", text(&key["value"]));
    let other_value = text(&other["value"]);
    for _ in 0..3 {
        let got = get(
            &url("/metered"),
            &[
                ("authorization", token.as_str()),
                ("x-api-key", other_value.as_str()),
            ],
        )
        .await;
        assert_eq!(got.status, 200, "{}", got.body);
    }
    // No usageIdentifierKey: 403 Forbidden, as for a missing key.
    assert_eq!(
        get(&url("/metered"), &[("authorization", "allow-all")])
            .await
            .status,
        403
    );
    let day = time::OffsetDateTime::now_utc().date();
    let d = format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    let usage = m
        .get(&format!(
            "/usageplans/{plan_id}/usage?startDate={d}&endDate={d}"
        ))
        .await
        .ok();
    let used = |k: &Value| usage["values"][text(&k["id"])][0][0].as_i64().unwrap_or(0);
    assert_eq!(used(&key), 3, "{usage}");
    assert_eq!(used(&other), 0, "{usage}");
}

#[tokio::test]
async fn customised_unauthorized_response_carries_cors_headers() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-cors").await;
    let authorizer = token_authorizer(&m, &api.id, 0).await;
    let res = api.resource(&api.root, "pets").await;
    guarded_mock(
        &api,
        &res,
        "GET",
        json!({"authorizationType": "CUSTOM", "authorizerId": authorizer}),
    )
    .await;
    m.put(
        &format!("/restapis/{}/gatewayresponses/UNAUTHORIZED", api.id),
        json!({"responseParameters": {
            "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
            "gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
            "responseTemplates": {"application/json": "{\"message\": $context.error.messageString, \"hint\": \"send a token\"}"}}),
    )
    .await
    .ok();
    api.deploy("prod", json!({})).await;
    wait_status(&env, (&api.id, "prod", "/pets"), &[], 401).await;
    let got = get(&env.nodes[0].invoke_url(&api.id, "prod", "/pets"), &[]).await;
    assert_eq!(got.status, 401);
    assert_eq!(got.header("access-control-allow-origin"), "*");
    assert_eq!(got.header("www-authenticate"), "Bearer");
    assert_eq!(got.json()["hint"], "send a token");
    assert_eq!(got.json()["message"], "Unauthorized");
}
