use super::*;
use crate::phases::route;
use apigw_proto::config::{HttpCors, HttpIntegration, HttpParameterMap, HttpRoute, ThrottleLimit};

#[test]
fn route_keys_follow_the_grammar() {
    for ok in [
        "$default",
        "GET /",
        "GET /pets",
        "ANY /{proxy+}",
        "POST /pets/{id}/toys",
        "DELETE /a/{b}/{c+}",
        "OPTIONS /x.y/z-1",
        "HEAD /pets/{pet_id}",
    ] {
        assert!(check_route_key(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "$connect",
        "get /pets",
        "FETCH /pets",
        "GET pets",
        "GET  /pets",
        "GET /pets/",
        "GET /a//b",
        "GET /{proxy+}/x",
        "GET /{}",
        "GET /{a}/{a}",
        "GET /{a b}",
        "GET /pets?x=1",
        "GET /pe{t}s",
    ] {
        assert!(check_route_key(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn request_parameters_follow_the_grammar() {
    for (key, value) in [
        ("overwrite:header.x-user", "$request.header.x-id"),
        ("append:header.x-tag", "fixed-${request.path.id}-end"),
        ("remove:header.x-secret", "''"),
        ("overwrite:querystring.page", "$request.querystring.p"),
        ("append:querystring.src", "$context.requestId"),
        ("remove:querystring.debug", ""),
        ("overwrite:path", "/v2/${request.path.id}/items"),
        (
            "overwrite:header.x-stage",
            "$stageVariables.color and ${context.stage}",
        ),
        ("overwrite:header.x-body", "$request.body.user.name"),
        ("overwrite:header.x-cost", "$5 flat"),
    ] {
        assert!(
            check_request_parameter(key, value).is_ok(),
            "{key} {value}: {:?}",
            check_request_parameter(key, value)
        );
    }
    for (key, value) in [
        ("overwrite:header.authorization", "x"),
        ("overwrite:header.X-Amz-Date", "x"),
        ("append:header.access-control-allow-origin", "*"),
        ("overwrite:header.host?", "x"),
        ("replace:header.x", "y"),
        ("overwrite:statuscode", "200"),
        ("append:path", "/x"),
        ("overwrite:querystring.", "x"),
        ("overwrite:header.x", "${request.header.x"),
        ("overwrite:header.x", "$request.cookie.x"),
        ("overwrite:header.x", "$response.header.y"),
        ("overwrite:header.x", "$request.body..name"),
    ] {
        assert!(
            check_request_parameter(key, value).is_err(),
            "{key} {value}"
        );
    }
}

#[test]
fn response_parameters_follow_the_grammar() {
    for (key, value) in [
        ("overwrite:statuscode", "204"),
        ("overwrite:header.x-from", "$response.header.server"),
        ("append:header.set-cookie", "a=${response.body.token}"),
        ("remove:header.server", "''"),
        ("overwrite:header.x-req", "$context.requestId"),
    ] {
        assert!(
            check_response_parameter(key, value).is_ok(),
            "{key} {value}"
        );
    }
    for (key, value) in [
        ("overwrite:statuscode", "abc"),
        ("overwrite:statuscode", "700"),
        ("append:statuscode", "200"),
        ("overwrite:path", "/x"),
        ("overwrite:header.x", "$request.header.y"),
        ("overwrite:header.content-length", "1"),
    ] {
        assert!(
            check_response_parameter(key, value).is_err(),
            "{key} {value}"
        );
    }
    assert!(check_response_status_key("404").is_ok());
    assert!(check_response_status_key("199").is_err());
    assert!(check_response_status_key("2xx").is_err());
}

#[test]
fn values_compile_into_pieces() {
    let names: Vec<Box<str>> = vec!["id".into()];
    let vars = BTreeMap::from([("color".to_string(), "blue".to_string())]);
    let source = SourceScope {
        param_names: &names,
        stage_variables: &vars,
        api_id: "api1",
        stage: "prod",
        resource_path: "/pets/{id}",
        resource_id: "",
        deployment_id: "d1",
    };
    let scope = ValueScope {
        source: Some(&source),
        route_key: "GET /pets/{id}",
    };
    let v = parse_value(
        "a-${request.path.id}-$stageVariables.color-$context.routeKey-$request.header.x-y.",
        Side::Request,
        &scope,
    )
    .unwrap();
    let shapes: Vec<String> = v
        .pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => format!("T({t})"),
            Piece::PathParam(i) => format!("P({i:?})"),
            Piece::Header(h) => format!("H({h})"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shapes,
        [
            "T(a-)",
            "P(Some(0))",
            "T(-blue-GET /pets/{id}-)",
            "H(x-y)",
            "T(.)"
        ]
    );
    assert_eq!(
        parse_value("plain", Side::Request, &scope)
            .unwrap()
            .constant()
            .as_deref(),
        Some("plain")
    );
}

fn integration(id: &str, uri: &str) -> HttpIntegration {
    HttpIntegration {
        id: id.into(),
        integration_type: "HTTP_PROXY".into(),
        uri: uri.into(),
        payload_format_version: "1.0".into(),
        ..Default::default()
    }
}

fn route(key: &str, integration: &str) -> HttpRoute {
    HttpRoute {
        route_key: key.into(),
        integration_id: integration.into(),
        ..Default::default()
    }
}

/// The routes of AWS's precedence example, each to its own integration.
fn example_stage() -> HttpStageConfig {
    let keys = [
        "GET /pets/dog/1",
        "GET /pets/dog/{id}",
        "GET /pets/{proxy+}",
        "ANY /{proxy+}",
        "POST /pets",
        "ANY /pets",
        "$default",
    ];
    HttpStageConfig {
        api_id: "api1".into(),
        stage_name: "$default".into(),
        deployment_id: "d1".into(),
        routes: keys
            .iter()
            .enumerate()
            .map(|(i, k)| route(k, &format!("i{i}")))
            .collect(),
        integrations: (0..keys.len())
            .map(|i| integration(&format!("i{i}"), "http://backend.test/x"))
            .collect(),
        ..Default::default()
    }
}

fn parts(method: &str, path: &str) -> http::request::Parts {
    http::Request::builder()
        .method(method)
        .uri(path)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

#[test]
fn routes_follow_aws_precedence() {
    let stage = Arc::new(compile_http_stage(&example_stage()).unwrap());
    for (method, path, want) in [
        ("GET", "/pets/dog/1", "GET /pets/dog/1"),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
        ("POST", "/pets/dog/1", "ANY /{proxy+}"),
        ("POST", "/pets", "POST /pets"),
        ("GET", "/pets", "ANY /pets"),
        ("DELETE", "/anything/else", "ANY /{proxy+}"),
        ("GET", "/", "$default"),
        ("HEAD", "/pets/dog/1", "ANY /{proxy+}"),
    ] {
        let routed = route::method(&stage, &parts(method, path), 0).unwrap();
        assert_eq!(
            routed.method.route_key.as_deref(),
            Some(want),
            "{method} {path}"
        );
    }
    // Captures are the matched route's.
    let p = parts("GET", "/pets/dog/7");
    let routed = route::method(&stage, &p, 0).unwrap();
    assert_eq!(routed.captures[0].of(p.uri.path()), "7");
}

#[test]
fn no_route_and_no_default_is_not_found() {
    let mut config = example_stage();
    config
        .routes
        .retain(|r| r.route_key.starts_with("GET /pets/dog"));
    let stage = Arc::new(compile_http_stage(&config).unwrap());
    let err = route::method(&stage, &parts("POST", "/pets/dog/1"), 0).unwrap_err();
    assert!(matches!(err, GatewayError::NotFound));
    let (status, message) = err.http_api();
    assert_eq!((status.as_u16(), message), (404, "Not Found"));
}

#[test]
fn refused_tokens_say_why_in_www_authenticate() {
    use std::borrow::Cow;
    let answer = crate::gateway_response::render_http_api(&GatewayError::InvalidToken(
        Cow::Borrowed("no key \"k1\" in the issuer's key set"),
    ));
    assert_eq!(answer.status().as_u16(), 401);
    assert_eq!(
        answer.headers()["www-authenticate"],
        "Bearer scope=\"\" error=\"invalid_token\" \
         error_description=\"no key 'k1' in the issuer's key set\""
    );
    // Other refusals (a missing token, Lambda authorizers) carry none.
    let answer = crate::gateway_response::render_http_api(&GatewayError::Unauthorized(
        Cow::Borrowed("no token"),
    ));
    assert_eq!(answer.status().as_u16(), 401);
    assert!(answer.headers().get("www-authenticate").is_none());
}

#[test]
fn stages_reject_broken_definitions() {
    let mut config = example_stage();
    config.routes.push(route("GET /pets/dog/1", "i0"));
    assert!(check_stage(&config).is_err(), "duplicate route key");
    let mut config = example_stage();
    config.routes[0].integration_id = "nope".into();
    assert!(check_stage(&config).is_err(), "unknown integration");
    let mut config = example_stage();
    config.integrations[0]
        .request_parameters
        .insert("overwrite:header.authorization".into(), "x".into());
    assert!(check_stage(&config).is_err(), "reserved header");
    let mut config = example_stage();
    config.routes[0].authorization_type = "JWT".into();
    config.routes[0].authorizer_id = "missing".into();
    assert!(check_stage(&config).is_err(), "unknown authorizer");
    assert!(check_stage(&example_stage()).is_ok());
}

#[test]
fn throttles_and_metrics_are_per_route_key() {
    let mut config = example_stage();
    config.default_throttle = Some(ThrottleLimit {
        rate_limit: 10.0,
        burst_limit: 20,
    });
    config.route_throttle.insert(
        "POST /pets".into(),
        ThrottleLimit {
            rate_limit: 1.0,
            burst_limit: 2,
        },
    );
    config
        .route_detailed_metrics
        .insert("POST /pets".into(), true);
    let stage = Arc::new(compile_http_stage(&config).unwrap());
    let post = route::method(&stage, &parts("POST", "/pets"), 0).unwrap();
    let limit = post.method.stage_throttle.clone().unwrap();
    assert_eq!(&*limit.name, "b:h:api1:$default:POST /pets");
    assert_eq!((limit.limit.rate, limit.limit.burst), (1.0, 2.0));
    assert!(post.method.metrics_enabled);
    let get = route::method(&stage, &parts("GET", "/pets"), 0).unwrap();
    assert_eq!(
        get.method.stage_throttle.as_ref().unwrap().limit.burst,
        20.0
    );
    assert!(!get.method.metrics_enabled);
}

#[test]
fn cors_answers_allowed_origins_only() {
    let cors = Cors::compile(&HttpCors {
        allow_origins: vec!["https://app.example".into()],
        allow_methods: vec!["GET".into(), "POST".into()],
        allow_headers: vec!["content-type".into(), "x-token".into()],
        expose_headers: vec!["x-request".into()],
        max_age: 600,
        allow_credentials: true,
    })
    .unwrap();
    let allowed = cors
        .allow_origin(&HeaderValue::from_static("https://app.example"))
        .unwrap();
    assert_eq!(allowed, "https://app.example");
    assert!(cors
        .allow_origin(&HeaderValue::from_static("https://evil.example"))
        .is_none());
    let preflight = cors.preflight(Some(allowed.clone()));
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-methods"], "GET,POST");
    assert_eq!(h["access-control-allow-headers"], "content-type,x-token");
    assert_eq!(h["access-control-max-age"], "600");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(cors.preflight(None).headers().is_empty());

    let mut headers = http::HeaderMap::new();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("PUT"),
    );
    cors.decorate(allowed, &mut headers);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(headers["access-control-expose-headers"], "x-request");
    assert!(!headers.contains_key("access-control-allow-methods"));

    let any = Cors::compile(&HttpCors {
        allow_origins: vec!["*".into()],
        max_age: -1,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        any.allow_origin(&HeaderValue::from_static("https://x"))
            .unwrap(),
        "*"
    );
    assert!(Cors::compile(&HttpCors {
        allow_origins: vec!["*".into()],
        allow_credentials: true,
        ..Default::default()
    })
    .is_err());
}

#[test]
fn response_parameters_compile_by_status() {
    let mut config = example_stage();
    config.integrations[0].response_parameters.insert(
        "404".into(),
        HttpParameterMap {
            entries: BTreeMap::from([
                ("overwrite:statuscode".to_string(), "204".to_string()),
                (
                    "overwrite:header.x-n".to_string(),
                    "$response.body.n".to_string(),
                ),
            ]),
        },
    );
    let stage = Arc::new(compile_http_stage(&config).unwrap());
    let routed = route::method(&stage, &parts("GET", "/pets/dog/1"), 0).unwrap();
    let Integration::HttpApiProxy(proxy) = &routed.method.integration else {
        panic!("an HTTP_PROXY integration");
    };
    let mapping = proxy.responses.get(404).unwrap();
    assert!(mapping.reads_body);
    assert_eq!(mapping.ops.len(), 2);
    assert!(proxy.responses.get(200).is_none());
}

use crate::error::GatewayError;

/// The whole pipeline on HTTP API stages, with a real backend answering with the request
/// head it received.
mod pipeline {
    use std::net::SocketAddr;

    use apigw_proto::config::{ConfigUpdate, V2Stages};
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::state::{self, SharedState};
    use crate::{backend_client, Gateway, Peer};

    /// Answers each request with its head as body (404 for paths under `/missing`).
    async fn echo_backend() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let end = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let status = if head.contains(" /missing") {
                        "404 Not Found"
                    } else {
                        "200 OK"
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\nx-backend: echo\r\n\
                         access-control-allow-origin: *\r\ncontent-length: {}\r\n\
                         connection: close\r\n\r\n{head}",
                        head.len()
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        addr
    }

    /// Accepts connections and never answers.
    async fn stalling_backend() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        addr
    }

    fn proxy(id: &str, uri: String, params: &[(&str, &str)]) -> HttpIntegration {
        HttpIntegration {
            request_parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..integration(id, &uri)
        }
    }

    async fn gateway() -> Gateway {
        let echo = echo_backend().await;
        let stall = stalling_backend().await;
        let mut missing = proxy(
            "i2",
            format!("http://{echo}/{{proxy}}"),
            &[("overwrite:path", "/missing/${request.path.proxy}")],
        );
        missing.response_parameters.insert(
            "404".into(),
            HttpParameterMap {
                entries: BTreeMap::from([
                    ("overwrite:statuscode".to_string(), "410".to_string()),
                    (
                        "overwrite:header.x-was".to_string(),
                        "$response.header.x-backend".to_string(),
                    ),
                ]),
            },
        );
        let h1 = HttpStageConfig {
            api_id: "h1".into(),
            stage_name: "$default".into(),
            deployment_id: "d1".into(),
            variables: BTreeMap::from([("v".to_string(), "blue".to_string())]),
            routes: vec![
                route("GET /pets/{id}", "i1"),
                route("ANY /{proxy+}", "i2"),
                route("$default", "i3"),
            ],
            integrations: vec![
                proxy(
                    "i1",
                    format!("http://{echo}/backend/{{id}}"),
                    &[
                        (
                            "overwrite:header.x-pet",
                            "pet-${request.path.id}-$stageVariables.v",
                        ),
                        ("append:querystring.src", "$context.routeKey"),
                        ("remove:querystring.drop", "''"),
                        ("remove:header.x-secret", "''"),
                    ],
                ),
                missing,
                proxy("i3", format!("http://{echo}/default"), &[]),
            ],
            cors: Some(HttpCors {
                allow_origins: vec!["https://app.example".into()],
                allow_methods: vec!["GET".into(), "POST".into()],
                max_age: 300,
                ..Default::default()
            }),
            ..Default::default()
        };
        let beta = HttpStageConfig {
            stage_name: "beta".into(),
            routes: vec![route("GET /pets/{id}", "b1")],
            integrations: vec![proxy("b1", format!("http://{echo}/beta/{{id}}"), &[])],
            cors: None,
            ..h1.clone()
        };
        let mut slow = proxy("s1", format!("http://{stall}/"), &[]);
        slow.timeout_in_millis = 200;
        let guarded = |key: &str, kind: &str, authorizer: &str| HttpRoute {
            authorization_type: kind.into(),
            authorizer_id: authorizer.into(),
            authorization_scopes: vec!["pets/read".into()],
            ..route(key, "s1")
        };
        let h2 = HttpStageConfig {
            api_id: "h2".into(),
            stage_name: "prod".into(),
            deployment_id: "d2".into(),
            routes: vec![
                route("GET /slow", "s1"),
                route("GET /nothing", ""),
                guarded("GET /lambda", "CUSTOM", "a1"),
                guarded("GET /jwt", "JWT", "a2"),
            ],
            integrations: vec![slow],
            authorizers: vec![
                apigw_proto::config::HttpAuthorizer {
                    id: "a1".into(),
                    name: "lambda".into(),
                    authorizer_type: "REQUEST".into(),
                    identity_source: vec!["$request.header.x-token".into()],
                    uri: "arn:aws:lambda:us-east-1:123456789012:function:auth".into(),
                    payload_format_version: "2.0".into(),
                    enable_simple_responses: true,
                    result_ttl_in_seconds: 60,
                    ..Default::default()
                },
                apigw_proto::config::HttpAuthorizer {
                    id: "a2".into(),
                    name: "jwt".into(),
                    authorizer_type: "JWT".into(),
                    identity_source: vec!["$request.header.Authorization".into()],
                    jwt_issuer: "http://127.0.0.1:9/issuer".into(),
                    jwt_audience: vec!["app".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let update = ConfigUpdate {
            full: true,
            v2: Some(V2Stages {
                stages: vec![],
                http_stages: vec![h1, beta, h2],
            }),
            ..Default::default()
        };
        let shared = Arc::new(SharedState::new());
        shared.store(state::apply_update(&state::GatewayState::default(), &update).unwrap());
        Gateway::new(shared, backend_client::build(), "example.test")
    }

    async fn call(
        gateway: &Gateway,
        host: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, http::HeaderMap, String) {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", host);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request.body(Full::new(Bytes::new())).unwrap();
        let peer = Peer::from(std::net::IpAddr::from([127, 0, 0, 1]));
        let response = gateway.handle(request, &peer).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn http_proxy_mapping_cors_and_default_stage() {
        let gw = gateway().await;
        let h1 = "h1.example.test";
        let origin = ("origin", "https://app.example");

        // `$default` stage: no stage segment; the mapping rewrites headers and query.
        let (status, headers, body) = call(
            &gw,
            h1,
            "GET",
            "/pets/7?keep=1&drop=x",
            &[("x-secret", "s"), origin],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.starts_with("GET /backend/7?keep=1&src=GET%20%2Fpets%2F%7Bid%7D HTTP/1.1"),
            "{body}"
        );
        assert!(body.contains("x-pet: pet-7-blue"), "{body}");
        assert!(!body.contains("x-secret"), "{body}");
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://app.example"
        );
        assert!(headers.contains_key("apigw-requestid"));
        assert!(!headers.contains_key("x-amzn-requestid"));

        // A named stage's first segment wins over `$default`.
        let (status, _, body) = call(&gw, h1, "GET", "/beta/pets/1", &[]).await;
        assert_eq!(status, 200);
        assert!(body.starts_with("GET /beta/1 HTTP/1.1"), "{body}");

        // overwrite:path, then responseParameters for the backend's 404.
        let (status, headers, body) = call(&gw, h1, "DELETE", "/x/y", &[]).await;
        assert!(body.starts_with("DELETE /missing/x/y HTTP/1.1"), "{body}");
        assert_eq!(status, 410);
        assert_eq!(headers["x-was"], "echo");

        // The `$default` route catches what no route matches.
        let (status, _, body) = call(&gw, h1, "GET", "/", &[]).await;
        assert_eq!(status, 200);
        assert!(body.starts_with("GET /default HTTP/1.1"), "{body}");

        // Preflight answered by the gateway, allowed origin or not.
        let (status, headers, body) = call(
            &gw,
            h1,
            "OPTIONS",
            "/pets/7",
            &[origin, ("access-control-request-method", "GET")],
        )
        .await;
        assert_eq!((status, body.as_str()), (204, ""));
        assert_eq!(headers["access-control-allow-methods"], "GET,POST");
        assert_eq!(headers["access-control-max-age"], "300");
        let (status, headers, _) = call(
            &gw,
            h1,
            "OPTIONS",
            "/pets/7",
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "GET"),
            ],
        )
        .await;
        assert_eq!(status, 204);
        assert!(!headers.contains_key("access-control-allow-origin"));
    }

    #[tokio::test]
    async fn http_api_errors_have_aws_bodies() {
        let gw = gateway().await;
        let h2 = "h2.example.test";
        for (path, status, body) in [
            ("/other/x", 404, r#"{"message":"Not Found"}"#),
            ("/prod/none", 404, r#"{"message":"Not Found"}"#),
            (
                "/prod/nothing",
                500,
                r#"{"message":"Internal Server Error"}"#,
            ),
            ("/prod/slow", 503, r#"{"message":"Service Unavailable"}"#),
        ] {
            let (got, headers, text) = call(&gw, h2, "GET", path, &[]).await;
            assert_eq!((got, text.as_str()), (status, body), "{path}");
            assert!(!headers.contains_key("x-amzn-errortype"), "{path}");
        }
        // Authorizers: a missing identity source is 401 without calling anything; a token
        // that is not a JWT is 401; a Lambda authorizer that cannot be called is 500.
        for (path, headers, status, body) in [
            (
                "/prod/lambda",
                &[][..],
                401,
                r#"{"message":"Unauthorized"}"#,
            ),
            ("/prod/jwt", &[][..], 401, r#"{"message":"Unauthorized"}"#),
            (
                "/prod/jwt",
                &[("authorization", "Bearer not-a-jwt")][..],
                401,
                r#"{"message":"Unauthorized"}"#,
            ),
            (
                "/prod/lambda",
                &[("x-token", "t")][..],
                500,
                r#"{"message":"Internal Server Error"}"#,
            ),
        ] {
            let (got, _, text) = call(&gw, h2, "GET", path, headers).await;
            assert_eq!((got, text.as_str()), (status, body), "{path} {headers:?}");
        }
        let (status, _, text) = call(&gw, "nope.example.test", "GET", "/prod/x", &[]).await;
        assert_eq!((status, text.as_str()), (403, r#"{"message":"Forbidden"}"#));
    }
}

#[test]
fn arns_use_the_configured_region_and_account() {
    let mut stage = example_stage();
    let compiled = compile_http_stage(&stage).expect("compiles");
    assert_eq!(
        &*compiled.arn_prefix,
        "arn:aws:execute-api:us-east-1:000000000000:api1/$default/"
    );
    assert_eq!(&*compiled.account_id, "000000000000");
    stage.region = "eu-west-3".into();
    stage.account_id = "111122223333".into();
    let compiled = compile_http_stage(&stage).expect("compiles");
    assert_eq!(
        &*compiled.arn_prefix,
        "arn:aws:execute-api:eu-west-3:111122223333:api1/$default/"
    );
    assert_eq!(&*compiled.account_id, "111122223333");
}

#[test]
fn the_authorizer_epoch_follows_the_authorizers_stage_variables_and_resets() {
    let mut stage = example_stage();
    stage.authorizers = vec![apigw_proto::config::HttpAuthorizer {
        id: "a1".into(),
        name: "lambda".into(),
        authorizer_type: "REQUEST".into(),
        identity_source: vec!["$request.header.x-token".into()],
        uri: "arn:aws:lambda:us-east-1:123456789012:function:auth".into(),
        payload_format_version: "2.0".into(),
        enable_simple_responses: true,
        result_ttl_in_seconds: 60,
        ..Default::default()
    }];
    let epoch = authorizer_epoch(&stage);
    // A redeployment of the same definition (another deployment id, other routes) keeps it.
    let mut same = stage.clone();
    same.deployment_id = "d9".into();
    same.routes.pop();
    assert_eq!(authorizer_epoch(&same), epoch);
    assert_eq!(
        compile_http_stage(&same)
            .expect("compiles")
            .authorizer_epoch,
        epoch
    );
    // Any change to an authorizer, or to the stage variables its URI may read, or a
    // ResetAuthorizersCache, moves it.
    let changes: [fn(&mut HttpStageConfig); 6] = [
        |s| s.authorizer_cache_reset += 1,
        |s| s.authorizers[0].result_ttl_in_seconds = 120,
        |s| s.authorizers[0].uri = "arn:aws:lambda:us-east-1:123456789012:function:other".into(),
        |s| s.authorizers[0].enable_simple_responses = false,
        |s| {
            s.authorizers[0]
                .identity_source
                .push("$request.header.x-other".into())
        },
        |s| {
            s.variables.insert("fn".into(), "auth".into());
        },
    ];
    for change in changes {
        let mut changed = stage.clone();
        change(&mut changed);
        assert_ne!(authorizer_epoch(&changed), epoch, "{changed:?}");
    }
}
