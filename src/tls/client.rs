//! zkpod as a TLS client of a server: its certificate from the Secret as its identity, the
//! Secret's authority as the only one trusted, and the server's name checked, except on
//! loopback, where the only server is this pod's own.

#![forbid(unsafe_code)]

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::Pair;

/// The client configuration for connections made with `pair`.
pub fn config(pair: &Pair) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(super::provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(pair.roots()?, provider.clone())
        .build()
        .map_err(|err| format!("{}: {err}", pair.dir.display()))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { webpki: verifier }))
        .with_client_auth_cert(pair.chain.clone(), pair.key.clone_key())
        .map_err(|err| format!("{}: {err}", pair.dir.display()))?;
    Ok(Arc::new(config))
}

/// The name to check a server's certificate against, for `host` as the caller wrote it.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .map_err(|_| format!("{host} is not a host name to check a certificate against"))
}

/// Is `name` this pod itself?
fn is_loopback(name: &ServerName<'_>) -> bool {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().eq_ignore_ascii_case("localhost"),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).is_loopback(),
        _ => false,
    }
}

/// The standard check of a server's certificate (signed by the authority, valid now, made
/// for a server, naming the server), where a loopback address is exempt from the last:
/// certificates name the pod, not `localhost`.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if is_loopback(server_name) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
