//! API documentation (issue 12), against a real control plane process: documentation parts
//! (create, get, list with filters and paging, update, delete, AWS's location rules and
//! errors), ImportDocumentationParts (merge, overwrite, warnings), and documentation
//! versions (snapshots that later part changes do not touch, published on a stage and
//! exported by GetExport with `extensions=documentation`).

use apigw_e2e::mgmt::Answer;
use apigw_e2e::rest_api::{mock_integration, text};
use apigw_e2e::{fresh_database, ControlPlane, Mgmt, RestApi};
use serde_json::{json, Value};

async fn control_plane() -> ControlPlane {
    ControlPlane::start(&fresh_database().await.expect("a test database")).await
}

fn parts_path(api: &str) -> String {
    format!("/restapis/{api}/documentation/parts")
}

fn versions_path(api: &str) -> String {
    format!("/restapis/{api}/documentation/versions")
}

async fn create_part(m: &Mgmt, api: &str, location: Value, properties: &str) -> Answer {
    m.post(
        &parts_path(api),
        json!({"location": location, "properties": properties}),
    )
    .await
}

/// The parts of a list answer, as (location, properties) pairs.
fn listed(answer: &Value) -> Vec<(Value, String)> {
    answer["item"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p["location"].clone(), text(&p["properties"])))
        .collect()
}

/// An API with `GET /pets` (MOCK), deployed to `prod`.
async fn pets_api<'a>(m: &'a Mgmt) -> RestApi<'a> {
    let api = RestApi::create(m, "documented").await;
    let pets = api.resource(&api.root, "pets").await;
    api.method(&pets, "GET", mock_integration(200)).await;
    api.deploy("prod", json!({})).await;
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documentation_parts_are_created_listed_updated_and_deleted() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let api = pets_api(&m).await;
    let id = api.id.as_str();

    let created = create_part(
        &m,
        id,
        json!({"type": "API"}),
        r#"{"info": {"description": "The pet store"}}"#,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let part = created.body;
    assert_eq!(text(&part["id"]).len(), 6, "{part}");
    assert_eq!(part["location"], json!({"type": "API"}));
    assert_eq!(
        part["properties"],
        r#"{"info": {"description": "The pet store"}}"#
    );
    let msg = create_part(&m, id, json!({"type": "API"}), "{}")
        .await
        .err(409, "ConflictException");
    assert_eq!(
        msg,
        "Documentation part already exists for the specified location: type 'API'."
    );

    // The members a type has take their defaults, so `method` absent is `*`, and a
    // method's case does not make a second location.
    let get_pets = create_part(
        &m,
        id,
        json!({"type": "METHOD", "path": "/pets", "method": "GET"}),
        r#"{"summary": "List pets"}"#,
    )
    .await
    .ok();
    assert_eq!(
        get_pets["location"],
        json!({"type": "METHOD", "path": "/pets", "method": "GET"})
    );
    let any_pets = create_part(
        &m,
        id,
        json!({"type": "METHOD", "path": "/pets"}),
        r#"{"tags": ["pets"]}"#,
    )
    .await
    .ok();
    assert_eq!(any_pets["location"]["method"], "*");
    let msg = create_part(
        &m,
        id,
        json!({"type": "METHOD", "path": "/pets", "method": "get"}),
        "{}",
    )
    .await
    .err(409, "ConflictException");
    assert!(msg.contains("path '/pets', method 'GET'"), "{msg}");
    let response = create_part(
        &m,
        id,
        json!({"type": "RESPONSE", "path": "/pets", "method": "GET", "statusCode": "200"}),
        r#"{"description": "the pets"}"#,
    )
    .await
    .ok();
    assert_eq!(response["location"]["statusCode"], "200");
    create_part(&m, id, json!({"type": "MODEL", "name": "Pet"}), "{}")
        .await
        .ok();
    create_part(
        &m,
        id,
        json!({"type": "QUERY_PARAMETER", "path": "/pets", "method": "GET", "name": "limit"}),
        r#"{"description": "page size"}"#,
    )
    .await
    .ok();

    // The model's constraints: ValidationException.
    let msg = create_part(&m, id, json!({"type": "ENDPOINT"}), "{}")
        .await
        .err(400, "ValidationException");
    assert!(msg.contains("'ENDPOINT' at 'location.type'"), "{msg}");
    let msg = create_part(
        &m,
        id,
        json!({"type": "RESPONSE", "path": "/pets", "statusCode": "600"}),
        "{}",
    )
    .await
    .err(400, "ValidationException");
    assert!(
        msg.contains("'600' at 'location.statusCode'") && msg.contains("regular expression"),
        "{msg}"
    );
    // API Gateway's rules: BadRequestException, saying what is wrong.
    for (location, properties, why) in [
        (
            json!({"type": "API", "path": "/"}),
            "{}",
            "'path' is not a valid field for type 'API'",
        ),
        (
            json!({"type": "RESOURCE", "path": "/pets", "method": "GET"}),
            "{}",
            "'method' is not a valid field",
        ),
        (
            json!({"type": "METHOD", "path": "/pets", "statusCode": "200"}),
            "{}",
            "'statusCode' is not a valid field",
        ),
        (
            json!({"type": "RESPONSE", "path": "/pets", "name": "x"}),
            "{}",
            "'name' is not a valid field",
        ),
        (json!({"type": "MODEL"}), "{}", "name is required"),
        (
            json!({"type": "REQUEST_HEADER", "path": "/pets"}),
            "{}",
            "name is required",
        ),
        (
            json!({"type": "RESOURCE", "path": "pets"}),
            "{}",
            "must start with '/'",
        ),
        (
            json!({"type": "METHOD", "method": "FETCH"}),
            "{}",
            "Invalid HttpMethod",
        ),
        (json!({}), "{}", "type is required"),
        (
            json!({"type": "RESOURCE", "path": "/x"}),
            "not json",
            "not valid JSON",
        ),
        (
            json!({"type": "RESOURCE", "path": "/x"}),
            "[1, 2]",
            "must be a JSON object",
        ),
    ] {
        let msg = create_part(&m, id, location.clone(), properties)
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains(why), "{location} {properties}: {msg}");
    }
    let msg = m
        .post(
            &parts_path(id),
            json!({"location": {"type": "RESOURCE", "path": "/x"}, "properties": {"a": 1}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("string holding a JSON object"), "{msg}");
    m.post(&parts_path(id), json!({"properties": "{}"}))
        .await
        .err(400, "BadRequestException");
    m.post(&parts_path(id), json!({"location": {"type": "API"}}))
        .await
        .err(400, "BadRequestException");

    // Get, and the filters of the list.
    let pid = text(&get_pets["id"]);
    assert_eq!(
        m.get(&format!("{}/{pid}", parts_path(id))).await.ok(),
        get_pets
    );
    m.get(&format!("{}/nosuch", parts_path(id)))
        .await
        .err(404, "NotFoundException");
    let all = m.get(&parts_path(id)).await.ok();
    assert_eq!(listed(&all).len(), 6, "{all}");
    let methods = m.get(&format!("{}?type=METHOD", parts_path(id))).await.ok();
    assert_eq!(listed(&methods).len(), 2, "{methods}");
    let on_pets = m
        .get(&format!("{}?path=%2Fpets", parts_path(id)))
        .await
        .ok();
    assert_eq!(listed(&on_pets).len(), 4, "{on_pets}");
    let limit = m.get(&format!("{}?name=limit", parts_path(id))).await.ok();
    assert_eq!(
        listed(&limit),
        vec![(
            json!({"type": "QUERY_PARAMETER", "path": "/pets", "method": "GET", "name": "limit"}),
            r#"{"description": "page size"}"#.to_string()
        )]
    );
    let undocumented = m
        .get(&format!("{}?locationStatus=UNDOCUMENTED", parts_path(id)))
        .await
        .ok();
    assert_eq!(
        listed(&undocumented),
        vec![(json!({"type": "MODEL", "name": "Pet"}), "{}".to_string())]
    );
    let documented = m
        .get(&format!("{}?locationStatus=DOCUMENTED", parts_path(id)))
        .await
        .ok();
    assert_eq!(listed(&documented).len(), 5);
    let msg = m
        .get(&format!("{}?type=ENDPOINT", parts_path(id)))
        .await
        .err(400, "ValidationException");
    assert!(msg.contains("at 'type'"), "{msg}");
    m.get(&format!("{}?locationStatus=SOME", parts_path(id)))
        .await
        .err(400, "ValidationException");
    // Paging: every part once.
    let mut seen = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let q = match &position {
            Some(p) => format!("?limit=4&position={p}"),
            None => "?limit=4".to_string(),
        };
        let page = m.get(&format!("{}{q}", parts_path(id))).await.ok();
        seen.extend(listed(&page));
        match page["position"].as_str() {
            Some(p) => position = Some(p.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, listed(&all));

    // Update: `/properties` only.
    let part_url = format!("{}/{pid}", parts_path(id));
    let updated = m
        .patch(
            &part_url,
            json!([{"op": "replace", "path": "/properties", "value": "{\"summary\": \"All pets\"}"}]),
        )
        .await
        .ok();
    assert_eq!(updated["properties"], r#"{"summary": "All pets"}"#);
    assert_eq!(updated["location"], get_pets["location"]);
    assert_eq!(m.get(&part_url).await.ok(), updated);
    m.patch(
        &part_url,
        json!([{"op": "replace", "path": "/properties", "value": "oops"}]),
    )
    .await
    .err(400, "BadRequestException");
    m.patch(
        &part_url,
        json!([{"op": "replace", "path": "/location/path", "value": "/x"}]),
    )
    .await
    .err(400, "BadRequestException");

    // Delete.
    assert_eq!(m.delete(&part_url).await.status, 202);
    m.get(&part_url).await.err(404, "NotFoundException");
    m.delete(&part_url).await.err(404, "NotFoundException");
    m.get(&parts_path("nosuchapi0"))
        .await
        .err(404, "NotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documentation_parts_import_merges_or_overwrites() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let api = pets_api(&m).await;
    let id = api.id.as_str();
    let first = create_part(&m, id, json!({"type": "API"}), r#"{"description": "old"}"#)
        .await
        .ok();
    create_part(&m, id, json!({"type": "RESOURCE", "path": "/kept"}), "{}")
        .await
        .ok();

    let openapi = json!({
        "openapi": "3.0.1",
        "info": {"title": "pets", "version": "1"},
        "paths": {},
        "x-amazon-apigateway-documentation": {
            "version": "1.0",
            "documentationParts": [
                {"location": {"type": "API"}, "properties": {"description": "new"}},
                {"location": {"type": "METHOD", "path": "/pets", "method": "GET"},
                 "properties": {"summary": "List pets"}},
                {"location": {"type": "API", "path": "/"}, "properties": {}},
                {"location": {"type": "METHOD", "path": "/pets", "method": "GET"},
                 "properties": {"summary": "twice"}}
            ]
        }
    });
    let body = openapi.to_string();
    let import = |query: &'static str, body: String| {
        let m = m.clone();
        let path = format!("{}{query}", parts_path(id));
        async move {
            m.call_raw("PUT", &path, body.as_bytes(), "application/json")
                .await
        }
    };

    // failonwarnings: the bad part and the repeated location fail the whole import.
    let msg = import("?failonwarnings=true", body.clone())
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("#3") && msg.contains("#4"), "{msg}");
    assert_eq!(listed(&m.get(&parts_path(id)).await.ok()).len(), 2);

    // merge (the default): the API part keeps its id and takes the new properties.
    let merged = import("", body.clone()).await.ok();
    let ids: Vec<String> = merged["ids"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(text)
        .collect();
    assert_eq!(ids.len(), 2, "{merged}");
    assert_eq!(ids[0], text(&first["id"]));
    let warnings = merged["warnings"].as_array().cloned().unwrap_or_default();
    assert_eq!(warnings.len(), 2, "{merged}");
    assert!(
        text(&warnings[0]).contains("'path' is not a valid field"),
        "{warnings:?}"
    );
    let api_part = m.get(&format!("{}/{}", parts_path(id), ids[0])).await.ok();
    assert_eq!(
        serde_json::from_str::<Value>(&text(&api_part["properties"])).ok(),
        Some(json!({"description": "new"}))
    );
    let all = listed(&m.get(&parts_path(id)).await.ok());
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.contains(&(
        json!({"type": "METHOD", "path": "/pets", "method": "GET"}),
        r#"{"summary":"List pets"}"#.to_string()
    )));

    // overwrite, from YAML holding the extension object itself.
    let yaml = "documentationParts:\n  - location:\n      type: MODEL\n      name: Pet\n    properties:\n      description: a pet\n";
    let overwritten = import("?mode=overwrite", yaml.to_string()).await.ok();
    assert_eq!(overwritten["ids"].as_array().map(Vec::len), Some(1));
    assert!(overwritten.get("warnings").is_none(), "{overwritten}");
    assert_eq!(
        listed(&m.get(&parts_path(id)).await.ok()),
        vec![(
            json!({"type": "MODEL", "name": "Pet"}),
            r#"{"description":"a pet"}"#.to_string()
        )]
    );

    let msg = import("?mode=replace", body.clone())
        .await
        .err(400, "ValidationException");
    assert!(msg.contains("'replace' at 'mode'"), "{msg}");
    let msg = import("", json!({"openapi": "3.0.1"}).to_string())
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("x-amazon-apigateway-documentation"), "{msg}");
    import("", "{not json".to_string())
        .await
        .err(400, "BadRequestException");
    import("?failonwarnings=maybe", body)
        .await
        .err(400, "BadRequestException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documentation_versions_snapshot_the_parts_and_stages_publish_them() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let api = pets_api(&m).await;
    let id = api.id.as_str();
    let part = create_part(&m, id, json!({"type": "API"}), r#"{"description": "v1"}"#)
        .await
        .ok();

    let created = m
        .post(
            &versions_path(id),
            json!({"documentationVersion": "1.0", "stageName": "prod", "description": "first"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let v1 = created.body;
    assert_eq!(v1["version"], "1.0");
    assert_eq!(v1["description"], "first");
    assert!(v1["createdDate"].as_i64().is_some_and(|d| d > 0), "{v1}");
    let stage_url = format!("/restapis/{id}/stages/prod");
    assert_eq!(m.get(&stage_url).await.ok()["documentationVersion"], "1.0");
    let msg = m
        .post(&versions_path(id), json!({"documentationVersion": "1.0"}))
        .await
        .err(409, "ConflictException");
    assert!(msg.contains("1.0"), "{msg}");
    m.post(&versions_path(id), json!({"description": "no version"}))
        .await
        .err(400, "BadRequestException");
    m.post(
        &versions_path(id),
        json!({"documentationVersion": "1.1", "stageName": "nosuchstage"}),
    )
    .await
    .err(404, "NotFoundException");
    m.get(&format!("{}/1.1", versions_path(id)))
        .await
        .err(404, "NotFoundException");

    // Later changes to the parts do not change the version.
    m.patch(
        &format!("{}/{}", parts_path(id), text(&part["id"])),
        json!([{"op": "replace", "path": "/properties", "value": "{\"description\": \"v2\"}"}]),
    )
    .await
    .ok();
    create_part(
        &m,
        id,
        json!({"type": "METHOD", "path": "/pets", "method": "GET"}),
        r#"{"summary": "List pets"}"#,
    )
    .await
    .ok();
    let export = |m: Mgmt| async move {
        let raw = m
            .get_raw(
                &format!("/restapis/{id}/stages/prod/exports/oas30?extensions=documentation"),
                None,
            )
            .await;
        assert_eq!(raw.status, 200, "{}", raw.text);
        let doc: Value = serde_json::from_str(&raw.text).expect("the export is JSON");
        doc["x-amazon-apigateway-documentation"].clone()
    };
    assert_eq!(
        export(m.clone()).await,
        json!({"version": "1.0", "documentationParts": [
            {"location": {"type": "API"}, "properties": {"description": "v1"}}
        ]})
    );
    // Without `extensions=documentation` there is none.
    let plain = m
        .get_raw(&format!("/restapis/{id}/stages/prod/exports/oas30"), None)
        .await;
    assert!(!plain.text.contains("x-amazon-apigateway-documentation"));

    // A second version has the current parts; the stage publishes it once told to.
    m.post(&versions_path(id), json!({"documentationVersion": "2.0"}))
        .await
        .ok();
    assert_eq!(
        export(m.clone()).await["version"],
        "1.0",
        "the stage still publishes 1.0"
    );
    m.patch(
        &stage_url,
        json!([{"op": "replace", "path": "/documentationVersion", "value": "2.0"}]),
    )
    .await
    .ok();
    let published = export(m.clone()).await;
    assert_eq!(published["version"], "2.0");
    assert_eq!(
        published["documentationParts"],
        json!([
            {"location": {"type": "API"}, "properties": {"description": "v2"}},
            {"location": {"type": "METHOD", "path": "/pets", "method": "GET"},
             "properties": {"summary": "List pets"}}
        ])
    );
    // What GetExport publishes imports back into another API as it was.
    let copy = RestApi::create(&m, "copy").await;
    let doc = json!({"x-amazon-apigateway-documentation": published}).to_string();
    m.call_raw(
        "PUT",
        &parts_path(&copy.id),
        doc.as_bytes(),
        "application/json",
    )
    .await
    .ok();
    let sorted = |mut parts: Vec<Value>| {
        parts.sort_by_key(Value::to_string);
        parts
    };
    let copied: Vec<Value> = listed(&m.get(&parts_path(&copy.id)).await.ok())
        .into_iter()
        .map(|(l, p)| json!({"location": l, "properties": serde_json::from_str::<Value>(&p).ok()}))
        .collect();
    assert_eq!(
        sorted(copied),
        sorted(
            published["documentationParts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        )
    );

    // A stage can only publish a version that exists.
    let msg = m
        .patch(
            &stage_url,
            json!([{"op": "replace", "path": "/documentationVersion", "value": "9.9"}]),
        )
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("9.9"), "{msg}");

    // List, get, update.
    let versions = m.get(&versions_path(id)).await.ok();
    let names: Vec<String> = versions["item"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|v| text(&v["version"]))
        .collect();
    assert_eq!(names, ["1.0", "2.0"]);
    let page = m.get(&format!("{}?limit=1", versions_path(id))).await.ok();
    assert_eq!(page["item"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["position"], "1");
    let v2_url = format!("{}/2.0", versions_path(id));
    let v2 = m
        .patch(
            &v2_url,
            json!([{"op": "replace", "path": "/description", "value": "second"}]),
        )
        .await
        .ok();
    assert_eq!(v2["description"], "second");
    assert_eq!(m.get(&v2_url).await.ok(), v2);
    let v2 = m
        .patch(&v2_url, json!([{"op": "remove", "path": "/description"}]))
        .await
        .ok();
    assert!(v2.get("description").is_none(), "{v2}");
    m.patch(
        &v2_url,
        json!([{"op": "replace", "path": "/version", "value": "3.0"}]),
    )
    .await
    .err(400, "BadRequestException");

    // A version a stage publishes cannot be deleted.
    let msg = m.delete(&v2_url).await.err(409, "ConflictException");
    assert!(msg.contains("prod"), "{msg}");
    m.patch(
        &stage_url,
        json!([{"op": "remove", "path": "/documentationVersion"}]),
    )
    .await
    .ok();
    assert_eq!(m.delete(&v2_url).await.status, 202);
    m.get(&v2_url).await.err(404, "NotFoundException");
    m.delete(&v2_url).await.err(404, "NotFoundException");
}
