//! Tags on every taggable resource (issue 12), against a real control plane process:
//! `tags` on CreateRestApi / CreateStage / CreateApiKey / CreateUsagePlan / CreateVpcLink
//! and in their Get and list answers, GetTags / TagResource / UntagResource by ARN on each resource
//! type, AWS's tag restrictions and the ARN errors, and tags going with their resource.

use apigw_e2e::mgmt::Answer;
use apigw_e2e::rest_api::{mock_integration, text};
use apigw_e2e::{fresh_database, ControlPlane, Mgmt, RestApi};
use serde_json::{json, Map, Value};

async fn control_plane() -> ControlPlane {
    ControlPlane::start(&fresh_database().await.expect("a test database")).await
}

/// The ARN of a resource path, in the control plane's (default) region.
fn arn(path: &str) -> String {
    format!("arn:aws:apigateway:us-east-1::{path}")
}

/// `/tags/{resource_arn}` with the ARN percent-encoded, as the SDKs send a URI label.
fn tags_path(arn: &str) -> String {
    format!("/tags/{}", arn.replace(':', "%3A").replace('/', "%2F"))
}

async fn get_tags(m: &Mgmt, arn: &str) -> Value {
    m.get(&tags_path(arn)).await.ok()["tags"].clone()
}

async fn tag(m: &Mgmt, arn: &str, tags: Value) -> Answer {
    m.put(&tags_path(arn), json!({ "tags": tags })).await
}

async fn untag(m: &Mgmt, arn: &str, keys: &[&str]) -> Answer {
    let query: Vec<String> = keys.iter().map(|k| format!("tagKeys={k}")).collect();
    m.delete(&format!("{}?{}", tags_path(arn), query.join("&")))
        .await
}

/// The five taggable resources, created with tags: the API's id and each one's management
/// path (RestApi, Stage `beta`, ApiKey, UsagePlan, VpcLink), which is also its ARN's
/// resource part.
struct Resources {
    api: String,
    paths: Vec<String>,
}

async fn create_all(m: &Mgmt) -> Resources {
    let api = RestApi::create_with(m, "tagged", json!({"tags": {"team": "api"}})).await;
    api.method(&api.root, "GET", mock_integration(200)).await;
    let deployment = api.deploy("prod", json!({})).await;
    let stage = m
        .post(
            &format!("/restapis/{}/stages", api.id),
            json!({"stageName": "beta", "deploymentId": deployment, "tags": {"team": "stage"}}),
        )
        .await
        .ok();
    assert_eq!(stage["tags"], json!({"team": "stage"}));
    let key = m
        .post("/apikeys", json!({"name": "k", "tags": {"team": "key"}}))
        .await
        .ok();
    assert_eq!(key["tags"], json!({"team": "key"}));
    let plan = m
        .post(
            "/usageplans",
            json!({"name": "gold", "tags": {"team": "plan"}}),
        )
        .await
        .ok();
    assert_eq!(plan["tags"], json!({"team": "plan"}));
    let link = m
        .post(
            "/vpclinks",
            json!({"name": "private", "targetArns": ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/1"],
                   "tags": {"team": "link"}}),
        )
        .await
        .ok();
    assert_eq!(link["tags"], json!({"team": "link"}));
    Resources {
        paths: vec![
            format!("/restapis/{}", api.id),
            format!("/restapis/{}/stages/beta", api.id),
            format!("/apikeys/{}", text(&key["id"])),
            format!("/usageplans/{}", text(&plan["id"])),
            format!("/vpclinks/{}", text(&link["id"])),
        ],
        api: api.id,
    }
}

const TEAMS: [&str; 5] = ["api", "stage", "key", "plan", "link"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_tags_shows_them_in_get_list_and_get_tags() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let r = create_all(&m).await;
    let lists = [
        "/restapis".to_string(),
        format!("/restapis/{}/stages", r.api),
        "/apikeys".to_string(),
        "/usageplans".to_string(),
        "/vpclinks".to_string(),
    ];
    for ((path, list), team) in r.paths.iter().zip(&lists).zip(TEAMS) {
        let want = json!({ "team": team });
        assert_eq!(m.get(path).await.ok()["tags"], want, "Get {path}");
        let listed = m.get(list).await.ok();
        let items = listed["item"].as_array().cloned().unwrap_or_default();
        assert!(
            items.iter().any(|i| i["tags"] == want),
            "{list} shows the tags of {path}: {listed}"
        );
        assert_eq!(get_tags(&m, &arn(path)).await, want, "GetTags {path}");
    }
    // The stage CreateDeployment made has none; GetTags answers an empty map.
    let prod = arn(&format!("/restapis/{}/stages/prod", r.api));
    assert_eq!(get_tags(&m, &prod).await, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_get_untag_on_every_resource_type() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let r = create_all(&m).await;
    for (path, team) in r.paths.iter().zip(TEAMS) {
        let a = arn(path);
        let answer = tag(&m, &a, json!({"env": "dev", "cost-center": "42"})).await;
        assert_eq!(answer.status, 204, "TagResource {path}: {}", answer.body);
        // Tagging an existing key replaces its value; the others stay.
        tag(&m, &a, json!({"env": "prod"})).await.ok();
        let want = json!({"team": team, "env": "prod", "cost-center": "42"});
        assert_eq!(get_tags(&m, &a).await, want, "GetTags {path}");
        assert_eq!(m.get(path).await.ok()["tags"], want, "Get {path}");
        // Untagging removes the named keys; a key the resource does not carry is ignored.
        let answer = untag(&m, &a, &["env", "cost-center", "absent"]).await;
        assert_eq!(answer.status, 204, "UntagResource {path}: {}", answer.body);
        assert_eq!(get_tags(&m, &a).await, json!({ "team": team }));
        untag(&m, &a, &["team"]).await.ok();
        assert_eq!(get_tags(&m, &a).await, json!({}));
        let got = m.get(path).await.ok();
        assert!(
            got.get("tags").is_none(),
            "Get {path} after untagging all: {got}"
        );
        // The rest of the resource is untouched.
        assert!(got.get("name").or(got.get("stageName")).is_some(), "{got}");
    }
    // The stage still serves its deployment (tagging did not disturb the document).
    let beta = m
        .get(&format!("/restapis/{}/stages/beta", r.api))
        .await
        .ok();
    assert!(!text(&beta["deploymentId"]).is_empty(), "{beta}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arns_that_name_no_taggable_resource_are_bad_requests() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let r = create_all(&m).await;
    let api = &r.api;
    for bad in [
        "not-an-arn".to_string(),
        "arn:aws:lambda:us-east-1:123456789012:function:f".to_string(),
        format!("arn:aws:apigateway:eu-west-1::/restapis/{api}"),
        format!("arn:aws:apigateway:us-east-1:123456789012:/restapis/{api}"),
        arn(&format!("/restapis/{api}/resources/abc")),
        arn(&format!("/restapis/{api}/deployments/abc")),
        arn("/clientcertificates/abc/extra"),
        arn("/vpclinks/abc/extra"),
    ] {
        let msg = m
            .get(&tags_path(&bad))
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains("Invalid resource ARN"), "{bad}: {msg}");
        tag(&m, &bad, json!({"a": "b"}))
            .await
            .err(400, "BadRequestException");
        untag(&m, &bad, &["a"])
            .await
            .err(400, "BadRequestException");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arns_of_unknown_resources_are_not_found() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let r = create_all(&m).await;
    for missing in [
        "/restapis/nosuchapi0".to_string(),
        format!("/restapis/{}/stages/nosuchstage", r.api),
        "/restapis/nosuchapi0/stages/prod".to_string(),
        "/apikeys/nosuchkey0".to_string(),
        "/usageplans/nosuch".to_string(),
        "/vpclinks/nosuch".to_string(),
        "/domainnames/nosuch.example.com".to_string(),
        "/clientcertificates/nosuch".to_string(),
    ] {
        let a = arn(&missing);
        m.get(&tags_path(&a)).await.err(404, "NotFoundException");
        tag(&m, &a, json!({"a": "b"}))
            .await
            .err(404, "NotFoundException");
        untag(&m, &a, &["a"]).await.err(404, "NotFoundException");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_restrictions_are_enforced() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let r = create_all(&m).await;
    let a = arn(&r.paths[0]);
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let refusals = [
        (json!({"aws:owner": "x"}), "reserved"),
        (json!({"AWS:owner": "x"}), "reserved"),
        (json!({ long_key: "x" }), "1 to 128"),
        (json!({"": "x"}), "1 to 128"),
        (json!({ "k": long_value }), "at most 256"),
        (json!({"a*b": "x"}), "may contain only"),
    ];
    for (tags, why) in &refusals {
        let msg = tag(&m, &a, tags.clone())
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains(why), "{tags}: {msg}");
        // The same rules hold when a resource is created with tags.
        let msg = m
            .post("/restapis", json!({"name": "x", "tags": tags}))
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains(why), "CreateRestApi {tags}: {msg}");
        m.post("/apikeys", json!({"name": "x", "tags": tags}))
            .await
            .err(400, "BadRequestException");
        m.post("/usageplans", json!({"name": "x", "tags": tags}))
            .await
            .err(400, "BadRequestException");
    }
    // The longest key and value are accepted.
    let edge = json!({ "k".repeat(128): "v".repeat(256) });
    tag(&m, &a, edge).await.ok();
    // At most 50 tags per resource, counting those it already has (the API has 2 now).
    let many = |n: usize, from: usize| -> Value {
        Value::Object(
            (from..from + n)
                .map(|i| (format!("k{i}"), json!("v")))
                .collect::<Map<_, _>>(),
        )
    };
    let msg = tag(&m, &a, many(49, 0))
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("at most 50"), "{msg}");
    assert_eq!(get_tags(&m, &a).await.as_object().map(Map::len), Some(2));
    tag(&m, &a, many(48, 0)).await.ok();
    // Replacing values of tags it has does not add to the count.
    tag(&m, &a, many(48, 0)).await.ok();
    assert_eq!(get_tags(&m, &a).await.as_object().map(Map::len), Some(50));
    m.post("/restapis", json!({"name": "x", "tags": many(51, 0)}))
        .await
        .err(400, "BadRequestException");
    m.post("/restapis", json!({"name": "x", "tags": many(50, 0)}))
        .await
        .ok();
    // TagResource needs `tags`, UntagResource `tagKeys`.
    m.put(&tags_path(&a), json!({}))
        .await
        .err(400, "BadRequestException");
    m.delete(&tags_path(&a))
        .await
        .err(400, "BadRequestException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_resource_deletes_its_tags() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let r = create_all(&m).await;
    let deployment = text(&m.get(&r.paths[1]).await.ok()["deploymentId"]);
    // A stage deleted and created again under the same name starts without tags.
    m.delete(&r.paths[1]).await.ok();
    let stage = arn(&r.paths[1]);
    m.get(&tags_path(&stage))
        .await
        .err(404, "NotFoundException");
    m.post(
        &format!("/restapis/{}/stages", r.api),
        json!({"stageName": "beta", "deploymentId": deployment}),
    )
    .await
    .ok();
    assert_eq!(get_tags(&m, &stage).await, json!({}));
    // Deleting the API takes its stages' tags with it.
    m.delete(&r.paths[0]).await.ok();
    for path in &r.paths[..2] {
        m.get(&tags_path(&arn(path)))
            .await
            .err(404, "NotFoundException");
    }
    for path in &r.paths[2..] {
        m.delete(path).await.ok();
        m.get(&tags_path(&arn(path)))
            .await
            .err(404, "NotFoundException");
    }
}
