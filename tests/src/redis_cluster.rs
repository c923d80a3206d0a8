//! A real local Redis Cluster for tests: six `redis-server --cluster-enabled yes`
//! processes (three masters, each with one replica) on harness free ports, in a directory of
//! their own, joined by `redis-cli --cluster create --cluster-replicas 1`. Every process is
//! killed when the handle drops (`kill_on_drop`), and its directory removed.
//!
//! [`RedisCluster::start_tls`] starts the same cluster serving TLS only (`--port 0
//! --tls-port`, `--tls-cluster yes`: the cluster bus too, `--tls-replication yes`), with a
//! test CA's certificates ([`crate::redis_tls::RedisTls`]); its URL is `rediss+cluster://`
//! and the harness's own connections trust the CA.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::redis_tls::RedisTls;
use crate::{eventually, free_port};

/// How long a node may be silent before the cluster calls it failed: short, so a killed
/// master's replica is promoted within seconds, yet well above a loaded machine's stalls.
pub const NODE_TIMEOUT_MS: u64 = 2000;

/// One `redis-server` of the cluster.
struct Node {
    port: u16,
    child: Option<Child>,
}

/// A running six-node Redis Cluster.
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
    /// The certificates of a TLS cluster.
    tls: Option<Arc<RedisTls>>,
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(c) = n.child.as_mut() {
                let _ = c.start_kill();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A multiplexed connection to one node (not cluster-aware: for `CLUSTER` commands).
pub async fn node_connection(port: u16) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

impl RedisCluster {
    /// A multiplexed connection to one node (over TLS on a TLS cluster).
    pub async fn connection(
        &self,
        port: u16,
    ) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        match &self.tls {
            Some(tls) => tls.connection(port).await,
            None => node_connection(port).await,
        }
    }

    /// `CLUSTER NODES` of the node on `port`, one line per node.
    async fn cluster_nodes(&self, port: u16) -> Option<String> {
        let mut c = self.connection(port).await.ok()?;
        redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut c)
            .await
            .ok()
    }

    /// Starts six nodes, creates the cluster and waits until every node says
    /// `cluster_state:ok` and every replica is in sync with its master.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// [`RedisCluster::start`] serving TLS only, with `tls`'s certificates: clients, the
    /// cluster bus and replication all over TLS; clients need no certificate.
    pub async fn start_tls(tls: Arc<RedisTls>) -> Self {
        Self::start_with(Some(tls)).await
    }

    async fn start_with(tls: Option<Arc<RedisTls>>) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "apigw-e2e-redis-cluster-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("the cluster's directory");
        let mut nodes = Vec::new();
        for _ in 0..6 {
            let port = free_port();
            let bus = free_port();
            let ports = match &tls {
                Some(tls) => {
                    let mut args = tls.server_args(port, false);
                    args.extend(
                        ["--tls-cluster", "yes", "--tls-replication", "yes"].map(String::from),
                    );
                    args
                }
                None => vec!["--port".to_string(), port.to_string()],
            };
            let child = Command::new("redis-server")
                .args(ports)
                .args([
                    "--cluster-port",
                    &bus.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &format!("nodes-{port}.conf"),
                    "--cluster-node-timeout",
                    &NODE_TIMEOUT_MS.to_string(),
                    "--dir",
                    &dir.to_string_lossy(),
                    "--dbfilename",
                    &format!("dump-{port}.rdb"),
                    "--appendonly",
                    "no",
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                    "--logfile",
                    &format!("redis-{port}.log"),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| panic!("starting redis-server (is it installed?): {e}"));
            nodes.push(Node {
                port,
                child: Some(child),
            });
        }
        let cluster = RedisCluster { nodes, dir, tls };
        for n in &cluster.nodes {
            let port = n.port;
            let cluster = &cluster;
            eventually(
                &format!("redis-server on {port}"),
                Duration::from_secs(20),
                || async move {
                    let mut c = cluster.connection(port).await.ok()?;
                    redis::cmd("PING").query_async::<String>(&mut c).await.ok()
                },
            )
            .await;
        }
        let mut create = Command::new("redis-cli");
        if let Some(tls) = &cluster.tls {
            create.arg("--tls").arg("--cacert").arg(&tls.ca_file);
        }
        create.args(["--cluster", "create"]);
        for n in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", n.port));
        }
        let out = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("running redis-cli (is it installed?): {e}"));
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.wait_healthy(&cluster.ports()).await;
        cluster
    }

    /// Every node's port.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// `redis+cluster://` (TLS: `rediss+cluster://`) URL with every node as a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let scheme = if self.tls.is_some() {
            "rediss+cluster"
        } else {
            "redis+cluster"
        };
        format!("{scheme}://{}", seeds.join(","))
    }

    /// Waits until every node of `ports` says `cluster_state:ok`, every one of them knows
    /// three masters serving all 16384 slots, and every live replica's link to its master
    /// is up.
    pub async fn wait_healthy(&self, ports: &[u16]) {
        for &port in ports {
            eventually(
                &format!("cluster_state:ok with synced replicas on {port}"),
                Duration::from_secs(60),
                || async move {
                    let mut c = self.connection(port).await.ok()?;
                    let info: String = redis::cmd("CLUSTER")
                        .arg("INFO")
                        .query_async(&mut c)
                        .await
                        .ok()?;
                    if !info.contains("cluster_state:ok")
                        || !info.contains("cluster_slots_ok:16384")
                    {
                        return None;
                    }
                    let replication: String = redis::cmd("INFO")
                        .arg("replication")
                        .query_async(&mut c)
                        .await
                        .ok()?;
                    if replication.contains("role:slave")
                        && !replication.contains("master_link_status:up")
                    {
                        return None;
                    }
                    Some(())
                },
            )
            .await;
        }
    }

    /// The port of the master serving `slot`, as the live node on `ask` sees it.
    pub async fn master_of_slot(&self, ask: u16, slot: u16) -> Option<u16> {
        let nodes = self.cluster_nodes(ask).await?;
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let serves = fields[8..].iter().any(|range| {
                let (low, high) = range.split_once('-').unwrap_or((range, range));
                match (low.parse::<u16>(), high.parse::<u16>()) {
                    (Ok(low), Ok(high)) => (low..=high).contains(&slot),
                    _ => false,
                }
            });
            if serves {
                let addr = fields[1].split('@').next()?;
                return addr.rsplit_once(':')?.1.parse().ok();
            }
        }
        None
    }

    /// The ports of the masters the live node on `ask` knows (not failed).
    pub async fn masters(&self, ask: u16) -> Vec<u16> {
        let Some(nodes) = self.cluster_nodes(ask).await else {
            return Vec::new();
        };
        nodes
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 3 || !fields[2].contains("master") || fields[2].contains("fail") {
                    return None;
                }
                let addr = fields[1].split('@').next()?;
                addr.rsplit_once(':')?.1.parse().ok()
            })
            .collect()
    }

    /// Kills the node on `port` with SIGKILL (nothing flushed, no goodbye to the cluster).
    pub async fn kill(&mut self, port: u16) {
        for n in &mut self.nodes {
            if n.port == port {
                if let Some(mut c) = n.child.take() {
                    let _ = c.kill().await;
                }
            }
        }
    }

    /// The ports of the nodes still running.
    pub fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(|n| n.port)
            .collect()
    }

    /// Every key matching `pattern` on every master the node on `ask` knows, as (master
    /// port, key), by `SCAN` (each master holds only its own slots' keys).
    pub async fn scan(&self, ask: u16, pattern: &str) -> Vec<(u16, String)> {
        let mut out = Vec::new();
        for port in self.masters(ask).await {
            let Ok(mut c) = self.connection(port).await else {
                continue;
            };
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("SCAN on {port}: {e}"));
                out.extend(keys.into_iter().map(|k| (port, k)));
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        out
    }
}
