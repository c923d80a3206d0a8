//! The cluster's per-minute metrics, end to end: data-plane nodes count what they serve and
//! ship it to the control plane (`MetricsIngest.Ship`), which merges it into Postgres. The
//! series are read back through `store::metrics::series`, the function CloudWatch's API
//! answers from, on the test's own database.
//!
//! - `shipments_are_applied_once_and_bad_ones_refused`: raw tonic client, no node: a replayed
//!   shipment counts once, an old seq answers the current one, bad input is
//!   `InvalidArgument` with a message.
//! - `cluster_counts_are_exact_through_a_kill_and_a_control_plane_restart`: two nodes, a
//!   known mix of 200 / 4XX / 5XX; exact counts; Latency percentiles within the sketch's
//!   1 % of what the backend and the client bound; a node SIGKILLed loses at most what it had
//!   not shipped; a control-plane restart while the nodes keep serving neither loses nor
//!   double-counts; with detailed metrics on, requests move to their method's series and
//!   the stage's and API's series still count every one.

use std::time::{Duration, Instant};

use apigw_control_plane::store::metrics::{self as m, Bucket, SeriesFilter, SeriesQuery};
use apigw_e2e::{eventually, fresh_database, Backend, Cluster, ControlPlane, DataPlane, RestApi};
use apigw_proto::metrics as pb;
use apigw_proto::metrics::metrics_ingest_client::MetricsIngestClient;
use apigw_sketch::Sketch;
use serde_json::json;
use sqlx::PgPool;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Everything stored for the API (or every API when `api_id` is `None`) since `from`,
/// summed over minutes: (count, 4XX, 5XX, latency, integration latency).
#[derive(Debug, Default, Clone)]
struct Totals {
    count: u64,
    e4: u64,
    e5: u64,
    latency: Sketch,
    integration_latency: Sketch,
}

async fn totals(db: &PgPool, q: SeriesQuery) -> Totals {
    let buckets: Vec<Bucket> = m::series(db, &q).await.expect("reading the series");
    let mut t = Totals::default();
    for b in buckets {
        t.count += b.count;
        t.e4 += b.error_4xx;
        t.e5 += b.error_5xx;
        t.latency.merge(&b.latency);
        t.integration_latency.merge(&b.integration_latency);
    }
    t
}

fn whole_range(api_id: Option<&str>, from: i64) -> SeriesQuery {
    stage_range(api_id, None, from)
}

fn stage_range(api_id: Option<&str>, stage: Option<&str>, from: i64) -> SeriesQuery {
    SeriesQuery {
        api_id: api_id.map(str::to_string),
        stage: stage.map(str::to_string),
        start: from - from.rem_euclid(60) - 120,
        end: unix_now() + 600,
        period_seconds: 60,
        ..SeriesQuery::default()
    }
}

fn minute_series(minute: i64, count: u64, e4: u64, e5: u64, ms: &[f64]) -> pb::MinuteSeries {
    let mut s = Sketch::new();
    for &v in ms {
        s.record(v);
    }
    pb::MinuteSeries {
        minute,
        api_id: "a1b2c3".into(),
        api_name: "Replayed".into(),
        stage: "prod".into(),
        count,
        error_4xx: e4,
        error_5xx: e5,
        latency: Some(s.to_proto()),
        integration_latency: Some(s.to_proto()),
        ..pb::MinuteSeries::default()
    }
}

#[tokio::test]
async fn shipments_are_applied_once_and_bad_ones_refused() {
    let db_url = fresh_database().await.expect("a test database");
    let cp = ControlPlane::start(&db_url).await;
    let db = PgPool::connect(&db_url).await.expect("the test database");
    let mut client = MetricsIngestClient::connect(cp.grpc_url())
        .await
        .expect("connecting to MetricsIngest");
    let now = unix_now();
    let minute = now - now.rem_euclid(60);
    let instance = uuid::Uuid::new_v4().to_string();
    let shipment = |seq: u64, series: Vec<pb::MinuteSeries>| pb::MetricsShipment {
        node_id: "raw".into(),
        node_instance: instance.clone(),
        seq,
        series,
    };
    let first = shipment(
        1,
        vec![
            minute_series(minute - 60, 10, 3, 1, &[12.0; 10]),
            minute_series(minute, 5, 0, 5, &[40.0; 5]),
        ],
    );
    for _ in 0..2 {
        let ack = client.ship(first.clone()).await.expect("Ship").into_inner();
        assert_eq!(ack.applied_seq, 1);
    }
    let second = shipment(2, vec![minute_series(minute, 2, 1, 0, &[80.0; 2])]);
    assert_eq!(
        client
            .ship(second.clone())
            .await
            .expect("Ship")
            .into_inner()
            .applied_seq,
        2
    );
    // A late retry of seq 1 changes nothing and answers the current seq.
    assert_eq!(
        client
            .ship(first)
            .await
            .expect("Ship")
            .into_inner()
            .applied_seq,
        2
    );
    assert_eq!(
        client
            .ship(second)
            .await
            .expect("Ship")
            .into_inner()
            .applied_seq,
        2
    );
    let t = totals(&db, whole_range(Some("a1b2c3"), now)).await;
    assert_eq!((t.count, t.e4, t.e5), (17, 4, 6));
    assert_eq!(t.latency.count(), 17);
    let p99 = t.latency.quantile(0.99).expect("a p99");
    assert!((p99 - 80.0).abs() <= 0.8, "p99 {p99}");

    // Bad shipments: InvalidArgument, saying why; nothing stored.
    let bad = [
        (
            pb::MetricsShipment {
                node_instance: "not-a-uuid".into(),
                ..shipment(3, vec![])
            },
            "not a UUID",
        ),
        (shipment(0, vec![]), "seq 0"),
        (
            shipment(3, vec![minute_series(minute + 7, 1, 0, 0, &[1.0])]),
            "multiple of 60",
        ),
        (
            shipment(3, vec![minute_series(minute - 3 * 86_400, 1, 0, 0, &[1.0])]),
            "in the past",
        ),
        (
            shipment(3, {
                let mut s = minute_series(minute, 1, 0, 0, &[1.0]);
                s.method = "GET".into();
                vec![s]
            }),
            "both set",
        ),
        (
            shipment(3, {
                let mut s = minute_series(minute, 1, 0, 0, &[1.0]);
                if let Some(l) = s.latency.as_mut() {
                    l.bin_count.clear();
                }
                vec![s]
            }),
            "bin",
        ),
    ];
    for (shipment, says) in bad {
        let status = client.ship(shipment).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains(says), "{status:?} says {says:?}");
    }
    let t = totals(&db, whole_range(Some("a1b2c3"), now)).await;
    assert_eq!(t.count, 17, "refused shipments store nothing");

    // What one realistic shipment (50 series) costs through gRPC and Postgres: printed for
    // the record, never asserted.
    let runs = 20u64;
    let started = Instant::now();
    for seq in 3..3 + runs {
        let series = (0..50)
            .map(|i| {
                let mut s = minute_series(minute - 60 * (i % 2), 4, 1, 0, &[3.0, 9.0, 27.0, 81.0]);
                s.api_id = format!("speed{}", i / 2);
                s
            })
            .collect();
        let ack = client.ship(shipment(seq, series)).await.expect("Ship");
        assert_eq!(ack.into_inner().applied_seq, seq);
    }
    eprintln!(
        "one 50-series Ship: {:?} on average over {runs}",
        started.elapsed() / runs as u32
    );
    let t = totals(&db, whole_range(None, now)).await;
    assert_eq!(t.count, 17 + runs * 50 * 4);
}

/// The test's requests: what it sent to whom, and what it must find in the series.
#[derive(Debug, Default)]
struct Sent {
    count: u64,
    e4: u64,
    e5: u64,
    /// The longest round trip the client saw (ms): no Latency can be above it.
    max_ms: f64,
}

impl Sent {
    async fn get(&mut self, url: &str) -> u16 {
        let started = Instant::now();
        let status = apigw_e2e::invoke::get(url, &[]).await.status;
        self.max_ms = self.max_ms.max(started.elapsed().as_secs_f64() * 1000.0);
        self.count += 1;
        match status {
            400..=499 => self.e4 += 1,
            500..=599 => self.e5 += 1,
            _ => {}
        }
        status
    }

    fn add(&mut self, other: &Sent) {
        self.count += other.count;
        self.e4 += other.e4;
        self.e5 += other.e5;
        self.max_ms = self.max_ms.max(other.max_ms);
    }
}

/// What the backend sleeps on a slow request (ms): a floor for their Latency.
const SLOW_MS: u64 = 25;

/// Sends the mix to `node`'s stage `prod`: `slow` × 200 after SLOW_MS, `e4` × 404 and
/// `e5` × 503.
async fn mix(node: &DataPlane, api: &str, slow: usize, e4: usize, e5: usize) -> Sent {
    mix_on(node, api, "prod", slow, e4, e5).await
}

/// [`mix`] on `stage`.
async fn mix_on(
    node: &DataPlane,
    api: &str,
    stage: &str,
    slow: usize,
    e4: usize,
    e5: usize,
) -> Sent {
    let mut sent = Sent::default();
    for i in 0..slow.max(e4).max(e5) {
        if i < slow {
            let s = sent
                .get(&node.invoke_url(api, stage, &format!("/slow/{SLOW_MS}")))
                .await;
            assert_eq!(s, 200, "a slow request");
        }
        if i < e4 {
            assert_eq!(
                sent.get(&node.invoke_url(api, stage, "/status/404")).await,
                404
            );
        }
        if i < e5 {
            assert_eq!(
                sent.get(&node.invoke_url(api, stage, "/status/503")).await,
                503
            );
        }
    }
    sent
}

/// Polls until the stored totals for `api`'s stage `prod` equal `want` (the nodes ship
/// every 10 s).
async fn until_exact(db: &PgPool, api: &str, from: i64, want: &Sent, what: &str) -> Totals {
    until_exact_on(db, api, "prod", from, want, what).await
}

/// [`until_exact`] for `stage`.
async fn until_exact_on(
    db: &PgPool,
    api: &str,
    stage: &str,
    from: i64,
    want: &Sent,
    what: &str,
) -> Totals {
    let mut last = Totals::default();
    let found = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            last = totals(db, stage_range(Some(api), Some(stage), from)).await;
            if (last.count, last.e4, last.e5) == (want.count, want.e4, want.e5) {
                return last.clone();
            }
            assert!(
                last.count <= want.count,
                "{what}: stored {last:?} is more than was sent {want:?}: double-counted"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("{what}: stored {last:?}, sent {want:?}"))
}

/// Deploys `ANY /{proxy+}` → the backend to stages `prod` and `kill`, and waits until every
/// node serves `prod` and node 1 `kill` (each answered warm-up request is counted in
/// `sent[node]` for `prod`, in `kill` for `kill`).
async fn proxy_api(c: &Cluster, backend: &Backend, sent: &mut [Sent], kill: &mut Sent) -> String {
    let m = c.cp.mgmt();
    let api = RestApi::create(&m, "MetricsApi").await;
    let proxy = api.resource(&api.root, "{proxy+}").await;
    api.method(
        &proxy,
        "ANY",
        json!({
            "type": "HTTP_PROXY", "httpMethod": "ANY",
            "uri": format!("{}/{{proxy}}", backend.url()),
            "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}
        }),
    )
    .await;
    api.deploy("prod", json!({})).await;
    api.deploy("kill", json!({})).await;
    let targets = c
        .nodes
        .iter()
        .map(|n| (n, "prod"))
        .chain([(&c.nodes[1], "kill")]);
    let counters = sent.iter_mut().chain([kill]);
    for ((node, stage), sent) in targets.zip(counters) {
        let url = node.invoke_url(&api.id, stage, &format!("/slow/{SLOW_MS}"));
        eventually(
            "the node serves the API",
            Duration::from_secs(30),
            || async {
                // Until the node has the stage it answers without an API to count under.
                let ok = apigw_e2e::invoke::get(&url, &[]).await.status == 200;
                ok.then_some(())
            },
        )
        .await;
        // That 200 was counted by the node; account for it as a slow request.
        sent.count += 1;
    }
    api.id
}

#[tokio::test]
async fn cluster_counts_are_exact_through_a_kill_and_a_control_plane_restart() {
    let from = unix_now();
    let mut c = Cluster::start(2).await;
    let backend = Backend::start("metrics").await;
    let db = PgPool::connect(&c.cp.database_url)
        .await
        .expect("the test database");
    let mut sent = [Sent::default(), Sent::default()];
    let mut kill_stage = Sent::default();
    let api = proxy_api(&c, &backend, &mut sent, &mut kill_stage).await;

    // 1. A known mix on both nodes: exact counts, percentiles within the sketch's error.
    let a = mix(&c.nodes[0], &api, 30, 10, 5).await;
    let b = mix(&c.nodes[1], &api, 25, 7, 8).await;
    sent[0].add(&a);
    sent[1].add(&b);
    let mut all = Sent::default();
    all.add(&sent[0]);
    all.add(&sent[1]);
    let t = until_exact(&db, &api, from, &all, "the mix on two nodes").await;
    until_exact_on(&db, &api, "kill", from, &kill_stage, "node 1's warm-up").await;
    assert_eq!(t.latency.count(), all.count, "one Latency per request");
    // 57 of the 87 requests slept SLOW_MS at the backend: the median and the 99th
    // percentile are at least that (less the sketch's 1 %), and none above the slowest
    // round trip the client saw (plus 1 %).
    let slow = 30 + 25 + 2;
    assert!(slow * 2 > all.count, "the slow requests are the majority");
    for q in [0.5, 0.99] {
        let v = t.latency.quantile(q).expect("a quantile");
        assert!(
            v >= SLOW_MS as f64 * 0.99 && v <= all.max_ms * 1.01,
            "Latency p{} = {v} ms, outside [{SLOW_MS}, {}]",
            q * 100.0,
            all.max_ms
        );
        let iv = t
            .integration_latency
            .quantile(q)
            .expect("an integration quantile");
        assert!(
            iv >= SLOW_MS as f64 * 0.99 && iv <= v * 1.01,
            "IntegrationLatency p{} = {iv} ms",
            q * 100.0
        );
    }

    // 2. Node 1 is SIGKILLed right after a burst on stage `kill` it has not shipped yet:
    //    at most that burst is lost, and what it shipped before stays.
    let burst = mix_on(&c.nodes[1], &api, "kill", 5, 3, 2).await;
    c.nodes[1].kill().await;
    // Node 0 keeps serving and its requests keep arriving exactly.
    let more = mix(&c.nodes[0], &api, 6, 2, 1).await;
    all.add(&more);
    until_exact(&db, &api, from, &all, "node 0 after node 1 was killed").await;
    let killed = totals(&db, stage_range(Some(&api), Some("kill"), from)).await;
    assert!(
        killed.count >= kill_stage.count && killed.count <= kill_stage.count + burst.count,
        "stage kill holds {} requests: between the {} shipped before and {} + the burst of {}",
        killed.count,
        kill_stage.count,
        kill_stage.count,
        burst.count
    );
    assert!(killed.e4 <= burst.e4 && killed.e5 <= burst.e5);
    eprintln!(
        "of the {} requests node 1 served in its last burst before SIGKILL, {} had been shipped",
        burst.count,
        killed.count - kill_stage.count
    );

    // A new node process takes node 1's place (a new node_instance, seq from 1).
    c.nodes[1] = DataPlane::start(&c.cp.grpc_url(), "node-1b").await;
    c.nodes[1].wait_ready().await;

    // 3. The control plane restarts on the same ports and database while both nodes keep
    //    serving: their backlogs drain, every request counted once.
    let (http, grpc, url) = (c.cp.http_port, c.cp.grpc_port, c.cp.database_url.clone());
    let before = mix(&c.nodes[1], &api, 4, 1, 1).await;
    c.cp.stop().await;
    let during0 = mix(&c.nodes[0], &api, 8, 3, 2).await;
    let during1 = mix(&c.nodes[1], &api, 7, 2, 3).await;
    c.cp = ControlPlane::start_on(&url, http, grpc).await;
    let after = mix(&c.nodes[0], &api, 3, 1, 1).await;
    for s in [&before, &during0, &during1, &after] {
        all.add(s);
    }
    let t = until_exact(&db, &api, from, &all, "after the control-plane restart").await;
    assert_eq!(t.latency.count(), t.count);

    // 4. Detailed metrics on: requests move to their method's series (`{ApiName, Stage,
    //    Resource, Method}`), and the stage's series (`{ApiName, Stage}`) still counts all.
    c.cp.mgmt()
        .patch(
            &format!("/restapis/{api}/stages/prod"),
            json!([{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}]),
        )
        .await
        .ok();
    let mut after_patch = Sent::default();
    let deadline = Instant::now() + Duration::from_secs(90);
    let key = loop {
        after_patch.add(&mix(&c.nodes[0], &api, 1, 0, 0).await);
        let keys = m::list_series(
            &db,
            &SeriesFilter {
                api_name: Some("MetricsApi".into()),
                stage: Some("prod".into()),
                since: from - 120,
                ..SeriesFilter::default()
            },
        )
        .await
        .expect("listing series");
        if let Some(k) = keys.into_iter().find(|k| !k.resource.is_empty()) {
            break k;
        }
        assert!(Instant::now() < deadline, "no detailed series appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(key.resource, "/{proxy+}", "{key:?}");
    all.add(&after_patch);
    until_exact(&db, &api, from, &all, "the stage with detailed metrics").await;
    let detailed = totals(
        &db,
        SeriesQuery {
            api_name: Some("MetricsApi".into()),
            stage: Some("prod".into()),
            resource: Some(key.resource.clone()),
            method: Some(key.method.clone()),
            ..stage_range(None, None, from)
        },
    )
    .await;
    assert!(
        detailed.count >= 1 && detailed.count <= after_patch.count,
        "{} requests in {key:?}, {} sent since detailed metrics were enabled",
        detailed.count,
        after_patch.count
    );
    let by_name = totals(
        &db,
        SeriesQuery {
            api_name: Some("MetricsApi".into()),
            ..stage_range(None, None, from)
        },
    )
    .await;
    let kill_now = totals(&db, stage_range(Some(&api), Some("kill"), from)).await;
    assert_eq!(
        by_name.count,
        all.count + kill_now.count,
        "{{ApiName}} adds every stage and method"
    );
}
