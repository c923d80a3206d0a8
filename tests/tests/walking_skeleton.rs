//! The walking skeleton, end to end: a control plane and two data-plane nodes as real
//! processes, real backends, the management API driven as the AWS SDKs drive it.

use std::time::{Duration, Instant};

use apigw_e2e::rest_api::{add_resource, mock_integration, text};
use apigw_e2e::{eventually, raw_status, Backend, Cluster, ControlPlane, DataPlane, Mgmt, RestApi};
use serde_json::{json, Value};

/// Ids of the pets API built by [`build_pets_api`].
struct PetsApi {
    id: String,
    root: String,
    pets: String,
    pet: String,
    files: String,
}

/// Creates, through the management API, the API of the user journey:
/// `GET /` MOCK, `GET /pets` HTTP, `POST /pets` MOCK, `GET /pets/{id}` HTTP_PROXY,
/// `ANY /files/{proxy+}` HTTP_PROXY. Backends are reached through the `backend` stage
/// variable.
async fn build_pets_api(m: &Mgmt) -> PetsApi {
    let api = RestApi::create_with(m, "pets", json!({"description": "e2e"})).await;
    let root = api.root.clone();
    let pets = api.resource(&root, "pets").await;
    let pet = api.resource(&pets, "{id}").await;
    let files = api.resource(&root, "files").await;
    let files = api.resource(&files, "{proxy+}").await;

    // GET / : MOCK with a header and a body.
    api.method_with_responses(
        &root,
        "GET",
        mock_integration(200),
        &[(
            "200",
            &["X-Mock"],
            json!({
                "selectionPattern": "",
                "responseParameters": {"method.response.header.X-Mock": "'yes'"},
                "responseTemplates": {"application/json": "{\"hello\": \"v1\"}"}
            }),
        )],
    )
    .await;

    // GET /pets : HTTP (non-proxy).
    api.method_with_responses(
        &pets,
        "GET",
        json!({"type": "HTTP", "httpMethod": "GET", "uri": "http://${stageVariables.backend}/pets"}),
        &[("200", &[], json!({}))],
    )
    .await;

    // POST /pets : MOCK answering 201.
    api.method_with_responses(
        &pets,
        "POST",
        mock_integration(201),
        &[(
            "201",
            &[],
            json!({"selectionPattern": "201", "responseTemplates": {"application/json": "{\"created\": true}"}}),
        )],
    )
    .await;

    // GET /pets/{id} : HTTP_PROXY with path, header and query mappings (the method
    // declares the request parameters it maps).
    let method = api.method_path(&pet, "GET");
    m.put(
        &method,
        json!({"authorizationType": "NONE", "requestParameters": {
            "method.request.path.id": true, "method.request.header.X-Source": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration"),
        json!({
            "type": "HTTP_PROXY", "httpMethod": "GET",
            "uri": "http://${stageVariables.backend}/pets/{id}",
            "requestParameters": {
                "integration.request.path.id": "method.request.path.id",
                "integration.request.header.X-Static": "'static-value'",
                "integration.request.querystring.source": "method.request.header.X-Source"
            }
        }),
    )
    .await
    .ok();

    // ANY /files/{proxy+} : HTTP_PROXY, greedy path.
    api.method(
        &files,
        "ANY",
        json!({
            "type": "HTTP_PROXY", "httpMethod": "ANY",
            "uri": "http://${stageVariables.backend}/files/{proxy}",
            "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}
        }),
    )
    .await;

    PetsApi {
        id: api.id,
        root,
        pets,
        pet,
        files,
    }
}

async fn deploy(m: &Mgmt, api: &str, description: &str, vars: Value) -> String {
    let d = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"stageName": "prod", "description": description, "variables": vars}),
        )
        .await
        .ok();
    text(&d["id"])
}

async fn get_json(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.expect("invoke");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Waits until `GET /` on every node answers `{"hello": want}`; returns how long it took.
async fn wait_hello(nodes: &[DataPlane], api: &str, want: &str) -> Duration {
    let started = Instant::now();
    for n in nodes {
        let url = n.invoke_url(api, "prod", "/");
        eventually(
            &format!("{} serving hello={want}", n.node_id),
            Duration::from_secs(10),
            || {
                let url = url.clone();
                async move {
                    let (status, body) = get_json(&url).await;
                    (status == 200 && body["hello"] == want).then_some(())
                }
            },
        )
        .await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_journey_create_deploy_call_redeploy_rollback() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b1").await;
    let m = cluster.cp.mgmt();
    let api = build_pets_api(&m).await;
    let vars = json!({"backend": backend.addr.to_string()});
    let d1 = deploy(&m, &api.id, "first", vars.clone()).await;
    wait_hello(&cluster.nodes, &api.id, "v1").await;

    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        // MOCK with a mapped static header.
        let r = client
            .get(node.invoke_url(&api.id, "prod", "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-mock"], "yes");
        assert!(r.headers().contains_key("x-amzn-requestid"));

        // HTTP non-proxy through a stage variable.
        let (status, body) = get_json(&node.invoke_url(&api.id, "prod", "/pets")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["path"], "/pets");
        assert_eq!(body["backend"], "b1");

        // MOCK selecting a non-default integration response.
        let r = client
            .post(node.invoke_url(&api.id, "prod", "/pets"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"created": true}));

        // HTTP_PROXY with path parameter, static header and query mapping.
        let r = client
            .get(node.invoke_url(&api.id, "prod", "/pets/42?color=red"))
            .header("X-Source", "e2e")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["path"], "/pets/42");
        assert_eq!(body["headers"]["x-static"], "static-value");
        let query = text(&body["query"]);
        assert!(
            query.contains("color=red") && query.contains("source=e2e"),
            "{query}"
        );

        // ANY on a greedy path, body streamed through.
        let r = client
            .put(node.invoke_url(&api.id, "prod", "/files/a/b/c.txt?v=1"))
            .body("file contents")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["method"], "PUT");
        assert_eq!(body["path"], "/files/a/b/c.txt");
        assert_eq!(body["query"], "v=1");
        assert_eq!(body["body"], "file contents");

        // The execute-api host form of the invoke URL.
        let r = client
            .get(format!("{}/prod/pets/7", node.base()))
            .header(
                "host",
                format!("{}.execute-api.localhost:{}", api.id, node.port),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["path"], "/pets/7");

        // No route: AWS's 403.
        let r = client
            .get(node.invoke_url(&api.id, "prod", "/nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"message": "Missing Authentication Token"})
        );
        // Unknown stage.
        let r = client
            .get(node.invoke_url(&api.id, "dev", "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }

    // Change the API: nothing changes until it is deployed.
    let mock = format!(
        "/restapis/{}/resources/{}/methods/GET/integration/responses/200",
        api.id, api.root
    );
    m.patch(
        &mock,
        json!([{"op": "replace", "path": "/responseTemplates/application~1json", "value": "{\"hello\": \"v2\"}"}]),
    )
    .await
    .ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, body) = get_json(&cluster.nodes[0].invoke_url(&api.id, "prod", "/")).await;
    assert_eq!(body["hello"], "v1", "undeployed edits must not be served");

    let d2 = deploy(&m, &api.id, "second", vars).await;
    let took = wait_hello(&cluster.nodes, &api.id, "v2").await;
    println!("redeploy reached both nodes in {took:?}");

    // History lists both, newest first, with descriptions.
    let history = m
        .get(&format!("/restapis/{}/deployments", api.id))
        .await
        .ok();
    let ids: Vec<String> = history["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| text(&d["id"]))
        .collect();
    assert_eq!(ids, vec![d2.clone(), d1.clone()]);
    assert_eq!(history["item"][1]["description"], "first");

    // Roll back by re-pointing the stage.
    m.patch(
        &format!("/restapis/{}/stages/prod", api.id),
        json!([{"op": "replace", "path": "/deploymentId", "value": d1}]),
    )
    .await
    .ok();
    let took = wait_hello(&cluster.nodes, &api.id, "v1").await;
    println!("rollback reached both nodes in {took:?}");

    // And forward again.
    m.patch(
        &format!("/restapis/{}/stages/prod", api.id),
        json!([{"op": "replace", "path": "/deploymentId", "value": d2}]),
    )
    .await
    .ok();
    wait_hello(&cluster.nodes, &api.id, "v2").await;
    let _ = (&api.pets, &api.pet, &api.files);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_keep_serving_while_the_control_plane_is_down_and_catch_up() {
    let mut cluster = Cluster::start(2).await;
    let backend = Backend::start("b1").await;
    let m = cluster.cp.mgmt();
    let api = build_pets_api(&m).await;
    deploy(
        &m,
        &api.id,
        "first",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;
    wait_hello(&cluster.nodes, &api.id, "v1").await;

    cluster.cp.stop().await;
    for _ in 0..5 {
        for n in &cluster.nodes {
            let (status, body) = get_json(&n.invoke_url(&api.id, "prod", "/")).await;
            assert_eq!((status, body["hello"].clone()), (200, json!("v1")));
            let (status, _) = get_json(&n.invoke_url(&api.id, "prod", "/pets")).await;
            assert_eq!(status, 200);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let (http, grpc, db) = (
        cluster.cp.http_port,
        cluster.cp.grpc_port,
        cluster.cp.database_url.clone(),
    );
    cluster.cp = ControlPlane::start_on(&db, http, grpc).await;
    let m = cluster.cp.mgmt();
    m.patch(
        &format!("/restapis/{}/resources/{}/methods/GET/integration/responses/200", api.id, api.root),
        json!([{"op": "replace", "path": "/responseTemplates/application~1json", "value": "{\"hello\": \"after-restart\"}"}]),
    )
    .await
    .ok();
    deploy(&m, &api.id, "after restart", json!({})).await;
    wait_hello(&cluster.nodes, &api.id, "after-restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_replica_reaches_nodes_of_another() {
    let db = apigw_e2e::fresh_database().await.unwrap();
    let a = ControlPlane::start(&db).await;
    let b = ControlPlane::start(&db).await;
    let node_a = DataPlane::start(&a.grpc_url(), "on-a").await;
    let node_b = DataPlane::start(&b.grpc_url(), "on-b").await;
    node_a.wait_ready().await;
    node_b.wait_ready().await;
    let backend = Backend::start("b1").await;
    let m = a.mgmt();
    let api = build_pets_api(&m).await;
    deploy(
        &m,
        &api.id,
        "via a",
        json!({"backend": backend.addr.to_string()}),
    )
    .await;
    let took = wait_hello(&[node_a, node_b], &api.id, "v1").await;
    println!("deployment through replica A reached nodes of A and B in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_failures_map_to_aws_errors() {
    let cluster = Cluster::start(1).await;
    let node = &cluster.nodes[0];
    let backend = Backend::start("b1").await;
    let m = cluster.cp.mgmt();
    let api = m.post("/restapis", json!({"name": "failures"})).await.ok();
    let (id, root) = (text(&api["id"]), text(&api["rootResourceId"]));
    let base = format!("/restapis/{id}/resources");
    let add = |part: &'static str, uri: String, timeout: u32| {
        let m = m.clone();
        let base = base.clone();
        let (id, root) = (id.clone(), root.clone());
        async move {
            let r = add_resource(&m, &id, &root, part).await;
            let method = format!("{base}/{r}/methods/ANY");
            m.put(&method, json!({"authorizationType": "NONE"}))
                .await
                .ok();
            m.put(
                &format!("{method}/integration"),
                json!({"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": uri, "timeoutInMillis": timeout}),
            )
            .await
            .ok();
            r
        }
    };
    // The backend answers after a minute, long after the client below gives up: a 504 can
    // only be the gateway's 200 ms timeout cutting the exchange.
    add("slow", format!("{}/slow/60000", backend.url()), 200).await;
    add(
        "down",
        format!("http://127.0.0.1:{}/", apigw_e2e::free_port()),
        29000,
    )
    .await;
    add("echo", format!("{}/echo", backend.url()), 29000).await;

    // HTTP non-proxy with selection patterns and a header from the backend.
    let status = text(
        &m.post(&format!("{base}/{root}"), json!({"pathPart": "status"}))
            .await
            .ok()["id"],
    );
    let method = format!("{base}/{status}/methods/GET");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    m.put(&format!("{method}/responses/200"), json!({}))
        .await
        .ok();
    m.put(
        &format!("{method}/responses/404"),
        json!({"responseParameters": {"method.response.header.X-From": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration"),
        json!({"type": "HTTP", "httpMethod": "GET", "uri": format!("{}/status/404", backend.url())}),
    )
    .await
    .ok();
    m.put(&format!("{method}/integration/responses/200"), json!({}))
        .await
        .ok();
    m.put(
        &format!("{method}/integration/responses/404"),
        json!({"selectionPattern": "4\\d{2}",
               "responseParameters": {"method.response.header.X-From": "integration.response.header.x-backend-header"}}),
    )
    .await
    .ok();
    m.post(
        &format!("/restapis/{id}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await
    .ok();
    node.wait_ready().await;
    let url = |p: &str| node.invoke_url(&id, "prod", p);
    eventually(
        "deployment on the node",
        Duration::from_secs(10),
        || async { (get_json(&url("/echo")).await.0 == 200).then_some(()) },
    )
    .await;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let r = client
        .get(url("/slow"))
        .send()
        .await
        .expect("the gateway answers before the slow backend does");
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(
        (status, body),
        (504, json!({"message": "Endpoint request timed out"})),
        "the 200 ms timeout must cut the minute-long backend"
    );

    let (status, _) = get_json(&url("/down")).await;
    assert_eq!(status, 502);

    let r = reqwest::get(url("/status")).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-from"], "from-backend");

    // Over 10 MB, declared up front: answered before the body is read.
    let too_big = 10 * 1024 * 1024 + 1;
    let path = format!("/restapis/{id}/prod/_user_request_/echo");
    let head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {too_big}");
    assert_eq!(raw_status(node.port, &head, too_big, false).await, 413);
    // Over 10 MB, streamed without a length: cut off while streaming to the backend.
    let head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked");
    assert_eq!(raw_status(node.port, &head, too_big, true).await, 413);
    // Exactly at the limit, streamed: passes.
    let head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked");
    assert_eq!(
        raw_status(node.port, &head, 10 * 1024 * 1024, true).await,
        200
    );
}
