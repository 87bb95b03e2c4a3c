//! start-zookeeper's flags. Each flag is defined once, in `FLAGS`: its name, the environment
//! variables that stand in for it, its default, its documentation, and how its text becomes a
//! typed value. `parse` takes each flag from the command line, else from its variable (an
//! empty one counts as unset), else from its default, and every error names the flag or the
//! variable the value came from. Checks between flags come after, in `settings`.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};

use super::running::Running;
use crate::cli::error::{Error, Result};
use crate::cli::quote::quote;
use crate::cli::values::{LogLevel, Origin, Value, is_host_name, pod_name};

/// A value and where it came from, for checks that involve several flags and for errors
/// found later. Templates see the value alone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Given<T> {
    pub value: T,
    #[serde(skip)]
    pub origin: Origin,
}

impl Given<String> {
    /// The value as a `Value`, to be read further.
    pub fn as_value(&self) -> Value<'_> {
        Value {
            origin: self.origin,
            text: &self.value,
        }
    }
}

/// A further zoo.cfg line from `--extra`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// Every flag's value, typed. Fields of flags with a default are always set by `parse`.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub servers: Option<Given<u32>>,
    pub ensemble: Option<Given<Vec<String>>>,
    pub observers: Option<Given<u32>>,
    pub myid_offset: Option<Given<u32>>,
    pub data_dir: Option<PathBuf>,
    pub data_log_dir: Option<PathBuf>,
    pub conf_dir: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    pub client_port: Option<Given<u16>>,
    pub server_port: Option<Given<u16>>,
    pub election_port: Option<Given<u16>>,
    pub tick_time: Option<Given<u32>>,
    pub init_limit: Option<Given<u32>>,
    pub sync_limit: Option<Given<u32>>,
    pub heap: Option<Given<Heap>>,
    pub max_client_cnxns: Option<u32>,
    pub snap_retain_count: Option<u32>,
    pub purge_interval: Option<u32>,
    pub min_session_timeout: Option<Given<u32>>,
    pub max_session_timeout: Option<Given<u32>>,
    pub log_level: Option<LogLevel>,
    pub admin_port: Option<Given<u16>>,
    pub admin_address: Option<IpAddr>,
    pub prometheus_port: Option<Given<u16>>,
    pub extra: Vec<Extra>,
    pub hostname: Option<String>,
    pub domain: Option<String>,
    pub template_dir: Option<PathBuf>,
    pub zk_home: Option<Given<PathBuf>>,
    pub user: Option<Given<String>>,
    pub grace: Option<Duration>,
    pub dry_run: bool,
    pub unsafe_start_empty: bool,
    pub membership: Option<Given<Membership>>,
    pub super_password_file: Option<Given<PathBuf>>,
    pub tls_dir: Option<Given<PathBuf>>,
    /// `-- COMMAND ARGS…`
    pub command: Vec<OsString>,
}

/// How the ensemble's membership is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// The members are what the flags say, at every start.
    Static,
    /// The ensemble keeps its members (ZooKeeper's reconfiguration): pods join and leave it.
    Dynamic,
}

impl Membership {
    /// `static` or `dynamic`, from a flag or variable (start-zookeeper's, the probe's).
    pub fn parse(value: &Value) -> Result<Membership> {
        match value.text.trim() {
            "static" => Ok(Membership::Static),
            "dynamic" => Ok(Membership::Dynamic),
            _ => Err(value.bad("is not static or dynamic")),
        }
    }
}

/// How a flag's value lands in `Flags`.
pub enum Set {
    /// One value; when the flag is repeated, the last one wins.
    One(fn(&mut Flags, Value) -> Result<()>),
    /// Every value, in order (repeatable flags).
    Each(fn(&mut Flags, Value) -> Result<()>),
    /// A switch without a value.
    Switch(fn(&mut Flags)),
}

/// One flag, whole.
pub struct Flag {
    /// The name the original scripts use (`client_port`); `--client-port` works too.
    pub name: &'static str,
    /// Variables read when the flag is not given; the first one set wins.
    pub env: &'static [&'static str],
    pub value_name: &'static str,
    /// The value when neither the flag nor a variable gives one.
    pub default: Option<&'static str>,
    /// What --help says when the default is not a plain value.
    pub default_help: Option<&'static str>,
    pub help: &'static str,
    pub set: Set,
}

fn given<T>(value: T, from: &Value) -> Option<Given<T>> {
    Some(Given {
        value,
        origin: from.origin,
    })
}

pub static FLAGS: &[Flag] = &[
    Flag {
        name: "servers",
        env: &["ZK_SERVERS"],
        value_name: "N",
        default: None,
        default_help: Some("1, or the number --ensemble names"),
        help: "Voting servers in the ensemble: the StatefulSet's replicas, minus --observers. \
               1 runs a standalone server.",
        set: Set::One(|f, v| {
            f.servers = given(v.number(1u32)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "ensemble",
        env: &["ZK_ENSEMBLE"],
        value_name: "HOSTS",
        default: None,
        default_help: None,
        help: "The members by short host name, separated by ';' (the older image's \
               ZK_ENSEMBLE): the member count and this server's id (its position + \
               --myid_offset) come from it.",
        set: Set::One(|f, v| {
            f.ensemble = given(ensemble_hosts(&v)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "observers",
        env: &["ZK_OBSERVERS"],
        value_name: "N",
        default: Some("0"),
        default_help: None,
        help: "The last N members observe: they follow the ensemble and serve reads but do not \
               vote. --servers=3 --observers=1 runs ordinals 0-2 as voters and ordinal 3 as an \
               observer.",
        set: Set::One(|f, v| {
            f.observers = given(v.number(0u32)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "myid_offset",
        env: &["ZK_MYID_OFFSET"],
        value_name: "N",
        default: Some("1"),
        default_help: None,
        help: "myid = StatefulSet ordinal + this. Ensembles spread over several StatefulSets \
               give each set its own range (1, 4, 7, …).",
        set: Set::One(|f, v| {
            f.myid_offset = given(v.number(1u32)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "data_dir",
        env: &["ZK_DATA_DIR"],
        value_name: "DIR",
        default: Some("/var/lib/zookeeper/data"),
        default_help: None,
        help: "Where ZooKeeper keeps its snapshots, and the myid file. Must be on the pod's \
               persistent volume.",
        set: Set::One(|f, v| {
            f.data_dir = Some(v.path()?);
            Ok(())
        }),
    },
    Flag {
        name: "data_log_dir",
        env: &["ZK_DATA_LOG_DIR"],
        value_name: "DIR",
        default: Some("/var/lib/zookeeper/log"),
        default_help: None,
        help: "Where ZooKeeper keeps its write-ahead (transaction) log. Must be on the pod's \
               persistent volume. The default is the directory the original start-zookeeper \
               script used.",
        set: Set::One(|f, v| {
            f.data_log_dir = Some(v.path()?);
            Ok(())
        }),
    },
    Flag {
        name: "conf_dir",
        env: &["ZK_CONF_DIR"],
        value_name: "DIR",
        default: Some("/opt/zookeeper/conf"),
        default_help: None,
        help: "Where zoo.cfg, log4j.properties, logback.xml and java.env are written.",
        set: Set::One(|f, v| {
            f.conf_dir = Some(v.path()?);
            Ok(())
        }),
    },
    Flag {
        name: "log_dir",
        env: &["ZK_LOG_DIR"],
        value_name: "DIR",
        default: Some("/var/log/zookeeper"),
        default_help: None,
        help: "ZooKeeper's log directory (zookeeper.log.dir). Logs go to the console; this \
               directory is created for what still writes files there.",
        set: Set::One(|f, v| {
            f.log_dir = Some(v.path()?);
            Ok(())
        }),
    },
    Flag {
        name: "client_port",
        env: &["ZK_CLIENT_PORT"],
        value_name: "PORT",
        default: Some("2181"),
        default_help: None,
        help: "The port clients (and the probes) connect to.",
        set: Set::One(|f, v| {
            f.client_port = given(v.port()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "server_port",
        env: &["ZK_SERVER_PORT"],
        value_name: "PORT",
        default: Some("2888"),
        default_help: None,
        help: "The port followers connect to the leader on.",
        set: Set::One(|f, v| {
            f.server_port = given(v.port()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "election_port",
        env: &["ZK_ELECTION_PORT"],
        value_name: "PORT",
        default: Some("3888"),
        default_help: None,
        help: "The port of leader election.",
        set: Set::One(|f, v| {
            f.election_port = given(v.port()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "tick_time",
        env: &["ZK_TICK_TIME"],
        value_name: "MS",
        default: Some("2000"),
        default_help: None,
        help: "The length of ZooKeeper's tick, in milliseconds: the unit of --init_limit and \
               --sync_limit, and of the session timeout defaults.",
        set: Set::One(|f, v| {
            f.tick_time = given(v.java_int(1)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "init_limit",
        env: &["ZK_INIT_LIMIT"],
        value_name: "TICKS",
        default: Some("10"),
        default_help: None,
        help: "Ticks a follower may take to connect to the leader and sync with it at start. \
               Raise it when the data set is large.",
        set: Set::One(|f, v| {
            f.init_limit = given(v.java_int(1)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "sync_limit",
        env: &["ZK_SYNC_LIMIT"],
        value_name: "TICKS",
        default: Some("5"),
        default_help: None,
        help: "Ticks a follower may lag behind the leader before it is dropped from the quorum.",
        set: Set::One(|f, v| {
            f.sync_limit = given(v.java_int(1)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "heap",
        env: &["ZK_HEAP_SIZE"],
        value_name: "SIZE",
        default: Some("2G"),
        default_help: None,
        help: "The JVM heap (-Xmx and -Xms): a size such as 512M or 2G, or a share of the \
               container's memory limit such as 50% (refused without a limit). A heap above \
               three quarters of the limit is warned of: the JVM needs memory beside its heap.",
        set: Set::One(|f, v| {
            f.heap = given(heap(&v)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "max_client_cnxns",
        env: &["ZK_MAX_CLIENT_CNXNS"],
        value_name: "N",
        default: Some("60"),
        default_help: None,
        help: "Connections one client IP address may hold open; 0 means no limit. Probes count \
               too.",
        set: Set::One(|f, v| {
            f.max_client_cnxns = Some(v.java_int(0)?);
            Ok(())
        }),
    },
    Flag {
        name: "snap_retain_count",
        env: &["ZK_SNAP_RETAIN_COUNT"],
        value_name: "N",
        default: Some("3"),
        default_help: None,
        help: "Snapshots (and their transaction logs) kept when purging; at least 3.",
        set: Set::One(|f, v| {
            f.snap_retain_count = Some(v.java_int(3)?);
            Ok(())
        }),
    },
    Flag {
        name: "purge_interval",
        env: &["ZK_PURGE_INTERVAL"],
        value_name: "HOURS",
        default: Some("0"),
        default_help: None,
        help: "Hours between purges of old snapshots and transaction logs; 0 never purges, and \
               the volume fills up over time.",
        set: Set::One(|f, v| {
            f.purge_interval = Some(v.java_int(0)?);
            Ok(())
        }),
    },
    Flag {
        name: "min_session_timeout",
        env: &["ZK_MIN_SESSION_TIMEOUT"],
        value_name: "MS",
        default: None,
        default_help: Some("2 × --tick_time"),
        help: "The shortest session timeout a client may ask for, in milliseconds.",
        set: Set::One(|f, v| {
            f.min_session_timeout = given(v.java_int(1)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "max_session_timeout",
        env: &["ZK_MAX_SESSION_TIMEOUT"],
        value_name: "MS",
        default: None,
        default_help: Some("20 × --tick_time"),
        help: "The longest session timeout a client may ask for, in milliseconds.",
        set: Set::One(|f, v| {
            f.max_session_timeout = given(v.java_int(1)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "log_level",
        env: &["ZK_LOG_LEVEL"],
        value_name: "LEVEL",
        default: Some("INFO"),
        default_help: None,
        help: "ZooKeeper's log level, and zkpod's own: TRACE, DEBUG, INFO, WARN, ERROR or FATAL.",
        set: Set::One(|f, v| {
            f.log_level = Some(LogLevel::parse(&v)?);
            Ok(())
        }),
    },
    Flag {
        name: "admin_port",
        env: &["ZK_ADMIN_PORT"],
        value_name: "PORT",
        default: None,
        default_help: Some("off"),
        help: "Turn on ZooKeeper's AdminServer (HTTP, no authentication) on this port.",
        set: Set::One(|f, v| {
            f.admin_port = given(v.port()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "admin_address",
        env: &["ZK_ADMIN_ADDRESS"],
        value_name: "IP",
        default: Some("127.0.0.1"),
        default_help: None,
        help: "The address the AdminServer listens on; 0.0.0.0 opens it to the network.",
        set: Set::One(|f, v| {
            f.admin_address = Some(v.ip()?);
            Ok(())
        }),
    },
    Flag {
        name: "prometheus_port",
        env: &["ZK_PROMETHEUS_PORT"],
        value_name: "PORT",
        default: None,
        default_help: Some("off"),
        help: "Serve ZooKeeper's own Prometheus metrics on this port (ZooKeeper 3.6+, with the \
               zookeeper-prometheus-metrics jar installed).",
        set: Set::One(|f, v| {
            f.prometheus_port = given(v.port()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "extra",
        env: &["ZK_CFG_EXTRA"],
        value_name: "KEY=VALUE",
        default: None,
        default_help: None,
        help: "A further zoo.cfg line, KEY=VALUE; repeat for more. It may replace \
               4lw.commands.whitelist, quorumListenOnAllIPs and reconfigEnabled, but not keys \
               that flags set. From the environment: pairs separated by ';'.",
        set: Set::Each(extra),
    },
    Flag {
        name: "hostname",
        env: &["ZK_HOSTNAME"],
        value_name: "NAME",
        default: None,
        default_help: Some("the machine's"),
        help: "Use this host name instead of the machine's.",
        set: Set::One(|f, v| {
            f.hostname = Some(v.host_name()?);
            Ok(())
        }),
    },
    Flag {
        name: "domain",
        env: &["ZK_DOMAIN"],
        value_name: "DOMAIN",
        default: None,
        default_help: Some("`hostname -d`"),
        help: "Use this DNS domain for the members instead of the one the resolver gives, e.g. \
               zk-hs.default.svc.cluster.local.",
        set: Set::One(|f, v| {
            f.domain = Some(v.host_name()?);
            Ok(())
        }),
    },
    Flag {
        name: "template_dir",
        env: &["ZK_TEMPLATE_DIR"],
        value_name: "DIR",
        default: None,
        default_help: Some("built in"),
        help: "Read templates from this directory: a file named zoo.cfg, log4j.properties, \
               logback.xml or java.env there replaces the built-in one (tera syntax).",
        set: Set::One(|f, v| {
            f.template_dir = Some(v.path()?);
            Ok(())
        }),
    },
    Flag {
        name: "zk_home",
        env: &["ZK_HOME", "ZOOKEEPER_HOME"],
        value_name: "DIR",
        default: None,
        default_help: Some("/opt/zookeeper if it holds a release, else Debian's zookeeper package"),
        help: "The ZooKeeper installation to run: an unpacked release (bin/, lib/) or a \
               directory of jars such as Debian's /usr/share/java.",
        set: Set::One(|f, v| {
            f.zk_home = given(v.path()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "user",
        env: &["ZK_USER"],
        value_name: "USER",
        default: None,
        default_help: None,
        help: "Run the server as this user: NAME, UID, NAME:GROUP, UID:GID, or :GROUP (the \
               current user with that group). Started as root, \
               zkpod gives it the data, data-log and log directories and drops to it \
               (supplementary groups, group, user; HOME from its passwd entry). Otherwise it \
               must name the current user.",
        set: Set::One(|f, v| {
            f.user = given(v.text.to_owned(), &v);
            Ok(())
        }),
    },
    Flag {
        name: "grace",
        env: &["ZK_GRACE"],
        value_name: "SECONDS",
        default: None,
        default_help: Some("off: the pod's terminationGracePeriodSeconds rules"),
        help: "After the first TERM, KILL the server if it still runs after this many seconds \
               (decimals allowed).",
        set: Set::One(|f, v| {
            f.grace = Some(v.seconds()?);
            Ok(())
        }),
    },
    Flag {
        name: "unsafe_start_empty",
        env: &["ZK_UNSAFE_START_EMPTY"],
        value_name: "",
        default: None,
        default_help: None,
        help: "Start at once even when this server's data directory is empty and the ensemble \
               may have history (for example after restoring the others from a backup). \
               Without it, such a server waits until the ensemble serves without it, or every \
               voter is reachable and empty, so that it cannot outvote the servers that hold \
               acknowledged writes. The variable takes true or false.",
        set: Set::Switch(|f| f.unsafe_start_empty = true),
    },
    Flag {
        name: "membership",
        env: &["ZK_MEMBERSHIP"],
        value_name: "MODE",
        default: Some("static"),
        default_help: None,
        help: "static: the members are what --servers (or --ensemble) says, at every start. \
               dynamic: the ensemble keeps its own membership (ZooKeeper 3.5+ reconfiguration) \
               on the data volume; --servers is the first ensemble, a pod outside it joins by \
               itself after it starts, and `zkpod leave` (the preStop hook) takes a pod out. \
               Needs the super user's password (ZK_SUPER_PASSWORD or --super_password_file).",
        set: Set::One(|f, v| {
            f.membership = given(Membership::parse(&v)?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "super_password_file",
        env: &["ZK_SUPER_PASSWORD_FILE"],
        value_name: "FILE",
        default: None,
        default_help: Some("the variable ZK_SUPER_PASSWORD"),
        help: "Read the password of ZooKeeper's super user from this file (a mounted Secret); \
               dynamic membership needs it to add and remove servers. It reaches the server \
               through a file only its user can read, never a command line or a log.",
        set: Set::One(|f, v| {
            f.super_password_file = given(v.path()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "tls_dir",
        env: &["ZK_TLS_DIR"],
        value_name: "DIR",
        default: None,
        default_help: Some("off: plaintext"),
        help: "Encrypt with the certificate in this directory, laid out as Kubernetes mounts a \
               cert-manager Secret: tls.crt (this pod's certificate, then any intermediates), \
               tls.key, ca.crt. The client port then serves TLS only and requires a client \
               certificate signed by ca.crt; the quorum and election ports use mutual TLS; \
               zkpod's own probes, metrics and membership changes connect with the same \
               pair. The pair is checked first: a key that is not the certificate's, a \
               certificate not signed by ca.crt, expired, or not naming this pod stops the \
               start. A renewed pair is taken up while the server runs.",
        set: Set::One(|f, v| {
            f.tls_dir = given(v.path()?, &v);
            Ok(())
        }),
    },
    Flag {
        name: "dry_run",
        env: &[],
        value_name: "",
        default: None,
        default_help: None,
        help: "Print the files that would be written, and the command that would run; write \
               nothing.",
        set: Set::Switch(|f| f.dry_run = true),
    },
];

/// start-zookeeper's command line: every flag of `FLAGS`, then `-- COMMAND`.
pub fn command() -> Command {
    every_flag(Command::new("start-zookeeper"))
        .about("Write this pod's ZooKeeper configuration, then run the server.")
        .long_about(
            "Write this pod's ZooKeeper configuration (zoo.cfg, myid, logging, java.env), then \
             run the server.\n\n\
             The pod's host name gives its place in the ensemble: a StatefulSet names its pods \
             NAME-0, NAME-1, …, and pod NAME-i is server i + 1 (with the default \
             --myid_offset). Server N is reached at NAME-(N-1).DOMAIN, where DOMAIN is the \
             pod's DNS domain (`hostname -d`: the headless Service's domain). A single server \
             (--servers=1) runs standalone under any host name.\n\n\
             Every flag also takes dashes (--data-dir) and both --name=value and --name value. \
             Every flag can come from the environment variable shown; a flag beats its \
             variable, and an empty variable counts as unset.",
        )
        .after_help(
            "start-zookeeper stays as the container's PID 1 while the server runs: it passes \
             every signal to it, reaps zombies, and exits with the server's status (128 + N if \
             signal N killed it).\n\n\
             Exit status: the server's; 1 a refusal before it starts (a myid conflict, no java, \
             a host name without an ordinal, …); 2 a bad flag or variable; 126/127 the command \
             cannot be run.\n\n\
             Examples:\n  start-zookeeper --servers=3 --heap=512M\n  \
             ZK_ENSEMBLE='zk-0;zk-1;zk-2' start-zookeeper\n  \
             start-zookeeper --servers=3 --dry_run\n  \
             start-zookeeper --conf_dir=/tmp/zk -- cat /tmp/zk/zoo.cfg",
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .last(true)
                .num_args(1..)
                .value_parser(value_parser!(OsString))
                .help(
                    "Run this command instead of ZooKeeper once the configuration is written (a \
                     launcher of your own); zkpod supervises it the same way.",
                ),
        )
}

/// start-zookeeper's flags, added to `cmd`: for commands that read the same flags (`zkpod
/// join`, `leave`, `diagnose`). Their help leaves out --dry_run, which only start-zookeeper
/// acts on; they still take it, so that a pod's flags can be passed on whole.
pub fn add_flags(cmd: Command) -> Command {
    every_flag(cmd).mut_arg("dry_run", |arg| arg.hide(true))
}

/// Every flag of `FLAGS` as a clap argument, added to `cmd`.
fn every_flag(mut cmd: Command) -> Command {
    for flag in FLAGS {
        let mut help = flag.help.to_owned();
        match (flag.default, flag.default_help) {
            (_, Some(text)) | (Some(text), None) => help.push_str(&format!(" [default: {text}]")),
            (None, None) => {}
        }
        if !flag.env.is_empty() {
            help.push_str(&format!(" [env: {}]", flag.env.join(", ")));
        }
        let mut arg = Arg::new(flag.name).long(flag.name).help(help);
        let dashed = flag.name.replace('_', "-");
        if dashed != flag.name {
            arg = arg.alias(dashed);
        }
        arg = match flag.set {
            Set::Switch(_) => arg.action(ArgAction::SetTrue),
            Set::One(_) | Set::Each(_) => arg
                .value_name(flag.value_name)
                .action(ArgAction::Append)
                .value_parser(value_parser!(OsString)),
        };
        cmd = cmd.arg(arg);
    }
    cmd
}

/// Flags of which one excludes the others: the running server gives none of them when one is
/// given.
const EXCLUSIVE: &[&str] = &["servers", "ensemble"];

/// The flags from the command line, the environment (through `env`), the server running in
/// this pod (commands run inside a pod: `running`), and the defaults, in that order.
pub fn parse(
    matches: &ArgMatches,
    env: &dyn Fn(&str) -> Option<OsString>,
    running: Option<&Running>,
) -> Result<Flags> {
    let mut flags = Flags::default();
    let exclusive_given = EXCLUSIVE
        .iter()
        .any(|name| explicit(matches, env, name).is_some());
    for flag in FLAGS {
        let set = match flag.set {
            Set::Switch(set) => {
                if matches.get_flag(flag.name) || switch_from_env(flag, env)? {
                    set(&mut flags);
                }
                continue;
            }
            Set::One(set) | Set::Each(set) => set,
        };
        let on_command_line: Vec<&OsString> = matches
            .get_many::<OsString>(flag.name)
            .map(|values| values.collect())
            .unwrap_or_default();
        let from_env = flag.env.iter().find_map(|var| {
            env(var)
                .filter(|value| !value.is_empty())
                .map(|value| (*var, value))
        });
        let from_running = running
            .filter(|_| !(exclusive_given && EXCLUSIVE.contains(&flag.name)))
            .and_then(|running| {
                flag.env
                    .iter()
                    .find_map(|var| running.var(var).map(|value| (*var, value)))
            });
        let mut values: Vec<Value> = Vec::new();
        if !on_command_line.is_empty() {
            for raw in &on_command_line {
                values.push(Value::new(Origin::Flag(flag.name), raw)?);
            }
        } else if let Some((var, raw)) = &from_env {
            values.push(Value::new(Origin::Env(var), raw)?);
        } else if let Some((var, text)) = from_running {
            values.push(Value::new(
                Origin::Running(var),
                std::ffi::OsStr::new(text),
            )?);
        } else if let Some(default) = flag.default {
            values.push(Value {
                origin: Origin::Flag(flag.name),
                text: default,
            });
        }
        if matches!(flag.set, Set::One(_)) && values.len() > 1 {
            values.drain(..values.len() - 1);
        }
        for value in values {
            set(&mut flags, value)?;
        }
    }
    // Commands that read these flags but run no server (zkpod join, leave) have no COMMAND.
    flags.command = matches
        .try_get_many::<OsString>("command")
        .ok()
        .flatten()
        .map(|values| values.cloned().collect())
        .unwrap_or_default();
    Ok(flags)
}

/// The value flag `name` is given explicitly, on the command line (the last one) or by its
/// variable, as text with where it came from.
fn explicit(
    matches: &ArgMatches,
    env: &dyn Fn(&str) -> Option<OsString>,
    name: &str,
) -> Option<(Origin, OsString)> {
    let flag = FLAGS.iter().find(|flag| flag.name == name)?;
    if let Ok(Some(mut values)) = matches.try_get_many::<OsString>(flag.name)
        && let Some(last) = values.next_back()
    {
        return Some((Origin::Flag(flag.name), last.clone()));
    }
    flag.env.iter().find_map(|var| {
        env(var)
            .filter(|value| !value.is_empty())
            .map(|value| (Origin::Env(var), value))
    })
}

/// Where the flags and variables given explicitly disagree with the server running in this
/// pod: each flag's origin, the value given, and the running server's. Values are compared
/// as the flag reads them (`2181` and ` 2181` agree).
pub fn disagreements(
    matches: &ArgMatches,
    env: &dyn Fn(&str) -> Option<OsString>,
    running: &Running,
) -> Vec<(Origin, String, String)> {
    let read = |flag: &Flag, text: &str| -> Option<String> {
        let mut flags = Flags::default();
        let value = Value {
            origin: Origin::Flag(flag.name),
            text,
        };
        match flag.set {
            Set::One(set) | Set::Each(set) => set(&mut flags, value).ok()?,
            Set::Switch(_) => return None,
        }
        Some(format!("{flags:?}"))
    };
    let mut found = Vec::new();
    for flag in FLAGS {
        let Some(theirs) = flag.env.iter().find_map(|var| running.var(var)) else {
            continue;
        };
        let Some((origin, given)) = explicit(matches, env, flag.name) else {
            continue;
        };
        let given = given.to_string_lossy().into_owned();
        if read(flag, &given) != read(flag, theirs) {
            found.push((origin, given, theirs.to_owned()));
        }
    }
    found
}

/// The flags given on the command line, as `--name=value` (and `--name` for switches), for
/// a command that reads the same flags (`zkpod join`). Variables need no passing on: a child
/// inherits them.
pub fn given_flags(matches: &ArgMatches) -> Vec<OsString> {
    let mut args = Vec::new();
    for flag in FLAGS {
        match flag.set {
            Set::Switch(_) => {
                if matches.get_flag(flag.name) {
                    args.push(OsString::from(format!("--{}", flag.name)));
                }
            }
            Set::One(_) | Set::Each(_) => {
                for value in matches
                    .get_many::<OsString>(flag.name)
                    .into_iter()
                    .flatten()
                {
                    let mut arg = OsString::from(format!("--{}=", flag.name));
                    arg.push(value);
                    args.push(arg);
                }
            }
        }
    }
    args
}

/// A switch's variable: true, yes or 1 turns it on; false, no or 0 (or unset, or empty) not.
fn switch_from_env(flag: &Flag, env: &dyn Fn(&str) -> Option<OsString>) -> Result<bool> {
    for var in flag.env {
        let Some(raw) = env(var).filter(|value| !value.is_empty()) else {
            continue;
        };
        let value = Value::new(Origin::Env(var), &raw)?;
        return match value.text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(value.bad("is not true or false")),
        };
    }
    Ok(false)
}

/// `zk-0;zk-1;zk-2` (the older image's form); commas and spaces separate too. A member may be
/// listed once, by whatever spelling: `zk-0`, `ZK-0` and `zk-0.zk-hs` are one member.
fn ensemble_hosts(value: &Value) -> Result<Vec<String>> {
    let mut hosts: Vec<String> = Vec::new();
    for host in value
        .text
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        let host = host.trim_end_matches('.');
        if !is_host_name(host) {
            return Err(Error::usage(format!(
                "{}: {} is not a host name (letters, digits, '-' and '.')",
                value.origin,
                quote(host)
            )));
        }
        if let Some(twin) = hosts.iter().find(|h| pod_name(h) == pod_name(host)) {
            return Err(Error::usage(format!(
                "{}: {} is listed twice (as {})",
                value.origin,
                quote(host),
                quote(twin)
            )));
        }
        hosts.push(host.to_owned());
    }
    if hosts.is_empty() {
        return Err(Error::usage(format!("{}: no members listed", value.origin)));
    }
    Ok(hosts)
}

/// The JVM heap (`--heap`): a size as -Xmx takes it, or a share of the memory limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heap {
    /// Digits and an optional k, m, g or t, as given.
    Size(String),
    /// This many percent (1 to 100) of the container's memory limit.
    Share(u8),
}

impl std::fmt::Display for Heap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Heap::Size(size) => f.write_str(size),
            Heap::Share(percent) => write!(f, "{percent}%"),
        }
    }
}

/// `NN%` (1 to 100), or a JVM heap size as -Xmx takes it: digits and an optional k, m, g or t.
fn heap(value: &Value) -> Result<Heap> {
    let text = value.text.trim();
    if let Some(percent) = text.strip_suffix('%') {
        return match percent.parse::<u8>() {
            Ok(n) if (1..=100).contains(&n) && percent.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Heap::Share(n))
            }
            _ => Err(value.bad("is not a share of the memory limit from 1% to 100%")),
        };
    }
    let digits = text.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', 't', 'T']);
    let valid = text.len() - digits.len() <= 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n > 0);
    if valid {
        Ok(Heap::Size(text.to_owned()))
    } else {
        Err(value.bad(
            "is not a JVM heap size such as 512M or 2G, nor a share of the memory limit \
             such as 50%",
        ))
    }
}

/// `--extra KEY=VALUE`; from the environment, `ZK_CFG_EXTRA` holds pairs separated by `;`.
fn extra(flags: &mut Flags, value: Value) -> Result<()> {
    let items: Vec<&str> = match value.origin {
        Origin::Env(_) | Origin::Running(_) => value
            .text
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        _ => vec![value.text],
    };
    let origin = value.origin;
    for item in items {
        let (key, text) = item
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("{origin}: {} is not KEY=VALUE", quote(item))))?;
        let (key, text) = (key.trim(), text.trim());
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !key_ok {
            return Err(Error::usage(format!(
                "{origin}: {} is not a zoo.cfg key (letters, digits, '.', '_', '-')",
                quote(key)
            )));
        }
        if text.contains('\\') {
            return Err(Error::usage(format!(
                "{origin}: {} contains a backslash, which zoo.cfg would read as an escape",
                quote(text)
            )));
        }
        if flags.extra.iter().any(|e| e.key == key) {
            return Err(Error::usage(format!("{origin}: {key} is given twice")));
        }
        flags.extra.push(Extra {
            key: key.to_owned(),
            value: text.to_owned(),
            origin,
        });
    }
    Ok(())
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Flags from a start-zookeeper command line and environment, as the command reads them.
    pub fn parse_args(args: &[&str], env: &[(&str, &str)]) -> Result<Flags> {
        parse_in_pod(args, env, None)
    }

    /// The same, inside a pod whose server runs as `running` says.
    pub fn parse_in_pod(
        args: &[&str],
        env: &[(&str, &str)],
        running: Option<&Running>,
    ) -> Result<Flags> {
        parse(&command_line(args), &lookup(env), running)
    }

    /// What `disagreements` finds for these flags and variables.
    pub fn disagreeing(
        args: &[&str],
        env: &[(&str, &str)],
        running: &Running,
    ) -> Vec<(Origin, String, String)> {
        disagreements(&command_line(args), &lookup(env), running)
    }

    fn command_line(args: &[&str]) -> ArgMatches {
        let argv = std::iter::once("start-zookeeper").chain(args.iter().copied());
        command().try_get_matches_from(argv).expect("valid flags")
    }

    /// The environment `env` makes, as `parse` reads it.
    fn lookup<'a>(env: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn only_start_zookeeper_shows_dry_run() {
        let help = |mut cmd: Command| cmd.render_long_help().to_string();
        assert!(help(command()).contains("--dry_run"));
        let other = || add_flags(Command::new("zkpod join"));
        assert!(!help(other()).contains("--dry_run"));
        assert!(help(other()).contains("--super_password_file"));
        // Still taken, so that a pod's flags pass on whole.
        let matches = other().try_get_matches_from(["zkpod join", "--dry_run"]);
        assert!(matches.is_ok_and(|m| m.get_flag("dry_run")));
    }

    #[test]
    fn the_definition_is_valid_and_every_default_parses() {
        command().debug_assert();
        let flags = parse_args(&[], &[]).unwrap();
        for flag in FLAGS {
            if let Some(default) = flag.default {
                // The default given on the command line parses too.
                let args = [format!("--{}={default}", flag.name)];
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                parse_args(&args, &[]).unwrap_or_else(|e| panic!("{}: {e}", flag.name));
            }
        }
        assert_eq!(flags.client_port.unwrap().value, 2181);
    }

    #[test]
    fn names_are_unique_and_every_variable_is_zk() {
        for (i, a) in FLAGS.iter().enumerate() {
            assert!(
                FLAGS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
            for var in a.env {
                assert!(var.starts_with("ZK_") || *var == "ZOOKEEPER_HOME", "{var}");
            }
        }
    }

    #[test]
    fn a_flag_beats_its_variable_and_the_last_flag_wins() {
        let env = [("ZK_CLIENT_PORT", "2182")];
        assert_eq!(
            parse_args(&[], &env).unwrap().client_port.unwrap().value,
            2182
        );
        let flags = parse_args(&["--client_port=2190", "--client-port", "2191"], &env).unwrap();
        let port = flags.client_port.unwrap();
        assert_eq!(
            (port.value, port.origin),
            (2191, Origin::Flag("client_port"))
        );
        let flags = parse_args(&[], &[("ZK_CLIENT_PORT", "")]).unwrap();
        assert_eq!(
            flags.client_port.unwrap().value,
            2181,
            "empty counts as unset"
        );
    }

    #[test]
    fn errors_name_where_the_value_came_from() {
        let err = parse_args(&[], &[("ZK_SYNC_LIMIT", "soon")]).unwrap_err();
        assert!(err.to_string().starts_with("ZK_SYNC_LIMIT: "), "{err}");
        let err = parse_args(&["--sync_limit=soon"], &[]).unwrap_err();
        assert!(err.to_string().starts_with("--sync_limit: "), "{err}");
        assert_eq!(err.code(), 2);
    }

    #[test]
    fn switches_take_their_variable_as_true_or_false() {
        assert!(!parse_args(&[], &[]).unwrap().unsafe_start_empty);
        assert!(
            parse_args(&["--unsafe_start_empty"], &[])
                .unwrap()
                .unsafe_start_empty
        );
        let on = [("ZK_UNSAFE_START_EMPTY", "true")];
        assert!(parse_args(&[], &on).unwrap().unsafe_start_empty);
        let off = [("ZK_UNSAFE_START_EMPTY", "no")];
        assert!(!parse_args(&[], &off).unwrap().unsafe_start_empty);
        let bad = [("ZK_UNSAFE_START_EMPTY", "maybe")];
        let err = parse_args(&[], &bad).unwrap_err().to_string();
        assert!(err.starts_with("ZK_UNSAFE_START_EMPTY: "), "{err}");
    }

    #[test]
    fn zk_home_falls_back_to_zookeeper_home() {
        let home = |path: &str, variable| {
            Some(Given {
                value: PathBuf::from(path),
                origin: Origin::Env(variable),
            })
        };
        let flags = parse_args(&[], &[("ZOOKEEPER_HOME", "/zk")]).unwrap();
        assert_eq!(flags.zk_home, home("/zk", "ZOOKEEPER_HOME"));
        let flags = parse_args(&[], &[("ZOOKEEPER_HOME", "/zk"), ("ZK_HOME", "/a")]).unwrap();
        assert_eq!(flags.zk_home, home("/a", "ZK_HOME"));
    }

    #[test]
    fn heap_is_jvm_style_or_a_share() {
        let heap = |flag: &str| parse_args(&[flag], &[]).map(|f| f.heap.unwrap().value);
        for good in ["512M", "2G", "1024m", "1g", "65536k", "4096"] {
            let flag = format!("--heap={good}");
            assert_eq!(heap(&flag).unwrap(), Heap::Size(good.into()));
        }
        for (good, percent) in [("50%", 50), ("1%", 1), ("100%", 100), (" 75% ", 75)] {
            let flag = format!("--heap={good}");
            assert_eq!(heap(&flag).unwrap(), Heap::Share(percent));
        }
        for bad in ["2GB", "0", "G", "1.5G", "-2G", "2 G", "$(reboot)"] {
            let flag = format!("--heap={bad}");
            let err = heap(&flag).unwrap_err().to_string();
            assert!(
                err.starts_with("--heap: ") && err.contains("JVM heap size"),
                "{bad}: {err}"
            );
        }
        for bad in ["0%", "101%", "-5%", "+5%", "1.5%", "%", "50 %"] {
            let flag = format!("--heap={bad}");
            let err = heap(&flag).unwrap_err().to_string();
            assert!(err.contains("from 1% to 100%"), "{bad}: {err}");
        }
        let from_env = parse_args(&[], &[("ZK_HEAP_SIZE", "40%")])
            .unwrap()
            .heap
            .unwrap();
        assert_eq!(from_env.value, Heap::Share(40));
        assert_eq!(from_env.origin.to_string(), "ZK_HEAP_SIZE");
    }

    #[test]
    fn extra_is_checked_and_split_from_the_environment() {
        let flags = parse_args(
            &[],
            &[("ZK_CFG_EXTRA", "snapCount=10000; preAllocSize=65536;")],
        )
        .unwrap();
        let keys: Vec<_> = flags
            .extra
            .iter()
            .map(|e| (&e.key[..], &e.value[..]))
            .collect();
        assert_eq!(keys, [("snapCount", "10000"), ("preAllocSize", "65536")]);
        let flags = parse_args(&["--extra=a=b;c"], &[("ZK_CFG_EXTRA", "snapCount=1")]).unwrap();
        assert_eq!(flags.extra[0].value, "b;c", "the flag wins, whole");
        for (bad, problem) in [
            ("novalue", "KEY=VALUE"),
            ("a b=c", "zoo.cfg key"),
            ("a=c\\d", "backslash"),
        ] {
            let err = parse_args(&["--extra", bad], &[]).unwrap_err().to_string();
            assert!(
                err.starts_with("--extra: ") && err.contains(problem),
                "{err}"
            );
        }
        let err = parse_args(&["--extra=a=1", "--extra=a=2"], &[]).unwrap_err();
        assert!(err.to_string().contains("twice"));
    }

    #[test]
    fn ensemble_members_are_listed_once_by_any_spelling() {
        let flags = parse_args(&[], &[("ZK_ENSEMBLE", "zk-0;zk-1;zk-2")]).unwrap();
        assert_eq!(flags.ensemble.unwrap().value, ["zk-0", "zk-1", "zk-2"]);
        for twice in ["zk-0;zk-0", "zk-0;zk-0.zk-hs", "zk-0;ZK-0"] {
            let err = parse_args(&["--ensemble", twice], &[]).unwrap_err();
            assert!(err.to_string().contains("listed twice"), "{twice}: {err}");
        }
        assert!(
            parse_args(&["--ensemble=;;"], &[])
                .unwrap_err()
                .to_string()
                .contains("no members")
        );
        assert!(
            parse_args(&["--ensemble=zk_0"], &[])
                .unwrap_err()
                .to_string()
                .contains("not a host name")
        );
    }
}
