//! The scale generator (issue 22): deploys N REST APIs through the management API, and the
//! probes that measure a cluster holding them. Used by `tests/tests/scale.rs` (N = 1,000 in
//! CI, correctness only) and by the `scale` binary (`cargo run -p apigw-e2e --bin scale`,
//! the measurements; docs/scale.md).
//!
//! Each API is one ImportRestApi of an OpenAPI 3.0 document ([`openapi_doc`]: 20
//! resources, a method on each, MOCK integrations, mapping templates on half of them),
//! one CreateDeployment to `prod` and one CreateUsagePlan naming that stage: three
//! management calls per API, `concurrency` APIs at a time.

use std::time::{Duration, Instant};

use futures::{stream, StreamExt};
use serde_json::{json, Map, Value};

use crate::rest_api::text;
use crate::Mgmt;

/// The stage every generated API is deployed to.
pub const STAGE: &str = "prod";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// How many APIs.
    pub apis: usize,
    /// Resources per API (methods on each); rounded up to an even number (pairs of
    /// `/rK` and `/rK/{id}`).
    pub resources: usize,
    /// APIs being created at once.
    pub concurrency: usize,
    /// Names are `{prefix}-{index}`.
    pub prefix: String,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            apis: 10_000,
            resources: 20,
            concurrency: 8,
            prefix: "scale".into(),
        }
    }
}

/// One generated API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Its index in the spec (`0..apis`).
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: String,
    /// Its usage plan's id.
    pub plan: String,
}

/// What [`generate`] did, with the time of each call kind.
#[derive(Debug, Default)]
pub struct Generated {
    /// The APIs, by index.
    pub apis: Vec<Api>,
    /// ImportRestApi's durations.
    pub import: Vec<Duration>,
    /// CreateDeployment's durations.
    pub deploy: Vec<Duration>,
    /// CreateUsagePlan's durations.
    pub plan: Vec<Duration>,
    /// Wall time of the whole generation.
    pub total: Duration,
}

/// The resource paths of an API with `resources` resources: `/r0`, `/r0/{id}`, `/r1`, ...
pub fn resource_paths(resources: usize) -> Vec<String> {
    (0..resources.div_ceil(2))
        .flat_map(|k| [format!("/r{k}"), format!("/r{k}/{{id}}")])
        .collect()
}

/// The path requested of a generated API to check it is served, and the text its answer
/// holds: `/r0` answers with its name and the stage variable `mark`.
pub fn probe_path() -> &'static str {
    "/r0"
}

/// The OpenAPI 3.0 document of API `name`: `resources` resources, each with a MOCK `GET`
/// (every `/rK` also a MOCK `POST`). Every `/rK`'s `GET` has a response template (`/r0`'s
/// names the API and the stage variable `mark`), every `/rK/{id}`'s `GET` maps the path
/// parameter; the `POST`s pass through.
pub fn openapi_doc(name: &str, resources: usize) -> String {
    let mut paths = Map::new();
    for (i, path) in resource_paths(resources).into_iter().enumerate() {
        let mock = |template: Option<String>| {
            let mut response = json!({"statusCode": "200"});
            if let Some(t) = template {
                response["responseTemplates"] = json!({ "application/json": t });
            }
            json!({
                "type": "mock",
                "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "passthroughBehavior": "when_no_match",
                "responses": {"default": response}
            })
        };
        let mut item = Map::new();
        if i % 2 == 0 {
            let template = if i == 0 {
                format!(
                    "{{\"api\": \"{name}\", \"mark\": \"$stageVariables.mark\", \"path\": \"$context.resourcePath\"}}"
                )
            } else {
                "{\"path\": \"$context.resourcePath\", \"request\": \"$context.requestId\"}"
                    .to_string()
            };
            item.insert(
                "get".into(),
                json!({
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": mock(Some(template)),
                }),
            );
            item.insert(
                "post".into(),
                json!({
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": mock(None),
                }),
            );
        } else {
            item.insert(
                "get".into(),
                json!({
                    "parameters": [{"name": "id", "in": "path", "required": true,
                                    "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": mock(Some(
                        "#set($id = $input.params('id')){\"id\": \"$util.escapeJavaScript($id)\"}"
                            .to_string()
                    )),
                }),
            );
        }
        paths.insert(path, Value::Object(item));
    }
    json!({
        "openapi": "3.0.1",
        "info": {"title": name, "version": "1"},
        "paths": paths,
    })
    .to_string()
}

/// Panics with the call's answer unless it succeeded; returns the body.
fn ok(what: &str, answer: crate::mgmt::Answer) -> Value {
    assert!(
        (200..300).contains(&answer.status),
        "{what}: {} {:?}: {}",
        answer.status,
        answer.error_type,
        answer.body
    );
    answer.body
}

/// Creates API `index` of `spec`: import, deployment (stage variable `mark` = `0`), usage
/// plan. Returns it with the three calls' durations.
pub async fn create_one(m: &Mgmt, spec: &Spec, index: usize) -> (Api, [Duration; 3]) {
    let name = format!("{}-{index}", spec.prefix);
    let doc = openapi_doc(&name, spec.resources);
    let t = Instant::now();
    let api = ok(
        &format!("ImportRestApi {name}"),
        m.call_raw(
            "POST",
            "/restapis?mode=import&failonwarnings=true",
            doc.as_bytes(),
            "application/json",
        )
        .await,
    );
    let import = t.elapsed();
    let id = text(&api["id"]);
    let t = Instant::now();
    ok(
        &format!("CreateDeployment {name}"),
        m.post(
            &format!("/restapis/{id}/deployments"),
            json!({"stageName": STAGE, "variables": {"mark": "0"}}),
        )
        .await,
    );
    let deploy = t.elapsed();
    let t = Instant::now();
    let plan = ok(
        &format!("CreateUsagePlan {name}"),
        m.post(
            "/usageplans",
            json!({
                "name": name,
                "apiStages": [{"apiId": id, "stage": STAGE}],
                "throttle": {"rateLimit": 1000.0, "burstLimit": 2000},
                "quota": {"limit": 1_000_000, "period": "DAY"},
            }),
        )
        .await,
    );
    let plan_time = t.elapsed();
    (
        Api {
            index,
            name,
            id,
            plan: text(&plan["id"]),
        },
        [import, deploy, plan_time],
    )
}

/// Creates the APIs `indices` of `spec` (all: `0..spec.apis`), `spec.concurrency` at a
/// time; `progress` is called with the number done every 10 %.
pub async fn generate(
    m: &Mgmt,
    spec: &Spec,
    indices: std::ops::Range<usize>,
    progress: impl Fn(usize),
) -> Generated {
    let start = Instant::now();
    let mut out = Generated::default();
    let step = (indices.len() / 10).max(1);
    let mut created = stream::iter(indices)
        .map(|i| create_one(m, spec, i))
        .buffer_unordered(spec.concurrency.max(1));
    while let Some((api, [import, deploy, plan])) = created.next().await {
        out.apis.push(api);
        out.import.push(import);
        out.deploy.push(deploy);
        out.plan.push(plan);
        if out.apis.len() % step == 0 {
            progress(out.apis.len());
        }
    }
    out.apis.sort_by_key(|a| a.index);
    out.total = start.elapsed();
    out
}

/// Deploys `api` again with the stage variable `mark` set to `mark` (its `/r0` then
/// answers with it): one more deployment, one changed stage. Returns the call's duration.
pub async fn redeploy(m: &Mgmt, api: &Api, mark: &str) -> Duration {
    let t = Instant::now();
    ok(
        &format!("CreateDeployment {}", api.name),
        m.post(
            &format!("/restapis/{}/deployments", api.id),
            json!({"stageName": STAGE, "variables": {"mark": mark}}),
        )
        .await,
    );
    t.elapsed()
}

/// The invoke URL of `path` of `api` on the node at `base` (`http://127.0.0.1:port`).
pub fn invoke_url(base: &str, api: &Api, path: &str) -> String {
    format!("{base}/restapis/{}/{STAGE}/_user_request_{path}", api.id)
}

/// Whether `body` is `/r0`'s answer of `api` with `mark`.
pub fn is_marked(body: &str, api: &Api, mark: &str) -> bool {
    body.contains(&format!("\"api\": \"{}\"", api.name))
        && body.contains(&format!("\"mark\": \"{mark}\""))
}

/// A request of every API's resource `index % resources` on the node at `base`
/// (`concurrency` at a time); returns the APIs that did not answer as expected, with
/// what they answered.
pub async fn unserved<'a>(
    http: &reqwest::Client,
    base: &str,
    apis: &'a [Api],
    resources: usize,
    concurrency: usize,
) -> Vec<(&'a Api, String)> {
    let paths = resource_paths(resources);
    stream::iter(apis)
        .map(|api| {
            let path = paths[api.index % paths.len()].replace("{id}", "x7");
            let url = invoke_url(base, api, &path);
            async move {
                let answer = match http.get(&url).send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        (status, r.text().await.unwrap_or_default())
                    }
                    Err(e) => (0, e.to_string()),
                };
                let expected = if path == "/r0" {
                    answer.1.contains(&format!("\"api\": \"{}\"", api.name))
                } else if path.ends_with("/x7") {
                    answer.1.contains("\"id\": \"x7\"")
                } else {
                    answer.1.contains(&format!("\"path\": \"{path}\""))
                };
                (answer.0 != 200 || !expected)
                    .then(|| (api, format!("{url}: {} {}", answer.0, answer.1)))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(|x| async move { x })
        .collect()
        .await
}

/// Waits until every API of `apis` is served on the node at `base` (only the ones still
/// missing are asked again, every 100 ms), or panics after `limit` naming what is missing.
pub async fn wait_all_served(
    http: &reqwest::Client,
    base: &str,
    apis: &[Api],
    resources: usize,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    let mut missing: Vec<Api> = apis.to_vec();
    loop {
        let still = unserved(http, base, &missing, resources, 16).await;
        if still.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "after {limit:?}, {} APIs not served on {base}, e.g. {}",
                still.len(),
                still[0].1
            );
        }
        missing = still.into_iter().map(|(a, _)| a.clone()).collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `/r0` of `api` on the node at `base` every `every` until it answers with `mark`;
/// returns the time since `since`.
pub async fn time_until_marked(
    http: &reqwest::Client,
    base: &str,
    api: &Api,
    mark: &str,
    since: Instant,
    every: Duration,
    limit: Duration,
) -> Duration {
    let url = invoke_url(base, api, probe_path());
    loop {
        if let Ok(r) = http.get(&url).send().await {
            if let Ok(body) = r.text().await {
                if is_marked(&body, api, mark) {
                    return since.elapsed();
                }
            }
        }
        if since.elapsed() > limit {
            panic!(
                "{base} did not serve mark {mark} of {} in {limit:?}",
                api.name
            );
        }
        tokio::time::sleep(every).await;
    }
}

/// A node's `/metrics` value of the unlabelled series `name` (`None` when absent).
pub async fn node_metric(http: &reqwest::Client, base: &str, name: &str) -> Option<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    metric_value(&text, name)
}

/// The value of the unlabelled series `name` in a Prometheus text exposition.
pub fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The resident set size of process `pid` in bytes (Linux `/proc`), or 0.
pub fn rss_bytes(pid: u32) -> u64 {
    proc_status_bytes(pid, "VmRSS:")
}

/// The most resident memory `pid` has had (`VmHWM`), in bytes (0 when unreadable).
pub fn peak_rss_bytes(pid: u32) -> u64 {
    proc_status_bytes(pid, "VmHWM:")
}

fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The `p`-th percentile (0–100, nearest rank) of `samples`.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut s = samples.to_vec();
    s.sort();
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// `p50 / p99 / max` of `samples` in milliseconds, for a report line.
pub fn summary(samples: &[Duration]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
        ms(percentile(samples, 50.0)),
        ms(percentile(samples, 99.0)),
        ms(samples.iter().max().copied().unwrap_or_default()),
        samples.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_have_the_resources_asked_for() {
        let doc: Value = serde_json::from_str(&openapi_doc("a", 20)).expect("JSON");
        assert_eq!(doc["paths"].as_object().map(Map::len), Some(20));
        assert!(doc["paths"]["/r0"]["get"].is_object());
        assert!(doc["paths"]["/r9/{id}"]["get"].is_object());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&s, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&s[..1], 99.0), Duration::from_millis(1));
    }

    #[test]
    fn metric_values_are_read_by_exact_name() {
        let text = "# HELP x y\napigw_config_version 12\napigw_config_version_x 3\n";
        assert_eq!(metric_value(text, "apigw_config_version"), Some(12.0));
        assert_eq!(metric_value(text, "nope"), None);
    }
}
