//! The Secret's three files, read and checked: `tls.crt` (this pod's certificate, then any
//! intermediates), `tls.key` (its private key) and `ca.crt` (the authority every member and
//! client trusts). A pair that cannot work is refused with one line saying why.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use webpki::{EndEntityCert, KeyUsage};

/// The file names of a cert-manager Secret (type kubernetes.io/tls, with the CA).
pub const CERT: &str = "tls.crt";
pub const KEY: &str = "tls.key";
pub const CA: &str = "ca.crt";

/// A certificate with its key and the authority that signed it, as found in the directory.
#[derive(Debug)]
pub struct Pair {
    pub dir: PathBuf,
    /// This pod's certificate first, then any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The certificates clients and members are checked against.
    pub ca: Vec<CertificateDer<'static>>,
    /// The key, then the certificate chain, in one PEM text: ZooKeeper's PEM key store.
    pub key_store: String,
    /// `ca.crt`'s text: ZooKeeper's PEM trust store.
    pub ca_pem: String,
}

impl Pair {
    /// Read the three files from `dir`. The error names the file and what is wrong with it.
    pub fn read(dir: &Path) -> Result<Pair, String> {
        let (cert, key, ca) = (dir.join(CERT), dir.join(KEY), dir.join(CA));
        let chain_pem = read_text(&cert)?;
        let key_pem = read_text(&key)?;
        let ca_pem = read_text(&ca)?;
        Ok(Pair {
            dir: dir.to_owned(),
            chain: certs_in(&cert, &chain_pem)?,
            key: key_in(&key, &key_pem)?,
            ca: certs_in(&ca, &ca_pem)?,
            key_store: format!("{}\n{}\n", key_pem.trim_end(), chain_pem.trim_end()),
            ca_pem,
        })
    }

    /// The pair from a server's PEM stores: the key and the chain in `key_store`, the
    /// authority in `trust_store`.
    pub fn read_stores(key_store: &Path, trust_store: &Path) -> Result<Pair, String> {
        let store = read_text(key_store)?;
        let ca_pem = read_text(trust_store)?;
        Ok(Pair {
            dir: key_store.parent().unwrap_or(Path::new("/")).to_owned(),
            chain: certs_in(key_store, &store)?,
            key: key_in(key_store, &store)?,
            ca: certs_in(trust_store, &ca_pem)?,
            key_store: store,
            ca_pem,
        })
    }

    /// The authority as the one trusted root.
    pub fn roots(&self) -> Result<Arc<RootCertStore>, String> {
        let mut roots = RootCertStore::empty();
        for ca in &self.ca {
            roots
                .add(ca.clone())
                .map_err(|err| format!("{}: {err}", self.dir.join(CA).display()))?;
        }
        Ok(Arc::new(roots))
    }

    /// This pod's own certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// Why this pair cannot serve a server named `name` (when given) at `now`, if it cannot:
    /// the key is not the certificate's, the certificate does not chain to `ca.crt` or is not
    /// valid now, it may not be used by a server or a client (the quorum uses it as both), or
    /// its names do not cover `name`.
    pub fn check(&self, name: Option<&str>, now: UnixTime) -> Result<(), String> {
        let file = |name: &str| self.dir.join(name).display().to_string();
        if !matches!(self.key, PrivateKeyDer::Pkcs8(_)) {
            return Err(format!(
                "{}: ZooKeeper reads only PKCS#8 keys (BEGIN PRIVATE KEY): have cert-manager \
                 write one (privateKey.encoding: PKCS8)",
                file(KEY)
            ));
        }
        let signing_key = super::provider()
            .key_provider
            .load_private_key(self.key.clone_key())
            .map_err(|err| format!("{}: {err}", file(KEY)))?;
        if signing_key.algorithm() == rustls::SignatureAlgorithm::ED25519 {
            return Err(format!(
                "{}: ZooKeeper reads only RSA and ECDSA keys, not Ed25519",
                file(KEY)
            ));
        }
        CertifiedKey::new(self.chain.clone(), signing_key)
            .keys_match()
            .map_err(|_| {
                format!(
                    "{} is not the key of the certificate in {}",
                    file(KEY),
                    file(CERT)
                )
            })?;

        let leaf =
            EndEntityCert::try_from(self.leaf()).map_err(|err| format!("{}: {err}", file(CERT)))?;
        let anchors = self
            .ca
            .iter()
            .map(|ca| webpki::anchor_from_trusted_cert(ca).map(|a| a.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| format!("{}: {err}", file(CA)))?;
        let algorithms = super::provider().signature_verification_algorithms.all;
        for (usage, role) in [
            (KeyUsage::server_auth(), "a server"),
            (KeyUsage::client_auth(), "a client"),
        ] {
            leaf.verify_for_usage(
                algorithms,
                &anchors,
                &self.chain[1..],
                now,
                usage,
                None,
                None,
            )
            .map_err(|err| match err {
                webpki::Error::CertExpired { not_after, .. } => format!(
                    "the certificate in {} expired at {} (seconds since 1970)",
                    file(CERT),
                    not_after.as_secs()
                ),
                webpki::Error::CertNotValidYet { not_before, .. } => format!(
                    "the certificate in {} is not valid before {} (seconds since 1970)",
                    file(CERT),
                    not_before.as_secs()
                ),
                webpki::Error::UnknownIssuer => format!(
                    "the certificate in {} is not signed by the authority in {}",
                    file(CERT),
                    file(CA)
                ),
                webpki::Error::RequiredEkuNotFoundContext(_) => format!(
                    "the certificate in {} may not be used by {role} (extended key usage): \
                     the quorum uses it as server and client",
                    file(CERT)
                ),
                other => format!("the certificate in {}: {other}", file(CERT)),
            })?;
        }
        if let Some(name) = name {
            let server = ServerName::try_from(name)
                .map_err(|_| format!("{name} is not a DNS name to check the certificate for"))?;
            leaf.verify_is_valid_for_subject_name(&server)
                .map_err(|_| {
                    format!(
                        "the certificate in {} does not name this server, {name}",
                        file(CERT)
                    )
                })?;
        }
        Ok(())
    }
}

/// A file's text; the error names it.
fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))
}

/// The certificates in `pem`, read from `path`: at least one.
fn certs_in(path: &Path, pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("{}: {err}", path.display()))?;
    match certs.is_empty() {
        true => Err(format!("{}: no certificate in it", path.display())),
        false => Ok(certs),
    }
}

/// The private key in `pem`, read from `path`.
fn key_in(path: &Path, pem: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|err| format!("{}: no private key in it ({err})", path.display()))
}
