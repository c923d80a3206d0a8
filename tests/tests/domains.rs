//! Custom domain names (issue 18), against real processes: the management calls of domain
//! names, base path mappings and client certificates with their validation; private keys
//! never returned and never stored in clear; and two nodes terminating TLS by SNI with each
//! domain's own certificate (generated here by a test CA), routing by host and the longest
//! base path, rotating a certificate without a restart, serving an API whose execute-api
//! endpoint is disabled, and mutual TLS.

use std::time::Duration;

use apigw_e2e::rest_api::mock_method;
use apigw_e2e::tls::{https_get, TestCa};
use apigw_e2e::{
    eventually, free_port, fresh_database, Backend, Cluster, ControlPlane, DataPlane, Mgmt, RestApi,
};
use serde_json::{json, Value};

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

async fn create_domain(m: &Mgmt, body: Value) -> Value {
    let answer = m.post("/domainnames", body).await;
    assert_eq!(answer.status, 201, "CreateDomainName: {}", answer.body);
    answer.body
}

/// An API answering `GET /` and `GET /who` with `{"api": "<label>"}`, deployed to `stage`.
async fn labelled_api(m: &Mgmt, label: &str, stage: &str, extra: Value) -> String {
    let api = RestApi::create_with(m, label, extra).await;
    let who = api.resource(&api.root, "who").await;
    let template = format!("{{\"api\": \"{label}\", \"path\": \"$context.resourcePath\", \"domain\": \"$context.domainName\"}}");
    mock_method(m, &api.id, &api.root, "GET", &template).await;
    mock_method(m, &api.id, &who, "GET", &template).await;
    api.deploy(stage, json!({})).await;
    api.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_names_mappings_and_client_certificates_are_managed() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let ca = TestCa::new("test ca");
    let good = ca.server("api.example.com");
    let other = ca.server("other.example.com");

    // Refusals, each saying what is wrong.
    let msg = m
        .post(
            "/domainnames",
            json!({"domainName": "api.example.com", "certificateBody": good.cert_pem,
                   "certificatePrivateKey": other.key_pem}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("does not match"), "{msg}");
    let msg = m
        .post("/domainnames", json!({"domainName": "api.example.com"}))
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("certificate is required"), "{msg}");
    let msg = m
        .post(
            "/domainnames",
            json!({"domainName": "not a host", "certificateBody": good.cert_pem,
                   "certificatePrivateKey": good.key_pem}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("Invalid domain name"), "{msg}");
    m.post(
        "/domainnames",
        json!({"domainName": "api.example.com", "securityPolicy": "TLS_9",
               "certificateBody": good.cert_pem, "certificatePrivateKey": good.key_pem}),
    )
    .await
    .err(400, "ValidationException");
    let msg = m
        .post(
            "/domainnames",
            json!({"domainName": "api.example.com", "certificateBody": good.cert_pem,
                   "certificatePrivateKey": good.key_pem,
                   "endpointConfiguration": {"types": ["REGIONAL"]},
                   "mutualTlsAuthentication": {"truststoreUri": "s3://bucket/ca.pem"}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("S3"), "{msg}");

    // Created, REGIONAL, with tags.
    let d = create_domain(
        &m,
        json!({"domainName": "API.example.com", "certificateName": "api-cert",
               "certificateBody": good.cert_pem, "certificateChain": ca.pem,
               "certificatePrivateKey": good.key_pem,
               "endpointConfiguration": {"types": ["REGIONAL"]},
               "tags": {"team": "web"}}),
    )
    .await;
    assert_eq!(d["domainName"], "api.example.com");
    assert_eq!(d["domainNameStatus"], "AVAILABLE");
    assert_eq!(d["securityPolicy"], "TLS_1_2");
    assert_eq!(d["regionalCertificateName"], "api-cert");
    assert!(text(&d["regionalDomainName"]).starts_with("d-"), "{d}");
    let arn = text(&d["regionalCertificateArn"]);
    assert!(
        arn.starts_with("arn:aws:acm:us-east-1::certificate/"),
        "{d}"
    );
    assert_eq!(d["tags"]["team"], "web");
    m.post(
        "/domainnames",
        json!({"domainName": "api.example.com", "certificateArn": arn}),
    )
    .await
    .err(409, "ConflictException");
    // Another domain may serve the certificate uploaded earlier, by its ARN.
    let shared = create_domain(
        &m,
        json!({"domainName": "www.example.com", "certificateArn": arn}),
    )
    .await;
    assert_eq!(shared["certificateArn"], arn.as_str());
    assert_eq!(
        shared["distributionDomainName"]
            .as_str()
            .map(|s| s.starts_with("d-")),
        Some(true)
    );

    let got = m.get("/domainnames/api.example.com").await.ok();
    assert_eq!(got, d);
    let listed = m.get("/domainnames").await.ok();
    assert_eq!(listed["item"].as_array().map(Vec::len), Some(2));
    m.get("/domainnames/nope.example.com")
        .await
        .err(404, "NotFoundException");

    // Rotation: a key that does not match is refused and the old certificate stays.
    let rotated = ca.server("api.example.com");
    let msg = m
        .patch(
            "/domainnames/api.example.com",
            json!([{"op": "replace", "path": "/certificateBody", "value": rotated.cert_pem},
                   {"op": "replace", "path": "/certificatePrivateKey", "value": other.key_pem}]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("does not match"), "{msg}");
    assert_eq!(m.get("/domainnames/api.example.com").await.ok(), d);
    let after = m
        .patch(
            "/domainnames/api.example.com",
            json!([{"op": "replace", "path": "/certificateBody", "value": rotated.cert_pem},
                   {"op": "replace", "path": "/certificatePrivateKey", "value": rotated.key_pem},
                   {"op": "replace", "path": "/certificateName", "value": "api-cert-2"},
                   {"op": "replace", "path": "/securityPolicy", "value": "SecurityPolicy_TLS13_1_3_2025_09"}]),
        )
        .await
        .ok();
    assert_ne!(after["regionalCertificateArn"], d["regionalCertificateArn"]);
    assert_eq!(after["regionalCertificateName"], "api-cert-2");
    assert_eq!(after["securityPolicy"], "SecurityPolicy_TLS13_1_3_2025_09");

    // Base path mappings: (none), v1, v1/orders; duplicates and unknown targets refused.
    let a = labelled_api(&m, "a", "prod", json!({})).await;
    let dm = "/domainnames/api.example.com/basepathmappings";
    let none = m.post(dm, json!({"restApiId": a, "stage": "prod"})).await;
    assert_eq!(none.status, 201, "{}", none.body);
    assert_eq!(none.body["basePath"], "(none)");
    m.post(dm, json!({"restApiId": a, "basePath": "(none)"}))
        .await
        .err(409, "ConflictException");
    m.post(
        dm,
        json!({"restApiId": a, "basePath": "v1", "stage": "nope"}),
    )
    .await
    .err(400, "BadRequestException");
    m.post(dm, json!({"restApiId": "nosuchapi0", "basePath": "v1"}))
        .await
        .err(400, "BadRequestException");
    m.post(dm, json!({"restApiId": a, "basePath": "/v1//x"}))
        .await
        .err(400, "BadRequestException");
    assert_eq!(
        m.post(
            dm,
            json!({"restApiId": a, "basePath": "v1", "stage": "prod"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        m.post(dm, json!({"restApiId": a, "basePath": "v1/orders"}))
            .await
            .status,
        201
    );
    let got = m.get(&format!("{dm}/v1%2Forders")).await.ok();
    assert_eq!(got, json!({"basePath": "v1/orders", "restApiId": a}));
    assert_eq!(m.get(&format!("{dm}/(none)")).await.ok()["stage"], "prod");
    let all = m.get(dm).await.ok();
    let paths: Vec<&str> = all["item"]
        .as_array()
        .map(|i| i.iter().filter_map(|m| m["basePath"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(paths, ["(none)", "v1", "v1/orders"]);
    let moved = m
        .patch(
            &format!("{dm}/v1%2Forders"),
            json!([{"op": "replace", "path": "/basePath", "value": "v2/orders"},
                   {"op": "replace", "path": "/stage", "value": "prod"}]),
        )
        .await
        .ok();
    assert_eq!(
        moved,
        json!({"basePath": "v2/orders", "restApiId": a, "stage": "prod"})
    );
    m.get(&format!("{dm}/v1%2Forders"))
        .await
        .err(404, "NotFoundException");
    assert_eq!(m.delete(&format!("{dm}/v2%2Forders")).await.status, 202);

    // Access associations: none can exist here.
    assert_eq!(
        m.get("/domainnameaccessassociations").await.ok(),
        json!({"item": []})
    );
    let msg = m
        .post("/domainnameaccessassociations", json!({}))
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("private custom domain"), "{msg}");

    // Client certificates: the PEM public part and dates, never the key.
    let c = m
        .post(
            "/clientcertificates",
            json!({"description": "to backends", "tags": {"k": "v"}}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let c = c.body;
    let id = text(&c["clientCertificateId"]);
    assert!(text(&c["pemEncodedCertificate"]).starts_with("-----BEGIN CERTIFICATE-----"));
    let days = (c["expirationDate"].as_i64().unwrap_or(0) - c["createdDate"].as_i64().unwrap_or(0))
        / 86400;
    assert!((364..=366).contains(&days), "{c}");
    let updated = m
        .patch(
            &format!("/clientcertificates/{id}"),
            json!([{"op": "replace", "path": "/description", "value": "renamed"}]),
        )
        .await
        .ok();
    assert_eq!(updated["description"], "renamed");
    assert_eq!(
        m.get("/clientcertificates").await.ok()["item"][0]["clientCertificateId"],
        id.as_str()
    );
    let stage = format!("/restapis/{a}/stages/prod");
    m.patch(
        &stage,
        json!([{"op": "replace", "path": "/clientCertificateId", "value": "nosuch"}]),
    )
    .await
    .err(400, "BadRequestException");
    let s = m
        .patch(
            &stage,
            json!([{"op": "replace", "path": "/clientCertificateId", "value": id}]),
        )
        .await
        .ok();
    assert_eq!(s["clientCertificateId"], id.as_str());
    let msg = m
        .delete(&format!("/clientcertificates/{id}"))
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("prod"), "{msg}");

    // No private key in any answer, nor in clear in any table.
    for path in [
        "/domainnames".to_string(),
        "/domainnames/api.example.com".to_string(),
        "/clientcertificates".to_string(),
        format!("/clientcertificates/{id}"),
    ] {
        let body = m.get(&path).await.ok().to_string();
        assert!(!body.contains("PRIVATE KEY"), "{path}: {body}");
    }
    let pool = sqlx::PgPool::connect(&db).await.expect("database");
    for table in [
        "certificates",
        "domain_names",
        "client_certificates",
        "audit_events",
    ] {
        let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&pool)
            .await
            .expect("table read");
        assert!(!rows.is_empty() || table == "audit_events");
        for (row,) in rows {
            assert!(
                !row.contains("PRIVATE KEY"),
                "{table} holds a key in clear: {row}"
            );
            assert!(!row.contains(good.key_pem.lines().nth(1).unwrap_or("x")));
        }
    }

    // TagResource / GetTags / UntagResource on a domain's and a certificate's ARN.
    for path in [
        "/domainnames/api.example.com".to_string(),
        format!("/clientcertificates/{id}"),
    ] {
        let arn = format!("arn:aws:apigateway:us-east-1::{path}");
        let tags = format!("/tags/{}", arn.replace(':', "%3A").replace('/', "%2F"));
        assert_eq!(
            m.put(&tags, json!({"tags": {"env": "prod"}})).await.status,
            204
        );
        let got = m.get(&tags).await.ok();
        assert_eq!(got["tags"]["env"], "prod", "{path}: {got}");
        assert_eq!(m.get(&path).await.ok()["tags"]["env"], "prod");
    }

    assert_eq!(m.delete("/domainnames/www.example.com").await.status, 202);
    m.get("/domainnames/www.example.com")
        .await
        .err(404, "NotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_serve_custom_domains_by_sni_and_base_path() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let ca = TestCa::new("test ca");
    let api_cert = ca.server("api.example.com");
    let shop_cert = ca.server("shop.example.com");
    let root = labelled_api(&m, "root", "prod", json!({})).await;
    let one = labelled_api(&m, "one", "v", json!({})).await;
    let orders = labelled_api(&m, "orders", "beta", json!({})).await;
    let closed = labelled_api(
        &m,
        "closed",
        "prod",
        json!({"disableExecuteApiEndpoint": true}),
    )
    .await;
    create_domain(
        &m,
        json!({"domainName": "api.example.com", "certificateBody": api_cert.cert_pem,
               "certificatePrivateKey": api_cert.key_pem,
               "endpointConfiguration": {"types": ["REGIONAL"]}}),
    )
    .await;
    create_domain(
        &m,
        json!({"domainName": "shop.example.com", "certificateBody": shop_cert.cert_pem,
               "certificatePrivateKey": shop_cert.key_pem}),
    )
    .await;
    let map = |d: &str, body: Value| {
        let m = &m;
        let path = format!("/domainnames/{d}/basepathmappings");
        async move {
            let a = m.post(&path, body).await;
            assert_eq!(a.status, 201, "{}", a.body);
        }
    };
    map(
        "api.example.com",
        json!({"restApiId": root, "stage": "prod"}),
    )
    .await;
    map(
        "api.example.com",
        json!({"restApiId": one, "basePath": "v1", "stage": "v"}),
    )
    .await;
    map(
        "api.example.com",
        json!({"restApiId": orders, "basePath": "v1/orders"}),
    )
    .await;
    map(
        "shop.example.com",
        json!({"restApiId": closed, "stage": "prod"}),
    )
    .await;

    for node in &cluster.nodes {
        let port = node.https_port;
        // Each domain is served its own certificate; paths route by the longest base path.
        let got = eventually(
            "the domains reach the node",
            Duration::from_secs(30),
            || async {
                https_get(port, "api.example.com", "/who", &ca.pem, None)
                    .await
                    .ok()
                    .filter(|a| a.status == 200)
            },
        )
        .await;
        assert_eq!(got.server_cert, api_cert.der());
        assert!(got.body.contains("\"api\": \"root\""), "{}", got.body);
        assert!(got.body.contains("\"path\": \"/who\""), "{}", got.body);
        assert!(
            got.body.contains("\"domain\": \"api.example.com\""),
            "{}",
            got.body
        );
        let got = https_get(port, "api.example.com", "/v1/who", &ca.pem, None)
            .await
            .unwrap();
        assert!(got.body.contains("\"api\": \"one\""), "{}", got.body);
        assert!(got.body.contains("\"path\": \"/who\""), "{}", got.body);
        let got = https_get(port, "api.example.com", "/v1", &ca.pem, None)
            .await
            .unwrap();
        assert!(got.body.contains("\"api\": \"one\""), "{}", got.body);
        // No stage in the mapping: the segment after the base path names it.
        let got = https_get(
            port,
            "api.example.com",
            "/v1/orders/beta/who",
            &ca.pem,
            None,
        )
        .await
        .unwrap();
        assert!(got.body.contains("\"api\": \"orders\""), "{}", got.body);
        let got = https_get(
            port,
            "api.example.com",
            "/v1/orders/nope/who",
            &ca.pem,
            None,
        )
        .await
        .unwrap();
        assert_eq!(got.status, 403, "{}", got.body);
        // `v10` is not under `v1`: the (none) mapping serves it (and has no such resource).
        let got = https_get(port, "api.example.com", "/v10/who", &ca.pem, None)
            .await
            .unwrap();
        assert_eq!(got.status, 403);
        assert!(
            got.body.contains("Missing Authentication Token"),
            "{}",
            got.body
        );
        let got = https_get(port, "shop.example.com", "/who", &ca.pem, None)
            .await
            .unwrap();
        assert_eq!(got.server_cert, shop_cert.der());
        assert!(got.body.contains("\"api\": \"closed\""), "{}", got.body);
        // An unknown SNI name gets no handshake.
        let refused = https_get(port, "nope.example.com", "/", &ca.pem, None).await;
        assert!(refused.is_err(), "{refused:?}");
        // The execute-api endpoint of the API that disables it is closed; the domain serves it.
        let closed_url = node.invoke_url(&closed, "prod", "/who");
        let status = reqwest::get(&closed_url)
            .await
            .expect("plain http")
            .status();
        assert_eq!(status.as_u16(), 403);
        let open_url = node.invoke_url(&root, "prod", "/who");
        assert_eq!(
            reqwest::get(&open_url)
                .await
                .expect("plain http")
                .status()
                .as_u16(),
            200
        );
    }

    // Rotation without a restart: every node's next handshake presents the new certificate.
    let rotated = ca.server("api.example.com");
    m.patch(
        "/domainnames/api.example.com",
        json!([{"op": "replace", "path": "/certificateBody", "value": rotated.cert_pem},
               {"op": "replace", "path": "/certificatePrivateKey", "value": rotated.key_pem}]),
    )
    .await
    .ok();
    for node in &cluster.nodes {
        let port = node.https_port;
        let want = rotated.der();
        eventually(
            "the rotated certificate is served",
            Duration::from_secs(30),
            || async {
                https_get(port, "api.example.com", "/who", &ca.pem, None)
                    .await
                    .ok()
                    .filter(|a| a.server_cert == want && a.status == 200)
            },
        )
        .await;
    }

    // Mutual TLS: a certificate chaining to the truststore is required, and its subject
    // reaches the mapping template.
    let client_ca = TestCa::new("client ca");
    let stranger_ca = TestCa::new("stranger ca");
    let truststore =
        std::env::temp_dir().join(format!("apigw-truststore-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&truststore, &client_ca.pem).expect("truststore written");
    let mtls_cert = ca.server("mtls.example.com");
    create_domain(
        &m,
        json!({"domainName": "mtls.example.com", "certificateBody": mtls_cert.cert_pem,
               "certificatePrivateKey": mtls_cert.key_pem,
               "endpointConfiguration": {"types": ["REGIONAL"]},
               "mutualTlsAuthentication": {"truststoreUri": format!("file://{}", truststore.display()),
                                           "truststoreVersion": "1"}}),
    )
    .await;
    let _ = std::fs::remove_file(&truststore);
    let api = RestApi::create(&m, "mtls").await;
    mock_method(
        &m,
        &api.id,
        &api.root,
        "GET",
        "{\"subject\": \"$context.identity.clientCert.subjectDN\", \"issuer\": \"$context.identity.clientCert.issuerDN\", \"prefix\": \"$context.domainPrefix\"}",
    )
    .await;
    // The certificate in request parameter mappings too (an HTTP_PROXY to an echo backend).
    let backend = Backend::start("mtls-backend").await;
    let echo = api.resource(&api.root, "echo").await;
    m.put(
        &api.method_path(&echo, "GET"),
        json!({"authorizationType": "NONE"}),
    )
    .await
    .ok();
    m.put(
        &format!("{}/integration", api.method_path(&echo, "GET")),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/echo", backend.url()),
               "requestParameters": {
                   "integration.request.header.x-subject": "context.identity.clientCert.subjectDN",
                   "integration.request.header.x-not-after": "context.identity.clientCert.validity.notAfter"}}),
    )
    .await
    .ok();
    api.deploy("prod", json!({})).await;
    map(
        "mtls.example.com",
        json!({"restApiId": api.id, "stage": "prod"}),
    )
    .await;
    let alice = client_ca.client("alice");
    let mallory = stranger_ca.client("mallory");
    for node in &cluster.nodes {
        let port = node.https_port;
        let got = eventually(
            "the mTLS domain reaches the node",
            Duration::from_secs(30),
            || async {
                https_get(port, "mtls.example.com", "/", &ca.pem, Some(&alice))
                    .await
                    .ok()
                    .filter(|a| a.status == 200)
            },
        )
        .await;
        assert!(got.body.contains("CN=alice"), "{}", got.body);
        assert!(got.body.contains("CN=client ca"), "{}", got.body);
        assert!(got.body.contains("\"prefix\": \"mtls\""), "{}", got.body);
        let echoed = https_get(port, "mtls.example.com", "/echo", &ca.pem, Some(&alice))
            .await
            .expect("the echo through mTLS");
        assert_eq!(echoed.status, 200, "{}", echoed.body);
        let echoed: Value = serde_json::from_str(&echoed.body).expect("the echo's JSON");
        assert!(
            text(&echoed["headers"]["x-subject"]).contains("CN=alice"),
            "{echoed}"
        );
        assert!(
            text(&echoed["headers"]["x-not-after"]).ends_with("GMT"),
            "{echoed}"
        );
        let refused = https_get(port, "mtls.example.com", "/", &ca.pem, None).await;
        assert!(refused.is_err(), "no client certificate: {refused:?}");
        let refused = https_get(port, "mtls.example.com", "/", &ca.pem, Some(&mallory)).await;
        assert!(refused.is_err(), "another CA's certificate: {refused:?}");
        // The other domains still need none.
        let got = https_get(port, "api.example.com", "/who", &ca.pem, None)
            .await
            .unwrap();
        assert_eq!(got.status, 200);
    }

    // TLS 1.3 only by security policy.
    m.patch(
        "/domainnames/shop.example.com",
        json!([{"op": "replace", "path": "/securityPolicy", "value": "SecurityPolicy_TLS13_1_3_2025_09"}]),
    )
    .await
    .ok();
    let port = cluster.nodes[0].https_port;
    let got = https_get(port, "shop.example.com", "/who", &ca.pem, None)
        .await
        .unwrap();
    assert_eq!(got.version, "Some(TLSv1_3)");
    assert_eq!(got.alpn.as_deref(), Some("http/1.1"));
}

/// An HTTPS backend on 127.0.0.1 (certificate from `ca`) that completes a handshake only
/// with a client certificate chaining to `client_roots_pem`, and answers `hello mtls`.
async fn mtls_backend(ca: &TestCa, client_roots_pem: &str) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;
    let issued = ca.server("127.0.0.1");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(client_roots_pem.as_bytes()) {
        roots
            .add(cert.expect("client root"))
            .expect("client root added");
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).expect("cert")],
            PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("key"),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from_static(b"hello mtls")),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_present_their_client_certificate_to_https_backends() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let m = cp.mgmt();
    let ca = TestCa::new("backend ca");
    let ca_file =
        std::env::temp_dir().join(format!("apigw-backend-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&ca_file, &ca.pem).expect("CA file written");
    let node = apigw_e2e::DataPlane::start_env(
        &cp.grpc_url(),
        "node-mtls",
        &[("BACKEND_CA_FILE", ca_file.display().to_string())],
    )
    .await;
    let cert = m
        .post("/clientcertificates", json!({"description": "gateway"}))
        .await
        .ok();
    let id = text(&cert["clientCertificateId"]);
    let port = mtls_backend(&ca, &text(&cert["pemEncodedCertificate"])).await;

    let api = RestApi::create(&m, "backend-mtls").await;
    api.method(
        &api.root,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET",
               "uri": format!("https://127.0.0.1:{port}/")}),
    )
    .await;
    api.deploy("with", json!({})).await;
    api.deploy("without", json!({})).await;
    m.patch(
        &format!("/restapis/{}/stages/with", api.id),
        json!([{"op": "replace", "path": "/clientCertificateId", "value": id}]),
    )
    .await
    .ok();
    node.wait_ready().await;
    let client = reqwest::Client::new();
    let with = node.invoke_url(&api.id, "with", "/");
    let body = eventually(
        "the stage presents its certificate",
        Duration::from_secs(30),
        || async {
            let r = client.get(&with).send().await.ok()?;
            (r.status() == 200).then_some(())?;
            r.text().await.ok()
        },
    )
    .await;
    assert_eq!(body, "hello mtls");
    let without = client
        .get(node.invoke_url(&api.id, "without", "/"))
        .send()
        .await
        .expect("invoke");
    assert!(
        without.status().is_server_error(),
        "a stage without the certificate is refused by the backend: {}",
        without.status()
    );

    // A backend whose certificate no trusted CA issued: refused, until the integration's
    // tlsConfig.insecureSkipVerification says not to verify it.
    let untrusted = TestCa::new("untrusted ca");
    let port = mtls_backend(&untrusted, &text(&cert["pemEncodedCertificate"])).await;
    let api = RestApi::create(&m, "backend-insecure").await;
    api.method(
        &api.root,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET",
               "uri": format!("https://127.0.0.1:{port}/")}),
    )
    .await;
    api.deploy("with", json!({})).await;
    let stage = format!("/restapis/{}/stages/with", api.id);
    let patched = m
        .patch(
            &stage,
            json!([{"op": "replace", "path": "/clientCertificateId", "value": id}]),
        )
        .await
        .ok();
    let url = node.invoke_url(&api.id, "with", "/");
    eventually(
        "the stage reaches the node",
        Duration::from_secs(30),
        || async {
            let r = client.get(&url).send().await.ok()?;
            r.status().is_server_error().then_some(())
        },
    )
    .await;
    assert_eq!(patched["clientCertificateId"], id.as_str());
    let integration = format!("{}/integration", api.method_path(&api.root, "GET"));
    let updated = m
        .patch(
            &integration,
            json!([{"op": "replace", "path": "/tlsConfig/insecureSkipVerification", "value": "true"}]),
        )
        .await
        .ok();
    assert_eq!(updated["tlsConfig"]["insecureSkipVerification"], true);
    api.deploy("with", json!({})).await;
    let body = eventually(
        "the unverified backend is called",
        Duration::from_secs(30),
        || async {
            let r = client.get(&url).send().await.ok()?;
            (r.status() == 200).then_some(())?;
            r.text().await.ok()
        },
    )
    .await;
    assert_eq!(body, "hello mtls");
    let _ = std::fs::remove_file(&ca_file);
}

/// Every domain, base-path-mapping and client-certificate operation through boto3
/// (`tests/boto3/domains.py`), with AWS's exception classes for what is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_round_trips_domains_mappings_and_client_certificates() {
    let cp = ControlPlane::start(&fresh_database().await.expect("a test database")).await;
    let ca = TestCa::new("boto3 ca");
    let first = ca.server("api.example.com");
    let second = ca.server("api.example.com");
    let other = ca.server("other.example.com");
    let truststore = std::env::temp_dir().join(format!(
        "apigw-boto3-truststore-{}.pem",
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&truststore, &ca.pem).expect("truststore written");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/domains.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .env("APIGW_ENDPOINT", cp.url())
        .env("APIGW_ACCESS_KEY_ID", apigw_e2e::process::ACCESS_KEY_ID)
        .env(
            "APIGW_SECRET_ACCESS_KEY",
            apigw_e2e::process::SECRET_ACCESS_KEY,
        )
        .env("CERT_PEM", &first.cert_pem)
        .env("KEY_PEM", &first.key_pem)
        .env("CERT2_PEM", &second.cert_pem)
        .env("KEY2_PEM", &second.key_pem)
        .env("OTHER_KEY_PEM", &other.key_pem)
        .env("CA_PEM", &ca.pem)
        .env("TRUSTSTORE_PATH", truststore.display().to_string())
        .status()
        .await
        .expect("running python3");
    let _ = std::fs::remove_file(&truststore);
    assert!(status.success(), "domains.py failed: {status}");
}

/// Writes `text` to `dir/name`; answers the path.
fn write_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.display().to_string()
}

/// A fresh directory for a test's certificate files and logs.
fn temp_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("apigw-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The node ids of the shipments applied in `table` (`metric_shipments`, `log_shipments`).
async fn shippers(db: &str, table: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(db).await.expect("database");
    let mut ids: Vec<String> = sqlx::query_scalar(&format!("SELECT node_id FROM {table}"))
        .fetch_all(&pool)
        .await
        .expect("shipments read");
    pool.close().await;
    ids.sort();
    ids.dedup();
    ids
}

/// The config stream over TLS (README "Running the config stream over TLS"): the control
/// plane's gRPC listener with its own certificate and a client CA; two nodes with the CA
/// file and client certificates get their config, serve a deployed API and ship metrics
/// and access logs over the same TLS listener. A node trusting another CA never gets a
/// config and logs why, and so does a node without a client certificate; neither panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_stream_runs_over_tls_and_refuses_unverified_peers() {
    let dir = temp_dir("grpc-tls");
    let cp_ca = TestCa::new("control plane ca");
    let server = cp_ca.server("127.0.0.1");
    let node_ca = TestCa::new("node ca");
    let node_cert = node_ca.client("node");
    let stranger = TestCa::new("stranger ca");
    let cp_ca_file = write_file(&dir, "cp-ca.pem", &cp_ca.pem);
    let stranger_file = write_file(&dir, "stranger-ca.pem", &stranger.pem);
    let node_cert_file = write_file(&dir, "node.pem", &node_cert.cert_pem);
    let node_key_file = write_file(&dir, "node.key", &node_cert.key_pem);

    let db = fresh_database().await.expect("a test database");
    let cp_log = dir.join("control-plane.log");
    let cp = ControlPlane::start_logged(
        &db,
        free_port(),
        free_port(),
        &[
            (
                "CP_GRPC_TLS_CERT_FILE",
                write_file(&dir, "server.pem", &server.cert_pem),
            ),
            (
                "CP_GRPC_TLS_KEY_FILE",
                write_file(&dir, "server.key", &server.key_pem),
            ),
            (
                "CP_GRPC_CLIENT_CA_FILE",
                write_file(&dir, "node-ca.pem", &node_ca.pem),
            ),
        ],
        Some(&cp_log),
    )
    .await;
    let url = cp.grpc_tls_url();
    let node_env = |ca: &str, client_cert: bool| {
        let mut env = vec![
            ("CONTROL_PLANE_CA_FILE", ca.to_string()),
            ("METRICS_SHIP_INTERVAL", "1".to_string()),
            ("LOGS_SHIP_INTERVAL_MS", "200".to_string()),
        ];
        if client_cert {
            env.push(("CONTROL_PLANE_CERT_FILE", node_cert_file.clone()));
            env.push(("CONTROL_PLANE_KEY_FILE", node_key_file.clone()));
        }
        env
    };
    let good = node_env(&cp_ca_file, true);
    let nodes = [
        DataPlane::start_env(&url, "tls-0", &good).await,
        DataPlane::start_env(&url, "tls-1", &good).await,
    ];

    let m = cp.mgmt();
    let api = RestApi::create(&m, "over-tls").await;
    mock_method(&m, &api.id, &api.root, "GET", "{\"over\": \"tls\"}").await;
    api.deploy("prod", json!({})).await;
    m.patch(
        &format!("/restapis/{}/stages/prod", api.id),
        json!([
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": "arn:aws:logs:us-east-1:123456789012:log-group:over-tls"},
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"}
        ]),
    )
    .await
    .ok();
    for node in &nodes {
        node.wait_ready().await;
        let invoke = node.invoke_url(&api.id, "prod", "/");
        eventually("the node serves the API", Duration::from_secs(30), || {
            let invoke = invoke.clone();
            async move {
                let got = apigw_e2e::invoke::get(&invoke, &[]).await;
                (got.status == 200 && got.body.contains("\"over\": \"tls\"")).then_some(())
            }
        })
        .await;
    }
    // Metrics and access logs reach the control plane through the same TLS listener.
    for table in ["metric_shipments", "log_shipments"] {
        eventually(
            &format!("both nodes ship into {table}"),
            Duration::from_secs(30),
            || async {
                for node in &nodes {
                    let invoke = node.invoke_url(&api.id, "prod", "/");
                    apigw_e2e::invoke::get(&invoke, &[]).await;
                }
                (shippers(&db, table).await == ["tls-0", "tls-1"]).then_some(())
            },
        )
        .await;
    }

    // A node trusting a CA that did not sign the control plane's certificate, and one
    // without a client certificate: refused at the handshake, each saying so, again and
    // again, and never configured. They get a Redis key prefix of their own: on the
    // cluster's, they would serve the state the control plane published to Redis
    // (docs/node-state.md), which is not what is tested here.
    let alone = |mut env: Vec<(&'static str, String)>| {
        env.push((
            "REDIS_KEY_PREFIX",
            format!("e2e-tls-alone:{}:", uuid::Uuid::new_v4().simple()),
        ));
        env
    };
    let wrong_ca_log = dir.join("wrong-ca.log");
    let wrong_ca = DataPlane::start_logged(
        &url,
        "tls-wrong-ca",
        &alone(node_env(&stranger_file, true)),
        Some(&wrong_ca_log),
    )
    .await;
    let no_cert_log = dir.join("no-cert.log");
    let no_cert = DataPlane::start_logged(
        &url,
        "tls-no-cert",
        &alone(node_env(&cp_ca_file, false)),
        Some(&no_cert_log),
    )
    .await;
    let failures = |log: &std::path::Path, what: &'static str, why: &'static str| {
        let log = log.to_path_buf();
        async move {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("ERROR") && l.contains(what) && l.contains(why))
                .collect();
            (lines.len() >= 2).then(|| lines[0].to_string())
        }
    };
    let line = eventually(
        "the node trusting another CA logs the handshake failure",
        Duration::from_secs(30),
        || {
            failures(
                &wrong_ca_log,
                "the TLS handshake with the control plane failed",
                "invalid peer certificate: UnknownIssuer",
            )
        },
    )
    .await;
    assert!(line.contains(&url), "{line}");
    // TLS 1.3: the server refuses the missing certificate after the client's side of the
    // handshake; the node sees the connection closed under its first call.
    let line = eventually(
        "the node without a client certificate logs its refusal",
        Duration::from_secs(30),
        || {
            failures(
                &no_cert_log,
                "the control plane closed the TLS connection before sending any config",
                "client_cert=false",
            )
        },
    )
    .await;
    assert!(line.contains("--grpc-client-ca-file"), "{line}");
    // The control plane names the refused node's address and the reason.
    let line = eventually(
        "the control plane logs the refused handshake",
        Duration::from_secs(10),
        || async {
            std::fs::read_to_string(&cp_log)
                .unwrap_or_default()
                .lines()
                .find(|l| {
                    l.contains("WARN")
                        && l.contains("gRPC TLS handshake refused")
                        && l.contains("no certificates")
                })
                .map(str::to_string)
        },
    )
    .await;
    assert!(line.contains("127.0.0.1"), "{line}");
    for (node, log) in [(&wrong_ca, &wrong_ca_log), (&no_cert, &no_cert_log)] {
        let ready = reqwest::get(format!("{}/readyz", node.base()))
            .await
            .expect("readyz");
        assert_eq!(
            ready.status().as_u16(),
            503,
            "{} got a config",
            node.node_id
        );
        let invoke = apigw_e2e::invoke::get(&node.invoke_url(&api.id, "prod", "/"), &[]).await;
        assert_ne!(invoke.status, 200, "{} serves the API", node.node_id);
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(!text.contains("panicked"), "{text}");
        assert!(!text.contains("config applied"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every PEM line and every 24-character run of `pem`'s base64 body past its first 48
/// characters (the algorithm identifiers every key of its kind shares).
fn secret_fragments(pem: &str) -> Vec<String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    assert!(body.len() > 100, "a key's base64 body: {pem}");
    let mut out: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 24)
        .skip(1)
        .map(str::to_string)
        .collect();
    for start in 48..body.len().saturating_sub(24) {
        out.push(body[start..start + 24].to_string());
    }
    out
}

/// Private keys never reach a log: a domain with its key (uploaded, then rotated) and a
/// generated client certificate that a stage presents, the config stream carrying them to
/// two nodes that serve the domain over HTTPS, every process logging at debug; neither the
/// control plane's nor the nodes' stdout and stderr hold a PEM key marker or any run of a
/// key's base64.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_keys_never_reach_the_logs() {
    const MASTER_KEY: &str = "e2e-private-keys-never-logged-master-key";
    let dir = temp_dir("key-logs");
    let db = fresh_database().await.expect("a test database");
    let debug = ("RUST_LOG", "debug".to_string());
    let cp_log = dir.join("control-plane.log");
    let mut cp = ControlPlane::start_logged(
        &db,
        free_port(),
        free_port(),
        &[debug.clone(), ("APIGW_MASTER_KEY", MASTER_KEY.to_string())],
        Some(&cp_log),
    )
    .await;
    let node_logs = [dir.join("node-0.log"), dir.join("node-1.log")];
    let mut nodes = Vec::new();
    for (i, log) in node_logs.iter().enumerate() {
        let env = [debug.clone(), ("ACCESS_LOG_STDOUT", "true".to_string())];
        let node =
            DataPlane::start_logged(&cp.grpc_url(), &format!("keys-{i}"), &env, Some(log)).await;
        nodes.push(node);
    }

    let m = cp.mgmt();
    let ca = TestCa::new("keys ca");
    let first = ca.server("keys.example.com");
    let rotated = ca.server("keys.example.com");
    let api = labelled_api(&m, "keys", "prod", json!({})).await;
    let cert = m
        .post("/clientcertificates", json!({"description": "to backends"}))
        .await
        .ok();
    let cert_id = text(&cert["clientCertificateId"]);
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "replace", "path": "/clientCertificateId", "value": cert_id},
               {"op": "replace", "path": "/accessLogSettings/destinationArn",
                "value": "arn:aws:logs:us-east-1:123456789012:log-group:keys"},
               {"op": "replace", "path": "/accessLogSettings/format",
                "value": "$context.requestId $context.identity.sourceIp $context.domainName"}]),
    )
    .await
    .ok();
    // The domain last: once a node serves its rotated certificate, it has applied the
    // stage's changes too (configs apply in order).
    create_domain(
        &m,
        json!({"domainName": "keys.example.com", "certificateBody": first.cert_pem,
               "certificateChain": ca.pem, "certificatePrivateKey": first.key_pem,
               "endpointConfiguration": {"types": ["REGIONAL"]}}),
    )
    .await;
    let mapped = m
        .post(
            "/domainnames/keys.example.com/basepathmappings",
            json!({"restApiId": api, "stage": "prod"}),
        )
        .await;
    assert_eq!(mapped.status, 201, "{}", mapped.body);
    let served = |want: Vec<u8>| {
        let ca = &ca.pem;
        let ports: Vec<u16> = nodes.iter().map(|n| n.https_port).collect();
        async move {
            for port in ports {
                let want = &want;
                eventually(
                    "the node serves the domain's current certificate",
                    Duration::from_secs(30),
                    || async move {
                        https_get(port, "keys.example.com", "/who", ca, None)
                            .await
                            .ok()
                            .filter(|a| a.status == 200 && a.server_cert == *want)
                    },
                )
                .await;
            }
        }
    };
    served(first.der()).await;
    m.patch(
        "/domainnames/keys.example.com",
        json!([{"op": "replace", "path": "/certificateBody", "value": rotated.cert_pem},
               {"op": "replace", "path": "/certificatePrivateKey", "value": rotated.key_pem}]),
    )
    .await
    .ok();
    served(rotated.der()).await;
    for node in &nodes {
        let got = https_get(node.https_port, "keys.example.com", "/who", &ca.pem, None)
            .await
            .expect("served");
        assert_eq!(got.status, 200, "{}", got.body);
    }

    // The generated client certificate's key, as the control plane keeps it (sealed).
    let pool = sqlx::PgPool::connect(&db).await.expect("database");
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT private_key_enc FROM client_certificates WHERE id = $1")
            .bind(&cert_id)
            .fetch_one(&pool)
            .await
            .expect("the client certificate's row");
    pool.close().await;
    let client_key = apigw_control_plane::keys::KeyVault::from_master_key(MASTER_KEY)
        .decrypt(&sealed)
        .expect("the client certificate's key");
    assert!(client_key.contains("PRIVATE KEY"), "a PEM key");

    // Flush and close every log, then read them.
    for node in &mut nodes {
        node.stop().await;
    }
    cp.stop().await;
    let mut logs = vec![(
        cp_log.clone(),
        std::fs::read_to_string(&cp_log).unwrap_or_default(),
    )];
    for log in &node_logs {
        logs.push((
            log.clone(),
            std::fs::read_to_string(log).unwrap_or_default(),
        ));
    }
    for (path, text) in &logs {
        // Debug lines were written (else this proves nothing), and the stream was used.
        assert!(text.contains("DEBUG"), "{}: no debug lines", path.display());
        assert!(
            !text.contains("PRIVATE KEY"),
            "{}: a PEM private key marker",
            path.display()
        );
        for (what, key) in [
            ("the first domain key", &first.key_pem),
            ("the rotated domain key", &rotated.key_pem),
            ("the client certificate key", &client_key),
        ] {
            for fragment in secret_fragments(key) {
                assert!(
                    !text.contains(&fragment),
                    "{}: {what} appears ({fragment})",
                    path.display()
                );
            }
        }
    }
    for log in &node_logs[..] {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(text.contains("config applied"), "{}", log.display());
        assert!(
            text.contains("keys.example.com"),
            "{}: no access log line",
            log.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
