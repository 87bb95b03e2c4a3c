//! start-zookeeper's settings: every flag and environment variable, parsed and checked
//! before anything touches the disk. Errors name the flag or variable the value came from.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::quote::quote;

/// Voting servers when neither --servers nor --ensemble says.
const DEFAULT_SERVERS: u32 = 1;

/// The longest value zkpod accepts (PATH_MAX); longer ones are mistakes, not paths.
const MAX_VALUE_LEN: usize = 4096;

/// zoo.cfg keys that flags own: `--extra` may not set them behind the flag's back.
const KEYS_OWNED_BY_FLAGS: &[(&str, &str)] = &[
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
    ("dynamicConfigFile", "--servers"),
];

/// A bad flag or variable: the command line is wrong, not the machine.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

type Result<T> = std::result::Result<T, UsageError>;

/// One setting's raw value(s) and where they came from, for messages: `--client_port` when
/// given as a flag (or defaulted), `ZK_CLIENT_PORT` when read from the environment.
#[derive(Debug, Clone)]
pub struct Input {
    pub origin: String,
    pub values: Vec<OsString>,
}

/// The raw values of every setting that has one, by setting name (`client_port`).
#[derive(Debug, Default, Clone)]
pub struct Inputs(pub BTreeMap<String, Input>);

impl Inputs {
    /// The setting's single value as UTF-8 text, if it has one.
    fn text(&self, name: &str) -> Result<Option<(&str, &str)>> {
        let Some(input) = self.0.get(name) else {
            return Ok(None);
        };
        let Some(value) = input.values.last() else {
            return Ok(None);
        };
        Ok(Some((&input.origin, checked_text(&input.origin, value)?)))
    }

    /// Every value given for a repeatable setting.
    fn texts(&self, name: &str) -> Result<Vec<(&str, &str)>> {
        let Some(input) = self.0.get(name) else {
            return Ok(Vec::new());
        };
        input
            .values
            .iter()
            .map(|value| Ok((input.origin.as_str(), checked_text(&input.origin, value)?)))
            .collect()
    }

    /// A setting that always has a value (its default, at least).
    fn required(&self, name: &str) -> Result<(&str, &str)> {
        self.text(name)?
            .ok_or_else(|| UsageError(format!("--{name}: no value")))
    }

    /// A number of at least `min`, from a setting that always has a value.
    fn number<T>(&self, name: &str, min: T) -> Result<(String, T)>
    where
        T: FromStr + PartialOrd + fmt::Display + Copy,
    {
        self.optional_number(name, min)?
            .ok_or_else(|| UsageError(format!("--{name}: no value")))
    }

    fn optional_number<T>(&self, name: &str, min: T) -> Result<Option<(String, T)>>
    where
        T: FromStr + PartialOrd + fmt::Display + Copy,
    {
        match self.text(name)? {
            None => Ok(None),
            Some((origin, text)) => Ok(Some((origin.to_owned(), number(origin, text, min)?))),
        }
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        let (origin, text) = self.required(name)?;
        absolute_path(origin, text)
    }

    fn flag(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Which members the ensemble has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// `--servers`: voting members named `NAME-0` … after this pod's own StatefulSet name,
    /// followed by the observers.
    Counted { voters: u32 },
    /// `--ensemble`/`ZK_ENSEMBLE`: every member by host name, observers last.
    Named { hosts: Vec<String> },
}

/// Who is in the ensemble and how myid is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensemble {
    pub members: Members,
    pub observers: u32,
    pub myid_offset: u32,
}

impl Ensemble {
    /// Voters and observers together.
    pub fn size(&self) -> u32 {
        match &self.members {
            Members::Counted { voters } => voters + self.observers,
            Members::Named { hosts } => hosts.len() as u32,
        }
    }

    pub fn voters(&self) -> u32 {
        self.size() - self.observers
    }
}

/// ZooKeeper's log levels, as log4j names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl LogLevel {
    const ALL: [(&'static str, LogLevel); 6] = [
        ("TRACE", LogLevel::Trace),
        ("DEBUG", LogLevel::Debug),
        ("INFO", LogLevel::Info),
        ("WARN", LogLevel::Warn),
        ("ERROR", LogLevel::Error),
        ("FATAL", LogLevel::Fatal),
    ];

    /// The name log4j knows.
    pub fn log4j(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, level)| *level == self)
            .map(|(name, _)| *name)
            .unwrap_or("INFO")
    }

    /// The name logback knows: it has no FATAL.
    pub fn logback(self) -> &'static str {
        match self {
            LogLevel::Fatal => "ERROR",
            other => other.log4j(),
        }
    }
}

/// The AdminServer's HTTP endpoint, when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminServer {
    pub address: IpAddr,
    pub port: u16,
}

/// Every setting of start-zookeeper, valid.
#[derive(Debug, Clone)]
pub struct Settings {
    pub ensemble: Ensemble,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    pub conf_dir: PathBuf,
    pub log_dir: PathBuf,
    pub client_port: u16,
    pub server_port: u16,
    pub election_port: u16,
    pub tick_time: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    pub heap: String,
    pub max_client_cnxns: u32,
    pub snap_retain_count: u32,
    pub purge_interval: u32,
    pub min_session_timeout: u32,
    pub max_session_timeout: u32,
    pub log_level: LogLevel,
    pub admin: Option<AdminServer>,
    pub prometheus_port: Option<u16>,
    /// Further zoo.cfg lines, in the order given.
    pub extra: Vec<(String, String)>,
    pub hostname: Option<String>,
    pub domain: Option<String>,
    pub template_dir: Option<PathBuf>,
    pub dry_run: bool,
    pub zk_home: Option<PathBuf>,
    pub user: Option<String>,
    pub grace: Option<Duration>,
    /// `-- CMD ARGS…`: run this instead of ZooKeeper.
    pub command: Vec<OsString>,
}

impl Settings {
    pub fn from_inputs(inputs: &Inputs) -> Result<Settings> {
        let (tick_origin, tick_time) = inputs.number("tick_time", 1u32)?;
        let (_, init_limit) = inputs.number("init_limit", 1u32)?;
        let (_, sync_limit) = inputs.number("sync_limit", 1u32)?;
        let (_, max_client_cnxns) = inputs.number("max_client_cnxns", 0u32)?;
        let (_, snap_retain_count) = inputs.number("snap_retain_count", 3u32)?;
        let (_, purge_interval) = inputs.number("purge_interval", 0u32)?;

        let min_session = inputs.optional_number("min_session_timeout", 1u32)?;
        let max_session = inputs.optional_number("max_session_timeout", 1u32)?;
        let (min_origin, min_session_timeout) = min_session.unwrap_or_else(|| {
            (
                format!("{tick_origin} (2 × tick_time)"),
                tick_time.saturating_mul(2),
            )
        });
        let (max_origin, max_session_timeout) = max_session.unwrap_or_else(|| {
            (
                format!("{tick_origin} (20 × tick_time)"),
                tick_time.saturating_mul(20),
            )
        });
        if min_session_timeout > max_session_timeout {
            return Err(UsageError(format!(
                "{min_origin}: the minimum session timeout {min_session_timeout} ms is above \
                 the maximum {max_session_timeout} ms ({max_origin})"
            )));
        }

        let ports = ports(inputs)?;
        let settings = Settings {
            ensemble: ensemble(inputs)?,
            data_dir: inputs.path("data_dir")?,
            data_log_dir: inputs.path("data_log_dir")?,
            conf_dir: inputs.path("conf_dir")?,
            log_dir: inputs.path("log_dir")?,
            client_port: ports.client,
            server_port: ports.server,
            election_port: ports.election,
            tick_time,
            init_limit,
            sync_limit,
            heap: heap(inputs)?,
            max_client_cnxns,
            snap_retain_count,
            purge_interval,
            min_session_timeout,
            max_session_timeout,
            log_level: log_level(inputs)?,
            admin: ports.admin,
            prometheus_port: ports.prometheus,
            extra: extra(inputs)?,
            hostname: host_name(inputs, "hostname")?,
            domain: host_name(inputs, "domain")?,
            template_dir: optional_path(inputs, "template_dir")?,
            dry_run: inputs.flag("dry_run"),
            zk_home: optional_path(inputs, "zk_home")?,
            user: inputs.text("user")?.map(|(_, text)| text.to_owned()),
            grace: inputs
                .text("grace")?
                .map(|(origin, text)| seconds(origin, text))
                .transpose()?,
            command: inputs
                .0
                .get("command")
                .map(|input| input.values.clone())
                .unwrap_or_default(),
        };
        Ok(settings)
    }
}

/// A value as text: valid UTF-8, not huge, and free of control characters, so that no value can
/// add a line to a configuration file.
fn checked_text<'a>(origin: &str, value: &'a OsString) -> Result<&'a str> {
    let Some(text) = value.to_str() else {
        return Err(UsageError(format!(
            "{origin}: {} is not valid UTF-8",
            quote(&value.to_string_lossy())
        )));
    };
    if text.len() > MAX_VALUE_LEN {
        return Err(UsageError(format!(
            "{origin}: the value is {} bytes long, more than the {MAX_VALUE_LEN} allowed",
            text.len()
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(UsageError(format!(
            "{origin}: {} contains a control character (newline, tab, …)",
            quote(text)
        )));
    }
    Ok(text)
}

fn number<T>(origin: &str, text: &str, min: T) -> Result<T>
where
    T: FromStr + PartialOrd + fmt::Display,
{
    let parsed = text.trim().parse::<T>().ok().filter(|n| *n >= min);
    parsed.ok_or_else(|| {
        UsageError(format!(
            "{origin}: {} is not a whole number of at least {min}",
            quote(text)
        ))
    })
}

/// A directory in a zoo.cfg line. Relative paths are made absolute (ZooKeeper would resolve
/// them against whatever directory it was started in).
fn absolute_path(origin: &str, text: &str) -> Result<PathBuf> {
    if text.is_empty() {
        return Err(UsageError(format!("{origin}: the path is empty")));
    }
    // java.util.Properties reads a backslash as an escape: the path ZooKeeper saw would differ.
    if text.contains('\\') {
        return Err(UsageError(format!(
            "{origin}: {} contains a backslash, which zoo.cfg would read as an escape",
            quote(text)
        )));
    }
    std::path::absolute(Path::new(text))
        .map_err(|err| UsageError(format!("{origin}: {}: {err}", quote(text))))
}

fn optional_path(inputs: &Inputs, name: &str) -> Result<Option<PathBuf>> {
    inputs
        .text(name)?
        .map(|(origin, text)| absolute_path(origin, text))
        .transpose()
}

struct Ports {
    client: u16,
    server: u16,
    election: u16,
    admin: Option<AdminServer>,
    prometheus: Option<u16>,
}

fn ports(inputs: &Inputs) -> Result<Ports> {
    let port = |name: &str| -> Result<Option<(String, u16)>> {
        let Some((origin, text)) = inputs.text(name)? else {
            return Ok(None);
        };
        match text.trim().parse::<u16>() {
            Ok(port) if port > 0 => Ok(Some((origin.to_owned(), port))),
            _ => Err(UsageError(format!(
                "{origin}: {} is not a port number (1-65535)",
                quote(text)
            ))),
        }
    };
    let required = |name: &str| -> Result<(String, u16)> {
        port(name)?.ok_or_else(|| UsageError(format!("--{name}: no value")))
    };
    let client = required("client_port")?;
    let server = required("server_port")?;
    let election = required("election_port")?;
    let admin = port("admin_port")?;
    let prometheus = port("prometheus_port")?;

    let mut given = vec![&client, &server, &election];
    given.extend(admin.iter().chain(prometheus.iter()));
    for (i, (origin, port)) in given.iter().enumerate() {
        if let Some((other, _)) = given[..i].iter().find(|(_, p)| p == port) {
            return Err(UsageError(format!(
                "{origin}: port {port} is already used by {other}; every port must differ"
            )));
        }
    }

    let (origin, text) = inputs.required("admin_address")?;
    let address = text
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| UsageError(format!("{origin}: {} is not an IP address", quote(text))))?;
    Ok(Ports {
        client: client.1,
        server: server.1,
        election: election.1,
        admin: admin.map(|(_, port)| AdminServer { address, port }),
        prometheus: prometheus.map(|(_, port)| port),
    })
}

fn ensemble(inputs: &Inputs) -> Result<Ensemble> {
    let (_, observers) = inputs.number("observers", 0u32)?;
    let (_, myid_offset) = inputs.number("myid_offset", 0u32)?;
    let servers = inputs.optional_number("servers", 1u32)?;

    let members = match inputs.text("ensemble")? {
        None => Members::Counted {
            voters: servers.map(|(_, n)| n).unwrap_or(DEFAULT_SERVERS),
        },
        Some((origin, text)) => {
            let hosts = ensemble_hosts(origin, text)?;
            if hosts.len() as u32 <= observers {
                return Err(UsageError(format!(
                    "{origin}: {} members leave no voter beside {observers} observer(s)",
                    hosts.len()
                )));
            }
            let voters = hosts.len() as u32 - observers;
            if let Some((servers_origin, servers)) = servers
                && servers != voters
            {
                return Err(UsageError(format!(
                    "{servers_origin}: {servers} voting servers disagrees with {origin}, \
                     which names {voters}; give one of them"
                )));
            }
            Members::Named { hosts }
        }
    };
    Ok(Ensemble {
        members,
        observers,
        myid_offset,
    })
}

/// `zk-0;zk-1;zk-2` (the older image's form); commas and spaces separate too.
fn ensemble_hosts(origin: &str, text: &str) -> Result<Vec<String>> {
    let mut hosts: Vec<String> = Vec::new();
    for host in text
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        check_host_name(origin, host)?;
        if hosts.iter().any(|h| h == host) {
            return Err(UsageError(format!(
                "{origin}: {} is listed twice",
                quote(host)
            )));
        }
        hosts.push(host.to_owned());
    }
    if hosts.is_empty() {
        return Err(UsageError(format!("{origin}: no members listed")));
    }
    Ok(hosts)
}

fn host_name(inputs: &Inputs, name: &str) -> Result<Option<String>> {
    let Some((origin, text)) = inputs.text(name)? else {
        return Ok(None);
    };
    let text = text.trim().trim_end_matches('.');
    check_host_name(origin, text)?;
    Ok(Some(text.to_owned()))
}

/// Letters, digits, dashes and dots: what DNS names of pods are made of.
fn check_host_name(origin: &str, text: &str) -> Result<()> {
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !text.starts_with(['-', '.'])
        && !text.contains("..");
    if valid {
        Ok(())
    } else {
        Err(UsageError(format!(
            "{origin}: {} is not a host name (letters, digits, '-' and '.')",
            quote(text)
        )))
    }
}

/// A JVM heap size as -Xmx takes it: digits and an optional k, m, g or t.
fn heap(inputs: &Inputs) -> Result<String> {
    let (origin, text) = inputs.required("heap")?;
    let text = text.trim();
    let digits = text.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', 't', 'T']);
    let unit_len = text.len() - digits.len();
    let valid = unit_len <= 1
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n > 0);
    if valid {
        Ok(text.to_owned())
    } else {
        Err(UsageError(format!(
            "{origin}: {} is not a JVM heap size such as 512M or 2G",
            quote(text)
        )))
    }
}

fn log_level(inputs: &Inputs) -> Result<LogLevel> {
    let (origin, text) = inputs.required("log_level")?;
    let wanted = text.trim().to_ascii_uppercase();
    LogLevel::ALL
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, level)| *level)
        .ok_or_else(|| {
            UsageError(format!(
                "{origin}: {} is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)",
                quote(text)
            ))
        })
}

/// `--extra KEY=VALUE`, repeated; from the environment, `ZK_CFG_EXTRA` holds the pairs
/// separated by `;`.
fn extra(inputs: &Inputs) -> Result<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (origin, text) in inputs.texts("extra")? {
        let from_env = !origin.starts_with("--");
        let items: Vec<&str> = if from_env {
            text.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            vec![text]
        };
        for item in items {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| UsageError(format!("{origin}: {} is not KEY=VALUE", quote(item))))?;
            let (key, value) = (key.trim(), value.trim());
            let key_ok = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !key_ok {
                return Err(UsageError(format!(
                    "{origin}: {} is not a zoo.cfg key (letters, digits, '.', '_', '-')",
                    quote(key)
                )));
            }
            if let Some((_, flag)) = KEYS_OWNED_BY_FLAGS.iter().find(|(k, _)| *k == key) {
                return Err(UsageError(format!(
                    "{origin}: {key} is set by {flag}; use that instead"
                )));
            }
            if key.starts_with("server.") || key.starts_with("group.") || key == "weight" {
                return Err(UsageError(format!(
                    "{origin}: {key} is written from the ensemble (--servers, --ensemble)"
                )));
            }
            if value.contains('\\') {
                return Err(UsageError(format!(
                    "{origin}: {} contains a backslash, which zoo.cfg would read as an escape",
                    quote(value)
                )));
            }
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(UsageError(format!("{origin}: {key} is given twice")));
            }
            pairs.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(pairs)
}

/// A duration in seconds, decimals allowed (`0.5`).
pub fn seconds(origin: &str, text: &str) -> Result<Duration> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            UsageError(format!(
                "{origin}: {} is not a number of seconds (above 0, at most 86400)",
                quote(text)
            ))
        })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Settings from a start-zookeeper command line and environment, as the command reads them.
    pub fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Settings> {
        let mut cmd = crate::start::command();
        let argv = std::iter::once("start-zookeeper").chain(args.iter().copied());
        let matches = cmd.try_get_matches_from_mut(argv).expect("valid flags");
        let env = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        };
        Settings::from_inputs(&crate::start::inputs(&cmd, &matches, env))
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
        try_flags(pairs).unwrap_err().0
    }

    #[test]
    fn defaults_are_the_original_scripts() {
        let s = flags(&[]);
        assert_eq!(
            s.ensemble,
            Ensemble {
                members: Members::Counted { voters: 1 },
                observers: 0,
                myid_offset: 1
            }
        );
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/zookeeper/data"));
        assert_eq!(s.data_log_dir, PathBuf::from("/var/lib/zookeeper/log"));
        assert_eq!(s.conf_dir, PathBuf::from("/opt/zookeeper/conf"));
        assert_eq!(s.log_dir, PathBuf::from("/var/log/zookeeper"));
        assert_eq!(
            (s.client_port, s.server_port, s.election_port),
            (2181, 2888, 3888)
        );
        assert_eq!((s.tick_time, s.init_limit, s.sync_limit), (2000, 10, 5));
        assert_eq!(s.heap, "2G");
        assert_eq!(s.max_client_cnxns, 60);
        assert_eq!((s.snap_retain_count, s.purge_interval), (3, 0));
        assert_eq!(
            (s.min_session_timeout, s.max_session_timeout),
            (4000, 40000)
        );
        assert_eq!(s.log_level, LogLevel::Info);
        assert_eq!(s.admin, None);
        assert!(s.extra.is_empty() && !s.dry_run && s.grace.is_none() && s.user.is_none());
    }

    #[test]
    fn dashes_and_separate_values_work_too() {
        let s = parse(
            &["--data-dir", "/d", "--client_port", "2182", "--dry-run"],
            &[],
        )
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/d"));
        assert_eq!(s.client_port, 2182);
        assert!(s.dry_run);
    }

    #[test]
    fn environment_fills_in_and_flags_win() {
        let env = [
            ("ZK_CLIENT_PORT", "2182"),
            ("ZK_HEAP_SIZE", "512M"),
            ("ZK_TICK_TIME", ""),
        ];
        let s = parse(&[], &env).unwrap();
        assert_eq!((s.client_port, s.heap.as_str()), (2182, "512M"));
        assert_eq!(s.tick_time, 2000, "an empty variable counts as unset");
        let s = parse(&["--client_port=2190"], &env).unwrap();
        assert_eq!(s.client_port, 2190);
        let message = parse(&[], &[("ZK_SYNC_LIMIT", "soon")]).unwrap_err().0;
        assert!(message.starts_with("ZK_SYNC_LIMIT:"), "{message}");
    }

    #[test]
    fn session_timeouts_follow_tick_time() {
        let s = flags(&[("tick_time", "1000")]);
        assert_eq!(
            (s.min_session_timeout, s.max_session_timeout),
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
    fn ports_must_be_valid_and_distinct() {
        for bad in ["0", "65536", "-1", "http", ""] {
            let message = error(&[("client_port", bad)]);
            assert!(message.starts_with("--client_port:"), "{message}");
            assert!(message.contains("port number"), "{message}");
        }
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
        ] {
            let message = error(&[(name, bad)]);
            assert!(message.starts_with(&format!("--{name}:")), "{message}");
        }
        let s = flags(&[("max_client_cnxns", "0")]);
        assert_eq!(s.max_client_cnxns, 0, "0 means unlimited to ZooKeeper");
    }

    #[test]
    fn heap_is_jvm_style() {
        for good in ["512M", "2G", "1024m", "1g", "65536k", "4096"] {
            assert_eq!(flags(&[("heap", good)]).heap, good);
        }
        for bad in ["2GB", "0", "G", "1.5G", "-2G", "2 G", "$(reboot)"] {
            let message = error(&[("heap", bad)]);
            assert!(message.contains("JVM heap size"), "{bad}: {message}");
        }
    }

    #[test]
    fn log_levels_are_known_names() {
        assert_eq!(flags(&[("log_level", "debug")]).log_level, LogLevel::Debug);
        assert_eq!(LogLevel::Fatal.logback(), "ERROR");
        assert_eq!(LogLevel::Fatal.log4j(), "FATAL");
        assert!(error(&[("log_level", "LOUD")]).starts_with("--log_level:"));
    }

    #[test]
    fn control_characters_never_pass() {
        let message = error(&[("data_dir", "/data\nclientPort=1")]);
        assert!(message.starts_with("--data_dir:"), "{message}");
        assert!(message.contains("control character"), "{message}");
        assert!(!message.contains('\n'));
        let message = error(&[("extra", "a=b\rc")]);
        assert!(message.starts_with("--extra:"), "{message}");
    }

    #[test]
    fn huge_and_non_utf8_values_are_refused() {
        let huge = "/d".repeat(100_000);
        let message = error(&[("data_dir", &huge)]);
        assert!(message.contains("200000 bytes long"), "{message}");

        use std::os::unix::ffi::OsStringExt;
        let mut inputs = Inputs::default();
        inputs.0.insert(
            "conf_dir".into(),
            Input {
                origin: "ZK_CONF_DIR".into(),
                values: vec![OsString::from_vec(vec![b'/', 0xff, 0xfe])],
            },
        );
        let message = inputs.text("conf_dir").unwrap_err().0;
        assert!(
            message.starts_with("ZK_CONF_DIR:") && message.contains("UTF-8"),
            "{message}"
        );
    }

    #[test]
    fn relative_paths_become_absolute() {
        let s = flags(&[("data_dir", "zkdata")]);
        assert!(s.data_dir.is_absolute() && s.data_dir.ends_with("zkdata"));
        assert!(error(&[("data_dir", "")]).contains("empty"));
        assert!(error(&[("data_dir", r"C:\zk")]).contains("backslash"));
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
            .0;
        assert!(
            message.starts_with("--servers:") && message.contains("ZK_ENSEMBLE"),
            "{message}"
        );
        assert!(error(&[("ensemble", "zk-0;zk-0")]).contains("listed twice"));
        assert!(error(&[("ensemble", ";;")]).contains("no members"));
        assert!(error(&[("ensemble", "zk_0")]).contains("not a host name"));
        assert!(error(&[("ensemble", "zk-0"), ("observers", "1")]).contains("no voter"));
    }

    #[test]
    fn extra_keys_are_checked() {
        let s = flags(&[
            ("extra", "4lw.commands.whitelist=*"),
            ("extra", "globalOutstandingLimit = 2000"),
        ]);
        assert_eq!(
            s.extra,
            vec![
                ("4lw.commands.whitelist".into(), "*".into()),
                ("globalOutstandingLimit".into(), "2000".into())
            ]
        );
        assert_eq!(
            error(&[("extra", "clientPort=2182")]),
            "--extra: clientPort is set by --client_port; use that instead"
        );
        assert!(error(&[("extra", "server.4=x:1:2")]).contains("ensemble"));
        assert!(error(&[("extra", "novalue")]).contains("KEY=VALUE"));
        assert!(error(&[("extra", "a b=c")]).contains("zoo.cfg key"));
        assert!(error(&[("extra", "a=1"), ("extra", "a=2")]).contains("twice"));
    }

    #[test]
    fn extra_from_the_environment_is_split_on_semicolons() {
        let s = parse(
            &[],
            &[("ZK_CFG_EXTRA", "snapCount=10000; preAllocSize=65536;")],
        )
        .unwrap();
        assert_eq!(
            s.extra,
            vec![
                ("snapCount".into(), "10000".into()),
                ("preAllocSize".into(), "65536".into())
            ]
        );
        let s = parse(&["--extra=a=b;c"], &[("ZK_CFG_EXTRA", "snapCount=1")]).unwrap();
        assert_eq!(s.extra, vec![("a".into(), "b;c".into())], "the flag wins");
    }

    #[test]
    fn admin_server_is_local_unless_told() {
        let s = flags(&[("admin_port", "8080")]);
        assert_eq!(
            s.admin,
            Some(AdminServer {
                address: "127.0.0.1".parse().unwrap(),
                port: 8080
            })
        );
        let s = flags(&[("admin_port", "8080"), ("admin_address", "0.0.0.0")]);
        assert_eq!(s.admin.unwrap().address.to_string(), "0.0.0.0");
        assert!(error(&[("admin_address", "localhost")]).contains("IP address"));
    }

    #[test]
    fn host_names_are_checked() {
        let s = flags(&[
            ("hostname", "zk-1"),
            ("domain", "zk-hs.default.svc.cluster.local."),
        ]);
        assert_eq!(s.hostname.as_deref(), Some("zk-1"));
        assert_eq!(s.domain.as_deref(), Some("zk-hs.default.svc.cluster.local"));
        assert!(error(&[("domain", "a b")]).starts_with("--domain:"));
    }

    #[test]
    fn seconds_take_decimals() {
        assert_eq!(
            seconds("--grace", "0.5").unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon"] {
            assert!(seconds("--grace", bad).is_err(), "{bad}");
        }
    }
}
