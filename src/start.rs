//! `start-zookeeper`: write this pod's ZooKeeper configuration, then run the server.
//!
//! flags/env → Settings → Identity → rendered files → disk.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, Parser};

use crate::files::{self, Myid};
use crate::identity::{HostNames, Identity};
use crate::launch::{self, Installation};
use crate::settings::{Input, Inputs, Settings};
use crate::{privilege, render, supervise, usage};

#[derive(Parser, Debug)]
#[command(
    name = "start-zookeeper",
    version,
    args_override_self = true,
    about = "Write this pod's ZooKeeper configuration, then run the server.",
    long_about = "Write this pod's ZooKeeper configuration (zoo.cfg, myid, logging, java.env), \
then run the server.\n\n\
The pod's host name gives its place in the ensemble: a StatefulSet names its pods NAME-0, \
NAME-1, …, and pod NAME-i is server i + 1 (with the default --myid_offset). Server N is reached \
at NAME-(N-1).DOMAIN, where DOMAIN is the pod's DNS domain (`hostname -d`: the headless \
Service's domain). A single server (--servers=1) runs standalone under any host name.\n\n\
Every flag also takes dashes (--data-dir) and both --name=value and --name value. Every flag \
can come from the environment variable shown; a flag beats its variable, and an empty \
variable counts as unset.",
    after_help = "start-zookeeper stays as the container's PID 1 while the server runs: it passes \
every signal to it, reaps zombies, and exits with the server's status (128 + N if signal N \
killed it).\n\n\
Examples:\n  start-zookeeper --servers=3 --heap=512M\n  \
ZK_ENSEMBLE='zk-0;zk-1;zk-2' start-zookeeper\n  start-zookeeper --servers=3 --dry_run\n  \
start-zookeeper --conf_dir=/tmp/zk -- cat /tmp/zk/zoo.cfg"
)]
pub struct StartArgs {
    /// Voting servers in the ensemble: the StatefulSet's replicas, minus --observers.
    /// 1 runs a standalone server. [default: 1, or the number --ensemble names]
    #[arg(long = "servers", env = "ZK_SERVERS", value_name = "N")]
    servers: Option<OsString>,

    /// The members by short host name, separated by ';' (the older image's ZK_ENSEMBLE):
    /// the member count and this server's id (its position + --myid_offset) come from it.
    #[arg(long = "ensemble", env = "ZK_ENSEMBLE", value_name = "HOSTS")]
    ensemble: Option<OsString>,

    /// The last N members observe: they follow the ensemble and serve reads but do not vote.
    /// --servers=3 --observers=1 runs ordinals 0-2 as voters and ordinal 3 as an observer.
    #[arg(
        long = "observers",
        env = "ZK_OBSERVERS",
        value_name = "N",
        default_value = "0"
    )]
    observers: Option<OsString>,

    /// myid = StatefulSet ordinal + this. Ensembles spread over several StatefulSets give each
    /// set its own range (1, 4, 7, …).
    #[arg(
        long = "myid_offset",
        alias = "myid-offset",
        env = "ZK_MYID_OFFSET",
        value_name = "N",
        default_value = "1"
    )]
    myid_offset: Option<OsString>,

    /// Where ZooKeeper keeps its snapshots, and the myid file. Must be on the pod's
    /// persistent volume.
    #[arg(
        long = "data_dir",
        alias = "data-dir",
        env = "ZK_DATA_DIR",
        value_name = "DIR",
        default_value = "/var/lib/zookeeper/data"
    )]
    data_dir: Option<OsString>,

    /// Where ZooKeeper keeps its write-ahead (transaction) log. Must be on the pod's persistent
    /// volume. The default is the directory the original start-zookeeper script used.
    #[arg(
        long = "data_log_dir",
        alias = "data-log-dir",
        env = "ZK_DATA_LOG_DIR",
        value_name = "DIR",
        default_value = "/var/lib/zookeeper/log"
    )]
    data_log_dir: Option<OsString>,

    /// Where zoo.cfg, log4j.properties, logback.xml and java.env are written.
    #[arg(
        long = "conf_dir",
        alias = "conf-dir",
        env = "ZK_CONF_DIR",
        value_name = "DIR",
        default_value = "/opt/zookeeper/conf"
    )]
    conf_dir: Option<OsString>,

    /// ZooKeeper's log directory (zookeeper.log.dir). Logs go to the console; this directory
    /// is created for what still writes files there.
    #[arg(
        long = "log_dir",
        alias = "log-dir",
        env = "ZK_LOG_DIR",
        value_name = "DIR",
        default_value = "/var/log/zookeeper"
    )]
    log_dir: Option<OsString>,

    /// The port clients (and the probes) connect to.
    #[arg(
        long = "client_port",
        alias = "client-port",
        env = "ZK_CLIENT_PORT",
        value_name = "PORT",
        default_value = "2181"
    )]
    client_port: Option<OsString>,

    /// The port followers connect to the leader on.
    #[arg(
        long = "server_port",
        alias = "server-port",
        env = "ZK_SERVER_PORT",
        value_name = "PORT",
        default_value = "2888"
    )]
    server_port: Option<OsString>,

    /// The port of leader election.
    #[arg(
        long = "election_port",
        alias = "election-port",
        env = "ZK_ELECTION_PORT",
        value_name = "PORT",
        default_value = "3888"
    )]
    election_port: Option<OsString>,

    /// The length of ZooKeeper's tick, in milliseconds: the unit of --init_limit and
    /// --sync_limit, and of the session timeout defaults.
    #[arg(
        long = "tick_time",
        alias = "tick-time",
        env = "ZK_TICK_TIME",
        value_name = "MS",
        default_value = "2000"
    )]
    tick_time: Option<OsString>,

    /// Ticks a follower may take to connect to the leader and sync with it at start. Raise it
    /// when the data set is large.
    #[arg(
        long = "init_limit",
        alias = "init-limit",
        env = "ZK_INIT_LIMIT",
        value_name = "TICKS",
        default_value = "10"
    )]
    init_limit: Option<OsString>,

    /// Ticks a follower may lag behind the leader before it is dropped from the quorum.
    #[arg(
        long = "sync_limit",
        alias = "sync-limit",
        env = "ZK_SYNC_LIMIT",
        value_name = "TICKS",
        default_value = "5"
    )]
    sync_limit: Option<OsString>,

    /// The JVM heap (-Xmx and -Xms), such as 512M or 2G. The container's memory request should
    /// leave room above it.
    #[arg(
        long = "heap",
        env = "ZK_HEAP_SIZE",
        value_name = "SIZE",
        default_value = "2G"
    )]
    heap: Option<OsString>,

    /// Connections one client IP address may hold open; 0 means no limit. Probes count too.
    #[arg(
        long = "max_client_cnxns",
        alias = "max-client-cnxns",
        env = "ZK_MAX_CLIENT_CNXNS",
        value_name = "N",
        default_value = "60"
    )]
    max_client_cnxns: Option<OsString>,

    /// Snapshots (and their transaction logs) kept when purging; at least 3.
    #[arg(
        long = "snap_retain_count",
        alias = "snap-retain-count",
        env = "ZK_SNAP_RETAIN_COUNT",
        value_name = "N",
        default_value = "3"
    )]
    snap_retain_count: Option<OsString>,

    /// Hours between purges of old snapshots and transaction logs; 0 never purges, and the
    /// volume fills up over time.
    #[arg(
        long = "purge_interval",
        alias = "purge-interval",
        env = "ZK_PURGE_INTERVAL",
        value_name = "HOURS",
        default_value = "0"
    )]
    purge_interval: Option<OsString>,

    /// The shortest session timeout a client may ask for, in milliseconds.
    /// [default: 2 × --tick_time]
    #[arg(
        long = "min_session_timeout",
        alias = "min-session-timeout",
        env = "ZK_MIN_SESSION_TIMEOUT",
        value_name = "MS"
    )]
    min_session_timeout: Option<OsString>,

    /// The longest session timeout a client may ask for, in milliseconds.
    /// [default: 20 × --tick_time]
    #[arg(
        long = "max_session_timeout",
        alias = "max-session-timeout",
        env = "ZK_MAX_SESSION_TIMEOUT",
        value_name = "MS"
    )]
    max_session_timeout: Option<OsString>,

    /// ZooKeeper's log level, and zkpod's own: TRACE, DEBUG, INFO, WARN, ERROR or FATAL.
    #[arg(
        long = "log_level",
        alias = "log-level",
        env = "ZK_LOG_LEVEL",
        value_name = "LEVEL",
        default_value = "INFO"
    )]
    log_level: Option<OsString>,

    /// Turn on ZooKeeper's AdminServer (HTTP, no authentication) on this port. Off by default.
    #[arg(
        long = "admin_port",
        alias = "admin-port",
        env = "ZK_ADMIN_PORT",
        value_name = "PORT"
    )]
    admin_port: Option<OsString>,

    /// The address the AdminServer listens on; 0.0.0.0 opens it to the network.
    #[arg(
        long = "admin_address",
        alias = "admin-address",
        env = "ZK_ADMIN_ADDRESS",
        value_name = "IP",
        default_value = "127.0.0.1"
    )]
    admin_address: Option<OsString>,

    /// Serve ZooKeeper's own Prometheus metrics on this port (ZooKeeper 3.6+, with the
    /// zookeeper-prometheus-metrics jar installed).
    #[arg(
        long = "prometheus_port",
        alias = "prometheus-port",
        env = "ZK_PROMETHEUS_PORT",
        value_name = "PORT"
    )]
    prometheus_port: Option<OsString>,

    /// A further zoo.cfg line, KEY=VALUE; repeat for more. It may replace
    /// 4lw.commands.whitelist, quorumListenOnAllIPs and reconfigEnabled, but not keys that
    /// flags set. From the environment: pairs separated by ';'.
    #[arg(
        long = "extra",
        env = "ZK_CFG_EXTRA",
        value_name = "KEY=VALUE",
        action = ArgAction::Append
    )]
    extra: Vec<OsString>,

    /// Use this host name instead of the machine's.
    #[arg(long = "hostname", env = "ZK_HOSTNAME", value_name = "NAME")]
    hostname: Option<OsString>,

    /// Use this DNS domain for the members instead of the one the resolver gives
    /// (`hostname -d`), e.g. zk-hs.default.svc.cluster.local.
    #[arg(long = "domain", env = "ZK_DOMAIN", value_name = "DOMAIN")]
    domain: Option<OsString>,

    /// Read templates from this directory: a file named zoo.cfg, log4j.properties, logback.xml
    /// or java.env there replaces the built-in one (tera syntax).
    #[arg(
        long = "template_dir",
        alias = "template-dir",
        env = "ZK_TEMPLATE_DIR",
        value_name = "DIR"
    )]
    template_dir: Option<OsString>,

    /// The ZooKeeper installation to run: an unpacked release (bin/, lib/) or a directory of
    /// jars such as Debian's /usr/share/java. ZOOKEEPER_HOME is read too. [default: /opt/zookeeper
    /// if it holds a release, else Debian's zookeeper package]
    #[arg(
        long = "zk_home",
        alias = "zk-home",
        env = "ZK_HOME",
        value_name = "DIR"
    )]
    zk_home: Option<OsString>,

    /// Run the server as this user: NAME, UID, NAME:GROUP or UID:GID. Started as root, zkpod
    /// gives it the data, data-log and log directories and drops to it (supplementary groups,
    /// group, user; HOME from its passwd entry). Otherwise it must name the current user.
    #[arg(long = "user", env = "ZK_USER", value_name = "USER")]
    user: Option<OsString>,

    /// After the first TERM, KILL the server if it still runs after this many seconds (decimals
    /// allowed). Off by default: the pod's terminationGracePeriodSeconds rules.
    #[arg(long = "grace", env = "ZK_GRACE", value_name = "SECONDS")]
    grace: Option<OsString>,

    /// Print the files that would be written, and the command that would run; write nothing.
    #[arg(long = "dry_run", alias = "dry-run", action = ArgAction::SetTrue)]
    dry_run: bool,

    /// Run this command instead of ZooKeeper once the configuration is written (a launcher of
    /// your own); zkpod supervises it the same way.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The definition, for parsing and for tests.
pub fn command() -> clap::Command {
    StartArgs::command()
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    // First: a TERM that comes while the configuration is written must wait, not be lost.
    let signals = match supervise::block_signals() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("start-zookeeper: cannot block signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    let env = |name: &str| std::env::var_os(name);
    let settings = match parse(args, env) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    crate::logging::init(settings.log_level);
    let child = match prepare(&settings, &env) {
        Ok(Some(child)) => child,
        Ok(None) => return ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("start-zookeeper: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    become_supervisor(child, settings.user.as_deref(), signals)
}

/// Flags and environment (through `env`) to settings; on --help, --version or bad input,
/// what to exit with (the message is printed).
fn parse(
    args: Vec<OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Settings, ExitCode> {
    let mut cmd = command();
    let matches = cmd
        .try_get_matches_from_mut(args)
        .map_err(|err| usage::clap_exit(err, "start-zookeeper"))?;
    Settings::from_inputs(&inputs(&cmd, &matches, env))
        .map_err(|err| usage::bad("start-zookeeper", err))
}

/// Each setting's raw value and its origin. A flag on the command line wins; then its
/// environment variable, unless empty; then the default shown in --help.
pub fn inputs(
    cmd: &clap::Command,
    matches: &ArgMatches,
    env: impl Fn(&str) -> Option<OsString>,
) -> Inputs {
    let mut inputs = Inputs::default();
    for arg in cmd.get_arguments() {
        let name = arg.get_id().as_str();
        let long = arg.get_long().unwrap_or(name);
        let source = matches.value_source(name);
        let from_command_line = source == Some(ValueSource::CommandLine);
        let input = if matches!(arg.get_action(), ArgAction::SetTrue) {
            (from_command_line && matches.get_flag(name)).then(|| Input {
                origin: format!("--{long}"),
                values: vec![OsString::from("true")],
            })
        } else if from_command_line {
            raw_input(matches, name, format!("--{long}"))
        } else if let Some((var, value)) = arg
            .get_env()
            .map(|var| var.to_string_lossy().into_owned())
            .and_then(|var| env(&var).filter(|v| !v.is_empty()).map(|v| (var, v)))
        {
            Some(Input {
                origin: var,
                values: vec![value],
            })
        } else if source.is_some() && !arg.get_default_values().is_empty() {
            Some(Input {
                origin: format!("--{long}"),
                values: arg
                    .get_default_values()
                    .iter()
                    .map(|v| v.to_os_string())
                    .collect(),
            })
        } else {
            None
        };
        if let Some(input) = input {
            inputs.0.insert(name.to_owned(), input);
        }
    }
    inputs
}

fn raw_input(matches: &ArgMatches, name: &str, origin: String) -> Option<Input> {
    let values: Vec<OsString> = matches
        .get_raw(name)?
        .map(|value| value.to_os_string())
        .collect();
    Some(Input { origin, values })
}

/// Settings → identity → files → the command to supervise. Everything is worked out before
/// the disk is touched; a dry run prints it instead and returns None.
fn prepare(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> anyhow::Result<Option<supervise::Child>> {
    let identity = Identity::resolve(&settings.ensemble, || {
        HostNames::discover(settings.hostname.as_deref(), settings.domain.as_deref())
    })?;
    let mut files = render::render(settings, &identity)?;
    let myid = match identity.myid {
        Some(myid) => Some((myid, files::check_myid(&settings.data_dir, myid)?)),
        None => None,
    };
    if let Some((myid, Myid::Missing)) = myid {
        files.push(files::myid_file(&settings.data_dir, myid));
    }
    let user = privilege::for_child(settings.user.as_deref())?;
    let (program, args) = match settings.command.split_first() {
        Some((program, args)) => (program.clone(), args.to_vec()),
        None => {
            let installation = Installation::find(settings.zk_home.as_deref(), env)?;
            if settings.prometheus_port.is_some() && !installation.has_prometheus_provider() {
                anyhow::bail!(
                    "--prometheus_port: this ZooKeeper has no zookeeper-prometheus-metrics jar \
                     (3.6+ releases have it in lib/); zookeeper-metrics --listen serves \
                     Prometheus without it"
                );
            }
            let java = launch::find_java(env)?;
            (java.into(), launch::java_args(settings, &installation, env))
        }
    };
    let command_line = shell_words(std::iter::once(&program).chain(&args));

    if settings.dry_run {
        print!("{}==> command <==\n{command_line}\n", files::show(&files));
        return Ok(None);
    }
    let server_dirs = [
        &settings.data_dir,
        &settings.data_log_dir,
        &settings.log_dir,
    ];
    files::create_dirs(&[&settings.conf_dir])?;
    files::create_dirs(&server_dirs)?;
    if user.is_none() && !nix::unistd::Uid::effective().is_root() {
        for dir in server_dirs {
            privilege::check_writable(dir)?;
        }
    }
    files::write(&files)?;
    if let Some(user) = &user {
        for dir in server_dirs {
            privilege::chown_tree(dir, user)?;
        }
    }
    match myid {
        Some((myid, Myid::Matches)) => tracing::info!("kept myid {myid}"),
        Some((myid, Myid::Missing)) => tracing::info!("wrote myid {myid}"),
        None => tracing::info!("standalone server: no myid"),
    }
    // Operators read the configuration in `kubectl logs`, as the original script printed it.
    eprint!("{}", files[0].contents);
    tracing::info!("starting {command_line}");
    Ok(Some(supervise::Child {
        program,
        args,
        user,
        grace: settings.grace,
    }))
}

/// A command line as a shell would read it back, for logs and dry runs.
fn shell_words<'a>(words: impl Iterator<Item = &'a OsString>) -> String {
    let quoted: Vec<String> = words
        .map(|word| {
            let word = word.to_string_lossy();
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
            if plain {
                word.into_owned()
            } else {
                format!("'{}'", word.replace('\'', "'\\''"))
            }
        })
        .collect();
    quoted.join(" ")
}

/// Replace this process with `zkpod supervise … -- COMMAND`: PID 1 then keeps none of the
/// start-up's code, heap or templates while it idles for the life of the pod. Blocked and
/// pending signals survive execve, so a TERM that came during start-up still stops the
/// server from starting. Where exec fails (no /proc), supervise from here.
fn become_supervisor(
    child: supervise::Child,
    user: Option<&str>,
    signals: supervise::Signals,
) -> ExitCode {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut args: Vec<OsString> = vec!["zkpod".into(), "supervise".into()];
    if let Some(grace) = child.grace {
        args.push("--grace".into());
        args.push(grace.as_secs_f64().to_string().into());
    }
    if let Some(user) = user {
        args.push("--user".into());
        args.push(user.into());
    }
    args.push("--".into());
    args.push(child.program.clone());
    args.extend(child.args.iter().cloned());
    let c_args: Result<Vec<std::ffi::CString>, _> = args
        .iter()
        .map(|a| std::ffi::CString::new(a.as_bytes()))
        .collect();
    // The binary by its own name (ps shows "zkpod"), or through /proc if that is gone.
    let exe = std::env::current_exe()
        .ok()
        .filter(|path| path.is_file())
        .and_then(|path| std::ffi::CString::new(path.into_os_string().into_vec()).ok())
        .unwrap_or_else(|| c"/proc/self/exe".to_owned());
    if let Ok(c_args) = c_args {
        // Raw execve: std's exec would unblock the signals first.
        let err = nix::unistd::execv(&exe, &c_args).unwrap_err();
        tracing::warn!("cannot re-execute as the supervisor ({err}); supervising from here");
    }
    supervise::run(child, signals)
}
