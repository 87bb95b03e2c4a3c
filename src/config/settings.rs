//! start-zookeeper's settings: the flags, checked against each other and grouped by purpose.
//! Everything here is decided before anything touches the disk.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::flags::{Extra, Flags, Given};
pub use super::flags::{Heap, Membership};
use super::secret::{Secret, super_password};
use crate::cli::error::{Error, Result};
use crate::cli::values::{JAVA_INT_MAX, LogLevel, Origin};

/// Voting servers when neither --servers nor --ensemble says.
const DEFAULT_SERVERS: u32 = 1;
/// The largest myid this project writes (ZooKeeper's documentation: 1 to 255).
pub const MAX_MYID: u32 = 255;

/// The four-letter words zkpod's own commands use (ruok, srvr, mntr, conf) and the read-only
/// ones operators reach for (isro, stat). 3.5.3+ answers only srvr unless told otherwise.
pub const FOUR_LETTER_WORDS: &str = "ruok,srvr,mntr,isro,stat,conf";

/// zoo.cfg keys that flags own: `--extra` may not set them behind the flag's back.
pub const KEYS_OWNED_BY_FLAGS: &[(&str, &str)] = &[
    ("clientPort", "--client_port"),
    ("dataDir", "--data_dir"),
    ("dataLogDir", "--data_log_dir"),
    ("tickTime", "--tick_time"),
    ("initLimit", "--init_limit"),
    ("syncLimit", "--sync_limit"),
    ("maxClientCnxns", "--max_client_cnxns"),
    ("minSessionTimeout", "--min_session_timeout"),
    ("maxSessionTimeout", "--max_session_timeout"),
    ("autopurge.snapRetainCount", "--snap_retain_count"),
    ("autopurge.purgeInterval", "--purge_interval"),
    ("peerType", "--observers"),
    ("admin.enableServer", "--admin_port"),
    ("admin.serverPort", "--admin_port"),
    ("admin.serverAddress", "--admin_address"),
    ("metricsProvider.className", "--prometheus_port"),
    ("metricsProvider.httpPort", "--prometheus_port"),
    ("dynamicConfigFile", "--membership"),
    ("secureClientPort", "--tls_dir"),
    ("serverCnxnFactory", "--tls_dir"),
    ("client.certReload", "--tls_dir"),
    ("sslQuorum", "--tls_dir"),
    ("sslQuorumReloadCertFiles", "--tls_dir"),
    ("ssl.clientAuth", "--tls_dir"),
    ("ssl.keyStore.location", "--tls_dir"),
    ("ssl.keyStore.type", "--tls_dir"),
    ("ssl.trustStore.location", "--tls_dir"),
    ("ssl.trustStore.type", "--tls_dir"),
    ("ssl.quorum.clientAuth", "--tls_dir"),
    ("ssl.quorum.keyStore.location", "--tls_dir"),
    ("ssl.quorum.keyStore.type", "--tls_dir"),
    ("ssl.quorum.trustStore.location", "--tls_dir"),
    ("ssl.quorum.trustStore.type", "--tls_dir"),
];

/// Which members the ensemble has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// `--servers`: voting members named `NAME-0` … after this pod's own StatefulSet name,
    /// followed by the observers.
    Counted { voters: u32 },
    /// `--ensemble`/`ZK_ENSEMBLE`: every member by host name, observers last.
    Named { hosts: Vec<String> },
}

/// Who is in the ensemble and how myid is counted. Every myid it gives is within 1-255.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensemble {
    pub members: Members,
    pub observers: u32,
    pub myid_offset: u32,
    /// Dynamic membership: the members above are only the first ensemble, pods past it
    /// join, and even one server runs as an ensemble (which can grow).
    pub dynamic: bool,
}

impl Ensemble {
    /// Voters and observers together.
    pub fn size(&self) -> u32 {
        match &self.members {
            Members::Counted { voters } => voters.saturating_add(self.observers),
            Members::Named { hosts } => hosts.len() as u32,
        }
    }

    pub fn voters(&self) -> u32 {
        self.size().saturating_sub(self.observers)
    }
}

/// This pod's names, when given instead of the machine's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub hostname: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dirs {
    pub data: PathBuf,
    pub data_log: PathBuf,
    pub conf: PathBuf,
    pub log: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ports {
    pub client: u16,
    pub server: u16,
    pub election: u16,
}

impl Ports {
    /// With TLS in dynamic membership, the plaintext client port ZooKeeper's reconfiguration
    /// needs, on 127.0.0.1 only: the client port + 10000 (- 10000 above 55535).
    pub fn loopback_client(&self) -> u16 {
        match self.client.checked_add(10000) {
            Some(port) => port,
            None => self.client - 10000,
        }
    }
}

/// ZooKeeper's timing and limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tuning {
    pub tick_time: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    pub max_client_cnxns: u32,
    pub min_session_timeout: u32,
    pub max_session_timeout: u32,
    pub snap_retain_count: u32,
    pub purge_interval: u32,
}

/// The HTTP endpoints ZooKeeper itself may open: both off unless asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admin {
    pub server: Option<AdminServer>,
    pub prometheus_port: Option<Given<u16>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminServer {
    pub address: IpAddr,
    pub port: u16,
}

/// zoo.cfg keys zkpod sets for every pod, which `--extra` may replace, and the further keys
/// `--extra` adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub four_letter_words: String,
    /// Bind the quorum and election ports on every interface: a pod cannot resolve its own
    /// name until it is Ready, so binding to that name fails at start.
    pub quorum_listen_on_all_ips: String,
    pub reconfig_enabled: String,
    /// `--extra` keys other than the three above, in the order given.
    pub extra: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

/// How the server is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// Turned into -Xmx and -Xms by `config::heap`, which reads the memory limit for a share.
    pub heap: Given<Heap>,
    pub zk_home: Option<Given<PathBuf>>,
    pub user: Option<Given<String>>,
    pub grace: Option<Duration>,
    /// `-- CMD ARGS…`: run this instead of ZooKeeper.
    pub command: Vec<OsString>,
    /// From the environment: JAVA_HOME (unless empty) and PATH, to find java.
    pub java_home: Option<PathBuf>,
    pub path: OsString,
    /// SERVER_JVMFLAGS then JVMFLAGS, split on whitespace: they come last on java's command
    /// line, so they win.
    pub jvm_flags: Vec<String>,
    /// Start even with an empty data directory while the ensemble may have history.
    pub unsafe_start_empty: bool,
}

/// TLS (`--tls_dir`): the mounted Secret, and the copies the server reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsFiles {
    /// The Secret's directory: read, never written.
    pub dir: PathBuf,
    /// The key, then the certificate chain: ZooKeeper's PEM key store, readable by the server
    /// only.
    pub key_store: PathBuf,
    /// ca.crt: ZooKeeper's PEM trust store.
    pub trust_store: PathBuf,
}

impl TlsFiles {
    /// The directory in the configuration directory that holds the server's copies.
    pub fn store_dir(conf: &std::path::Path) -> PathBuf {
        conf.join("tls")
    }
}

/// Every setting of start-zookeeper, valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub ensemble: Ensemble,
    pub names: Names,
    pub dirs: Dirs,
    pub ports: Ports,
    pub tuning: Tuning,
    pub admin: Admin,
    pub policy: Policy,
    pub log_level: LogLevel,
    pub template_dir: Option<PathBuf>,
    pub launch: Launch,
    pub dry_run: bool,
    /// Set in dynamic membership (`ensemble.dynamic`).
    pub super_password: Option<Secret>,
    pub tls: Option<TlsFiles>,
}

/// A flag that always has a value once parsed (its default at least).
fn set<T>(field: Option<T>) -> T {
    field.expect("every flag with a default has a value after parsing")
}

impl Settings {
    /// How zkpod's commands connect to the servers: with TLS as this pod's server has it (see
    /// `Tls::installed_or_dir`), else in the clear.
    pub fn client_tls(&self) -> Result<crate::tls::Tls> {
        match &self.tls {
            None => Ok(crate::tls::Tls::none()),
            Some(tls) => crate::tls::Tls::installed_or_dir(
                Some((&tls.key_store, &tls.trust_store)),
                &tls.dir,
            )
            .map_err(|why| Error::failed(format!("--tls_dir: {why}"))),
        }
    }

    /// Check the flags against each other; `env` gives the launch's variables.
    pub fn new(flags: Flags, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Settings> {
        let tick = set(flags.tick_time.clone());
        let tuning = tuning(&flags, &tick)?;
        let ports = ports(&flags)?;
        let env_text = |name: &str| env(name).filter(|value| !value.is_empty());
        let jvm_flags = ["SERVER_JVMFLAGS", "JVMFLAGS"]
            .iter()
            .filter_map(|name| env_text(name))
            .flat_map(|flags| {
                flags
                    .to_string_lossy()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        let Given {
            value: membership,
            origin: membership_origin,
        } = set(flags.membership.clone());
        let super_password = match membership {
            Membership::Static => None,
            Membership::Dynamic => Some(
                super_password(flags.super_password_file.as_ref(), env)?.ok_or_else(|| {
                    Error::usage(format!(
                        "{membership_origin}=dynamic needs the super user's password: set \
                         ZK_SUPER_PASSWORD (from a Secret) or --super_password_file"
                    ))
                })?,
            ),
        };
        let mut policy = policy(&flags.extra)?;
        if membership == Membership::Dynamic {
            if let Some(entry) = flags
                .extra
                .iter()
                .find(|e| e.key == "reconfigEnabled" && e.value.trim() != "true")
            {
                return Err(Error::usage(format!(
                    "{}: reconfigEnabled={} turns off what --membership=dynamic needs",
                    entry.origin, entry.value
                )));
            }
            if let Some(entry) = flags.extra.iter().find(|e| e.key == "standaloneEnabled") {
                return Err(Error::usage(format!(
                    "{}: standaloneEnabled is set by --membership=dynamic (false: even one \
                     server runs as an ensemble that can grow)",
                    entry.origin
                )));
            }
            policy.reconfig_enabled = "true".to_owned();
        }
        Ok(Settings {
            ensemble: ensemble(&flags)?,
            names: Names {
                hostname: flags.hostname.clone(),
                domain: flags.domain.clone(),
            },
            dirs: Dirs {
                data: set(flags.data_dir.clone()),
                data_log: set(flags.data_log_dir.clone()),
                conf: set(flags.conf_dir.clone()),
                log: set(flags.log_dir.clone()),
            },
            ports,
            tuning,
            admin: Admin {
                server: flags.admin_port.as_ref().map(|port| AdminServer {
                    address: set(flags.admin_address),
                    port: port.value,
                }),
                prometheus_port: flags.prometheus_port.clone(),
            },
            policy,
            log_level: set(flags.log_level),
            template_dir: flags.template_dir.clone(),
            launch: Launch {
                heap: set(flags.heap.clone()),
                zk_home: flags.zk_home.clone(),
                user: flags.user.clone(),
                grace: flags.grace,
                command: flags.command.clone(),
                java_home: env_text("JAVA_HOME").map(PathBuf::from),
                path: env("PATH").unwrap_or_default(),
                jvm_flags,
                unsafe_start_empty: flags.unsafe_start_empty,
            },
            dry_run: flags.dry_run,
            super_password,
            tls: flags.tls_dir.as_ref().map(|dir| {
                let store = TlsFiles::store_dir(&set(flags.conf_dir.clone()));
                TlsFiles {
                    dir: dir.value.clone(),
                    key_store: store.join("keystore.pem"),
                    trust_store: store.join("truststore.pem"),
                }
            }),
        })
    }
}

fn tuning(flags: &Flags, tick: &Given<u32>) -> Result<Tuning> {
    // Unset, the session timeouts follow the tick, and messages say so.
    let derived = |factor: u32, note: &'static str| {
        let value = tick.value.saturating_mul(factor);
        (
            Given {
                value,
                origin: tick.origin,
            },
            note,
        )
    };
    let (min, min_note) = match &flags.min_session_timeout {
        Some(given) => (given.clone(), ""),
        None => derived(2, " (2 × tick_time)"),
    };
    let (max, max_note) = match &flags.max_session_timeout {
        Some(given) => (given.clone(), ""),
        None => derived(20, " (20 × tick_time)"),
    };
    if min.value > max.value {
        return Err(Error::usage(format!(
            "{}{min_note}: the minimum session timeout {} ms is above the maximum {} ms ({}{max_note})",
            min.origin, min.value, max.value, max.origin
        )));
    }
    // ZooKeeper counts these times in a Java int: one past it would wrap to a negative time.
    if max.value > JAVA_INT_MAX {
        return Err(Error::usage(format!(
            "{}{max_note}: the maximum session timeout {} ms is above {JAVA_INT_MAX} ms, the \
             most ZooKeeper counts; give --max_session_timeout",
            max.origin, max.value
        )));
    }
    let init_limit = set(flags.init_limit.clone());
    let sync_limit = set(flags.sync_limit.clone());
    for limit in [&init_limit, &sync_limit] {
        let time = u64::from(limit.value) * u64::from(tick.value);
        if time > u64::from(JAVA_INT_MAX) {
            return Err(Error::usage(format!(
                "{}: {} ticks of {} ms ({}) make {time} ms, above {JAVA_INT_MAX} ms, the most \
                 ZooKeeper counts",
                limit.origin, limit.value, tick.value, tick.origin
            )));
        }
    }
    Ok(Tuning {
        tick_time: tick.value,
        init_limit: init_limit.value,
        sync_limit: sync_limit.value,
        max_client_cnxns: set(flags.max_client_cnxns),
        min_session_timeout: min.value,
        max_session_timeout: max.value,
        snap_retain_count: set(flags.snap_retain_count),
        purge_interval: set(flags.purge_interval),
    })
}

fn ports(flags: &Flags) -> Result<Ports> {
    let client = set(flags.client_port.clone());
    let server = set(flags.server_port.clone());
    let election = set(flags.election_port.clone());
    let mut given = vec![&client, &server, &election];
    given.extend(flags.admin_port.iter().chain(flags.prometheus_port.iter()));
    for (i, port) in given.iter().enumerate() {
        if let Some(other) = given[..i].iter().find(|p| p.value == port.value) {
            return Err(Error::usage(format!(
                "{}: port {} is already used by {}; every port must differ",
                port.origin, port.value, other.origin
            )));
        }
    }
    Ok(Ports {
        client: client.value,
        server: server.value,
        election: election.value,
    })
}

fn ensemble(flags: &Flags) -> Result<Ensemble> {
    let observers = set(flags.observers.clone());
    let myid_offset = set(flags.myid_offset.clone());
    let members = match &flags.ensemble {
        None => {
            let voters = flags.servers.as_ref().map_or(DEFAULT_SERVERS, |s| s.value);
            Members::Counted { voters }
        }
        Some(named) => {
            let size = named.value.len() as u32;
            if size <= observers.value {
                return Err(Error::usage(format!(
                    "{}: {size} members leave no voter beside {} observer(s)",
                    named.origin, observers.value
                )));
            }
            let voters = size - observers.value;
            if let Some(servers) = &flags.servers
                && servers.value != voters
            {
                return Err(Error::usage(format!(
                    "{}: {} voting servers disagrees with {}, which names {voters}; give one \
                     of them",
                    servers.origin, servers.value, named.origin
                )));
            }
            Members::Named {
                hosts: named.value.clone(),
            }
        }
    };
    let ensemble = Ensemble {
        members,
        observers: observers.value,
        myid_offset: myid_offset.value,
        dynamic: flags.membership.as_ref().map(|m| m.value) == Some(Membership::Dynamic),
    };
    // Every id must fit ZooKeeper's 1-255, with no arithmetic that could wrap.
    let size = match &ensemble.members {
        Members::Counted { voters } => voters.checked_add(observers.value),
        Members::Named { hosts } => u32::try_from(hosts.len()).ok(),
    };
    let last_id = size.and_then(|size| myid_offset.value.checked_add(size.checked_sub(1)?));
    let standalone = size == Some(1) && !ensemble.dynamic;
    if !standalone && last_id.is_none_or(|last| last > MAX_MYID) {
        // The largest of the numbers that add up is the one to name.
        let parts = match (&flags.ensemble, &ensemble.members) {
            (Some(named), _) => vec![(named.value.len() as u64, named.origin)],
            (None, Members::Counted { voters }) => {
                let servers = flags
                    .servers
                    .as_ref()
                    .map_or(Origin::Flag("servers"), |s| s.origin);
                vec![
                    (u64::from(*voters), servers),
                    (u64::from(observers.value), observers.origin),
                ]
            }
            (None, Members::Named { .. }) => vec![],
        };
        let origin = parts
            .into_iter()
            .chain([(u64::from(myid_offset.value), myid_offset.origin)])
            .max_by_key(|&(value, _)| value)
            .map_or(myid_offset.origin, |(_, origin)| origin);
        return Err(Error::usage(format!(
            "{origin}: the myids would run from {} past {MAX_MYID} (--myid_offset {} + {} \
             members); ZooKeeper takes 1-{MAX_MYID}",
            myid_offset.value,
            myid_offset.value,
            size.map_or_else(|| "too many".to_owned(), |s| s.to_string())
        )));
    }
    Ok(ensemble)
}

fn policy(extra: &[Extra]) -> Result<Policy> {
    for entry in extra {
        if let Some((_, flag)) = KEYS_OWNED_BY_FLAGS.iter().find(|(k, _)| *k == entry.key) {
            return Err(Error::usage(format!(
                "{}: {} is set by {flag}; use that instead",
                entry.origin, entry.key
            )));
        }
        if entry.key.starts_with("server.")
            || entry.key.starts_with("group.")
            || entry.key == "weight"
        {
            return Err(Error::usage(format!(
                "{}: {} is written from the ensemble (--servers, --ensemble)",
                entry.origin, entry.key
            )));
        }
    }
    let mut policy = Policy {
        four_letter_words: FOUR_LETTER_WORDS.to_owned(),
        quorum_listen_on_all_ips: "true".to_owned(),
        reconfig_enabled: "false".to_owned(),
        extra: Vec::new(),
    };
    for entry in extra {
        let value = entry.value.clone();
        match entry.key.as_str() {
            "4lw.commands.whitelist" => policy.four_letter_words = value,
            "quorumListenOnAllIPs" => policy.quorum_listen_on_all_ips = value,
            "reconfigEnabled" => policy.reconfig_enabled = value,
            key => policy.extra.push(Entry {
                key: key.to_owned(),
                value,
            }),
        }
    }
    Ok(policy)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::config::flags::tests::parse_args;

    /// Settings from a start-zookeeper command line and environment.
    pub fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Settings> {
        let flags = parse_args(args, env)?;
        let env = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        };
        Settings::new(flags, &env)
    }

    /// Settings from flags alone: `flags(&[("client_port", "2182")])` is `--client_port=2182`.
    pub fn flags(pairs: &[(&str, &str)]) -> Settings {
        try_flags(pairs).unwrap()
    }

    fn try_flags(pairs: &[(&str, &str)]) -> Result<Settings> {
        let args: Vec<String> = pairs.iter().map(|(k, v)| format!("--{k}={v}")).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        parse(&args, &[])
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        try_flags(pairs).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_the_original_scripts() {
        let s = flags(&[]);
        assert_eq!(
            s.ensemble,
            Ensemble {
                members: Members::Counted { voters: 1 },
                observers: 0,
                myid_offset: 1,
                dynamic: false,
            }
        );
        assert_eq!(s.dirs.data, PathBuf::from("/var/lib/zookeeper/data"));
        assert_eq!(s.dirs.data_log, PathBuf::from("/var/lib/zookeeper/log"));
        assert_eq!(s.dirs.conf, PathBuf::from("/opt/zookeeper/conf"));
        assert_eq!(s.dirs.log, PathBuf::from("/var/log/zookeeper"));
        assert_eq!(
            (s.ports.client, s.ports.server, s.ports.election),
            (2181, 2888, 3888)
        );
        let t = &s.tuning;
        assert_eq!((t.tick_time, t.init_limit, t.sync_limit), (2000, 10, 5));
        assert_eq!(s.launch.heap.value, Heap::Size("2G".into()));
        assert_eq!(t.max_client_cnxns, 60);
        assert_eq!((t.snap_retain_count, t.purge_interval), (3, 0));
        assert_eq!(
            (t.min_session_timeout, t.max_session_timeout),
            (4000, 40000)
        );
        assert_eq!(s.log_level, LogLevel::Info);
        assert_eq!(s.admin.server, None);
        assert!(s.policy.extra.is_empty() && !s.dry_run);
        assert!(s.launch.grace.is_none() && s.launch.user.is_none());
    }

    #[test]
    fn dashes_and_separate_values_work_too() {
        let s = parse(
            &["--data-dir", "/d", "--client_port", "2182", "--dry-run"],
            &[],
        )
        .unwrap();
        assert_eq!(s.dirs.data, PathBuf::from("/d"));
        assert_eq!(s.ports.client, 2182);
        assert!(s.dry_run);
    }

    #[test]
    fn session_timeouts_follow_tick_time() {
        let s = flags(&[("tick_time", "1000")]);
        assert_eq!(
            (s.tuning.min_session_timeout, s.tuning.max_session_timeout),
            (2000, 20000)
        );
    }

    #[test]
    fn min_session_timeout_above_max_is_refused() {
        let message = error(&[
            ("min_session_timeout", "9000"),
            ("max_session_timeout", "8000"),
        ]);
        assert!(message.starts_with("--min_session_timeout:"), "{message}");
        assert!(message.contains("--max_session_timeout"), "{message}");
        // The computed default counts too.
        let message = error(&[("min_session_timeout", "50000")]);
        assert!(message.contains("20 × tick_time"), "{message}");
    }

    #[test]
    fn ports_must_be_distinct() {
        let message = error(&[("server_port", "2181")]);
        assert_eq!(
            message,
            "--server_port: port 2181 is already used by --client_port; every port must differ"
        );
        let message = error(&[("admin_port", "3888")]);
        assert!(message.contains("--election_port"), "{message}");
    }

    #[test]
    fn numbers_have_floors() {
        for (name, bad) in [
            ("tick_time", "0"),
            ("init_limit", "0"),
            ("sync_limit", "x"),
            ("servers", "0"),
            ("snap_retain_count", "2"),
            ("max_client_cnxns", "-1"),
            ("tick_time", "99999999999999999999"),
            ("tick_time", "2147483648"),
            ("max_client_cnxns", "2147483648"),
            ("purge_interval", "4294967295"),
        ] {
            let message = error(&[(name, bad)]);
            assert!(message.starts_with(&format!("--{name}:")), "{message}");
        }
        // Times ZooKeeper counts in a Java int, made of several flags, must fit one too.
        const T1: (&str, &str) = ("min_session_timeout", "1");
        const T2: (&str, &str) = ("max_session_timeout", "2000");
        for (pairs, named) in [
            (
                &[("tick_time", "2147483647")][..],
                "--tick_time (20 × tick_time)",
            ),
            (&[("tick_time", "300000000"), T1, T2][..], "--init_limit"),
            (
                &[
                    ("tick_time", "300000000"),
                    T1,
                    T2,
                    ("init_limit", "1"),
                    ("sync_limit", "8"),
                ][..],
                "--sync_limit",
            ),
        ] {
            let message = error(pairs);
            assert!(message.starts_with(named), "{pairs:?}: {message}");
            assert!(message.contains("2147483647"), "{pairs:?}: {message}");
        }
        let most = [("tick_time", "1"), ("max_client_cnxns", "2147483647")];
        assert_eq!(flags(&most).tuning.max_client_cnxns, 2_147_483_647);
        let s = flags(&[("max_client_cnxns", "0")]);
        assert_eq!(
            s.tuning.max_client_cnxns, 0,
            "0 means unlimited to ZooKeeper"
        );
    }

    #[test]
    fn ensemble_arithmetic_never_wraps() {
        // Each names the flag whose number takes the ids past 255.
        for (pairs, named) in [
            (
                &[("servers", "3"), ("myid_offset", "4294967295")][..],
                "--myid_offset",
            ),
            (
                &[("servers", "3"), ("observers", "4294967295")][..],
                "--observers",
            ),
            (
                &[("servers", "4294967295"), ("observers", "4294967295")][..],
                "--observers",
            ),
            (&[("servers", "256")][..], "--servers"),
            (
                &[("servers", "3"), ("myid_offset", "254")][..],
                "--myid_offset",
            ),
            (&[("observers", "300")][..], "--observers"),
            (
                &[("ensemble", "a;b"), ("myid_offset", "255")][..],
                "--myid_offset",
            ),
        ] {
            let message = error(pairs);
            assert!(message.contains("1-255"), "{pairs:?}: {message}");
            assert!(message.starts_with(named), "{pairs:?}: {message}");
        }
        assert_eq!(
            flags(&[("servers", "3"), ("myid_offset", "253")])
                .ensemble
                .size(),
            3
        );
        assert_eq!(flags(&[("servers", "255")]).ensemble.size(), 255);
    }

    #[test]
    fn ensemble_lists_members_by_name() {
        let s = parse(&[], &[("ZK_ENSEMBLE", "zk-0;zk-1;zk-2")]).unwrap();
        assert_eq!(
            s.ensemble.members,
            Members::Named {
                hosts: vec!["zk-0".into(), "zk-1".into(), "zk-2".into()]
            }
        );
        assert_eq!(s.ensemble.voters(), 3);
        let s = flags(&[
            ("ensemble", "zk-0;zk-1;zk-2;zk-3"),
            ("observers", "1"),
            ("servers", "3"),
        ]);
        assert_eq!((s.ensemble.size(), s.ensemble.voters()), (4, 3));
        let message = parse(&["--servers=3"], &[("ZK_ENSEMBLE", "zk-0;zk-1")])
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("--servers:") && message.contains("ZK_ENSEMBLE"),
            "{message}"
        );
        assert!(error(&[("ensemble", "zk-0"), ("observers", "1")]).contains("no voter"));
    }

    #[test]
    fn extra_keys_may_replace_the_policy_but_not_flags() {
        let s = flags(&[
            ("extra", "4lw.commands.whitelist=*"),
            ("extra", "globalOutstandingLimit = 2000"),
        ]);
        assert_eq!(s.policy.four_letter_words, "*");
        assert_eq!(
            s.policy.extra,
            [Entry {
                key: "globalOutstandingLimit".into(),
                value: "2000".into()
            }]
        );
        assert_eq!(
            error(&[("extra", "clientPort=2182")]),
            "--extra: clientPort is set by --client_port; use that instead"
        );
        assert!(error(&[("extra", "server.4=x:1:2")]).contains("ensemble"));
    }

    #[test]
    fn tls_owns_its_keys_and_keeps_a_loopback_port_apart() {
        let s = flags(&[("tls_dir", "/etc/zookeeper/tls"), ("conf_dir", "/c")]);
        let tls = s.tls.unwrap();
        assert_eq!(tls.key_store, std::path::Path::new("/c/tls/keystore.pem"));
        assert_eq!(
            tls.trust_store,
            std::path::Path::new("/c/tls/truststore.pem")
        );
        assert_eq!(s.ports.loopback_client(), 12181);
        let high = flags(&[("client_port", "60000")]);
        assert_eq!(high.ports.loopback_client(), 50000);
        let message = error(&[("extra", "ssl.keyStore.location=/elsewhere")]);
        assert!(message.contains("set by --tls_dir"), "{message}");
    }

    #[test]
    fn admin_server_is_local_unless_told() {
        let s = flags(&[("admin_port", "8080")]);
        assert_eq!(
            s.admin.server,
            Some(AdminServer {
                address: "127.0.0.1".parse().unwrap(),
                port: 8080
            })
        );
        let s = flags(&[("admin_port", "8080"), ("admin_address", "0.0.0.0")]);
        assert_eq!(s.admin.server.unwrap().address.to_string(), "0.0.0.0");
        assert!(error(&[("admin_address", "localhost")]).contains("IP address"));
    }

    #[test]
    fn host_names_are_checked() {
        let s = flags(&[
            ("hostname", "zk-1"),
            ("domain", "zk-hs.default.svc.cluster.local."),
        ]);
        assert_eq!(s.names.hostname.as_deref(), Some("zk-1"));
        assert_eq!(
            s.names.domain.as_deref(),
            Some("zk-hs.default.svc.cluster.local")
        );
        assert!(error(&[("domain", "a b")]).starts_with("--domain:"));
    }

    #[test]
    fn launch_reads_java_and_jvm_flags_from_the_environment() {
        let s = parse(
            &[],
            &[
                ("JAVA_HOME", ""),
                ("SERVER_JVMFLAGS", "-Dserver=1"),
                ("JVMFLAGS", " -Xmx1G  -Dx=1 "),
            ],
        )
        .unwrap();
        assert_eq!(s.launch.java_home, None, "empty counts as unset");
        assert_eq!(s.launch.jvm_flags, ["-Dserver=1", "-Xmx1G", "-Dx=1"]);
    }
}
