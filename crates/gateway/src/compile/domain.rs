//! Custom domain names, compiled at config-apply time: the host table (exact names and
//! `*.` wildcards), each domain's base path mappings (longest first), and its TLS
//! `ServerConfig` (certificate, TLS versions by `securityPolicy`, ALPN h2 + http/1.1, a
//! client-certificate verifier over the truststore for mutual TLS).
//!
//! A node's HTTPS listener reads the SNI name, looks the domain up here and completes the
//! handshake with that domain's `ServerConfig`; the state is swapped atomically, so a
//! rotated certificate is used by the next handshake without a restart.

use std::collections::HashMap;
use std::sync::Arc;

use apigw_proto::config::{CustomDomain, DomainConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Why a domain could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Certificate, key or truststore unusable.
    #[error("custom domain {domain}: {reason}")]
    Tls {
        /// The domain.
        domain: String,
        /// What failed.
        reason: String,
    },
}

/// One base path mapping.
#[derive(Debug)]
struct Mapping {
    /// Without slashes at either end; empty for `(none)`.
    base: Box<str>,
    api_id: Box<str>,
    /// `None`: the path's next segment names the stage.
    stage: Option<Box<str>>,
}

/// A compiled custom domain.
#[derive(Debug)]
pub struct CompiledDomain {
    /// The domain name as configured (lower case).
    pub name: Box<str>,
    mappings: Vec<Mapping>,
    /// The TLS configuration of its handshakes; `None` when the private key is not known
    /// (a node restored from a state file kept without `DP_STATE_KEY`): the domain routes
    /// plain HTTP and refuses handshakes until the control plane sends the key.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Whether clients must present a certificate chaining to the truststore.
    pub mutual_tls: bool,
}

/// Where a custom-domain request goes.
#[derive(Debug, PartialEq, Eq)]
pub struct DomainRoute<'a> {
    /// The API.
    pub api_id: &'a str,
    /// The stage (from the mapping, or the path's segment after the base path).
    pub stage: &'a str,
    /// Byte offset of the stage-relative path in the URI path.
    pub path_start: usize,
}

impl CompiledDomain {
    /// The longest mapping whose base path is a whole-segment prefix of `path`.
    pub fn route<'a>(&'a self, path: &'a str) -> Option<DomainRoute<'a>> {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let lead = path.len() - rest.len();
        self.mappings.iter().find_map(|m| {
            // `after`: what follows the base path (with its leading '/'), at `offset`.
            let (after, offset) = if m.base.is_empty() {
                (path, 0)
            } else {
                let tail = rest.strip_prefix(&*m.base)?;
                if !(tail.is_empty() || tail.starts_with('/')) {
                    return None;
                }
                (tail, lead + (rest.len() - tail.len()))
            };
            match &m.stage {
                Some(stage) => Some(DomainRoute {
                    api_id: &m.api_id,
                    stage,
                    path_start: offset,
                }),
                None => {
                    let seg_rest = after.strip_prefix('/').unwrap_or(after);
                    let stage = seg_rest.split('/').next().unwrap_or("");
                    let start = offset + (after.len() - seg_rest.len()) + stage.len();
                    Some(DomainRoute {
                        api_id: &m.api_id,
                        stage,
                        path_start: start.min(path.len()),
                    })
                }
            }
        })
    }
}

/// Every custom domain of the node, by host name.
#[derive(Debug, Default)]
pub struct CompiledDomains {
    exact: FastMap<Box<str>, Arc<CompiledDomain>>,
    /// `*.example.com` keyed `example.com`.
    wildcard: FastMap<Box<str>, Arc<CompiledDomain>>,
}

impl CompiledDomains {
    /// Whether there are none (then no lookup is made).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty()
    }

    /// The domain serving `host` (a `:port` is ignored, case-insensitive).
    pub fn get(&self, host: &str) -> Option<&Arc<CompiledDomain>> {
        if self.is_empty() {
            return None;
        }
        let host = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        let lowered;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = host.to_ascii_lowercase();
            lowered.as_str()
        } else {
            host
        };
        self.exact.get(host).or_else(|| {
            let (_, parent) = host.split_once('.')?;
            self.wildcard.get(parent)
        })
    }
}

fn tls_err(domain: &str, reason: impl std::fmt::Display) -> DomainError {
    DomainError::Tls {
        domain: domain.to_string(),
        reason: reason.to_string(),
    }
}

/// The TLS versions of a security policy: TLS 1.3 only for the `SecurityPolicy_TLS13_1_3_*`
/// policies; TLS 1.2 and 1.3 for every other (rustls has no TLS 1.0/1.1, so `TLS_1_0`
/// serves 1.2 and 1.3).
pub fn protocol_versions(policy: &str) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12_AND_13: [&rustls::SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    if policy.starts_with("SecurityPolicy_TLS13_1_3") {
        &TLS13_ONLY
    } else {
        &TLS12_AND_13
    }
}

/// Builds one domain's `ServerConfig`.
fn server_config(d: &CustomDomain) -> Result<rustls::ServerConfig, DomainError> {
    let name = &d.domain_name;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(d.certificate_chain_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| tls_err(name, format!("certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(tls_err(name, "no certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(d.private_key_pem.as_bytes())
        .map_err(|e| tls_err(name, format!("private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(protocol_versions(&d.security_policy))
        .map_err(|e| tls_err(name, e))?;
    let builder = if d.truststore_pem.trim().is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(d.truststore_pem.as_bytes()) {
            let cert = cert.map_err(|e| tls_err(name, format!("truststore: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| tls_err(name, format!("truststore: {e}")))?;
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_err(name, format!("truststore: {e}")))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| tls_err(name, e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Compiles the streamed domains.
pub fn compile_domains(config: &DomainConfig) -> Result<CompiledDomains, DomainError> {
    let mut out = CompiledDomains::default();
    for d in &config.domains {
        let mut mappings: Vec<Mapping> = d
            .mappings
            .iter()
            .map(|m| Mapping {
                base: m.base_path.trim_matches('/').into(),
                api_id: m.api_id.as_str().into(),
                stage: (!m.stage.is_empty()).then(|| m.stage.as_str().into()),
            })
            .collect();
        mappings.sort_by_key(|m| std::cmp::Reverse(m.base.len()));
        let compiled = Arc::new(CompiledDomain {
            name: d.domain_name.as_str().into(),
            mappings,
            tls: if d.private_key_pem.is_empty() {
                None
            } else {
                Some(Arc::new(server_config(d)?))
            },
            mutual_tls: !d.truststore_pem.trim().is_empty(),
        });
        match d.domain_name.strip_prefix("*.") {
            Some(parent) => out.wildcard.insert(parent.into(), compiled),
            None => out.exact.insert(d.domain_name.as_str().into(), compiled),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_proto::config::BasePathMappingConfig;

    fn domain(name: &str, mappings: &[(&str, &str, &str)]) -> CustomDomain {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        CustomDomain {
            domain_name: name.into(),
            certificate_chain_pem: cert.pem(),
            private_key_pem: key.serialize_pem(),
            security_policy: "TLS_1_2".into(),
            truststore_pem: String::new(),
            mappings: mappings
                .iter()
                .map(|(b, a, s)| BasePathMappingConfig {
                    base_path: b.to_string(),
                    api_id: a.to_string(),
                    stage: s.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn longest_base_path_wins_and_is_stripped() {
        let compiled = compile_domains(&DomainConfig {
            domains: vec![domain(
                "api.example.com",
                &[
                    ("", "root", "prod"),
                    ("v1", "one", "s1"),
                    ("v1/orders", "orders", ""),
                ],
            )],
            client_certificates: vec![],
        })
        .unwrap();
        let d = compiled.get("API.example.com:8443").unwrap();
        let r = |p: &'static str| d.route(p).unwrap();
        assert_eq!(
            r("/v1/orders/beta/items/1"),
            DomainRoute {
                api_id: "orders",
                stage: "beta",
                path_start: 15
            }
        );
        assert_eq!(&"/v1/orders/beta/items/1"[15..], "/items/1");
        assert_eq!(
            r("/v1/x"),
            DomainRoute {
                api_id: "one",
                stage: "s1",
                path_start: 3
            }
        );
        assert_eq!(
            r("/v1"),
            DomainRoute {
                api_id: "one",
                stage: "s1",
                path_start: 3
            }
        );
        assert_eq!(
            r("/v10/x"),
            DomainRoute {
                api_id: "root",
                stage: "prod",
                path_start: 0
            }
        );
        assert_eq!(
            r("/"),
            DomainRoute {
                api_id: "root",
                stage: "prod",
                path_start: 0
            }
        );
        assert!(compiled.get("other.example.com").is_none());
    }

    #[test]
    fn wildcards_match_one_label_and_policies_pick_versions() {
        let compiled = compile_domains(&DomainConfig {
            domains: vec![domain("*.example.com", &[("", "a", "s")])],
            client_certificates: vec![],
        })
        .unwrap();
        assert!(compiled.get("x.example.com").is_some());
        assert!(compiled.get("x.y.example.com").is_none());
        assert_eq!(
            protocol_versions("SecurityPolicy_TLS13_1_3_2025_09").len(),
            1
        );
        assert_eq!(protocol_versions("TLS_1_0").len(), 2);
    }
}
