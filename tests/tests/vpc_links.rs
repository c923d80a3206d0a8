//! VPC links (issue 12), against real processes: CreateVpcLink / GetVpcLink(s) /
//! UpdateVpcLink / DeleteVpcLink with their validation and tags, integrations with
//! `connectionType: VPC_LINK` naming an existing link, deleting a link in use refused as AWS
//! refuses it, and a deployed VPC_LINK integration served by a node.

use std::time::Duration;

use apigw_e2e::rest_api::{method_path, text};
use apigw_e2e::{eventually, fresh_database, Backend, Cluster, ControlPlane, Mgmt, RestApi};
use serde_json::{json, Value};

const NLB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/private/0123456789abcdef";

async fn control_plane() -> ControlPlane {
    ControlPlane::start(&fresh_database().await.expect("a test database")).await
}

async fn create_link(m: &Mgmt, name: &str) -> Value {
    let answer = m
        .post("/vpclinks", json!({"name": name, "targetArns": [NLB]}))
        .await;
    assert_eq!(answer.status, 202, "CreateVpcLink: {}", answer.body);
    answer.body
}

fn tags_path(id: &str) -> String {
    let arn = format!("arn:aws:apigateway:us-east-1::/vpclinks/{id}");
    format!("/tags/{}", arn.replace(':', "%3A").replace('/', "%2F"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpc_links_are_created_listed_updated_tagged_and_deleted() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let answer = m
        .post(
            "/vpclinks",
            json!({"name": "private", "description": "the private network",
                   "targetArns": [NLB], "tags": {"team": "net"}}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let link = answer.body;
    let id = text(&link["id"]);
    assert_eq!(id.len(), 6, "{link}");
    assert_eq!(link["name"], "private");
    assert_eq!(link["description"], "the private network");
    assert_eq!(link["targetArns"], json!([NLB]));
    assert_eq!(link["status"], "AVAILABLE");
    assert!(link["statusMessage"].is_string(), "{link}");
    assert_eq!(link["tags"], json!({"team": "net"}));
    let url = format!("/vpclinks/{id}");
    assert_eq!(m.get(&url).await.ok(), link);

    // Validation.
    for (body, why) in [
        (json!({"targetArns": [NLB]}), "name is required"),
        (json!({"name": " ", "targetArns": [NLB]}), "blank"),
        (json!({"name": "x"}), "targetArns is required"),
        (
            json!({"name": "x", "targetArns": []}),
            "targetArns is required",
        ),
        (
            json!({"name": "x", "targetArns": [NLB, NLB]}),
            "More than one target arn specified for vpc link.",
        ),
        (
            json!({"name": "x", "targetArns": [NLB], "tags": {"aws:x": "y"}}),
            "reserved",
        ),
    ] {
        let msg = m
            .post("/vpclinks", body.clone())
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains(why), "{body}: {msg}");
    }

    // List, with paging.
    let second = create_link(&m, "second").await;
    let all = m.get("/vpclinks").await.ok();
    assert_eq!(all["item"], json!([link, second]));
    let page = m.get("/vpclinks?limit=1").await.ok();
    assert_eq!(page["item"], json!([link]));
    let page = m.get("/vpclinks?limit=1&position=1").await.ok();
    assert_eq!(page["item"], json!([second]));
    assert!(page.get("position").is_none(), "{page}");

    // Update: name and description; the targets cannot change.
    let updated = m
        .patch(
            &url,
            json!([{"op": "replace", "path": "/name", "value": "renamed"},
                   {"op": "replace", "path": "/description", "value": "changed"}]),
        )
        .await
        .ok();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["description"], "changed");
    assert_eq!(m.get(&url).await.ok(), updated);
    let msg = m
        .patch(
            &url,
            json!([{"op": "replace", "path": "/targetArns", "value": NLB}]),
        )
        .await
        .err(400, "BadRequestException");
    assert_eq!(msg, "Target arns are not allowed to be changed/added.");
    m.patch(
        &url,
        json!([{"op": "replace", "path": "/status", "value": "FAILED"}]),
    )
    .await
    .err(400, "BadRequestException");
    m.patch(
        &url,
        json!([{"op": "replace", "path": "/name", "value": ""}]),
    )
    .await
    .err(400, "BadRequestException");

    // Tags by ARN.
    let tags = tags_path(&id);
    assert_eq!(m.get(&tags).await.ok()["tags"], json!({"team": "net"}));
    assert_eq!(
        m.put(&tags, json!({"tags": {"env": "prod"}})).await.status,
        204
    );
    assert_eq!(
        m.get(&url).await.ok()["tags"],
        json!({"team": "net", "env": "prod"})
    );
    assert_eq!(m.delete(&format!("{tags}?tagKeys=team")).await.status, 204);
    assert_eq!(m.get(&tags).await.ok()["tags"], json!({"env": "prod"}));
    m.get(&tags_path("nosuch"))
        .await
        .err(404, "NotFoundException");

    // Delete.
    assert_eq!(m.delete(&url).await.status, 202);
    m.get(&url).await.err(404, "NotFoundException");
    m.delete(&url).await.err(404, "NotFoundException");
    m.patch(
        &url,
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await
    .err(404, "NotFoundException");
    m.get(&tags).await.err(404, "NotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpc_link_integrations_name_existing_links_which_cannot_be_deleted_while_used() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let link = text(&create_link(&m, "private").await["id"]);
    let api = RestApi::create(&m, "private").await;
    let pets = api.resource(&api.root, "pets").await;
    let method = method_path(&api.id, &pets, "GET");
    m.put(&method, json!({"authorizationType": "NONE"}))
        .await
        .ok();
    let integration = format!("{method}/integration");
    let private = |connection_id: &str| {
        json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://10.0.0.7:8080/pets",
               "connectionType": "VPC_LINK", "connectionId": connection_id})
    };

    for (body, why) in [
        (
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://10.0.0.7/",
                   "connectionType": "VPC_LINK"}),
            "connectionId is required",
        ),
        (private("nosuch"), "no VPC link with this id"),
        (
            json!({"type": "MOCK", "connectionType": "VPC_LINK", "connectionId": link}),
            "HTTP or HTTP_PROXY",
        ),
        (
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://10.0.0.7/",
                   "connectionId": link}),
            "only valid when connectionType is VPC_LINK",
        ),
    ] {
        let msg = m
            .put(&integration, body.clone())
            .await
            .err(400, "BadRequestException");
        assert!(msg.contains(why), "{body}: {msg}");
    }
    // A stage variable may name the link; it is resolved per stage, not when saved.
    let by_variable = m
        .put(&integration, private("${stageVariables.vpcLinkId}"))
        .await
        .ok();
    assert_eq!(by_variable["connectionId"], "${stageVariables.vpcLinkId}");
    let put = m.put(&integration, private(&link)).await.ok();
    assert_eq!(put["connectionType"], "VPC_LINK");
    assert_eq!(put["connectionId"], link);
    assert_eq!(m.get(&integration).await.ok(), put);
    m.patch(
        &integration,
        json!([{"op": "replace", "path": "/connectionId", "value": "nosuch"}]),
    )
    .await
    .err(400, "BadRequestException");

    // In use by the API's definition: refused, naming the method.
    let link_url = format!("/vpclinks/{link}");
    let msg = m.delete(&link_url).await.err(400, "BadRequestException");
    assert_eq!(
        msg,
        format!(
            "Cannot delete vpc link. Vpc link '{link}', is referenced in [{}:GET:{pets}] in \
             format of [RESTApiId:Method:Resource].",
            api.id
        )
    );
    // Deployed, then the definition goes back to the internet: the stage still uses it.
    api.deploy("prod", json!({})).await;
    m.patch(
        &integration,
        json!([{"op": "replace", "path": "/connectionType", "value": "INTERNET"},
               {"op": "remove", "path": "/connectionId"}]),
    )
    .await
    .ok();
    let msg = m.delete(&link_url).await.err(400, "BadRequestException");
    assert_eq!(
        msg,
        format!(
            "Cannot delete vpc link. Vpc link '{link}', is referenced in [{}:GET:{pets}:prod] \
             in format of [RESTApiId:Method:Resource:Stage].",
            api.id
        )
    );
    // Once no stage serves it either, it goes.
    api.deploy("prod", json!({})).await;
    assert_eq!(m.delete(&link_url).await.status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployed_vpc_link_integration_is_served_by_a_node() {
    let cluster = Cluster::start(1).await;
    let backend = Backend::start("private-backend").await;
    let m = cluster.cp.mgmt();
    let link = text(&create_link(&m, "private").await["id"]);
    let api = RestApi::create(&m, "private").await;
    let pets = api.resource(&api.root, "pets").await;
    api.method(
        &pets,
        "GET",
        json!({"type": "HTTP_PROXY", "httpMethod": "GET",
               "uri": format!("{}/inside/pets", backend.url()),
               "connectionType": "VPC_LINK", "connectionId": link}),
    )
    .await;
    // The link named through a stage variable, as AWS allows.
    let orders = api.resource(&api.root, "orders").await;
    api.method(
        &orders,
        "POST",
        json!({"type": "HTTP_PROXY", "httpMethod": "POST",
               "uri": format!("{}/inside/orders", backend.url()),
               "connectionType": "VPC_LINK", "connectionId": "${stageVariables.link}"}),
    )
    .await;
    api.deploy("prod", json!({ "link": link })).await;

    let node = &cluster.nodes[0];
    let url = node.invoke_url(&api.id, "prod", "/pets?kind=cat");
    let echoed: Value = eventually(
        "the VPC_LINK integration served by the node",
        Duration::from_secs(10),
        || async {
            let r = reqwest::get(&url).await.ok()?;
            if r.status() != 200 {
                return None;
            }
            r.json().await.ok()
        },
    )
    .await;
    assert_eq!(echoed["backend"], "private-backend");
    assert_eq!(echoed["path"], "/inside/pets");
    assert_eq!(echoed["query"], "kind=cat");

    let r = reqwest::Client::new()
        .post(node.invoke_url(&api.id, "prod", "/orders"))
        .body("{\"n\": 1}")
        .send()
        .await
        .expect("POST /orders");
    assert_eq!(r.status(), 200);
    let echoed: Value = r.json().await.expect("JSON");
    assert_eq!(echoed["path"], "/inside/orders");
    assert_eq!(echoed["body"], "{\"n\": 1}");
}
