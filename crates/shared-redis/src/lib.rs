//! The one Redis handle both planes use, over a single server or a Redis Cluster, chosen
//! by the URL (`--redis-url` / `REDIS_URL`):
//!
//! - `redis://[user:pass@]host:port[/db]` (and `rediss://`, TLS): one server, through the
//!   `redis` crate's reconnecting [`ConnectionManager`];
//! - `redis+cluster://[user:pass@]host:port,host:port,...` (and `rediss+cluster://`, TLS):
//!   seed nodes of a Redis Cluster, through the crate's own cluster client
//!   ([`ClusterConnection`]: it learns the slot map from any seed, follows `MOVED` / `ASK`,
//!   and refreshes the map and reconnects when a master fails over to its replica).
//!
//! [`SharedRedis`] is either connection behind one [`ConnectionLike`], so every caller
//! (scripts, pipelines, commands) is written once.
//!
//! **Keys on a cluster.** A multi-key script or command needs all its keys in one hash
//! slot. The gateway's scripts take keys of several kinds at once (the admission script
//! takes the account bucket, a stage bucket, a key's buckets, its quota counter and the
//! usage hash together), so on a cluster every key of one gateway cluster shares one slot:
//! [`RedisTarget::key_prefix`] wraps the key prefix in a hash tag (`apigw:` becomes
//! `{apigw:}`; a prefix that already holds a hash tag is kept). On a single server the
//! prefix is unchanged, so keys keep their names. The cost: one gateway cluster's shared
//! state lives on one master (and its replicas); its throughput is one master's. Several
//! gateway clusters (prefixes) spread over the masters.
//!
//! **WebSocket delivery** (`@connections` sends to the node holding a connection) is
//! pub/sub: on a cluster it is *sharded* pub/sub ([`publish_command`] says `SPUBLISH`, and
//! [`RedisTarget::subscribe`] `SSUBSCRIBE`s through the cluster client, which resubscribes
//! after a failover), so a publisher and its subscriber always meet on the channel's
//! slot's master and the receiver count `SPUBLISH` answers is meaningful.
//!
//! **TLS.** `rediss://` and `rediss+cluster://` connect over rustls. Without
//! [`RedisTarget::with_tls`] the server's certificate is checked against the system's roots
//! (the OS store, through `rustls-native-certs`); [`TlsFiles`] (`--redis-ca-file`, and
//! `--redis-client-cert-file` / `--redis-client-key-file` for mutual TLS) replaces them with
//! a private CA bundle and adds a client certificate. The files are read and checked when
//! the process starts: a missing, unreadable or invalid PEM is a [`RedisConfigError::TlsFile`]
//! naming the file.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{
    ClientTlsConfig, Cmd, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult, TlsCertificates,
    Value,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why a Redis URL or key prefix cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RedisConfigError {
    /// The URL is malformed or not usable (the password, if any, is masked).
    #[error("invalid Redis URL {url}: {reason}")]
    Url {
        /// The URL as given, password masked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An empty key prefix on a cluster: it would make no hash tag.
    #[error(
        "an empty Redis key prefix (REDIS_KEY_PREFIX) cannot be used with Redis Cluster: the \
         prefix becomes the hash tag that keeps a gateway's keys in one slot"
    )]
    EmptyClusterPrefix,
    /// A TLS file (`--redis-ca-file`, `--redis-client-cert-file`, `--redis-client-key-file`)
    /// cannot be used.
    #[error("Redis TLS file {path}: {reason}")]
    TlsFile {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS files given for a URL that does not use TLS, or a client certificate without
    /// its key (or a key without its certificate).
    #[error("Redis TLS options: {0}")]
    TlsOptions(String),
}

/// The TLS files of a `rediss://` / `rediss+cluster://` target.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// PEM bundle of the CAs the server's certificate must chain to, instead of the
    /// system's roots (`--redis-ca-file`).
    pub ca_file: Option<PathBuf>,
    /// PEM certificate (chain) the client presents (`--redis-client-cert-file`).
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate (`--redis-client-key-file`).
    pub client_key_file: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether any file is set.
    pub fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.client_cert_file.is_none() && self.client_key_file.is_none()
    }

    /// Reads and checks the files: the CA bundle must hold at least one certificate, the
    /// client certificate file at least one and the key file a private key.
    pub fn load(&self) -> Result<TlsCertificates, RedisConfigError> {
        let root_cert = match &self.ca_file {
            Some(path) => {
                let pem = read(path)?;
                certificates(path, &pem)?;
                Some(pem)
            }
            None => None,
        };
        let client_tls = match (&self.client_cert_file, &self.client_key_file) {
            (Some(cert), Some(key)) => {
                let client_cert = read(cert)?;
                certificates(cert, &client_cert)?;
                let client_key = read(key)?;
                PrivateKeyDer::from_pem_slice(&client_key).map_err(|e| {
                    RedisConfigError::TlsFile {
                        path: key.clone(),
                        reason: format!("no usable PEM private key ({e})"),
                    }
                })?;
                Some(ClientTlsConfig {
                    client_cert,
                    client_key,
                })
            }
            (None, None) => None,
            _ => {
                return Err(RedisConfigError::TlsOptions(
                    "a client certificate (--redis-client-cert-file) and its key \
                     (--redis-client-key-file) go together"
                        .into(),
                ))
            }
        };
        Ok(TlsCertificates {
            client_tls,
            root_cert,
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, RedisConfigError> {
    std::fs::read(path).map_err(|e| RedisConfigError::TlsFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Checks that `pem` holds at least one well-formed certificate.
fn certificates(path: &Path, pem: &[u8]) -> Result<(), RedisConfigError> {
    let bad = |reason: String| RedisConfigError::TlsFile {
        path: path.to_path_buf(),
        reason,
    };
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| bad(format!("invalid PEM ({e})")))?;
        // A root store refuses what is not an X.509 certificate; check it the same way.
        let mut store = rustls::RootCertStore::empty();
        store
            .add(cert)
            .map_err(|e| bad(format!("not a usable X.509 certificate ({e})")))?;
        count += 1;
    }
    if count == 0 {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(())
}

/// Where Redis is: one server or the seed nodes of a cluster (parsed from a URL).
#[derive(Clone)]
pub struct RedisTarget {
    /// The URL as given, password masked (for messages).
    shown: String,
    kind: Kind,
    /// A private CA and/or a client certificate ([`RedisTarget::with_tls`]); `None`: the
    /// system's roots.
    certs: Option<TlsCertificates>,
}

#[derive(Clone)]
enum Kind {
    /// A `redis://` or `rediss://` URL.
    Single(String),
    /// One `redis://` or `rediss://` URL per seed node.
    Cluster(Vec<String>),
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTarget")
            .field("url", &self.shown)
            .field("cluster", &self.is_cluster())
            .finish()
    }
}

impl std::fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// How long connecting and each answer may take, and how often a failed command is retried
/// (a cluster client also spends retries on following `MOVED` / `ASK`, so it gets at least
/// [`MIN_CLUSTER_RETRIES`]).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Connecting to a server.
    pub connect: Duration,
    /// One answer.
    pub response: Duration,
    /// Retries of a failed command.
    pub retries: usize,
}

/// A cluster client's fewest retries: enough to follow a redirection and a slot refresh.
pub const MIN_CLUSTER_RETRIES: usize = 3;

/// `user:secret@` → `user:***@`, for messages.
fn mask(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, hosts)) => {
            let user = match user.split_once(':') {
                Some((name, _)) => format!("{name}:***"),
                None => user.to_string(),
            };
            format!("{scheme}://{user}@{hosts}{tail}")
        }
        None => url.to_string(),
    }
}

impl RedisTarget {
    /// Parses `redis://`, `rediss://`, `redis+cluster://` or `rediss+cluster://` URLs.
    pub fn parse(url: &str) -> Result<Self, RedisConfigError> {
        let shown = mask(url);
        let bad = |reason: &str| RedisConfigError::Url {
            url: shown.clone(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            bad("no scheme (expected redis://, rediss://, redis+cluster:// or rediss+cluster://)")
        })?;
        let check = |u: &str| -> Result<(), RedisConfigError> {
            u.into_connection_info()
                .map(|_| ())
                .map_err(|e| bad(&e.to_string()))
        };
        match scheme {
            "redis" | "rediss" => {
                check(url)?;
                Ok(RedisTarget {
                    shown,
                    kind: Kind::Single(url.to_string()),
                    certs: None,
                })
            }
            "redis+cluster" | "rediss+cluster" => {
                let plain = if scheme == "redis+cluster" {
                    "redis"
                } else {
                    "rediss"
                };
                let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                let (authority, tail) = rest.split_at(authority_end);
                let (userinfo, hosts) = match authority.rsplit_once('@') {
                    Some((user, hosts)) => (format!("{user}@"), hosts),
                    None => (String::new(), authority),
                };
                let path = tail.split(['?', '#']).next().unwrap_or_default();
                if !matches!(path, "" | "/" | "/0") {
                    return Err(bad(
                        "Redis Cluster has only database 0 (no /db other than /0)",
                    ));
                }
                let mut seeds = Vec::new();
                for host in hosts.split(',') {
                    let host = host.trim();
                    if host.is_empty() {
                        return Err(bad("an empty seed node (host:port,host:port,...)"));
                    }
                    let seed = format!("{plain}://{userinfo}{host}{tail}");
                    check(&seed)?;
                    seeds.push(seed);
                }
                // The cluster client refuses seeds it cannot use together; say so now.
                ClusterClient::new(seeds.clone()).map_err(|e| bad(&e.to_string()))?;
                Ok(RedisTarget {
                    shown,
                    kind: Kind::Cluster(seeds),
                    certs: None,
                })
            }
            other => Err(bad(&format!(
                "unknown scheme {other:?} (expected redis://, rediss://, redis+cluster:// or \
                 rediss+cluster://)"
            ))),
        }
    }

    /// Whether the URL asks for TLS (`rediss://`, `rediss+cluster://`).
    pub fn is_tls(&self) -> bool {
        self.node_urls().iter().all(|u| u.starts_with("rediss://"))
    }

    /// Uses `files` for TLS: a private CA bundle instead of the system's roots, and a client
    /// certificate. The files are read and checked now. No files: unchanged. Files for a
    /// URL without TLS are refused (they would silently do nothing).
    pub fn with_tls(mut self, files: &TlsFiles) -> Result<Self, RedisConfigError> {
        if files.is_empty() {
            return Ok(self);
        }
        if !self.is_tls() {
            return Err(RedisConfigError::TlsOptions(format!(
                "--redis-ca-file / --redis-client-cert-file need a TLS URL (rediss:// or \
                 rediss+cluster://), not {}",
                self.shown
            )));
        }
        self.certs = Some(files.load()?);
        Ok(self)
    }

    /// A client of one server's URL, with this target's certificates if any.
    fn client(&self, url: &str) -> RedisResult<redis::Client> {
        match &self.certs {
            Some(certs) => redis::Client::build_with_tls(url, certs.clone()),
            None => redis::Client::open(url),
        }
    }

    /// A cluster client builder over `seeds`, with this target's certificates if any.
    fn cluster_builder(&self, seeds: &[String]) -> redis::cluster::ClusterClientBuilder {
        let builder = ClusterClient::builder(seeds.to_vec());
        match &self.certs {
            Some(certs) => builder.certs(certs.clone()),
            None => builder,
        }
    }

    /// Whether this is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.kind, Kind::Cluster(_))
    }

    /// The seed URLs of a cluster, or the one server's URL.
    pub fn node_urls(&self) -> Vec<String> {
        match &self.kind {
            Kind::Single(url) => vec![url.clone()],
            Kind::Cluster(seeds) => seeds.clone(),
        }
    }

    /// The target `url` names, with its TLS files read and checked, and the key prefix to
    /// use on it ([`RedisTarget::key_prefix`]): what each binary makes of its Redis settings.
    pub fn resolve(
        url: &str,
        tls: &TlsFiles,
        prefix: &str,
    ) -> Result<(RedisTarget, String), RedisConfigError> {
        let target = RedisTarget::parse(url)?.with_tls(tls)?;
        let prefix = target.key_prefix(prefix)?;
        Ok((target, prefix))
    }

    /// The key prefix to use for `prefix` on this target: unchanged on a single server; on a
    /// cluster wrapped in a hash tag (`{prefix}`) so all the gateway's keys share one slot,
    /// unless it already holds one.
    pub fn key_prefix(&self, prefix: &str) -> Result<String, RedisConfigError> {
        if !self.is_cluster() {
            return Ok(prefix.to_string());
        }
        cluster_prefix(prefix)
    }

    /// A lazily connecting handle: commands fail (and the connection is retried) while
    /// Redis is unreachable, so a process starts without it. Needs a Tokio runtime.
    pub fn connect_lazy(&self, t: Timeouts) -> Result<SharedRedis, RedisConfigError> {
        let bad = |e: redis::RedisError| RedisConfigError::Url {
            url: self.shown.clone(),
            reason: e.to_string(),
        };
        match &self.kind {
            Kind::Single(url) => {
                let client = self.client(url).map_err(bad)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(t.connect))
                    .set_response_timeout(Some(t.response))
                    .set_number_of_retries(t.retries);
                let manager =
                    ConnectionManager::new_lazy_with_config(client, config).map_err(bad)?;
                Ok(SharedRedis::Single(manager))
            }
            Kind::Cluster(seeds) => {
                let client = self
                    .cluster_builder(seeds)
                    .retries(t.retries.max(MIN_CLUSTER_RETRIES) as u32)
                    .min_retry_wait(10)
                    .max_retry_wait(200)
                    .build()
                    .map_err(bad)?;
                let config = ClusterConfig::new()
                    .set_connection_timeout(t.connect)
                    .set_response_timeout(t.response);
                Ok(SharedRedis::Cluster(
                    client.get_pending_async_connection_with_config(config),
                ))
            }
        }
    }

    /// Subscribes to `channel`: plain pub/sub on a single server, sharded pub/sub
    /// (`SSUBSCRIBE`, resubscribed by the cluster client after a failover) on a cluster.
    /// The stream yields each message's payload; it ends when the connection is lost (a
    /// single server's), and the caller subscribes again.
    pub async fn subscribe(&self, channel: &str) -> RedisResult<Messages> {
        use futures::StreamExt;
        match &self.kind {
            Kind::Single(url) => {
                let client = self.client(url)?;
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(channel).await?;
                Ok(Box::pin(
                    pubsub
                        .into_on_message()
                        .map(|m| m.get_payload_bytes().to_vec()),
                ))
            }
            Kind::Cluster(seeds) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<redis::PushInfo>();
                let client = self
                    .cluster_builder(seeds)
                    .use_protocol(redis::ProtocolVersion::RESP3)
                    .push_sender(tx)
                    .build()?;
                let mut conn = client.get_async_connection().await?;
                conn.ssubscribe(channel).await?;
                let messages = futures::stream::unfold((rx, conn), |(mut rx, conn)| async {
                    loop {
                        let push = rx.recv().await?;
                        if push.kind != redis::PushKind::SMessage {
                            continue;
                        }
                        if let Some(Value::BulkString(payload)) = push.data.get(1) {
                            let payload = payload.clone();
                            return Some((payload, (rx, conn)));
                        }
                    }
                });
                Ok(Box::pin(messages))
            }
        }
    }
}

/// Payloads of the messages of a subscription.
pub type Messages = Pin<Box<dyn futures::Stream<Item = Vec<u8>> + Send>>;

/// The cluster form of a key prefix: `{prefix}`, or `prefix` itself when it already holds
/// a hash tag (a `{` followed, within the prefix, by a non-empty name and `}`).
pub fn cluster_prefix(prefix: &str) -> Result<String, RedisConfigError> {
    if prefix.is_empty() {
        return Err(RedisConfigError::EmptyClusterPrefix);
    }
    if hash_tag(prefix.as_bytes()).len() < prefix.len() {
        return Ok(prefix.to_string());
    }
    Ok(format!("{{{prefix}}}"))
}

/// The part of a key Redis Cluster hashes: the first `{...}` with something inside, else
/// the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The hash slot (0..16384) of a key, as Redis Cluster computes it (CRC16/XMODEM of its
/// hash tag).
pub fn key_slot(key: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in hash_tag(key) {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

/// `PUBLISH` on a single server, `SPUBLISH` (sharded, answered by the channel's slot's
/// master, where its [`RedisTarget::subscribe`]r listens) on a cluster.
pub fn publish_command(redis: &SharedRedis, channel: &str, message: &str) -> Cmd {
    let mut cmd = redis::cmd(if redis.is_cluster() {
        "SPUBLISH"
    } else {
        "PUBLISH"
    });
    cmd.arg(channel).arg(message);
    cmd
}

/// A connection to a single server or to a cluster: cheap to clone (clones share the
/// connection), reconnecting by itself.
#[derive(Clone)]
pub enum SharedRedis {
    /// One server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for SharedRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SharedRedis::Single(_) => "SharedRedis::Single",
            SharedRedis::Cluster(_) => "SharedRedis::Cluster",
        })
    }
}

impl SharedRedis {
    /// Whether this is a cluster connection.
    pub fn is_cluster(&self) -> bool {
        matches!(self, SharedRedis::Cluster(_))
    }
}

impl ConnectionLike for SharedRedis {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            SharedRedis::Single(c) => c.req_packed_command(cmd),
            SharedRedis::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            SharedRedis::Single(c) => c.req_packed_commands(pipeline, offset, count),
            SharedRedis::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            SharedRedis::Single(c) => c.get_db(),
            SharedRedis::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(url: &str) -> String {
        RedisTarget::parse(url)
            .err()
            .unwrap_or_else(|| panic!("{url} should be refused"))
            .to_string()
    }

    #[test]
    fn single_and_cluster_urls_parse() {
        let single = RedisTarget::parse("redis://127.0.0.1:6379").expect("single");
        assert!(!single.is_cluster());
        assert_eq!(single.node_urls(), ["redis://127.0.0.1:6379"]);
        let tls = RedisTarget::parse("rediss://cache.example:6380/2").expect("tls single");
        assert!(!tls.is_cluster());

        let cluster =
            RedisTarget::parse("redis+cluster://u:pw@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3:7002")
                .expect("cluster");
        assert!(cluster.is_cluster());
        assert_eq!(
            cluster.node_urls(),
            [
                "redis://u:pw@10.0.0.1:7000",
                "redis://u:pw@10.0.0.2:7001",
                "redis://u:pw@10.0.0.3:7002"
            ]
        );
        // Messages never show the password.
        assert_eq!(
            cluster.to_string(),
            "redis+cluster://u:***@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3:7002"
        );
        assert!(!format!("{cluster:?}").contains("pw"));

        let tls = RedisTarget::parse("rediss+cluster://a.example:7000,b.example:7000/0")
            .expect("tls cluster");
        assert_eq!(
            tls.node_urls(),
            ["rediss://a.example:7000/0", "rediss://b.example:7000/0"]
        );
    }

    #[test]
    fn bad_urls_name_the_url_and_why() {
        let e = err("127.0.0.1:6379");
        assert!(
            e.contains("127.0.0.1:6379") && e.contains("no scheme"),
            "{e}"
        );
        let e = err("http://127.0.0.1:6379");
        assert!(
            e.contains("http://127.0.0.1:6379") && e.contains("unknown scheme"),
            "{e}"
        );
        let e = err("redis+cluster://10.0.0.1:7000,,10.0.0.2:7000");
        assert!(
            e.contains("10.0.0.1:7000,,10.0.0.2") && e.contains("empty seed"),
            "{e}"
        );
        let e = err("redis+cluster://10.0.0.1:7000/3");
        assert!(e.contains("only database 0"), "{e}");
        let e = err("redis+cluster://u:secret@10.0.0.1:notaport");
        assert!(e.contains("redis+cluster://u:***@10.0.0.1:notaport"), "{e}");
        assert!(!e.contains("secret"), "the password is masked: {e}");
        let e = err("redis://");
        assert!(e.contains("invalid Redis URL redis://"), "{e}");
    }

    #[test]
    fn bad_tls_files_name_the_file() {
        let dir = std::env::temp_dir().join(format!("apigw-redis-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let tls = RedisTarget::parse("rediss://127.0.0.1:6380").expect("tls");
        let with_ca = |path: &Path| {
            tls.clone()
                .with_tls(&TlsFiles {
                    ca_file: Some(path.to_path_buf()),
                    ..TlsFiles::default()
                })
                .err()
                .unwrap_or_else(|| panic!("{} should be refused", path.display()))
                .to_string()
        };
        let missing = dir.join("missing.pem");
        let e = with_ca(&missing);
        assert!(e.contains("missing.pem"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = with_ca(&empty);
        assert!(
            e.contains("empty.pem") && e.contains("no PEM certificate"),
            "{e}"
        );
        let garbage = dir.join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let e = with_ca(&garbage);
        assert!(e.contains("garbage.pem"), "{e}");

        // No files: unchanged; files on a plain URL, or half a client pair: refused.
        assert!(tls.clone().with_tls(&TlsFiles::default()).is_ok());
        let plain = RedisTarget::parse("redis://127.0.0.1:6379").expect("plain");
        let e = plain
            .with_tls(&TlsFiles {
                ca_file: Some(garbage.clone()),
                ..TlsFiles::default()
            })
            .expect_err("a CA for a plain URL is refused")
            .to_string();
        assert!(e.contains("rediss://"), "{e}");
        let e = tls
            .clone()
            .with_tls(&TlsFiles {
                client_cert_file: Some(garbage),
                ..TlsFiles::default()
            })
            .expect_err("a certificate without its key is refused")
            .to_string();
        assert!(e.contains("--redis-client-key-file"), "{e}");
        let cluster = RedisTarget::parse("rediss+cluster://127.0.0.1:7000,127.0.0.1:7001")
            .expect("tls cluster");
        assert!(cluster.is_tls());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn slots_match_redis_cluster() {
        // Values from `CLUSTER KEYSLOT` (Redis 7).
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        // CRC16/XMODEM's check value, 0x31C3, is below 16384.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // An empty tag is no tag: the whole key is hashed.
        assert_eq!(hash_tag(b"{}foo"), b"{}foo");
        assert_eq!(hash_tag(b"a{b}{c}"), b"b");
    }

    #[test]
    fn cluster_prefixes_are_hash_tags() {
        assert_eq!(cluster_prefix("apigw:").expect("prefix"), "{apigw:}");
        assert_eq!(cluster_prefix("{gw1}:").expect("tagged"), "{gw1}:");
        assert!(matches!(
            cluster_prefix(""),
            Err(RedisConfigError::EmptyClusterPrefix)
        ));
        let single = RedisTarget::parse("redis://127.0.0.1").expect("single");
        assert_eq!(single.key_prefix("apigw:").expect("prefix"), "apigw:");
        let cluster = RedisTarget::parse("redis+cluster://127.0.0.1:7000").expect("cluster");
        assert_eq!(
            cluster.key_prefix("e2e:abc:").expect("prefix"),
            "{e2e:abc:}"
        );
    }

    /// Every key a multi-key script or command of either plane takes (ARCHITECTURE.md's
    /// Redis key table, with hostile names below the prefix: braces in paths and ids)
    /// lands in the prefix's slot on a cluster.
    #[test]
    fn every_key_of_a_gateway_shares_one_slot() {
        let cluster = RedisTarget::parse("redis+cluster://127.0.0.1:7000").expect("cluster");
        for prefix in ["apigw:", "e2e:0123abcd:", "{tenant-7}:", "a}b", "{"] {
            let p = cluster.key_prefix(prefix).expect("prefix");
            let slot = key_slot(p.as_bytes());
            let suffixes = [
                "cluster",
                "state",
                "b:acct",
                "b:s:api1:prod:/pets/{petId}/GET",
                "b:s:api1:prod:*/*",
                "b:k:plan1:key1",
                "b:km:plan1:key1:api1:prod:/{proxy+}/ANY",
                "b:ws:api1:prod:{sendMessage}",
                "b:wsc:api1:prod",
                "q:none",
                "q:plan1:key1:1764547200",
                "u",
                "ub:batch-1",
                "ubs",
                "nodes",
                "c:api1:prod:abcdef",
                "ci:api1:prod",
                "cs:api1:prod",
                "ct:api1:prod",
                "ws:conn:{conn}",
                "ws:count:node-1",
                "ws:counts",
                "wsu",
                "wsub:batch-1",
                "wsubs",
                "ws:node:node-1",
                "az:0123",
            ];
            for s in suffixes {
                let key = format!("{p}{s}");
                assert_eq!(key_slot(key.as_bytes()), slot, "{key} is not in {p}'s slot");
            }
        }
    }
}
