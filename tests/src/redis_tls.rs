//! Redis over TLS for tests: a test CA ([`crate::tls::TestCa`]) issuing a server
//! certificate for `127.0.0.1` and a client certificate, written as PEM files into a
//! directory of their own (removed on drop); a private `redis-server` serving only TLS
//! ([`TlsRedisServer`]); and connections that trust the CA. The TLS Redis Cluster is
//! [`crate::redis_cluster::RedisCluster::start_tls`].

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::eventually;
use crate::tls::TestCa;

/// A CA and the certificates a TLS Redis and its clients use, as files.
pub struct RedisTls {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The CA's certificate (`--tls-ca-cert-file`, `--redis-ca-file`).
    pub ca_file: PathBuf,
    /// The server's certificate, for `127.0.0.1` (`--tls-cert-file`).
    pub server_cert_file: PathBuf,
    /// Its key (`--tls-key-file`).
    pub server_key_file: PathBuf,
    /// A client certificate the CA issued (`--redis-client-cert-file`).
    pub client_cert_file: PathBuf,
    /// Its key (`--redis-client-key-file`).
    pub client_key_file: PathBuf,
    ca_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

impl Drop for RedisTls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisTls {
    /// A new CA named `name` and its certificates, written to a fresh directory.
    pub fn new(name: &str) -> Arc<Self> {
        let dir = std::env::temp_dir().join(format!(
            "apigw-e2e-redis-tls-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("the TLS files' directory");
        let ca = TestCa::new(name);
        let server = ca.server("127.0.0.1");
        let client = ca.client("apigw-node");
        let write = |file: &str, pem: &str| {
            let path = dir.join(file);
            std::fs::write(&path, pem).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            path
        };
        Arc::new(Self {
            ca_file: write("ca.pem", &ca.pem),
            server_cert_file: write("server.pem", &server.cert_pem),
            server_key_file: write("server.key", &server.key_pem),
            client_cert_file: write("client.pem", &client.cert_pem),
            client_key_file: write("client.key", &client.key_pem),
            ca_pem: ca.pem.clone(),
            client_cert_pem: client.cert_pem,
            client_key_pem: client.key_pem,
            dir,
        })
    }

    /// `redis-server` arguments serving TLS only on `port` with these certificates;
    /// `auth_clients`: whether a client must present a certificate of the CA.
    pub fn server_args(&self, port: u16, auth_clients: bool) -> Vec<String> {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &path(&self.server_cert_file),
            "--tls-key-file",
            &path(&self.server_key_file),
            "--tls-ca-cert-file",
            &path(&self.ca_file),
            "--tls-auth-clients",
            if auth_clients { "yes" } else { "no" },
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// The certificates a client trusting this CA (and presenting its client certificate)
    /// uses.
    pub fn certificates(&self) -> redis::TlsCertificates {
        redis::TlsCertificates {
            client_tls: Some(redis::ClientTlsConfig {
                client_cert: self.client_cert_pem.clone().into_bytes(),
                client_key: self.client_key_pem.clone().into_bytes(),
            }),
            root_cert: Some(self.ca_pem.clone().into_bytes()),
        }
    }

    /// A multiplexed connection to the TLS Redis on `port` (not cluster-aware).
    pub async fn connection(
        &self,
        port: u16,
    ) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let client = redis::Client::build_with_tls(
            format!("rediss://127.0.0.1:{port}"),
            self.certificates(),
        )?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// The `--redis-*` TLS environment of the binaries: this CA, and the client
    /// certificate when `client_cert`.
    pub fn env(&self, client_cert: bool) -> Vec<(&'static str, String)> {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        let mut env = vec![("REDIS_CA_FILE", path(&self.ca_file))];
        if client_cert {
            env.push(("REDIS_CLIENT_CERT_FILE", path(&self.client_cert_file)));
            env.push(("REDIS_CLIENT_KEY_FILE", path(&self.client_key_file)));
        }
        env
    }
}

/// A private `redis-server` serving only TLS, no persistence; killed on drop.
pub struct TlsRedisServer {
    /// Its TLS port.
    pub port: u16,
    _child: Child,
}

impl TlsRedisServer {
    /// Starts it on `port` with `tls`'s certificates and waits for PING over TLS;
    /// `auth_clients`: clients must present a certificate of the CA (mutual TLS).
    pub async fn start(port: u16, tls: &RedisTls, auth_clients: bool) -> Self {
        let child = Command::new("redis-server")
            .args(tls.server_args(port, auth_clients))
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting redis-server (is it installed?): {e}"));
        eventually(
            &format!("the TLS Redis on {port} answering PING"),
            Duration::from_secs(10),
            || async move {
                let mut c = tls.connection(port).await.ok()?;
                redis::cmd("PING").query_async::<String>(&mut c).await.ok()
            },
        )
        .await;
        Self {
            port,
            _child: child,
        }
    }

    /// `rediss://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }
}
