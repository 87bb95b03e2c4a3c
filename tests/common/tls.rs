//! Certificates for the TLS tests, made with openssl the way cert-manager issues them (an
//! ECDSA key in PKCS#8, the certificate, the authority), and written into a directory the way
//! the kubelet projects a Secret: the files are symlinks through `..data`, which is swapped
//! atomically on renewal.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A certificate and its key, as PEM texts.
#[derive(Clone)]
pub struct Pair {
    pub cert: String,
    pub key: String,
}

/// A certificate authority in a scratch directory.
pub struct Authority {
    dir: PathBuf,
    pub cert: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

fn next() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

impl Authority {
    /// A new authority, its files in `dir`.
    pub fn new(dir: &Path, name: &str) -> Authority {
        fs::create_dir_all(dir).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "30",
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        Authority {
            dir: dir.to_owned(),
            cert: fs::read_to_string(dir.join("ca.crt")).unwrap(),
        }
    }

    /// A certificate for `names` (DNS names), valid for `days` from now (negative: expired
    /// that long ago), for servers and clients.
    pub fn issue(&self, names: &[&str], days: i32) -> Pair {
        let n = next();
        let (key, csr, cert, ext) = (
            format!("leaf{n}.key"),
            format!("leaf{n}.csr"),
            format!("leaf{n}.crt"),
            format!("leaf{n}.ext"),
        );
        let sans: Vec<String> = names.iter().map(|name| format!("DNS:{name}")).collect();
        fs::write(
            self.dir.join(&ext),
            format!(
                "subjectAltName={}\nextendedKeyUsage=serverAuth,clientAuth\n",
                sans.join(",")
            ),
        )
        .unwrap();
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={}", names[0]),
            ],
        );
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &cert,
                "-days",
                &days.to_string(),
                "-extfile",
                &ext,
            ],
        );
        Pair {
            cert: fs::read_to_string(self.dir.join(&cert)).unwrap(),
            key: fs::read_to_string(self.dir.join(&key)).unwrap(),
        }
    }
}

/// Project a Secret with `pair` and `ca` into `dir` as the kubelet does: the files go to a new
/// timestamped directory, `..data` is pointed at it by rename, and `tls.crt`, `tls.key` and
/// `ca.crt` are symlinks through `..data`. Called again, it is a renewal.
pub fn project(dir: &Path, pair: &Pair, ca: &str) {
    fs::create_dir_all(dir).unwrap();
    let version = format!("..2026_12_06_{}", next());
    let data = dir.join(&version);
    fs::create_dir(&data).unwrap();
    fs::write(data.join("tls.crt"), &pair.cert).unwrap();
    fs::write(data.join("tls.key"), &pair.key).unwrap();
    fs::write(data.join("ca.crt"), ca).unwrap();
    let temp = dir.join("..data_tmp");
    let _ = fs::remove_file(&temp);
    symlink(&version, &temp).unwrap();
    fs::rename(&temp, dir.join("..data")).unwrap();
    for name in ["tls.crt", "tls.key", "ca.crt"] {
        let link = dir.join(name);
        if fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), &link).unwrap();
        }
    }
}
