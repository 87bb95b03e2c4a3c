//! `zookeeper-ready`: the exec probe. Plain, it asks whether the server is alive (safe for
//! liveness); with `--serving`, whether it serves clients in a quorum (for readiness).

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::time::{Duration, Instant};

use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches, Parser};

use crate::cli::error::{Error, Result};
use crate::cli::values::{Origin, Value};
use crate::config::flags::Membership;
use crate::zk::fourlw::{self, Address, Failure};
use crate::zk::members::{self, Config};

#[derive(Parser, Debug)]
#[command(
    about = "Probe a ZooKeeper server: exit 0 when healthy, 1 (with one line on stderr saying \
why) when not.",
    long_about = "Probe a ZooKeeper server: exit 0 when healthy, 1 (with one line on stderr \
saying why) when not. Quiet on success.\n\n\
Plain, it asks `ruok` and expects `imok`: the server is alive and answering, even with no \
quorum. Use it as the liveness probe: a liveness probe that needs a quorum would restart every \
server of a partitioned ensemble. When ruok is not in 4lw.commands.whitelist, any answer to \
`srvr` counts as alive.\n\n\
With --serving, it asks `srvr` and expects Mode: leader, follower, observer or standalone: the \
server is in a quorum and serves clients. Use it as the readiness probe only with \
podManagementPolicy: Parallel and publishNotReadyAddresses: true on the headless Service; \
otherwise a new ensemble never becomes ready.",
    after_help = "Exit status: 0 healthy; 1 not healthy (the reason on stderr); 2 bad arguments.\n\n\
Example probe: exec: command: [\"zookeeper-ready\", \"2181\"]"
)]
struct ReadyArgs {
    /// The server's address.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: OsString,

    /// Seconds the whole probe may take, decimals allowed. The default stays inside
    /// Kubernetes' default timeoutSeconds of 1.
    #[arg(long, value_name = "SECONDS", default_value = "0.8")]
    timeout: OsString,

    /// Ready only when the server serves clients in a quorum (srvr reports leader, follower,
    /// observer or standalone).
    #[arg(long, action = ArgAction::SetTrue)]
    serving: bool,

    /// static or dynamic, as start-zookeeper was given. In dynamic membership --serving also
    /// asks `conf`: ready only once the ensemble lists the server as a member (a joining
    /// server serves as a non-voting follower before it is added). [default: $ZK_MEMBERSHIP,
    /// else, inside a pod, the mode the pod's server runs in, else static]
    #[arg(long, value_name = "MODE")]
    membership: Option<OsString>,

    /// Connect with TLS, with the certificate in this directory (tls.crt, tls.key, ca.crt),
    /// as start-zookeeper's --tls_dir. [default: $ZK_TLS_DIR, else, inside a pod, the
    /// directory the pod's server runs with, else plaintext]
    #[arg(long = "tls_dir", value_name = "DIR")]
    tls_dir: Option<OsString>,

    /// The client port. [default: $ZK_CLIENT_PORT, else, inside a pod, the port the pod's
    /// server runs with, else 2181]
    #[arg(value_name = "PORT")]
    port: Option<OsString>,
}

pub fn command() -> clap::Command {
    ReadyArgs::command()
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let args = ReadyArgs::from_arg_matches(matches).map_err(|err| Error::usage(err.to_string()))?;
    let (server, timeout) = super::target(
        &args.host,
        args.port.as_deref(),
        &args.timeout,
        args.tls_dir.as_deref(),
    )?;
    let membership = args
        .membership
        .map(|mode| (mode, Origin::Flag("membership")))
        .or_else(|| {
            std::env::var_os("ZK_MEMBERSHIP")
                .filter(|v| !v.is_empty())
                .map(|mode| (mode, Origin::Env("ZK_MEMBERSHIP")))
        })
        .or_else(|| {
            // Only --serving asks whether the server is a member.
            let running = super::running().filter(|_| args.serving)?;
            let mode = running.var("ZK_MEMBERSHIP")?;
            Some((mode.into(), Origin::Running("ZK_MEMBERSHIP")))
        });
    let dynamic = match membership {
        None => false,
        Some((mode, origin)) => {
            Membership::parse(&Value::new(origin, &mode)?)? == Membership::Dynamic
        }
    };
    let verdict = if args.serving {
        let started = Instant::now();
        serving(&server, timeout).and_then(|()| match dynamic {
            false => Ok(()),
            true => member(&server, timeout.saturating_sub(started.elapsed())),
        })
    } else {
        alive(&server, timeout)
    };
    verdict.map_err(|why| Error::failed(format!("{server}: {why}")))?;
    Ok(0)
}

/// Alive: `ruok` answers `imok`. If ruok is switched off, any answer to `srvr` will do.
fn alive(server: &Address, timeout: Duration) -> std::result::Result<(), String> {
    let started = Instant::now();
    match fourlw::ask(server, "ruok", timeout) {
        Ok(reply) => alive_verdict(&reply),
        Err(Failure::NotWhitelisted(_)) => {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Failure::TimedOut(timeout).to_string());
            }
            match fourlw::ask(server, "srvr", left) {
                Ok(_) | Err(Failure::NotServing | Failure::NotWhitelisted(_)) => Ok(()),
                Err(Failure::TimedOut(_)) => Err(Failure::TimedOut(timeout).to_string()),
                Err(err) => Err(err.to_string()),
            }
        }
        Err(err) => Err(err.to_string()),
    }
}

/// Serving: `srvr` reports a mode in which the server answers clients.
fn serving(server: &Address, timeout: Duration) -> std::result::Result<(), String> {
    let srvr = fourlw::ask(server, "srvr", timeout).map_err(|err| err.to_string())?;
    serving_verdict(&srvr)
}

/// A member: the ensemble's membership, as the server reports it (`conf`), lists the server.
fn member(server: &Address, left: Duration) -> std::result::Result<(), String> {
    if left.is_zero() {
        return Err("timed out".into());
    }
    let conf = fourlw::ask(server, "conf", left).map_err(|err| err.to_string())?;
    member_verdict(&conf)
}

/// What a `conf` answer says of the server's membership.
pub fn member_verdict(conf: &str) -> std::result::Result<(), String> {
    let id = members::server_id(conf).ok_or_else(|| fourlw::unexpected(conf))?;
    match Config::parse(conf).get(id) {
        Some(_) => Ok(()),
        None => Err(format!(
            "not a member yet: the ensemble does not list server {id} (zkpod join adds it once \
             it has synced)"
        )),
    }
}

/// What a `ruok` answer says: alive, or why not, in one line.
pub fn alive_verdict(ruok: &str) -> std::result::Result<(), String> {
    if ruok.trim_end() == "imok" {
        Ok(())
    } else {
        Err(fourlw::unexpected(ruok))
    }
}

/// What a `srvr` answer says: serving, or why not, in one line.
pub fn serving_verdict(srvr: &str) -> std::result::Result<(), String> {
    match fourlw::mode(srvr) {
        Some(mode) if fourlw::serves(mode) => Ok(()),
        // Shown escaped unless a plain word: it goes to the kubelet's events.
        Some(mode) => Err(format!(
            "not serving: Mode: {}",
            crate::cli::quote::word(mode)
        )),
        None => Err(fourlw::unexpected(srvr)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_one_clean_line() {
        assert_eq!(serving_verdict("Mode: follower\n"), Ok(()));
        assert_eq!(
            serving_verdict("Mode: read-only\n"),
            Err("not serving: Mode: read-only".into())
        );
        let odd = serving_verdict("Mode: \u{1b}[2J\r\tx\n").unwrap_err();
        assert!(!odd.chars().any(char::is_control), "{odd:?}");
        assert_eq!(alive_verdict("imok"), Ok(()));
        assert_eq!(
            member_verdict("serverId=2\nmembership: \nserver.2=a:1:2:participant;2181\n"),
            Ok(())
        );
        assert!(
            member_verdict("serverId=4\nmembership: \nserver.2=a:1:2:participant;2181\n")
                .unwrap_err()
                .contains("server 4")
        );
        let odd = alive_verdict("imok\u{1b}\r\nmore").unwrap_err();
        assert!(!odd.chars().any(char::is_control), "{odd:?}");
    }
}
