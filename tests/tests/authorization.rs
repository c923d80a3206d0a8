//! COGNITO_USER_POOLS (JWT) authorizers, AWS_IAM and resource policies end to end: a
//! control plane, two data-plane nodes, and a local OIDC issuer whose RS256 and ES256 keys
//! the test generates (`apigw_e2e::oidc`). Invoke requests for AWS_IAM methods are signed
//! with SigV4 (service `execute-api`) by the control plane's bootstrap access key.

use std::time::Duration;

use apigw_e2e::invoke::{get, send, until_status};
use apigw_e2e::oidc::{now, Issuer, Key};
use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::rest_api::{mock_method_with, text};
use apigw_e2e::{eventually, fresh_database, ControlPlane, DataPlane, Mgmt, RestApi};
use serde_json::{json, Value};

struct Env {
    cp: ControlPlane,
    nodes: Vec<DataPlane>,
}

impl Env {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// An environment whose nodes get `node_env` too.
    async fn start_with(node_env: &[(&str, String)]) -> Self {
        let db = fresh_database().await.expect("a test database");
        let cp = ControlPlane::start(&db).await;
        let mut nodes = Vec::new();
        for i in 0..2 {
            let id = format!("authz-node-{i}");
            nodes.push(DataPlane::start_env(&cp.grpc_url(), &id, node_env).await);
        }
        for node in &nodes {
            node.wait_ready().await;
        }
        Env { cp, nodes }
    }

    fn mgmt(&self) -> Mgmt {
        self.cp.mgmt()
    }
}

/// Puts `verb` on `resource` with `method` (authorization settings) and a MOCK integration
/// whose 200 response renders `template`.
async fn mock(api: &RestApi<'_>, resource: &str, verb: &str, method: Value, template: &str) {
    mock_method_with(api.m, &api.id, resource, verb, method, template).await;
}

/// Waits until every node answers `path` of stage prod with `want`.
async fn wait_status(env: &Env, api: &str, path: &str, headers: &[(&str, &str)], want: u16) {
    let urls: Vec<String> = env
        .nodes
        .iter()
        .map(|n| n.invoke_url(api, "prod", path))
        .collect();
    until_status(&urls, headers, want).await;
}

/// Claims of a token for client `client-1` from `issuer`, valid for a minute.
fn id_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer, "sub": "user-1", "aud": "client-1", "token_use": "id",
        "email": "ann@example.com", "iat": now(), "exp": now() + 60,
    })
}

#[tokio::test]
async fn cognito_authorizer_verifies_tokens_against_the_issuer() {
    let rsa = Key::rsa("rsa-1");
    let ec = Key::ec("ec-1");
    let issuer = Issuer::start(vec![rsa.clone(), ec.clone()]).await;
    // A user-pool ARN the nodes map to the local issuer (`--oidc-issuer ARN=URL`).
    let pool_arn = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_Local";
    let env = Env::start_with(&[("OIDC_ISSUERS", format!("{pool_arn}={}", issuer.url))]).await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-jwt").await;
    let bad = m
        .post(
            &format!("/restapis/{}/authorizers", api.id),
            json!({"name": "pool", "type": "COGNITO_USER_POOLS", "providerARNs": ["http://example.com/pool"],
                   "identitySource": "method.request.header.Authorization"}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("providerARNs"), "{bad}");
    let authorizer = m
        .post(
            &format!("/restapis/{}/authorizers", api.id),
            json!({"name": "pool", "type": "COGNITO_USER_POOLS", "providerARNs": [issuer.url],
                   "identitySource": "method.request.header.Authorization",
                   "identityValidationExpression": "client-1"}),
        )
        .await
        .ok();
    let id = text(&authorizer["id"]);
    let pets = api.resource(&api.root, "pets").await;
    mock(
        &api,
        &pets,
        "GET",
        json!({"authorizationType": "COGNITO_USER_POOLS", "authorizerId": id}),
        "{\"sub\": \"$context.authorizer.claims.sub\", \"email\": \"$context.authorizer.claims.email\"}",
    )
    .await;
    let admin = api.resource(&api.root, "admin").await;
    mock(
        &api,
        &admin,
        "GET",
        json!({"authorizationType": "COGNITO_USER_POOLS", "authorizerId": id,
               "authorizationScopes": ["pets/admin", "pets/write"]}),
        "{\"ok\": true}",
    )
    .await;
    // The same issuer named by a Cognito user-pool ARN, resolved by the nodes' mapping.
    let by_arn = m
        .post(
            &format!("/restapis/{}/authorizers", api.id),
            json!({"name": "pool-arn", "type": "COGNITO_USER_POOLS", "providerARNs": [pool_arn],
                   "identitySource": "method.request.header.Authorization"}),
        )
        .await
        .ok();
    let pool = api.resource(&api.root, "pool").await;
    mock(
        &api,
        &pool,
        "GET",
        json!({"authorizationType": "COGNITO_USER_POOLS", "authorizerId": text(&by_arn["id"])}),
        "{\"sub\": \"$context.authorizer.claims.sub\"}",
    )
    .await;
    api.deploy("prod", json!({})).await;

    let good = rsa.sign(&id_claims(&issuer.url));
    wait_status(&env, &api.id, "/pool", &[("authorization", &good)], 200).await;
    wait_status(&env, &api.id, "/pets", &[("authorization", &good)], 200).await;
    let url = |node: usize, path: &str| env.nodes[node].invoke_url(&api.id, "prod", path);

    // RS256 and ES256, raw or with "Bearer ": the claims reach the template.
    let got = get(&url(0, "/pets"), &[("authorization", &good)]).await;
    assert_eq!(got.json()["email"], "ann@example.com", "{}", got.body);
    assert_eq!(got.json()["sub"], "user-1");
    let es = ec.sign(&id_claims(&issuer.url));
    let bearer = format!("Bearer {es}");
    assert_eq!(
        get(&url(1, "/pets"), &[("authorization", &bearer)])
            .await
            .status,
        200
    );

    // Expired, wrong issuer, wrong audience, garbage, none: 401.
    let mut expired = id_claims(&issuer.url);
    expired["exp"] = json!(now() - 600);
    let mut other_issuer = id_claims(&issuer.url);
    other_issuer["iss"] = json!("http://127.0.0.1:1/elsewhere");
    let mut other_client = id_claims(&issuer.url);
    other_client["aud"] = json!("client-2");
    for (what, token) in [
        ("expired", rsa.sign(&expired)),
        ("wrong issuer", rsa.sign(&other_issuer)),
        ("wrong audience", rsa.sign(&other_client)),
        ("garbage", "not.a.token".to_string()),
    ] {
        let got = get(&url(0, "/pets"), &[("authorization", &token)]).await;
        assert_eq!(got.status, 401, "{what}: {}", got.body);
        assert_eq!(got.json()["message"], "Unauthorized");
    }
    assert_eq!(get(&url(0, "/pets"), &[]).await.status, 401);

    // Scopes: an access token (client_id, scope) needs one of the method's scopes.
    let access = |scope: &str| {
        ec.sign(&json!({
            "iss": issuer.url, "sub": "svc", "client_id": "client-1", "token_use": "access",
            "scope": scope, "exp": now() + 60,
        }))
    };
    assert_eq!(
        get(
            &url(0, "/admin"),
            &[("authorization", &access("pets/read pets/write"))]
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(
            &url(0, "/admin"),
            &[("authorization", &access("pets/read"))]
        )
        .await
        .status,
        401
    );

    // Key rotation: a token signed by a new key verifies once the issuer publishes it, and a
    // flood of unknown kids costs at most one key-set fetch per node per interval.
    let fetches = issuer.fetches();
    for i in 0..20 {
        let bogus = Key::ec(&format!("bogus-{i}")).sign(&id_claims(&issuer.url));
        assert_eq!(
            get(&url(i % 2, "/pets"), &[("authorization", &bogus)])
                .await
                .status,
            401
        );
    }
    assert!(
        issuer.fetches() <= fetches + 2,
        "unknown kids refetch at most once per node per interval ({} fetches)",
        issuer.fetches() - fetches
    );
    let rotated = Key::ec("ec-2");
    issuer.publish(vec![rsa.clone(), rotated.clone()]);
    let fresh = rotated.sign(&id_claims(&issuer.url));
    for node in 0..2 {
        eventually(
            "the rotated key is accepted",
            Duration::from_secs(30),
            || async {
                (get(&url(node, "/pets"), &[("authorization", &fresh)])
                    .await
                    .status
                    == 200)
                    .then_some(())
            },
        )
        .await;
    }

    // TestInvokeAuthorizer reports the claims.
    let tested = m
        .post(
            &format!("/restapis/{}/authorizers/{id}", api.id),
            json!({"headers": {"Authorization": good}}),
        )
        .await
        .ok();
    assert_eq!(tested["clientStatus"], 0, "{tested}");
    assert_eq!(tested["claims"]["email"], "ann@example.com");
    let tested = m
        .post(
            &format!("/restapis/{}/authorizers/{id}", api.id),
            json!({"headers": {"Authorization": "nope"}}),
        )
        .await
        .ok();
    assert_eq!(tested["clientStatus"], 401, "{tested}");
}

/// SigV4 headers for a request to `url` signed for `execute-api` at `time`.
fn signed(
    method: &str,
    url: &str,
    body: &str,
    secret: &str,
    time: time::OffsetDateTime,
) -> Vec<(String, String)> {
    let secret = apigw_sigv4::SecretKey::new(secret);
    let params = apigw_sigv4::SigningParams {
        access_key_id: ACCESS_KEY_ID,
        secret: &secret,
        security_token: None,
        region: "us-east-1",
        service: "execute-api",
        time,
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    let out = apigw_sigv4::sign(method, url, &headers, body.as_bytes(), &params).expect("signing");
    out.headers()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain([("content-type".to_string(), "application/json".to_string())])
        .collect()
}

#[tokio::test]
async fn aws_iam_methods_verify_sigv4_and_resource_policies_decide() {
    let env = Env::start().await;
    let m = env.mgmt();
    let api = RestApi::create(&m, "authz-iam").await;
    let iam = json!({"authorizationType": "AWS_IAM"});
    let identity = "{\"arn\": \"$context.identity.userArn\", \"key\": \"$context.identity.accessKey\", \"caller\": \"$context.identity.caller\"}";
    let pets = api.resource(&api.root, "pets").await;
    mock(&api, &pets, "GET", iam.clone(), identity).await;
    mock(&api, &pets, "POST", iam.clone(), identity).await;
    let secret = api.resource(&api.root, "secret").await;
    mock(&api, &secret, "GET", iam, identity).await;
    let open = api.resource(&api.root, "open").await;
    mock(
        &api,
        &open,
        "GET",
        json!({"authorizationType": "NONE"}),
        "{\"open\": true}",
    )
    .await;
    api.deploy("prod", json!({})).await;
    wait_status(&env, &api.id, "/open", &[], 200).await;
    let url = |node: usize, path: &str| env.nodes[node].invoke_url(&api.id, "prod", path);
    let now = time::OffsetDateTime::now_utc();

    // Signed by the bootstrap key: the caller reaches the template.
    let pets_url = url(0, "/pets");
    let got = send(
        "GET",
        &pets_url,
        &signed("GET", &pets_url, "", SECRET_ACCESS_KEY, now),
        "",
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["key"], ACCESS_KEY_ID);
    assert_eq!(got.json()["arn"], "arn:aws:iam::000000000000:root");
    assert_eq!(got.json()["caller"], "arn:aws:iam::000000000000:root");
    // The body is covered by the signature.
    let body = "{\"name\": \"rex\"}";
    let post_url = url(1, "/pets");
    let headers = signed("POST", &post_url, body, SECRET_ACCESS_KEY, now);
    assert_eq!(send("POST", &post_url, &headers, body).await.status, 200);
    let tampered = send("POST", &post_url, &headers, "{\"name\": \"max\"}").await;
    assert_eq!(tampered.status, 403, "{}", tampered.body);

    // Unsigned, wrong secret, expired: 403 with AWS's error types.
    let unsigned = get(&pets_url, &[]).await;
    assert_eq!(unsigned.status, 403);
    assert_eq!(
        unsigned.header("x-amzn-errortype"),
        "MissingAuthenticationTokenException"
    );
    let wrong = send(
        "GET",
        &pets_url,
        &signed("GET", &pets_url, "", "not-the-secret", now),
        "",
    )
    .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(
        wrong.header("x-amzn-errortype"),
        "InvalidSignatureException"
    );
    let old = now - time::Duration::minutes(10);
    let expired = send(
        "GET",
        &pets_url,
        &signed("GET", &pets_url, "", SECRET_ACCESS_KEY, old),
        "",
    )
    .await;
    assert_eq!(expired.status, 403);
    assert_eq!(
        expired.json()["message"],
        "Signature expired",
        "{}",
        expired.body
    );

    // A resource policy: everyone may invoke, except the root user on GET /secret.
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
             "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/secret"},
        ],
    });
    let bad = m
        .patch(
            &format!("/restapis/{}", api.id),
            json!([{"op": "replace", "path": "/policy", "value": "{\"Statement\": [{\"Effect\": \"Maybe\"}]}"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(bad.contains("Effect"), "{bad}");
    m.patch(
        &format!("/restapis/{}", api.id),
        json!([{"op": "replace", "path": "/policy", "value": policy.to_string()}]),
    )
    .await
    .ok();
    api.deploy("prod", json!({})).await;
    let secret_url = url(0, "/secret");
    eventually(
        "the policy is deployed",
        Duration::from_secs(20),
        || async {
            let now = time::OffsetDateTime::now_utc();
            let got = send(
                "GET",
                &secret_url,
                &signed("GET", &secret_url, "", SECRET_ACCESS_KEY, now),
                "",
            )
            .await;
            (got.status == 403).then_some(got)
        },
    )
    .await;
    let now = time::OffsetDateTime::now_utc();
    let denied = send(
        "GET",
        &secret_url,
        &signed("GET", &secret_url, "", SECRET_ACCESS_KEY, now),
        "",
    )
    .await;
    assert_eq!(denied.header("x-amzn-errortype"), "AccessDeniedException");
    assert!(
        denied.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("arn:aws:iam::000000000000:root is not authorized")),
        "{}",
        denied.body
    );
    assert_eq!(get(&url(1, "/open"), &[]).await.status, 200);

    // IP rules: a deny for our own address, then an allow-list without it, then with it.
    for (statements, want) in [
        (
            json!([
                {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
                {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
                 "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}},
            ]),
            403,
        ),
        (
            json!([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]),
            403,
        ),
        (
            json!([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
                    "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.1/32"]}}}]),
            200,
        ),
    ] {
        let policy = json!({"Version": "2012-10-17", "Statement": statements});
        m.patch(
            &format!("/restapis/{}", api.id),
            json!([{"op": "replace", "path": "/policy", "value": policy.to_string()}]),
        )
        .await
        .ok();
        api.deploy("prod", json!({})).await;
        wait_status(&env, &api.id, "/open", &[], want).await;
    }
}
