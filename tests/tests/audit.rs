//! The management audit log: a known set of mutating calls (signed and from a console
//! session, one failing, an API key with a value), then boto3's `cloudtrail` client
//! (`tests/boto3/cloudtrail.py`) finds each once in LookupEvents with its principal,
//! operation, resources and error, no secret anywhere, by every lookup attribute, a time
//! range and NextToken paging, and the model's errors; reads are not recorded; the table
//! refuses changes and deletes.

use apigw_e2e::process::{ACCESS_KEY_ID, ADMIN_PASSWORD, ADMIN_USER, SECRET_ACCESS_KEY};
use apigw_e2e::{fresh_database, ControlPlane};
use serde_json::json;

const KEY_VALUE: &str = "AuditedKeyValue-0123456789abcdefghij";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutating_calls_are_found_with_lookup_events_by_boto3() {
    let db = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db).await;
    let mgmt = cp.mgmt();

    // Signed calls (the bootstrap key): create an API, a resource, a method, a key.
    let api = mgmt
        .post("/restapis", json!({"name": "audited"}))
        .await
        .ok();
    let api_id = api["id"].as_str().expect("api id").to_string();
    let root = mgmt
        .get(&format!("/restapis/{api_id}/resources"))
        .await
        .ok();
    let root_id = root["item"][0]["id"].as_str().expect("root id").to_string();
    let res = mgmt
        .post(
            &format!("/restapis/{api_id}/resources/{root_id}"),
            json!({"pathPart": "pets"}),
        )
        .await
        .ok();
    let res_id = res["id"].as_str().expect("resource id").to_string();
    mgmt.put(
        &format!("/restapis/{api_id}/resources/{res_id}/methods/GET"),
        json!({"authorizationType": "NONE"}),
    )
    .await
    .ok();
    let key = mgmt
        .post(
            "/apikeys",
            json!({"name": "audited-key", "value": KEY_VALUE, "enabled": true}),
        )
        .await
        .ok();
    let key_id = key["id"].as_str().expect("key id").to_string();
    // A failing call.
    mgmt.post(
        &format!("/restapis/{api_id}/resources/nosuchparent"),
        json!({"pathPart": "x"}),
    )
    .await
    .err(404, "NotFoundException");
    // Reads are not recorded.
    mgmt.get("/restapis").await.ok();
    mgmt.get(&format!("/apikeys/{key_id}?includeValue=true"))
        .await
        .ok();

    // A console session: sign in (recorded as ConsoleLogin), create an API with the token.
    let client = reqwest::Client::new();
    let token = &cp.console_token().await;
    let console_api: serde_json::Value = client
        .post(format!("{}/restapis", cp.url()))
        .bearer_auth(token)
        .json(&json!({"name": "from-the-console"}))
        .send()
        .await
        .expect("console CreateRestApi")
        .json()
        .await
        .expect("JSON");
    let console_api_id = console_api["id"].as_str().expect("console api id");

    let expect = json!({
        "api": api_id, "resource": res_id, "key": key_id, "console_api": console_api_id,
        "key_value": KEY_VALUE, "admin": ADMIN_USER, "password": ADMIN_PASSWORD,
    });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/cloudtrail.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .env("CT_ENDPOINT", cp.url())
        .env("CT_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("CT_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("CT_EXPECT", expect.to_string())
        .status()
        .await
        .expect("running python3");
    assert!(status.success(), "cloudtrail.py failed: {status}");

    // The console reads the same API with its session.
    let r = client
        .post(format!("{}/", cp.url()))
        .bearer_auth(token)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        )
        .body(r#"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"CreateApiKey"}]}"#)
        .send()
        .await
        .expect("console LookupEvents");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(body["Events"].as_array().map(Vec::len), Some(1), "{body}");

    // Unsigned and sessionless: refused in the JSON protocol's shape.
    let r = client
        .post(format!("{}/", cp.url()))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        )
        .body("{}")
        .send()
        .await
        .expect("unsigned LookupEvents");
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.expect("JSON error");
    assert!(
        body["__type"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );

    // Append-only even for someone with the database: no update, no delete of a young event.
    let pool = sqlx::PgPool::connect(&db).await.expect("database");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(n, 7);
    assert!(sqlx::query("DELETE FROM audit_events")
        .execute(&pool)
        .await
        .is_err());
    assert!(
        sqlx::query("UPDATE audit_events SET username = 'someone-else'")
            .execute(&pool)
            .await
            .is_err()
    );
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE username <> 'someone-else'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(n, 7);

    // The console's own API: an access key created with the session is CreateAccessKey
    // (eventSource iam.amazonaws.com), its secret nowhere; a call signed with that key is
    // the console user's, with the key as AccessKeyId.
    let created: serde_json::Value = client
        .post(format!("{}/console/api/me/access-keys", cp.url()))
        .bearer_auth(token)
        .json(&json!({"description": "cli"}))
        .send()
        .await
        .expect("CreateAccessKey")
        .json()
        .await
        .expect("JSON");
    let new_key = created["accessKeyId"].as_str().expect("key id");
    let new_secret = created["secretAccessKey"].as_str().expect("secret");
    apigw_e2e::Mgmt::new(&cp.url(), new_key, new_secret)
        .post("/restapis", json!({"name": "with-the-user-key"}))
        .await
        .ok();
    let lookup = |key: &str, value: &str| {
        client
            .post(format!("{}/", cp.url()))
            .bearer_auth(token)
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            )
            .body(
                json!({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]})
                    .to_string(),
            )
            .send()
    };
    let body = lookup("EventName", "CreateAccessKey")
        .await
        .expect("lookup")
        .text()
        .await
        .expect("text");
    assert!(
        !body.contains(new_secret),
        "the secret is in an event: {body}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let events = body["Events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["EventSource"], "iam.amazonaws.com");
    assert_eq!(events[0]["Username"], ADMIN_USER);
    let body: serde_json::Value = lookup("AccessKeyId", new_key)
        .await
        .expect("lookup")
        .json()
        .await
        .expect("JSON");
    let events = body["Events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["EventName"], "CreateRestApi");
    assert_eq!(events[0]["Username"], ADMIN_USER);
    let record: serde_json::Value =
        serde_json::from_str(events[0]["CloudTrailEvent"].as_str().expect("record"))
            .expect("record JSON");
    assert_eq!(record["userIdentity"]["type"], "IAMUser");
    assert_eq!(record["userIdentity"]["accessKeyId"], new_key);
}

/// The boto3 walkthrough (`tests/boto3/walkthrough.py`, against a control plane and two
/// nodes): every mutating call it makes is one event in LookupEvents, found by its request
/// id, with its operation, principal and result; its reads are not recorded
/// (`tests/boto3/audit_walkthrough.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutating_call_of_the_boto3_walkthrough_is_recorded_once() {
    let cluster = apigw_e2e::Cluster::start(2).await;
    let nodes: Vec<String> = cluster.nodes.iter().map(|n| n.base()).collect();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/audit_walkthrough.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .env("APIGW_ENDPOINT", cluster.cp.url())
        .env("APIGW_NODES", nodes.join(","))
        .env("APIGW_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("APIGW_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .status()
        .await
        .expect("running python3");
    assert!(status.success(), "audit_walkthrough.py failed: {status}");
}
