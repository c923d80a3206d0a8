//! The data-plane side of monitoring (issue 15), end to end: two real nodes and a real
//! control plane serve a known mix of 200 / 4XX / 5XX / throttled / unrouted requests;
//! each node's Prometheus `/metrics` summed over both nodes equals what the clients saw;
//! per-method labels appear only once the stage's `*/*/metrics/enabled` is set and the
//! counters carry on across that config change; and the per-minute series each node
//! ships (here to an in-process `MetricsIngest` that fails every shipment's first
//! attempt, so each one is retried) add up to exactly the same counts, including what a
//! node still held when it was stopped with SIGTERM.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigw_e2e::invoke::get;
use apigw_e2e::{eventually, fresh_database, Backend, ControlPlane, DataPlane, RestApi};
use apigw_proto::metrics::metrics_ingest_server::{MetricsIngest, MetricsIngestServer};
use apigw_proto::metrics::{MetricsShipment, ShipmentAck};
use serde_json::json;

/// Every `Ship` call, and whether it was accepted. The first attempt of each
/// (node_instance, seq) fails with `UNAVAILABLE`.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(MetricsShipment, bool)>>,
}

struct Ingest(Arc<Recorder>);

#[tonic::async_trait]
impl MetricsIngest for Ingest {
    async fn ship(
        &self,
        request: tonic::Request<MetricsShipment>,
    ) -> Result<tonic::Response<ShipmentAck>, tonic::Status> {
        let shipment = request.into_inner();
        let seq = shipment.seq;
        let mut calls = self.0.calls.lock().unwrap();
        let seen = calls
            .iter()
            .any(|(s, _)| s.node_instance == shipment.node_instance && s.seq == shipment.seq);
        calls.push((shipment, seen));
        if !seen {
            return Err(tonic::Status::unavailable(
                "first attempts fail in this test",
            ));
        }
        Ok(tonic::Response::new(ShipmentAck { applied_seq: seq }))
    }
}

impl Recorder {
    /// (count, 4XX, 5XX, latency samples) accepted from `node_id` for `api`.
    fn totals(&self, node_id: &str, api: &str) -> (u64, u64, u64, u64) {
        let calls = self.calls.lock().unwrap();
        let mut t = (0, 0, 0, 0);
        for (s, _) in calls.iter().filter(|(s, ok)| *ok && s.node_id == node_id) {
            for m in s.series.iter().filter(|m| m.api_id == api) {
                t.0 += m.count;
                t.1 += m.error_4xx;
                t.2 += m.error_5xx;
                t.3 += m.latency.as_ref().map_or(0, |l| l.count);
            }
        }
        t
    }

    /// Every retry carried the same content as the failed attempt, and no shipment was
    /// accepted twice.
    fn check_retries(&self) {
        let calls = self.calls.lock().unwrap();
        let mut first: HashMap<(String, u64), &MetricsShipment> = HashMap::new();
        let mut accepted = HashMap::new();
        for (s, ok) in calls.iter() {
            let key = (s.node_instance.clone(), s.seq);
            match first.get(&key) {
                None => {
                    first.insert(key.clone(), s);
                }
                Some(earlier) => {
                    assert_eq!(*earlier, s, "seq {} retried with other content", s.seq)
                }
            }
            if *ok {
                *accepted.entry(key).or_insert(0) += 1;
            }
        }
        assert!(
            accepted.values().all(|n| *n == 1),
            "a shipment accepted twice"
        );
    }
}

async fn ingest_server() -> (Arc<Recorder>, String) {
    let recorder = Arc::new(Recorder::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = MetricsIngestServer::new(Ingest(Arc::clone(&recorder)));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (recorder, url)
}

/// One sample line of the text format: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (head, value) = line.rsplit_once(' ').expect("a sample line");
        let value: f64 = value.parse().expect("a sample value");
        let (name, labels) = match head.split_once('{') {
            None => (head.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("closing brace");
                let mut labels = BTreeMap::new();
                // Label values in this test contain no commas or escaped quotes.
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                    labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
        };
        out.push((name, labels, value));
    }
    out
}

async fn scrape(node: &DataPlane) -> Vec<Sample> {
    let got = get(&format!("{}/metrics", node.base()), &[]).await;
    assert_eq!(got.status, 200, "/metrics: {}", got.body);
    assert!(got
        .header("content-type")
        .starts_with("text/plain; version=0.0.4"));
    parse(&got.body)
}

/// Sum of `name` over every node's samples matching `filter`.
fn sum(
    samples: &[Vec<Sample>],
    name: &str,
    filter: impl Fn(&BTreeMap<String, String>) -> bool,
) -> f64 {
    samples
        .iter()
        .flatten()
        .filter(|(n, l, _)| n == name && filter(l))
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_metrics_add_up_exactly_in_prometheus_and_in_shipments() {
    let (recorder, ingest_url) = ingest_server().await;
    let backend = Backend::start("b").await;
    let db = fresh_database().await.unwrap();
    let cp = ControlPlane::start(&db).await;
    let m = cp.mgmt();
    let grpc = cp.grpc_url();
    // Node 0 ships every second; node 1 only at minute boundaries and when stopped.
    let env = |interval: &str| {
        vec![
            ("METRICS_URL", ingest_url.clone()),
            ("METRICS_SHIP_INTERVAL", interval.to_string()),
        ]
    };
    let mut nodes = vec![
        DataPlane::start_env(&grpc, "metrics-0", &env("1")).await,
        DataPlane::start_env(&grpc, "metrics-1", &env("3600")).await,
    ];

    let api = RestApi::create(&m, "metrics-api").await;
    let ok = api.resource(&api.root, "ok").await;
    api.method(
        &ok,
        "GET",
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    api.response(&ok, "GET", 200, json!({"selectionPattern": ""}))
        .await;
    for (part, status) in [("missing", 404), ("broken", 503)] {
        let id = api.resource(&api.root, part).await;
        api.method(
            &id,
            "GET",
            json!({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/status/{status}", backend.url())}),
        )
        .await;
    }
    let limited = api.resource(&api.root, "limited").await;
    api.method(
        &limited,
        "GET",
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    api.response(&limited, "GET", 200, json!({"selectionPattern": ""}))
        .await;
    apigw_e2e::rest_api::deploy(&m, &api.id, "prod", json!({})).await;
    m.patch(
        &format!("/restapis/{}/stages/prod", api.id),
        json!([
            {"op": "replace", "path": "/~1limited/GET/throttling/rateLimit", "value": "0.01"},
            {"op": "replace", "path": "/~1limited/GET/throttling/burstLimit", "value": "1"},
        ]),
    )
    .await
    .ok();
    for node in &nodes {
        node.wait_ready().await;
    }
    let urls = |path: &str| -> Vec<String> {
        nodes
            .iter()
            .map(|n| n.invoke_url(&api.id, "prod", path))
            .collect()
    };
    apigw_e2e::invoke::until_status(&urls("/ok"), &[], 200).await;
    // Wait until both nodes throttle /limited (the stage update has reached them).
    for url in urls("/limited") {
        eventually("the throttle applies", Duration::from_secs(20), || async {
            (get(&url, &[]).await.status == 429).then_some(())
        })
        .await;
    }

    // Everything so far (readiness probes, warm-up) is counted too; start from what the
    // nodes report now and add what the clients see from here on.
    let before: Vec<Vec<Sample>> = vec![scrape(&nodes[0]).await, scrape(&nodes[1]).await];
    let ours = |l: &BTreeMap<String, String>| l.get("api_id") == Some(&api.id);
    let status_before = |status: u16| {
        sum(&before, "apigw_requests_total", |l| {
            ours(l) && l.get("status").map(String::as_str) == Some(&status.to_string())
        })
    };

    let mix = [
        ("/ok", 7),
        ("/missing", 3),
        ("/broken", 2),
        ("/limited", 3),
        ("/nowhere", 2),
    ];
    let mut seen: BTreeMap<u16, u64> = BTreeMap::new();
    for (path, n) in mix {
        for i in 0..n {
            let got = get(&nodes[i % 2].invoke_url(&api.id, "prod", path), &[]).await;
            *seen.entry(got.status).or_default() += 1;
        }
    }
    assert_eq!(seen.get(&200), Some(&7));
    assert_eq!(seen.get(&404), Some(&3));
    assert_eq!(seen.get(&503), Some(&2));
    assert_eq!(seen.get(&429), Some(&3), "every /limited request throttled");
    assert_eq!(
        seen.get(&403),
        Some(&2),
        "unrouted: MissingAuthenticationToken"
    );

    let after: Vec<Vec<Sample>> = vec![scrape(&nodes[0]).await, scrape(&nodes[1]).await];
    for (status, n) in &seen {
        let counted = sum(&after, "apigw_requests_total", |l| {
            ours(l) && l.get("status").map(String::as_str) == Some(&status.to_string())
        }) - status_before(*status);
        assert_eq!(counted, *n as f64, "status {status}");
        // The latency histograms carry the status label too.
        let of_status = |l: &BTreeMap<String, String>| {
            ours(l) && l.get("status").map(String::as_str) == Some(&status.to_string())
        };
        let timed = sum(&after, "apigw_latency_seconds_count", of_status)
            - sum(&before, "apigw_latency_seconds_count", of_status);
        assert_eq!(timed, *n as f64, "latency histogram of status {status}");
    }
    let total_before = sum(&before, "apigw_latency_seconds_count", ours);
    let total_after = sum(&after, "apigw_latency_seconds_count", ours);
    assert_eq!(
        total_after - total_before,
        17.0,
        "latency histogram counts every request"
    );
    let throttled = |s: &[Vec<Sample>]| {
        sum(s, "apigw_gateway_responses_total", |l| {
            ours(l) && l.get("type").map(String::as_str) == Some("THROTTLED")
        })
    };
    assert_eq!(throttled(&after) - throttled(&before), 3.0);
    let unrouted = |s: &[Vec<Sample>]| {
        sum(s, "apigw_gateway_responses_total", |l| {
            ours(l) && l.get("type").map(String::as_str) == Some("MISSING_AUTHENTICATION_TOKEN")
        })
    };
    assert_eq!(unrouted(&after) - unrouted(&before), 2.0);
    // Integration latency only for requests that reached an integration (not the 429s,
    // not the unrouted ones).
    let integration = |s: &[Vec<Sample>]| sum(s, "apigw_integration_latency_seconds_count", ours);
    assert_eq!(integration(&after) - integration(&before), 12.0);
    assert!(
        after
            .iter()
            .flatten()
            .all(|(_, l, _)| !l.contains_key("method") && !l.contains_key("resource")),
        "no per-method labels before detailed metrics are enabled"
    );
    for node in &after {
        assert!(node
            .iter()
            .any(|(n, _, v)| n == "apigw_config_version" && *v > 0.0));
        assert!(node
            .iter()
            .any(|(n, _, v)| n == "apigw_open_connections" && *v >= 1.0));
    }

    // Detailed metrics: enabled by update-stage, then redeployed.
    m.patch(
        &format!("/restapis/{}/stages/prod", api.id),
        json!([{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}]),
    )
    .await
    .ok();
    apigw_e2e::rest_api::deploy(&m, &api.id, "prod", json!({})).await;
    for node in &nodes {
        let url = node.invoke_url(&api.id, "prod", "/ok");
        eventually(
            "detailed series on the node",
            Duration::from_secs(20),
            || async {
                assert_eq!(get(&url, &[]).await.status, 200);
                scrape(node)
                    .await
                    .iter()
                    .any(|(n, l, _)| {
                        n == "apigw_requests_total"
                            && l.get("resource").map(String::as_str) == Some("/ok")
                    })
                    .then_some(())
            },
        )
        .await;
    }
    let stage_level = |s: &[Vec<Sample>]| {
        sum(s, "apigw_requests_total", |l| {
            ours(l) && !l.contains_key("resource")
        })
    };
    let ok_detailed = |s: &[Vec<Sample>]| {
        sum(s, "apigw_requests_total", |l| {
            ours(l)
                && l.get("resource").map(String::as_str) == Some("/ok")
                && l.get("method").map(String::as_str) == Some("GET")
        })
    };
    let mid: Vec<Vec<Sample>> = vec![scrape(&nodes[0]).await, scrape(&nodes[1]).await];
    for i in 0..4 {
        assert_eq!(
            get(&nodes[i % 2].invoke_url(&api.id, "prod", "/ok"), &[])
                .await
                .status,
            200
        );
    }
    let last: Vec<Vec<Sample>> = vec![scrape(&nodes[0]).await, scrape(&nodes[1]).await];
    assert_eq!(ok_detailed(&last) - ok_detailed(&mid), 4.0);
    assert_eq!(
        stage_level(&last),
        stage_level(&mid),
        "detailed requests leave the stage series"
    );
    assert!(
        stage_level(&last) >= stage_level(&after),
        "counters stay monotonic across configs"
    );

    // Shipments: everything each node counted (its Prometheus total: no request was sent
    // after the last scrape) arrives, though every shipment's first attempt failed. Node 0
    // ships every second.
    let api_id = api.id.clone();
    let counted = |node: usize| -> u64 {
        sum(&last[node..=node], "apigw_latency_seconds_count", ours) as u64
    };
    let expect0 = counted(0);
    eventually(
        "node 0's shipments add up",
        Duration::from_secs(30),
        || async { (recorder.totals("metrics-0", &api_id).0 == expect0).then_some(()) },
    )
    .await;
    // Node 1 ships at minute boundaries and when it stops: SIGTERM, then everything.
    let expect1 = counted(1);
    nodes[1].stop().await;
    let t1 = recorder.totals("metrics-1", &api_id);
    assert_eq!(
        t1.0, expect1,
        "node 1 shipped everything by the time it exited"
    );
    assert_eq!(t1.3, expect1, "one latency sample per request");
    let t0 = recorder.totals("metrics-0", &api_id);
    assert_eq!(
        t0.1 + t1.1,
        (sum(&last, "apigw_requests_total", |l| {
            ours(l) && l.get("status").is_some_and(|s| s.starts_with('4'))
        })) as u64
    );
    assert_eq!(
        t0.2 + t1.2,
        (sum(&last, "apigw_requests_total", |l| {
            ours(l) && l.get("status").is_some_and(|s| s.starts_with('5'))
        })) as u64
    );
    recorder.check_retries();
    let calls = recorder.calls.lock().unwrap();
    assert!(
        calls.iter().any(|(s, ok)| !ok && s.node_id == "metrics-0"),
        "a failed attempt was retried"
    );
    let detailed_shipped = calls
        .iter()
        .filter(|(_, ok)| *ok)
        .flat_map(|(s, _)| &s.series)
        .filter(|m| m.api_id == api_id && m.resource == "/ok" && m.method == "GET")
        .map(|m| m.count)
        .sum::<u64>();
    assert!(
        detailed_shipped >= 4,
        "detailed series are shipped with their resource and method"
    );
    assert!(calls
        .iter()
        .flat_map(|(s, _)| &s.series)
        .filter(|m| m.api_id == api_id)
        .all(|m| m.api_name == "metrics-api" && m.stage == "prod" && m.minute % 60 == 0));
}
