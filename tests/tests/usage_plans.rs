//! API keys, usage plans, cluster-wide throttling and quotas, and exact usage metering, end
//! to end: a control plane and THREE data-plane nodes as real processes against the
//! machine's Postgres and Redis (or a private Redis the test stops and restarts).

use std::time::{Duration, Instant};

use apigw_e2e::process::redis_prefix;
use apigw_e2e::rest_api::text;
use apigw_e2e::throttle_load::{
    assert_bucket_bounds, fallback_admissions, invoke, load, load_timed, today, urls, usage_total,
};
use apigw_e2e::{
    eventually, free_port, redis_url, Backend, Cluster, ControlPlane, DataPlane, Mgmt,
};
use serde_json::{json, Value};

/// `GET /pets` (HTTP_PROXY, key required), `GET /fail` (HTTP_PROXY to a 500, key
/// required), `GET /open` (MOCK, no key, answering the stage variable `marker` back, see
/// [`update_stage`]); deployed to `prod` and `dev`.
async fn build_api(m: &Mgmt, backend: &Backend) -> String {
    let api = m.post("/restapis", json!({"name": "partners"})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);
    let base = format!("/restapis/{id}/resources");
    for (part, key, integration) in [
        (
            "pets",
            true,
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/pets", backend.url())}),
        ),
        (
            "fail",
            true,
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/status/500", backend.url())}),
        ),
        (
            "open",
            false,
            json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
        ),
    ] {
        let rid = text(
            &m.post(&format!("{base}/{root}"), json!({"pathPart": part}))
                .await
                .ok()["id"],
        );
        let method = format!("{base}/{rid}/methods/GET");
        m.put(
            &method,
            json!({"authorizationType": "NONE", "apiKeyRequired": key}),
        )
        .await
        .ok();
        m.put(&format!("{method}/integration"), integration)
            .await
            .ok();
        if part == "open" {
            m.put(&format!("{method}/responses/200"), json!({}))
                .await
                .ok();
            m.put(
                &format!("{method}/integration/responses/200"),
                json!({"responseTemplates": {"application/json":
                    "{\"open\": true, \"marker\": \"$stageVariables.marker\"}"}}),
            )
            .await
            .ok();
        }
    }
    for stage in ["prod", "dev"] {
        m.post(
            &format!("/restapis/{id}/deployments"),
            json!({"stageName": stage}),
        )
        .await
        .ok();
    }
    id
}

/// Creates an enabled key; returns (id, value).
async fn create_key(m: &Mgmt, name: &str) -> (String, String) {
    let k = m
        .post(
            "/apikeys",
            json!({"name": name, "enabled": true, "customerId": format!("cust-{name}")}),
        )
        .await
        .ok();
    (text(&k["id"]), text(&k["value"]))
}

async fn create_plan(m: &Mgmt, body: Value) -> String {
    text(&m.post("/usageplans", body).await.ok()["id"])
}

async fn add_key(m: &Mgmt, plan: &str, key: &str) {
    m.post(
        &format!("/usageplans/{plan}/keys"),
        json!({"keyId": key, "keyType": "API_KEY"}),
    )
    .await
    .ok();
}

/// Waits until `path` answers `want` on every node with `key`; returns how long it took
/// (for the log only: `eventually`'s bound is the only limit).
async fn wait_status(
    nodes: &[&DataPlane],
    api: &str,
    path: &str,
    key: Option<&str>,
    want: u16,
) -> Duration {
    let started = Instant::now();
    let client = reqwest::Client::new();
    for n in nodes {
        let url = n.invoke_url(api, "prod", path);
        eventually(
            &format!("{} answering {want} on {path}", n.node_id),
            Duration::from_secs(10),
            || {
                let (client, url) = (client.clone(), url.clone());
                async move { (invoke(&client, &url, key).await.0 == want).then_some(()) }
            },
        )
        .await;
    }
    started.elapsed()
}

/// Applies `ops` to the `prod` stage in one PATCH together with a new value of the stage
/// variable `marker`, then waits until every node's `/open` answers that value. A node
/// compiles and swaps in a stage update whole, so from then on it enforces the stage's new
/// method settings too: no sleeping in the hope that the update has arrived. Each node's
/// last probe costs one token of `/open`'s stage bucket (probes refused with a 429 cost
/// none).
async fn update_stage(m: &Mgmt, nodes: &[&DataPlane], api: &str, ops: Value, marker: &str) {
    let mut ops = ops.as_array().cloned().unwrap_or_default();
    ops.push(json!({"op": "replace", "path": "/variables/marker", "value": marker}));
    m.patch(&format!("/restapis/{api}/stages/prod"), Value::Array(ops))
        .await
        .ok();
    let client = reqwest::Client::new();
    for n in nodes {
        let url = n.invoke_url(api, "prod", "/open");
        eventually(
            &format!("{} serving stage marker {marker}", n.node_id),
            Duration::from_secs(10),
            || {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    let body: Value = client.get(&url).send().await.ok()?.json().await.ok()?;
                    (body["marker"] == marker).then_some(())
                }
            },
        )
        .await;
    }
}

/// GetUsage's path for today (all keys, or one).
fn usage_path(plan: &str, key: Option<&str>) -> String {
    let d = today();
    let key = key.map(|k| format!("&keyId={k}")).unwrap_or_default();
    format!("/usageplans/{plan}/usage?startDate={d}&endDate={d}{key}")
}

async fn usage_of(m: &Mgmt, plan: &str, key: Option<&str>) -> Value {
    m.get(&usage_path(plan, key)).await.ok()
}

/// Requests of a plan in Postgres usage records (what the mover has moved).
async fn moved_total(database_url: &str, plan: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url)
        .await
        .expect("connect to the test database");
    sqlx::query_scalar::<_, Option<i64>>(
        "SELECT sum(requests)::bigint FROM usage_records WHERE plan_id = $1",
    )
    .bind(plan)
    .fetch_one(&mut conn)
    .await
    .expect("usage records")
    .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_plans_management_and_every_403() {
    let cluster = Cluster::start(3).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = build_api(&m, &backend).await;

    // CreateApiKey: generated value ≥ 30 chars, returned on create only.
    let created = m
        .post(
            "/apikeys",
            json!({"name": "partner-a", "customerId": "acme"}),
        )
        .await;
    assert_eq!(created.status, 201);
    let key_a = text(&created.body["id"]);
    let value_a = text(&created.body["value"]);
    assert!(value_a.len() >= 30, "{value_a}");
    assert_eq!(
        created.body["enabled"], false,
        "AWS creates keys disabled by default"
    );
    let got = m.get(&format!("/apikeys/{key_a}")).await.ok();
    assert!(got.get("value").is_none(), "no value without includeValue");
    let got = m
        .get(&format!("/apikeys/{key_a}?includeValue=true"))
        .await
        .ok();
    assert_eq!(text(&got["value"]), value_a);
    m.patch(
        &format!("/apikeys/{key_a}"),
        json!([{"op": "replace", "path": "/enabled", "value": "true"}]),
    )
    .await
    .ok();

    // Imported value; duplicates conflict; bad values are 400.
    let imported = "imported-partner-key-0123456789";
    let b = m
        .post(
            "/apikeys",
            json!({"name": "partner-b", "value": imported, "enabled": true}),
        )
        .await
        .ok();
    let key_b = text(&b["id"]);
    m.post("/apikeys", json!({"name": "dup", "value": imported}))
        .await
        .err(409, "ConflictException");
    let msg = m
        .post("/apikeys", json!({"name": "short", "value": "short"}))
        .await
        .err(400, "BadRequestException");
    assert!(msg.contains("20 to 128"), "{msg}");
    m.get("/apikeys/nosuchkey")
        .await
        .err(404, "NotFoundException");

    // GetApiKeys: name prefix, customerId, includeValues, paging.
    let (key_c, value_c) = create_key(&m, "other-c").await;
    let list = m.get("/apikeys?name=partner").await.ok();
    assert_eq!(list["item"].as_array().map(Vec::len), Some(2));
    let list = m
        .get("/apikeys?customerId=acme&includeValues=true")
        .await
        .ok();
    assert_eq!(list["item"][0]["id"], json!(key_a));
    assert_eq!(text(&list["item"][0]["value"]), value_a);
    let page = m.get("/apikeys?limit=2").await.ok();
    assert_eq!(page["item"].as_array().map(Vec::len), Some(2));
    let rest = m
        .get(&format!(
            "/apikeys?limit=2&position={}",
            text(&page["position"])
        ))
        .await
        .ok();
    assert_eq!(rest["item"].as_array().map(Vec::len), Some(1));

    // Usage plans: validation, then a plan for prod with keys a and c.
    let bad = m
        .post(
            "/usageplans",
            json!({"name": "bad", "quota": {"limit": 10, "period": "YEAR"}}),
        )
        .await
        .err(400, "ValidationException");
    assert!(
        bad.contains("'YEAR' at 'quota.period'") && bad.contains("[DAY, WEEK, MONTH]"),
        "{bad}"
    );
    m.post(
        "/usageplans",
        json!({"name": "bad", "apiStages": [{"apiId": api, "stage": "nope"}]}),
    )
    .await
    .err(404, "NotFoundException");
    m.post(
        "/usageplans",
        json!({"name": "bad", "apiStages": [{"apiId": api, "stage": "prod",
            "throttle": {"pets/GET": {"rateLimit": 1, "burstLimit": 1}}}]}),
    )
    .await
    .err(400, "BadRequestException");
    let gold = create_plan(
        &m,
        json!({"name": "gold", "apiStages": [{"apiId": api, "stage": "prod"}],
               "throttle": {"rateLimit": 1000, "burstLimit": 1000}}),
    )
    .await;
    let dev_plan = create_plan(
        &m,
        json!({"name": "dev-only", "apiStages": [{"apiId": api, "stage": "dev"}]}),
    )
    .await;
    add_key(&m, &gold, &key_a).await;
    add_key(&m, &gold, &key_c).await;
    // Key b is only in a plan for another stage.
    add_key(&m, &dev_plan, &key_b).await;
    m.post(
        &format!("/usageplans/{gold}/keys"),
        json!({"keyId": key_a, "keyType": "API_KEY"}),
    )
    .await
    .err(409, "ConflictException");
    let other_gold = create_plan(
        &m,
        json!({"name": "gold-2", "apiStages": [{"apiId": api, "stage": "prod"}]}),
    )
    .await;
    let msg = m
        .post(
            &format!("/usageplans/{other_gold}/keys"),
            json!({"keyId": key_a, "keyType": "API_KEY"}),
        )
        .await
        .err(409, "ConflictException");
    assert!(
        msg.contains("at most one usage plan per API stage"),
        "{msg}"
    );
    let pk = m
        .get(&format!("/usageplans/{gold}/keys/{key_a}"))
        .await
        .ok();
    assert_eq!(
        (text(&pk["type"]), text(&pk["value"])),
        ("API_KEY".into(), value_a.clone())
    );
    let plans = m.get(&format!("/usageplans?keyId={key_b}")).await.ok();
    assert_eq!(plans["item"][0]["id"], json!(dev_plan));
    let patched = m
        .patch(
            &format!("/usageplans/{gold}"),
            json!([
                {"op": "replace", "path": "/apiStages/{api}:prod/throttle/~1pets/GET/rateLimit".replace("{api}", &api), "value": "500"},
                {"op": "replace", "path": "/apiStages/{api}:prod/throttle/~1pets/GET/burstLimit".replace("{api}", &api), "value": "500"},
                {"op": "replace", "path": "/quota/limit", "value": "1000000"},
                {"op": "replace", "path": "/quota/period", "value": "MONTH"},
            ]),
        )
        .await
        .ok();
    assert_eq!(
        patched["apiStages"][0]["throttle"]["/pets/GET"]["burstLimit"],
        500
    );
    assert_eq!(patched["quota"]["period"], "MONTH");

    // ImportApiKeys (CSV as AWS defines it) straight into the gold plan.
    let csv = format!(
        "Name,key,description,Enabled,usageplanIds\nimported-1,csv-imported-key-0123456789,from csv,TRUE,{gold}\n"
    );
    let url = "/apikeys?mode=import&format=csv";
    let imported_ids = import_csv(&m, url, &csv).await;
    assert_eq!(imported_ids["ids"].as_array().map(Vec::len), Some(1));
    let disabled_csv = "name,key,enabled\ndisabled-1,csv-disabled-key-0123456789,false\n";
    let ids = import_csv(&m, url, disabled_csv).await;
    let key_d = text(&ids["ids"][0]);
    add_key(&m, &gold, &key_d).await;

    // The data plane: every 403 case, on every node.
    let nodes: Vec<&DataPlane> = cluster.nodes.iter().collect();
    wait_status(&nodes, &api, "/pets", Some(&value_a), 200).await;
    wait_status(
        &nodes,
        &api,
        "/pets",
        Some("csv-imported-key-0123456789"),
        200,
    )
    .await;
    let client = reqwest::Client::new();
    for n in &nodes {
        let url = n.invoke_url(&api, "prod", "/pets");
        for (key, why) in [
            (None, "missing"),
            (Some("no-such-key-value-0123456789"), "unknown"),
            (Some("csv-disabled-key-0123456789"), "disabled"),
            (Some(imported), "in a plan for another stage only"),
        ] {
            let mut req = client.get(&url);
            if let Some(k) = key {
                req = req.header("x-api-key", k);
            }
            let r = req.send().await.expect("invoke");
            assert_eq!(r.status(), 403, "{why}");
            assert_eq!(r.headers()["x-amzn-errortype"], "ForbiddenException");
            let body: Value = r.json().await.expect("json");
            assert_eq!(body, json!({"message": "Forbidden"}), "{why}");
        }
        // A method without apiKeyRequired needs no key.
        assert_eq!(
            invoke(&client, &n.invoke_url(&api, "prod", "/open"), None)
                .await
                .0,
            200
        );
    }
    // A key in no plan at all.
    m.delete(&format!("/usageplans/{gold}/keys/{key_c}"))
        .await
        .ok();
    wait_status(&nodes, &api, "/pets", Some(&value_c), 403).await;

    // Disabled through the API: refused on every node (as soon as the change has spread;
    // `wait_status` bounds that generously, and how long it took is only logged: a
    // duration measured on a loaded machine proves nothing about the gateway).
    m.patch(
        &format!("/apikeys/{key_a}"),
        json!([{"op": "replace", "path": "/enabled", "value": "false"}]),
    )
    .await
    .ok();
    let took = wait_status(&nodes, &api, "/pets", Some(&value_a), 403).await;
    eprintln!("key disabled on all 3 nodes after {took:?}");
    // Deleted: refused too; plans and keys answer NotFound afterwards.
    m.delete(&format!("/apikeys/{key_b}")).await.ok();
    m.get(&format!("/apikeys/{key_b}"))
        .await
        .err(404, "NotFoundException");
    m.delete(&format!("/usageplans/{dev_plan}")).await.ok();
    m.get(&format!("/usageplans/{dev_plan}"))
        .await
        .err(404, "NotFoundException");
}

/// POSTs a CSV body (signed like the SDKs sign blobs).
async fn import_csv(m: &Mgmt, path: &str, csv: &str) -> Value {
    m.call_raw("POST", path, csv.as_bytes(), "text/csv")
        .await
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_holds_for_the_cluster_and_429s_never_count() {
    let cluster = Cluster::start(3).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = build_api(&m, &backend).await;
    let nodes: Vec<&DataPlane> = cluster.nodes.iter().collect();

    // Per key: rate 10, burst 20, load spread over the three nodes.
    let (key, value) = create_key(&m, "throttled").await;
    let plan = create_plan(
        &m,
        json!({"name": "r10b20", "apiStages": [{"apiId": api, "stage": "prod"}],
               "throttle": {"rateLimit": 10, "burstLimit": 20}}),
    )
    .await;
    add_key(&m, &plan, &key).await;
    wait_status(&nodes, &api, "/open", None, 200).await;
    let pets = urls(&nodes, &api, "/pets");
    // The keyed probes count too: a Redis call of theirs may time out as well.
    let fallbacks_before = fallback_admissions(&pets).await;
    // Readiness probe would spend tokens; let the bucket refill completely afterwards.
    wait_status(&nodes, &api, "/pets", Some(&value), 200).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let redis = redis_url();
    let run = load_timed(
        Some(&redis),
        pets.clone(),
        Some(value.clone()),
        9,
        Duration::from_secs(3),
        None,
    )
    .await;
    assert_bucket_bounds("per-key", &run, 10.0, 20.0);

    // A 429 never counts: usage equals what was admitted (plus the readiness probes).
    let probes = 3;
    let usage = usage_of(&m, &plan, Some(&key)).await;
    let counted = run.tally.admitted as i64 + probes;
    let fallbacks = fallback_admissions(&pets).await - fallbacks_before;
    if fallbacks == 0 {
        assert_eq!(usage_total(&usage), counted, "{usage}");
    } else {
        // A Redis call that timed out may still have counted its request, which the
        // fallback counts again on recovery (at most once per fallback admission; a known
        // limit, docs/redis-cluster.md); none is ever lost.
        let total = usage_total(&usage);
        assert!(
            (counted..=counted + fallbacks as i64).contains(&total),
            "usage {total} outside [{counted}, {counted} + {fallbacks} fallbacks]: {usage}"
        );
    }

    // Per key per method: /pets/GET at rate 4, burst 5 under a generous plan throttle.
    let (key2, value2) = create_key(&m, "per-method").await;
    let plan2 = create_plan(
        &m,
        json!({"name": "per-method", "throttle": {"rateLimit": 1000, "burstLimit": 1000},
               "apiStages": [{"apiId": api, "stage": "prod",
                              "throttle": {"/pets/GET": {"rateLimit": 4, "burstLimit": 5}}}]}),
    )
    .await;
    let msg = m
        .post(
            &format!("/usageplans/{plan2}/keys"),
            json!({"keyId": key, "keyType": "API_KEY"}),
        )
        .await
        .err(409, "ConflictException");
    assert!(msg.contains(&plan), "{msg}");
    add_key(&m, &plan2, &key2).await;
    wait_status(&nodes, &api, "/pets", Some(&value2), 200).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let run = load_timed(
        Some(&redis),
        urls(&nodes, &api, "/pets"),
        Some(value2.clone()),
        9,
        Duration::from_secs(3),
        None,
    )
    .await;
    assert_bucket_bounds("per-key per-method", &run, 4.0, 5.0);
    // Another method of the same key is not limited by /pets/GET's bucket: 30 requests
    // (well within the plan's burst of 1000), however long a loaded machine takes for them.
    let t = load(
        urls(&nodes, &api, "/fail"),
        Some(value2.clone()),
        3,
        Duration::from_secs(60),
        Some(30),
    )
    .await
    .tally;
    assert_eq!((t.admitted, t.throttled), (30, 0), "{t:?}");

    // Stage level: */* at rate 10, burst 20 on the keyless MOCK method.
    update_stage(
        &m,
        &nodes,
        &api,
        json!([
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "10"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "20"},
        ]),
        "stage-10",
    )
    .await;
    // Let the bucket refill after the probes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let open_urls = urls(&nodes, &api, "/open");
    let run = load_timed(
        Some(&redis),
        open_urls.clone(),
        None,
        9,
        Duration::from_secs(3),
        None,
    )
    .await;
    assert_bucket_bounds("stage */*", &run, 10.0, 20.0);

    // A method-specific stage setting overrides */* (here: looser, 50/s burst 100). It
    // names the same Redis bucket, which the load above emptied: let it refill to 100.
    update_stage(
        &m,
        &nodes,
        &api,
        json!([
            {"op": "replace", "path": "/~1open/GET/throttling/rateLimit", "value": "50"},
            {"op": "replace", "path": "/~1open/GET/throttling/burstLimit", "value": "100"},
        ]),
        "method-50",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // 60 requests, within the new burst however long they take (under */* 10/20 most
    // would be refused).
    let t = load(open_urls, None, 6, Duration::from_secs(60), Some(60))
        .await
        .tally;
    assert_eq!((t.admitted, t.throttled), (60, 0), "{t:?}");
}

/// A high-rate stage limit is served from node-local leases of the shared bucket (rate 200:
/// leases of 4 tokens). It must still hold for the cluster with load spread over the three
/// nodes, and be shared rather than divided: one node taking all the load gets the whole
/// rate, not a third of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leased_stage_limit_is_shared_by_the_cluster_not_divided() {
    let cluster = Cluster::start(3).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = build_api(&m, &backend).await;
    let nodes: Vec<&DataPlane> = cluster.nodes.iter().collect();
    wait_status(&nodes, &api, "/open", None, 200).await;
    let (rate, burst) = (200.0, 20.0);
    update_stage(
        &m,
        &nodes,
        &api,
        json!([
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "200"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "20"},
        ]),
        "leased-200",
    )
    .await;
    // Let the probes' leases expire (250 ms) and the bucket refill (0.1 s).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let redis = redis_url();
    let spread = urls(&nodes, &api, "/open");
    let run = load_timed(Some(&redis), spread, None, 12, Duration::from_secs(3), None).await;
    assert_bucket_bounds("leased stage */*, spread", &run, rate, burst);

    tokio::time::sleep(Duration::from_secs(1)).await;
    let one = vec![nodes[0].invoke_url(&api, "prod", "/open")];
    let run = load_timed(Some(&redis), one, None, 12, Duration::from_secs(3), None).await;
    assert_bucket_bounds("leased stage */*, one node of three", &run, rate, burst);
    // Divided enforcement (each node a third of the rate) would admit at most this; the
    // shared bucket admits more, whether or not the load reached the full rate (on a
    // loaded machine it may not: then there are no 429s and the lower bound above is not
    // checked, but a third of the rate is still exceeded).
    let divided = burst + rate / 3.0 * run.elapsed.as_secs_f64() * 1.05;
    let admitted = run.tally.admitted as f64;
    assert!(
        admitted > divided,
        "one node of three admitted {admitted}, no more than a third of the rate would ({divided:.1})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_is_exact_across_nodes_and_usage_is_metered_exactly() {
    let mut cluster = Cluster::start(3).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = build_api(&m, &backend).await;

    // Quota 100 per DAY, admitted exactly across the three nodes, then Limit Exceeded.
    let (key, value) = create_key(&m, "quota").await;
    let plan = create_plan(
        &m,
        json!({"name": "q100", "apiStages": [{"apiId": api, "stage": "prod"}],
               "quota": {"limit": 100, "period": "DAY"}}),
    )
    .await;
    add_key(&m, &plan, &key).await;
    {
        let nodes: Vec<&DataPlane> = cluster.nodes.iter().collect();
        wait_status(&nodes, &api, "/open", None, 200).await;
        let probe_urls = urls(&nodes, &api, "/pets");
        // Wait (without spending quota) until every node knows the key: a 403 spends none.
        for u in &probe_urls {
            eventually("key known", Duration::from_secs(10), || {
                let (u, value) = (u.clone(), value.clone());
                async move {
                    let (st, _) = invoke(&reqwest::Client::new(), &u, Some(&value)).await;
                    (st == 200).then_some(())
                }
            })
            .await;
        }
        let t = load(
            probe_urls.clone(),
            Some(value.clone()),
            9,
            Duration::from_secs(60),
            Some(127),
        )
        .await
        .tally;
        assert_eq!((t.admitted, t.quota, t.other), (97, 30, 0), "{t:?}");
        let usage = usage_of(&m, &plan, Some(&key)).await;
        assert_eq!(usage["values"][&key][0], json!([100, 0]), "{usage}");

        // UpdateUsage grants 20 more for this period.
        let granted = m
            .patch(
                &format!("/usageplans/{plan}/keys/{key}/usage"),
                json!([{"op": "replace", "path": "/remaining", "value": "20"}]),
            )
            .await
            .ok();
        assert_eq!(granted["values"][&key][0], json!([100, 20]), "{granted}");
        let t = load(
            probe_urls,
            Some(value.clone()),
            6,
            Duration::from_secs(60),
            Some(25),
        )
        .await
        .tally;
        assert_eq!((t.admitted, t.quota), (20, 5), "{t:?}");
        m.patch(
            &format!("/usageplans/{plan}/keys/{key}/usage"),
            json!([{"op": "replace", "path": "/used", "value": "1"}]),
        )
        .await
        .err(400, "BadRequestException");
    }

    // Metering: a plan without limits, load on /pets (200) and /fail (backend 500) over
    // three nodes; node-2 is SIGKILLed mid-load (between two of its requests, so no answer
    // is in doubt) while the others keep serving.
    let (mkey, mvalue) = create_key(&m, "metered").await;
    let mplan = create_plan(
        &m,
        json!({"name": "metered", "apiStages": [{"apiId": api, "stage": "prod"}]}),
    )
    .await;
    add_key(&m, &mplan, &mkey).await;
    let nodes: Vec<&DataPlane> = cluster.nodes.iter().collect();
    wait_status(&nodes, &api, "/pets", Some(&mvalue), 200).await;
    let warmup = 3i64;
    let survivors = vec![
        nodes[0].invoke_url(&api, "prod", "/pets"),
        nodes[1].invoke_url(&api, "prod", "/fail"),
        nodes[0].invoke_url(&api, "prod", "/fail"),
        nodes[1].invoke_url(&api, "prod", "/pets"),
    ];
    let victim_pets = nodes[2].invoke_url(&api, "prod", "/pets");
    let victim_fail = nodes[2].invoke_url(&api, "prod", "/fail");
    let background = tokio::spawn(load(
        survivors,
        Some(mvalue.clone()),
        4,
        Duration::from_secs(4),
        None,
    ));
    // Load on the victim from this task, one request at a time.
    let client = reqwest::Client::new();
    let mut victim_admitted = 0i64;
    for i in 0..40 {
        let url = if i % 2 == 0 {
            &victim_pets
        } else {
            &victim_fail
        };
        let (status, _) = invoke(&client, url, Some(&mvalue)).await;
        assert!(status == 200 || status == 500, "victim answered {status}");
        victim_admitted += 1;
    }
    cluster.nodes[2].kill().await;
    let (after_kill, _) = invoke(&client, &victim_pets, Some(&mvalue)).await;
    assert_eq!(after_kill, 0, "the killed node no longer answers");
    // Some requests without a valid key: refused, never counted.
    let nodes: Vec<&DataPlane> = cluster.nodes.iter().take(2).collect();
    let bad = load(
        urls(&nodes, &api, "/pets"),
        Some("not-a-key-value-0123456789".into()),
        2,
        Duration::from_secs(60),
        Some(10),
    )
    .await
    .tally;
    assert_eq!(bad.forbidden, 10);
    let t = background.await.expect("background load").tally;
    assert_eq!(t.other, 0, "{t:?}");
    assert!(t.admitted > 0);
    let admitted = t.admitted as i64 + victim_admitted + warmup;
    let usage = usage_of(&m, &mplan, None).await;
    assert_eq!(usage_total(&usage), admitted, "GetUsage: {usage}");

    // The mover puts exactly that into Postgres (every ≤ 5 s).
    let db = cluster.cp.database_url.clone();
    let mplan2 = mplan.clone();
    eventually("usage moved to Postgres", Duration::from_secs(10), || {
        let (db, mplan) = (db.clone(), mplan2.clone());
        async move { (moved_total(&db, &mplan).await == admitted).then_some(()) }
    })
    .await;
    let usage = usage_of(&m, &mplan, None).await;
    assert_eq!(usage_total(&usage), admitted, "after the move: {usage}");

    // The billing export matches.
    let d = today();
    let csv = m
        .call_text(&format!(
            "/usageplans/{mplan}/usage/export?startDate={d}&endDate={d}"
        ))
        .await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("keyId,keyName,customerId,usagePlanId,day,requests")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(rows[0][0], mkey);
    assert_eq!(rows[0][2], "cust-metered");
    assert_eq!(rows[0][3], mplan);
    assert_eq!(rows[0][4], d);
    assert_eq!(rows[0][5].parse::<i64>().ok(), Some(admitted), "{csv}");
    m.get(&format!("/usageplans/{mplan}/usage?startDate={d}"))
        .await
        .err(400, "BadRequestException");

    // The mover after a crash. "before": a batch renamed out of the live counters but never
    // applied (crash before the Postgres commit) is applied exactly once. "after": a batch
    // whose id is already in usage_batches (crash after the commit, before the Redis
    // cleanup) is not applied again — only deleted.
    let prefix = redis_prefix(&cluster.cp.grpc_url());
    let redis = apigw_e2e::redis_url();
    let field = format!("{mplan}|{mkey}|{d}");
    for (batch, n) in [("crash-before", 7), ("crash-after", 11)] {
        raw_redis(&redis, &format!("HSET {prefix}ub:{batch} {field} {n}"))
            .await
            .expect("HSET");
        raw_redis(&redis, &format!("SADD {prefix}ubs {batch}"))
            .await
            .expect("SADD");
    }
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&db).await.expect("connect");
        sqlx::query("INSERT INTO usage_batches (batch_id) VALUES ('crash-after')")
            .execute(&mut conn)
            .await
            .expect("insert batch id");
    }
    let usage = usage_of(&m, &mplan, None).await;
    assert_eq!(
        usage_total(&usage),
        admitted + 7,
        "pending batches: {usage}"
    );
    let want = admitted + 7;
    eventually("crashed batches settled", Duration::from_secs(10), || {
        let (db, mplan, redis, prefix) = (db.clone(), mplan.clone(), redis.clone(), prefix.clone());
        async move {
            let pending = raw_redis(&redis, &format!("SCARD {prefix}ubs")).await?;
            (moved_total(&db, &mplan).await == want && pending.trim() == ":0").then_some(())
        }
    })
    .await;
    let usage = usage_of(&m, &mplan, None).await;
    assert_eq!(usage_total(&usage), want, "{usage}");
}

/// A private Redis the test can stop and restart on the same port.
struct PrivateRedis {
    port: u16,
    child: Option<tokio::process::Child>,
}

impl PrivateRedis {
    async fn start(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server");
        let url = format!("redis://127.0.0.1:{port}");
        eventually("private redis up", Duration::from_secs(10), || {
            let url = url.clone();
            async move { ping(&url).await.then_some(()) }
        })
        .await;
        Self {
            port,
            child: Some(child),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
            let _ = c.wait().await;
        }
    }
}

/// Whether a Redis answers PING (raw RESP over TCP: no client library needed).
async fn ping(url: &str) -> bool {
    raw_redis(url, "PING")
        .await
        .is_some_and(|r| r.starts_with("+PONG"))
}

/// Sends one inline command and returns the first reply line.
async fn raw_redis(url: &str, command: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("redis://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(format!("{command}\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).to_string())
}

/// A node-wide counter from the node's Prometheus endpoint (0 when absent).
async fn node_counter(node: &DataPlane, name: &str) -> u64 {
    let body = reqwest::get(format!("{}/metrics", node.base()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Group commit of admission calls: many concurrent keyed requests on two nodes (one on
/// the single-threaded runtime) share script calls (admissions > calls on each node's
/// metrics), and the quota stays exact: exactly Q admitted, GetUsage says Q.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_keyed_requests_share_admission_calls_and_stay_exact() {
    const Q: u64 = 400;
    const SENT: u64 = Q + 200;
    let cluster = Cluster::start(2).await;
    let backend = Backend::start("b").await;
    let m = cluster.cp.mgmt();
    let api = build_api(&m, &backend).await;
    let (key, value) = create_key(&m, "batched").await;
    let plan = create_plan(
        &m,
        json!({"name": "batched", "apiStages": [{"apiId": api, "stage": "prod"}],
               "quota": {"limit": Q, "period": "DAY"}}),
    )
    .await;
    add_key(&m, &plan, &key).await;
    let nodes: Vec<&DataPlane> = cluster.nodes.iter().collect();
    wait_status(&nodes, &api, "/open", None, 200).await;
    let probe_urls = urls(&nodes, &api, "/pets");
    // Until every node knows the key (a 403 spends nothing; each 200 spends one).
    let mut probes = 0u64;
    for u in &probe_urls {
        probes += eventually("key known", Duration::from_secs(10), || {
            let (u, value) = (u.clone(), value.clone());
            async move {
                let (st, _) = invoke(&reqwest::Client::new(), &u, Some(&value)).await;
                (st == 200).then_some(1u64)
            }
        })
        .await;
    }
    let mut before = Vec::new();
    for n in &nodes {
        before.push((
            node_counter(n, "apigw_redis_admission_calls_total").await,
            node_counter(n, "apigw_redis_admissions_total").await,
        ));
    }
    let run = load(
        probe_urls,
        Some(value.clone()),
        48,
        Duration::from_secs(120),
        Some(SENT),
    )
    .await;
    let t = run.tally;
    assert_eq!(
        run.fallbacks, 0,
        "every admission went through Redis: {t:?}"
    );
    assert_eq!(
        (t.admitted, t.quota, t.other),
        (Q - probes, SENT - (Q - probes), 0),
        "{t:?}"
    );
    let usage = usage_of(&m, &plan, Some(&key)).await;
    assert_eq!(usage["values"][&key][0], json!([Q, 0]), "{usage}");
    for (n, (calls0, admissions0)) in nodes.iter().zip(before) {
        let calls = node_counter(n, "apigw_redis_admission_calls_total").await - calls0;
        let admissions = node_counter(n, "apigw_redis_admissions_total").await - admissions0;
        eprintln!("{}: {admissions} admissions in {calls} calls", n.base());
        assert!(calls > 0, "{}: the node asked Redis", n.base());
        assert!(
            admissions > calls,
            "{}: concurrent admissions shared calls: {admissions} in {calls} calls",
            n.base()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_local_limits_then_shared_again() {
    let port = free_port();
    let mut redis = PrivateRedis::start(port).await;
    let env = [("REDIS_URL", redis.url())];
    let db = apigw_e2e::fresh_database().await.expect("database");
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), &env).await;
    let mut owned = Vec::new();
    for i in 0..3 {
        owned.push(DataPlane::start_env(&cp.grpc_url(), &format!("node-{i}"), &env).await);
    }
    for n in &owned {
        n.wait_ready().await;
    }
    let nodes: Vec<&DataPlane> = owned.iter().collect();
    let backend = Backend::start("b").await;
    let m = cp.mgmt();
    let api = build_api(&m, &backend).await;
    let (key, value) = create_key(&m, "outage").await;
    let plan = create_plan(
        &m,
        json!({"name": "r10b30", "apiStages": [{"apiId": api, "stage": "prod"}],
               "throttle": {"rateLimit": 10, "burstLimit": 30}}),
    )
    .await;
    add_key(&m, &plan, &key).await;
    wait_status(&nodes, &api, "/pets", Some(&value), 200).await;
    let probes = 3i64;
    let pets = urls(&nodes, &api, "/pets");

    // Shared: the cluster-wide bucket (let it refill after the probes).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let run = load_timed(
        Some(&redis.url()),
        pets.clone(),
        Some(value.clone()),
        9,
        Duration::from_secs(2),
        None,
    )
    .await;
    assert_bucket_bounds("shared, before", &run, 10.0, 30.0);
    // Let the mover take what Redis holds (the private Redis keeps nothing when stopped).
    let counted = run.tally.admitted as i64 + probes;
    eventually(
        "usage moved before the outage",
        Duration::from_secs(10),
        || {
            let (db, plan) = (db.clone(), plan.clone());
            async move { (moved_total(&db, &plan).await == counted).then_some(()) }
        },
    )
    .await;

    // Redis stops: nodes keep serving, each under its share (a third) of the limits.
    redis.stop().await;
    // Timed by this machine's monotonic clock: the one the nodes' local buckets refill by.
    let run = load(
        pets.clone(),
        Some(value.clone()),
        9,
        Duration::from_secs(3),
        None,
    )
    .await;
    let (t2, e2) = (run.tally, run.elapsed);
    eprintln!("during the outage: {t2:?} in {e2:?}");
    assert_eq!(t2.other, 0, "no errors while Redis is down: {t2:?}");
    assert!(t2.admitted > 0 && t2.throttled > 0, "{t2:?}");
    // Each node: burst 10, rate 10/3 (its first requests may have hit Redis before it
    // noticed the outage, hence the slack of one burst).
    let local_bound = 30.0 + 10.0 * e2.as_secs_f64() * 1.05 + 30.0;
    assert!(
        (t2.admitted as f64) <= local_bound,
        "admitted {} > {local_bound}",
        t2.admitted
    );

    // Redis returns (empty): shared enforcement again, and the counts admitted meanwhile
    // are added to it.
    redis = PrivateRedis::start(port).await;
    let prefix = redis_prefix(&cp.grpc_url());
    let url = redis.url();
    eventually(
        "all three nodes heartbeating again",
        Duration::from_secs(15),
        || {
            let (url, prefix) = (url.clone(), prefix.clone());
            async move {
                let r = raw_redis(&url, &format!("ZCARD {prefix}nodes")).await?;
                (r.trim() == ":3").then_some(())
            }
        },
    )
    .await;
    // A node heartbeating again first adds what it admitted meanwhile, then enforces the
    // shared limits again: once every node's outage counts are in, all of them are back
    // (each admitted some: at least its share of the burst). The new Redis starts empty,
    // so the buckets start full.
    let during = counted + t2.admitted as i64;
    eventually(
        "the outage's counts added back",
        Duration::from_secs(15),
        || {
            let (m, path) = (m.clone(), usage_path(&plan, Some(&key)));
            async move {
                let usage = m.call("GET", &path, None).await;
                (usage.status == 200 && usage_total(&usage.body) == during).then_some(())
            }
        },
    )
    .await;
    let run = load_timed(
        Some(&redis.url()),
        pets,
        Some(value.clone()),
        9,
        Duration::from_secs(2),
        None,
    )
    .await;
    assert_bucket_bounds("shared, after", &run, 10.0, 30.0);
    let total = during + run.tally.admitted as i64;
    let usage = usage_of(&m, &plan, Some(&key)).await;
    assert_eq!(usage_total(&usage), total, "{usage}");
}
