//! Custom domain names and API mappings of HTTP APIs (issue 20), against real processes: a
//! control plane, two data-plane nodes, the functions host (`http-echo`) and echo
//! backends. boto3's `apigatewayv2` client (`tests/boto3/http_api_domains.py`) manages the
//! domains and mappings, checking every answer and refusal (AWS's exception classes); then
//! every assertion that matters is made through each node by Host, on the HTTP port and on
//! the HTTPS listener (SNI, the domain's certificate):
//!
//! - a mapping key without a slash (`v1`) and with one (`v1/orders`): the longest key that
//!   is a whole-segment prefix of the path wins and is stripped before route matching;
//! - the empty key maps the rest of the domain;
//! - a REST base path mapping next to the API mappings on the same domain (one namespace
//!   of domain names and keys for both APIs);
//! - the 2.0 event through a custom domain: `rawPath` keeps the mapping key (AWS sends the
//!   path as the client sent it), `requestContext.domainName`/`domainPrefix` are the
//!   custom domain's;
//! - `disableExecuteApiEndpoint` closes the execute-api host only, set at creation or
//!   turned on and off by UpdateApi (403 `{"message":"Forbidden"}` there, the domain
//!   serving on);
//! - a deleted mapping's paths fall to the next mapping: the root API has no such route,
//!   404 `{"message":"Not Found"}`.

use std::time::Duration;

use apigw_e2e::process::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::rest_api::mock_method;
use apigw_e2e::tls::{https_get, TestCa};
use apigw_e2e::{eventually, fresh_database, Backend, ControlPlane, DataPlane, FunctionsHost};
use apigw_e2e::{Mgmt, RestApi};
use serde_json::{json, Value};

const DOMAIN: &str = "api.example.com";

/// Runs `tests/boto3/http_api_domains.py {args}` with `env`; answers its last stdout line.
async fn boto3(cp: &ControlPlane, env: &[(&str, String)], args: &[&str]) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/http_api_domains.py");
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(path)
        .args(args)
        .env("V2_ENDPOINT", cp.url())
        .env("V2_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("V2_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("running python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "http_api_domains.py {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the script's JSON line")
}

/// A REST API answering `GET /who` with `{"api": "rest", "path": ..., "domain": ...}`,
/// deployed to `prod`.
async fn rest_api(m: &Mgmt) -> String {
    let api = RestApi::create(m, "rest").await;
    let who = api.resource(&api.root, "who").await;
    let template = "{\"api\": \"rest\", \"path\": \"$context.resourcePath\", \"domain\": \"$context.domainName\"}";
    mock_method(m, &api.id, &who, "GET", template).await;
    api.deploy("prod", json!({})).await;
    api.id
}

/// What a call answered.
struct Got {
    status: u16,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// `GET path` on the node's HTTP port with `Host: host`.
async fn http_get(node: &DataPlane, host: &str, path: &str) -> Got {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", node.base()))
        .header("host", host)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} on {}: {e}", node.node_id));
    Got {
        status: response.status().as_u16(),
        body: response.text().await.expect("body"),
    }
}

/// `GET path` on the node's HTTPS listener with SNI and Host `DOMAIN`.
async fn tls_get(node: &DataPlane, ca: &TestCa, path: &str) -> Got {
    let got = https_get(node.https_port, DOMAIN, path, &ca.pem, None)
        .await
        .unwrap_or_else(|e| panic!("GET https://{DOMAIN}{path} on {}: {e}", node.node_id));
    Got {
        status: got.status,
        body: got.body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_stages_are_served_on_custom_domains_by_api_mapping() {
    let functions = FunctionsHost::start().await;
    let root_backend = Backend::start("root").await;
    let v1_backend = Backend::start("v1").await;
    let orders_backend = Backend::start("orders").await;
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
            ("AUTHORIZER_TIMEOUT_MS", "5000".to_string()),
        ];
        nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("domains-node-{i}"), &env).await);
    }
    for node in &nodes {
        node.wait_ready().await;
    }
    let m = cp.mgmt();
    let rest = rest_api(&m).await;
    let ca = TestCa::new("domains ca");
    let wildcard = ca.server("*.example.com");
    let env = [
        ("CERT_PEM", wildcard.cert_pem.clone()),
        ("KEY_PEM", wildcard.key_pem.clone()),
        ("CA_PEM", ca.pem.clone()),
        ("BACKEND_ROOT", root_backend.url()),
        ("BACKEND_V1", v1_backend.url()),
        ("BACKEND_ORDERS", orders_backend.url()),
        ("REST_API_ID", rest.clone()),
    ];
    let made = boto3(&cp, &env, &["setup"]).await;
    let orders = made["orders"].as_str().expect("orders").to_string();
    let fn_api = made["fn"].as_str().expect("fn").to_string();

    for node in &nodes {
        // The mappings reach the node (the last one made is the REST base path mapping).
        let got = eventually(
            &format!("{} serves the domain", node.node_id),
            Duration::from_secs(30),
            || async {
                let got = http_get(node, DOMAIN, "/rest/who").await;
                (got.status == 200).then_some(got)
            },
        )
        .await;
        // A REST stage and HTTP API stages on one domain.
        assert_eq!(got.json()["api"], "rest", "{}", got.body);
        assert_eq!(got.json()["path"], "/who", "{}", got.body);
        assert_eq!(got.json()["domain"], DOMAIN, "{}", got.body);

        for scheme in ["http", "https"] {
            let get = |path: &'static str| {
                let ca = &ca;
                async move {
                    if scheme == "http" {
                        http_get(node, DOMAIN, path).await
                    } else {
                        tls_get(node, ca, path).await
                    }
                }
            };
            let at = |what: &str| format!("{what} ({scheme} on {})", node.node_id);
            // A key with a slash: the longest key wins and is stripped.
            let got = get("/v1/orders/items/7").await;
            assert_eq!(got.status, 200, "{}: {}", at("v1/orders"), got.body);
            assert_eq!(got.json()["backend"], "orders", "{}", got.body);
            assert_eq!(got.json()["path"], "/items/7", "{}", got.body);
            // A key without one.
            let got = get("/v1/orders-archive/3").await;
            assert_eq!(got.status, 200, "{}: {}", at("v1"), got.body);
            assert_eq!(got.json()["backend"], "v1", "{}", got.body);
            assert_eq!(got.json()["path"], "/orders-archive/3", "{}", got.body);
            // `v10` is not under `v1`: the empty key maps the rest of the domain.
            let got = get("/other").await;
            assert_eq!(got.status, 200, "{}: {}", at("root"), got.body);
            assert_eq!(got.json()["backend"], "root", "{}", got.body);
            assert_eq!(got.json()["path"], "/other", "{}", got.body);
            let got = get("/v10/other").await;
            assert_eq!(got.status, 404, "{}: {}", at("v10"), got.body);
            assert_eq!(got.json(), json!({"message": "Not Found"}));
            // The REST base path mapping.
            let got = get("/rest/who").await;
            assert_eq!(got.json()["api"], "rest", "{}: {}", at("rest"), got.body);
            // The 2.0 event through a custom domain (the mapping was moved to
            // `lambda/echo` by UpdateApiMapping).
            let got = get("/lambda/echo/hello?x=1").await;
            assert_eq!(got.status, 200, "{}: {}", at("lambda"), got.body);
            let e = got.json();
            assert_eq!(e["version"], "2.0", "{e}");
            assert_eq!(e["rawPath"], "/lambda/echo/hello", "{e}");
            assert_eq!(e["rawQueryString"], "x=1", "{e}");
            assert_eq!(e["routeKey"], "ANY /{proxy+}", "{e}");
            assert_eq!(e["pathParameters"], json!({"proxy": "hello"}), "{e}");
            let rc = &e["requestContext"];
            assert_eq!(rc["apiId"], fn_api.as_str(), "{rc}");
            assert_eq!(rc["stage"], "$default", "{rc}");
            assert_eq!(rc["domainName"], DOMAIN, "{rc}");
            assert_eq!(rc["domainPrefix"], "api", "{rc}");
            assert_eq!(rc["http"]["path"], "/lambda/echo/hello", "{rc}");
        }

        // The orders API disables its execute-api endpoint: closed there, served above.
        let got = http_get(
            node,
            &format!("{orders}.execute-api.localhost"),
            "/live/items/7",
        )
        .await;
        assert_eq!(got.status, 403, "{}", got.body);
        // An unknown domain is not a custom domain of the node.
        let got = http_get(node, "nope.example.com", "/other").await;
        assert_ne!(got.status, 200, "{}", got.body);
    }

    // DeleteApiMapping: `v1`'s paths fall to the empty key, whose API has no such route.
    let one = made["mappings"]["v1"].as_str().expect("the v1 mapping id");
    let after = boto3(&cp, &env, &["delete", DOMAIN, one]).await;
    assert_eq!(after["keys"], json!(["", "lambda/echo", "v1/orders"]));
    for node in &nodes {
        let got = eventually(
            &format!("{} drops the v1 mapping", node.node_id),
            Duration::from_secs(30),
            || async {
                let got = http_get(node, DOMAIN, "/v1/orders-archive/3").await;
                (got.status == 404).then_some(got)
            },
        )
        .await;
        assert_eq!(got.json(), json!({"message": "Not Found"}), "{}", got.body);
        let got = tls_get(node, &ca, "/v1/orders-archive/3").await;
        assert_eq!(got.status, 404, "{}", got.body);
        assert_eq!(got.json(), json!({"message": "Not Found"}), "{}", got.body);
        // The longer key is untouched.
        let got = http_get(node, DOMAIN, "/v1/orders/items/8").await;
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.json()["backend"], "orders", "{}", got.body);
        assert_eq!(got.json()["path"], "/items/8", "{}", got.body);
    }

    // disableExecuteApiEndpoint turned on by UpdateApi for an API served on its `$default`
    // stage (and on the domain's empty key): the execute-api host answers 403
    // {"message":"Forbidden"} (AWS: clients must use the custom domain), the domain still
    // serves it; turned off again, the execute-api host serves it again.
    let root = made["root"].as_str().expect("the root API").to_string();
    let execute_api = format!("{root}.execute-api.localhost");
    for node in &nodes {
        let got = http_get(node, &execute_api, "/other").await;
        assert_eq!(got.status, 200, "{}", got.body);
    }
    let set_disabled = |disabled: bool| {
        let m = &m;
        let path = format!("/v2/apis/{root}");
        async move {
            let api = m
                .call(
                    "PATCH",
                    &path,
                    Some(json!({"disableExecuteApiEndpoint": disabled})),
                )
                .await
                .ok();
            assert_eq!(api["disableExecuteApiEndpoint"], disabled, "{api}");
        }
    };
    set_disabled(true).await;
    for node in &nodes {
        let got = eventually(
            &format!("{} closes the execute-api host of {root}", node.node_id),
            Duration::from_secs(30),
            || async {
                let got = http_get(node, &execute_api, "/other").await;
                (got.status == 403).then_some(got)
            },
        )
        .await;
        assert_eq!(got.json(), json!({"message": "Forbidden"}), "{}", got.body);
        for scheme in ["http", "https"] {
            let got = if scheme == "http" {
                http_get(node, DOMAIN, "/other").await
            } else {
                tls_get(node, &ca, "/other").await
            };
            assert_eq!(got.status, 200, "{scheme}: {}", got.body);
            assert_eq!(got.json()["backend"], "root", "{scheme}: {}", got.body);
        }
    }
    set_disabled(false).await;
    for node in &nodes {
        eventually(
            &format!(
                "{} opens the execute-api host of {root} again",
                node.node_id
            ),
            Duration::from_secs(30),
            || async { (http_get(node, &execute_api, "/other").await.status == 200).then_some(()) },
        )
        .await;
    }
}
