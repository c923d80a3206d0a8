//! The HTTPS listener's handshake (`--https-addr`): the ClientHello's SNI name picks the
//! custom domain from the current compiled state, and the handshake completes with that
//! domain's `ServerConfig` (its certificate, TLS versions by `securityPolicy`, ALPN h2 +
//! http/1.1, and for mutual TLS a verifier over the domain's truststore). The state is
//! swapped atomically by the config client, so a rotated certificate serves the next
//! handshake without a restart. A ClientHello without SNI, or naming no domain, ends the
//! connection (as API Gateway does). The handshake is bounded by the connection's first
//! deadline (`--header-read-timeout` from accept, which also bounds the first request head:
//! [`crate::server`]), so a client that connects and never finishes its ClientHello, or
//! stalls in the middle of the handshake, is dropped like a slowloris on the plain port.

use std::sync::Arc;

use apigw_gateway::state::SharedState;
use apigw_gateway::ClientCert;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

/// Why a TLS connection was not accepted (logged at debug: clients cause these).
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The client did not finish in time.
    #[error("TLS handshake timed out")]
    Timeout,
    /// Reading the ClientHello or completing the handshake failed.
    #[error("TLS handshake failed: {0}")]
    Io(#[from] std::io::Error),
    /// No SNI name.
    #[error("TLS ClientHello without a server name (SNI)")]
    NoServerName,
    /// The SNI name is no custom domain of this node.
    #[error("no custom domain name {0}")]
    UnknownDomain(String),
    /// The domain's private key is not known yet (restored from a state file kept without
    /// `DP_STATE_KEY`; the control plane sends it).
    #[error("custom domain name {0} has no private key yet (waiting for the control plane)")]
    NoKey(String),
}

/// Accepts one TLS connection, picking the domain's configuration by SNI; with it the
/// client certificate of a mutual-TLS handshake (already verified against the truststore).
/// A handshake not finished by `deadline` fails with [`HandshakeError::Timeout`].
pub async fn accept(
    stream: TcpStream,
    state: &SharedState,
    deadline: tokio::time::Instant,
) -> Result<(TlsStream<TcpStream>, Option<Arc<ClientCert>>), HandshakeError> {
    let stream = tokio::time::timeout_at(deadline, handshake(stream, state))
        .await
        .map_err(|_| HandshakeError::Timeout)??;
    let cert = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|der| client_cert(der.as_ref()))
        .map(Arc::new);
    Ok((stream, cert))
}

/// `$context.identity.clientCert` of a presented certificate (read once per connection).
pub fn client_cert(der: &[u8]) -> Option<ClientCert> {
    use base64::Engine;
    let (_, parsed) = x509_parser::parse_x509_certificate(der).ok()?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    let date = |t: x509_parser::time::ASN1Time| {
        let fmt = time::macros::format_description!(
            "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
        );
        t.to_datetime().format(&fmt).unwrap_or_default()
    };
    Some(ClientCert {
        client_cert_pem: pem,
        subject_dn: parsed.subject().to_string(),
        issuer_dn: parsed.issuer().to_string(),
        serial_number: parsed.raw_serial_as_string(),
        not_before: date(parsed.validity().not_before),
        not_after: date(parsed.validity().not_after),
    })
}

async fn handshake(
    stream: TcpStream,
    state: &SharedState,
) -> Result<TlsStream<TcpStream>, HandshakeError> {
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
    let start = acceptor.await?;
    let config = {
        let hello = start.client_hello();
        let name = hello.server_name().ok_or(HandshakeError::NoServerName)?;
        let current = state.load();
        let domain = current
            .domains
            .get(name)
            .ok_or_else(|| HandshakeError::UnknownDomain(name.to_string()))?;
        domain
            .tls
            .clone()
            .ok_or_else(|| HandshakeError::NoKey(name.to_string()))?
    };
    Ok(start.into_stream(config).await?)
}
