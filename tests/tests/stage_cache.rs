//! The stage cache end to end (issue 17): a control plane and two data-plane nodes sharing
//! one Redis, in front of a backend that numbers the calls it answers, so a response from
//! the cache is one whose number the backend has already given out, and the backend's
//! counter says how many requests reached it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use apigw_e2e::invoke::{get, send, until_status, Got};
use apigw_e2e::process::{redis_prefix, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use apigw_e2e::rest_api::text;
use apigw_e2e::{eventually, redis_url, Cluster, Mgmt, RestApi};
use serde_json::{json, Value};

/// The value of the header the counter adds to every answer (`x-counter-mark`).
const HEADER_MARK: &str = "counter-header-mark-5b1e9c";

/// A backend answering any path with `{"n": <its call number>, "path", "query"}` and the
/// header `x-counter-mark: HEADER_MARK`.
struct Counter {
    url: String,
    calls: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Counter {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&calls);
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                (
                    [("x-counter-mark", HEADER_MARK)],
                    axum::Json(json!({
                        "n": n,
                        "path": uri.path(),
                        "query": uri.query().unwrap_or_default(),
                    })),
                )
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Counter { url, calls, task }
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

fn n(got: &Got) -> u64 {
    assert_eq!(got.status, 200, "{}", got.body);
    got.json()["n"]
        .as_u64()
        .unwrap_or_else(|| panic!("no call number in {}", got.body))
}

/// `/items/{id}` with GET and POST, HTTP_PROXY to the counter, GET keyed also by the `q`
/// query string and the `X-Tenant` header; deployed to `prod`.
async fn items_api(cluster: &Cluster, counter: &Counter, method: Value) -> (String, String) {
    let m = &cluster.cp.mgmt();
    let api = RestApi::create(m, "cached").await;
    let items = api.resource(&api.root, "items").await;
    let item = api.resource(&items, "{id}").await;
    for verb in ["GET", "POST"] {
        let path = api.method_path(&item, verb);
        let mut body = method.clone();
        body["requestParameters"] = json!({
            "method.request.path.id": true,
            "method.request.querystring.q": false,
            "method.request.header.X-Tenant": false,
        });
        m.put(&path, body).await.ok();
        let mut integration = json!({
            "type": "HTTP_PROXY",
            "httpMethod": verb,
            "uri": format!("{}/count/{{id}}", counter.url),
            "requestParameters": {"integration.request.path.id": "method.request.path.id"},
        });
        if verb == "GET" {
            integration["cacheKeyParameters"] = json!([
                "method.request.querystring.q",
                "method.request.header.X-Tenant"
            ]);
        }
        m.put(&format!("{path}/integration"), integration)
            .await
            .ok();
    }
    api.deploy("prod", json!({})).await;
    let urls: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| n.invoke_url(&api.id, "prod", "/items/0"))
        .collect();
    until_status(&urls, &[], 200).await;
    (api.id, item)
}

async fn patch_stage(m: &Mgmt, api: &str, ops: Value) -> Value {
    m.patch(&format!("/restapis/{api}/stages/prod"), ops)
        .await
        .ok()
}

/// Waits until `url` answers twice with the same call number (the second from the cache);
/// returns that number.
async fn until_cached(url: &str, headers: &[(&str, &str)]) -> u64 {
    eventually(
        &format!("{url} answered from the cache"),
        Duration::from_secs(20),
        || async {
            let first = n(&get(url, headers).await);
            (n(&get(url, headers).await) == first).then_some(first)
        },
    )
    .await
}

/// The value both nodes answer `url_a` / `url_b` with once they share one cache entry.
/// Usually that is the entry the first node wrote; under load its write (or the other
/// node's read) may time out, and then the other node's own entry becomes the shared one:
/// either way both nodes end up answering the same number, with no backend call between.
async fn until_shared(url_a: &str, url_b: &str, headers: &[(&str, &str)]) -> u64 {
    eventually(
        &format!("{url_a} and {url_b} {headers:?} served from one shared entry"),
        Duration::from_secs(20),
        || async {
            let a = n(&get(url_a, headers).await);
            let b = n(&get(url_b, headers).await);
            (a == b && n(&get(url_a, headers).await) == a).then_some(a)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_gets_are_shared_by_the_nodes_keyed_and_flushed() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let counter = Counter::start().await;
    let (api, item) = items_api(&cluster, &counter, json!({"authorizationType": "NONE"})).await;
    let url = |node: usize, path: &str| cluster.nodes[node].invoke_url(&api, "prod", path);

    // Off by default: every GET reaches the backend.
    let stage = m.get(&format!("/restapis/{api}/stages/prod")).await.ok();
    assert_eq!(stage["cacheClusterEnabled"], false);
    assert_eq!(stage["cacheClusterStatus"], "NOT_AVAILABLE");
    let one = n(&get(&url(0, "/items/1"), &[]).await);
    assert_ne!(n(&get(&url(0, "/items/1"), &[]).await), one);

    let stage = patch_stage(
        &m,
        &api,
        json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/cacheClusterSize", "value": "1.6"},
        ]),
    )
    .await;
    assert_eq!(stage["cacheClusterEnabled"], true);
    assert_eq!(stage["cacheClusterSize"], "1.6");
    assert_eq!(stage["cacheClusterStatus"], "AVAILABLE");
    let got = m.get(&format!("/restapis/{api}/stages/prod")).await.ok();
    assert_eq!(got["cacheClusterStatus"], "AVAILABLE");

    // A GET cached by node 0 is served by node 1 without the backend.
    until_cached(&url(0, "/items/1"), &[]).await;
    let cached = until_shared(&url(0, "/items/1"), &url(1, "/items/1"), &[]).await;
    let calls = counter.calls();
    for node in [0, 1, 1, 0] {
        assert_eq!(n(&get(&url(node, "/items/1"), &[]).await), cached);
    }
    assert_eq!(counter.calls(), calls, "hits never reach the backend");

    // The path parameter and each cache key parameter are part of the key: each of these
    // is a miss (the backend numbers it anew), then a hit on the other node too.
    let mut seen = vec![cached];
    let variants: [(&str, &[(&str, &str)]); 4] = [
        ("/items/2", &[]),
        ("/items/1?q=a", &[]),
        ("/items/1?q=b", &[]),
        ("/items/1?q=a", &[("X-Tenant", "t1")]),
    ];
    for (i, (path, headers)) in variants.iter().enumerate() {
        let got = n(&get(&url(i % 2, path), headers).await);
        assert!(
            !seen.contains(&got),
            "{path} {headers:?} missed: {got} is new"
        );
        seen.push(until_shared(&url(i % 2, path), &url((i + 1) % 2, path), headers).await);
    }
    let calls = counter.calls();
    for node in [0, 1] {
        assert_eq!(n(&get(&url(node, "/items/1"), &[]).await), seen[0]);
        for (i, (path, headers)) in variants.iter().enumerate() {
            assert_eq!(n(&get(&url(node, path), headers).await), seen[i + 1]);
        }
    }
    assert_eq!(counter.calls(), calls, "every one a hit, on both nodes");

    // A query parameter that is not a cache key parameter does not split the entry.
    assert_eq!(n(&get(&url(0, "/items/1?other=x"), &[]).await), cached);

    // POST is not cached until its own method setting turns caching on.
    let post = |node: usize| {
        let u = url(node, "/items/1");
        async move { n(&send("POST", &u, &[("content-type", "application/json")], "{}").await) }
    };
    let first = post(0).await;
    assert_ne!(post(1).await, first);
    let stage = patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": format!("/~1items~1{{id}}/POST/caching/enabled"), "value": "true"}]),
    )
    .await;
    assert_eq!(
        stage["methodSettings"]["items/{id}/POST"]["cachingEnabled"],
        true
    );
    eventually("POST cached", Duration::from_secs(20), || async {
        let a = post(0).await;
        (post(1).await == a).then_some(())
    })
    .await;
    let _ = item;

    // FlushStageCache: neither node serves an entry cached before it.
    let before = until_cached(&url(0, "/items/1"), &[]).await;
    let flushed = m
        .call(
            "DELETE",
            &format!("/restapis/{api}/stages/prod/cache/data"),
            None,
        )
        .await;
    assert_eq!(flushed.status, 202, "{:?}", flushed.body);
    for node in [0, 1] {
        eventually(
            &format!("node {node} no longer serves the flushed entry"),
            Duration::from_secs(20),
            || async { (n(&get(&url(node, "/items/1"), &[]).await) != before).then_some(()) },
        )
        .await;
    }
    let after = until_cached(&url(1, "/items/1"), &[]).await;
    assert!(after > before);
    eventually(
        "both nodes serve the new entry",
        Duration::from_secs(20),
        || async { (n(&get(&url(0, "/items/1"), &[]).await) == after).then_some(()) },
    )
    .await;

    // FlushStageCache's errors are AWS's.
    m.call(
        "DELETE",
        &format!("/restapis/{api}/stages/nope/cache/data"),
        None,
    )
    .await
    .err(404, "NotFoundException");
    m.call("DELETE", "/restapis/nope/stages/prod/cache/data", None)
        .await
        .err(404, "NotFoundException");

    // Hits and misses are counted in the nodes' metrics.
    let metrics = reqwest::get(format!("{}/metrics", cluster.nodes[0].base()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hits = metrics
        .lines()
        .find(|l| l.starts_with("apigw_cache_requests_total") && l.contains("result=\"hit\""))
        .unwrap_or_else(|| panic!("no cache hits in\n{metrics}"));
    assert!(!hits.ends_with(" 0"), "{hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expiry_and_cache_control_strategies() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let counter = Counter::start().await;
    let (api, _) = items_api(&cluster, &counter, json!({"authorizationType": "NONE"})).await;
    let url = |node: usize| cluster.nodes[node].invoke_url(&api, "prod", "/items/7");
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/cacheClusterEnabled", "value": "true"}]),
    )
    .await;

    // requireAuthorizationForCacheControl on and SUCCEED_WITH_RESPONSE_HEADER (AWS's
    // defaults): max-age=0 from a caller without the permission is ignored, and the
    // response says so.
    let refresh = [("Cache-Control", "max-age=0")];
    let cached = until_cached(&url(0), &[]).await;
    eventually(
        "node 1 serves the entry",
        Duration::from_secs(20),
        || async { (n(&get(&url(1), &[]).await) == cached).then_some(()) },
    )
    .await;
    let ignored = get(&url(1), &refresh).await;
    assert_eq!(n(&ignored), cached);
    assert!(
        ignored.header("warning").contains("max-age=0 ignored"),
        "{:?}",
        ignored.headers
    );

    // SUCCEED_WITHOUT_RESPONSE_HEADER: ignored silently.
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
                "value": "SUCCEED_WITHOUT_RESPONSE_HEADER"}]),
    )
    .await;
    for node in [0, 1] {
        eventually("no warning header", Duration::from_secs(20), || async {
            let got = get(&url(node), &refresh).await;
            got.header("warning").is_empty().then(|| n(&got))
        })
        .await;
    }
    let got = get(&url(0), &refresh).await;
    assert_eq!(n(&got), cached);

    // FAIL_WITH_403: refused.
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
                "value": "FAIL_WITH_403"}]),
    )
    .await;
    for node in [0, 1] {
        eventually("max-age=0 refused", Duration::from_secs(20), || async {
            (get(&url(node), &refresh).await.status == 403).then_some(())
        })
        .await;
    }
    let refused = get(&url(0), &refresh).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("execute-api:InvalidateCache"),
        "{}",
        refused.body
    );
    assert_eq!(
        n(&get(&url(1), &[]).await),
        cached,
        "the entry is untouched"
    );

    // requireAuthorizationForCacheControl off: any caller's max-age=0 refreshes the entry
    // (the backend is asked and its answer is cached for everyone).
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/requireAuthorizationForCacheControl",
                "value": "false"}]),
    )
    .await;
    let refreshed = eventually("max-age=0 refreshes", Duration::from_secs(20), || async {
        let got = get(&url(0), &refresh).await;
        (got.status == 200 && n(&got) != cached).then(|| n(&got))
    })
    .await;
    assert_eq!(n(&get(&url(0), &[]).await), refreshed);
    eventually(
        "node 1 sees the refreshed entry",
        Duration::from_secs(20),
        || async { (n(&get(&url(1), &[]).await) == refreshed).then_some(()) },
    )
    .await;

    // TTL: with a 2 s TTL (and a flush, whose arrival on both nodes shows they have the
    // new TTL too), an entry is served until it expires, then the backend is asked again.
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "2"}]),
    )
    .await;
    m.call(
        "DELETE",
        &format!("/restapis/{api}/stages/prod/cache/data"),
        None,
    )
    .await;
    for node in [0, 1] {
        eventually("the flush arrived", Duration::from_secs(20), || async {
            (n(&get(&url(node), &[]).await) != refreshed).then_some(())
        })
        .await;
    }
    let short = until_cached(&url(0), &[]).await;
    eventually("the entry expires", Duration::from_secs(20), || async {
        (n(&get(&url(1), &[]).await) != short).then_some(())
    })
    .await;
    let again = until_cached(&url(1), &[]).await;
    assert!(again > short);
}

/// SigV4 headers for a GET of `url` signed for `execute-api` by the bootstrap key.
fn signed(url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let secret = apigw_sigv4::SecretKey::new(SECRET_ACCESS_KEY);
    let params = apigw_sigv4::SigningParams {
        access_key_id: ACCESS_KEY_ID,
        secret: &secret,
        security_token: None,
        region: "us-east-1",
        service: "execute-api",
        time: time::OffsetDateTime::now_utc(),
    };
    let out =
        apigw_sigv4::sign("GET", url, &http::HeaderMap::new(), b"", &params).expect("signing");
    out.headers()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resource_policy_grants_invalidation_and_refusals_are_never_cached() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let counter = Counter::start().await;

    // AWS_IAM methods, a resource policy letting the bootstrap key's caller invalidate.
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
             "Action": "execute-api:InvalidateCache", "Resource": "execute-api:/*/GET/items/*"},
        ]
    });
    let api = RestApi::create_with(&m, "iam-cached", json!({"policy": policy.to_string()})).await;
    let items = api.resource(&api.root, "items").await;
    let item = api.resource(&items, "{id}").await;
    let path = api.method_path(&item, "GET");
    m.put(
        &path,
        json!({"authorizationType": "AWS_IAM", "apiKeyRequired": true,
               "requestParameters": {"method.request.path.id": true}}),
    )
    .await
    .ok();
    m.put(
        &format!("{path}/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": "GET",
               "uri": format!("{}/count/{{id}}", counter.url),
               "requestParameters": {"integration.request.path.id": "method.request.path.id"}}),
    )
    .await
    .ok();
    api.deploy("prod", json!({})).await;
    let urls: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| n.invoke_url(&api.id, "prod", "/items/0"))
        .collect();
    until_status(&urls, &[], 403).await; // unsigned: the stage is there
                                         // A key in a plan with a quota of 6 a day, another (for warming up) in a plan without.
    let warm = m
        .post("/apikeys", json!({"name": "warm", "enabled": true}))
        .await
        .ok();
    let warm_plan = m
        .post(
            "/usageplans",
            json!({"name": "w", "apiStages": [{"apiId": api.id, "stage": "prod"}]}),
        )
        .await
        .ok();
    m.post(
        &format!("/usageplans/{}/keys", text(&warm_plan["id"])),
        json!({"keyId": text(&warm["id"]), "keyType": "API_KEY"}),
    )
    .await
    .ok();
    let warm_key = [("x-api-key", text(&warm["value"]))];
    let warm_key: Vec<(&str, &str)> = warm_key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = m
        .post("/apikeys", json!({"name": "k", "enabled": true}))
        .await
        .ok();
    let (key_id, key_value) = (text(&key["id"]), text(&key["value"]));
    let plan = m
        .post(
            "/usageplans",
            json!({"name": "p", "apiStages": [{"apiId": api.id, "stage": "prod"}],
                   "quota": {"limit": 6, "period": "DAY"}}),
        )
        .await
        .ok();
    let plan = text(&plan["id"]);
    m.post(
        &format!("/usageplans/{plan}/keys"),
        json!({"keyId": key_id, "keyType": "API_KEY"}),
    )
    .await
    .ok();
    patch_stage(
        &m,
        &api.id,
        json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
             "value": "FAIL_WITH_403"},
        ]),
    )
    .await;
    let url = |node: usize| cluster.nodes[node].invoke_url(&api.id, "prod", "/items/3");
    let with_key = [("x-api-key", key_value.as_str())];

    // Wait until both nodes cache (signed, with the warm-up key).
    let cached = eventually("cached on both nodes", Duration::from_secs(30), || async {
        let a = send("GET", &url(0), &signed(&url(0), &warm_key), "").await;
        if a.status != 200 {
            return None;
        }
        let b = send("GET", &url(1), &signed(&url(1), &warm_key), "").await;
        (b.status == 200 && n(&b) == n(&a)).then(|| n(&a))
    })
    .await;
    let calls = counter.calls();

    // Unauthorised (unsigned; wrong key) requests are refused, never served from the cache.
    let unsigned = get(&url(0), &with_key).await;
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    let no_key = send("GET", &url(1), &signed(&url(1), &[]), "").await;
    assert_eq!(no_key.status, 403, "{}", no_key.body);
    let bad_key = send(
        "GET",
        &url(1),
        &signed(&url(1), &[("x-api-key", "not-a-key-0123456789abcdef")]),
        "",
    )
    .await;
    assert_eq!(bad_key.status, 403, "{}", bad_key.body);

    // The caller the policy grants execute-api:InvalidateCache refreshes the entry, even
    // under FAIL_WITH_403.
    let refresh = [
        ("x-api-key", key_value.as_str()),
        ("Cache-Control", "max-age=0"),
    ];
    let refreshed = send("GET", &url(0), &signed(&url(0), &refresh), "").await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(n(&refreshed) > cached);
    assert_eq!(counter.calls(), calls + 1);

    // The quota counts cached answers: hits until it is used up, then 429, not a hit.
    // (Node 0, which refreshed the entry: node 1 may serve its own copy of the old one for
    // up to a second, docs/cache.md.)
    let mut admitted = 1; // the refresh
    loop {
        let node = 0;
        let got = send("GET", &url(node), &signed(&url(node), &with_key), "").await;
        if got.status == 429 {
            break;
        }
        assert_eq!(n(&got), n(&refreshed), "a hit");
        admitted += 1;
        assert!(admitted <= 6, "the quota of 6 was not enforced");
    }
    assert_eq!(
        counter.calls(),
        calls + 1,
        "only the refresh reached the backend"
    );
    assert_eq!(admitted, 6, "the quota's 6 requests, hits included");
    eventually("usage recorded", Duration::from_secs(20), || async {
        (usage(&m, &plan).await == 6).then_some(())
    })
    .await;
}

/// Requests the plan's keys used today (GetUsage).
async fn usage(m: &Mgmt, plan: &str) -> i64 {
    let d = time::OffsetDateTime::now_utc().date();
    let got = m
        .get(&format!(
            "/usageplans/{plan}/usage?startDate={d}&endDate={d}"
        ))
        .await
        .ok();
    got["values"]
        .as_object()
        .map(|keys| {
            keys.values()
                .flat_map(|days| days.as_array().cloned().unwrap_or_default())
                .map(|d| d[0].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// The raw values of the stage `prod`'s cache entries in the cluster's Redis (under the
/// test's own key prefix), by key.
async fn raw_entries(cluster: &Cluster, api: &str) -> Vec<(String, Vec<u8>)> {
    let prefix = redis_prefix(&cluster.cp.grpc_url());
    let client = redis::Client::open(redis_url()).expect("Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connecting to Redis");
    let pattern = format!("{prefix}c:{api}:prod:*");
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .expect("SCAN");
        keys.extend(found);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut out = Vec::new();
    for key in keys {
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("GET");
        if let Some(value) = value {
            out.push((key, value));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The call number of a 200; `None` while the node does not serve the stage (403 / 404,
/// as while a recreated stage reaches it). Anything else fails the test: an entry that
/// does not open must be a miss, never an error.
fn n_or_absent(got: &Got) -> Option<u64> {
    match got.status {
        200 => Some(n(got)),
        403 | 404 => None,
        other => panic!("{other}: {}", got.body),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_encrypted_entries_are_sealed_in_redis_and_a_new_key_is_a_miss() {
    let cluster = Cluster::start(2).await;
    let m = cluster.cp.mgmt();
    let counter = Counter::start().await;
    let (api, _) = items_api(&cluster, &counter, json!({"authorizationType": "NONE"})).await;
    // The counter echoes the path, so this marks the body.
    const BODY_MARK: &[u8] = b"sealed-body-mark-0c41";
    let path = format!("/items/{}", std::str::from_utf8(BODY_MARK).unwrap());
    let url = |node: usize| cluster.nodes[node].invoke_url(&api, "prod", &path);

    // The cache and dataEncrypted in one update: no node ever caches this stage in clear.
    let stage = patch_stage(
        &m,
        &api,
        json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"},
        ]),
    )
    .await;
    assert_eq!(stage["methodSettings"]["*/*"]["cacheDataEncrypted"], true);

    // Shared by the nodes as before: node 1 serves node 0's entry, with its headers.
    let sealed = until_cached(&url(0), &[]).await;
    eventually(
        "node 1 serves node 0's sealed entry",
        Duration::from_secs(20),
        || async { (n(&get(&url(1), &[]).await) == sealed).then_some(()) },
    )
    .await;
    let calls = counter.calls();
    for node in [1, 0, 1] {
        let got = get(&url(node), &[]).await;
        assert_eq!(n(&got), sealed);
        assert_eq!(got.header("x-counter-mark"), HEADER_MARK);
        assert!(got.body.contains("sealed-body-mark-0c41"), "{}", got.body);
    }
    assert_eq!(counter.calls(), calls, "hits never reach the backend");

    // In Redis, neither the body nor the header value is there in clear.
    let raw = raw_entries(&cluster, &api).await;
    assert!(!raw.is_empty(), "the entry is in Redis");
    for (key, value) in &raw {
        assert!(!contains(value, BODY_MARK), "{key}: the body in clear");
        assert!(
            !contains(value, HEADER_MARK.as_bytes()),
            "{key}: the header in clear"
        );
        assert!(
            !contains(value, b"x-counter-mark"),
            "{key}: header names in clear"
        );
    }

    // dataEncrypted off: clear entries, under keys of their own (a miss on each node once
    // it has the setting), and there the body and header are in clear.
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"}]),
    )
    .await;
    for node in [0, 1] {
        eventually(
            &format!("node {node} no longer uses sealed entries"),
            Duration::from_secs(20),
            || async { (n(&get(&url(node), &[]).await) != sealed).then_some(()) },
        )
        .await;
    }
    let clear = until_cached(&url(0), &[]).await;
    eventually(
        "node 1 serves node 0's clear entry",
        Duration::from_secs(20),
        || async { (n(&get(&url(1), &[]).await) == clear).then_some(()) },
    )
    .await;
    let raw = raw_entries(&cluster, &api).await;
    assert!(
        raw.iter().any(|(_, value)| contains(value, BODY_MARK)
            && contains(value, HEADER_MARK.as_bytes())),
        "without dataEncrypted the entry is in clear"
    );

    // On again: the same stage, epoch and so key open the sealed entry kept in Redis.
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"}]),
    )
    .await;
    for node in [0, 1] {
        eventually(
            &format!("node {node} opens the sealed entry again"),
            Duration::from_secs(20),
            || async { (n(&get(&url(node), &[]).await) == sealed).then_some(()) },
        )
        .await;
    }

    // The stage deleted and created again under the same name: a new data key and a new
    // cache salt (so its entries have keys of their own, encrypted or not). The old sealed
    // entry stays in Redis but is never served: a miss (the backend answers, 200), never
    // an error.
    // First the cache off, seen by both nodes, so that "cached" below can only be the
    // recreated stage's config; then a second for the nodes' 1 s local fronts to lapse.
    patch_stage(
        &m,
        &api,
        json!([{"op": "replace", "path": "/cacheClusterEnabled", "value": "false"}]),
    )
    .await;
    for node in [0, 1] {
        eventually(
            &format!("node {node} caches no more"),
            Duration::from_secs(20),
            || async {
                let a = n(&get(&url(node), &[]).await);
                (n(&get(&url(node), &[]).await) != a).then_some(())
            },
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let deployment = m.get(&format!("/restapis/{api}/stages/prod")).await.ok()["deploymentId"]
        .as_str()
        .expect("deploymentId")
        .to_string();
    let deleted = m
        .call("DELETE", &format!("/restapis/{api}/stages/prod"), None)
        .await;
    assert_eq!(deleted.status, 202, "{:?}", deleted.body);
    m.post(
        &format!("/restapis/{api}/stages"),
        json!({"stageName": "prod", "deploymentId": deployment}),
    )
    .await
    .ok();
    patch_stage(
        &m,
        &api,
        json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"},
        ]),
    )
    .await;
    for node in [0, 1] {
        let probe = cluster.nodes[node].invoke_url(&api, "prod", &format!("/items/probe-{node}"));
        eventually(
            &format!("node {node} has the recreated stage, cached"),
            Duration::from_secs(20),
            || async {
                let a = n_or_absent(&get(&probe, &[]).await)?;
                (n_or_absent(&get(&probe, &[]).await)? == a).then_some(())
            },
        )
        .await;
    }
    let before: Vec<(String, Vec<u8>)> = raw_entries(&cluster, &api)
        .await
        .into_iter()
        .filter(|(_, v)| !contains(v, BODY_MARK))
        .collect();
    let calls = counter.calls();
    let missed = n(&get(&url(0), &[]).await);
    assert_ne!(
        missed, sealed,
        "an entry sealed under the old key is never served"
    );
    assert_eq!(counter.calls(), calls + 1, "the backend answered the miss");
    assert_eq!(
        n(&get(&url(0), &[]).await),
        missed,
        "and its answer is cached"
    );
    let after = raw_entries(&cluster, &api).await;
    assert!(
        !before.is_empty()
            && after
                .iter()
                .any(|(k, _)| !before.iter().any(|(key, _)| key == k)),
        "the old sealed entry was in Redis and the miss was stored under a key of its own"
    );
    let renewed = eventually(
        "node 1 serves the renewed entry",
        Duration::from_secs(20),
        || async { (n(&get(&url(1), &[]).await) == missed).then_some(missed) },
    )
    .await;

    // An entry altered in Redis does not open either: a miss, then cached anew.
    let raw = raw_entries(&cluster, &api).await;
    assert!(!raw.is_empty());
    let client = redis::Client::open(redis_url()).expect("Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connecting to Redis");
    for (key, mut value) in raw {
        if contains(&value, BODY_MARK) {
            continue; // the clear entry of before: not read while dataEncrypted is on
        }
        if let Some(last) = value.last_mut() {
            *last ^= 0x5a;
        }
        let () = redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("KEEPTTL")
            .query_async(&mut conn)
            .await
            .expect("SET");
    }
    for node in [0, 1] {
        eventually(
            &format!("node {node} misses the altered entry"),
            Duration::from_secs(20),
            || async { n_or_absent(&get(&url(node), &[]).await).filter(|got| *got > renewed) },
        )
        .await;
    }
}
