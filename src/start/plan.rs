//! What start-zookeeper will do, worked out before anything is written: the files with their
//! contents, what happens to myid, who the server runs as, and the command line. Making a plan
//! reads the disk (an existing myid, the installation) but never changes it; `apply` does.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::launch::{self, Installation};
use super::unfinished::{self, Move};
use crate::cli::error::{Error, Result};
use crate::cli::quote::quote;
use crate::config::flags::Given;
use crate::config::heap::{self, Sized};
use crate::config::identity::{Identity, Member};
use crate::config::render::{self, ConfigFiles, File, Servers};
use crate::config::settings::{Settings, TlsFiles};
use crate::empty_disk;
use crate::pid1::Child;
use crate::pid1::credentials::Credentials;
use crate::tls::{Pair, Tls};
use rustls::pki_types::UnixTime;

/// What happens to this server's myid file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Myid {
    /// A standalone server has none.
    Standalone,
    /// The volume already says who this server is, and it agrees: kept as it is.
    Kept(u32),
    /// No myid yet: written.
    New { id: u32, file: File },
}

/// An empty voter's wait for the ensemble (see `empty_disk`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub myid: u32,
    /// Every other member, to ask.
    pub others: Vec<Member>,
    pub client_port: u16,
    /// How to ask them (`--tls_dir`).
    pub tls: Tls,
}

/// TLS (`--tls_dir`): the server's copies of the pair, and zkpod's own connections.
#[derive(Debug, Clone)]
pub struct TlsPlan {
    /// The key store (key, then certificate chain) and the trust store (ca.crt), written
    /// readable by the server's user only.
    pub stores: [File; 2],
    pub client: Tls,
}

/// Everything start-zookeeper will do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub files: ConfigFiles,
    pub myid: Myid,
    /// The configuration directory, created when missing.
    pub conf_dir: PathBuf,
    /// The server's own directories (data, data log): created when missing, and given to
    /// `user` when zkpod drops privileges.
    pub server_dirs: [PathBuf; 2],
    /// zookeeper.log.dir: created when it can be. The server logs to the console, so a
    /// read-only root without it is no reason to stop.
    pub log_dir: PathBuf,
    /// Who the server runs as, when zkpod (as root) switches users.
    pub user: Option<Credentials>,
    /// What runs: ZooKeeper's JVM, or `-- COMMAND`.
    pub child: Child,
    /// Set when this voter's data directory is empty: it waits before its JVM starts.
    pub guard: Option<Guard>,
    /// The data directory is empty and --unsafe_start_empty skips the wait.
    pub unguarded_empty_start: bool,
    /// Dynamic membership: the java options that carry the super user's password digest,
    /// for a file only the server's user can read.
    pub secret: Option<File>,
    /// Snapshots ZooKeeper did not finish writing, moved out of its sight (see `unfinished`).
    pub unfinished: Vec<Move>,
    pub tls: Option<TlsPlan>,
    /// The JVM heap, and how it was found (`--heap`).
    pub heap: Sized,
}

/// Work out the plan for this server (`identity`), whose members come from `servers`.
/// `tls` is `tls_plan`'s, for `--tls_dir`.
pub fn plan(
    settings: &Settings,
    identity: &Identity,
    servers: &Servers,
    tls: Option<TlsPlan>,
) -> Result<Plan> {
    let identity = identity.clone();
    let heap = heap::size(&settings.launch.heap)?;
    let files = render::render(settings, &identity, servers, &heap.size)?;
    let myid = match identity.myid {
        None => Myid::Standalone,
        Some(id) => match existing_myid(&settings.dirs.data, id)? {
            true => Myid::Kept(id),
            false => Myid::New {
                id,
                file: File {
                    path: settings.dirs.data.join("myid"),
                    contents: format!("{id}\n"),
                },
            },
        },
    };
    let user = Credentials::for_child(settings.launch.user.as_ref().map(Given::as_value))?;
    let (program, args) = match settings.launch.command.split_first() {
        Some((program, args)) => (program.clone(), args.to_vec()),
        None => {
            let installation = Installation::find(settings.launch.zk_home.as_ref())?;
            let prometheus = settings.admin.prometheus_port.as_ref();
            if let Some(port) = prometheus.filter(|_| !installation.has_prometheus_provider()) {
                return Err(Error::failed(format!(
                    "{}: this ZooKeeper has no zookeeper-prometheus-metrics jar (3.6+ releases \
                     have it in lib/); zookeeper-metrics --listen serves Prometheus without it",
                    port.origin
                )));
            }
            let java = launch::find_java(&settings.launch)?;
            (
                OsString::from(java),
                launch::java_args(settings, &installation, &heap.size, &files.zoo_cfg.path),
            )
        }
    };
    let dirs = &settings.dirs;
    // The guard is for the server zkpod starts itself: a voter of an ensemble, whose data
    // directories hold no history. In dynamic membership, such a server joins as a new one
    // (see `dynamic`).
    let empty_voter = match identity.myid {
        Some(myid)
            if !identity.observer
                && settings.launch.command.is_empty()
                && !settings.ensemble.dynamic =>
        {
            (!empty_disk::has_history(&[&dirs.data, &dirs.data_log])?).then_some(myid)
        }
        _ => None,
    };
    let unfinished = match settings.launch.command.is_empty() {
        true => unfinished::find(&dirs.data)?,
        false => Vec::new(),
    };
    let unsafe_start_empty = settings.launch.unsafe_start_empty;
    let guard = empty_voter
        .filter(|_| !unsafe_start_empty)
        .map(|myid| Guard {
            myid,
            others: identity
                .members
                .iter()
                .filter(|m| m.id != myid)
                .cloned()
                .collect(),
            client_port: settings.ports.client,
            tls: tls.as_ref().map(|t| t.client.clone()).unwrap_or_default(),
        });
    Ok(Plan {
        files,
        myid,
        conf_dir: dirs.conf.clone(),
        server_dirs: [dirs.data.clone(), dirs.data_log.clone()],
        log_dir: dirs.log.clone(),
        user,
        child: Child {
            program,
            args,
            user: None,
            grace: settings.launch.grace,
            // The server restarts in place to take a renewed certificate (`renew`), and for
            // an operator's `kill -HUP 1`.
            restart_on_hup: settings.launch.command.is_empty(),
        },
        guard,
        unguarded_empty_start: empty_voter.is_some() && unsafe_start_empty,
        secret: settings.super_password.as_ref().map(|password| File {
            path: dirs.conf.join(launch::SECRET_FILE),
            contents: format!(
                "-Dzookeeper.DigestAuthenticationProvider.superDigest={}\n",
                super_digest(password.expose())
            ),
        }),
        unfinished,
        tls,
        heap,
    })
}

/// Read and check the pair in `files.dir` for the server named `name` (refused with one line
/// saying why it cannot work), and the copies the server reads.
pub fn tls_plan(files: &TlsFiles, name: &str) -> Result<TlsPlan> {
    let refused = |why: String| Error::failed(format!("--tls_dir: {why}"));
    let pair = Pair::read(&files.dir).map_err(refused)?;
    pair.check(Some(name), UnixTime::now()).map_err(refused)?;
    let stores = [
        File {
            path: files.key_store.clone(),
            contents: pair.key_store.clone(),
        },
        File {
            path: files.trust_store.clone(),
            contents: pair.ca_pem.clone(),
        },
    ];
    let client = Tls::from_pair(pair).map_err(refused)?;
    Ok(TlsPlan { stores, client })
}

/// ZooKeeper's digest of the super user's password: `super:` and the base64 of the SHA-1 of
/// `super:PASSWORD` (DigestAuthenticationProvider.generateDigest).
pub fn super_digest(password: &str) -> String {
    let hash = sha1_smol::Sha1::from(format!("super:{password}"))
        .digest()
        .bytes();
    format!("super:{}", base64(&hash))
}

/// Standard base64, with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether `data_dir` already holds this server's myid. A different one means the volume
/// belongs to another server: starting would give two servers one identity, so it is an error
/// naming both.
fn existing_myid(data_dir: &Path, myid: u32) -> Result<bool> {
    let path = data_dir.join("myid");
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(Error::failed(format!("reading {}: {err}", path.display()))),
    };
    match existing.trim().parse::<u32>() {
        Ok(found) if found == myid => Ok(true),
        Ok(found) => Err(Error::failed(format!(
            "{} says this volume belongs to server {found}, but this pod is server {myid}: \
             refusing to start two servers with one identity (check the volume and \
             --myid_offset)",
            path.display()
        ))),
        Err(_) => Err(Error::failed(format!(
            "{} holds {}, not a server id; this pod is server {myid}: fix or remove the file",
            path.display(),
            quote(existing.trim())
        ))),
    }
}

impl Plan {
    /// The command line as a shell would read it back, for logs and dry runs.
    pub fn command_line(&self) -> String {
        let words = std::iter::once(&self.child.program).chain(&self.child.args);
        let words: Vec<String> = words.map(|w| w.to_string_lossy().into_owned()).collect();
        shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
    }

    /// The plan as `--dry_run` prints it: each file under a `==> path <==` line, then any
    /// unfinished snapshots, the heap and how it was found, then the command.
    pub fn show(&self) -> String {
        let mut out = String::new();
        let myid = match &self.myid {
            Myid::New { file, .. } => Some(file),
            _ => None,
        };
        for file in self.files.all().into_iter().chain(myid) {
            out.push_str(&format!("==> {} <==\n", file.path.display()));
            out.push_str(&file.contents);
            if !file.contents.ends_with('\n') {
                out.push('\n');
            }
        }
        if let Some(secret) = &self.secret {
            out.push_str(&format!(
                "==> {} <==\n(the super user's password digest, mode 0600: not shown)\n",
                secret.path.display()
            ));
        }
        if !self.unfinished.is_empty() {
            out.push_str("==> unfinished snapshots, moved aside <==\n");
            for Move { from, to } in &self.unfinished {
                out.push_str(&format!("{} -> {}\n", from.display(), to.display()));
            }
        }
        out.push_str(&format!("==> heap <==\n{}\n", self.heap.how));
        out.push_str(&format!("==> command <==\n{}\n", self.command_line()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::identity::HostNames;
    use crate::config::settings::tests::parse;

    fn temp_dir(name: &str) -> PathBuf {
        crate::testing::scratch_dir(&format!("plan-{name}"))
    }

    fn plan_for(data: &Path, host: &str) -> Result<Plan> {
        let data = format!("--data_dir={}", data.display());
        let settings = parse(&["--servers=3", &data, "--", "true"], &[]).unwrap();
        let identity = Identity::resolve(&settings.ensemble, || {
            Ok(HostNames {
                short: host.into(),
                domain: "zk-hs".into(),
            })
        })?;
        plan(&settings, &identity, &Servers::Flags, None)
    }

    #[test]
    fn myid_is_written_once_then_kept_and_never_replaced() {
        let dir = temp_dir("myid");
        let first = plan_for(&dir, "zk-1").unwrap();
        assert!(matches!(&first.myid, Myid::New { id: 2, file } if file.contents == "2\n"));
        fs::write(dir.join("myid"), "2\n").unwrap();
        assert_eq!(plan_for(&dir, "zk-1").unwrap().myid, Myid::Kept(2));
        let err = plan_for(&dir, "zk-2").unwrap_err();
        assert_eq!(err.code(), 1);
        assert!(err.to_string().contains("server 2") && err.to_string().contains("server 3"));
        fs::write(dir.join("myid"), "two\n").unwrap();
        let err = plan_for(&dir, "zk-1").unwrap_err().to_string();
        assert!(err.contains("\"two\""), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dry_run_shows_every_file_and_the_command() {
        let dir = temp_dir("show");
        let shown = plan_for(&dir, "zk-0").unwrap().show();
        for header in [
            "zoo.cfg <==",
            "log4j.properties <==",
            "java.env <==",
            "myid <==\n1\n",
        ] {
            assert!(shown.contains(header), "{header}: {shown}");
        }
        assert!(shown.ends_with("==> command <==\ntrue\n"), "{shown}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_super_digest_is_zookeepers() {
        // DigestAuthenticationProvider.generateDigest("super:secret"), by its algorithm:
        // base64(sha1("super:secret")), checked against openssl.
        assert_eq!(super_digest("secret"), "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn command_lines_read_back_as_a_shell_would() {
        let dir = temp_dir("quote");
        let mut plan = plan_for(&dir, "zk-0").unwrap();
        plan.child.args = vec!["a b".into(), "it's".into(), "-Xmx1G".into()];
        assert_eq!(plan.command_line(), r#"true 'a b' "it's" -Xmx1G"#);
        fs::remove_dir_all(&dir).unwrap();
    }
}
