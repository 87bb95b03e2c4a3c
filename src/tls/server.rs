//! zkpod answering on the client port over TLS (while its server waits to start): its
//! certificate from the Secret, and a client certificate signed by the Secret's authority
//! required, as ZooKeeper requires it.

#![forbid(unsafe_code)]

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;

use super::Pair;

/// The server configuration for connections answered with `pair`.
pub fn config(pair: &Pair) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(super::provider());
    let clients = WebPkiClientVerifier::builder_with_provider(pair.roots()?, provider.clone())
        .build()
        .map_err(|err| format!("{}: {err}", pair.dir.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?
        .with_client_cert_verifier(clients)
        .with_single_cert(pair.chain.clone(), pair.key.clone_key())
        .map_err(|err| format!("{}: {err}", pair.dir.display()))?;
    Ok(Arc::new(config))
}
