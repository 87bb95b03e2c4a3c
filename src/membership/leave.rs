//! `zkpod leave`: take this pod's server out of the ensemble (`reconfig -remove`), for the
//! pod's preStop hook. It returns once the removal is committed, or fails within its
//! deadline. It refuses (status 0, so that the pod still stops) to remove the last voter, or
//! to leave fewer serving voters than a quorum of the voters that remain.

use std::time::{Duration, Instant};

use clap::{Arg, ArgMatches};

use super::client::{Failure, Session};
use super::join::Pod;
use super::{Config, Role};
use crate::cli::error::{Error, Result};
use crate::cli::values::{Origin, Value};
use crate::probe::fourlw::{self, Server};
use crate::start::dynamic::{client_addresses, ensemble_config};
use crate::start::flags;

const ASK_TIMEOUT: Duration = Duration::from_millis(800);

pub fn command() -> clap::Command {
    flags::add_flags(clap::Command::new("zkpod leave"))
        .about("Remove this pod's server from the ensemble (dynamic membership; the preStop hook).")
        .long_about(
            "Remove this pod's server from the ensemble (dynamic membership), for the pod's \
             preStop hook; it reads the same flags and ZK_* variables as start-zookeeper. It \
             returns once the ensemble has committed the removal. It refuses, with a message \
             and status 0, to remove the last voter, or a voter whose removal would leave \
             fewer serving voters than a quorum of the rest.",
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECONDS")
                .default_value("60")
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
    let timeout = matches
        .get_one::<String>("timeout")
        .map(|text| Value::new(Origin::Flag("timeout"), std::ffi::OsStr::new(text)))
        .transpose()?
        .map(|value| value.seconds())
        .transpose()?
        .unwrap_or(Duration::from_secs(60));
    let deadline = Instant::now() + timeout;
    let pod = Pod::from_flags(matches, "zkpod leave")?;
    let id = pod.me.id;
    let port = pod.settings.ports.client;
    let config = pod
        .local_config(ASK_TIMEOUT)
        .or_else(|| ensemble_config(&pod.identity.others, port))
        .ok_or_else(|| {
            Error::failed(format!(
                "cannot leave: no member of the ensemble serves (asked this server and {} \
                 others)",
                pod.identity.others.len()
            ))
        })?;
    let addresses = client_addresses(&config, Some(id), port);
    let mut last = String::from("no attempt");
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let attempt = Session::open(&addresses, &pod.password, left).and_then(|session| {
            // The membership now: others may be leaving at the same time.
            let config = session.config()?;
            let Some(me) = config.get(id) else {
                return Ok(Step::NotMember);
            };
            if me.role() == Role::Participant
                && let Some(refusal) = unsafe_to_remove(&config, id, port)
            {
                return Ok(Step::Refused(refusal));
            }
            session.reconfig(&[], &[id]).map(Step::Removed)
        });
        match attempt {
            Ok(Step::NotMember) => {
                crate::info!("server {id} is not a member of the ensemble: nothing to do");
                return Ok(0);
            }
            Ok(Step::Refused(why)) => {
                crate::warn!("not leaving: {why}");
                return Ok(0);
            }
            Ok(Step::Removed(after)) if after.get(id).is_none() => {
                crate::info!(
                    "server {id} left the ensemble (version {:x})",
                    after.version.unwrap_or_default()
                );
                return Ok(0);
            }
            Ok(Step::Removed(_)) => last = "the committed membership still lists it".into(),
            Err(Failure::Busy(why) | Failure::Other(why)) => last = why,
        }
        std::thread::sleep(Duration::from_millis(500).min(left));
    }
    Err(Error::failed(format!(
        "server {id} did not leave within {}s: {last}",
        timeout.as_secs_f64()
    )))
}

/// What one attempt came to.
enum Step {
    NotMember,
    Refused(String),
    Removed(Config),
}

/// Why removing voter `id` is unsafe now, if it is.
fn unsafe_to_remove(config: &Config, id: u32, port: u16) -> Option<String> {
    let rest: Vec<_> = config.voters().filter(|s| s.id != id).collect();
    if rest.is_empty() {
        return Some(format!("server {id} is the last voter"));
    }
    let serving = std::thread::scope(|scope| {
        let asks: Vec<_> = rest
            .iter()
            .map(|server| {
                scope.spawn(move || {
                    let target = Server {
                        host: server.host().to_owned(),
                        port: server.client_port().unwrap_or(port),
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
        format!(
            "without server {id}, {serving} of the {} other voters serve, fewer than their \
             quorum of {quorum}",
            rest.len()
        )
    })
}
