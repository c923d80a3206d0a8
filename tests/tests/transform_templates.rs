//! Mapping templates in the pipeline, end to end (issue 5, part C): the seeds' walkthrough
//! steps that use templates (`003_*`: the mocked API, body mapping both ways, path
//! parameters in templates; `000_*`: a custom integration timeout), every passthrough
//! combination, integration response selection and mappings, `$context` and the
//! request/response overrides, and templates refused when saved.
//!
//! Each test runs a control plane and two data-plane nodes as processes, with a real
//! echo backend ([`Backend`]) standing in for the functions of the seeds.

use std::time::Duration;

use apigw_e2e::rest_api::{mock_integration as mock, text};
use apigw_e2e::{eventually, Backend, Cluster, RestApi};
use serde_json::{json, Value};

/// Adds `GET /ready` (MOCK 200), deploys, and waits until every node serves it.
async fn deploy_and_wait(cluster: &Cluster, api: &RestApi<'_>, stage: &str, variables: Value) {
    let ready = api.resource(&api.root, "ready").await;
    api.method_with_responses(&ready, "GET", mock(200), &[("200", &[], json!({}))])
        .await;
    api.deploy(stage, variables).await;
    for node in &cluster.nodes {
        let url = node.invoke_url(&api.id, stage, "/ready");
        eventually(
            &format!("{} serving {}", node.node_id, api.id),
            Duration::from_secs(10),
            || {
                let url = url.clone();
                async move {
                    let r = reqwest::get(&url).await.ok()?;
                    (r.status() == 200).then_some(())
                }
            },
        )
        .await;
    }
}

/// A request's outcome: status, headers, body as JSON (or a JSON string when not JSON).
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let r = request.send().await.expect("invoke");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// The body the echo backend received, as JSON.
fn echoed_body(reply: &Reply) -> Value {
    let text = text(&reply.body["body"]);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// Seed 003 "Create first mocked API": a MOCK method answering what its integration
/// response template says, deployed to a stage and called on every node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_first_mocked_api() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "mocked").await;
    let hello = api.resource(&api.root, "hello").await;
    api.method_with_responses(
        &hello,
        "GET",
        mock(200),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json":
                "{\"message\": \"Hello from mock\", \"stage\": \"$context.stage\"}"}}),
        )],
    )
    .await;
    // The status comes from the request template, computed from the request itself.
    let coded = api.resource(&api.root, "coded").await;
    api.method_with_responses(
        &coded,
        "POST",
        json!({"type": "MOCK", "requestTemplates": {"application/json":
            "{\"statusCode\": $input.json('$.code')}"}}),
        &[
            ("200", &[], json!({})),
            (
                "404",
                &[],
                json!({"selectionPattern": "404",
                "responseTemplates": {"application/json": "{\"found\": false}"}}),
            ),
        ],
    )
    .await;
    deploy_and_wait(&cluster, &api, "dev", json!({})).await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let r = send(client.get(node.invoke_url(&api.id, "dev", "/hello"))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body,
            json!({"message": "Hello from mock", "stage": "dev"})
        );
        assert_eq!(r.headers["content-type"], "application/json");

        let url = node.invoke_url(&api.id, "dev", "/coded");
        let r = send(client.post(&url).json(&json!({"code": 404}))).await;
        assert_eq!((r.status, r.body), (404, json!({"found": false})));
        let r = send(client.post(&url).json(&json!({"code": 200}))).await;
        assert_eq!(r.status, 200);
    }
}

/// Seed 003 "Integration Request with disabled Use Lambda Proxy integration": the
/// request template `{"age" : $input.json('$.personData.age')}` shapes what the backend
/// receives and the response template `{"your-age": $input.json('$')}` shapes what the
/// caller gets (an echo backend stands in for the function).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_proxy_body_mapping_age_and_your_age() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("fn").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "lambda-non-proxy").await;
    let res = api.resource(&api.root, "api-lambda").await;
    api.method_with_responses(
        &res,
        "POST",
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": "http://${stageVariables.backend}/fn",
            "passthroughBehavior": "WHEN_NO_TEMPLATES",
            "requestTemplates": {"application/json": "{\n\"age\" : $input.json('$.personData.age')\n}"}
        }),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json": "{\n    \"your-age\": $input.json('$')\n}"}}),
        )],
    )
    .await;
    deploy_and_wait(
        &cluster,
        &api,
        "dev",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let r = send(
            client
                .post(node.invoke_url(&api.id, "dev", "/api-lambda"))
                .json(&json!({"personData": {"name": "Jacek", "age": 26}})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let echoed = &r.body["your-age"];
        assert_eq!(echoed["method"], "POST");
        assert_eq!(echoed["path"], "/fn");
        assert_eq!(text(&echoed["body"]), "{\n\"age\" : 26\n}");
        assert_eq!(echoed["headers"]["content-type"], "application/json");
    }
}

/// Seed 003 "Using params in URL path": `DELETE /api-lambda/{type}` with the request
/// template `{"type": "$input.params('type')"}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_params_in_template_delete_api_lambda_type() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("fn").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "lambda-path").await;
    let base = api.resource(&api.root, "api-lambda").await;
    let typed = api.resource(&base, "{type}").await;
    api.method_with_responses(
        &typed,
        "DELETE",
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": "http://${stageVariables.backend}/delete",
            "requestTemplates": {"application/json": "{\"type\": \"$input.params('type')\"}"}
        }),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json": "$input.json('$.body')"}}),
        )],
    )
    .await;
    deploy_and_wait(
        &cluster,
        &api,
        "dev",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        for kind in ["all", "single", "other%20one"] {
            let r = send(client.delete(node.invoke_url(
                &api.id,
                "dev",
                &format!("/api-lambda/{kind}"),
            )))
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let sent: Value = serde_json::from_str(&text(&r.body)).expect("a JSON string");
            let want = kind.replace("%20", " ");
            assert_eq!(sent, json!({"type": want}));
        }
    }
}

/// Seed 000 "custom timeouts": an integration with `timeoutInMillis` 2000 in front of a
/// backend that takes a minute answers 504 `Endpoint request timed out` (the client
/// gives up long before the minute, so a timeout not honoured fails the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_integration_timeout_2s_gives_504() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("slow").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "timeouts").await;
    let res = api.resource(&api.root, "slow").await;
    api.method_with_responses(
        &res,
        "GET",
        json!({
            "type": "HTTP", "httpMethod": "GET",
            "uri": "http://${stageVariables.backend}/slow/60000",
            "timeoutInMillis": 2000,
            "requestTemplates": {"application/json": "{}"}
        }),
        &[("200", &[], json!({}))],
    )
    .await;
    deploy_and_wait(
        &cluster,
        &api,
        "dev",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for node in &cluster.nodes {
        let r = send(client.get(node.invoke_url(&api.id, "dev", "/slow"))).await;
        assert_eq!(r.status, 504, "{}", r.body);
        assert_eq!(r.body, json!({"message": "Endpoint request timed out"}));
    }
}

/// Every passthrough combination: content type matching a template, not matching one,
/// and an integration without templates, under WHEN_NO_MATCH, WHEN_NO_TEMPLATES and
/// NEVER; plus a request without Content-Type (taken as `application/json`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_behavior_every_combination() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "passthrough").await;
    let behaviors = ["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"];
    for behavior in behaviors {
        for with_templates in [true, false] {
            let part = format!(
                "{}-{}",
                behavior.to_lowercase().replace('_', "-"),
                if with_templates { "t" } else { "none" }
            );
            let rid = api.resource(&api.root, &part).await;
            let mut integration = json!({
                "type": "HTTP", "httpMethod": "POST",
                "uri": "http://${stageVariables.backend}/echo",
                "passthroughBehavior": behavior,
            });
            if with_templates {
                integration["requestTemplates"] =
                    json!({"application/json": "{\"mapped\": $input.json('$.v')}"});
            }
            api.method_with_responses(&rid, "POST", integration, &[("200", &[], json!({}))])
                .await;
        }
    }
    deploy_and_wait(
        &cluster,
        &api,
        "dev",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;

    #[derive(Debug, PartialEq)]
    enum Want {
        Mapped,
        Passed,
        Unsupported,
    }
    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        for behavior in behaviors {
            let prefix = behavior.to_lowercase().replace('_', "-");
            let cases = [
                // (resource, content type, expected)
                ("t", Some("application/json"), Want::Mapped),
                ("t", None, Want::Mapped),
                (
                    "t",
                    Some("text/plain"),
                    if behavior == "WHEN_NO_MATCH" {
                        Want::Passed
                    } else {
                        Want::Unsupported
                    },
                ),
                (
                    "none",
                    Some("text/plain"),
                    if behavior == "NEVER" {
                        Want::Unsupported
                    } else {
                        Want::Passed
                    },
                ),
                (
                    "none",
                    Some("application/json"),
                    if behavior == "NEVER" {
                        Want::Unsupported
                    } else {
                        Want::Passed
                    },
                ),
            ];
            for (suffix, content_type, want) in cases {
                let url = node.invoke_url(&api.id, "dev", &format!("/{prefix}-{suffix}"));
                let mut req = client.post(&url).body(r#"{"v": 7}"#);
                if let Some(ct) = content_type {
                    req = req.header("content-type", ct);
                }
                let r = send(req).await;
                let what = format!("{behavior} {suffix} {content_type:?}: {}", r.body);
                match want {
                    Want::Mapped => {
                        assert_eq!(r.status, 200, "{what}");
                        assert_eq!(echoed_body(&r), json!({"mapped": 7}), "{what}");
                    }
                    Want::Passed => {
                        assert_eq!(r.status, 200, "{what}");
                        assert_eq!(text(&r.body["body"]), r#"{"v": 7}"#, "{what}");
                        assert_eq!(
                            text(&r.body["headers"]["content-type"]),
                            content_type.unwrap_or_default(),
                            "{what}"
                        );
                    }
                    Want::Unsupported => {
                        assert_eq!(r.status, 415, "{what}");
                        assert_eq!(
                            r.body,
                            json!({"message": "Unsupported Media Type"}),
                            "{what}"
                        );
                        assert_eq!(
                            r.headers["x-amzn-errortype"],
                            "UnsupportedMediaTypeException"
                        );
                    }
                }
            }
        }
    }
}

/// Integration responses: anchored `selectionPattern`s on the backend status, the
/// default otherwise, `responseParameters` from backend headers, the body and a JSONPath
/// into it, static values, and response templates chosen by `Accept`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_response_selection_and_mappings() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "selection").await;
    let status = api.resource(&api.root, "status").await;
    let code = api.resource(&status, "{code}").await;
    api.method_with_responses(
        &code,
        "GET",
        json!({
            "type": "HTTP", "httpMethod": "GET",
            "uri": "http://${stageVariables.backend}/status/{code}",
            "requestParameters": {"integration.request.path.code": "method.request.path.code"}
        }),
        &[
            (
                "200",
                &["X-From-Backend", "X-Status", "X-Static", "X-Body"],
                json!({
                    "responseParameters": {
                        "method.response.header.X-From-Backend": "integration.response.header.x-backend-header",
                        "method.response.header.X-Status": "integration.response.body.status",
                        "method.response.header.X-Static": "'fixed'",
                        "method.response.header.X-Body": "integration.response.body"
                    },
                    "responseTemplates": {
                        "application/json": "{\"kind\": \"json\", \"status\": $input.json('$.status')}",
                        "text/plain": "plain $input.path('$.status')"
                    }
                }),
            ),
            (
                "400",
                &[],
                json!({"selectionPattern": "4\\d{2}",
                "responseTemplates": {"application/json": "{\"client\": $input.json('$.status')}"}}),
            ),
            (
                "502",
                &[],
                json!({"selectionPattern": "50[0-3]|42",
                "responseTemplates": {"application/json": "{\"server\": $input.json('$.status')}"}}),
            ),
        ],
    )
    .await;
    deploy_and_wait(
        &cluster,
        &api,
        "dev",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let get =
            |code: &str| client.get(node.invoke_url(&api.id, "dev", &format!("/status/{code}")));
        let r = send(get("200")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body, json!({"kind": "json", "status": 200}));
        assert_eq!(r.headers["x-from-backend"], "from-backend");
        assert_eq!(r.headers["x-status"], "200");
        assert_eq!(r.headers["x-static"], "fixed");
        assert_eq!(r.headers["x-body"], r#"{"status":200}"#);
        assert_eq!(r.headers["content-type"], "application/json");

        let r = send(get("200").header("accept", "text/plain")).await;
        assert_eq!(r.body, json!("plain 200"));
        assert_eq!(r.headers["content-type"], "text/plain");
        // An Accept without a template falls back to application/json.
        let r = send(get("200").header("accept", "image/png")).await;
        assert_eq!(r.body["kind"], "json");

        let r = send(get("404")).await;
        assert_eq!((r.status, r.body), (400, json!({"client": 404})));
        let r = send(get("503")).await;
        assert_eq!((r.status, r.body), (502, json!({"server": 503})));
        // Anchored: "50[0-3]|42" matches neither 504 nor 420 partially; default is 200.
        let r = send(get("504")).await;
        assert_eq!((r.status, &r.body["kind"]), (200, &json!("json")));
        let r = send(get("201")).await;
        assert_eq!((r.status, &r.body["status"]), (200, &json!(201)));
    }
}

/// `$context`, `$stageVariables`, `$input.params()` and the overrides:
/// `$context.requestOverride.header|querystring|path` change the integration request,
/// `$context.responseOverride.status|header` change the method response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_variables_and_overrides() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "overrides").await;
    let items = api.resource(&api.root, "items").await;
    let item = api.resource(&items, "{id}").await;
    let request_template = r#"#set($context.requestOverride.header.X-Over = "hdr-$input.params('id')")
#set($context.requestOverride.querystring.q = "over ride")
#set($context.requestOverride.path.id = "changed")
{
  "stage": "$context.stage",
  "apiId": "$context.apiId",
  "resourcePath": "$context.resourcePath",
  "resourceId": "$context.resourceId",
  "httpMethod": "$context.httpMethod",
  "path": "$context.path",
  "protocol": "$context.protocol",
  "requestTime": "$context.requestTime",
  "epoch": $context.requestTimeEpoch,
  "sourceIp": "$context.identity.sourceIp",
  "userAgent": "$context.identity.userAgent",
  "requestId": "$context.requestId",
  "color": "$stageVariables.color",
  "id": "$input.params('id')",
  "query": "$input.params().querystring.get('q')",
  "header": "$input.params('X-Trace')"
}"#;
    api.method_with_responses(
        &item,
        "PUT",
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": "http://${stageVariables.backend}/items/{id}",
            "requestParameters": {
                "integration.request.path.id": "method.request.path.id",
                "integration.request.querystring.q": "'mapped'"
            },
            "requestTemplates": {"application/json": request_template}
        }),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json":
                "#set($context.responseOverride.status = 418)\n#set($context.responseOverride.header.X-Resp = \"r-$input.json('$.path')\")\n$input.json('$')"}}),
        )],
    )
    .await;
    deploy_and_wait(
        &cluster,
        &api,
        "dev",
        json!({"backend": backend.addr.to_string(), "color": "blue"}),
    )
    .await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let r = send(
            client
                .put(node.invoke_url(&api.id, "dev", "/items/a%20b?q=orig"))
                .header("x-trace", "t-1")
                .header("user-agent", "e2e-agent")
                .json(&json!({})),
        )
        .await;
        assert_eq!(r.status, 418, "{}", r.body);
        let echoed = &r.body;
        assert_eq!(echoed["path"], "/items/changed");
        assert_eq!(echoed["query"], "q=over%20ride");
        assert_eq!(echoed["headers"]["x-over"], "hdr-a b");
        assert_eq!(r.headers["x-resp"], "r-\"/items/changed\"");

        let sent = echoed_body(&r);
        assert_eq!(sent["stage"], "dev");
        assert_eq!(sent["apiId"], api.id.as_str());
        assert_eq!(sent["resourcePath"], "/items/{id}");
        assert_eq!(sent["resourceId"], item.as_str());
        assert_eq!(sent["httpMethod"], "PUT");
        assert_eq!(sent["path"], "/dev/items/a%20b");
        assert_eq!(sent["protocol"], "HTTP/1.1");
        assert!(
            is_request_time(&text(&sent["requestTime"])),
            "{}",
            sent["requestTime"]
        );
        assert!(sent["epoch"].as_u64().unwrap_or_default() > 1_600_000_000_000);
        assert_eq!(sent["sourceIp"], "127.0.0.1");
        assert_eq!(sent["userAgent"], "e2e-agent");
        assert_eq!(
            sent["requestId"],
            r.headers["x-amzn-requestid"].to_str().unwrap()
        );
        assert_eq!(sent["color"], "blue");
        assert_eq!(sent["id"], "a b");
        assert_eq!(sent["query"], "orig");
        assert_eq!(sent["header"], "t-1");
    }
}

/// `$input.params('name')` with literal names: the node builds only the named parameters,
/// so a header named in another case, a name only the response template uses, a repeated
/// query key and a name nobody sent must all still answer as AWS does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_parameters_reach_request_and_response_templates() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "named-params").await;
    let lookup = api.resource(&api.root, "lookup").await;
    let item = api.resource(&lookup, "{id}").await;
    api.method_with_responses(
        &item,
        "GET",
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": "http://${stageVariables.backend}/lookup",
            "requestTemplates": {"application/json":
                "{\"q\": \"$input.params('q')\", \"trace\": \"$input.params('X-Trace')\", \"missing\": \"$input.params('nope')\"}"}
        }),
        &[(
            "200",
            &[],
            json!({"responseTemplates": {"application/json":
                "{\"id\": \"$input.params('id')\", \"other\": \"$input.params('X-OTHER')\", \"sent\": $input.json('$.body')}"}}),
        )],
    )
    .await;
    deploy_and_wait(
        &cluster,
        &api,
        "prod",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let r = send(
            client
                .get(node.invoke_url(&api.id, "prod", "/lookup/p%201?q=first&q=last"))
                .header("X-Trace", "t-9")
                .header("x-other", "o-2")
                .header("content-type", "application/json"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        // The response template's own names (a path parameter, a header named in
        // another case than it arrived in).
        assert_eq!(r.body["id"], "p 1", "{}", r.body);
        assert_eq!(r.body["other"], "o-2");
        // What the request template sent: the last value of a repeated key, the header
        // looked up without case, and nothing for a name nobody sent.
        let sent: Value = serde_json::from_str(&text(&r.body["sent"])).expect("JSON");
        assert_eq!(sent, json!({"q": "last", "trace": "t-9", "missing": ""}));
    }
}

/// Whether `text` has API Gateway's `requestTime` shape, `dd/MMM/yyyy:HH:mm:ss +0000`.
fn is_request_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    b.len() == 26
        && digits(0..2)
        && at(2, b'/')
        && b[3].is_ascii_uppercase()
        && b[4..6].iter().all(u8::is_ascii_lowercase)
        && at(6, b'/')
        && digits(7..11)
        && at(11, b':')
        && digits(12..14)
        && at(14, b':')
        && digits(15..17)
        && at(17, b':')
        && digits(18..20)
        && text.get(20..) == Some(" +0000")
}

/// Templates that do not parse are refused when saved — PutIntegration,
/// UpdateIntegration, PutIntegrationResponse, UpdateIntegrationResponse — with a
/// BadRequestException naming line and column; nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_parse_errors_rejected_when_saved() {
    let cluster = Cluster::start(1).await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "bad-templates").await;
    let rid = api.resource(&api.root, "x").await;
    api.method_with_responses(&rid, "POST", mock(200), &[("200", &[], json!({}))])
        .await;
    let path = api.method_path(&rid, "POST");

    let bad = "{\n  \"a\": #if($input.body\n}";
    let message = m
        .put(
            &format!("{path}/integration"),
            json!({"type": "MOCK", "requestTemplates": {"application/json": bad}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(
        message.contains("application/json") && message.contains("line 3, column 1"),
        "{message}"
    );
    let message = m
        .patch(
            &format!("{path}/integration"),
            json!([{"op": "add", "path": "/requestTemplates/text~1plain", "value": "#foreach($a in"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(
        message.contains("text/plain") && message.contains("line 1"),
        "{message}"
    );
    let integration = m.get(&format!("{path}/integration")).await.ok();
    assert_eq!(
        integration["requestTemplates"],
        json!({"application/json": "{\"statusCode\": 200}"}),
        "nothing stored"
    );

    let message = m
        .put(
            &format!("{path}/integration/responses/200"),
            json!({"responseTemplates": {"application/json": "$input.json("}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(message.contains("line 1, column"), "{message}");
    let message = m
        .patch(
            &format!("{path}/integration/responses/200"),
            json!([{"op": "add", "path": "/responseTemplates/application~1json", "value": "ok\n#end"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(message.contains("line 2, column 1"), "{message}");

    // Valid templates are accepted.
    m.put(
        &format!("{path}/integration/responses/200"),
        json!({"responseTemplates": {"application/json": "#if($x)1#{else}2#end"}}),
    )
    .await
    .ok();
}

/// TestInvokeMethod runs a request through a method of the current, undeployed API and
/// answers status, body, headers, multiValueHeaders, latency and an execution log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_invoke_method_runs_undeployed_api() {
    let cluster = Cluster::start(1).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "test-invoke").await;
    let items = api.resource(&api.root, "items").await;
    let item = api.resource(&items, "{id}").await;
    api.method_with_responses(
        &item,
        "POST",
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": format!("{}/items/{{id}}", backend.url()),
            "requestParameters": {"integration.request.path.id": "method.request.path.id"},
            "requestTemplates": {"application/json":
                "{\"id\": \"$input.params('id')\", \"v\": $input.json('$.v'), \"stage\": \"$context.stage\", \"color\": \"$stageVariables.color\"}"}
        }),
        &[(
            "200",
            &["X-Path"],
            json!({
                "responseParameters": {"method.response.header.X-Path": "integration.response.body.path"},
                "responseTemplates": {"application/json": "$input.json('$.body')"}
            }),
        )],
    )
    .await;
    let path = api.method_path(&item, "POST");
    let r = m
        .post(
            &path,
            json!({
                "pathWithQueryString": "/items/5?x=1",
                "body": "{\"v\": 3}",
                "headers": {"Content-Type": "application/json"},
                "stageVariables": {"color": "red"}
            }),
        )
        .await
        .ok();
    assert_eq!(r["status"], 200, "{r}");
    let sent: Value = serde_json::from_str(&text(
        &serde_json::from_str::<Value>(&text(&r["body"])).unwrap(),
    ))
    .expect("the template's output");
    assert_eq!(
        sent,
        json!({"id": "5", "v": 3, "stage": "test-invoke-stage", "color": "red"})
    );
    assert_eq!(r["headers"]["x-path"], "/items/5");
    assert_eq!(r["multiValueHeaders"]["x-path"], json!(["/items/5"]));
    assert!(r["latency"].as_i64().is_some(), "{r}");
    let log = text(&r["log"]);
    assert!(log.starts_with("Execution log for request "), "{log}");
    assert!(
        log.contains("HTTP Method: POST, Resource Path: /items/{id}"),
        "{log}"
    );
    assert!(log.contains("Method request query string: {x=1}"), "{log}");
    assert!(log.contains("Method completed with status: 200"), "{log}");
    // The integration step, in API Gateway's order and words.
    let endpoint = format!("{}/items/5", backend.url());
    let expected = [
        format!("Endpoint request URI: {endpoint}"),
        "Endpoint request headers: {".to_string(),
        "Endpoint request body after transformations: {\"id\": \"5\", \"v\": 3".to_string(),
        format!("Sending request to {endpoint}"),
        "Received response. Status: 200, Integration latency: ".to_string(),
        "Endpoint response body before transformations: {\"backend\":\"b\"".to_string(),
        "Endpoint response headers: {".to_string(),
        "Method response body after transformations: ".to_string(),
        "Method completed with status: 200".to_string(),
    ];
    let mut at = 0;
    for line in &expected {
        let found = log[at..]
            .find(line.as_str())
            .unwrap_or_else(|| panic!("{line:?} after byte {at} in\n{log}"));
        at += found + line.len();
    }

    // A MOCK method: the request template's statusCode drives the result, and the
    // method need not be deployed nor the API have other methods complete.
    let mocked = api.resource(&api.root, "mocked").await;
    api.method_with_responses(
        &mocked,
        "GET",
        json!({"type": "MOCK", "passthroughBehavior": "NEVER",
            "requestTemplates": {"application/json": "{\"statusCode\": 404}"}}),
        &[
            ("200", &[], json!({})),
            ("404", &[], json!({"selectionPattern": "404",
                "responseTemplates": {"application/json": "{\"missing\": \"$context.httpMethod\"}"}})),
        ],
    )
    .await;
    let path = api.method_path(&mocked, "GET");
    let r = m.post(&path, json!({})).await.ok();
    assert_eq!(
        (r["status"].clone(), text(&r["body"])),
        (json!(404), "{\"missing\": \"GET\"}".into())
    );
    let r = m
        .post(&path, json!({"headers": {"Content-Type": "text/plain"}}))
        .await
        .ok();
    assert_eq!(r["status"], 415, "{r}");
    assert!(text(&r["log"]).contains("Method completed with status: 415"));

    let missing = format!("/restapis/{}/resources/nope/methods/GET", api.id);
    m.post(&missing, json!({}))
        .await
        .err(404, "NotFoundException");
}

/// `$context.identity.apiKey` / `apiKeyId` carry the caller's key when the method
/// required one, and are empty otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_identity_api_key_when_key_used() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "identity").await;
    let template = json!({"responseTemplates": {"application/json":
        "{\"apiKey\": \"$context.identity.apiKey\", \"apiKeyId\": \"$context.identity.apiKeyId\"}"}});
    let keyed = api.resource(&api.root, "keyed").await;
    api.method_with_responses(&keyed, "GET", mock(200), &[("200", &[], template.clone())])
        .await;
    m.patch(
        &api.method_path(&keyed, "GET"),
        json!([{"op": "replace", "path": "/apiKeyRequired", "value": "true"}]),
    )
    .await
    .ok();
    let open = api.resource(&api.root, "open").await;
    api.method_with_responses(&open, "GET", mock(200), &[("200", &[], template)])
        .await;
    deploy_and_wait(&cluster, &api, "dev", json!({})).await;
    let key = m
        .post("/apikeys", json!({"name": "caller", "enabled": true}))
        .await
        .ok();
    let (key_id, key_value) = (text(&key["id"]), text(&key["value"]));
    let plan = m
        .post(
            "/usageplans",
            json!({"name": "p", "apiStages": [{"apiId": api.id, "stage": "dev"}]}),
        )
        .await
        .ok();
    m.post(
        &format!("/usageplans/{}/keys", text(&plan["id"])),
        json!({"keyId": key_id, "keyType": "API_KEY"}),
    )
    .await
    .ok();

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let url = node.invoke_url(&api.id, "dev", "/keyed");
        let body = eventually("the key admitted", Duration::from_secs(10), || {
            let request = client.get(&url).header("x-api-key", &key_value);
            async move {
                let r = send(request).await;
                (r.status == 200).then_some(r.body)
            }
        })
        .await;
        assert_eq!(body, json!({"apiKey": key_value, "apiKeyId": key_id}));
        let r = send(
            client
                .get(node.invoke_url(&api.id, "dev", "/open"))
                .header("x-api-key", "ignored"),
        )
        .await;
        assert_eq!(
            (r.status, r.body),
            (200, json!({"apiKey": "", "apiKeyId": ""}))
        );
    }
}

/// `contentHandling` on an HTTP integration, as API Gateway's conversion tables say: with
/// `image/png` in `binaryMediaTypes`, CONVERT_TO_TEXT sends a PNG body to the backend as
/// base64 and CONVERT_TO_BINARY sends base64 text as bytes; on the integration response,
/// CONVERT_TO_BINARY decodes the backend's base64 and CONVERT_TO_TEXT encodes its bytes.
/// The backend (`/raw`) answers with exactly what it received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_handling_converts_http_integration_bodies() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("raw").await;
    let m = cluster.cp.mgmt();
    let api = RestApi::create(&m, "binary-http").await;
    m.patch(
        &format!("/restapis/{}", api.id),
        json!([{"op": "add", "path": "/binaryMediaTypes/image~1png"}]),
    )
    .await
    .ok();
    let raw = format!("{}/raw", backend.url());
    let http = |content_handling: Option<&str>| {
        let mut integration = json!({"type": "HTTP", "httpMethod": "POST", "uri": raw});
        if let Some(handling) = content_handling {
            integration["contentHandling"] = json!(handling);
        }
        integration
    };
    let passthrough_response = json!({"selectionPattern": ""});
    // (path, integration contentHandling, integration response contentHandling)
    let cases = [
        ("totext", Some("CONVERT_TO_TEXT"), None),
        ("tobinary", Some("CONVERT_TO_BINARY"), None),
        ("decoded", None, Some("CONVERT_TO_BINARY")),
        ("encoded", None, Some("CONVERT_TO_TEXT")),
    ];
    for (path, request, response) in cases {
        let rid = api.resource(&api.root, path).await;
        let mut integration_response = passthrough_response.clone();
        if let Some(handling) = response {
            integration_response["contentHandling"] = json!(handling);
        }
        api.method_with_responses(
            &rid,
            "POST",
            http(request),
            &[("200", &[], integration_response)],
        )
        .await;
    }
    deploy_and_wait(&cluster, &api, "prod", json!({})).await;

    // Not valid UTF-8: any text path would mangle it.
    let png: Vec<u8> = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80,
    ];
    let base64 = "iVBORw0KGgoA//6A";
    let client = reqwest::Client::new();
    let post = |url: String, content_type: &str, body: Vec<u8>| {
        client
            .post(url)
            .header("content-type", content_type)
            .body(body)
    };
    for node in &cluster.nodes {
        let url = |p: &str| node.invoke_url(&api.id, "prod", p);
        // Binary in, base64 to the backend (and back).
        let r = post(url("/totext"), "image/png", png.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap(), base64.as_bytes());
        // A binary body is not decoded by CONVERT_TO_BINARY: it is binary already.
        let r = post(url("/tobinary"), "image/png", png.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap(), png);
        // Base64 text in, bytes to the backend.
        let r = post(url("/tobinary"), "text/plain", base64.into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap(), png);
        // Not base64: the client's mistake, a 400.
        let r = post(url("/tobinary"), "text/plain", b"%%%".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        // The backend's base64 answer decoded for the client.
        let r = post(url("/decoded"), "text/plain", base64.into())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap(), png);
        // The backend's bytes encoded for the client.
        let r = post(url("/encoded"), "image/png", png.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap(), base64.as_bytes());
        // A backend answer that is not base64 cannot be decoded: 502, as API Gateway.
        let r = post(url("/decoded"), "text/plain", b"not base64!".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 502);
    }
}
