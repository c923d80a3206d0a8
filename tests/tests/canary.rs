//! Canary releases end to end (issue 17): a control plane and two data-plane nodes as
//! processes. A canary made by CreateDeployment takes its share of 10,000 requests spread
//! on both nodes (within ±2 points of 10 %), each answered by exactly one of the two
//! deployments, the canary's seeing its override variable; its requests are a series of
//! their own (`Stage` `prod/Canary`); the API key's usage counts both; removing the canary
//! sends every request back; a canary added with UpdateStage and promoted by AWS's patch
//! sequence moves every request to its deployment with its overrides as stage variables.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use apigw_e2e::rest_api::{add_resource, deploy, method_path, mock_method_with, new_api, text};
use apigw_e2e::{eventually, Cluster, Mgmt};
use serde_json::{json, Value};

const KEY: &str = "canary-test-key-0123456789abcdef";
const REQUESTS: usize = 10_000;
const CONCURRENCY: usize = 32;

/// Requests sent with the API key so far (every one is admitted and metered).
static SENT: AtomicUsize = AtomicUsize::new(0);

/// What one response said: which deployment answered (`main` or `canary`, from its MOCK
/// template), the `color` stage variable it saw, and `$context.isCanaryRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    deployment: String,
    color: String,
    is_canary: String,
}

fn template(deployment: &str) -> String {
    format!(
        r#"{{"deployment": "{deployment}", "color": "$stageVariables.color", "isCanary": "$context.isCanaryRequest"}}"#
    )
}

async fn call(client: &reqwest::Client, url: &str) -> Answer {
    SENT.fetch_add(1, Ordering::Relaxed);
    let response = client
        .get(url)
        .header("x-api-key", KEY)
        .send()
        .await
        .expect("invoke");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(status, 200, "{url}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
    Answer {
        deployment: text(&v["deployment"]),
        color: text(&v["color"]),
        is_canary: text(&v["isCanary"]),
    }
}

/// Sends `n` requests, `CONCURRENCY` at a time, alternating between `urls`; every answer.
async fn burst(client: &reqwest::Client, urls: &[String], n: usize) -> Vec<Answer> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, urls, next) = (client.clone(), urls.to_vec(), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return got;
                }
                got.push(call(&client, &urls[i % urls.len()]).await);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    all
}

/// Waits until a batch of 50 requests to each node is answered only by `want`.
async fn until_all(client: &reqwest::Client, urls: &[String], want: &Answer) {
    for url in urls {
        eventually(
            &format!("{url} answers only {want:?}"),
            Duration::from_secs(20),
            || async {
                let got = burst(client, std::slice::from_ref(url), 50).await;
                Some(()).filter(|_| got.iter().all(|a| a == want))
            },
        )
        .await;
    }
}

async fn stage(m: &Mgmt, api: &str) -> Value {
    m.get(&format!("/restapis/{api}/stages/prod")).await.ok()
}

/// Total requests GetUsage reports for the plan today.
async fn usage_total(m: &Mgmt, plan: &str) -> i64 {
    let d = time::OffsetDateTime::now_utc().date();
    let day = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let usage = m
        .get(&format!(
            "/usageplans/{plan}/usage?startDate={day}&endDate={day}"
        ))
        .await
        .ok();
    usage["values"]
        .as_object()
        .map(|keys| {
            keys.values()
                .flat_map(|days| days.as_array().cloned().unwrap_or_default())
                .map(|d| d[0].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// `apigw_requests_total` of one stage label on a node's `/metrics`, all statuses.
async fn prometheus_requests(node_base: &str, stage_label: &str) -> u64 {
    let body = reqwest::get(format!("{node_base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    let label = format!("stage=\"{stage_label}\"");
    body.lines()
        .filter(|l| l.starts_with("apigw_requests_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn canary_split_usage_removal_and_promotion_on_two_nodes() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let (api, root) = new_api(&m, "canary").await;
    let who = add_resource(&m, &api, &root, "who").await;
    let keyed = json!({"authorizationType": "NONE", "apiKeyRequired": true});
    mock_method_with(&m, &api, &who, "GET", keyed, &template("main")).await;
    let d1 = deploy(&m, &api, "prod", json!({"color": "blue", "keep": "yes"})).await;

    let key = m
        .post(
            "/apikeys",
            json!({"name": "partner", "enabled": true, "value": KEY}),
        )
        .await
        .ok();
    let plan = m
        .post(
            "/usageplans",
            json!({"name": "plan", "apiStages": [{"apiId": api, "stage": "prod"}]}),
        )
        .await
        .ok();
    let plan = text(&plan["id"]);
    m.post(
        &format!("/usageplans/{plan}/keys"),
        json!({"keyId": text(&key["id"]), "keyType": "API_KEY"}),
    )
    .await
    .ok();

    // The next version answers "canary"; deployed as the stage's canary at 10 %.
    m.put(
        &format!(
            "{}/integration/responses/200",
            method_path(&api, &who, "GET")
        ),
        json!({"selectionPattern": "", "responseTemplates": {"application/json": template("canary")}}),
    )
    .await
    .ok();
    // A canary needs an existing stage.
    let refused = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"stageName": "nosuch", "canarySettings": {"percentTraffic": 10}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(refused.contains("existing stage"), "{refused}");
    let refused = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"stageName": "prod", "canarySettings": {"percentTraffic": 100.5}}),
        )
        .await
        .err(400, "BadRequestException");
    assert!(refused.contains("percentTraffic"), "{refused}");
    let d2 = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"stageName": "prod", "canarySettings": {
                "percentTraffic": 10.0, "stageVariableOverrides": {"color": "green"}}}),
        )
        .await
        .ok();
    let d2 = text(&d2["id"]);
    let s = stage(&m, &api).await;
    assert_eq!(
        text(&s["deploymentId"]),
        d1,
        "the stage keeps serving d1: {s}"
    );
    assert_eq!(
        s["canarySettings"],
        json!({"percentTraffic": 10.0, "deploymentId": d2,
               "stageVariableOverrides": {"color": "green"}, "useStageCache": false}),
        "{s}"
    );
    // A deployment a canary serves cannot be deleted.
    m.delete(&format!("/restapis/{api}/deployments/{d2}"))
        .await
        .err(400, "BadRequestException");

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let urls: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| n.invoke_url(&api, "prod", "/who"))
        .collect();
    let main = Answer {
        deployment: "main".into(),
        color: "blue".into(),
        is_canary: "false".into(),
    };
    let canary = Answer {
        deployment: "canary".into(),
        color: "green".into(),
        is_canary: "true".into(),
    };
    // Both nodes have the canary once each answers it at least once.
    for url in &urls {
        eventually(
            &format!("{url} serves the canary"),
            Duration::from_secs(20),
            || async {
                let got = burst(&client, std::slice::from_ref(url), 20).await;
                got.contains(&canary).then_some(())
            },
        )
        .await;
    }
    let before = prometheus_sum(&cluster, "prod/Canary").await;

    let started = std::time::Instant::now();
    let answers = burst(&client, &urls, REQUESTS).await;
    // For the reader of the test's output only (never asserted).
    eprintln!(
        "{REQUESTS} requests on two nodes in {:?}",
        started.elapsed()
    );
    let canaries = answers.iter().filter(|a| **a == canary).count();
    let mains = answers.iter().filter(|a| **a == main).count();
    assert_eq!(
        canaries + mains,
        REQUESTS,
        "every answer is the main deployment's or the canary's, whole: {:?}",
        answers
            .iter()
            .find(|a| **a != canary && **a != main)
            .cloned()
    );
    let share = canaries as f64 * 100.0 / REQUESTS as f64;
    assert!(
        (8.0..=12.0).contains(&share),
        "the canary served {share:.2} % of {REQUESTS} requests, not 10 ± 2"
    );
    // Canary requests are a series of their own: `Stage` `prod/Canary`.
    let after = prometheus_sum(&cluster, "prod/Canary").await;
    assert_eq!(
        after - before,
        canaries as u64,
        "the nodes counted the canary's requests under stage prod/Canary"
    );

    // The API key's usage counts the requests of both deployments.
    let total = SENT.load(Ordering::Relaxed) as i64;
    eventually(
        &format!("GetUsage reports {total} requests"),
        Duration::from_secs(30),
        || async { (usage_total(&m, &plan).await == total).then_some(()) },
    )
    .await;

    // Removing the canary sends every request back to the stage's deployment: first all
    // to the canary (so a node that still has it is told apart), then remove it.
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "replace", "path": "/canarySettings/percentTraffic", "value": "100"}]),
    )
    .await
    .ok();
    until_all(&client, &urls, &canary).await;
    let s = m
        .patch(
            &format!("/restapis/{api}/stages/prod"),
            json!([{"op": "remove", "path": "/canarySettings"}]),
        )
        .await
        .ok();
    assert!(s.get("canarySettings").is_none(), "{s}");
    let back = Answer {
        is_canary: String::new(),
        ..main.clone()
    };
    until_all(&client, &urls, &back).await;
    let answers = burst(&client, &urls, 500).await;
    assert!(answers.iter().all(|a| *a == back), "all back on d1");

    // A canary added with UpdateStage (10 %, d2, the override), then promoted by AWS's
    // patch sequence in one call.
    let s = m
        .patch(
            &format!("/restapis/{api}/stages/prod"),
            json!([
                {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "10"},
                {"op": "replace", "path": "/canarySettings/deploymentId", "value": d2},
                {"op": "replace", "path": "/canarySettings/stageVariableOverrides/color", "value": "green"},
            ]),
        )
        .await
        .ok();
    assert_eq!(text(&s["canarySettings"]["deploymentId"]), d2, "{s}");
    m.patch(
        &format!("/restapis/{api}/stages/prod"),
        json!([{"op": "replace", "path": "/canarySettings/deploymentId", "value": "nosuch"}]),
    )
    .await
    .err(404, "NotFoundException");
    let promoted = m
        .patch(
            &format!("/restapis/{api}/stages/prod"),
            json!([
                {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "0.0"},
                {"op": "copy", "from": "/canarySettings/stageVariableOverrides", "path": "/variables"},
                {"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"},
            ]),
        )
        .await
        .ok();
    assert_eq!(text(&promoted["deploymentId"]), d2, "{promoted}");
    assert_eq!(
        promoted["variables"],
        json!({"color": "green", "keep": "yes"}),
        "overrides merged into the stage's variables: {promoted}"
    );
    assert_eq!(promoted["canarySettings"]["percentTraffic"], json!(0.0));
    assert_eq!(stage(&m, &api).await, promoted, "GetStage shows the same");
    // Every request now goes to d2, as the stage's own deployment (not as a canary).
    let new_main = Answer {
        deployment: "canary".into(),
        color: "green".into(),
        is_canary: "false".into(),
    };
    until_all(&client, &urls, &new_main).await;
    let answers = burst(&client, &urls, 500).await;
    assert!(
        answers.iter().all(|a| *a == new_main),
        "all on d2 after promotion"
    );
    // d1 is no longer served by anything: it can be deleted.
    let s = m
        .patch(
            &format!("/restapis/{api}/stages/prod"),
            json!([{"op": "remove", "path": "/canarySettings"}]),
        )
        .await
        .ok();
    assert!(s.get("canarySettings").is_none(), "{s}");
    m.delete(&format!("/restapis/{api}/deployments/{d1}"))
        .await
        .ok();
}

async fn prometheus_sum(cluster: &Cluster, stage_label: &str) -> u64 {
    let mut total = 0;
    for n in &cluster.nodes {
        total += prometheus_requests(&n.base(), stage_label).await;
    }
    total
}

/// Every canary and method-setting patch path through boto3 (`tests/boto3/canary.py`),
/// read back with GetStage, and AWS's exception classes for what is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_round_trips_every_canary_and_method_setting_path() {
    let db = apigw_e2e::fresh_database().await.expect("a test database");
    let cp = apigw_e2e::ControlPlane::start(&db).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/canary.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .env("APIGW_ENDPOINT", cp.url())
        .env("APIGW_ACCESS_KEY_ID", apigw_e2e::process::ACCESS_KEY_ID)
        .env(
            "APIGW_SECRET_ACCESS_KEY",
            apigw_e2e::process::SECRET_ACCESS_KEY,
        )
        .status()
        .await
        .expect("running python3");
    assert!(status.success(), "canary.py failed: {status}");
}
