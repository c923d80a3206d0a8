//! TLS of the gRPC listener (`--grpc-tls-cert-file`, `--grpc-tls-key-file`, optionally
//! `--grpc-client-ca-file`): the config stream carries every custom domain's private key and
//! every client certificate's key, so outside a trusted network it runs over TLS, with the
//! nodes' metrics and log shipments on the same listener.
//!
//! rustls (the ring provider the rest of the workspace uses, through tokio-rustls, as
//! tonic's own server TLS does) terminates it in [`incoming`], before tonic sees the
//! connection: tonic's server TLS bounds the handshake but then hands the connection to
//! HTTP/2, which waits for the client's preface for ever, so a client that completes the
//! handshake and sends nothing would hold its connection open. Here the handshake and the
//! preface share `--header-read-timeout` from accept, as the preface alone does on a plain
//! listener ([`crate::http_server::PrefaceDeadline`]). The nodes' side is tonic's client TLS.
//!
//! The files are read and checked first, so a wrong one stops the control plane at start
//! with a message naming its flag, instead of every node's handshake failing later. With a
//! client CA, every node must present a certificate chaining to it (mutual TLS); a node
//! without one is refused during the handshake, with a warning naming its address.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

use crate::http_server::{PrefaceDeadline, H2_PREFACE_LEN};

/// The files of the gRPC listener's TLS.
#[derive(Debug, Clone)]
pub struct GrpcTlsFiles {
    /// The listener's certificate, PEM (end-entity first, then intermediates).
    pub cert_file: PathBuf,
    /// Its private key, PEM.
    pub key_file: PathBuf,
    /// CAs (PEM bundle) a node's client certificate must chain to; `None`: no client
    /// certificate is asked for.
    pub client_ca_file: Option<PathBuf>,
}

/// Why the gRPC listener's TLS cannot be set up (each names the flag to fix).
#[derive(Debug, thiserror::Error)]
pub enum GrpcTlsError {
    /// Only one of the certificate and key flags was given.
    #[error(
        "--grpc-tls-cert-file (CP_GRPC_TLS_CERT_FILE) and --grpc-tls-key-file \
         (CP_GRPC_TLS_KEY_FILE) go together: give both, or neither for a plain listener"
    )]
    HalfIdentity,
    /// A client CA without a certificate of the listener's own.
    #[error(
        "--grpc-client-ca-file (CP_GRPC_CLIENT_CA_FILE) needs --grpc-tls-cert-file and \
         --grpc-tls-key-file: client certificates are only asked for over TLS"
    )]
    ClientCaWithoutTls,
    /// A file cannot be read.
    #[error("{flag} {path}: {source}")]
    Read {
        /// The flag naming the file.
        flag: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error("{flag} {path}: {reason}")]
    Content {
        /// The flag naming the file.
        flag: &'static str,
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

const CERT_FLAG: &str = "--grpc-tls-cert-file";
const KEY_FLAG: &str = "--grpc-tls-key-file";
const CA_FLAG: &str = "--grpc-client-ca-file";

impl GrpcTlsFiles {
    /// The files from the three optional flags: `None` for a plain listener.
    pub fn from_flags(
        cert_file: Option<PathBuf>,
        key_file: Option<PathBuf>,
        client_ca_file: Option<PathBuf>,
    ) -> Result<Option<Self>, GrpcTlsError> {
        match (cert_file, key_file) {
            (Some(cert_file), Some(key_file)) => Ok(Some(GrpcTlsFiles {
                cert_file,
                key_file,
                client_ca_file,
            })),
            (None, None) if client_ca_file.is_some() => Err(GrpcTlsError::ClientCaWithoutTls),
            (None, None) => Ok(None),
            _ => Err(GrpcTlsError::HalfIdentity),
        }
    }

    /// Reads and checks the files (certificates that parse, a private key matching the
    /// first certificate, a client CA bundle with at least one certificate) into the
    /// listener's rustls configuration: TLS 1.2 and 1.3, ALPN `h2`.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, GrpcTlsError> {
        let cert_pem = read(CERT_FLAG, &self.cert_file)?;
        let key_pem = read(KEY_FLAG, &self.key_file)?;
        let content = |flag: &'static str, path: &Path, reason: String| GrpcTlsError::Content {
            flag,
            path: path.display().to_string(),
            reason,
        };
        let certs = certificates(&cert_pem).map_err(|r| content(CERT_FLAG, &self.cert_file, r))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
            content(
                KEY_FLAG,
                &self.key_file,
                "holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)".into(),
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let signing = provider
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| content(KEY_FLAG, &self.key_file, format!("unsupported key: {e}")))?;
        let certified = rustls::sign::CertifiedKey::new(certs.clone(), signing);
        if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
            certified.keys_match()
        {
            return Err(content(
                KEY_FLAG,
                &self.key_file,
                format!(
                    "does not match the public key of the certificate in {}",
                    self.cert_file.display()
                ),
            ));
        }
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| content(CERT_FLAG, &self.cert_file, e.to_string()))?;
        let builder = match &self.client_ca_file {
            Some(ca_file) => {
                let ca_pem = read(CA_FLAG, ca_file)?;
                let cas = certificates(&ca_pem).map_err(|r| content(CA_FLAG, ca_file, r))?;
                let mut roots = rustls::RootCertStore::empty();
                for ca in cas {
                    roots
                        .add(ca)
                        .map_err(|e| content(CA_FLAG, ca_file, e.to_string()))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| content(CA_FLAG, ca_file, e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| content(KEY_FLAG, &self.key_file, e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The gRPC listener's connections over TLS: each accepted connection's handshake runs on
/// its own task (a slow one delays no other), and must end, together with the client's
/// HTTP/2 preface after it, within `timeout` from accept. Ends when tonic stops reading
/// (shutdown).
pub fn incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
) -> tokio_stream::wrappers::ReceiverStream<std::io::Result<PrefaceDeadline<TlsStream<TcpStream>>>>
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let (tcp, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // e.g. EMFILE: back off briefly instead of spinning.
                        tracing::warn!(%error, "gRPC accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = tx.closed() => return,
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + timeout;
                match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                        let _ = tx
                            .send(Ok(PrefaceDeadline::new(tls, H2_PREFACE_LEN, left)))
                            .await;
                    }
                    // A node with a wrong or missing client certificate lands here: say so.
                    Ok(Err(error)) => {
                        tracing::warn!(%remote, %error, "gRPC TLS handshake refused");
                    }
                    Err(_) => tracing::debug!(
                        %remote,
                        "gRPC TLS handshake not finished within the header read timeout; closed"
                    ),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn read(flag: &'static str, path: &Path) -> Result<String, GrpcTlsError> {
    std::fs::read_to_string(path).map_err(|source| GrpcTlsError::Read {
        flag,
        path: path.display().to_string(),
        source,
    })
}

/// Every certificate of a PEM text; at least one.
fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not valid PEM: {e}"))?;
    for der in &certs {
        x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
    }
    if certs.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("written");
        path
    }

    #[test]
    fn files_are_checked_and_name_their_flag() {
        let dir = std::env::temp_dir().join(format!("grpc-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let a = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("a");
        let b = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("b");
        let cert = write(&dir, "cert.pem", &a.cert.pem());
        let key = write(&dir, "key.pem", &a.key_pair.serialize_pem());
        let other_key = write(&dir, "other.pem", &b.key_pair.serialize_pem());
        let garbage = write(&dir, "garbage.pem", "hello");

        assert!(GrpcTlsFiles::from_flags(None, None, None)
            .expect("plain")
            .is_none());
        assert!(matches!(
            GrpcTlsFiles::from_flags(Some(cert.clone()), None, None),
            Err(GrpcTlsError::HalfIdentity)
        ));
        assert!(matches!(
            GrpcTlsFiles::from_flags(None, None, Some(cert.clone())),
            Err(GrpcTlsError::ClientCaWithoutTls)
        ));
        let files = |cert: &Path, key: &Path, ca: Option<&Path>| GrpcTlsFiles {
            cert_file: cert.to_path_buf(),
            key_file: key.to_path_buf(),
            client_ca_file: ca.map(Path::to_path_buf),
        };
        assert!(files(&cert, &key, None).server_config().is_ok());
        assert!(files(&cert, &key, Some(&cert)).server_config().is_ok());
        let msg = files(&cert, &other_key, None)
            .server_config()
            .expect_err("mismatch")
            .to_string();
        assert!(
            msg.starts_with("--grpc-tls-key-file") && msg.contains("does not match"),
            "{msg}"
        );
        let msg = files(&garbage, &key, None)
            .server_config()
            .expect_err("no cert")
            .to_string();
        assert!(msg.contains("--grpc-tls-cert-file") && msg.contains("no PEM certificate"));
        let msg = files(&cert, &garbage, None)
            .server_config()
            .expect_err("no key")
            .to_string();
        assert!(msg.contains("no PEM private key"), "{msg}");
        let msg = files(&cert, &key, Some(&garbage))
            .server_config()
            .expect_err("no CA")
            .to_string();
        assert!(msg.starts_with("--grpc-client-ca-file"), "{msg}");
        let msg = files(&dir.join("nope.pem"), &key, None)
            .server_config()
            .expect_err("missing")
            .to_string();
        assert!(msg.contains("nope.pem"), "{msg}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
