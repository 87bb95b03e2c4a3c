//! Values from the command line and the environment, parsed into types. Every error names
//! where the value came from (`--client_port`, `ZK_CLIENT_PORT`, `PORT`), so the operator
//! knows which line of the manifest to fix.

use std::ffi::OsStr;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use super::error::{Error, Result};
use super::quote::quote;

/// The longest value zkpod accepts (PATH_MAX); longer ones are mistakes, not paths.
pub const MAX_VALUE_LEN: usize = 4096;

/// The shortest duration zkpod takes: anything shorter is a typo, not a timeout.
const MIN_SECONDS: f64 = 0.001;
/// The longest: a day.
const MAX_SECONDS: f64 = 86_400.0;

/// The largest number ZooKeeper reads for a count or a time in milliseconds: a Java `int`.
pub const JAVA_INT_MAX: u32 = i32::MAX as u32;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A long flag, by its name without dashes (`client_port`).
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A positional argument, by its value name (`PORT`).
    Arg(&'static str),
    /// The server running in this pod, by the variable its configuration stands for
    /// (`config::running`).
    Running(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "--{name}"),
            Origin::Env(name) | Origin::Arg(name) => f.write_str(name),
            Origin::Running(name) => write!(f, "the running server's configuration ({name})"),
        }
    }
}

/// One value as text, with its origin: valid UTF-8, not huge, and free of control characters,
/// so that no value can add a line to a configuration file or a log.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    pub origin: Origin,
    pub text: &'a str,
}

impl<'a> Value<'a> {
    /// Check raw bytes from argv or the environment.
    pub fn new(origin: Origin, raw: &'a OsStr) -> Result<Value<'a>> {
        let Some(text) = raw.to_str() else {
            return Err(Error::usage(format!(
                "{origin}: {} is not valid UTF-8",
                quote(&raw.to_string_lossy())
            )));
        };
        if text.len() > MAX_VALUE_LEN {
            return Err(Error::usage(format!(
                "{origin}: the value is {} bytes long, more than the {MAX_VALUE_LEN} allowed",
                text.len()
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(Error::usage(format!(
                "{origin}: {} contains a control character (newline, tab, …)",
                quote(text)
            )));
        }
        Ok(Value { origin, text })
    }

    /// An error about this value: `ORIGIN: "TEXT" PROBLEM`.
    pub fn bad(&self, problem: impl fmt::Display) -> Error {
        Error::usage(format!("{}: {} {problem}", self.origin, quote(self.text)))
    }

    /// A whole number of at least `min`.
    pub fn number<T>(&self, min: T) -> Result<T>
    where
        T: FromStr + PartialOrd + fmt::Display + Copy,
    {
        self.text
            .trim()
            .parse::<T>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| self.bad(format_args!("is not a whole number of at least {min}")))
    }

    /// A whole number from `min` to `JAVA_INT_MAX`, as ZooKeeper reads it (a Java `int`).
    pub fn java_int(&self, min: u32) -> Result<u32> {
        let number = self.number(min)?;
        if number > JAVA_INT_MAX {
            return Err(self.bad(format_args!(
                "is above {JAVA_INT_MAX}, the most ZooKeeper reads (a Java int)"
            )));
        }
        Ok(number)
    }

    /// A TCP port, 1-65535.
    pub fn port(&self) -> Result<u16> {
        match self.text.trim().parse::<u16>() {
            Ok(port) if port > 0 => Ok(port),
            _ => Err(self.bad("is not a port number (1-65535)")),
        }
    }

    /// A duration in seconds, decimals allowed (`0.5`), from 0.001 to 86400.
    pub fn seconds(&self) -> Result<Duration> {
        self.text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && (MIN_SECONDS..=MAX_SECONDS).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| self.bad("is not a number of seconds (0.001 to 86400)"))
    }

    pub fn ip(&self) -> Result<IpAddr> {
        self.text
            .trim()
            .parse()
            .map_err(|_| self.bad("is not an IP address"))
    }

    /// A DNS name (RFC 1123: letters, digits, '-' and '.'); a trailing dot is dropped.
    pub fn host_name(&self) -> Result<String> {
        let name = self.text.trim().trim_end_matches('.');
        if is_host_name(name) {
            Ok(name.to_owned())
        } else {
            Err(self.bad("is not a host name (letters, digits, '-' and '.')"))
        }
    }

    /// A path, made absolute. It must be one that ZooKeeper reads back the same from zoo.cfg:
    /// zoo.cfg is read as ISO-8859-1 with backslash escapes and trimmed values, so a
    /// backslash, a non-ASCII character or a space at either end would change it.
    pub fn path(&self) -> Result<PathBuf> {
        let text = self.text;
        if text.is_empty() {
            return Err(Error::usage(format!("{}: the path is empty", self.origin)));
        }
        if text.contains('\\') {
            return Err(self.bad("contains a backslash, which zoo.cfg would read as an escape"));
        }
        if !text.is_ascii() {
            return Err(self.bad("is not ASCII: ZooKeeper would read another path from zoo.cfg"));
        }
        if text.trim() != text {
            return Err(self.bad("starts or ends with a space, which ZooKeeper would drop"));
        }
        std::path::absolute(text).map_err(|err| self.bad(err))
    }
}

/// The pod a host name names: its first label, in lowercase (`ZK-0.zk-hs` is `zk-0`), as DNS
/// compares names.
pub fn pod_name(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_ascii_lowercase()
}

/// Whether `name` is a DNS name as pods have them: labels of letters, digits and '-', not
/// starting or ending with '-', separated by single dots.
pub fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// ZooKeeper's log levels, as log4j names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl LogLevel {
    const ALL: [LogLevel; 6] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Fatal,
    ];

    /// The name log4j knows.
    pub fn log4j(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
        }
    }

    /// The name logback knows: it has no FATAL.
    pub fn logback(self) -> &'static str {
        match self {
            LogLevel::Fatal => "ERROR",
            other => other.log4j(),
        }
    }

    pub fn parse(value: &Value) -> Result<LogLevel> {
        let wanted = value.text.trim().to_ascii_uppercase();
        LogLevel::ALL
            .into_iter()
            .find(|level| level.log4j() == wanted)
            .ok_or_else(|| {
                value.bad("is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)")
            })
    }
}

/// The level's names, as the logging templates use them.
impl Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut level = serializer.serialize_struct("LogLevel", 2)?;
        level.serialize_field("log4j", self.log4j())?;
        level.serialize_field("logback", self.logback())?;
        level.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value<'_> {
        Value {
            origin: Origin::Flag("x"),
            text,
        }
    }

    #[test]
    fn origins_name_flags_variables_and_arguments() {
        assert_eq!(Origin::Flag("client_port").to_string(), "--client_port");
        assert_eq!(Origin::Env("ZK_CLIENT_PORT").to_string(), "ZK_CLIENT_PORT");
        assert_eq!(Origin::Arg("PORT").to_string(), "PORT");
    }

    #[test]
    fn raw_values_are_checked() {
        use std::os::unix::ffi::OsStrExt;
        let origin = Origin::Env("ZK_CONF_DIR");
        let err = Value::new(origin, OsStr::from_bytes(b"/\xff\xfe")).unwrap_err();
        assert!(err.to_string().starts_with("ZK_CONF_DIR: ") && err.to_string().contains("UTF-8"));
        let err = Value::new(origin, OsStr::new("/a\nb"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("control character") && !err.contains('\n'),
            "{err}"
        );
        let huge = "/d".repeat(100_000);
        let err = Value::new(origin, OsStr::new(&huge))
            .unwrap_err()
            .to_string();
        assert!(err.contains("200000 bytes long"), "{err}");
    }

    #[test]
    fn ports() {
        assert_eq!(value("2181").port().unwrap(), 2181);
        assert_eq!(value(" 2181 ").port().unwrap(), 2181);
        for bad in ["0", "65536", "-1", "http", ""] {
            let err = value(bad).port().unwrap_err().to_string();
            assert!(
                err.starts_with("--x: ") && err.contains("port number"),
                "{err}"
            );
        }
    }

    #[test]
    fn seconds_take_decimals_within_bounds() {
        assert_eq!(value("0.5").seconds().unwrap(), Duration::from_millis(500));
        assert_eq!(value("0.001").seconds().unwrap(), Duration::from_millis(1));
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon", "0.0000000001"] {
            assert!(value(bad).seconds().is_err(), "{bad}");
        }
    }

    #[test]
    fn host_names() {
        assert_eq!(
            value("zk-hs.default.svc.").host_name().unwrap(),
            "zk-hs.default.svc"
        );
        for bad in ["a b", "", "-a", "a-", "a..b", "zk_0", "ä", "a=b"] {
            assert!(value(bad).host_name().is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_what_zookeeper_reads_back() {
        assert!(value("zkdata").path().unwrap().is_absolute());
        assert!(value("").path().unwrap_err().to_string().contains("empty"));
        assert!(
            value(r"C:\zk")
                .path()
                .unwrap_err()
                .to_string()
                .contains("backslash")
        );
        assert!(
            value("/données")
                .path()
                .unwrap_err()
                .to_string()
                .contains("ASCII")
        );
        assert!(
            value("/data ")
                .path()
                .unwrap_err()
                .to_string()
                .contains("space")
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(LogLevel::parse(&value("debug")).unwrap(), LogLevel::Debug);
        assert_eq!(LogLevel::Fatal.logback(), "ERROR");
        assert_eq!(LogLevel::Fatal.log4j(), "FATAL");
        assert!(LogLevel::parse(&value("LOUD")).is_err());
    }
}
