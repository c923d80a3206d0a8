//! A steady load of requests spread over a cluster's nodes while a test kills and restarts
//! things (control planes, nodes, Redis), with every answer classified by the state of the
//! node it went to.
//!
//! A test marks a node down ([`Targets::mark_down`]) *before* killing it and up
//! ([`Targets::mark_up`]) once it is ready again. A request counts as sent to a **live**
//! node only when the node was up when it was sent and had not been marked down by the time
//! it finished; anything else (a refused connection to a dead node, a connection cut by the
//! kill, an answer from a node still starting) is counted apart as an expected failure of
//! a dead node. From a live node, anything but the expected status is a failure, counted by
//! kind: a 5xx, another status, a connection error, or a hang (no answer within the hang
//! limit). Each node gets a fresh HTTP client whenever it is marked up, so no pooled
//! connection to a killed process is reused.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One node the load goes to.
struct Target {
    url: String,
    state: Mutex<TargetState>,
}

struct TargetState {
    live: bool,
    /// Bumped at every mark, so a request can tell the node was killed while it waited.
    generation: u64,
    client: reqwest::Client,
}

/// The nodes the load is spread over, with whether each is up.
pub struct Targets {
    targets: Vec<Target>,
    hang: Duration,
}

fn client(hang: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(hang)
        .build()
        .expect("an HTTP client")
}

impl Targets {
    /// `urls[i]` is node i's URL (every node up); a request not answered within `hang` is
    /// a hang.
    pub fn new(urls: Vec<String>, hang: Duration) -> Arc<Self> {
        Arc::new(Targets {
            targets: urls
                .into_iter()
                .map(|url| Target {
                    url,
                    state: Mutex::new(TargetState {
                        live: true,
                        generation: 0,
                        client: client(hang),
                    }),
                })
                .collect(),
            hang,
        })
    }

    fn mark(&self, i: usize, live: bool) {
        let mut s = self.targets[i]
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.live = live;
        s.generation += 1;
        if live {
            s.client = client(self.hang);
        }
    }

    /// Node `i` is about to be killed (call before the kill).
    pub fn mark_down(&self, i: usize) {
        self.mark(i, false);
    }

    /// Node `i` is up and ready again.
    pub fn mark_up(&self, i: usize) {
        self.mark(i, true);
    }

    fn snapshot(&self, i: usize) -> (bool, u64, reqwest::Client) {
        let s = self.targets[i]
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        (s.live, s.generation, s.client.clone())
    }

    fn generation(&self, i: usize) -> u64 {
        self.targets[i]
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .generation
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// What the load saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests sent.
    pub sent: u64,
    /// Answered with the expected status (by any node).
    pub served: u64,
    /// A live node answered 5xx.
    pub live_5xx: u64,
    /// A live node answered another unexpected status.
    pub live_other_status: u64,
    /// The connection to a live node failed.
    pub live_connection_error: u64,
    /// A live node did not answer within the hang limit.
    pub live_hang: u64,
    /// Refused: the node was dead (killed, not yet listening again).
    pub dead_refused: u64,
    /// Cut or failed otherwise while (or because) the node was killed or restarting.
    pub dead_other_error: u64,
    /// An unexpected status from a node killed or restarting meanwhile.
    pub dead_status: u64,
    /// The slowest answer of a live node, in milliseconds.
    pub live_max_ms: u64,
}

impl Tally {
    /// Failures of live nodes (each one a bug).
    pub fn live_failures(&self) -> u64 {
        self.live_5xx + self.live_other_status + self.live_connection_error + self.live_hang
    }

    /// Failures of requests sent to dead (killed or restarting) nodes: expected.
    pub fn dead_failures(&self) -> u64 {
        self.dead_refused + self.dead_other_error + self.dead_status
    }
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    served: AtomicU64,
    live_5xx: AtomicU64,
    live_other_status: AtomicU64,
    live_connection_error: AtomicU64,
    live_hang: AtomicU64,
    dead_refused: AtomicU64,
    dead_other_error: AtomicU64,
    dead_status: AtomicU64,
    live_max_ms: AtomicU64,
    /// The first few live-node failures, described (node, what), for the report.
    samples: Mutex<Vec<String>>,
}

impl Counters {
    fn tally(&self) -> Tally {
        let g = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Tally {
            sent: g(&self.sent),
            served: g(&self.served),
            live_5xx: g(&self.live_5xx),
            live_other_status: g(&self.live_other_status),
            live_connection_error: g(&self.live_connection_error),
            live_hang: g(&self.live_hang),
            dead_refused: g(&self.dead_refused),
            dead_other_error: g(&self.dead_other_error),
            dead_status: g(&self.dead_status),
            live_max_ms: g(&self.live_max_ms),
        }
    }

    fn sample(&self, what: String) {
        let mut s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if s.len() < 20 {
            s.push(what);
        }
    }
}

/// What each request is.
#[derive(Debug, Clone)]
pub struct Request {
    /// Path and query after the node's URL (e.g. `/restapis/{id}/prod/_user_request_/pets`).
    pub path: String,
    /// Headers sent (e.g. the API key).
    pub headers: Vec<(String, String)>,
    /// The status every answer must have.
    pub expect: u16,
}

/// A running load.
pub struct Load {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` loops, each sending `request` to the nodes in turn (worker w starts
    /// at node w), pausing `pause` after each answer.
    pub fn start(targets: Arc<Targets>, request: Request, workers: usize, pause: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let request = Arc::new(request);
        let tasks = (0..workers)
            .map(|w| {
                let (targets, stop, counters, request) = (
                    Arc::clone(&targets),
                    Arc::clone(&stop),
                    Arc::clone(&counters),
                    Arc::clone(&request),
                );
                tokio::spawn(async move {
                    let mut i = w;
                    while !stop.load(Ordering::SeqCst) {
                        one(&targets, i % targets.len(), &request, &counters).await;
                        i += 1;
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        Load {
            stop,
            counters,
            tasks,
        }
    }

    /// What it saw so far.
    pub fn tally(&self) -> Tally {
        self.counters.tally()
    }

    /// The first live-node failures, described.
    pub fn samples(&self) -> Vec<String> {
        self.counters
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops it (waits for the requests in flight) and returns the final tally.
    pub async fn stop(&mut self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        self.tally()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Sends one request to node `i` and counts its outcome.
async fn one(targets: &Targets, i: usize, request: &Request, counters: &Counters) {
    let (live, generation, client) = targets.snapshot(i);
    let url = format!("{}{}", targets.targets[i].url, request.path);
    let mut req = client.get(&url);
    for (k, v) in &request.headers {
        req = req.header(k, v);
    }
    counters.sent.fetch_add(1, Ordering::SeqCst);
    let started = Instant::now();
    let result = async {
        let r = req.send().await?;
        let status = r.status().as_u16();
        let body = r.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    }
    .await;
    let took = started.elapsed();
    let live = live && targets.generation(i) == generation;
    let node = &targets.targets[i].url;
    let count = |a: &AtomicU64| {
        a.fetch_add(1, Ordering::SeqCst);
    };
    match result {
        Ok((status, _)) if status == request.expect => {
            count(&counters.served);
            if live {
                counters
                    .live_max_ms
                    .fetch_max(took.as_millis() as u64, Ordering::SeqCst);
            }
        }
        Ok((status, body)) if live => {
            if status >= 500 {
                count(&counters.live_5xx);
            } else {
                count(&counters.live_other_status);
            }
            counters.sample(format!(
                "{node}: {status} {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        Ok(_) => count(&counters.dead_status),
        Err(e) if live => {
            if e.is_timeout() {
                count(&counters.live_hang);
            } else {
                count(&counters.live_connection_error);
            }
            counters.sample(format!("{node}: after {took:?}: {e:?}"));
        }
        Err(e) if e.is_connect() => count(&counters.dead_refused),
        Err(_) => count(&counters.dead_other_error),
    }
}

/// The API a load targets: `GET /pets` (HTTP_PROXY to a backend, API key required) and
/// `GET /version` (MOCK, no key, answering `{"v": "$stageVariables.v"}`: which deployment
/// a node serves), in stage `prod`; a usage plan on the stage (no throttle, no quota:
/// every keyed request is admitted and counted) holding one enabled key.
#[derive(Debug, Clone)]
pub struct KeyedApi {
    /// The API's id.
    pub api: String,
    /// The usage plan's id.
    pub plan: String,
    /// The key's id.
    pub key_id: String,
    /// The key's value (`x-api-key`).
    pub key: String,
}

impl KeyedApi {
    /// Creates it through `m` and deploys `prod` with `v = "1"`.
    pub async fn create(m: &crate::Mgmt, backend_url: &str) -> Self {
        use crate::rest_api::{add_resource, method_path, mock_method, new_api, text};
        use serde_json::json;
        let (api, root) = new_api(m, "keyed-load").await;
        let pets = add_resource(m, &api, &root, "pets").await;
        let method = method_path(&api, &pets, "GET");
        m.put(
            &method,
            json!({"authorizationType": "NONE", "apiKeyRequired": true}),
        )
        .await
        .ok();
        m.put(
            &format!("{method}/integration"),
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{backend_url}/pets")}),
        )
        .await
        .ok();
        let version = add_resource(m, &api, &root, "version").await;
        mock_method(m, &api, &version, "GET", r#"{"v": "$stageVariables.v"}"#).await;
        let key = m
            .post("/apikeys", json!({"name": "load", "enabled": true}))
            .await
            .ok();
        let (key_id, key) = (text(&key["id"]), text(&key["value"]));
        let this = KeyedApi {
            api: api.clone(),
            plan: String::new(),
            key_id: key_id.clone(),
            key,
        };
        // The stage must exist before a plan names it.
        this.deploy(m, "1").await.expect("the first deployment");
        let plan = m
            .post(
                "/usageplans",
                json!({"name": "load", "apiStages": [{"apiId": api, "stage": "prod"}]}),
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
        KeyedApi { plan, ..this }
    }

    /// The keyed request the load sends: `GET /pets` with the key, expecting 200.
    pub fn request(&self) -> Request {
        Request {
            path: self.path("/pets"),
            headers: vec![("x-api-key".into(), self.key.clone())],
            expect: 200,
        }
    }

    /// The local-use invoke path of `path` in `prod`.
    pub fn path(&self, path: &str) -> String {
        format!("/restapis/{}/prod/_user_request_{path}", self.api)
    }

    /// Deploys `prod` with `v`; `Err` says why it did not happen (a control plane killed
    /// under the call, or its refusal).
    pub async fn deploy(&self, m: &crate::Mgmt, v: &str) -> Result<String, String> {
        let answer = m
            .try_call(
                "POST",
                &format!("/restapis/{}/deployments", self.api),
                Some(serde_json::json!({"stageName": "prod", "variables": {"v": v}})),
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
        if answer.status == 201 || answer.status == 200 {
            Ok(crate::rest_api::text(&answer.body["id"]))
        } else {
            Err(format!("{} {}", answer.status, answer.body))
        }
    }

    /// The `v` node `base` serves (`None`: no answer or not 200).
    pub async fn served_version(&self, base: &str) -> Option<String> {
        let r = reqwest::get(format!("{base}{}", self.path("/version")))
            .await
            .ok()?;
        if r.status() != 200 {
            return None;
        }
        let body: serde_json::Value = r.json().await.ok()?;
        body["v"].as_str().map(str::to_string)
    }

    /// Whether node `base` answers the keyed request with 200 (counted by the caller: it
    /// is metered).
    pub async fn keyed_ok(&self, base: &str) -> bool {
        reqwest::Client::new()
            .get(format!("{base}{}", self.path("/pets")))
            .header("x-api-key", &self.key)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    }

    /// The plan's usage today (GetUsage, every key) through `m`; `None` when the call
    /// fails.
    pub async fn usage_today(&self, m: &crate::Mgmt) -> Option<i64> {
        let d = time::OffsetDateTime::now_utc().date();
        let d = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        let answer = m
            .try_call(
                "GET",
                &format!("/usageplans/{}/usage?startDate={d}&endDate={d}", self.plan),
                None,
            )
            .await
            .ok()?;
        if answer.status != 200 {
            return None;
        }
        Some(
            answer.body["values"]
                .as_object()?
                .values()
                .flat_map(|days| days.as_array().cloned().unwrap_or_default())
                .map(|d| d[0].as_i64().unwrap_or(0))
                .sum(),
        )
    }
}
