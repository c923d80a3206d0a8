//! TLS of the node's gRPC calls to the control plane: the config stream
//! ([`crate::config_client`]), the metrics and the log shipments. An `https://` URL
//! (`--control-plane`, `--metrics-url`, `--logs-url`) is called over TLS with tonic's
//! rustls (ring provider), verifying the control plane's certificate against
//! `--control-plane-ca-file` (a PEM bundle: only those CAs), or the public webpki roots
//! without it; `--control-plane-cert-file` / `--control-plane-key-file` present the node's
//! client certificate to a control plane that asks for one (`--grpc-client-ca-file`).
//! `http://` URLs stay plain HTTP/2 (h2c).
//!
//! The files are read and checked once at start, so a wrong one stops the node with a
//! message naming its flag.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// How the node's gRPC clients verify (and present themselves to) an `https://` control
/// plane. Its `Debug` shows no key.
#[derive(Clone)]
pub struct ControlPlaneTls {
    config: ClientTlsConfig,
    private_ca: bool,
    client_cert: bool,
}

impl Default for ControlPlaneTls {
    /// The public webpki roots, no client certificate.
    fn default() -> Self {
        ControlPlaneTls {
            config: ClientTlsConfig::new().with_webpki_roots(),
            private_ca: false,
            client_cert: false,
        }
    }
}

impl std::fmt::Debug for ControlPlaneTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlaneTls")
            .field("private_ca", &self.private_ca)
            .field("client_cert", &self.client_cert)
            .finish()
    }
}

/// Why the TLS of the calls to the control plane cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneTlsError {
    /// Only one of the client certificate and key flags was given.
    #[error(
        "--control-plane-cert-file (CONTROL_PLANE_CERT_FILE) and --control-plane-key-file \
         (CONTROL_PLANE_KEY_FILE) go together: give both, or neither"
    )]
    HalfIdentity,
    /// TLS files were given, but no URL of the control plane is `https://`.
    #[error(
        "{flag} is set, but the control plane URL {url:?} is not https://: use \
         --control-plane https://host:port (the control plane with --grpc-tls-cert-file)"
    )]
    NotHttps {
        /// The flag given.
        flag: &'static str,
        /// The URL.
        url: String,
    },
    /// A file cannot be read.
    #[error("{flag} {path}: {source}")]
    Read {
        /// The flag naming it.
        flag: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error("{flag} {path}: {reason}")]
    Content {
        /// The flag naming it.
        flag: &'static str,
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

const CA_FLAG: &str = "--control-plane-ca-file";
const CERT_FLAG: &str = "--control-plane-cert-file";
const KEY_FLAG: &str = "--control-plane-key-file";

/// The URLs of a `--control-plane` / `--metrics-url` / `--logs-url` value: one URL, or
/// several separated by commas (control-plane replicas the node fails over between), in
/// the order given; blanks dropped.
pub fn split_urls(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `url` is called over TLS.
pub fn is_https(url: &str) -> bool {
    url.trim_start()
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

impl ControlPlaneTls {
    /// From the node's flags. `urls` is `--control-plane` (one URL or several, comma
    /// separated): TLS files given for an `http://` control plane are refused (they would
    /// silently protect nothing).
    pub fn from_files(
        urls: &str,
        ca_file: Option<&str>,
        cert_file: Option<&str>,
        key_file: Option<&str>,
    ) -> Result<Self, ControlPlaneTlsError> {
        let given = [
            (CA_FLAG, ca_file),
            (CERT_FLAG, cert_file),
            (KEY_FLAG, key_file),
        ]
        .into_iter()
        .find_map(|(flag, file)| file.map(|_| flag));
        if let Some(flag) = given {
            if let Some(url) = split_urls(urls).into_iter().find(|u| !is_https(u)) {
                return Err(ControlPlaneTlsError::NotHttps { flag, url });
            }
        }
        let mut tls = ControlPlaneTls::default();
        if let Some(path) = ca_file {
            let pem = read(CA_FLAG, path)?;
            certificates(&pem).map_err(|reason| content(CA_FLAG, path, reason))?;
            tls.config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
            tls.private_ca = true;
        }
        match (cert_file, key_file) {
            (Some(cert_path), Some(key_path)) => {
                let cert = read(CERT_FLAG, cert_path)?;
                certificates(&cert).map_err(|reason| content(CERT_FLAG, cert_path, reason))?;
                let key = read(KEY_FLAG, key_path)?;
                PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| {
                    content(
                        KEY_FLAG,
                        key_path,
                        "holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)".into(),
                    )
                })?;
                tls.config = tls.config.identity(Identity::from_pem(cert, key));
                tls.client_cert = true;
            }
            (None, None) => {}
            _ => return Err(ControlPlaneTlsError::HalfIdentity),
        }
        Ok(tls)
    }

    /// Whether the control plane is verified against `--control-plane-ca-file` (else the
    /// public roots).
    pub fn has_private_ca(&self) -> bool {
        self.private_ca
    }

    /// Whether a client certificate is presented.
    pub fn has_client_cert(&self) -> bool {
        self.client_cert
    }

    /// The endpoint of `url`: over TLS with this configuration when it is `https://`.
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, tonic::transport::Error> {
        let endpoint = Endpoint::from_shared(url.to_string())?;
        if is_https(url) {
            endpoint.tls_config(self.config.clone())
        } else {
            Ok(endpoint)
        }
    }
}

/// One lazily connected gRPC client per control-plane replica (`--metrics-url` /
/// `--logs-url`, or `--control-plane`: comma-separated URLs) and the one calls go to: a
/// call that fails moves the next call to the next replica, so a shipper follows the
/// control planes that are up. Shipments are deduplicated in Postgres, which the replicas
/// share, so a retry through another replica never counts twice.
#[derive(Debug, Clone)]
pub struct Replicas<C> {
    clients: Vec<C>,
    at: usize,
}

impl<C> Replicas<C> {
    /// Clients for `urls` (at least one; an empty list is the single URL `""`, refused as
    /// invalid), each over a lazily connected channel made by `client`.
    pub fn connect_lazy(
        tls: &ControlPlaneTls,
        urls: &str,
        client: impl Fn(tonic::transport::Channel) -> C,
    ) -> Result<Self, (String, tonic::transport::Error)> {
        let mut list = split_urls(urls);
        if list.is_empty() {
            list.push(String::new());
        }
        let clients = list
            .into_iter()
            .map(|url| match tls.endpoint(&url) {
                Ok(endpoint) => Ok(client(
                    endpoint
                        .connect_timeout(std::time::Duration::from_secs(3))
                        .tcp_nodelay(true)
                        .connect_lazy(),
                )),
                Err(error) => Err((url, error)),
            })
            .collect::<Result<Vec<C>, _>>()?;
        Ok(Replicas { clients, at: 0 })
    }

    /// The client of the replica calls go to now.
    pub fn current(&mut self) -> &mut C {
        &mut self.clients[self.at]
    }

    /// The last call through [`Replicas::current`] failed: the next goes to the next
    /// replica.
    pub fn failed(&mut self) {
        self.at = (self.at + 1) % self.clients.len();
    }
}

fn read(flag: &'static str, path: &str) -> Result<String, ControlPlaneTlsError> {
    std::fs::read_to_string(path).map_err(|source| ControlPlaneTlsError::Read {
        flag,
        path: path.to_string(),
        source,
    })
}

fn content(flag: &'static str, path: &str, reason: String) -> ControlPlaneTlsError {
    ControlPlaneTlsError::Content {
        flag,
        path: path.to_string(),
        reason,
    }
}

fn certificates(pem: &str) -> Result<usize, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs.len())
}

/// The rustls error somewhere in `error`'s chain (a failed handshake: an unknown issuer,
/// a name mismatch, the server's alert refusing the node's certificate), if any.
pub fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        // io::Error hides its inner error from `source()`; look inside.
        if let Some(r) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(r);
        }
        next = e.source();
    }
    None
}

/// `error` and its sources, `: `-separated (tonic's transport error alone says only
/// "transport error").
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_urls_are_split_and_each_must_be_https_with_tls_files() {
        assert_eq!(
            split_urls(" http://a:9090, ,http://b:9090,"),
            ["http://a:9090", "http://b:9090"]
        );
        let error = ControlPlaneTls::from_files(
            "https://a:9090,http://b:9090",
            None,
            Some("/nonexistent/cert.pem"),
            Some("/nonexistent/key.pem"),
        )
        .expect_err("an http:// replica with TLS files");
        assert!(
            matches!(&error, ControlPlaneTlsError::NotHttps { url, .. } if url == "http://b:9090"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn replicas_move_to_the_next_after_a_failure_and_wrap() {
        let tls = ControlPlaneTls::default();
        // Each "client" remembers the order it was made in.
        let made = std::cell::Cell::new(0);
        let mut replicas =
            Replicas::connect_lazy(&tls, "http://127.0.0.1:1,http://127.0.0.1:2", |_| {
                made.set(made.get() + 1);
                made.get()
            })
            .expect("valid URLs");
        assert_eq!(*replicas.current(), 1);
        replicas.failed();
        assert_eq!(*replicas.current(), 2);
        replicas.failed();
        assert_eq!(*replicas.current(), 1, "wraps around");
        assert!(Replicas::connect_lazy(&tls, "not a url", |c| c).is_err());
    }

    #[test]
    fn files_are_checked_and_tls_needs_https() {
        let dir = std::env::temp_dir().join(format!("cp-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("written");
            p.display().to_string()
        };
        let ca = write("ca.pem", &made.cert.pem());
        let key = write("key.pem", &made.key_pair.serialize_pem());
        let garbage = write("garbage.pem", "hello");
        let https = "https://127.0.0.1:9090";

        let plain =
            ControlPlaneTls::from_files("http://127.0.0.1:9090", None, None, None).expect("plain");
        assert!(!plain.has_client_cert());
        assert!(plain.endpoint("http://127.0.0.1:9090").is_ok());
        assert!(plain.endpoint("https://127.0.0.1:9090").is_ok());
        let msg = ControlPlaneTls::from_files("http://127.0.0.1:9090", Some(&ca), None, None)
            .expect_err("http with a CA")
            .to_string();
        assert!(msg.contains("--control-plane-ca-file") && msg.contains("https://"));
        let tls = ControlPlaneTls::from_files(https, Some(&ca), Some(&ca), Some(&key))
            .expect("mutual TLS");
        assert!(tls.has_client_cert());
        assert!(tls.endpoint(https).is_ok());
        assert!(!format!("{tls:?}").contains("PRIVATE"));
        assert!(matches!(
            ControlPlaneTls::from_files(https, Some(&ca), Some(&ca), None),
            Err(ControlPlaneTlsError::HalfIdentity)
        ));
        let msg = ControlPlaneTls::from_files(https, Some(&garbage), None, None)
            .expect_err("no CA")
            .to_string();
        assert!(msg.starts_with("--control-plane-ca-file") && msg.contains("no PEM certificate"));
        let msg = ControlPlaneTls::from_files(https, None, Some(&ca), Some(&garbage))
            .expect_err("no key")
            .to_string();
        assert!(msg.starts_with("--control-plane-key-file"), "{msg}");
        let msg = ControlPlaneTls::from_files(https, Some("/nonexistent/ca.pem"), None, None)
            .expect_err("missing")
            .to_string();
        assert!(msg.contains("/nonexistent/ca.pem"), "{msg}");
        assert!(is_https("HTTPS://x:1") && !is_https("http://x:1"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
