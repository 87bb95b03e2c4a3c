//! start-zookeeper in dynamic membership: which members this server starts with.
//!
//! - A member that holds history starts with the newest membership ZooKeeper committed on its
//!   data volume (`zoo.cfg.dynamic.<version>`), whatever `--servers` says now: a stale one is
//!   corrected by its peers as it syncs.
//! - Otherwise it asks the other pods (`conf`, all at once). If the ensemble serves, this
//!   server starts with the ensemble's members plus itself, syncs as a non-voting follower,
//!   and `zkpod join` then asks the ensemble to add it. An empty server that the ensemble
//!   still lists as a member (its disk was lost) is first removed through the others, so that
//!   it never votes with an empty state.
//! - If nobody serves, the first ensemble (`--servers`) forms as in static membership, with
//!   the same wait for an empty voter (`empty_disk`). A pod past the first ensemble, or one
//!   removed earlier (the membership it last saw committed leaves it out), waits until the
//!   ensemble serves: the others may hold writes it lacks.

use std::time::{Duration, Instant};

use crate::cli::error::{Error, Result};
use crate::config::identity::{Identity, Member};
use crate::config::render::{Servers, server_line};
use crate::config::settings::Settings;
use crate::empty_disk::{self, Waited};
use crate::pid1::signals::Signals;
use crate::tls::Tls;
use crate::zk::members::{self, Config, client_addresses};
use crate::zk::session::{self, Session, SessionError};
/// Between rounds of asking.
const POLL: Duration = Duration::from_secs(1);
const LOG_EVERY: Duration = Duration::from_secs(5);

/// What start-zookeeper does next.
#[derive(Debug)]
pub enum Decision {
    Start(Servers),
    /// A TERM or INT came while waiting: exit with this status, the server never started.
    Stop(u8),
}

/// Decide. With `ask` false (a dry run), only the data volume is read.
/// `tls`: how to reach the others.
pub fn decide(settings: &Settings, identity: &Identity, ask: bool, tls: &Tls) -> Result<Decision> {
    let me = identity
        .me
        .clone()
        .ok_or_else(|| Error::failed("dynamic membership needs a myid for this server"))?;
    let dirs = &settings.dirs;
    let history = empty_disk::has_history(&[&dirs.data, &dirs.data_log])?;
    let committed = members::committed(&dirs.data)?;
    if history
        && let Some((path, config)) = &committed
        && config.get(me.id).is_some()
    {
        let path = path.clone();
        crate::info!(
            "starting with the membership the ensemble committed (version {:x}), from {}",
            config.version.unwrap_or_default(),
            path.display()
        );
        return Ok(Decision::Start(Servers::Committed(path)));
    }
    if !ask {
        return Ok(Decision::Start(Servers::Flags));
    }
    let port = settings.ports.client;
    let signals = Signals::open()?;
    loop {
        // Alive while it waits (the liveness probe passes), not ready: one listener answers
        // all the while, also while the others are asked and may take their whole timeout.
        let next = empty_disk::answering(port, tls, || {
            wait(
                settings,
                identity,
                &me,
                history,
                committed.as_ref(),
                &signals,
                tls,
            )
        })?;
        let voters: Vec<Member> = match next {
            Next::Decided(decision) => return Ok(decision),
            Next::FirstEnsemble(voters) => voters,
        };
        // As in static membership, the operator's word that the others hold nothing worth
        // keeping: the first ensemble forms without the wait.
        if settings.launch.unsafe_start_empty {
            crate::warn!("{}", empty_disk::UNGUARDED);
            return Ok(Decision::Start(Servers::Flags));
        }
        // The first ensemble forms as in static membership; empty_disk answers on the port
        // meanwhile.
        match empty_disk::wait(me.id, &voters, port, tls)? {
            Waited::Stopped(status) => return Ok(Decision::Stop(status)),
            Waited::New => return Ok(Decision::Start(Servers::Flags)),
            // Ask again for the members.
            Waited::Join => continue,
        }
    }
}

/// What a round of waiting came to.
enum Next {
    Decided(Decision),
    /// Nobody serves and this server is one of the first ensemble, with these other members
    /// (observers too: the wait skips them).
    FirstEnsemble(Vec<Member>),
}

/// Ask the others every `POLL` until they say which members this server starts with, or
/// until it is up to the first ensemble to form.
fn wait(
    settings: &Settings,
    identity: &Identity,
    me: &Member,
    history: bool,
    committed: Option<&(std::path::PathBuf, Config)>,
    signals: &Signals,
    tls: &Tls,
) -> Result<Next> {
    let founder = identity.members.iter().any(|m| m.id == me.id);
    let port = settings.ports.client;
    let mut next_log = Instant::now();
    loop {
        if let Some(config) =
            members::ensemble_config(identity.others.iter().map(|m| m.host.as_str()), port, tls)
        {
            match config.get(me.id) {
                None => {
                    crate::info!(
                        "the ensemble serves without this server: starting as a new member, \
                         to sync first and then be added (version {:x})",
                        config.version.unwrap_or_default()
                    );
                    let lines = with_me(config, settings, me);
                    return Ok(Next::Decided(Decision::Start(Servers::Lines(lines))));
                }
                Some(_) if history => {
                    crate::info!("the ensemble lists this server: starting with its members");
                    return Ok(Next::Decided(Decision::Start(Servers::Lines(config))));
                }
                Some(_) => {
                    crate::warn!(
                        "the data directory is empty but the ensemble lists this server \
                         ({}): removing it first, so that it never votes with an empty state, \
                         then joining as a new member",
                        me.id
                    );
                    if let Err(err) = remove(&config, me.id, settings, tls) {
                        crate::warn!("removing server {} failed ({err}); trying again", me.id);
                    }
                    if let Some(status) = empty_disk::pause(signals, POLL) {
                        return Ok(Next::Decided(Decision::Stop(status)));
                    }
                    continue;
                }
            }
        }
        if let Some((_, config)) = committed {
            // Removed earlier (zkpod leave): the others may have written since, so this server
            // must not form a quorum with the first ensemble's members; it joins again.
            if Instant::now() >= next_log {
                crate::warn!(
                    "waiting: server {} is not in the membership committed last (version {:x}); \
                     it joins again once a member serves",
                    me.id,
                    config.version.unwrap_or_default()
                );
                next_log = Instant::now() + LOG_EVERY;
            }
        } else if founder {
            if history {
                crate::info!("no member serves: starting with the first ensemble's members");
                return Ok(Next::Decided(Decision::Start(Servers::Flags)));
            }
            let voters = identity.members.iter().filter(|m| m.id != me.id);
            return Ok(Next::FirstEnsemble(voters.cloned().collect()));
        } else if Instant::now() >= next_log {
            crate::warn!(
                "waiting: server {} is not in the first ensemble and no member serves yet",
                me.id
            );
            next_log = Instant::now() + LOG_EVERY;
        }
        if let Some(status) = empty_disk::pause(signals, POLL) {
            return Ok(Next::Decided(Decision::Stop(status)));
        }
    }
}

/// `config` with this server added as a participant (or observer).
fn with_me(mut config: Config, settings: &Settings, me: &Member) -> Config {
    let line = server_line(settings, me);
    config.servers.extend(Config::parse(&line).servers);
    config
}

/// Remove server `id` through the members of `config`.
fn remove(
    config: &Config,
    id: u32,
    settings: &Settings,
    tls: &Tls,
) -> std::result::Result<(), SessionError> {
    let password = settings
        .super_password
        .as_ref()
        .ok_or_else(|| SessionError::Other("no super user password".into()))?;
    let addresses = client_addresses(config, Some(id), settings.ports.client);
    let mut session = Session::open(&addresses, tls, password.expose(), session::TIMEOUT)?;
    let after = session.reconfig(&[], &[id])?;
    crate::info!(
        "server {id} removed (version {:x})",
        after.version.unwrap_or_default()
    );
    Ok(())
}
