//! Data-plane routing end to end, on a control plane and two data-plane nodes: route
//! precedence (literal, `{param}`, `{proxy+}`), exact method before `ANY`, AWS's 403s,
//! HEAD/OPTIONS, encoded segments, trailing slashes, both invoke URL forms, request ids,
//! stage variables, `requestParameters` mappings and hop-by-hop headers.

use std::collections::HashSet;
use std::time::Duration;

use apigw_e2e::rest_api::{self, add_resource, deploy, method_path, new_api, text};
use apigw_e2e::{eventually, Backend, Cluster, DataPlane, Mgmt};
use http::HeaderMap;
use serde_json::{json, Value};

/// A `verb` method answering `{"route": "<route>"}` through MOCK, so a test sees which
/// resource and method served it.
async fn mock(m: &Mgmt, api: &str, resource: &str, verb: &str, route: &str) {
    rest_api::mock_method(
        m,
        api,
        resource,
        verb,
        &format!("{{\"route\": \"{route}\"}}"),
    )
    .await;
}

/// A `verb` method proxied (HTTP_PROXY) to `uri` with the given parameter mappings.
async fn proxy(m: &Mgmt, api: &str, resource: &str, verb: &str, uri: &str, params: Value) {
    let method = method_path(api, resource, verb);
    let declared: serde_json::Map<String, Value> = params
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, source)| source.as_str())
        .filter(|source| source.starts_with("method.request."))
        .map(|source| (source.to_string(), json!(false)))
        .collect();
    m.put(
        &method,
        json!({"authorizationType": "NONE", "requestParameters": declared}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": verb, "uri": uri, "requestParameters": params}),
    )
    .await
    .ok();
}

/// The two invoke URL forms.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// Host `{apiId}.execute-api.localhost:{port}`, path `/{stage}/{path}`.
    Host,
    /// `/restapis/{apiId}/{stage}/_user_request_/{path}` on the node's address.
    UserRequest,
}

const FORMS: [Form; 2] = [Form::Host, Form::UserRequest];

/// What the gateway answered.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
    json: Value,
}

impl Reply {
    /// Which MOCK route answered (`route`), or `echo:<path>` for the echo backend.
    fn route(&self) -> String {
        if let Some(r) = self.json["route"].as_str() {
            return r.to_string();
        }
        match self.json["path"].as_str() {
            Some(p) => format!("echo:{p}"),
            None => format!("{} {}", self.status, self.text),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A client for one node that remembers every request id it saw.
struct Caller<'a> {
    node: &'a DataPlane,
    client: reqwest::Client,
    request_ids: std::sync::Mutex<Vec<String>>,
}

impl<'a> Caller<'a> {
    fn new(node: &'a DataPlane) -> Self {
        Caller {
            node,
            client: reqwest::Client::new(),
            request_ids: Default::default(),
        }
    }

    /// Sends `verb` to `path` (with any query) of `api`/`stage` through `form`.
    async fn call(
        &self,
        form: Form,
        verb: &str,
        api: &str,
        stage: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = match form {
            Form::Host => self
                .client
                .request(
                    verb.parse().expect("method"),
                    format!("{}/{stage}{path}", self.node.base()),
                )
                .header(
                    "host",
                    format!("{api}.execute-api.localhost:{}", self.node.port),
                ),
            Form::UserRequest => self.client.request(
                verb.parse().expect("method"),
                self.node.invoke_url(api, stage, path),
            ),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("invoke");
        self.reply(resp).await
    }

    async fn get(&self, form: Form, api: &str, path: &str) -> Reply {
        self.call(form, "GET", api, "prod", path, &[]).await
    }

    async fn reply(&self, resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let id = headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(!id.is_empty(), "every response has x-amzn-RequestId");
        self.request_ids.lock().expect("ids").push(id);
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// Every request id seen was distinct.
    fn assert_request_ids_unique(&self) {
        let ids = self.request_ids.lock().expect("ids");
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "request ids repeat: {ids:?}");
        assert!(ids.len() > 5);
    }
}

async fn wait_deployed(nodes: &[DataPlane], api: &str, path: &str, want: &str) {
    for node in nodes {
        let caller = Caller::new(node);
        eventually(
            &format!("{} serving {path} = {want}", node.node_id),
            Duration::from_secs(10),
            || async {
                (caller.get(Form::UserRequest, api, path).await.route() == want).then_some(())
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precedence_methods_encoding_and_both_url_forms() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b1").await;
    let m = cluster.cp.mgmt();
    let (api, root) = new_api(&m, "routes").await;
    let pets = add_resource(&m, &api, &root, "pets").await;
    let mine = add_resource(&m, &api, &pets, "mine").await;
    let pet = add_resource(&m, &api, &pets, "{id}").await;
    let greedy = add_resource(&m, &api, &root, "{proxy+}").await;
    mock(&m, &api, &pets, "GET", "pets").await;
    mock(&m, &api, &mine, "GET", "mine").await;
    proxy(
        &m,
        &api,
        &pet,
        "GET",
        "http://${stageVariables.host}/pets/{id}",
        json!({"integration.request.path.id": "method.request.path.id",
               "integration.request.header.X-Pet-Id": "method.request.path.id"}),
    )
    .await;
    mock(&m, &api, &pet, "ANY", "pet-any").await;
    mock(&m, &api, &greedy, "ANY", "proxy").await;
    deploy(&m, &api, "prod", json!({"host": backend.addr.to_string()})).await;
    wait_deployed(&cluster.nodes, &api, "/pets/mine", "mine").await;

    for node in &cluster.nodes {
        let c = Caller::new(node);
        for form in FORMS {
            let get = |path: &'static str| c.get(form, &api, path);
            // Literal beats {param} beats {proxy+}, at each level.
            assert_eq!(get("/pets").await.route(), "pets", "{form:?}");
            assert_eq!(get("/pets/mine").await.route(), "mine", "{form:?}");
            let r = get("/pets/42").await;
            assert_eq!(r.route(), "echo:/pets/42", "{form:?}");
            assert_eq!(r.json["headers"]["x-pet-id"], "42");
            assert_eq!(get("/pets/mine/toys").await.route(), "proxy");
            assert_eq!(get("/pets/42/toys").await.route(), "proxy");
            assert_eq!(get("/cats").await.route(), "proxy");
            assert_eq!(get("/a/b/c").await.route(), "proxy");
            // {proxy+} needs at least one segment: the root has no method.
            let r = get("/").await;
            assert_eq!(
                (r.status, &r.json),
                (403, &json!({"message": "Missing Authentication Token"})),
                "{form:?}"
            );

            // Exact method beats ANY on the same resource; ANY takes every other method.
            for verb in ["POST", "DELETE", "PUT", "PATCH"] {
                let r = c.call(form, verb, &api, "prod", "/pets/42", &[]).await;
                assert_eq!(r.route(), "pet-any", "{verb} {form:?}");
            }
            let r = c.call(form, "HEAD", &api, "prod", "/pets/42", &[]).await;
            assert_eq!((r.status, r.text.as_str()), (200, ""), "HEAD via ANY");

            // Trailing slash: the same resource, the same parameter.
            assert_eq!(get("/pets/").await.route(), "pets");
            assert_eq!(get("/pets/mine/").await.route(), "mine");
            let r = get("/pets/42/").await;
            assert_eq!(r.route(), "echo:/pets/42");
            assert_eq!(r.json["headers"]["x-pet-id"], "42");

            // Encoded segments reach {id} decoded, and the backend path re-encoded.
            let r = get("/pets/a%20b").await;
            assert_eq!(r.route(), "echo:/pets/a%20b", "{form:?}");
            assert_eq!(r.json["headers"]["x-pet-id"], "a b");
            let r = get("/pets/a%2Fb").await;
            assert_eq!(
                r.route(),
                "echo:/pets/a%2Fb",
                "an encoded slash stays in one segment"
            );
            assert_eq!(r.json["headers"]["x-pet-id"], "a/b");
            let r = get("/pets/caf%C3%A9").await;
            assert_eq!(r.route(), "echo:/pets/caf%C3%A9");
            // The query string goes through HTTP_PROXY untouched.
            let r = get("/pets/7?color=red&tag=a%20b").await;
            assert_eq!(r.json["query"], "color=red&tag=a%20b");
        }
        // The Host form ignores the case of the domain and accepts no port.
        let r = c
            .client
            .get(format!("{}/prod/pets/mine", node.base()))
            .header("host", format!("{api}.EXECUTE-API.localhost"))
            .send()
            .await
            .expect("invoke");
        assert_eq!(c.reply(r).await.route(), "mine");
        c.assert_request_ids_unique();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_missing_token_head_and_options() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let (api, root) = new_api(&m, "strict").await;
    let items = add_resource(&m, &api, &root, "items").await;
    let item = add_resource(&m, &api, &items, "{id}").await;
    let cors = add_resource(&m, &api, &root, "cors").await;
    mock(&m, &api, &items, "GET", "items").await;
    mock(&m, &api, &item, "ANY", "item-any").await;
    mock(&m, &api, &cors, "GET", "cors-get").await;
    mock(&m, &api, &cors, "OPTIONS", "cors-options").await;
    deploy(&m, &api, "prod", json!({})).await;
    wait_deployed(&cluster.nodes, &api, "/items", "items").await;
    let missing = json!({"message": "Missing Authentication Token"});
    let forbidden = json!({"message": "Forbidden"});

    for node in &cluster.nodes {
        let c = Caller::new(node);
        for form in FORMS {
            // No resource, or a resource without the method: AWS's 403.
            for (verb, path) in [
                ("GET", "/nothing"),
                ("GET", "/"),
                ("GET", "/items/1/extra"),
                ("POST", "/items"),
                ("DELETE", "/cors"),
                ("OPTIONS", "/items"),
                ("GET", "/ITEMS"),
            ] {
                let r = c.call(form, verb, &api, "prod", path, &[]).await;
                assert_eq!(
                    (r.status, &r.json, r.header("x-amzn-errortype")),
                    (403, &missing, "MissingAuthenticationTokenException"),
                    "{verb} {path} {form:?}"
                );
                assert_eq!(r.header("content-type"), "application/json");
            }
            // HEAD is not GET: without a HEAD or ANY method it is the same 403, bodiless.
            let r = c.call(form, "HEAD", &api, "prod", "/items", &[]).await;
            assert_eq!((r.status, r.text.as_str()), (403, ""), "{form:?}");
            assert_eq!(
                r.header("x-amzn-errortype"),
                "MissingAuthenticationTokenException"
            );
            let r = c.call(form, "HEAD", &api, "prod", "/items/9", &[]).await;
            assert_eq!((r.status, r.text.as_str()), (200, ""), "HEAD through ANY");
            // OPTIONS answers only where an OPTIONS (or ANY) method is defined.
            let r = c.call(form, "OPTIONS", &api, "prod", "/cors", &[]).await;
            assert_eq!((r.status, r.route()), (200, "cors-options".to_string()));
            let r = c.call(form, "OPTIONS", &api, "prod", "/items/9", &[]).await;
            assert_eq!(r.route(), "item-any");

            // Unknown stage or API: Forbidden, whatever the path.
            for (a, stage, path) in [
                (api.as_str(), "dev", "/items"),
                (api.as_str(), "PROD", "/items"),
                ("nosuchapi", "prod", "/items"),
                ("nosuchapi", "prod", "/"),
            ] {
                let r = c.call(form, "GET", a, stage, path, &[]).await;
                assert_eq!(
                    (r.status, &r.json, r.header("x-amzn-errortype")),
                    (403, &forbidden, "ForbiddenException"),
                    "{a}/{stage}{path} {form:?}"
                );
            }
        }
        // The Host form without a stage, and URLs that are no invoke URL at all.
        let host = format!("{api}.execute-api.localhost:{}", node.port);
        for (path, host) in [
            ("/", host.as_str()),
            ("/restapis/x/prod/other/items", "127.0.0.1"),
            ("/whatever", "127.0.0.1"),
        ] {
            let r = c
                .client
                .get(format!("{}{path}", node.base()))
                .header("host", host)
                .send()
                .await
                .expect("invoke");
            let r = c.reply(r).await;
            assert_eq!((r.status, &r.json), (403, &forbidden), "{host}{path}");
        }
        // The node's own endpoints carry a request id too.
        let r = c
            .client
            .get(format!("{}/healthz", node.base()))
            .send()
            .await
            .expect("healthz");
        assert_eq!(c.reply(r).await.status, 200);
        c.assert_request_ids_unique();
    }
}

/// Sends a raw HTTP/1.1 request (exact headers, `Connection: close`) and returns the
/// response head and (de-chunked) body.
async fn raw_request(port: u16, request: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the node");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 30 s")
        .expect("read the answer");
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or_else(|| (answer.clone(), String::new()));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if !chunked {
        return (head, body);
    }
    let mut out = String::new();
    let mut rest = body.as_str();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    (head, out)
}

/// A backend that answers every connection with one fixed raw response carrying
/// hop-by-hop headers, so the test sees what the gateway passes back.
async fn hop_by_hop_backend() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the raw backend");
    let addr = listener.local_addr().expect("raw backend address");
    let task = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the request head; the gateway sends no body for a GET.
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"raw":true}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: keep-alive, X-Private\r\n\
                     X-Private: hop\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\n\
                     X-End: end-to-end\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_variables_mappings_and_hop_by_hop_headers() {
    let cluster = Cluster::start(2).await;
    let b1 = Backend::start("b1").await;
    let b2 = Backend::start("b2").await;
    let m = cluster.cp.mgmt();
    let (api, root) = new_api(&m, "mappings").await;

    // GET /map/{seg}: HTTP (non-proxy), everything the backend gets comes from mappings.
    let map = add_resource(&m, &api, &root, "map").await;
    let seg = add_resource(&m, &api, &map, "{seg}").await;
    let method = method_path(&api, &seg, "GET");
    m.put(
        &method,
        json!({"authorizationType": "NONE", "requestParameters": {
            "method.request.path.seg": true,
            "method.request.querystring.q": false,
            "method.request.header.X-In": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/responses/200"),
        json!({"responseParameters": {"method.response.header.X-Ext": false}}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration"),
        json!({
            "type": "HTTP", "httpMethod": "POST",
            "uri": "http://${stageVariables.host}/mapped/{target}/{seg}?fixed=1",
            "requestParameters": {
                "integration.request.path.target": "method.request.header.X-In",
                "integration.request.path.seg": "method.request.path.seg",
                "integration.request.querystring.search": "method.request.querystring.q",
                "integration.request.querystring.static": "'sv'",
                "integration.request.header.X-Seg": "method.request.path.seg",
                "integration.request.header.X-Q": "method.request.querystring.q",
                "integration.request.header.X-Static": "'static value'",
                "integration.request.header.X-Stage": "stageVariables.name",
                "integration.request.header.X-Rid": "context.requestId",
                "integration.request.header.X-Ext": "context.extendedRequestId"
            }
        }),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration/responses/200"),
        json!({"responseParameters": {"method.response.header.X-Ext": "context.extendedRequestId"}}),
    )
    .await
    .ok();

    // ANY /hop: HTTP_PROXY, the request passes through minus hop-by-hop headers.
    let hop = add_resource(&m, &api, &root, "hop").await;
    proxy(
        &m,
        &api,
        &hop,
        "ANY",
        "http://${stageVariables.host}/hop",
        json!({}),
    )
    .await;
    // GET /raw: HTTP_PROXY to a backend answering with hop-by-hop headers.
    let (raw_addr, raw_task) = hop_by_hop_backend().await;
    let raw = add_resource(&m, &api, &root, "raw").await;
    proxy(
        &m,
        &api,
        &raw,
        "GET",
        &format!("http://{raw_addr}/raw"),
        json!({}),
    )
    .await;

    deploy(
        &m,
        &api,
        "prod",
        json!({"host": b1.addr.to_string(), "name": "first"}),
    )
    .await;
    for node in &cluster.nodes {
        let c = Caller::new(node);
        eventually("mappings deployed", Duration::from_secs(10), || async {
            let r = c.get(Form::UserRequest, &api, "/hop").await;
            (r.json["backend"] == "b1").then_some(())
        })
        .await;
    }

    for node in &cluster.nodes {
        let c = Caller::new(node);
        for form in FORMS {
            let r = c
                .call(
                    form,
                    "GET",
                    &api,
                    "prod",
                    "/map/s%201?q=a%20b%26c&other=1",
                    &[("X-In", "from header"), ("X-Other", "not forwarded")],
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let e = &r.json;
            assert_eq!(e["backend"], "b1");
            assert_eq!(e["method"], "POST", "the integration's httpMethod");
            assert_eq!(e["path"], "/mapped/from%20header/s%201");
            let query: Vec<&str> = e["query"].as_str().unwrap_or_default().split('&').collect();
            assert!(query.contains(&"fixed=1"), "{query:?}");
            assert!(query.contains(&"static=sv"), "{query:?}");
            assert!(
                query.contains(&"search=a%20b%26c") || query.contains(&"search=a+b%26c"),
                "{query:?}"
            );
            assert!(
                !query.iter().any(|q| q.starts_with("other")),
                "HTTP forwards only mapped query parameters: {query:?}"
            );
            let h = &e["headers"];
            assert_eq!(h["x-seg"], "s 1");
            assert_eq!(h["x-q"], "a b&c");
            assert_eq!(h["x-static"], "static value");
            assert_eq!(h["x-stage"], "first");
            // Both request ids, as the client sees them in the response headers.
            assert_eq!(h["x-rid"], r.header("x-amzn-requestid"));
            let ext = r.header("x-amz-apigw-id");
            assert_eq!(ext.len(), 16, "an extended request id: {ext}");
            assert_eq!(h["x-ext"], ext, "context.extendedRequestId, request side");
            assert_eq!(
                r.header("x-ext"),
                ext,
                "context.extendedRequestId, response side"
            );
            assert!(
                h.get("x-other").is_none(),
                "HTTP forwards only mapped headers"
            );
            assert!(h.get("x-in").is_none());

            // Absent sources map to nothing rather than to empty values.
            let r = c.get(form, &api, "/map/x").await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert!(r.json["headers"].get("x-q").is_none(), "{}", r.json);
            assert!(!text(&r.json["query"]).contains("search="), "{}", r.json);
        }

        // Hop-by-hop headers stop at the gateway; end-to-end ones pass.
        let path = format!("/restapis/{api}/prod/_user_request_/hop");
        let (head, body) = raw_request(
            node.port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close, X-Hop\r\n\
                 X-Hop: listed-in-connection\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n\
                 Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n\
                 X-Keep: end-to-end\r\n\r\n",
                node.port
            ),
        )
        .await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("x-amzn-requestid:"),
            "{head}"
        );
        let echoed: Value = serde_json::from_str(&body).expect("echo JSON");
        let h = &echoed["headers"];
        assert_eq!(h["x-keep"], "end-to-end");
        for gone in [
            "x-hop",
            "keep-alive",
            "te",
            "proxy-authorization",
            "proxy-connection",
        ] {
            assert!(h.get(gone).is_none(), "{gone} was forwarded: {h}");
        }
        assert!(
            !text(&h["connection"])
                .to_ascii_lowercase()
                .contains("x-hop"),
            "{h}"
        );

        // And on the way back.
        let c = Caller::new(node);
        let r = c.get(Form::UserRequest, &api, "/raw").await;
        assert_eq!((r.status, &r.json), (200, &json!({"raw": true})));
        assert_eq!(r.header("x-end"), "end-to-end");
        for gone in ["x-private", "keep-alive", "proxy-authenticate"] {
            assert!(
                r.headers.get(gone).is_none(),
                "{gone} came back: {:?}",
                r.headers
            );
        }
        assert!(
            !r.header("connection")
                .to_ascii_lowercase()
                .contains("x-private"),
            "{:?}",
            r.headers
        );
    }

    // A stage variable change re-targets HTTP and HTTP_PROXY without a redeploy.
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "replace", "path": "/variables/host", "value": b2.addr.to_string()},
               {"op": "replace", "path": "/variables/name", "value": "second"}]),
    )
    .await
    .ok();
    for node in &cluster.nodes {
        let c = Caller::new(node);
        eventually(
            "b2 behind the stage variable",
            Duration::from_secs(10),
            || async {
                (c.get(Form::Host, &api, "/hop").await.json["backend"] == "b2").then_some(())
            },
        )
        .await;
        let r = c
            .call(Form::Host, "GET", &api, "prod", "/map/x", &[("X-In", "y")])
            .await;
        assert_eq!(r.json["backend"], "b2");
        assert_eq!(r.json["headers"]["x-stage"], "second");
    }
    raw_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_stage_variables_fail_one_method_and_disabled_endpoint_is_forbidden() {
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b1").await;
    let m = cluster.cp.mgmt();
    let (api, root) = new_api(&m, "config-errors").await;
    let ok = add_resource(&m, &api, &root, "ok").await;
    mock(&m, &api, &ok, "GET", "ok").await;
    let var = add_resource(&m, &api, &root, "var").await;
    proxy(
        &m,
        &api,
        &var,
        "GET",
        "http://${stageVariables.host}/v",
        json!({}),
    )
    .await;
    deploy(&m, &api, "prod", json!({"host": backend.addr.to_string()})).await;
    wait_deployed(&cluster.nodes, &api, "/ok", "ok").await;

    // A stage variable that makes the URI invalid breaks only the method using it, with
    // API Gateway's 500, and the rest of the stage keeps serving.
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "replace", "path": "/variables/host", "value": "a:b:c"}]),
    )
    .await
    .ok();
    for node in &cluster.nodes {
        let caller = Caller::new(node);
        eventually(
            "the broken method answers 500",
            Duration::from_secs(10),
            || async {
                let r = reqwest::get(node.invoke_url(&api, "prod", "/var"))
                    .await
                    .ok()?;
                (r.status() == 500).then_some(())
            },
        )
        .await;
        let r = reqwest::get(node.invoke_url(&api, "prod", "/var"))
            .await
            .expect("call");
        assert_eq!(
            r.json::<Value>().await.expect("json"),
            json!({"message": "Internal server error"})
        );
        assert_eq!(
            caller.get(Form::UserRequest, &api, "/ok").await.route(),
            "ok"
        );
    }

    // disableExecuteApiEndpoint, once deployed, closes the default endpoint on every node.
    m.patch(
        &format!("/restapis/{api}"),
        json!([{"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}]),
    )
    .await
    .ok();
    deploy(&m, &api, "prod", json!({"host": backend.addr.to_string()})).await;
    for node in &cluster.nodes {
        eventually(
            "the endpoint is closed",
            Duration::from_secs(10),
            || async {
                let r = reqwest::get(node.invoke_url(&api, "prod", "/ok"))
                    .await
                    .ok()?;
                (r.status() == 403).then_some(())
            },
        )
        .await;
        let r = reqwest::get(node.invoke_url(&api, "prod", "/ok"))
            .await
            .expect("call");
        assert_eq!(
            r.json::<Value>().await.expect("json"),
            json!({"message": "Forbidden"})
        );
    }
}
