//! The bounded chaos run (issue 21; docs/chaos.md): its own Redis (`redis-server` without
//! persistence on a harness port), two control planes over one database, three nodes (each
//! with its own state directory, following both control planes), a backend, and an API
//! whose keyed requests a usage plan meters. A load of keyed requests runs over the three
//! nodes for `CHAOS_SECONDS` (60 by default; the short run every test run makes: 15) while
//! a seeded random schedule (`CHAOS_SEED`, printed) SIGKILLs and restarts nodes and
//! control planes (one, both, or with a node), and restarts Redis once, empty (while it is
//! away a control plane and a node are SIGKILLed and restarted too). Each event deploys
//! through a control plane that is up while its victims are down.
//!
//! Asserted: a live node never answers other than 200 (no 5xx, no other status, no
//! refused or cut connection, no answer slower than the hang limit); every node serves
//! afterwards, including a deployment made after the run; usage recorded (GetUsage, once
//! the mover has put it all in Postgres) is within the loss bound of docs/chaos.md: no
//! lower than admitted minus what Redis held unmoved when it was killed, what was served
//! while it died, the requests in flight and what the node killed during the outage had
//! admitted on its own; no higher than admitted plus the requests cut by a node's kill
//! (counted, never answered) plus the admissions a node's local fallback decided outside
//! the Redis outage (a timed-out admission call that Redis did run is counted again).
//!
//! The report (printed): requests sent, served, failed by kind, usage recorded against
//! admitted, the Redis outage's loss, and the deployments made and propagated. Process
//! logs are kept in the directory it prints.
//!
//! `cargo nextest run -p apigw-e2e --test chaos --run-ignored only --no-capture`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apigw_e2e::load::{KeyedApi, Load, Tally, Targets};
use apigw_e2e::{
    eventually, free_port, fresh_database, Backend, ControlPlane, DataPlane, RedisServer,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How long a live node may take to answer before it counts as a hang.
const HANG: Duration = Duration::from_secs(10);

/// A control plane's place: its ports survive its restarts.
struct CpSlot {
    http_port: u16,
    grpc_port: u16,
    running: Option<ControlPlane>,
    /// Processes started in this place so far (names the log files).
    starts: usize,
}

/// A node's place: ports, state directory and control-plane order survive restarts.
struct NodeSlot {
    id: String,
    ports: (u16, u16),
    state_dir: PathBuf,
    control_planes: String,
    running: Option<DataPlane>,
    starts: usize,
    /// Fallback admissions read from processes of this place before they were killed.
    fallbacks_of_killed: u64,
}

impl NodeSlot {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.0)
    }
}

/// What one kill-and-restart event took down.
#[derive(Debug, Clone, Copy)]
enum Victims {
    Node(usize),
    Cp(usize),
    BothCps,
    CpAndNode(usize, usize),
    NodeAndBothCps(usize),
}

struct Chaos {
    dir: PathBuf,
    db: String,
    prefix: String,
    redis: RedisServer,
    cps: Vec<CpSlot>,
    nodes: Vec<NodeSlot>,
    targets: Arc<Targets>,
}

impl Chaos {
    fn redis_env(&self, state_dir: Option<&PathBuf>) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("REDIS_URL", self.redis.url()),
            ("REDIS_KEY_PREFIX", self.prefix.clone()),
        ];
        if let Some(dir) = state_dir {
            env.push(("DP_STATE_DIR", dir.display().to_string()));
        }
        env
    }

    async fn start_cp(&mut self, i: usize) {
        let env = self.redis_env(None);
        let slot = &mut self.cps[i];
        slot.starts += 1;
        let log = self.dir.join(format!("cp-{i}.{}.log", slot.starts));
        slot.running = Some(
            ControlPlane::start_logged(&self.db, slot.http_port, slot.grpc_port, &env, Some(&log))
                .await,
        );
    }

    async fn kill_cp(&mut self, i: usize) {
        if let Some(mut cp) = self.cps[i].running.take() {
            cp.kill().await;
        }
    }

    async fn start_node(&mut self, i: usize) {
        let env = self.redis_env(Some(&self.nodes[i].state_dir));
        let slot = &mut self.nodes[i];
        slot.starts += 1;
        let log = self.dir.join(format!("{}.{}.log", slot.id, slot.starts));
        let node =
            DataPlane::start_on(&slot.control_planes, &slot.id, slot.ports, &env, Some(&log)).await;
        node.wait_ready().await;
        slot.running = Some(node);
        self.targets.mark_up(i);
    }

    /// Kills node `i`; returns the fallback admissions it had made (read just before).
    async fn kill_node(&mut self, i: usize) -> u64 {
        let slot = &mut self.nodes[i];
        let fallbacks = metric(&slot.base(), "apigw_redis_fallback_admissions_total")
            .await
            .unwrap_or(0.0) as u64;
        slot.fallbacks_of_killed += fallbacks;
        self.targets.mark_down(i);
        if let Some(mut node) = slot.running.take() {
            node.kill().await;
        }
        fallbacks
    }

    fn live_cp(&self, rng: &mut StdRng) -> Option<apigw_e2e::Mgmt> {
        let up: Vec<&ControlPlane> = self.cps.iter().filter_map(|c| c.running.as_ref()).collect();
        (!up.is_empty()).then(|| up[rng.gen_range(0..up.len())].mgmt())
    }

    /// Fallback admissions of every node: of processes killed, and of the running ones.
    async fn fallbacks(&self) -> u64 {
        let mut total = 0;
        for n in &self.nodes {
            total += n.fallbacks_of_killed;
            if n.running.is_some() {
                total += metric(&n.base(), "apigw_redis_fallback_admissions_total")
                    .await
                    .unwrap_or(0.0) as u64;
            }
        }
        total
    }
}

/// A sample's value in a node's `/metrics`.
async fn metric(base: &str, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
}

/// Usage counts Redis holds that the mover has not put in Postgres: the live hash and the
/// pending batches not recorded as applied. Lost if Redis dies now.
async fn unmoved(redis_url: &str, prefix: &str, db: &str) -> i64 {
    let client = redis::Client::open(redis_url).expect("the Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("the private Redis");
    let sum = |pairs: Vec<(String, i64)>| pairs.iter().map(|(_, n)| n).sum::<i64>();
    let live: Vec<(String, i64)> = redis::cmd("HGETALL")
        .arg(format!("{prefix}u"))
        .query_async(&mut conn)
        .await
        .expect("HGETALL");
    let batches: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{prefix}ubs"))
        .query_async(&mut conn)
        .await
        .expect("SMEMBERS");
    let applied: Vec<String> = {
        use sqlx::Connection;
        let mut pg = sqlx::PgConnection::connect(db).await.expect("the database");
        sqlx::query_scalar("SELECT batch_id FROM usage_batches WHERE batch_id = ANY($1)")
            .bind(&batches)
            .fetch_all(&mut pg)
            .await
            .expect("usage_batches")
    };
    let mut total = sum(live);
    for id in batches.iter().filter(|id| !applied.contains(id)) {
        let pairs: Vec<(String, i64)> = redis::cmd("HGETALL")
            .arg(format!("{prefix}ub:{id}"))
            .query_async(&mut conn)
            .await
            .expect("HGETALL");
        total += sum(pairs);
    }
    total
}

/// Requests of `plan` the usage mover has put in Postgres.
async fn moved_usage(db: &str, plan: &str) -> i64 {
    use sqlx::Connection;
    let mut pg = sqlx::PgConnection::connect(db).await.expect("the database");
    sqlx::query_scalar::<_, Option<i64>>(
        "SELECT sum(requests)::bigint FROM usage_records WHERE plan_id = $1",
    )
    .bind(plan)
    .fetch_one(&mut pg)
    .await
    .expect("usage_records")
    .unwrap_or(0)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The deployments made while things are down.
#[derive(Debug, Default)]
struct Deploys {
    ok: u32,
    failed: u32,
    /// The last `v` deployed (or tried).
    version: u32,
}

impl Deploys {
    /// Deploys the next `v` through a control plane that is up, if any.
    async fn through_a_live_cp(&mut self, chaos: &Chaos, api: &KeyedApi, rng: &mut StdRng) {
        let Some(m) = chaos.live_cp(rng) else {
            return;
        };
        self.version += 1;
        match api.deploy(&m, &self.version.to_string()).await {
            Ok(_) => self.ok += 1,
            Err(why) => {
                self.failed += 1;
                println!("deployment {} failed: {why}", self.version);
            }
        }
    }
}

/// What the Redis restart cost.
#[derive(Debug, Default)]
struct RedisOutage {
    /// Counts Redis held unmoved just before the kill.
    unmoved: i64,
    /// Requests served between that read and the kill's end.
    served_meanwhile: u64,
    /// Fallback admissions while it was away (the nodes' own, added back on recovery).
    fallbacks: u64,
    /// Fallback admissions of the node killed while Redis was away (its counts not added
    /// back yet die with it).
    killed_node_fallbacks: u64,
    /// From the kill until every node shared limits through Redis again.
    recovered_after: Duration,
}

async fn run(seconds: u64, workers: u64) {
    let seed = env_u64("CHAOS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let workers = workers as usize;
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = std::env::temp_dir().join(format!(
        "apigw-chaos-{seed}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("the run's directory");
    println!(
        "chaos run: {seconds} s, CHAOS_SEED={seed}, {workers} workers; logs in {}",
        dir.display()
    );

    let redis = RedisServer::start(free_port()).await;
    let mut chaos = Chaos {
        db: fresh_database().await.expect("a database"),
        prefix: format!("chaos:{}:", uuid::Uuid::new_v4().simple()),
        redis,
        cps: (0..2)
            .map(|_| CpSlot {
                http_port: free_port(),
                grpc_port: free_port(),
                running: None,
                starts: 0,
            })
            .collect(),
        nodes: Vec::new(),
        targets: Targets::new(Vec::new(), HANG),
        dir: dir.clone(),
    };
    for i in 0..2 {
        chaos.start_cp(i).await;
    }
    let (a, b) = (
        format!("http://127.0.0.1:{}", chaos.cps[0].grpc_port),
        format!("http://127.0.0.1:{}", chaos.cps[1].grpc_port),
    );
    chaos.nodes = (0..3)
        .map(|i| {
            let state_dir = dir.join(format!("node-{i}-state"));
            NodeSlot {
                id: format!("node-{i}"),
                ports: (free_port(), free_port()),
                state_dir,
                // The third node prefers B: both control planes have followers.
                control_planes: if i < 2 {
                    format!("{a},{b}")
                } else {
                    format!("{b},{a}")
                },
                running: None,
                starts: 0,
                fallbacks_of_killed: 0,
            }
        })
        .collect();
    chaos.targets = Targets::new(chaos.nodes.iter().map(NodeSlot::base).collect(), HANG);
    for i in 0..3 {
        chaos.start_node(i).await;
    }
    let backend = Backend::start("pets").await;
    let m = chaos.cps[0].running.as_ref().expect("A runs").mgmt();
    let api = KeyedApi::create(&m, &backend.url()).await;
    let mut probes = 0u64;
    for n in &chaos.nodes {
        let base = n.base();
        eventually(
            &format!("{} admitting the key", n.id),
            Duration::from_secs(30),
            || async { api.keyed_ok(&base).await.then_some(()) },
        )
        .await;
        probes += 1;
    }

    let mut load = Load::start(
        Arc::clone(&chaos.targets),
        api.request(),
        workers,
        Duration::from_millis(5),
    );
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let redis_at = started + Duration::from_secs_f64(seconds as f64 * rng.gen_range(0.3..0.6));
    let mut outage: Option<RedisOutage> = None;
    let mut events = Vec::new();
    let mut deploys = Deploys {
        version: 1,
        ..Deploys::default()
    };
    loop {
        let gap = Duration::from_millis(rng.gen_range(500..2500));
        let now = Instant::now();
        if now + gap >= end {
            break;
        }
        tokio::time::sleep(gap).await;
        if outage.is_none() && Instant::now() >= redis_at {
            events.push(format!("{:>5.1}s redis", started.elapsed().as_secs_f64()));
            outage = Some(restart_redis(&mut chaos, &load, &api, &mut deploys, &mut rng).await);
            continue;
        }
        let (node, cp) = (rng.gen_range(0..3), rng.gen_range(0..2));
        let victims = match rng.gen_range(0..100) {
            0..35 => Victims::Node(node),
            35..60 => Victims::Cp(cp),
            60..70 => Victims::BothCps,
            70..90 => Victims::CpAndNode(cp, node),
            _ => Victims::NodeAndBothCps(node),
        };
        let (nodes, cps): (Vec<usize>, Vec<usize>) = match victims {
            Victims::Node(n) => (vec![n], vec![]),
            Victims::Cp(c) => (vec![], vec![c]),
            Victims::BothCps => (vec![], vec![0, 1]),
            Victims::CpAndNode(c, n) => (vec![n], vec![c]),
            Victims::NodeAndBothCps(n) => (vec![n], vec![0, 1]),
        };
        events.push(format!(
            "{:>5.1}s {victims:?}",
            started.elapsed().as_secs_f64()
        ));
        for &c in &cps {
            chaos.kill_cp(c).await;
        }
        for &n in &nodes {
            chaos.kill_node(n).await;
        }
        // While they are down, a deployment through a control plane that is up.
        deploys.through_a_live_cp(&chaos, &api, &mut rng).await;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..2000))).await;
        for &c in &cps {
            chaos.start_cp(c).await;
        }
        for &n in &nodes {
            chaos.start_node(n).await;
        }
    }
    if outage.is_none() {
        events.push(format!("{:>5.1}s redis", started.elapsed().as_secs_f64()));
        outage = Some(restart_redis(&mut chaos, &load, &api, &mut deploys, &mut rng).await);
    }
    let outage = outage.unwrap_or_default();
    let tally = load.stop().await;
    let ran = started.elapsed();

    // Afterwards: a deployment reaches every node, and every node serves the keyed request.
    let m = chaos.cps[1].running.as_ref().expect("B runs").mgmt();
    deploys.version += 1;
    let last = deploys.version.to_string();
    api.deploy(&m, &last)
        .await
        .expect("a deployment after the run");
    let deployed = Instant::now();
    let mut reached = Vec::new();
    for n in &chaos.nodes {
        let base = n.base();
        eventually(
            &format!("{} serving the deployment made after the run", n.id),
            Duration::from_secs(30),
            || async {
                (api.served_version(&base).await.as_deref() == Some(last.as_str())).then_some(())
            },
        )
        .await;
        reached.push(deployed.elapsed());
        eventually(
            &format!("{} serving the keyed request", n.id),
            Duration::from_secs(10),
            || async { api.keyed_ok(&base).await.then_some(()) },
        )
        .await;
        probes += 1;
    }

    // Usage, once the mover has moved everything (GetUsage counts what is not moved yet
    // too; waiting for Postgres to hold it all shows nothing is stuck in Redis).
    let admitted = (tally.served + probes) as i64;
    let recorded = eventually(
        "usage settled in Postgres",
        Duration::from_secs(60),
        || async {
            let usage = api.usage_today(&m).await?;
            (moved_usage(&chaos.db, &api.plan).await == usage).then_some(usage)
        },
    )
    .await;
    let fallbacks = chaos.fallbacks().await;
    let cut = tally.dead_other_error + tally.dead_status;
    let may_lose = outage.unmoved
        + outage.served_meanwhile as i64
        + workers as i64
        + outage.killed_node_fallbacks as i64;
    let lower = admitted - may_lose;
    let upper = admitted + cut as i64 + fallbacks.saturating_sub(outage.fallbacks) as i64;

    println!("--- chaos report (CHAOS_SEED={seed}, {seconds} s asked, {ran:.1?} ran) ---");
    println!("events: {}", events.join(", "));
    report(&tally);
    println!(
        "redis restart: {} counts unmoved at the kill, {} served while it died, {} fallback \
         admissions during the outage ({} by the node killed meanwhile), every node sharing \
         limits again {:?} after the kill",
        outage.unmoved,
        outage.served_meanwhile,
        outage.fallbacks,
        outage.killed_node_fallbacks,
        outage.recovered_after
    );
    println!(
        "usage: recorded {recorded}, admitted {admitted} (keyed 200s incl. {probes} probes): \
         lost {} (bound: {lower}..={upper}; fallback admissions in all {fallbacks})",
        admitted - recorded
    );
    println!(
        "deployments during the run: {} made, {} failed; the one after the run reached the \
         nodes after {reached:?}",
        deploys.ok, deploys.failed
    );
    println!("logs: {}", dir.display());

    assert_eq!(
        tally.live_failures(),
        0,
        "live nodes failed: {:?}",
        load.samples()
    );
    assert!(
        (lower..=upper).contains(&recorded),
        "usage recorded {recorded} outside {lower}..={upper}"
    );
    // The state directories are of no use now; the logs stay for reading.
    for n in &chaos.nodes {
        let _ = std::fs::remove_dir_all(&n.state_dir);
    }
}

/// Kills Redis (noting what it held unmoved); while it is away, SIGKILLs and restarts a
/// control plane (it starts without Redis) and a node (its counts admitted meanwhile die
/// with it) and deploys through a control plane; starts Redis again, empty, and waits until
/// every node shares limits through it again.
async fn restart_redis(
    chaos: &mut Chaos,
    load: &Load,
    api: &KeyedApi,
    deploys: &mut Deploys,
    rng: &mut StdRng,
) -> RedisOutage {
    let (cp, node) = (rng.gen_range(0..2), rng.gen_range(0..3));
    let fallbacks_before = chaos.fallbacks().await;
    let node_before = metric(
        &chaos.nodes[node].base(),
        "apigw_redis_fallback_admissions_total",
    )
    .await
    .unwrap_or(0.0) as u64;
    let served_before = load.tally().served;
    let unmoved = unmoved(&chaos.redis.url(), &chaos.prefix, &chaos.db).await;
    let killed = Instant::now();
    chaos.redis.kill().await;
    let served_meanwhile = load.tally().served - served_before;

    tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1000))).await;
    chaos.kill_cp(cp).await;
    let killed_node_fallbacks = chaos.kill_node(node).await.saturating_sub(node_before);
    deploys.through_a_live_cp(chaos, api, rng).await;
    tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1000))).await;
    chaos.start_cp(cp).await;
    chaos.start_node(node).await;
    println!(
        "while Redis was away, control plane {cp} and node {node} restarted in {:?}",
        killed.elapsed()
    );

    chaos.redis = RedisServer::start(chaos.redis.port).await;
    for n in &chaos.nodes {
        let base = n.base();
        eventually(
            &format!("{} sharing limits through Redis again", n.id),
            Duration::from_secs(30),
            || async { (metric(&base, "apigw_redis_up").await == Some(1.0)).then_some(()) },
        )
        .await;
    }
    RedisOutage {
        unmoved,
        served_meanwhile,
        fallbacks: chaos.fallbacks().await - fallbacks_before,
        killed_node_fallbacks,
        recovered_after: killed.elapsed(),
    }
}

fn report(t: &Tally) {
    println!(
        "requests: sent {}, served {}; failed from live nodes: {} (5xx {}, other status {}, \
         connection {}, hang {}); to dead or restarting nodes: {} (refused {}, cut/other {}, \
         status {}); slowest live answer {} ms",
        t.sent,
        t.served,
        t.live_failures(),
        t.live_5xx,
        t.live_other_status,
        t.live_connection_error,
        t.live_hang,
        t.dead_failures(),
        t.dead_refused,
        t.dead_other_error,
        t.dead_status,
        t.live_max_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the 60 s chaos run: cargo nextest run -p apigw-e2e --test chaos --run-ignored only --no-capture"]
async fn chaos_run() {
    run(
        env_u64("CHAOS_SECONDS").unwrap_or(60),
        env_u64("CHAOS_WORKERS").unwrap_or(4),
    )
    .await;
}

/// The short run every test run (and CI) makes: 15 s, two workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_short_run() {
    run(15, env_u64("CHAOS_WORKERS").unwrap_or(2)).await;
}
