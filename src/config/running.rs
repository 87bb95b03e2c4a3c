//! The server that start-zookeeper runs in this pod, read back from its own files.
//!
//! Commands run inside a pod (the kubelet's exec probes, a preStop hook, `kubectl exec`) see
//! the container's `ZK_*` variables but not start-zookeeper's flags: a manifest that passes its
//! settings as flags, as the tutorial's does, leaves them nothing to read. PID 1 of such a pod
//! is `zkpod supervise … -- java … QuorumPeerMain ZOO_CFG`. That zoo.cfg, with the dynamic file
//! it names in dynamic membership, java's own arguments, and the files start-zookeeper wrote
//! beside them say how the server runs; this module turns them back into the `ZK_*` variables
//! that would have written them. `flags::parse` takes those after the command's own flags and
//! variables, and before the defaults.
//!
//! The super user's password is in none of these files (the server has only its digest).
//! start-zookeeper passes the path of its `--super_password_file` on to PID 1's environment,
//! and it is read from there; so are `--tls_dir`, and a heap given as a share of the memory
//! limit (`ZK_HEAP_SIZE=50%`), which -Xmx shows only as the size it came to (a heap flag is
//! passed on too, so a share there is the running server's).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::identity::split_ordinal;
use super::settings::FOUR_LETTER_WORDS;
use crate::cli::values::pod_name;
use crate::zk::members::{Config, Role, Server};

/// The class java runs for a ZooKeeper server; its one argument is the zoo.cfg.
pub const MAIN_CLASS: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

/// zoo.cfg keys and the variable each one's value stands for, as is.
const KEYS: &[(&str, &str)] = &[
    ("dataDir", "ZK_DATA_DIR"),
    ("dataLogDir", "ZK_DATA_LOG_DIR"),
    ("tickTime", "ZK_TICK_TIME"),
    ("initLimit", "ZK_INIT_LIMIT"),
    ("syncLimit", "ZK_SYNC_LIMIT"),
    ("maxClientCnxns", "ZK_MAX_CLIENT_CNXNS"),
    ("autopurge.snapRetainCount", "ZK_SNAP_RETAIN_COUNT"),
    ("autopurge.purgeInterval", "ZK_PURGE_INTERVAL"),
    ("metricsProvider.httpPort", "ZK_PROMETHEUS_PORT"),
];

/// zoo.cfg keys that start-zookeeper writes from its settings, read here one by one rather
/// than handed back as `--extra`.
const WRITTEN: &[&str] = &[
    "clientPort",
    "clientPortAddress",
    "secureClientPort",
    "serverCnxnFactory",
    "client.certReload",
    "minSessionTimeout",
    "maxSessionTimeout",
    "peerType",
    "admin.enableServer",
    "admin.serverPort",
    "admin.serverAddress",
    "metricsProvider.className",
    "standaloneEnabled",
    "dynamicConfigFile",
];

/// The running server, as `ZK_*` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Running {
    /// The zoo.cfg the server was started with.
    pub zoo_cfg: PathBuf,
    /// With TLS: the key store and trust store the server reads (its copies of the pair).
    pub tls_stores: Option<(PathBuf, PathBuf)>,
    vars: BTreeMap<&'static str, String>,
}

impl Running {
    /// The server PID 1 runs, when PID 1 is zkpod's supervisor running a ZooKeeper server
    /// whose zoo.cfg can be read; None anywhere else.
    pub fn find() -> Option<Running> {
        let cmdline = fs::read("/proc/1/cmdline").ok()?;
        // Readable by PID 1's own user (or root) only; without it, no password file.
        let environ = fs::read("/proc/1/environ").unwrap_or_default();
        let hostname = nix::unistd::gethostname().ok()?;
        Running::from_pid1(&cmdline, &environ, &hostname.to_string_lossy())
    }

    /// From PID 1's command line and environment (NUL-separated, as /proc gives them), in
    /// the pod named `hostname`.
    pub fn from_pid1(cmdline: &[u8], environ: &[u8], hostname: &str) -> Option<Running> {
        let args: Vec<&str> = words(cmdline);
        let java = java_args(&args)?;
        let zoo_cfg = PathBuf::from(*java.last()?);
        let text = fs::read_to_string(&zoo_cfg).ok()?;
        let mut running = Running::read(&zoo_cfg, &text, java, hostname);
        let environ = words(environ);
        let var = |name: &str| {
            environ
                .iter()
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .filter(|value| !value.is_empty())
        };
        for name in ["ZK_SUPER_PASSWORD_FILE", crate::tls::DIR_VAR] {
            if let Some(path) = var(name) {
                running.set(name, path);
            }
        }
        if let Some(share) = var("ZK_HEAP_SIZE").filter(|heap| heap.trim().ends_with('%')) {
            running.set("ZK_HEAP_SIZE", share);
        }
        Some(running)
    }

    /// The value the running server gives variable `name`, if any.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.vars.insert(name, value.into());
    }

    /// Read zoo.cfg's `text`, the files beside it, and java's arguments.
    fn read(zoo_cfg: &Path, text: &str, java: &[&str], hostname: &str) -> Running {
        let mut running = Running {
            zoo_cfg: zoo_cfg.to_owned(),
            vars: BTreeMap::new(),
            tls_stores: None,
        };
        let keys: BTreeMap<&str, &str> = properties(text).collect();
        // The configuration directory leads java's class path (zoo.cfg itself is on the data
        // volume in dynamic membership, where ZooKeeper rewrites it).
        let class_path = java
            .iter()
            .position(|arg| *arg == "-cp")
            .and_then(|i| java.get(i + 1));
        let conf_dir = match class_path.and_then(|path| path.split(':').next()) {
            Some(dir) if !dir.is_empty() => Path::new(dir),
            _ => zoo_cfg.parent().unwrap_or(Path::new("/")),
        };
        running.set("ZK_CONF_DIR", conf_dir.to_string_lossy());
        if let (Some(keys), Some(trust)) = (
            keys.get("ssl.keyStore.location"),
            keys.get("ssl.trustStore.location"),
        ) {
            running.tls_stores = Some((PathBuf::from(keys), PathBuf::from(trust)));
        }
        for (key, var) in KEYS {
            if let Some(value) = keys.get(key) {
                running.set(var, *value);
            }
        }

        let dynamic = keys.contains_key("dynamicConfigFile")
            || keys.get("standaloneEnabled") == Some(&"false");
        running.set("ZK_MEMBERSHIP", if dynamic { "dynamic" } else { "static" });
        let members = match keys.get("dynamicConfigFile") {
            Some(file) => fs::read_to_string(zoo_cfg.parent().unwrap_or(conf_dir).join(file))
                .map(|text| Config::parse(&text))
                .unwrap_or_default(),
            None => Config::parse(text),
        };
        let myid = keys
            .get("dataDir")
            .and_then(|dir| fs::read_to_string(Path::new(dir).join("myid")).ok())
            .and_then(|id| id.trim().parse::<u32>().ok());
        running.ensemble(&members, myid, hostname, dynamic);

        // With TLS the client port is the secure one (a plaintext one, if any, is on loopback).
        let client_port = keys
            .get("secureClientPort")
            .or_else(|| keys.get("clientPort"))
            .map(|port| port.to_string())
            .or_else(|| {
                let me = myid.and_then(|id| members.get(id))?;
                me.client_port().map(|port| port.to_string())
            });
        if let Some(port) = client_port {
            running.set("ZK_CLIENT_PORT", port);
        }
        if keys.get("admin.enableServer") == Some(&"true") {
            if let Some(port) = keys.get("admin.serverPort") {
                running.set("ZK_ADMIN_PORT", *port);
            }
            if let Some(address) = keys.get("admin.serverAddress") {
                running.set("ZK_ADMIN_ADDRESS", *address);
            }
        }
        // Session timeouts follow the tick unless they were given.
        let tick: Option<u64> = keys.get("tickTime").and_then(|t| t.parse().ok());
        for (key, var, ticks) in [
            ("minSessionTimeout", "ZK_MIN_SESSION_TIMEOUT", 2),
            ("maxSessionTimeout", "ZK_MAX_SESSION_TIMEOUT", 20),
        ] {
            if let Some(value) = keys.get(key)
                && value.parse::<u64>().ok() != tick.map(|t| t * ticks)
            {
                running.set(var, *value);
            }
        }
        running.extra(&keys, dynamic);

        for arg in java {
            if let Some(heap) = arg.strip_prefix("-Xmx") {
                running.set("ZK_HEAP_SIZE", heap);
            } else if let Some(dir) = arg.strip_prefix("-Dzookeeper.log.dir=") {
                running.set("ZK_LOG_DIR", dir);
            }
        }
        let level = fs::read_to_string(conf_dir.join("log4j.properties")).ok();
        if let Some(level) = level.as_deref().and_then(|text| {
            properties(text).find_map(|(key, value)| {
                (key == "zookeeper.console.threshold").then(|| value.to_owned())
            })
        }) {
            running.set("ZK_LOG_LEVEL", level);
        }
        running
    }

    /// The members as start-zookeeper's flags name them: `--servers` and `--observers` when
    /// the hosts are one StatefulSet's pods in order, else `--ensemble`; and
    /// `--myid_offset`, from this server's id and the ordinal in this pod's `hostname` (a
    /// server that is no member yet, in dynamic membership, is not among `members`). In
    /// dynamic membership `--servers` and `--observers` name the first ensemble, which the
    /// members of now do not tell: only the offset is given.
    fn ensemble(&mut self, members: &Config, myid: Option<u32>, hostname: &str, dynamic: bool) {
        let mut servers: Vec<&Server> = members.servers.iter().collect();
        servers.sort_by_key(|s| s.id);
        let Some(first) = servers.first() else {
            // No server lines: a standalone server.
            self.set("ZK_SERVERS", "1");
            return;
        };
        // Ports, as this server (else the first) has them: host:quorum:election.
        let me = myid
            .and_then(|id| servers.iter().find(|s| s.id == id))
            .unwrap_or(first);
        let addresses = me.spec.split(';').next().unwrap_or_default();
        let mut parts = addresses.split(':').skip(1);
        if let (Some(quorum), Some(election)) = (parts.next(), parts.next()) {
            self.set("ZK_SERVER_PORT", quorum);
            self.set("ZK_ELECTION_PORT", election);
        }
        let from_ordinal = myid
            .zip(split_ordinal(&pod_name(hostname)))
            .and_then(|(id, (_, ordinal))| id.checked_sub(ordinal));
        if let Some(offset) = from_ordinal {
            self.set("ZK_MYID_OFFSET", offset.to_string());
        }
        if dynamic {
            return;
        }
        let observers = servers
            .iter()
            .filter(|s| s.role() == Role::Observer)
            .count();
        let voters = servers.len() - observers;
        // The ids in order from the first, voters before observers, as start-zookeeper
        // numbers them; anything else cannot be said with its flags.
        let in_order = servers.iter().enumerate().all(|(i, s)| {
            s.id == first.id + i as u32 && (s.role() == Role::Observer) == (i >= voters)
        });
        if !in_order {
            return;
        }
        if from_ordinal.is_none() {
            self.set("ZK_MYID_OFFSET", first.id.to_string());
        }
        self.set("ZK_OBSERVERS", observers.to_string());
        let set_name = split_ordinal(&pod_name(first.host())).map(|(name, _)| name.to_owned());
        let counted = servers.iter().enumerate().all(|(i, s)| {
            split_ordinal(&pod_name(s.host())).is_some_and(|(name, ordinal)| {
                Some(name) == set_name.as_deref() && ordinal == i as u32
            })
        });
        if counted {
            self.set("ZK_SERVERS", voters.to_string());
        } else {
            let hosts: Vec<&str> = servers.iter().map(|s| s.host()).collect();
            self.set("ZK_ENSEMBLE", hosts.join(";"));
        }
    }

    /// The zoo.cfg lines start-zookeeper wrote from `--extra`: keys none of its settings
    /// writes, and the three it lets `--extra` replace where they differ from its own value.
    fn extra(&mut self, keys: &BTreeMap<&str, &str>, dynamic: bool) {
        let replaced = |key: &str, value: &str| match key {
            "4lw.commands.whitelist" => value != FOUR_LETTER_WORDS,
            "quorumListenOnAllIPs" => value != "true",
            "reconfigEnabled" => value != if dynamic { "true" } else { "false" },
            _ => true,
        };
        let extra: Vec<String> = keys
            .iter()
            .filter(|(key, _)| {
                !key.starts_with("server.")
                    && !crate::config::settings::KEYS_OWNED_BY_FLAGS
                        .iter()
                        .any(|(owned, _)| owned == *key)
                    && !WRITTEN.contains(key)
                    && !KEYS.iter().any(|(k, _)| k == *key)
            })
            .filter(|(key, value)| replaced(key, value))
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        // ZK_CFG_EXTRA separates pairs with ';': a value holding one cannot be handed back.
        if !extra.is_empty() && extra.iter().all(|pair| !pair.contains(';')) {
            self.set("ZK_CFG_EXTRA", extra.join(";"));
        }
    }
}

/// NUL-separated words, as /proc gives a command line or an environment; words that are not
/// UTF-8 are left out.
fn words(bytes: &[u8]) -> Vec<&str> {
    bytes
        .split(|&b| b == 0)
        .filter(|word| !word.is_empty())
        .filter_map(|word| std::str::from_utf8(word).ok())
        .collect()
}

/// java's command line in a supervisor's: `zkpod supervise [OPTIONS] -- java … MAIN_CLASS
/// ZOO_CFG`.
fn java_args<'a>(args: &'a [&'a str]) -> Option<&'a [&'a str]> {
    let (zkpod, rest) = args.split_first()?;
    if Path::new(zkpod).file_name()? != "zkpod" || rest.first() != Some(&"supervise") {
        return None;
    }
    let dashes = rest.iter().position(|arg| *arg == "--")?;
    let java = &rest[dashes + 1..];
    (java.len() >= 2 && java[java.len() - 2] == MAIN_CLASS).then_some(java)
}

/// `key=value` lines, trimmed; comments and other lines left out.
fn properties(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::values::Origin;
    use crate::config::flags::tests::{disagreeing, parse_in_pod};
    use crate::config::identity::{HostNames, Identity};
    use crate::config::render::{self, ConfigFiles, Servers};
    use crate::config::settings::Settings;

    const DOMAIN: &str = "zk-hs.default.svc.cluster.local";

    /// start-zookeeper's settings for pod `host`, from `args` and `env`, with `running`
    /// underneath; and the files it would write.
    fn start(
        host: &str,
        args: &[&str],
        env: &[(&str, &str)],
        running: Option<&Running>,
    ) -> (Settings, ConfigFiles) {
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        };
        let settings = Settings::new(parse_in_pod(args, env, running).unwrap(), &lookup).unwrap();
        let identity = Identity::resolve(&settings.ensemble, || {
            Ok(HostNames {
                short: host.into(),
                domain: DOMAIN.into(),
            })
        })
        .unwrap();
        let heap = settings.launch.heap.value.to_string();
        let files = render::render(&settings, &identity, &Servers::Flags, &heap).unwrap();
        (settings, files)
    }

    /// A pod whose server start-zookeeper started with `args`: its files written below `dir`,
    /// and PID 1's command line as the supervisor has it.
    fn pod(dir: &Path, host: &str, args: &[&str]) -> (Settings, ConfigFiles, Vec<u8>) {
        let conf = format!("--conf_dir={}", dir.join("conf").display());
        let data = format!("--data_dir={}", dir.join("data").display());
        let mut all = vec![conf.as_str(), data.as_str()];
        all.extend_from_slice(args);
        let (settings, files) = start(host, &all, &[("ZK_SUPER_PASSWORD", "secret")], None);
        fs::create_dir_all(dir.join("conf")).unwrap();
        fs::create_dir_all(dir.join("data")).unwrap();
        for file in files.all() {
            fs::write(&file.path, &file.contents).unwrap();
        }
        let identity = Identity::resolve(&settings.ensemble, || {
            Ok(HostNames {
                short: host.into(),
                domain: DOMAIN.into(),
            })
        })
        .unwrap();
        if let Some(id) = identity.myid {
            fs::write(dir.join("data/myid"), format!("{id}\n")).unwrap();
        }
        let cmdline = [
            "zkpod".to_owned(),
            "supervise".into(),
            "--user".into(),
            "zookeeper".into(),
            "--".into(),
            "/usr/bin/java".into(),
            format!("-Dzookeeper.log.dir={}", settings.dirs.log.display()),
            format!("-Xmx{}", settings.launch.heap.value),
            format!("-Xms{}", settings.launch.heap.value),
            "-cp".into(),
            format!(
                "{}:/usr/share/java/zookeeper.jar",
                settings.dirs.conf.display()
            ),
            MAIN_CLASS.into(),
            files.zoo_cfg.path.display().to_string(),
        ]
        .join("\0");
        (settings, files, cmdline.into_bytes())
    }

    #[test]
    fn only_a_supervisor_running_zookeeper_counts() {
        let dir = crate::testing::scratch_dir("running-pid1");
        let (_, files, cmdline) = pod(&dir, "zk-0", &["--servers=3"]);
        assert!(Running::from_pid1(&cmdline, b"", "zk-1").is_some());
        let zoo_cfg = files.zoo_cfg.path.display().to_string();
        for other in [
            // Another init, start-zookeeper still waiting, a supervisor of something else.
            format!("/usr/bin/tini\0--\0java\0{MAIN_CLASS}\0{zoo_cfg}"),
            "start-zookeeper\0--servers=3".to_owned(),
            ["zkpod", "supervise", "--", "sleep", "600"].join("\0"),
            // A zoo.cfg that is not there.
            format!("zkpod\0supervise\0--\0java\0{MAIN_CLASS}\0/nowhere/zoo.cfg"),
            String::new(),
        ] {
            assert_eq!(
                Running::from_pid1(other.as_bytes(), b"", "zk-0"),
                None,
                "{other:?}"
            );
        }
    }

    #[test]
    fn the_running_server_gives_back_the_settings_that_wrote_its_files() {
        let dir = crate::testing::scratch_dir("running-round-trip");
        let cases: &[(&str, &[&str])] = &[
            ("standalone", &[]),
            (
                "tutorial",
                &[
                    "--servers=3",
                    "--data_log_dir=/var/lib/zookeeper/log",
                    "--log_dir=/var/log/zookeeper",
                    "--client_port=2181",
                    "--election_port=3888",
                    "--server_port=2888",
                    "--tick_time=2000",
                    "--init_limit=10",
                    "--sync_limit=5",
                    "--heap=512M",
                    "--max_client_cnxns=60",
                    "--snap_retain_count=3",
                    "--purge_interval=12",
                    "--max_session_timeout=40000",
                    "--min_session_timeout=4000",
                    "--log_level=WARN",
                ],
            ),
            (
                "observers and odd ports",
                &[
                    "--servers=3",
                    "--observers=2",
                    "--myid_offset=4",
                    "--client_port=2182",
                    "--server_port=2889",
                    "--election_port=3889",
                    "--tick_time=3000",
                    "--min_session_timeout=7000",
                    "--admin_port=8080",
                    "--admin_address=0.0.0.0",
                    "--prometheus_port=7000",
                    "--extra=snapCount=50000",
                    "--extra=4lw.commands.whitelist=*",
                ],
            ),
            (
                "named members",
                &["--ensemble=zk-0;zk-1;other-2", "--observers=1"],
            ),
            ("dynamic", &["--servers=3", "--membership=dynamic"]),
        ];
        for (name, args) in cases {
            let pod_dir = dir.join(name.replace(' ', "-"));
            let (written, files, cmdline) = pod(&pod_dir, "zk-1", args);
            let running = Running::from_pid1(&cmdline, b"", "zk-1").unwrap();
            // Dynamic membership needs the password, which no file holds, and names its first
            // ensemble, which the running server does not keep: variables.
            let env: &[(&str, &str)] = match *name {
                "dynamic" => &[("ZK_SUPER_PASSWORD", "secret"), ("ZK_SERVERS", "3")],
                _ => &[("ZK_SUPER_PASSWORD", "secret")],
            };
            let (read, again) = start("zk-1", &[], env, Some(&running));
            assert_eq!(again, files, "{name}: {running:?}");
            // Members named by short name come back with the domain zoo.cfg has them with.
            let (r, w) = (&read.ensemble, &written.ensemble);
            assert_eq!(
                (r.size(), r.observers, r.myid_offset, r.dynamic),
                (w.size(), w.observers, w.myid_offset, w.dynamic),
                "{name}"
            );
            assert_eq!(read.dirs, written.dirs, "{name}");
            assert_eq!(read.launch.heap.value, written.launch.heap.value, "{name}");
            // Without the running server, the same command writes other files.
            if *name != "standalone" {
                assert_ne!(start("zk-1", &[], env, None).1, files, "{name}");
            }
        }
    }

    #[test]
    fn given_flags_and_variables_win_and_disagree() {
        let dir = crate::testing::scratch_dir("running-given");
        let (_, _, cmdline) = pod(&dir, "zk-1", &["--servers=3", "--client_port=2182"]);
        let running = Running::from_pid1(&cmdline, b"", "zk-1").unwrap();
        let (settings, _) = start("zk-1", &["--client_port=2190"], &[], Some(&running));
        assert_eq!(settings.ports.client, 2190);
        let (settings, _) = start("zk-1", &[], &[("ZK_CLIENT_PORT", "2191")], Some(&running));
        assert_eq!(settings.ports.client, 2191);
        // --ensemble given: the running server's --servers is not taken beside it.
        let named = ["--ensemble=zk-0;zk-1"];
        let (settings, _) = start("zk-1", &named, &[], Some(&running));
        assert_eq!(settings.ensemble.size(), 2);

        assert_eq!(
            disagreeing(&["--client_port=2190"], &[], &running),
            [(Origin::Flag("client_port"), "2190".into(), "2182".into())]
        );
        assert_eq!(
            disagreeing(&[], &[("ZK_SERVERS", "5")], &running),
            [(Origin::Env("ZK_SERVERS"), "5".into(), "3".into())]
        );
        // The same value, written otherwise, agrees.
        assert!(disagreeing(&["--client_port= 2182", "--servers=3"], &[], &running).is_empty());
    }

    #[test]
    fn a_password_file_comes_from_pid1s_environment() {
        let dir = crate::testing::scratch_dir("running-password");
        let (_, _, cmdline) = pod(&dir, "zk-1", &["--servers=3", "--membership=dynamic"]);
        let environ = b"PATH=/bin\0ZK_SUPER_PASSWORD_FILE=/etc/zk/password\0HOME=/\0";
        let running = Running::from_pid1(&cmdline, environ, "zk-1").unwrap();
        assert_eq!(
            running.var("ZK_SUPER_PASSWORD_FILE"),
            Some("/etc/zk/password")
        );
        assert_eq!(running.var("ZK_MEMBERSHIP"), Some("dynamic"));
        let running = Running::from_pid1(&cmdline, b"PATH=/bin\0", "zk-1").unwrap();
        assert_eq!(running.var("ZK_SUPER_PASSWORD_FILE"), None);
    }

    #[test]
    fn a_heap_share_comes_from_pid1s_environment_and_a_size_from_java() {
        let dir = crate::testing::scratch_dir("running-heap");
        let (_, _, cmdline) = pod(&dir, "zk-1", &["--servers=3", "--heap=768m"]);
        let running = Running::from_pid1(&cmdline, b"ZK_HEAP_SIZE=50%\0", "zk-1").unwrap();
        assert_eq!(running.var("ZK_HEAP_SIZE"), Some("50%"));
        assert!(disagreeing(&["--heap=50%"], &[], &running).is_empty());
        assert_eq!(disagreeing(&["--heap=40%"], &[], &running).len(), 1);
        // A size in the environment is what -Xmx says already.
        let running = Running::from_pid1(&cmdline, b"ZK_HEAP_SIZE=1G\0", "zk-1").unwrap();
        assert_eq!(running.var("ZK_HEAP_SIZE"), Some("768m"));
    }

    #[test]
    fn with_tls_the_secure_port_the_directory_and_the_stores() {
        let dir = crate::testing::scratch_dir("running-tls");
        let flags = [
            "--servers=3",
            "--client_port=2190",
            "--tls_dir=/etc/zookeeper/tls",
        ];
        let (settings, _, cmdline) = pod(&dir, "zk-1", &flags);
        let environ = b"ZK_TLS_DIR=/etc/zookeeper/tls\0";
        let running = Running::from_pid1(&cmdline, environ, "zk-1").unwrap();
        assert_eq!(running.var("ZK_CLIENT_PORT"), Some("2190"));
        assert_eq!(running.var("ZK_TLS_DIR"), Some("/etc/zookeeper/tls"));
        // The keys --tls_dir writes are not handed back as --extra.
        assert_eq!(running.var("ZK_CFG_EXTRA"), None);
        let tls = settings.tls.unwrap();
        assert_eq!(running.tls_stores, Some((tls.key_store, tls.trust_store)));
    }

    #[test]
    fn the_dynamic_file_gives_members_and_client_port() {
        let dir = crate::testing::scratch_dir("running-dynamic-file");
        let (_, files, cmdline) = pod(&dir, "zk-1", &["--servers=3", "--membership=dynamic"]);
        // As ZooKeeper rewrites zoo.cfg after a reconfiguration: no clientPort, no server
        // lines, a dynamic file with four members.
        let static_part: String = files
            .zoo_cfg
            .contents
            .lines()
            .filter(|l| !l.starts_with("server.") && !l.starts_with("clientPort="))
            .map(|l| format!("{l}\n"))
            .collect();
        let dynamic_file = dir.join("data/zoo.cfg.dynamic.100000004");
        fs::write(
            &files.zoo_cfg.path,
            format!(
                "{static_part}dynamicConfigFile={}\n",
                dynamic_file.display()
            ),
        )
        .unwrap();
        let member = |i: u32| {
            format!(
                "server.{}=zk-{i}.{DOMAIN}:2888:3888:participant;0.0.0.0:2185\n",
                i + 1
            )
        };
        fs::write(&dynamic_file, (0..4).map(member).collect::<String>()).unwrap();
        let running = Running::from_pid1(&cmdline, b"", "zk-1").unwrap();
        assert_eq!(running.var("ZK_CLIENT_PORT"), Some("2185"));
        assert_eq!(running.var("ZK_MYID_OFFSET"), Some("1"));
        // --servers is the first ensemble: not what the members of now say.
        assert_eq!(running.var("ZK_SERVERS"), None);
        assert_eq!(running.var("ZK_OBSERVERS"), None);
        assert_eq!(running.var("ZK_MEMBERSHIP"), Some("dynamic"));

        // A server that is no member yet (it syncs as a non-voting follower, and the dynamic
        // file is the leader's): its id still follows from its ordinal, not from the others.
        let others: String = [0, 2, 3].map(member).concat();
        fs::write(&dynamic_file, others).unwrap();
        let running = Running::from_pid1(&cmdline, b"", "zk-1").unwrap();
        assert_eq!(running.var("ZK_MYID_OFFSET"), Some("1"));
        let (settings, _) = start("zk-1", &[], &[("ZK_SUPER_PASSWORD", "x")], Some(&running));
        let identity = Identity::resolve(&settings.ensemble, || {
            Ok(HostNames {
                short: "zk-1".into(),
                domain: DOMAIN.into(),
            })
        })
        .unwrap();
        assert_eq!(identity.myid, Some(2));
    }
}
