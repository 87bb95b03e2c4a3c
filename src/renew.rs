//! `zkpod renew`: take up a renewed certificate while the server runs. start-zookeeper runs
//! it beside a server with `--tls_dir`.
//!
//! The kubelet swaps a Secret's files in every pod within about a minute of each other. Every
//! `POLL` this reads the directory; a pair that differs from the one installed is checked as
//! at start (refused with a log line, the server keeping the pair it has), then written over
//! the server's copies by rename. The quorum and election ports take it at once
//! (`sslQuorumReloadCertFiles`); the client port too where the server reloads it
//! (`client.certReload`, 3.9 and 3.8.5+). Where the client port still presents the old
//! certificate, the server has to restart, and only one member may be down at a time: a
//! server restarts once every other voter serves and every member with a lower id presents
//! the new certificate (waited for at most `LOWER_WAIT`, for pods whose certificates are not
//! renewed together). Pods renewed together thus restart in the order of their ids, one after
//! the other; a voter that does not serve holds every restart back. The restart is PID 1's (`supervise --restart_on_hup`): the JVM restarts in the
//! container, which keeps running.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use clap::ArgMatches;
use nix::sys::signal::{Signal, kill};
use rustls::pki_types::UnixTime;

use crate::cli::error::{Error, Result};
use crate::cli::log;
use crate::config::flags::{self, Given};
use crate::config::identity::{HostNames, Identity};
use crate::config::render::File;
use crate::config::running::Running;
use crate::config::settings::{Settings, TlsFiles};
use crate::config::write::write_private;
use crate::pid1::credentials::Credentials;
use crate::tls::{Pair, Tls};
use crate::zk::fourlw::{self, Address};
use crate::zk::members;

/// How often the directory is read.
const POLL: Duration = Duration::from_secs(5);
/// How long a server that reloads the client port's certificate may take to present it.
const RELOAD_WAIT: Duration = Duration::from_secs(10);
/// How long a member waits for the members with lower ids to present the new certificate.
const LOWER_WAIT: Duration = Duration::from_secs(600);
/// How long a restarted server may take to serve with the new certificate.
const RESTART_WAIT: Duration = Duration::from_secs(300);
/// How long one member may take to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
const LOG_EVERY: Duration = Duration::from_secs(30);

pub fn command() -> clap::Command {
    flags::add_flags(clap::Command::new("zkpod renew"))
        .about("Take up a renewed certificate in --tls_dir while the server runs.")
        .long_about(
            "Take up a renewed certificate in --tls_dir while the server runs. \
             start-zookeeper runs it beside a server with --tls_dir; it reads the same flags \
             and ZK_* variables. A changed pair is checked as at start (a broken one is logged \
             and ignored: the server keeps the pair it has), then installed for the server. \
             The quorum ports take it at once. Where the client port keeps the old \
             certificate, the server restarts in place once every other voter serves and \
             every member with a lower id presents the new one: one member at a time.",
        )
        .after_help("Exit status: 1 no --tls_dir, or the settings cannot be read; 2 bad flags.")
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let env = |name: &str| std::env::var_os(name);
    let running = Running::find();
    let settings = Settings::new(flags::parse(matches, &env, running.as_ref())?, &env)?;
    log::set_level(settings.log_level);
    let Some(files) = settings.tls.clone() else {
        return Err(Error::usage("zkpod renew needs --tls_dir (ZK_TLS_DIR)"));
    };
    let names = &settings.names;
    let discover = || HostNames::discover(names.hostname.as_deref(), names.domain.as_deref());
    let identity = Identity::resolve(&settings.ensemble, discover)?;
    let name = identity.server_name(discover)?;
    let user = Credentials::for_child(settings.launch.user.as_ref().map(Given::as_value))?;
    let mut installed = installed(&files);
    // The last pair refused, so that it is logged once.
    let mut refused: Option<String> = None;
    loop {
        std::thread::sleep(POLL);
        let pair = match Pair::read(&files.dir) {
            Ok(pair) => pair,
            // Between the kubelet's renames, or a Secret being replaced.
            Err(why) => {
                crate::debug!("renew: {why}");
                continue;
            }
        };
        let stores = [pair.key_store.clone(), pair.ca_pem.clone()];
        if stores == installed || refused.as_ref() == Some(&stores[0]) {
            continue;
        }
        if let Err(why) = pair.check(Some(&name), UnixTime::now()) {
            crate::warn!(
                "the renewed pair in {} is ignored, the server keeps the one it has: {why}",
                files.dir.display()
            );
            refused = Some(stores[0].clone());
            continue;
        }
        let leaf = pair.leaf().clone();
        let tls = match Tls::from_pair(pair) {
            Ok(tls) => tls,
            Err(why) => {
                crate::warn!("the renewed pair is ignored: {why}");
                refused = Some(stores[0].clone());
                continue;
            }
        };
        if let Err(err) = install(&files, &stores, user.as_ref()) {
            // Tried again at the next look; the server keeps its copies meanwhile.
            crate::warn!("cannot install the renewed pair: {err}");
            continue;
        }
        installed = stores;
        crate::info!(
            "installed the renewed certificate from {}: the quorum and election ports take it \
             now",
            files.dir.display()
        );
        take_up(&settings, &identity, &leaf, &tls);
    }
}

/// The server's copies as they are on disk.
fn installed(files: &TlsFiles) -> [String; 2] {
    [&files.key_store, &files.trust_store]
        .map(|path| std::fs::read_to_string(path).unwrap_or_default())
}

/// Write the server's copies, each by rename (the server watches for that).
fn install(files: &TlsFiles, stores: &[String; 2], user: Option<&Credentials>) -> Result<()> {
    for (path, contents) in [&files.key_store, &files.trust_store].iter().zip(stores) {
        let file = File {
            path: path.to_path_buf(),
            contents: contents.clone(),
        };
        write_private(&file, user.map(|who| (who.uid, who.gid)))?;
    }
    Ok(())
}

/// Have the client port present `leaf`: wait for the server to reload it, else restart the
/// server when it is this member's turn.
fn take_up(settings: &Settings, identity: &Identity, leaf: &[u8], tls: &Tls) {
    let port = settings.ports.client;
    let local = Address {
        host: "127.0.0.1".into(),
        port,
        tls: tls.clone(),
    };
    if presents_within(&local, leaf, RELOAD_WAIT) {
        crate::info!("the client port presents the renewed certificate");
        return;
    }
    let asked_since = Instant::now();
    let mut next_log = Instant::now();
    loop {
        match turn(
            settings,
            identity,
            leaf,
            tls,
            asked_since.elapsed() > LOWER_WAIT,
        ) {
            Ok(()) => break,
            Err(why) if Instant::now() >= next_log => {
                crate::info!("the client port keeps the old certificate until a restart: {why}");
                next_log = Instant::now() + LOG_EVERY;
            }
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    crate::info!("restarting the server to take up the renewed certificate on the client port");
    if let Err(err) = kill(nix::unistd::getppid(), Signal::SIGHUP) {
        crate::warn!("cannot ask PID 1 to restart the server: {err}");
        return;
    }
    if !presents_within(&local, leaf, RESTART_WAIT) {
        crate::warn!(
            "the restarted server does not present the renewed certificate after {}s",
            RESTART_WAIT.as_secs()
        );
    }
}

/// Whether this member may restart now; else why not.
fn turn(
    settings: &Settings,
    identity: &Identity,
    leaf: &[u8],
    tls: &Tls,
    waited_enough: bool,
) -> std::result::Result<(), String> {
    let port = settings.ports.client;
    let address = |host: &str| Address {
        host: host.to_owned(),
        port,
        tls: tls.clone(),
    };
    let own = identity.myid.unwrap_or(0);
    // The members now: the ensemble's (dynamic membership changes them), else the flags'.
    let local = address("127.0.0.1");
    let members: Vec<(u32, String, bool)> = match members::serving_config(&local, ASK_TIMEOUT) {
        Some(config) => config
            .servers
            .iter()
            .map(|s| {
                (
                    s.id,
                    s.host().to_owned(),
                    s.role() == members::Role::Observer,
                )
            })
            .collect(),
        None => identity
            .members
            .iter()
            .map(|m| (m.id, m.host.clone(), m.observer))
            .collect(),
    };
    let others: Vec<_> = members.iter().filter(|(id, ..)| *id != own).collect();
    let answers = std::thread::scope(|scope| {
        let asks: Vec<_> = others
            .iter()
            .map(|(id, host, observer)| {
                let server = address(host);
                scope.spawn(move || {
                    let serves = fourlw::ask(&server, "srvr", ASK_TIMEOUT)
                        .ok()
                        .and_then(|srvr| fourlw::mode(&srvr).map(fourlw::serves))
                        .unwrap_or(false);
                    let goes_first = *id < own;
                    // Only a member that goes first is asked for its certificate.
                    let presents_new = goes_first
                        && fourlw::certificate(&server, ASK_TIMEOUT)
                            .is_ok_and(|presented| presented.as_slice() == leaf);
                    Other {
                        host: host.clone(),
                        voter: !observer,
                        serves,
                        goes_first,
                        presents_new,
                    }
                })
            })
            .collect();
        asks.into_iter()
            .filter_map(|ask| ask.join().ok())
            .collect::<Vec<_>>()
    });
    may_restart(&answers, waited_enough)
}

/// Another member, as this one found it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Other {
    host: String,
    voter: bool,
    serves: bool,
    /// Its id is lower: it restarts first.
    goes_first: bool,
    /// It presents the renewed certificate.
    presents_new: bool,
}

/// Whether this member may restart now, given the others; else why not. Every other voter
/// must serve, and every member that goes first must present the new certificate, unless
/// this one has waited long enough for them (`waited_enough`).
fn may_restart(others: &[Other], waited_enough: bool) -> std::result::Result<(), String> {
    if let Some(other) = others.iter().find(|o| o.voter && !o.serves) {
        return Err(format!("{} does not serve", other.host));
    }
    if !waited_enough && let Some(other) = others.iter().find(|o| o.goes_first && !o.presents_new) {
        return Err(format!(
            "{} goes first and does not present it yet",
            other.host
        ));
    }
    Ok(())
}

/// Whether `server` presents `leaf` within `time`.
fn presents_within(server: &Address, leaf: &[u8], time: Duration) -> bool {
    let until = Instant::now() + time;
    loop {
        if fourlw::certificate(server, ASK_TIMEOUT)
            .is_ok_and(|presented| presented.as_slice() == leaf)
        {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(host: &str, voter: bool, serves: bool, goes_first: bool, new: bool) -> Other {
        Other {
            host: host.into(),
            voter,
            serves,
            goes_first,
            presents_new: new,
        }
    }

    #[test]
    fn one_member_at_a_time_in_the_order_of_ids() {
        // zk-1 (id 2) of three: zk-0 goes first, zk-2 after.
        let zk0_renewed = other("zk-0", true, true, true, true);
        let zk0_waiting = other("zk-0", true, true, true, false);
        let zk0_down = other("zk-0", true, false, true, true);
        let zk2 = other("zk-2", true, true, false, false);
        assert_eq!(
            may_restart(&[zk0_renewed.clone(), zk2.clone()], false),
            Ok(())
        );
        assert_eq!(
            may_restart(&[zk0_waiting.clone(), zk2.clone()], false),
            Err("zk-0 goes first and does not present it yet".into())
        );
        // Restarting, zk-0 does not serve: nobody else may go.
        assert_eq!(
            may_restart(&[zk0_down.clone(), zk2.clone()], false),
            Err("zk-0 does not serve".into())
        );
        // Waited long enough (certificates renewed apart): only serving counts.
        assert_eq!(may_restart(&[zk0_waiting, zk2.clone()], true), Ok(()));
        assert!(may_restart(&[zk0_down, zk2], true).is_err());
        // The first member waits for nobody but the serving of the others.
        let first = [
            other("zk-1", true, true, false, false),
            other("zk-2", true, true, false, false),
        ];
        assert_eq!(may_restart(&first, false), Ok(()));
        // An observer that does not serve holds nobody back: it is no part of the quorum.
        let observer = other("zk-3", false, false, false, false);
        assert_eq!(may_restart(&[observer], false), Ok(()));
        // A standalone server has no others.
        assert_eq!(may_restart(&[], false), Ok(()));
    }
}
