//! What diagnose finds: this pod, read from its disk, and every member, asked over the
//! network at once, each step within the timeout.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use rustls::pki_types::UnixTime;
use serde::Serialize;

use crate::cli::error::Result;
use crate::config::heap;
use crate::config::identity::{self, HostNames, Identity};
use crate::config::render::{self, Servers};
use crate::config::settings::{Settings, TlsFiles};
use crate::empty_disk;
use crate::tls::{Pair, Tls};
use crate::zk::fourlw::{self, Address, Failure};
use crate::zk::members::{Config, Role};

/// This pod, as its disk and its names say.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ThisPod {
    pub host_name: String,
    pub domain: String,
    pub membership: &'static str,
    /// The myid start-zookeeper gives this pod.
    pub myid: Option<u32>,
    /// What the data directory's myid file holds, if there is one.
    pub myid_on_disk: Option<String>,
    pub files: Vec<FileState>,
    pub data_dir: DataDir,
    /// Why the pod's place in the ensemble is unknown (a host name without an ordinal, …).
    pub error: Option<String>,
    /// The zoo.cfg of the server running in this pod, when diagnose runs inside one: what no
    /// flag or variable says is read from it.
    pub running_config: Option<String>,
    /// Flags and variables given that disagree with the running server.
    pub disagreements: Vec<Disagreement>,
    /// With `--tls_dir`: the Secret's pair, and the server's copy of it.
    pub tls: Option<TlsState>,
}

/// The pair in `--tls_dir`, as start-zookeeper and `zkpod renew` see it.
#[derive(Debug, Clone, Serialize)]
pub struct TlsState {
    pub dir: String,
    /// Why the pair cannot be used (start-zookeeper would refuse it, renew ignores it).
    pub problem: Option<String>,
    /// Which pair the server's key store holds: `the Secret's`, `another` (a renewal not
    /// taken up yet, or refused), or `none`.
    pub installed: &'static str,
}

/// A flag or variable given to diagnose that the running server does not have.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    /// `--client_port`, `ZK_CLIENT_PORT`, …
    pub given_by: String,
    pub given: String,
    pub running: String,
}

/// A configuration file, against what start-zookeeper would write now.
#[derive(Debug, Clone, Serialize)]
pub struct FileState {
    pub path: String,
    /// matches, differs, missing, or managed by ZooKeeper (zoo.cfg in dynamic membership).
    pub state: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DataDir {
    pub path: String,
    /// A transaction log, or a snapshot past snapshot.0.
    pub history: bool,
    pub newest_snapshot: Option<String>,
    pub newest_log: Option<String>,
    pub free_bytes: Option<u64>,
}

/// Whether a port accepts connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Port {
    Open,
    Refused,
    TimedOut,
    /// No address to try, or another error.
    Unreachable,
}

/// One member, as the network shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemberReport {
    pub id: u32,
    pub host: String,
    pub observer: bool,
    pub this_pod: bool,
    pub addresses: Vec<String>,
    pub resolve_error: Option<String>,
    pub client: Option<Port>,
    pub quorum: Option<Port>,
    pub election: Option<Port>,
    /// imok, or what came instead.
    pub ruok: Option<String>,
    /// leader, follower, observer, standalone, not serving, waiting (empty disk), …
    pub mode: Option<String>,
    pub zxid: Option<String>,
    pub epoch: Option<u64>,
    pub latency: Option<String>,
    pub config_version: Option<String>,
    pub config_members: Vec<u32>,
    /// The members its `conf` lists (id, host, observer), to ask those the flags do not name.
    #[serde(skip)]
    pub config_hosts: Vec<identity::Member>,
    /// Four-letter words the member refuses (not in 4lw.commands.whitelist).
    pub refused_words: Vec<String>,
    /// Why it could not be asked.
    pub error: Option<String>,
}

impl MemberReport {
    /// It serves clients in a quorum (or alone).
    pub fn serves(&self) -> bool {
        self.mode.as_deref().is_some_and(fourlw::serves)
    }

    /// The counter half of its zxid.
    pub fn counter(&self) -> Option<u64> {
        zxid_value(self.zxid.as_deref()?).map(|z| z & 0xffff_ffff)
    }
}

fn zxid_value(text: &str) -> Option<u64> {
    u64::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok()
}

/// Look at this pod and ask every member.
pub fn gather(settings: &Settings, timeout: Duration) -> Result<(ThisPod, Vec<MemberReport>)> {
    let mut pod = ThisPod {
        membership: if settings.ensemble.dynamic {
            "dynamic"
        } else {
            "static"
        },
        data_dir: data_dir(settings),
        ..ThisPod::default()
    };
    let names = &settings.names;
    let names = match HostNames::discover(names.hostname.as_deref(), names.domain.as_deref()) {
        Ok(names) => names,
        Err(err) => {
            pod.error = Some(err.to_string());
            return Ok((pod, Vec::new()));
        }
    };
    pod.host_name = names.short.clone();
    pod.domain = names.domain.clone();
    let identity = match Identity::resolve(&settings.ensemble, || Ok(names.clone())) {
        Ok(identity) => identity,
        Err(err) => {
            pod.error = Some(err.to_string());
            return Ok((pod, Vec::new()));
        }
    };
    pod.myid = identity.myid;
    pod.myid_on_disk = fs::read_to_string(settings.dirs.data.join("myid"))
        .ok()
        .map(|text| text.trim().to_owned());
    pod.files = files(settings, &identity);
    if let Some(files) = &settings.tls {
        let name = identity.server_name(|| Ok(names.clone()))?;
        pod.tls = Some(tls_state(files, &name));
    }

    let mut candidates: Vec<identity::Member> = identity.members.clone();
    if let Some(me) = &identity.me
        && !candidates.iter().any(|m| m.id == me.id)
    {
        candidates.push(me.clone());
    }
    if identity.myid.is_none() {
        // A standalone server: only this pod.
        candidates.push(identity::Member {
            id: 0,
            host: "127.0.0.1".into(),
            observer: false,
        });
    }
    let own = identity.myid.unwrap_or(0);
    let tls = match settings.client_tls() {
        Ok(tls) => tls,
        Err(err) => {
            pod.error = Some(err.to_string());
            return Ok((pod, Vec::new()));
        }
    };
    let mut members = ask_all(&candidates, own, settings, &tls, timeout);
    // Dynamic membership: servers the ensemble lists that the flags do not name (pods added
    // by scaling up) are asked too.
    let extra: Vec<identity::Member> = members
        .iter()
        .flat_map(|m| m.config_hosts.iter())
        .filter(|c| !candidates.iter().any(|m| m.id == c.id))
        .fold(Vec::new(), |mut seen: Vec<identity::Member>, c| {
            if !seen.iter().any(|s| s.id == c.id) {
                seen.push(c.clone());
            }
            seen
        });
    members.extend(ask_all(&extra, own, settings, &tls, timeout));
    members.sort_by_key(|m| m.id);
    Ok((pod, members))
}

/// Ask every one of `candidates` at once.
fn ask_all(
    candidates: &[identity::Member],
    own: u32,
    settings: &Settings,
    tls: &Tls,
    timeout: Duration,
) -> Vec<MemberReport> {
    std::thread::scope(|scope| {
        let asks: Vec<_> = candidates
            .iter()
            .map(|m| scope.spawn(move || ask(m, m.id == own, settings, tls, timeout)))
            .collect();
        asks.into_iter()
            .zip(candidates)
            .map(|(ask, m)| {
                ask.join().unwrap_or_else(|_| MemberReport {
                    id: m.id,
                    host: m.host.clone(),
                    error: Some("the check failed".into()),
                    ..MemberReport::default()
                })
            })
            .collect()
    })
}

/// The Secret's pair checked for this server (`name`), against the server's copy.
fn tls_state(files: &TlsFiles, name: &str) -> TlsState {
    let pair = Pair::read(&files.dir);
    let problem = match &pair {
        Ok(pair) => pair.check(Some(name), UnixTime::now()).err(),
        Err(why) => Some(why.clone()),
    };
    let installed = match (fs::read_to_string(&files.key_store), &pair) {
        (Err(_), _) => "none",
        (Ok(store), Ok(pair)) if store == pair.key_store => "the Secret's",
        (Ok(_), _) => "another",
    };
    TlsState {
        dir: files.dir.display().to_string(),
        problem,
        installed,
    }
}

/// The configuration files on disk against what start-zookeeper would write now.
fn files(settings: &Settings, identity: &Identity) -> Vec<FileState> {
    // The heap as start-zookeeper works it out in this container (a share needs its limit).
    let heap = heap::size(&settings.launch.heap)
        .map(|heap| heap.size)
        .unwrap_or_else(|_| settings.launch.heap.value.to_string());
    let Ok(files) = render::render(settings, identity, &Servers::Flags, &heap) else {
        return Vec::new();
    };
    files
        .all()
        .iter()
        .map(|file| {
            let managed = settings.ensemble.dynamic && file.path.ends_with("zoo.cfg");
            let state = match fs::read_to_string(&file.path) {
                Err(_) => "missing",
                Ok(_) if managed => "managed by ZooKeeper",
                Ok(text) if text == file.contents => "matches",
                Ok(_) => "differs",
            };
            FileState {
                path: file.path.display().to_string(),
                state,
            }
        })
        .collect()
}

fn data_dir(settings: &Settings) -> DataDir {
    let dirs = &settings.dirs;
    let newest = |dir: &Path, prefix: &str| -> Option<String> {
        fs::read_dir(dir.join("version-2"))
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.starts_with(prefix))
            .max_by_key(|name| {
                // The zxid, before any compression suffix (`snapshot.1f.gz`).
                name.strip_prefix(prefix)
                    .and_then(|rest| rest.split('.').next())
                    .and_then(|z| u64::from_str_radix(z, 16).ok())
                    .unwrap_or(0)
            })
    };
    DataDir {
        path: dirs.data.display().to_string(),
        history: empty_disk::has_history(&[&dirs.data, &dirs.data_log]).unwrap_or(false),
        newest_snapshot: newest(&dirs.data, "snapshot."),
        newest_log: newest(&dirs.data_log, "log.").or_else(|| newest(&dirs.data, "log.")),
        free_bytes: nix::sys::statvfs::statvfs(&dirs.data)
            .ok()
            .map(|s| s.blocks_available() * s.fragment_size()),
    }
}

/// Ask one member everything, each step within `timeout`.
fn ask(
    member: &identity::Member,
    this_pod: bool,
    settings: &Settings,
    tls: &Tls,
    timeout: Duration,
) -> MemberReport {
    let ports = &settings.ports;
    let mut found = MemberReport {
        id: member.id,
        host: member.host.clone(),
        observer: member.observer,
        this_pod,
        ..MemberReport::default()
    };
    let server = Address {
        host: member.host.clone(),
        port: ports.client,
        tls: tls.clone(),
    };
    let addrs = match fourlw::resolve(&server, timeout) {
        Ok(addrs) if !addrs.is_empty() => addrs,
        Ok(_) => {
            found.resolve_error = Some("no address".into());
            return found;
        }
        Err(err) => {
            found.resolve_error = Some(err.to_string());
            return found;
        }
    };
    found.addresses = addrs.iter().map(|a| a.ip().to_string()).collect();
    let ip = addrs[0].ip();
    let [client, quorum, election] = std::thread::scope(|scope| {
        [ports.client, ports.server, ports.election]
            .map(|port| scope.spawn(move || probe_port(SocketAddr::new(ip, port), timeout)))
            .map(|check| check.join().unwrap_or(Port::Unreachable))
    });
    (found.client, found.quorum, found.election) = (Some(client), Some(quorum), Some(election));
    if client != Port::Open {
        found.error = Some(format!("the client port {} is not open", ports.client));
        return found;
    }
    // The address just looked up; over TLS the name, which the certificate is checked
    // against.
    let target = Address {
        host: match tls.config() {
            Some(_) => member.host.clone(),
            None => ip.to_string(),
        },
        port: ports.client,
        tls: tls.clone(),
    };
    match fourlw::ask(&target, "ruok", timeout) {
        Ok(reply) => found.ruok = Some(crate::cli::quote::word(reply.trim())),
        Err(Failure::NotWhitelisted(word)) => found_refused(&mut found.refused_words, &word),
        Err(err) => found.ruok = Some(err.to_string()),
    }
    match fourlw::ask(&target, "srvr", timeout) {
        Ok(srvr) => {
            found.mode = fourlw::mode(&srvr).map(crate::cli::quote::word);
            found.zxid = field(&srvr, "Zxid:");
            found.latency = field(&srvr, "Latency min/avg/max:");
            found.epoch = found.zxid.as_deref().and_then(zxid_value).map(|z| z >> 32);
        }
        Err(Failure::NotServing) => found.mode = Some("not serving".into()),
        Err(Failure::NotWhitelisted(word)) => found_refused(&mut found.refused_words, &word),
        Err(err) => found.error = Some(err.to_string()),
    }
    if !found.serves()
        && let Ok(reply) = fourlw::ask(&target, empty_disk::WORD, timeout)
        && empty_disk::parse_waiting(&reply).is_some()
    {
        found.mode = Some("waiting (empty disk)".into());
    }
    match fourlw::ask(&target, "conf", timeout) {
        Ok(conf) => {
            let config = Config::parse(&conf);
            found.config_version = config.version.map(|v| format!("{v:x}"));
            found.config_members = config.servers.iter().map(|s| s.id).collect();
            found.config_hosts = config
                .servers
                .iter()
                .map(|s| identity::Member {
                    id: s.id,
                    host: s.host().to_owned(),
                    observer: s.role() == Role::Observer,
                })
                .collect();
        }
        Err(Failure::NotWhitelisted(word)) => found_refused(&mut found.refused_words, &word),
        Err(_) => {}
    }
    found
}

fn found_refused(words: &mut Vec<String>, word: &str) {
    if !words.iter().any(|w| w == word) {
        words.push(word.to_owned());
    }
}

/// `Zxid: 0x100000004` → `0x100000004`, cleaned for display.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .map(|value| crate::cli::quote::word(value.trim()))
}

fn probe_port(addr: SocketAddr, timeout: Duration) -> Port {
    match TcpStream::connect_timeout(&addr, timeout) {
        Ok(_) => Port::Open,
        Err(err) => match err.kind() {
            std::io::ErrorKind::ConnectionRefused => Port::Refused,
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Port::TimedOut,
            _ => Port::Unreachable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn what_a_server_says_reaches_the_report_escaped() {
        // A server whose every answer holds an escape sequence and a carriage return.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.read(&mut [0; 4]);
                let _ = stream.write_all(b"imok\x1b[2J\rgone\nMode: lead\x1ber\n");
            }
        });
        let settings = crate::config::settings::tests::flags(&[("client_port", &port.to_string())]);
        let member = identity::Member {
            id: 1,
            host: "127.0.0.1".into(),
            observer: false,
        };
        let found = ask(
            &member,
            false,
            &settings,
            &Tls::none(),
            Duration::from_secs(2),
        );
        let ruok = found.ruok.expect("an answer to ruok");
        let mode = found.mode.expect("an answer to srvr");
        for shown in [&ruok, &mode] {
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
        assert!(ruok.starts_with("\"imok"), "{ruok}");
    }
}
