//! HTTP APIs (issue 20), end to end and written from AWS's documentation, not from the
//! implementation: each test starts a control plane, two data-plane nodes, the functions
//! host (`functions/examples/http-echo`, `http-shortcuts`, `http-simple-authorizer`), an
//! echo backend and, for JWTs, a local OIDC issuer; boto3's `apigatewayv2` client
//! (`tests/boto3/http_api.py`, one part per test) builds the APIs, then every assertion that
//! matters is made through each node, with the invoke Host `{apiId}.execute-api.localhost`
//! (no stage segment for the `$default` stage).
//!
//! The proof list: quick create and a call through `$default`; route precedence over AWS's
//! "Routing API requests" table; HTTP_PROXY with parameter mapping; AWS_PROXY with payload
//! 1.0 and 2.0 (events compared field by field with AWS's examples, the 2.0 response
//! shortcuts); JWT authorizer valid / expired / wrong audience / missing scope; Lambda
//! REQUEST authorizer with simple responses and caching; CORS preflight and headers;
//! auto-deploy making a route change live without CreateDeployment; OpenAPI import, reimport
//! and export.

use std::time::{Duration, Instant};

use apigw_e2e::oidc::{now, Issuer, Key};
use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::{eventually, fresh_database, Backend, ControlPlane, DataPlane, FunctionsHost};
use serde_json::{json, Value};

/// A control plane, two nodes, the functions host, an echo backend and (for JWT tests) an
/// OIDC issuer.
struct Env {
    functions: FunctionsHost,
    backend: Backend,
    issuer: Option<Issuer>,
    cp: ControlPlane,
    nodes: Vec<DataPlane>,
    region: String,
    /// The control plane's `APIGW_ACCOUNT_ID` (the script's ARNs use it).
    account: String,
}

impl Env {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    async fn start_with(issuer: Option<Issuer>) -> Self {
        Self::start_full(issuer, "us-east-1").await
    }

    /// A control plane configured for `region` (`APIGW_REGION`); boto3 signs for it.
    async fn start_in_region(region: &str) -> Self {
        Self::start_full(None, region).await
    }

    async fn start_full(issuer: Option<Issuer>, region: &str) -> Self {
        Self::start_all(issuer, region, &[]).await
    }

    /// `start_full` with extra environment for the functions host (its functions inherit it).
    async fn start_all(
        issuer: Option<Issuer>,
        region: &str,
        functions_env: &[(&str, String)],
    ) -> Self {
        Self::start_account(issuer, region, functions_env, "000000000000").await
    }

    /// `start_all` with the control plane's account id (`APIGW_ACCOUNT_ID`).
    async fn start_account(
        issuer: Option<Issuer>,
        region: &str,
        functions_env: &[(&str, String)],
        account: &str,
    ) -> Self {
        let functions = FunctionsHost::start_with_env(functions_env).await;
        let backend = Backend::start("http-backend").await;
        let db = fresh_database().await.expect("a test database");
        let cp = ControlPlane::start_with_env(
            &db,
            apigw_e2e::free_port(),
            apigw_e2e::free_port(),
            &[
                ("FUNCTIONS_URL", functions.url.clone()),
                ("APIGW_REGION", region.to_string()),
                ("APIGW_ACCOUNT_ID", account.to_string()),
            ],
        )
        .await;
        let mut nodes = Vec::new();
        for i in 0..2 {
            let mut env = vec![
                ("FUNCTIONS_URL", functions.url.clone()),
                // A cold Python function on a loaded machine.
                ("AUTHORIZER_TIMEOUT_MS", "5000".to_string()),
            ];
            if i == 0 {
                env.push(("DP_WORKER_THREADS", "1".to_string()));
            }
            nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("http-node-{i}"), &env).await);
        }
        for node in &nodes {
            node.wait_ready().await;
        }
        Env {
            functions,
            backend,
            issuer,
            cp,
            nodes,
            region: region.to_string(),
            account: account.to_string(),
        }
    }

    /// Runs `tests/boto3/http_api.py {args}`; answers its last stdout line.
    async fn boto3(&self, args: &[&str]) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/http_api.py");
        let mut cmd = tokio::process::Command::new("python3");
        cmd.arg(path)
            .args(args)
            .env("V2_ENDPOINT", self.cp.url())
            .env("V2_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("V2_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("BACKEND_URL", self.backend.url())
            .env("V2_REGION", &self.region)
            .env("V2_ACCOUNT_ID", &self.account);
        if let Some(issuer) = &self.issuer {
            cmd.env("ISSUER_URL", &issuer.url);
        }
        let out = cmd.output().await.expect("running python3");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "http_api.py {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .expect("the script's JSON line")
    }
}

/// The invoke Host of `api`.
fn host(api: &str) -> String {
    format!("{api}.execute-api.localhost")
}

/// A response as the tests look at it.
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A header's value (`""` when absent).
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Every value of a header.
    fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .collect()
    }

    /// What a test failure prints.
    fn show(&self) -> String {
        format!("{} {:?} {}", self.status, self.headers, self.text())
    }
}

/// Sends `method {path}` (path and query; with the stage segment unless `$default`) to
/// `node` for `api`, with `headers` (repeated names are sent as repeated headers).
async fn call(
    node: &DataPlane,
    api: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut request = client
        .request(
            method.parse().expect("method"),
            format!("{}{path}", node.base()),
        )
        .header("host", host(api));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", node.node_id));
    Resp {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// `GET path` without headers.
async fn get(node: &DataPlane, api: &str, path: &str) -> Resp {
    call(node, api, "GET", path, &[], "").await
}

/// Waits until `GET path` on every node answers `want` (the stage reached the nodes).
async fn until_served(env: &Env, api: &str, path: &str, want: u16) {
    for node in &env.nodes {
        eventually(
            &format!("{} serves GET {path} of {api} with {want}", node.node_id),
            Duration::from_secs(30),
            || async { (get(node, api, path).await.status == want).then_some(()) },
        )
        .await;
    }
}

/// AWS's HTTP API error body.
fn message(text: &str) -> Value {
    json!({ "message": text })
}

/// `requestContext.time` of both payload formats: `12/Mar/2020:19:03:58 +0000`.
fn is_clf_time(value: &Value) -> bool {
    let Some(s) = value.as_str() else {
        return false;
    };
    let b = s.as_bytes();
    b.len() == 26
        && b[2] == b'/'
        && b[6] == b'/'
        && b[11] == b':'
        && s.ends_with(" +0000")
        && s[..2].chars().all(|c| c.is_ascii_digit())
        && s[7..11].chars().all(|c| c.is_ascii_digit())
}

/// An epoch-milliseconds field taken between `before` and now.
fn is_epoch_ms_since(value: &Value, before: u64) -> bool {
    let now_ms = now() * 1000 + 1000;
    value
        .as_u64()
        .is_some_and(|t| t + 1000 >= before && t <= now_ms)
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// A JSON object's member, looked up without regard to case (payload 1.0 keeps the
/// client's header case; HTTP/1 clients may send any).
fn member_ci<'a>(object: &'a Value, name: &str) -> &'a Value {
    object
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .unwrap_or(&Value::Null)
}

// --- Quick create --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_create_serves_through_the_default_stage() {
    let env = Env::start().await;
    let made = env.boto3(&["quick"]).await;
    let api = made["apiId"].as_str().expect("apiId");
    let fn_api = made["fnApiId"].as_str().expect("fnApiId");
    // The Lambda quick create with a route key: only that route exists.
    until_served(&env, fn_api, "/shortcut/string", 200).await;
    for node in &env.nodes {
        let got = get(node, fn_api, "/shortcut/string").await;
        assert_eq!(got.status, 200, "{}", got.show());
        assert_eq!(got.text(), "Hello from Lambda!");
        let other = call(node, fn_api, "POST", "/shortcut/string", &[], "").await;
        assert_eq!(other.status, 404, "{}", other.show());
        assert_eq!(other.json(), message("Not Found"));
        let missing = get(node, fn_api, "/elsewhere").await;
        assert_eq!(missing.status, 404, "{}", missing.show());
        assert_eq!(missing.json(), message("Not Found"));
    }

    until_served(&env, api, "/anything/deep?x=1&y=2", 200).await;
    for node in &env.nodes {
        // The `$default` route of an HTTP_PROXY quick create forwards the method, the query
        // string and the body (the path: `default_route_sends_the_full_request_path_…`).
        let got = get(node, api, "/anything/deep?x=1&y=2").await;
        assert_eq!(got.status, 200, "{}", got.show());
        let echo = got.json();
        assert_eq!(echo["backend"], "http-backend", "{}", got.show());
        assert_eq!(echo["method"], "GET");
        assert_eq!(echo["query"], "x=1&y=2", "{echo}");
        let posted = call(node, api, "POST", "/store/checkout", &[], "hello").await;
        assert_eq!(posted.status, 200, "{}", posted.show());
        assert_eq!(posted.json()["method"], "POST");
        assert_eq!(posted.json()["body"], "hello");
        let deleted = call(node, api, "DELETE", "/", &[], "").await;
        assert_eq!(deleted.json()["method"], "DELETE", "{}", deleted.show());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_route_sends_the_full_request_path_to_an_http_proxy() {
    let env = Env::start().await;
    let made = env.boto3(&["quick"]).await;
    let api = made["apiId"].as_str().expect("apiId");
    until_served(&env, api, "/anything/deep?x=1&y=2", 200).await;
    for node in &env.nodes {
        // AWS: "When the $default route receives a request, API Gateway sends the full
        // request path to the integration": `/store/checkout` → `{target}/store/checkout`.
        let got = get(node, api, "/anything/deep?x=1&y=2").await;
        assert_eq!(got.json()["path"], "/anything/deep", "{}", got.show());
        assert_eq!(got.json()["query"], "x=1&y=2", "{}", got.show());
        let posted = call(node, api, "POST", "/store/checkout", &[], "hello").await;
        assert_eq!(
            posted.json()["path"],
            "/store/checkout",
            "{}",
            posted.show()
        );
        let root = get(node, api, "/").await;
        assert_eq!(root.json()["path"], "/", "{}", root.show());
    }
}

// --- Route precedence and auto-deploy ------------------------------------------------------

/// The route key the echo function's 2.0 event names for `method path` on `node`.
async fn chosen_route(node: &DataPlane, api: &str, method: &str, path: &str) -> (Resp, Value) {
    let got = call(node, api, method, path, &[], "").await;
    let event = got.json();
    (got, event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_follow_aws_precedence_and_auto_deploy_makes_changes_live() {
    let env = Env::start().await;
    let made = env.boto3(&["routes"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/pets/dog/1", 200).await;

    // AWS's "Routing API requests" example (routes GET /pets/dog/1, GET /pets/dog/{id},
    // GET /pets/{proxy+}, ANY /{proxy+}, $default), and method precedence on one path
    // (GET /toys/{id} before ANY /toys/{id}). The greedy variable catches child resources:
    // `/` itself falls to `$default`.
    let table: &[(&str, &str, &str, Value)] = &[
        ("GET", "/pets/dog/1", "GET /pets/dog/1", Value::Null),
        (
            "GET",
            "/pets/dog/2",
            "GET /pets/dog/{id}",
            json!({"id": "2"}),
        ),
        (
            "GET",
            "/pets/cat/1",
            "GET /pets/{proxy+}",
            json!({"proxy": "cat/1"}),
        ),
        (
            "POST",
            "/pets/cat/53",
            "ANY /{proxy+}",
            json!({"proxy": "pets/cat/53"}),
        ),
        (
            "POST",
            "/pets/dog/1",
            "ANY /{proxy+}",
            json!({"proxy": "pets/dog/1"}),
        ),
        ("GET", "/toys/7", "GET /toys/{id}", json!({"id": "7"})),
        ("DELETE", "/toys/7", "ANY /toys/{id}", json!({"id": "7"})),
        ("PATCH", "/toys/7", "ANY /toys/{id}", json!({"id": "7"})),
        ("GET", "/fresh", "ANY /{proxy+}", json!({"proxy": "fresh"})),
        ("GET", "/", "$default", Value::Null),
    ];
    for node in &env.nodes {
        for (method, path, route_key, params) in table {
            let (got, event) = chosen_route(node, &api, method, path).await;
            assert_eq!(got.status, 200, "{method} {path}: {}", got.show());
            assert_eq!(
                event["routeKey"], *route_key,
                "{method} {path} on {}: {}",
                node.node_id, event
            );
            assert_eq!(event["requestContext"]["routeKey"], *route_key);
            assert_eq!(event["rawPath"], *path);
            assert_eq!(event["requestContext"]["http"]["method"], *method);
            if !params.is_null() {
                assert_eq!(event["pathParameters"], *params, "{method} {path}");
            }
        }
    }

    // Auto-deploy: boto3 adds `GET /fresh` and deletes `ANY /{proxy+}` (no CreateDeployment;
    // the script checks the stage's new deployment says `autoDeployed`). Both nodes serve
    // the change within a second (bounded at 3 s here for a loaded machine).
    let changed = env.boto3(&["route-change", &api]).await;
    assert_ne!(changed["before"], changed["after"]);
    let start = Instant::now();
    for node in &env.nodes {
        eventually(
            &format!("{} routes GET /fresh to its new route", node.node_id),
            Duration::from_secs(3),
            || async {
                let (_, event) = chosen_route(node, &api, "GET", "/fresh").await;
                (event["routeKey"] == "GET /fresh").then_some(())
            },
        )
        .await;
    }
    let live_after = start.elapsed();
    eprintln!("auto-deploy: the route change served by both nodes after {live_after:?}");
    for node in &env.nodes {
        // Without `ANY /{proxy+}` the unmatched request reaches `$default`.
        let (got, event) = chosen_route(node, &api, "POST", "/pets/cat/53").await;
        assert_eq!(got.status, 200, "{}", got.show());
        assert_eq!(event["routeKey"], "$default", "{event}");
        let (_, event) = chosen_route(node, &api, "GET", "/pets/cat/1").await;
        assert_eq!(event["routeKey"], "GET /pets/{proxy+}");
    }
    assert!(
        live_after < Duration::from_secs(3),
        "auto-deploy took {live_after:?}"
    );
}

// --- HTTP_PROXY with parameter mapping -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_maps_request_and_response_parameters() {
    let env = Env::start().await;
    let made = env.boto3(&["mapping"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/dev/status/200", 200).await;
    for node in &env.nodes {
        // Request parameters: `overwrite:path` with a path parameter in fixed text, a header
        // from fixed text and `${request.path.id}`, an appended query string, a header from a
        // stage variable and one from `$context.routeKey`, a removed header.
        let got = call(
            node,
            &api,
            "GET",
            "/dev/items/7?keep=1",
            &[("x-secret", "s3cret"), ("x-team", "client-value")],
            "",
        )
        .await;
        assert_eq!(got.status, 200, "{}", got.show());
        let echo = got.json();
        assert_eq!(echo["path"], "/items/7/details", "{echo}");
        let mut query: Vec<&str> = echo["query"]
            .as_str()
            .unwrap_or_default()
            .split('&')
            .collect();
        query.sort_unstable();
        assert_eq!(query, ["keep=1", "source=gateway"], "{echo}");
        assert_eq!(echo["headers"]["x-team"], "team-7", "{echo}");
        assert_eq!(echo["headers"]["x-color"], "blue", "{echo}");
        assert_eq!(echo["headers"]["x-route"], "GET /items/{id}", "{echo}");
        assert!(echo["headers"].get("x-secret").is_none(), "{echo}");

        // Response parameters by status: the backend's 404 becomes 410 with a header
        // overwritten and one appended from `$context.stage`; a 200 is untouched.
        let gone = get(node, &api, "/dev/status/404").await;
        assert_eq!(gone.status, 410, "{}", gone.show());
        assert_eq!(gone.header("x-backend-header"), "mapped");
        assert_eq!(gone.header("x-stage"), "dev");
        assert_eq!(gone.json(), json!({"status": 404}));
        let ok = get(node, &api, "/dev/status/200").await;
        assert_eq!(ok.status, 200, "{}", ok.show());
        assert_eq!(ok.header("x-backend-header"), "from-backend");
        assert_eq!(ok.header("x-stage"), "");

        // The integration URI names the route's path parameter.
        let pet = get(node, &api, "/dev/pets/42").await;
        assert_eq!(pet.status, 200, "{}", pet.show());
        assert_eq!(pet.json()["path"], "/extended/42", "{}", pet.show());

        // A named stage only: no `$default` stage answers without the stage segment.
        let none = get(node, &api, "/items/7").await;
        assert_eq!(none.status, 404, "{}", none.show());
        assert_eq!(none.json(), message("Not Found"));
        let unknown = get(node, &api, "/dev/nowhere").await;
        assert_eq!(unknown.status, 404, "{}", unknown.show());
        assert_eq!(unknown.json(), message("Not Found"));
    }
}

// --- AWS_PROXY with payload format 1.0 and 2.0 ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_proxy_events_and_responses_follow_aws_examples() {
    let env = Env::start().await;
    let made = env.boto3(&["lambda"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/shortcut/string", 200).await;
    let query = "parameter1=value1&parameter1=value2&parameter2=value";
    let headers = [
        ("header1", "value1"),
        ("header2", "value1"),
        ("header2", "value2"),
        ("cookie", "cookie1; cookie2"),
        ("user-agent", "agent"),
        ("content-type", "text/plain"),
    ];
    for node in &env.nodes {
        // Payload 2.0: AWS's example event, request for request (the `$default` route and
        // stage, the example's stage variables).
        let before = epoch_ms();
        let got = call(
            node,
            &api,
            "POST",
            &format!("/my/path?{query}"),
            &headers,
            "Hello from Lambda",
        )
        .await;
        assert_eq!(got.status, 200, "{}", got.show());
        let e = got.json();
        assert_eq!(e["version"], "2.0", "{e}");
        assert_eq!(e["routeKey"], "$default");
        assert_eq!(e["rawPath"], "/my/path");
        assert_eq!(e["rawQueryString"], query);
        assert_eq!(e["cookies"], json!(["cookie1", "cookie2"]), "{e}");
        assert_eq!(e["headers"]["header1"], "value1", "{e}");
        assert_eq!(e["headers"]["header2"], "value1,value2", "{e}");
        assert_eq!(
            e["queryStringParameters"],
            json!({"parameter1": "value1,value2", "parameter2": "value"})
        );
        assert!(e.get("multiValueHeaders").is_none(), "{e}");
        assert!(e.get("multiValueQueryStringParameters").is_none(), "{e}");
        let rc = &e["requestContext"];
        assert!(
            rc["accountId"]
                .as_str()
                .is_some_and(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit())),
            "{rc}"
        );
        assert_eq!(rc["apiId"], api.as_str());
        assert_eq!(rc["domainName"], host(&api));
        assert_eq!(rc["domainPrefix"], api.as_str());
        assert_eq!(rc["http"]["method"], "POST");
        assert_eq!(rc["http"]["path"], "/my/path");
        assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
        assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["http"]["userAgent"], "agent");
        assert!(rc["requestId"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(rc["routeKey"], "$default");
        assert_eq!(rc["stage"], "$default");
        assert!(is_clf_time(&rc["time"]), "{rc}");
        assert!(is_epoch_ms_since(&rc["timeEpoch"], before), "{rc}");
        assert_eq!(e["body"], "Hello from Lambda");
        assert_eq!(e["isBase64Encoded"], false);
        assert_eq!(
            e["stageVariables"],
            json!({"stageVariable1": "value1", "stageVariable2": "value2"})
        );
        // The function's full-format answer comes back as it said.
        assert_eq!(got.header("content-type"), "application/json");

        // Payload 1.0: AWS's 1.0 example (a greedy route here, so `resource` is its path).
        let before = epoch_ms();
        let got = call(
            node,
            &api,
            "POST",
            &format!("/one/my/path?{query}"),
            &headers,
            "Hello from Lambda!",
        )
        .await;
        assert_eq!(got.status, 200, "{}", got.show());
        let e = got.json();
        assert_eq!(e["version"], "1.0", "{e}");
        assert_eq!(e["resource"], "/one/{proxy+}");
        assert_eq!(e["path"], "/one/my/path");
        assert_eq!(e["httpMethod"], "POST");
        assert_eq!(member_ci(&e["headers"], "header1"), "value1", "{e}");
        assert_eq!(
            member_ci(&e["multiValueHeaders"], "header2"),
            &json!(["value1", "value2"]),
            "{e}"
        );
        assert_eq!(e["queryStringParameters"]["parameter2"], "value", "{e}");
        assert_eq!(
            e["multiValueQueryStringParameters"],
            json!({"parameter1": ["value1", "value2"], "parameter2": ["value"]})
        );
        let rc = &e["requestContext"];
        assert_eq!(rc["apiId"], api.as_str());
        assert_eq!(rc["domainName"], host(&api));
        assert_eq!(rc["domainPrefix"], api.as_str());
        assert!(rc["extendedRequestId"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert_eq!(rc["httpMethod"], "POST");
        assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["identity"]["userAgent"], "agent");
        assert_eq!(rc["path"], "/one/my/path");
        assert_eq!(rc["protocol"], "HTTP/1.1");
        assert!(rc["requestId"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(is_clf_time(&rc["requestTime"]), "{rc}");
        assert!(is_epoch_ms_since(&rc["requestTimeEpoch"], before), "{rc}");
        assert_eq!(rc["resourcePath"], "/one/{proxy+}");
        assert_eq!(rc["stage"], "$default");
        assert_eq!(e["pathParameters"], json!({"proxy": "my/path"}));
        assert_eq!(
            e["stageVariables"],
            json!({"stageVariable1": "value1", "stageVariable2": "value2"})
        );
        assert_eq!(e["body"], "Hello from Lambda!");
        assert_eq!(e["isBase64Encoded"], false);

        // The 2.0 response shortcuts: a bare string and an object without `statusCode` are
        // 200 application/json with the answer as body.
        let s = get(node, &api, "/shortcut/string").await;
        assert_eq!(s.status, 200, "{}", s.show());
        assert_eq!(s.header("content-type"), "application/json");
        assert_eq!(s.text(), "Hello from Lambda!");
        let o = get(node, &api, "/shortcut/object").await;
        assert_eq!(o.status, 200, "{}", o.show());
        assert_eq!(o.header("content-type"), "application/json");
        assert_eq!(o.json(), json!({"message": "Hello from Lambda!"}));
        // The full format: each cookie a `set-cookie` header, the status, the headers.
        let c = get(node, &api, "/shortcut/cookies").await;
        assert_eq!(c.status, 201, "{}", c.show());
        assert_eq!(
            c.all("set-cookie"),
            ["session=abc123; Path=/; HttpOnly", "theme=dark"]
        );
        assert_eq!(c.header("x-custom"), "yes");
        assert_eq!(c.header("content-type"), "text/plain");
        assert_eq!(c.text(), "made");
        // `isBase64Encoded`: the body goes out decoded.
        let b = get(node, &api, "/shortcut/base64").await;
        assert_eq!(b.status, 200, "{}", b.show());
        assert_eq!(b.header("content-type"), "application/octet-stream");
        assert_eq!(b.body, [0u8, 1, 2, 255]);
    }
}

// --- JWT authorizer ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_authorizer_checks_signature_expiry_audience_and_scopes() {
    let key = Key::rsa("http-rsa-1");
    let issuer = Issuer::start(vec![key.clone()]).await;
    let iss = issuer.url.clone();
    let env = Env::start_with(Some(issuer)).await;
    let made = env.boto3(&["auth"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/open", 200).await;

    let claims = |aud: &str, scope: &str, exp: u64| {
        json!({"iss": iss, "sub": "user-1", "aud": aud, "scope": scope,
               "iat": now() - 10, "exp": exp})
    };
    let valid = key.sign(&claims("api-audience", "read admin:write", now() + 600));
    let read_only = key.sign(&claims("api-audience", "read", now() + 600));
    let expired = key.sign(&claims("api-audience", "read", now() - 3600));
    let wrong_aud = key.sign(&claims("someone-else", "read", now() + 600));
    let other_key = Key::ec("http-unknown").sign(&claims("api-audience", "read", now() + 600));
    let not_yet = key.sign(&json!({"iss": iss, "sub": "user-1", "aud": "api-audience",
        "iat": now() - 10, "nbf": now() + 3600, "exp": now() + 7200}));
    let other_issuer = key.sign(&json!({"iss": format!("{iss}-other"), "sub": "user-1",
        "aud": "api-audience", "iat": now() - 10, "exp": now() + 600}));
    // Without `aud`, the `client_id` claim must match an audience (Cognito access tokens).
    let by_client_id = key.sign(
        &json!({"iss": iss, "sub": "user-2", "client_id": "api-audience",
        "token_use": "access", "scope": "read", "iat": now() - 10, "exp": now() + 600}),
    );
    let wrong_client_id = key.sign(&json!({"iss": iss, "sub": "user-2", "client_id": "nope",
        "scope": "read", "iat": now() - 10, "exp": now() + 600}));
    let bearer = format!("Bearer {valid}");

    for node in &env.nodes {
        // Valid, with or without `Bearer `: the claims and scopes reach the 2.0 event.
        for token in [valid.as_str(), bearer.as_str()] {
            let got = call(node, &api, "GET", "/me", &[("authorization", token)], "").await;
            assert_eq!(got.status, 200, "{}", got.show());
            let jwt = &got.json()["requestContext"]["authorizer"]["jwt"];
            assert_eq!(jwt["claims"]["sub"], "user-1", "{jwt}");
            assert_eq!(jwt["claims"]["iss"], iss.as_str(), "{jwt}");
            assert_eq!(jwt["claims"]["aud"], "api-audience", "{jwt}");
        }
        // No token, an expired one, one for another audience, one signed by a key the
        // issuer does not publish: 401 {"message":"Unauthorized"}.
        let none = get(node, &api, "/me").await;
        assert_eq!(none.status, 401, "{}", none.show());
        assert_eq!(none.json(), message("Unauthorized"));
        for (what, token) in [
            ("expired", &expired),
            ("wrong audience", &wrong_aud),
            ("unknown key", &other_key),
            ("not valid before a future nbf", &not_yet),
            ("another issuer", &other_issuer),
            ("wrong client_id", &wrong_client_id),
        ] {
            let got = call(node, &api, "GET", "/me", &[("authorization", token)], "").await;
            assert_eq!(got.status, 401, "{what}: {}", got.show());
            assert_eq!(got.json(), message("Unauthorized"), "{what}");
        }
        // Route scopes: the token must carry one of them, else 403 {"message":"Forbidden"}.
        let admin = call(
            node,
            &api,
            "GET",
            "/admin",
            &[("authorization", valid.as_str())],
            "",
        )
        .await;
        assert_eq!(admin.status, 200, "{}", admin.show());
        let scopes = &admin.json()["requestContext"]["authorizer"]["jwt"]["scopes"];
        assert!(
            scopes
                .as_array()
                .is_some_and(|s| s.contains(&json!("admin:write"))),
            "{}",
            admin.show()
        );
        let denied = call(
            node,
            &api,
            "GET",
            "/admin",
            &[("authorization", read_only.as_str())],
            "",
        )
        .await;
        assert_eq!(denied.status, 403, "{}", denied.show());
        assert_eq!(denied.json(), message("Forbidden"));
        let client = call(
            node,
            &api,
            "GET",
            "/me",
            &[("authorization", by_client_id.as_str())],
            "",
        )
        .await;
        assert_eq!(
            client.status,
            200,
            "client_id as audience: {}",
            client.show()
        );
        assert_eq!(
            client.json()["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
            "user-2"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_refusal_says_why_in_www_authenticate() {
    let key = Key::rsa("http-rsa-3");
    let issuer = Issuer::start(vec![key.clone()]).await;
    let iss = issuer.url.clone();
    let env = Env::start_with(Some(issuer)).await;
    let made = env.boto3(&["auth"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/open", 200).await;
    let wrong_aud = key.sign(&json!({"iss": iss, "sub": "user-1", "aud": "someone-else",
        "iat": now() - 10, "exp": now() + 600}));
    for node in &env.nodes {
        // AWS's troubleshooting page: the audience failure is told in `www-authenticate`.
        let got = call(
            node,
            &api,
            "GET",
            "/me",
            &[("authorization", wrong_aud.as_str())],
            "",
        )
        .await;
        assert!(
            got.header("www-authenticate")
                .contains("error=\"invalid_token\""),
            "{}",
            got.show()
        );
        assert_eq!(got.status, 401, "{}", got.show());
        assert_eq!(got.json(), message("Unauthorized"), "{}", got.show());
        assert_eq!(
            got.header("www-authenticate"),
            "Bearer scope=\"\" error=\"invalid_token\" \
             error_description=\"the token does not have a valid audience\"",
            "{}",
            got.show()
        );
    }
}

// --- Lambda REQUEST authorizer: simple responses and caching -------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_authorizer_simple_responses_are_cached() {
    let key = Key::rsa("http-rsa-2");
    let issuer = Issuer::start(vec![key]).await;
    let env = Env::start_with(Some(issuer)).await;
    let made = env.boto3(&["auth"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/open", 200).await;
    let calls = || env.functions.invocations("http-simple-authorizer");
    let (n0, n1) = (&env.nodes[0], &env.nodes[1]);

    // Without the identity source the authorizer is not called: 401.
    let start = calls().await;
    for node in &env.nodes {
        let got = get(node, &api, "/lambda").await;
        assert_eq!(got.status, 401, "{}", got.show());
        assert_eq!(got.json(), message("Unauthorized"));
    }
    assert_eq!(
        calls().await,
        start,
        "no identity source, no authorizer call"
    );

    // `isAuthorized: true`: the context reaches the 2.0 event as
    // `requestContext.authorizer.lambda`; the authorizer saw its 2.0 event.
    let got = call(n0, &api, "GET", "/lambda", &[("x-token", "allow-ann")], "").await;
    assert_eq!(got.status, 200, "{}", got.show());
    let lambda = got.json()["requestContext"]["authorizer"]["lambda"].clone();
    assert_eq!(lambda["user"], "allow-ann", "{lambda}");
    assert_eq!(lambda["version"], "2.0", "{lambda}");
    assert_eq!(lambda["type"], "REQUEST", "{lambda}");
    assert_eq!(lambda["routeKey"], "GET /lambda", "{lambda}");
    assert_eq!(lambda["identitySource"], "allow-ann", "{lambda}");
    assert_eq!(lambda["rawPath"], "/lambda", "{lambda}");
    assert!(
        lambda["routeArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:execute-api:")
                && a.ends_with(&format!("{api}/$default/GET/lambda"))),
        "{lambda}"
    );
    let after_first = calls().await;
    assert_eq!(after_first, start + 1);

    // Cached by identity source for authorizerResultTtlInSeconds: the same token again on
    // node 0 calls nothing; node 1 calls it at most once (its own cache, or the shared one).
    for _ in 0..3 {
        let again = call(n0, &api, "GET", "/lambda", &[("x-token", "allow-ann")], "").await;
        assert_eq!(again.status, 200, "{}", again.show());
        assert_eq!(
            again.json()["requestContext"]["authorizer"]["lambda"]["user"],
            "allow-ann"
        );
    }
    assert_eq!(calls().await, after_first, "node 0 answered from its cache");
    for _ in 0..3 {
        let other = call(n1, &api, "GET", "/lambda", &[("x-token", "allow-ann")], "").await;
        assert_eq!(other.status, 200, "{}", other.show());
    }
    let after_node1 = calls().await;
    assert!(
        after_node1 <= after_first + 1,
        "node 1 called it {after_node1} - {after_first} times"
    );

    // `isAuthorized: false`: 403 {"message":"Forbidden"}, cached as well.
    for node in &env.nodes {
        let before = calls().await;
        for _ in 0..3 {
            let denied = call(node, &api, "GET", "/lambda", &[("x-token", "nope")], "").await;
            assert_eq!(denied.status, 403, "{}", denied.show());
            assert_eq!(denied.json(), message("Forbidden"));
        }
        assert!(calls().await <= before + 1, "a denial is cached too");
    }

    // Another identity is another cache entry.
    let before = calls().await;
    let bob = call(n1, &api, "GET", "/lambda", &[("x-token", "allow-bob")], "").await;
    assert_eq!(bob.status, 200, "{}", bob.show());
    assert_eq!(
        bob.json()["requestContext"]["authorizer"]["lambda"]["user"],
        "allow-bob"
    );
    assert_eq!(calls().await, before + 1);
}

// --- CORS ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_is_answered_and_headers_added() {
    let env = Env::start().await;
    let made = env.boto3(&["cors"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/data/cors", 200).await;
    let origin = "https://www.example.com";
    for node in &env.nodes {
        // A preflight is answered by the gateway (no OPTIONS route, no function call).
        let before = env.functions.invocations("http-shortcuts").await;
        let pre = call(
            node,
            &api,
            "OPTIONS",
            "/data/cors",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "x-custom"),
            ],
            "",
        )
        .await;
        assert_eq!(pre.status, 204, "{}", pre.show());
        assert_eq!(pre.header("access-control-allow-origin"), origin);
        assert_eq!(pre.header("access-control-allow-credentials"), "true");
        assert_eq!(pre.header("access-control-max-age"), "300");
        let methods = pre
            .header("access-control-allow-methods")
            .to_ascii_uppercase();
        assert!(
            methods.contains("GET") && methods.contains("POST"),
            "{}",
            pre.show()
        );
        assert!(
            pre.header("access-control-allow-headers")
                .to_ascii_lowercase()
                .contains("x-custom"),
            "{}",
            pre.show()
        );
        assert_eq!(env.functions.invocations("http-shortcuts").await, before);

        // An actual request from the allowed origin: the configured headers, the function's
        // own `Access-Control-Allow-Origin: *` ignored.
        let got = call(node, &api, "GET", "/data/cors", &[("origin", origin)], "").await;
        assert_eq!(got.status, 200, "{}", got.show());
        assert_eq!(got.text(), "data");
        assert_eq!(got.all("access-control-allow-origin"), [origin]);
        assert_eq!(got.header("access-control-allow-credentials"), "true");
        assert!(
            got.header("access-control-expose-headers")
                .to_ascii_lowercase()
                .contains("x-backend-header"),
            "{}",
            got.show()
        );
        assert_eq!(got.header("x-backend-header"), "from-function");

        // Another origin gets no CORS headers to a preflight (to a request:
        // `cors_ignores_the_integrations_own_cors_headers`).
        let evil_pre = call(
            node,
            &api,
            "OPTIONS",
            "/data/cors",
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "GET"),
            ],
            "",
        )
        .await;
        assert_eq!(
            evil_pre.header("access-control-allow-origin"),
            "",
            "{}",
            evil_pre.show()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_ignores_the_integrations_own_cors_headers() {
    let env = Env::start().await;
    let made = env.boto3(&["cors"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/data/cors", 200).await;
    for node in &env.nodes {
        // AWS: "If you configure CORS for an API, API Gateway ignores CORS headers returned
        // from your backend integration": another origin, or none, gets no CORS headers.
        let evil = call(
            node,
            &api,
            "GET",
            "/data/cors",
            &[("origin", "https://evil.example")],
            "",
        )
        .await;
        assert_eq!(evil.status, 200, "{}", evil.show());
        assert_eq!(
            evil.header("access-control-allow-origin"),
            "",
            "{}",
            evil.show()
        );
        let plain = get(node, &api, "/data/cors").await;
        assert_eq!(plain.status, 200);
        assert_eq!(
            plain.header("access-control-allow-origin"),
            "",
            "{}",
            plain.show()
        );
    }
}

// --- OpenAPI import, reimport and export ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_import_serves_and_export_round_trips() {
    let env = Env::start().await;
    let made = env.boto3(&["openapi"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();

    // The YAML export is the same document as the JSON one the script checked.
    let yaml: Value =
        serde_yaml_ng::from_str(made["yaml"].as_str().expect("yaml")).expect("a YAML document");
    assert_eq!(yaml["info"]["title"], "imported-pets", "{yaml}");
    assert!(yaml["paths"]["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"].is_object());

    // What was imported is served (its `$default` stage auto-deploys).
    until_served(&env, &api, "/pets", 200).await;
    for node in &env.nodes {
        let pets = get(node, &api, "/pets").await;
        assert_eq!(pets.status, 200, "{}", pets.show());
        assert_eq!(pets.json()["path"], "/store/pets", "{}", pets.show());
        let pet = get(node, &api, "/pets/9").await;
        assert_eq!(pet.status, 200, "{}", pet.show());
        assert_eq!(pet.json()["routeKey"], "GET /pets/{petId}");
        assert_eq!(pet.json()["pathParameters"], json!({"petId": "9"}));
        // The imported CORS configuration.
        let pre = call(
            node,
            &api,
            "OPTIONS",
            "/pets",
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "GET"),
            ],
            "",
        )
        .await;
        assert_eq!(pre.status, 204, "{}", pre.show());
        assert_eq!(
            pre.header("access-control-allow-origin"),
            "https://app.example.com"
        );
        assert_eq!(pre.header("access-control-max-age"), "60");
        let toys = get(node, &api, "/toys").await;
        assert_eq!(toys.status, 404, "{}", toys.show());
    }

    // ReimportApi replaces the definition; auto-deploy serves it.
    env.boto3(&["reimport", &api]).await;
    until_served(&env, &api, "/toys", 200).await;
    for node in &env.nodes {
        let toys = get(node, &api, "/toys").await;
        assert_eq!(toys.json()["path"], "/store/toys", "{}", toys.show());
    }
}

// --- UpdateApi on a quick-created API -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_api_moves_the_quick_created_route_and_target() {
    let env = Env::start().await;
    let made = env.boto3(&["quick"]).await;
    let api = made["apiId"].as_str().expect("apiId");
    let fn_api = made["fnApiId"].as_str().expect("fnApiId");
    until_served(&env, fn_api, "/shortcut/string", 200).await;
    until_served(&env, api, "/anything/deep", 200).await;
    // AWS: RouteKey "replaces the route key of the quick create route"; Target "updates
    // the integration URI and integration type" (a function ARN: AWS_PROXY, payload 2.0).
    env.boto3(&["quick-update", api, fn_api]).await;
    until_served(&env, fn_api, "/short/string", 200).await;
    for node in &env.nodes {
        let got = get(node, fn_api, "/short/string").await;
        assert_eq!(got.text(), "Hello from Lambda!", "{}", got.show());
        let old = get(node, fn_api, "/shortcut/string").await;
        assert_eq!(old.status, 404, "{}", old.show());
        let event = eventually(
            &format!(
                "{} sends the URL API's requests to the function",
                node.node_id
            ),
            Duration::from_secs(30),
            || async {
                let got = get(node, api, "/anything/deep?x=1").await;
                (got.status == 200 && got.json()["version"] == "2.0").then(|| got.json())
            },
        )
        .await;
        assert_eq!(event["routeKey"], "$default", "{event}");
        assert_eq!(event["rawPath"], "/anything/deep", "{event}");
        assert_eq!(event["rawQueryString"], "x=1", "{event}");
    }
}

// --- Dot segments ----------------------------------------------------------------------------

/// `GET path` written on the wire as given (HTTP clients resolve dot segments before
/// sending): (status, body).
async fn raw_get(node: &DataPlane, api: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", node.port))
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        host(api)
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read the answer");
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_in_an_http_api_path_are_refused_with_400() {
    let env = Env::start().await;
    let made = env.boto3(&["quick"]).await;
    let api = made["apiId"].as_str().expect("apiId");
    until_served(&env, api, "/a/b", 200).await;
    for node in &env.nodes {
        // On the `$default` stage the first segment is no stage: a REST-style resolution
        // within "the stage" would let `/../x` reach the backend as written.
        for path in [
            "/../etc/passwd",
            "/..",
            "/a/../b",
            "/a/b/..",
            "/./a",
            "/a/./b",
            "/a/%2e%2e/b",
            "/%2E%2e/b",
            "/a/%2E/b",
            "/a/..%2fb",
            "/a/../b?x=1",
        ] {
            let (status, body) = raw_get(node, api, path).await;
            assert_eq!(status, 400, "{path} on {}: {body}", node.node_id);
            assert!(
                body.contains(r#"{"message":"Bad Request"}"#),
                "{path} on {}: {body}",
                node.node_id
            );
        }
        // Dots inside a segment are not dot segments: the backend gets the path as sent.
        for path in ["/a/.well-known/b", "/a/b.c", "/a/...", "/a/..b"] {
            let (status, body) = raw_get(node, api, path).await;
            assert_eq!(status, 200, "{path} on {}: {body}", node.node_id);
            assert!(
                body.contains(&format!("\"path\":\"{path}\"")),
                "{path}: {body}"
            );
        }
    }
}

// --- $request.body past 100 KB ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_json_paths_read_only_the_first_100_kb() {
    let env = Env::start().await;
    let made = env.boto3(&["body-limit"]).await;
    let api = made["apiId"].as_str().expect("apiId");
    // `POST /limit` is the only route: a GET is 404 once the stage is there.
    until_served(&env, api, "/limit", 404).await;
    const LIMIT: usize = 100 * 1024;
    let head = r#"{"name":"small","pad":""#;
    let at_limit = format!("{head}{}\"}}", "a".repeat(LIMIT - head.len() - 2));
    assert_eq!(at_limit.len(), LIMIT);
    let over = format!(r#"{{"name":"big","pad":"{}"}}"#, "a".repeat(LIMIT));
    let json = [("content-type", "application/json")];
    for node in &env.nodes {
        // A small body: both JSONPaths find their value (the echo's answer is small too).
        let got = call(node, api, "POST", "/limit", &json, r#"{"name":"tiny"}"#).await;
        assert_eq!(got.status, 200, "{}", got.show());
        assert_eq!(got.json()["headers"]["x-name"], "tiny", "{}", got.show());
        assert_eq!(got.header("x-method"), "POST", "{}", got.show());
        // Exactly 100 KB: AWS applies the expression to the whole body. The backend's
        // answer (it echoes the body) is larger: `$response.body.method` finds nothing.
        let got = call(node, api, "POST", "/limit", &json, &at_limit).await;
        assert_eq!(got.status, 200, "{}", got.status);
        assert_eq!(got.json()["headers"]["x-name"], "small");
        assert_eq!(got.header("x-method"), "");
        // Past 100 KB: "API Gateway truncates the request body at 100 KB and then applies
        // the selection expression": the cut document has no `name`; the backend still
        // gets the whole body.
        let got = call(node, api, "POST", "/limit", &json, &over).await;
        assert_eq!(got.status, 200, "{}", got.status);
        let echo = got.json();
        assert_eq!(echo["headers"]["x-name"], "", "x-name past 100 KB");
        assert_eq!(echo["body"].as_str().map(str::len), Some(over.len()));
        assert_eq!(got.header("x-method"), "");
    }
}

// --- Lambda REQUEST authorizer, payload 1.0, in a configured region --------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_authorizer_1_0_policies_are_evaluated_in_the_configured_region() {
    let env = Env::start_in_region("eu-west-3").await;
    let made = env.boto3(&["auth-v1"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/open", 200).await;
    let calls = || env.functions.invocations("http-policy-authorizer");
    let (n0, n1) = (&env.nodes[0], &env.nodes[1]);
    // The region the control plane is configured with, the account it answers as.
    let arn =
        |path: &str| format!("arn:aws:execute-api:eu-west-3:000000000000:{api}/$default/GET{path}");

    // The integration's event carries the account.
    let open = get(n0, &api, "/open").await;
    assert_eq!(open.json()["requestContext"]["accountId"], "000000000000");

    // No identity source: 401 without calling the function.
    let start = calls().await;
    for node in &env.nodes {
        let got = get(node, &api, "/policy/allowed").await;
        assert_eq!(got.status, 401, "{}", got.show());
        assert_eq!(got.json(), message("Unauthorized"));
    }
    assert_eq!(calls().await, start);

    // The 1.0 event as AWS documents it (methodArn, identitySource and
    // authorizationToken as the joined values, resource, path, httpMethod, no body), and
    // the policy's Allow for this route's ARN honoured.
    let got = call(
        n0,
        &api,
        "GET",
        "/policy/allowed?team=a",
        &[("x-token", "allow-1")],
        "",
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.show());
    let event = got.json();
    let seen = &event["requestContext"]["authorizer"]["lambda"];
    assert_eq!(seen["version"], "1.0", "{seen}");
    assert_eq!(seen["type"], "REQUEST", "{seen}");
    assert_eq!(seen["methodArn"], arn("/policy/allowed").as_str(), "{seen}");
    assert_eq!(seen["identitySource"], "allow-1", "{seen}");
    assert_eq!(seen["authorizationToken"], "allow-1", "{seen}");
    assert_eq!(seen["resource"], "/policy/allowed", "{seen}");
    assert_eq!(seen["path"], "/policy/allowed", "{seen}");
    assert_eq!(seen["httpMethod"], "GET", "{seen}");
    assert!(
        seen["hasBody"] == json!(false) || seen["hasBody"] == "false",
        "{seen}"
    );
    assert_eq!(seen["query"], r#"{"team": "a"}"#, "{seen}");
    assert_eq!(seen["accountId"], "000000000000", "{seen}");
    assert_eq!(seen["apiId"], api.as_str(), "{seen}");
    assert_eq!(seen["stage"], "$default", "{seen}");
    assert_eq!(seen["user"], "allow-1", "{seen}");
    assert_eq!(calls().await, start + 1);

    // The cached policy is evaluated against each route's ARN: it does not cover
    // `GET /policy/other` (403, no new call).
    let other = call(
        n0,
        &api,
        "GET",
        "/policy/other",
        &[("x-token", "allow-1")],
        "",
    )
    .await;
    assert_eq!(other.status, 403, "{}", other.show());
    assert_eq!(other.json(), message("Forbidden"));
    assert_eq!(calls().await, start + 1, "the policy was cached");

    // A Deny policy: 403 on both nodes.
    for node in [n0, n1] {
        let denied = call(
            node,
            &api,
            "GET",
            "/policy/allowed",
            &[("x-token", "deny-1")],
            "",
        )
        .await;
        assert_eq!(denied.status, 403, "{}", denied.show());
        assert_eq!(denied.json(), message("Forbidden"));
    }
}

// --- The authorizer cache across deployments ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_authorizer_serves_no_decision_cached_before_the_change() {
    let key = Key::rsa("http-rsa-3");
    let issuer = Issuer::start(vec![key]).await;
    let env = Env::start_with(Some(issuer)).await;
    let made = env.boto3(&["auth"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    let authorizer = made["lambdaAuthorizerId"]
        .as_str()
        .expect("lambdaAuthorizerId")
        .to_string();
    until_served(&env, &api, "/open", 200).await;
    let calls = || env.functions.invocations("http-simple-authorizer");
    let ann = [("x-token", "allow-ann")];

    // Cached for 300 s on both nodes (and in the shared store).
    for node in &env.nodes {
        let got = call(node, &api, "GET", "/lambda", &ann, "").await;
        assert_eq!(got.status, 200, "{}", got.show());
    }
    let cached = calls().await;
    for node in &env.nodes {
        let got = call(node, &api, "GET", "/lambda", &ann, "").await;
        assert_eq!(got.status, 200, "{}", got.show());
    }
    assert_eq!(calls().await, cached, "served from the cache");

    // Only the TTL changes (auto-deploy): the decision cached under the old definition is
    // not served; the function is asked again.
    env.boto3(&["auth-change", &api, &authorizer, "ttl"]).await;
    eventually(
        "the authorizer is called again after its TTL changed",
        Duration::from_secs(30),
        || async {
            let got = call(&env.nodes[0], &api, "GET", "/lambda", &ann, "").await;
            assert_eq!(got.status, 200, "{}", got.show());
            (calls().await > cached).then_some(())
        },
    )
    .await;

    // The authorizer becomes another function (payload 1.0, IAM policies allowing only
    // `GET /policy/allowed`): the same token is now refused on every node, not served
    // the old function's cached `isAuthorized: true`.
    env.boto3(&["auth-change", &api, &authorizer, "policy"])
        .await;
    for node in &env.nodes {
        let got = eventually(
            &format!("{} asks the new authorizer", node.node_id),
            Duration::from_secs(30),
            || async {
                let got = call(node, &api, "GET", "/lambda", &ann, "").await;
                (got.status == 403).then_some(got)
            },
        )
        .await;
        assert_eq!(got.json(), message("Forbidden"));
    }
}

// --- ResetAuthorizersCache ----------------------------------------------------------------

/// ResetAuthorizersCache (apigatewayv2, boto3): a Lambda REQUEST authorizer's decisions are
/// cached (authorizerResultTtlInSeconds 300) on both nodes; the function then changes its
/// answer (it refuses every token once its deny file exists), the nodes keep serving the
/// cached `isAuthorized: true`; after the reset both nodes ask the function again and refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_authorizers_cache_makes_every_node_ask_the_authorizer_again() {
    let deny = std::env::temp_dir().join(format!("apigw-deny-{}", uuid::Uuid::new_v4()));
    let key = Key::rsa("http-rsa-4");
    let issuer = Issuer::start(vec![key]).await;
    let env = Env::start_all(
        Some(issuer),
        "us-east-1",
        &[("HTTP_AUTHORIZER_DENY_FILE", deny.display().to_string())],
    )
    .await;
    let made = env.boto3(&["auth"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/open", 200).await;
    let calls = || env.functions.invocations("http-simple-authorizer");
    let ann = [("x-token", "allow-ann")];

    // Allowed, and cached on both nodes (and in the shared store).
    for node in &env.nodes {
        let got = call(node, &api, "GET", "/lambda", &ann, "").await;
        assert_eq!(got.status, 200, "{}", got.show());
    }
    let cached = calls().await;
    assert!(cached >= 1, "the authorizer was called");

    // The function now refuses every token; the cached decision is still served.
    std::fs::write(&deny, b"deny").expect("writing the deny file");
    for node in &env.nodes {
        for _ in 0..2 {
            let got = call(node, &api, "GET", "/lambda", &ann, "").await;
            assert_eq!(got.status, 200, "served from the cache: {}", got.show());
        }
    }
    assert_eq!(calls().await, cached, "no authorizer call while cached");

    // ResetAuthorizersCache (NotFoundException for an unknown API or stage, checked by the
    // script): every node asks the function again and answers its new decision.
    env.boto3(&["reset-cache", &api]).await;
    for node in &env.nodes {
        let got = eventually(
            &format!("{} asks the authorizer again after the reset", node.node_id),
            Duration::from_secs(30),
            || async {
                let got = call(node, &api, "GET", "/lambda", &ann, "").await;
                (got.status == 403).then_some(got)
            },
        )
        .await;
        assert_eq!(got.json(), message("Forbidden"));
    }
    assert!(calls().await > cached, "the function was asked again");
    let _ = std::fs::remove_file(&deny);
}

// --- Access logs -----------------------------------------------------------------------------

/// FilterLogEvents through the Logs API (console session): the events of `group`
/// matching `pattern`.
async fn filter_log_events(cp: &ControlPlane, group: &str, pattern: &str) -> Vec<Value> {
    let answer = logs_call(
        cp,
        "FilterLogEvents",
        json!({"logGroupName": group, "filterPattern": pattern}),
    )
    .await;
    answer["events"].as_array().cloned().unwrap_or_default()
}

/// One Logs API call (`Logs_20140328.{operation}`) with a console session: its answer.
async fn logs_call(cp: &ControlPlane, operation: &str, body: Value) -> Value {
    let token = cp.console_token().await;
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/", cp.url()))
        .bearer_auth(token)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("Logs_20140328.{operation}"))
        .body(body.to_string())
        .send()
        .await
        .expect("a Logs call")
        .json()
        .await
        .expect("a Logs JSON answer");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_of_an_http_api_stage_are_written_and_searchable() {
    let env = Env::start().await;
    let made = env.boto3(&["logs"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/logged/0", 200).await;

    let got = get(&env.nodes[0], &api, "/logged/42?x=1").await;
    assert_eq!(got.status, 200, "{}", got.show());
    let request_id = got.header("apigw-requestid").to_string();
    assert!(!request_id.is_empty(), "{}", got.show());
    let missing = get(&env.nodes[1], &api, "/nowhere").await;
    assert_eq!(missing.status, 404, "{}", missing.show());
    let missing_id = missing.header("apigw-requestid").to_string();

    // Each line is shipped to the control plane's store, in the log group the stage's
    // destinationArn names, and found by its fields.
    let line = |id: String| {
        let cp = &env.cp;
        async move {
            let pattern = format!("{{ $.extendedRequestId = \"{id}\" }}");
            let events = eventually(
                &format!("the access line of {id} in http-access"),
                Duration::from_secs(30),
                || async {
                    let events = filter_log_events(cp, "http-access", &pattern).await;
                    (!events.is_empty()).then_some(events)
                },
            )
            .await;
            assert_eq!(events.len(), 1, "{events:?}");
            let message = events[0]["message"].as_str().expect("message").to_string();
            serde_json::from_str::<Value>(&message)
                .unwrap_or_else(|e| panic!("a JSON line: {message}: {e}"))
        }
    };
    let ok = line(request_id.clone()).await;
    assert_eq!(ok["routeKey"], "GET /logged/{id}", "{ok}");
    assert_eq!(ok["status"], "200", "{ok}");
    assert_eq!(ok["method"], "GET", "{ok}");
    assert_eq!(ok["path"], "/logged/42", "{ok}");
    assert_eq!(ok["stage"], "$default", "{ok}");
    assert_eq!(ok["apiId"], api.as_str(), "{ok}");
    assert_eq!(ok["accountId"], "000000000000", "{ok}");
    assert_eq!(ok["protocol"], "HTTP/1.1", "{ok}");
    assert_eq!(ok["integrationStatus"], "200", "{ok}");
    assert_eq!(ok["ip"], "127.0.0.1", "{ok}");
    assert!(
        ok["requestId"].as_str().is_some_and(|r| !r.is_empty()),
        "{ok}"
    );
    let not_found = line(missing_id).await;
    assert_eq!(not_found["status"], "404", "{not_found}");
    assert_eq!(not_found["path"], "/nowhere", "{not_found}");
    assert_eq!(not_found["apiId"], api.as_str(), "{not_found}");

    // And searched by value: every 404 of the group.
    let all_404 = filter_log_events(&env.cp, "http-access", "{ $.status = \"404\" }").await;
    assert!(
        !all_404.is_empty()
            && all_404
                .iter()
                .all(|e| e["message"].as_str().is_some_and(|m| m.contains("\"404\""))),
        "{all_404:?}"
    );
}

// --- The account id setting ---------------------------------------------------------------------

/// The control plane started with `APIGW_ACCOUNT_ID=123456789012`: the account is in the
/// v2 API's NotFoundException message, in the 2.0 event's `requestContext.accountId` and
/// an access log line's `$context.accountId` (served by both nodes), and in the log
/// group's ARN (DescribeLogGroups); the stage's destination ARN names that account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_account_id_is_in_messages_events_logs_and_arns() {
    const ACCOUNT: &str = "123456789012";
    let issuer = Issuer::start(vec![Key::rsa("http-rsa-5")]).await;
    let env = Env::start_account(Some(issuer), "us-east-1", &[], ACCOUNT).await;

    let missing = env.cp.mgmt().get("/v2/apis/nosuchapi").await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(
        missing
            .body
            .to_string()
            .contains(&format!("{ACCOUNT}:nosuchapi")),
        "{}",
        missing.body
    );

    // A Lambda proxy (2.0) event, through each node.
    let made = env.boto3(&["auth"]).await;
    let api = made["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &api, "/open", 200).await;
    for node in &env.nodes {
        let got = get(node, &api, "/open").await;
        assert_eq!(got.status, 200, "{}", got.show());
        assert_eq!(
            got.json()["requestContext"]["accountId"],
            ACCOUNT,
            "{}",
            got.show()
        );
    }

    // An access log line's `$context.accountId`, and the log group's ARN.
    let logged = env.boto3(&["logs"]).await;
    let logged = logged["apiId"].as_str().expect("apiId").to_string();
    until_served(&env, &logged, "/logged/0", 200).await;
    let got = get(&env.nodes[1], &logged, "/logged/7").await;
    assert_eq!(got.status, 200, "{}", got.show());
    let id = got.header("apigw-requestid").to_string();
    let pattern = format!("{{ $.extendedRequestId = \"{id}\" }}");
    let events = eventually("the access line", Duration::from_secs(30), || async {
        let events = filter_log_events(&env.cp, "http-access", &pattern).await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    let line: Value =
        serde_json::from_str(events[0]["message"].as_str().expect("message")).expect("JSON");
    assert_eq!(line["accountId"], ACCOUNT, "{line}");
    let groups = logs_call(
        &env.cp,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "http-access"}),
    )
    .await;
    let arn = groups["logGroups"][0]["logGroupArn"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        arn,
        format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:http-access"),
        "{groups}"
    );
}

/// An account id that is not 12 digits stops the control plane at start, saying why.
#[tokio::test]
async fn a_malformed_account_id_is_refused_at_start() {
    let out = tokio::process::Command::new(apigw_e2e::process::bin_dir().join("control-plane"))
        .env("APIGW_ACCOUNT_ID", "12345")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .await
        .expect("running the control plane");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("APIGW_ACCOUNT_ID") && stderr.contains("12 decimal digits"),
        "{stderr}"
    );
}
