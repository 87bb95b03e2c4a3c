//! TLS from a directory laid out as Kubernetes mounts a cert-manager Secret (`--tls_dir`,
//! `ZK_TLS_DIR`): the pair is read and checked before the server starts (`pair`; the server
//! reads copies of it in its configuration directory), every zkpod command that talks to a
//! server connects with it (`client`), and the empty-disk guard answers with it (`server`).

pub mod client;
pub mod pair;
pub mod server;

use std::sync::Arc;

pub use pair::Pair;

/// The cryptography under rustls: ring, which builds into a static binary with nothing else
/// installed. rustls marks ring's provider deprecated for lacking post-quantum key exchange;
/// the JVM at the other end of every zkpod connection offers none either.
#[allow(deprecated)]
pub fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The variable every zkpod command reads the directory from.
pub const DIR_VAR: &str = "ZK_TLS_DIR";

/// How zkpod talks to servers, and answers on the client port while its server waits: in the
/// clear, or with TLS as the pod's own identity.
#[derive(Clone, Default)]
pub struct Tls {
    config: Option<Arc<rustls::ClientConfig>>,
    /// The pair, for answering (`server_config`), which only the empty-disk guard does.
    pair: Option<Arc<Pair>>,
}

impl Tls {
    /// Plaintext.
    pub fn none() -> Tls {
        Tls::default()
    }

    /// TLS with the pair in `dir`, or the line saying why it cannot be read.
    pub fn from_dir(dir: &std::path::Path) -> Result<Tls, String> {
        Tls::from_pair(Pair::read(dir)?)
    }

    /// TLS as this pod's server has it: its copies of the pair (`stores`: key store, trust
    /// store) when they can be read and are valid now, else the pair in `dir`. The copies hold the
    /// last pair that passed the checks, where `dir` may hold a renewal the server refused.
    pub fn installed_or_dir(
        stores: Option<(&std::path::Path, &std::path::Path)>,
        dir: &std::path::Path,
    ) -> Result<Tls, String> {
        if let Some((key_store, trust_store)) = stores
            && let Ok(pair) = Pair::read_stores(key_store, trust_store)
            && pair.check(None, rustls::pki_types::UnixTime::now()).is_ok()
        {
            return Tls::from_pair(pair);
        }
        Tls::from_dir(dir)
    }

    /// TLS with `pair`.
    pub fn from_pair(pair: Pair) -> Result<Tls, String> {
        Ok(Tls {
            config: Some(client::config(&pair)?),
            pair: Some(Arc::new(pair)),
        })
    }

    /// For connections to a server.
    pub fn config(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.config.as_ref()
    }

    /// For connections zkpod takes on the client port (the empty-disk guard's answers): it
    /// asks for the client's certificate, as ZooKeeper does. None in the clear.
    pub fn server_config(&self) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
        self.pair.as_deref().map(server::config).transpose()
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.config.is_some() {
            "TLS"
        } else {
            "plaintext"
        })
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        match (&self.config, &other.config) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Tls {}
