//! Compile-time acceptance and rejection of stage configs.

use super::*;
use apigw_proto::config::{
    DeploymentSnapshot, Integration as PbIntegration, IntegrationResponse as PbResponse,
    Method as PbMethod, Resource,
};

fn method(verb: &str, integration: PbIntegration) -> PbMethod {
    PbMethod {
        http_method: verb.into(),
        integration: Some(integration),
        ..Default::default()
    }
}

fn mock(template: &str, responses: Vec<PbResponse>) -> PbIntegration {
    PbIntegration {
        r#type: "MOCK".into(),
        request_templates: BTreeMap::from([("application/json".into(), template.into())]),
        integration_responses: responses,
        ..Default::default()
    }
}

fn response(status: &str, pattern: &str) -> PbResponse {
    PbResponse {
        status_code: status.into(),
        selection_pattern: pattern.into(),
        ..Default::default()
    }
}

fn stage(resources: Vec<Resource>) -> StageConfig {
    StageConfig {
        api_id: "api1".into(),
        stage_name: "prod".into(),
        deployment_id: "dep1".into(),
        variables: BTreeMap::from([("backend".into(), "localhost:9999".into())]),
        deployment: Some(DeploymentSnapshot {
            api_id: "api1".into(),
            format_version: SNAPSHOT_FORMAT_VERSION,
            resources,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn resource(path: &str, methods: Vec<PbMethod>) -> Resource {
    Resource {
        id: path.into(),
        path: path.into(),
        methods,
        ..Default::default()
    }
}

#[test]
fn compiles_mock_and_selects_status() {
    let s = stage(vec![resource(
        "/pets",
        vec![method(
            "GET",
            mock(
                r#"{"statusCode": 404}"#,
                vec![response("200", ""), response("404", "404")],
            ),
        )],
    )]);
    let compiled = compile_stage(&s).unwrap();
    let mut caps = Vec::new();
    let m = compiled
        .routes
        .find("/pets", &mut caps)
        .unwrap()
        .get(&Method::GET)
        .unwrap();
    let Integration::Mock(mock) = &m.integration else {
        panic!("not a mock")
    };
    let TemplateChoice::Template(Some(template)) = mock.templates.choose(None) else {
        panic!("no template")
    };
    let rendered = template.render(&vtl::RenderInput::default()).unwrap();
    let status = mock_status(&rendered.body);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        mock.responses.select(status.as_str()).unwrap().status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn mock_status_defaults_to_200() {
    assert_eq!(mock_status("not json"), StatusCode::OK);
    assert_eq!(mock_status(r#"{"statusCode": "404"}"#), StatusCode::OK);
    assert_eq!(mock_status(r#"{"statusCode": 201}"#), StatusCode::CREATED);
}

#[test]
fn rejects_template_that_does_not_parse() {
    let s = stage(vec![resource(
        "/pets",
        vec![method("GET", mock("#if(", vec![response("200", "")]))],
    )]);
    let e = compile_stage(&s).unwrap_err();
    assert!(
        matches!(&*e.kind, CompileErrorKind::Template(t) if t.source.line == 1),
        "{e}"
    );
}

#[test]
fn rejects_newer_snapshot_format() {
    let mut s = stage(vec![]);
    if let Some(d) = s.deployment.as_mut() {
        d.format_version = 999;
    }
    let e = compile_stage(&s).unwrap_err();
    assert!(
        matches!(
            *e.kind,
            CompileErrorKind::UnsupportedFormat { found: 999, .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("api1/prod"));
}

#[test]
fn rejects_bad_regex_uri_mapping_and_duplicates() {
    let bad_regex = stage(vec![resource(
        "/a",
        vec![method("GET", mock("{}", vec![response("200", "(")]))],
    )]);
    assert!(matches!(
        *compile_stage(&bad_regex).unwrap_err().kind,
        CompileErrorKind::SelectionPattern(_)
    ));

    let http = |uri: &str| PbIntegration {
        r#type: "HTTP_PROXY".into(),
        uri: uri.into(),
        ..Default::default()
    };
    let bad_uri = stage(vec![resource("/a", vec![method("GET", http("not a uri"))])]);
    assert!(matches!(
        *compile_stage(&bad_uri).unwrap_err().kind,
        CompileErrorKind::Uri { .. }
    ));

    let mut mapped = http("http://h/");
    mapped
        .request_parameters
        .insert("integration.request.header.x".into(), "nonsense".into());
    let bad_mapping = stage(vec![resource("/a", vec![method("GET", mapped)])]);
    assert!(matches!(
        *compile_stage(&bad_mapping).unwrap_err().kind,
        CompileErrorKind::Mapping { .. }
    ));

    let dup_route = stage(vec![
        resource("/a", vec![method("GET", mock("{}", vec![]))]),
        resource("/a", vec![method("POST", mock("{}", vec![]))]),
    ]);
    assert!(matches!(
        *compile_stage(&dup_route).unwrap_err().kind,
        CompileErrorKind::Route(RouteError::Duplicate(_))
    ));

    let dup_method = stage(vec![resource(
        "/a",
        vec![
            method("GET", mock("{}", vec![])),
            method("get", mock("{}", vec![])),
        ],
    )]);
    assert!(matches!(
        *compile_stage(&dup_method).unwrap_err().kind,
        CompileErrorKind::DuplicateMethod(_)
    ));

    let bad_status = stage(vec![resource(
        "/a",
        vec![method("GET", mock("{}", vec![response("abc", "")]))],
    )]);
    assert!(matches!(
        *compile_stage(&bad_status).unwrap_err().kind,
        CompileErrorKind::StatusCode(_)
    ));

    let no_snapshot = StageConfig {
        deployment: None,
        ..stage(vec![])
    };
    assert!(matches!(
        *compile_stage(&no_snapshot).unwrap_err().kind,
        CompileErrorKind::MissingSnapshot
    ));
}

#[test]
fn http_integration_resolves_slots_stage_variables_and_timeout() {
    let mut integration = PbIntegration {
        r#type: "HTTP_PROXY".into(),
        http_method: "ANY".into(),
        uri: "http://${stageVariables.backend}/v1/{proxy}/{other}/{id}".into(),
        ..Default::default()
    };
    integration
        .request_parameters
        .insert("integration.request.path.other".into(), "'fixed'".into());
    integration.request_parameters.insert(
        "integration.request.header.x-req".into(),
        "context.requestId".into(),
    );
    let s = stage(vec![resource(
        "/items/{id}/{proxy+}",
        vec![method("ANY", integration)],
    )]);
    let compiled = compile_stage(&s).unwrap();
    let mut caps = Vec::new();
    let m = compiled
        .routes
        .find("/items/7/a/b", &mut caps)
        .unwrap()
        .get(&Method::DELETE)
        .unwrap();
    let Integration::HttpProxy(h) = &m.integration else {
        panic!("not a proxy")
    };
    assert_eq!(h.method, None);
    assert_eq!(h.uri.host(), "localhost:9999");
    assert_eq!(
        h.slot_sources,
        vec![
            ValueSource::PathParam(1),
            ValueSource::Constant("fixed".into()),
            ValueSource::PathParam(0)
        ]
    );
    assert_eq!(h.header_mappings.len(), 1);
    assert_eq!(h.timeout, DEFAULT_TIMEOUT);
}

#[test]
fn passthrough_rules() {
    let t = |entries: Vec<(&str, u8)>, p| RequestTemplates {
        entries: entries
            .into_iter()
            .map(|(c, v)| (Box::<str>::from(c), v))
            .collect(),
        passthrough: p,
    };
    let none = t(vec![], Passthrough::WhenNoMatch);
    assert_eq!(none.choose(Some("text/plain")), TemplateChoice::Passthrough);
    let json = t(vec![("application/json", 1)], Passthrough::WhenNoMatch);
    assert_eq!(json.choose(None), TemplateChoice::Template(&1));
    assert_eq!(
        json.choose(Some("Application/JSON")),
        TemplateChoice::Template(&1)
    );
    assert_eq!(json.choose(Some("text/plain")), TemplateChoice::Passthrough);
    let strict = t(vec![("application/json", 1)], Passthrough::WhenNoTemplates);
    assert_eq!(
        strict.choose(Some("text/plain")),
        TemplateChoice::Unsupported
    );
    assert_eq!(
        t(vec![], Passthrough::WhenNoTemplates).choose(Some("text/plain")),
        TemplateChoice::Passthrough
    );
    assert_eq!(
        t(vec![], Passthrough::Never).choose(None),
        TemplateChoice::Unsupported
    );
}

#[test]
fn resources_without_methods_are_not_routes() {
    let s = stage(vec![
        resource("/a", vec![]),
        resource(
            "/{proxy+}",
            vec![method("GET", mock("{}", vec![response("200", "")]))],
        ),
    ]);
    let compiled = compile_stage(&s).unwrap();
    let mut caps = Vec::new();
    assert!(
        compiled.routes.find("/a", &mut caps).is_some(),
        "falls back to the greedy resource"
    );
    assert_eq!(caps.len(), 1);
}

#[test]
fn stage_variables_that_break_a_uri_fail_only_that_method() {
    let http = |uri: &str| PbIntegration {
        r#type: "HTTP_PROXY".into(),
        uri: uri.into(),
        ..Default::default()
    };
    let mut config = stage(vec![
        resource(
            "/bad",
            vec![method("GET", http("http://${stageVariables.host}/x"))],
        ),
        resource("/good", vec![method("GET", http("http://localhost:1/y"))]),
    ]);
    config.variables.insert("host".into(), "a b".into());
    let compiled = compile_stage(&config).expect("the stage still compiles");
    let mut captures = Vec::new();
    let bad = compiled.routes.find("/bad", &mut captures).expect("route");
    assert!(matches!(
        bad.get(&Method::GET).map(|m| &m.integration),
        Some(Integration::Misconfigured(reason)) if reason.contains("a b")
    ));
    let good = compiled.routes.find("/good", &mut captures).expect("route");
    assert!(matches!(
        good.get(&Method::GET).map(|m| &m.integration),
        Some(Integration::HttpProxy(_))
    ));
}

#[test]
fn disable_execute_api_endpoint_is_compiled() {
    let mut config = stage(vec![resource(
        "/a",
        vec![method("GET", mock("{}", vec![]))],
    )]);
    assert!(
        !compile_stage(&config)
            .expect("compiles")
            .execute_api_disabled
    );
    if let Some(d) = config.deployment.as_mut() {
        d.disable_execute_api_endpoint = true;
    }
    assert!(
        compile_stage(&config)
            .expect("compiles")
            .execute_api_disabled
    );
}
