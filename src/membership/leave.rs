//! `zkpod leave`: take this pod's server out of the ensemble (`reconfig -remove`), for the
//! pod's preStop hook. It returns once the removal is committed, or fails within its
//! deadline. It refuses (status 0, so that the pod still stops) to remove the last voter, or
//! to leave fewer serving voters than a quorum of the voters that remain once that has
//! lasted `SETTLE` (or until the deadline): a leader election or a voter's restart is waited
//! out.

use std::time::{Duration, Instant};

use clap::{Arg, ArgMatches};

use super::join::Pod;
use crate::cli::error::{Error, Result};
use crate::cli::values::{Origin, Value};
use crate::config::flags;
use crate::tls::Tls;
use crate::zk::fourlw::{self, Address};
use crate::zk::members::{Config, Role, client_addresses, ensemble_config};
use crate::zk::session::{Session, SessionError};

const ASK_TIMEOUT: Duration = fourlw::PEER_TIMEOUT;
/// How long too few of the other voters may serve before leaving is refused: a leader
/// election (another server just left) or a voter's restart ends within it.
const SETTLE: Duration = Duration::from_secs(20);
/// --timeout when not given, in seconds.
const DEFAULT_TIMEOUT: &str = "60";

pub fn command() -> clap::Command {
    flags::add_flags(clap::Command::new("zkpod leave"))
        .about("Remove this pod's server from the ensemble (dynamic membership; the preStop hook).")
        .long_about(format!(
            "Remove this pod's server from the ensemble (dynamic membership), for the pod's \
             preStop hook; it reads the same flags and ZK_* variables as start-zookeeper, and \
             what none of them says from the server running in the pod, so a hook without \
             flags works however the manifest passed its settings. It \
             returns once the ensemble has committed the removal. It refuses, with a message \
             and status 0, to remove the last voter, or a voter whose removal would leave \
             fewer serving voters than a quorum of the rest once that has lasted {} s (or \
             until --timeout), so that a leader election or a voter's restart is waited out.",
            SETTLE.as_secs()
        ))
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECONDS")
                .default_value(DEFAULT_TIMEOUT)
                .help(
                    "Give up after this many seconds (decimals allowed); keep it below the \
                     pod's terminationGracePeriodSeconds.",
                ),
        )
        .after_help(
            "Exit status: 0 removed, not a member, or refused as unsafe; 1 the ensemble could \
             not be reached or did not commit in time; 2 bad flags or variables.",
        )
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let text = matches
        .get_one::<String>("timeout")
        .map_or(DEFAULT_TIMEOUT, String::as_str);
    let timeout = Value::new(Origin::Flag("timeout"), std::ffi::OsStr::new(text))?.seconds()?;
    let deadline = Instant::now() + timeout;
    let pod = Pod::from_flags(matches, "zkpod leave")?;
    let id = pod.me.id;
    let port = pod.settings.ports.client;
    let config = pod
        .local_config(ASK_TIMEOUT)
        .or_else(|| {
            let others = pod.identity.others.iter().map(|m| m.host.as_str());
            ensemble_config(others, port, &pod.tls)
        })
        .ok_or_else(|| {
            Error::failed(format!(
                "cannot leave: no member of the ensemble serves (asked this server and {} \
                 others)",
                pod.identity.others.len()
            ))
        })?;
    let addresses = client_addresses(&config, Some(id), port);
    let mut last = String::from("no attempt");
    // Since when too few of the others have served, in a row of attempts.
    let mut short_since: Option<Instant> = None;
    // Whether a removal was asked for: one whose answer was lost may have been committed
    // (removing the leader ends its sessions).
    let mut asked = false;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let attempt = Session::open(&addresses, &pod.tls, pod.password.expose(), left).and_then(
            |mut session| {
                // The membership now: others may be leaving at the same time.
                let config = session.config()?;
                let Some(me) = config.get(id) else {
                    return Ok(Step::NotMember);
                };
                if me.role() == Role::Participant
                    && let Some(step) = unsafe_to_remove(&config, id, port, &pod.tls)
                {
                    return Ok(step);
                }
                asked = true;
                session.reconfig(&[], &[id]).map(Step::Removed)
            },
        );
        if !matches!(attempt, Ok(Step::Short(_))) {
            short_since = None;
        }
        match attempt {
            Ok(Step::NotMember) if asked => {
                crate::info!("server {id} left the ensemble");
                return Ok(0);
            }
            Ok(Step::NotMember) => {
                crate::info!("server {id} is not a member of the ensemble: nothing to do");
                return Ok(0);
            }
            Ok(Step::Refused(why)) => {
                crate::warn!("not leaving: {why}");
                return Ok(0);
            }
            Ok(Step::Short(why)) => {
                let since = *short_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= SETTLE {
                    crate::warn!("not leaving: {why}");
                    return Ok(0);
                }
                crate::debug!("{why}; asking again");
                last = why;
            }
            Ok(Step::Removed(after)) if after.get(id).is_none() => {
                crate::info!(
                    "server {id} left the ensemble (version {:x})",
                    after.version.unwrap_or_default()
                );
                return Ok(0);
            }
            Ok(Step::Removed(_)) => last = "the committed membership still lists it".into(),
            Err(SessionError::Busy(why) | SessionError::Other(why)) => last = why,
        }
        std::thread::sleep(Duration::from_millis(500).min(left));
    }
    if short_since.is_some() {
        // Too few served until the deadline: refused, and the pod may stop.
        crate::warn!("not leaving: {last}");
        return Ok(0);
    }
    Err(Error::failed(format!(
        "server {id} did not leave within {}s: {last}",
        timeout.as_secs_f64()
    )))
}

/// What one attempt came to.
enum Step {
    NotMember,
    /// Never safe: the last voter.
    Refused(String),
    /// Too few of the other voters serve now.
    Short(String),
    Removed(Config),
}

/// Why removing voter `id` is unsafe now, if it is.
fn unsafe_to_remove(config: &Config, id: u32, port: u16, tls: &Tls) -> Option<Step> {
    let rest: Vec<_> = config.voters().filter(|s| s.id != id).collect();
    if rest.is_empty() {
        return Some(Step::Refused(format!("server {id} is the last voter")));
    }
    let serving = std::thread::scope(|scope| {
        let asks: Vec<_> = rest
            .iter()
            .map(|server| {
                scope.spawn(move || {
                    let target = Address {
                        host: server.host().to_owned(),
                        port: server.client_port().unwrap_or(port),
                        tls: tls.clone(),
                    };
                    fourlw::ask(&target, "srvr", ASK_TIMEOUT)
                        .ok()
                        .and_then(|srvr| fourlw::mode(&srvr).map(fourlw::serves))
                        .unwrap_or(false)
                })
            })
            .collect();
        asks.into_iter()
            .filter_map(|ask| ask.join().ok())
            .filter(|serves| *serves)
            .count()
    });
    let quorum = rest.len() / 2 + 1;
    (serving < quorum).then(|| {
        Step::Short(format!(
            "without server {id}, {serving} of the {} other voters serve, fewer than their \
             quorum of {quorum}",
            rest.len()
        ))
    })
}
