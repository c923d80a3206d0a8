//! X.509 material of custom domain names and client certificates: PEM parsing and checks
//! of uploaded server certificates (the private key must match the certificate), mutual-TLS
//! truststores, and the generation of the gateway's client certificates.
//!
//! Why these crates: PEM and DER come from `rustls-pki-types` (the types the nodes' rustls
//! uses, so what is accepted here loads there); `rustls`' own `CertifiedKey::from_der`
//! loads the key through the ring provider and compares its public key with the
//! certificate's, the same check a node's TLS stack relies on; `x509-parser` (rusticata,
//! widely used) reads validity and names; `rcgen` generates client certificates.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why uploaded material was refused (each message says what to fix).
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// No PEM certificate where one is required.
    #[error("{0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate(&'static str),
    /// A PEM block that does not parse as X.509.
    #[error("{what} is not a valid X.509 certificate: {reason}")]
    BadCertificate {
        /// Which member.
        what: &'static str,
        /// The parser's reason.
        reason: String,
    },
    /// No usable private key.
    #[error("certificatePrivateKey holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)")]
    NoKey,
    /// The key is not one the TLS stack can sign with.
    #[error("certificatePrivateKey is not a supported key (RSA, ECDSA P-256/P-384, Ed25519): {0}")]
    UnsupportedKey(String),
    /// Key and certificate belong to different key pairs.
    #[error("certificatePrivateKey does not match the public key of certificateBody")]
    KeyMismatch,
    /// Generating a client certificate failed.
    #[error("generating the certificate failed: {0}")]
    Generate(String),
}

/// What the control plane keeps of a checked server certificate.
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    /// The end-entity certificate, PEM, normalized.
    pub body_pem: String,
    /// Its chain (intermediates), PEM, normalized; `None` when none was given.
    pub chain_pem: Option<String>,
    /// The private key, PEM as given (trimmed).
    pub key_pem: String,
    /// End of validity, epoch seconds.
    pub not_after: i64,
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Every certificate of a PEM text, each parsed once as X.509 (so garbage is refused here,
/// not on a node).
pub fn certificates(
    what: &'static str,
    pem: &str,
) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let mut out = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let der = item.map_err(|e| CertError::BadCertificate {
            what,
            reason: e.to_string(),
        })?;
        x509_parser::parse_x509_certificate(&der).map_err(|e| CertError::BadCertificate {
            what,
            reason: e.to_string(),
        })?;
        out.push(der);
    }
    if out.is_empty() {
        return Err(CertError::NoCertificate(what));
    }
    Ok(out)
}

/// Checks an uploaded certificate: body (exactly the end-entity certificate first), chain,
/// and a private key that matches the body's public key.
pub fn check_server_certificate(
    body: &str,
    chain: Option<&str>,
    key: &str,
) -> Result<ServerCertificate, CertError> {
    let body_certs = certificates("certificateBody", body)?;
    let chain_certs = match chain.filter(|c| !c.trim().is_empty()) {
        Some(c) => certificates("certificateChain", c)?,
        None => Vec::new(),
    };
    let key_der = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| CertError::NoKey)?;
    let leaf = body_certs[0].clone();
    let (_, parsed) =
        x509_parser::parse_x509_certificate(&leaf).map_err(|e| CertError::BadCertificate {
            what: "certificateBody",
            reason: e.to_string(),
        })?;
    let not_after = parsed.validity().not_after.timestamp();
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| CertError::UnsupportedKey(e.to_string()))?;
    let certified = rustls::sign::CertifiedKey::new(vec![leaf.clone()], signing);
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(CertError::KeyMismatch);
    }
    let mut body_pem = pem_of(&leaf);
    // Extra certificates pasted into the body are treated as chain, after the body.
    let mut chain_all: Vec<&CertificateDer<'_>> = body_certs[1..].iter().collect();
    chain_all.extend(chain_certs.iter());
    let chain_pem = (!chain_all.is_empty()).then(|| {
        chain_all
            .iter()
            .map(|c| pem_of(c))
            .collect::<Vec<_>>()
            .concat()
    });
    body_pem.truncate(body_pem.trim_end().len() + 1);
    Ok(ServerCertificate {
        body_pem,
        chain_pem,
        key_pem: key.trim().to_string() + "\n",
        not_after,
    })
}

/// A mutual-TLS truststore: at least one CA certificate, PEM; returns it normalized and how
/// many certificates it holds.
pub fn check_truststore(pem: &str) -> Result<(String, usize), CertError> {
    let certs = certificates("the truststore", pem)?;
    Ok((certs.iter().map(|c| pem_of(c)).collect(), certs.len()))
}

/// A generated client certificate.
#[derive(Debug, Clone)]
pub struct GeneratedCertificate {
    /// The certificate, PEM (what GetClientCertificate returns).
    pub cert_pem: String,
    /// Its private key, PKCS#8 PEM (kept encrypted, never returned).
    pub key_pem: String,
    /// Validity start, epoch seconds.
    pub not_before: i64,
    /// Validity end, epoch seconds (365 days later, as AWS's).
    pub not_after: i64,
}

/// A self-signed client certificate (ECDSA P-256) for `common_name`, valid 365 days from
/// now, as AWS generates them; backends trust it by its PEM.
pub fn generate_client_certificate(common_name: &str) -> Result<GeneratedCertificate, CertError> {
    let err = |e: rcgen::Error| CertError::Generate(e.to_string());
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "apigw");
    let now = time::OffsetDateTime::now_utc();
    let not_before = now - time::Duration::minutes(5);
    let not_after = now + time::Duration::days(365);
    params.not_before = not_before;
    params.not_after = not_after;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).map_err(err)?;
    Ok(GeneratedCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        not_before: not_before.unix_timestamp(),
        not_after: not_after.unix_timestamp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn matching_key_accepted_other_key_refused() {
        let (cert, key) = self_signed("a.example.com");
        let (_, other_key) = self_signed("b.example.com");
        let ok = check_server_certificate(&cert, None, &key).unwrap();
        assert!(ok.not_after > 0);
        assert!(ok.chain_pem.is_none());
        assert!(matches!(
            check_server_certificate(&cert, None, &other_key),
            Err(CertError::KeyMismatch)
        ));
        assert!(matches!(
            check_server_certificate("nope", None, &key),
            Err(CertError::NoCertificate(_))
        ));
        assert!(matches!(
            check_server_certificate(&cert, None, "nope"),
            Err(CertError::NoKey)
        ));
    }

    #[test]
    fn generated_client_certificates_parse() {
        let g = generate_client_certificate("test").unwrap();
        assert!(g.not_after - g.not_before > 364 * 86400);
        check_server_certificate(&g.cert_pem, None, &g.key_pem).unwrap();
        assert_eq!(check_truststore(&g.cert_pem).unwrap().1, 1);
    }
}
