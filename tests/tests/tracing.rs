//! Distributed tracing end to end (issue 16): a control plane, two data-plane nodes (one
//! exporting by OTLP/gRPC, one by OTLP/HTTP protobuf, each to a receiver this test starts)
//! and an echo backend that shows the headers it got. With `tracingEnabled` the collector
//! gets one trace per request (the server span and its integration child, plus the
//! authorizer's when a TOKEN authorizer runs), and the backend's / function event's
//! `traceparent` continues the client's trace with the integration span as parent. A stage
//! without tracing exports nothing and adds no header.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigw_e2e::invoke::get;
use apigw_e2e::rest_api::text;
use apigw_e2e::{
    eventually, free_port, fresh_database, Backend, ControlPlane, DataPlane, FunctionsHost, Mgmt,
    RestApi,
};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{json, Value};

/// A received span with its resource's `service.name`.
#[derive(Debug, Clone)]
struct Got {
    service: String,
    span: Span,
}

impl Got {
    fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }
    fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }
    fn parent(&self) -> String {
        hex(&self.span.parent_span_id)
    }
    fn attr(&self, key: &str) -> Option<String> {
        self.span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
            .map(|v| match v {
                AnyValue::StringValue(s) => s.clone(),
                AnyValue::IntValue(i) => i.to_string(),
                other => format!("{other:?}"),
            })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a test OTLP receiver got.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Got>>>);

impl Received {
    fn add(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.0.lock().expect("receiver lock");
        for resource in request.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    AnyValue::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push(Got {
                        service: service.clone(),
                        span,
                    });
                }
            }
        }
    }

    fn trace(&self, trace_id: &str) -> Vec<Got> {
        let spans = self.0.lock().expect("receiver lock");
        spans
            .iter()
            .filter(|g| g.trace_id() == trace_id)
            .cloned()
            .collect()
    }

    fn len(&self) -> usize {
        self.0.lock().expect("receiver lock").len()
    }

    /// Waits until the trace has a root span and `children` child spans, and returns it.
    async fn wait_trace(&self, trace_id: &str, children: usize) -> Vec<Got> {
        eventually(
            &format!("trace {trace_id} with {children} child spans"),
            Duration::from_secs(20),
            || async {
                let spans = self.trace(trace_id);
                (spans.len() > children).then_some(spans)
            },
        )
        .await
    }
}

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.add(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// An OTLP/gRPC receiver (the collector's TraceService); returns its URL.
async fn grpc_receiver(received: Received) -> String {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(received))
            .serve(addr),
    );
    wait_listening(port).await;
    format!("http://127.0.0.1:{port}")
}

/// An OTLP/HTTP protobuf receiver (`POST /v1/traces`); returns its base URL.
async fn http_receiver(received: Received) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the HTTP receiver");
    let addr = listener.local_addr().expect("receiver address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let received = received.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let received = received.clone();
                        async move {
                            let ok = req.method() == hyper::Method::POST
                                && req.uri().path() == "/v1/traces"
                                && req
                                    .headers()
                                    .get("content-type")
                                    .is_some_and(|v| v == "application/x-protobuf");
                            let body = req.into_body().collect().await?.to_bytes();
                            let status = match ExportTraceServiceRequest::decode(body) {
                                Ok(request) if ok => {
                                    received.add(request);
                                    200
                                }
                                _ => 400,
                            };
                            let answer = ExportTraceServiceResponse::default().encode_to_vec();
                            Ok::<_, hyper::Error>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/x-protobuf")
                                    .body(http_body_util::Full::new(bytes::Bytes::from(answer)))
                                    .expect("a response"),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

async fn wait_listening(port: u16) {
    eventually("the receiver listens", Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
}

/// The environment of a node exporting to `endpoint` by `protocol`.
fn otlp_env(endpoint: &str, protocol: &str, service: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_string()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_string()),
        ("OTEL_SERVICE_NAME", service.to_string()),
        ("OTEL_TRACES_SAMPLER_ARG", "1.0".to_string()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_string()),
    ]
}

async fn enable_tracing(m: &Mgmt, api: &str, stage: &str) {
    m.patch(
        &format!("/restapis/{api}/stages/{stage}"),
        json!([{"op": "replace", "path": "/tracingEnabled", "value": "true"}]),
    )
    .await
    .ok();
}

/// The headers the echo backend (or the proxy-echo function) got.
fn echoed(body: &Value) -> HashMap<String, String> {
    body["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        v.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn client_traceparent(trace: &str, span: &str) -> String {
    format!("00-{trace}-{span}-01")
}

fn random_hex(bytes: usize) -> String {
    hex(&(0..bytes).map(|_| rand::random::<u8>()).collect::<Vec<_>>())
}

/// Checks one traced HTTP_PROXY request on `node`, which exports to `received` as
/// `service`: the backend continues the client's trace, the receiver gets the server span
/// (child of the client's span) and the integration span the backend's parent names.
async fn check_traced_request(node: &DataPlane, api: &str, received: &Received, service: &str) {
    let trace = random_hex(16);
    let client_span = random_hex(8);
    let traceparent = client_traceparent(&trace, &client_span);
    let url = node.invoke_url(api, "prod", "/items");
    let got = get(
        &url,
        &[("traceparent", &traceparent), ("tracestate", "vendor=abc")],
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let headers = echoed(&got.json());
    let sent = headers
        .get("traceparent")
        .expect("the backend got a traceparent");
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "{sent}");
    assert_eq!(
        (parts[0], parts[1], parts[3]),
        ("00", trace.as_str(), "01"),
        "{sent}"
    );
    assert_ne!(
        parts[2], client_span,
        "the parent is the gateway's integration span"
    );
    assert_eq!(
        headers.get("tracestate").map(String::as_str),
        Some("vendor=abc")
    );
    let amzn = headers.get("x-amzn-trace-id").expect("X-Amzn-Trace-Id");
    assert_eq!(
        amzn,
        &format!(
            "Root=1-{}-{};Parent={};Sampled=1",
            &trace[..8],
            &trace[8..],
            parts[2]
        )
    );

    let spans = received.wait_trace(&trace, 1).await;
    let roots: Vec<&Got> = spans.iter().filter(|s| s.parent() == client_span).collect();
    assert_eq!(roots.len(), 1, "one server span per request: {spans:#?}");
    let root = roots[0];
    assert_eq!(root.span.name, "GET /items");
    assert_eq!(root.service, service);
    assert_eq!(root.attr("http.request.method").as_deref(), Some("GET"));
    assert_eq!(root.attr("http.route").as_deref(), Some("/items"));
    assert_eq!(
        root.attr("http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(root.attr("apigw.api_id").as_deref(), Some(api));
    assert_eq!(root.attr("apigw.stage").as_deref(), Some("prod"));
    assert_eq!(
        root.attr("apigw.request_id").as_deref(),
        Some(got.header("x-amzn-requestid"))
    );
    let integration = spans
        .iter()
        .find(|s| s.span.name == "integration")
        .expect("an integration span");
    assert_eq!(integration.parent(), root.span_id());
    assert_eq!(integration.span_id(), parts[2], "the backend's parent");
    assert_eq!(
        integration.attr("apigw.integration.type").as_deref(),
        Some("HTTP_PROXY")
    );
    assert!(integration.span.start_time_unix_nano >= root.span.start_time_unix_nano);
    assert!(integration.span.end_time_unix_nano <= root.span.end_time_unix_nano);
    assert!(
        spans
            .iter()
            .all(|s| s.span_id() == root.span_id() || s.parent() == root.span_id()),
        "{spans:#?}"
    );
}

#[tokio::test]
async fn traced_stage_exports_by_grpc_and_http_and_propagates_trace_context() {
    let grpc = Received::default();
    let http = Received::default();
    let grpc_url = grpc_receiver(grpc.clone()).await;
    let http_url = http_receiver(http.clone()).await;
    let backend = Backend::start("traced").await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let nodes = [
        DataPlane::start_env(
            &cp.grpc_url(),
            "trace-grpc",
            &otlp_env(&grpc_url, "grpc", "gw-grpc"),
        )
        .await,
        DataPlane::start_env(
            &cp.grpc_url(),
            "trace-http",
            &otlp_env(&http_url, "http/protobuf", "gw-http"),
        )
        .await,
    ];
    for node in &nodes {
        node.wait_ready().await;
    }
    let m = cp.mgmt();
    let api = RestApi::create(&m, "traced").await;
    let items = api.resource(&api.root, "items").await;
    api.method(
        &items,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/items", backend.url())}),
    )
    .await;
    // The same backend through an HTTP integration (headers of the gateway's making,
    // the body passed through by the default response).
    let plain = api.resource(&api.root, "plain").await;
    api.method(
        &plain,
        "GET",
        json!({"type": "HTTP", "httpMethod": "GET", "uri": format!("{}/plain", backend.url())}),
    )
    .await;
    api.response(&plain, "GET", 200, json!({"selectionPattern": ""}))
        .await;
    api.deploy("prod", json!({})).await;
    api.deploy("dev", json!({})).await;
    enable_tracing(&m, &api.id, "prod").await;
    let stage = m
        .get(&format!("/restapis/{}/stages/prod", api.id))
        .await
        .ok();
    assert_eq!(stage["tracingEnabled"], true);

    // Every node has the traced stage once the backend sees trace headers from it.
    for node in &nodes {
        let url = node.invoke_url(&api.id, "prod", "/items");
        eventually("the stage traces", Duration::from_secs(20), || async {
            let got = get(&url, &[]).await;
            echoed(&got.json())
                .contains_key("traceparent")
                .then_some(())
        })
        .await;
    }

    // A request without trace context starts a trace, sampled at ratio 1.0.
    let got = get(&nodes[0].invoke_url(&api.id, "prod", "/items"), &[]).await;
    let headers = echoed(&got.json());
    let sent = headers["traceparent"].clone();
    let trace = sent.split('-').nth(1).expect("a trace id").to_string();
    let spans = grpc.wait_trace(&trace, 1).await;
    let root = spans
        .iter()
        .find(|s| s.span.parent_span_id.is_empty())
        .expect("a root span without parent");
    assert_eq!(root.span.name, "GET /items");
    assert!(!headers.contains_key("tracestate"));
    let amzn = &headers["x-amzn-trace-id"];
    assert!(
        amzn.starts_with(&format!("Root=1-{}-{};", &trace[..8], &trace[8..])),
        "{amzn}"
    );

    // The client's trace is continued, over both protocols.
    check_traced_request(&nodes[0], &api.id, &grpc, "gw-grpc").await;
    check_traced_request(&nodes[1], &api.id, &http, "gw-http").await;

    // An HTTP integration's backend gets the trace headers too, once each, with the
    // client's tracestate.
    let trace = random_hex(16);
    let got = get(
        &nodes[0].invoke_url(&api.id, "prod", "/plain"),
        &[
            ("traceparent", &client_traceparent(&trace, &random_hex(8))),
            ("tracestate", "vendor=abc"),
        ],
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(
        got.json()["repeated"],
        json!([]),
        "each header once: {}",
        got.body
    );
    let headers = echoed(&got.json());
    let sent = &headers["traceparent"];
    assert!(
        sent.starts_with(&format!("00-{trace}-")) && sent.len() == 55,
        "one traceparent continuing the client's trace: {sent}"
    );
    assert_eq!(
        headers.get("tracestate").map(String::as_str),
        Some("vendor=abc")
    );
    let amzn = &headers["x-amzn-trace-id"];
    assert!(
        amzn.starts_with(&format!("Root=1-{}-{};", &trace[..8], &trace[8..]))
            && !amzn.contains(','),
        "{amzn}"
    );

    // A client's X-Amzn-Trace-Id root is kept (and is the trace id) when it sends no
    // traceparent.
    let got = get(
        &nodes[1].invoke_url(&api.id, "prod", "/items"),
        &[(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        )],
    )
    .await;
    let headers = echoed(&got.json());
    assert!(
        headers["x-amzn-trace-id"].starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=")
    );
    assert!(headers["traceparent"].starts_with("00-5759e988bd862e3fe1be46a994272793-"));
    http.wait_trace("5759e988bd862e3fe1be46a994272793", 1).await;

    // A client's unsampled traceparent is obeyed: propagated, not exported.
    let unsampled = random_hex(16);
    let got = get(
        &nodes[0].invoke_url(&api.id, "prod", "/items"),
        &[(
            "traceparent",
            &format!("00-{unsampled}-{}-00", random_hex(8)),
        )],
    )
    .await;
    let sent = echoed(&got.json())["traceparent"].clone();
    assert!(
        sent.starts_with(&format!("00-{unsampled}-")) && sent.ends_with("-00"),
        "{sent}"
    );

    // The untraced stage: no header added (a client's passes through untouched), no span.
    let off_trace = random_hex(16);
    let client = client_traceparent(&off_trace, &random_hex(8));
    for node in &nodes {
        let url = node.invoke_url(&api.id, "dev", "/items");
        let got = get(&url, &[]).await;
        assert_eq!(got.status, 200);
        let headers = echoed(&got.json());
        assert!(!headers.contains_key("traceparent"), "{headers:?}");
        assert!(!headers.contains_key("x-amzn-trace-id"), "{headers:?}");
        let got = get(&url, &[("traceparent", &client)]).await;
        assert_eq!(echoed(&got.json())["traceparent"], client);
    }
    // Spans of a later traced request arrive after anything of the earlier ones would have.
    let before = (grpc.len(), http.len());
    check_traced_request(&nodes[0], &api.id, &grpc, "gw-grpc").await;
    check_traced_request(&nodes[1], &api.id, &http, "gw-http").await;
    assert!(grpc.len() > before.0 && http.len() > before.1);
    assert!(grpc.trace(&off_trace).is_empty() && http.trace(&off_trace).is_empty());
    assert!(grpc.trace(&unsampled).is_empty());
}

fn function_uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
         arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations"
    )
}

#[tokio::test]
async fn authorizer_and_function_integration_spans_and_event_headers() {
    let received = Received::default();
    let url = grpc_receiver(received.clone()).await;
    let functions = FunctionsHost::start().await;
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start_with_env(
        &db,
        free_port(),
        free_port(),
        &[("FUNCTIONS_URL", functions.url.clone())],
    )
    .await;
    let mut env = otlp_env(&url, "grpc", "gw-fn");
    env.push(("FUNCTIONS_URL", functions.url.clone()));
    env.push(("AUTHORIZER_TIMEOUT_MS", "5000".to_string()));
    let node = DataPlane::start_env(&cp.grpc_url(), "trace-fn", &env).await;
    node.wait_ready().await;
    let m = cp.mgmt();
    let api = RestApi::create(&m, "traced-fn").await;
    let authorizer = m
        .post(
            &format!("/restapis/{}/authorizers", api.id),
            json!({
                "name": "tokens",
                "type": "TOKEN",
                "authorizerUri": function_uri("token-authorizer"),
                "identitySource": "method.request.header.Authorization",
                "authorizerResultTtlInSeconds": 0,
            }),
        )
        .await
        .ok();
    let echo = api.resource(&api.root, "echo").await;
    let method = api.method_path(&echo, "GET");
    m.put(
        &method,
        json!({"authorizationType": "CUSTOM", "authorizerId": text(&authorizer["id"])}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration"),
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": function_uri("proxy-echo")}),
    )
    .await
    .ok();
    api.deploy("prod", json!({})).await;
    enable_tracing(&m, &api.id, "prod").await;

    let url = node.invoke_url(&api.id, "prod", "/echo");
    let trace = random_hex(16);
    let client_span = random_hex(8);
    let traceparent = client_traceparent(&trace, &client_span);
    let headers = [
        ("authorization", "allow"),
        ("traceparent", traceparent.as_str()),
        ("tracestate", "vendor=fn"),
    ];
    // The stage traces once the event carries a traceparent of the client's trace whose
    // parent is the gateway's span: until the node has the traced stage, the client's own
    // header passes through unchanged (and without X-Amzn-Trace-Id).
    let event = eventually("the stage traces", Duration::from_secs(30), || async {
        let got = get(&url, &headers).await;
        let event = got.json();
        echoed(&event)
            .get("traceparent")
            .is_some_and(|t| t.starts_with(&format!("00-{trace}-")) && !t.contains(&client_span))
            .then_some(event)
    })
    .await;
    let event_headers = echoed(&event);
    let sent = &event_headers["traceparent"];
    let integration_span = sent.split('-').nth(2).expect("a parent id").to_string();
    assert_eq!(event_headers["tracestate"], "vendor=fn");
    assert!(event_headers["x-amzn-trace-id"].contains(&format!("Parent={integration_span}")));

    let spans = received.wait_trace(&trace, 2).await;
    let root = spans
        .iter()
        .find(|s| s.parent() == client_span && s.span.name == "GET /echo")
        .expect("the server span");
    let authorizer = spans
        .iter()
        .find(|s| s.span.name == "authorizer")
        .expect("an authorizer span");
    assert_eq!(authorizer.parent(), root.span_id());
    let integration = spans
        .iter()
        .find(|s| s.span_id() == integration_span)
        .expect("the integration span the event names");
    assert_eq!(integration.span.name, "integration");
    assert_eq!(integration.parent(), root.span_id());
    assert_eq!(
        integration.attr("apigw.integration.type").as_deref(),
        Some("AWS_PROXY")
    );
    assert!(authorizer.span.end_time_unix_nano <= integration.span.start_time_unix_nano);
}
