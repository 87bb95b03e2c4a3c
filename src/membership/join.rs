//! `zkpod join`: make this pod's server a member of the ensemble. start-zookeeper runs it
//! beside the server in dynamic membership. It waits until the server has synced with the
//! ensemble (it serves, as a non-voting follower), then asks the ensemble to add it
//! (`reconfig -add`), again while another reconfiguration is in progress. It ends once the
//! server is a member, at once if it is one already.

use std::time::{Duration, Instant};

use clap::ArgMatches;

use crate::cli::error::{Error, Result};
use crate::cli::log;
use crate::config::flags;
use crate::config::identity::{HostNames, Identity, Member};
use crate::config::render::server_line;
use crate::config::running::Running;
use crate::config::secret::Secret;
use crate::config::settings::Settings;
use crate::tls::Tls;
use crate::zk::fourlw::Address;
use crate::zk::members::{self, Config, client_addresses};
use crate::zk::session::{self, Session, SessionError};

const POLL: Duration = Duration::from_secs(1);
const LOG_EVERY: Duration = Duration::from_secs(10);

pub fn command() -> clap::Command {
    flags::add_flags(clap::Command::new("zkpod join"))
        .about("Have the ensemble add this pod's server once it has synced (dynamic membership).")
        .long_about(
            "Have the ensemble add this pod's server (dynamic membership). start-zookeeper runs \
             it beside the server; it reads the same flags and ZK_* variables, and what none of \
             them says from the server running in the pod. It waits until \
             the server serves (synced with the ensemble as a non-voting follower), then asks \
             the ensemble to add it as a voter (an observer for observers), retrying while \
             another reconfiguration is in progress. It ends when the server is a member.",
        )
        .after_help(
            "Exit status: 0 the server is a member; 1 this pod has no place in the ensemble (a \
             host name without an ordinal, an ordinal past it); 2 bad flags or variables.",
        )
}

/// This pod's server in dynamic membership: the settings, itself, and the password.
pub struct Pod {
    pub settings: Settings,
    pub identity: Identity,
    pub me: Member,
    pub password: Secret,
    /// How to reach the servers (`--tls_dir`).
    pub tls: Tls,
}

impl Pod {
    /// From start-zookeeper's flags and variables, and inside a pod from the running server's
    /// configuration where neither says.
    pub fn from_flags(matches: &ArgMatches, command: &str) -> Result<Pod> {
        let env = |name: &str| std::env::var_os(name);
        let running = Running::find();
        let settings = Settings::new(flags::parse(matches, &env, running.as_ref())?, &env)?;
        log::set_level(settings.log_level);
        let Some(password) = settings.super_password.clone() else {
            return Err(Error::usage(format!(
                "{command} is for dynamic membership: set --membership=dynamic (ZK_MEMBERSHIP)"
            )));
        };
        let names = &settings.names;
        let identity = Identity::resolve(&settings.ensemble, || {
            HostNames::discover(names.hostname.as_deref(), names.domain.as_deref())
        })?;
        let me = identity
            .me
            .clone()
            .ok_or_else(|| Error::failed("this server has no myid"))?;
        let tls = settings.client_tls()?;
        Ok(Pod {
            settings,
            identity,
            me,
            password,
            tls,
        })
    }

    /// The local server, if it serves: the membership it knows.
    pub fn local_config(&self, timeout: Duration) -> Option<Config> {
        let local = Address {
            host: "127.0.0.1".into(),
            port: self.settings.ports.client,
            tls: self.tls.clone(),
        };
        members::serving_config(&local, timeout)
    }
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let pod = Pod::from_flags(matches, "zkpod join")?;
    let id = pod.me.id;
    let line = server_line(&pod.settings, &pod.me);
    let mut next_log = Instant::now() + LOG_EVERY;
    loop {
        let Some(config) = pod.local_config(Duration::from_secs(2)) else {
            if Instant::now() >= next_log {
                crate::info!("join: waiting for server {id} to sync with the ensemble");
                next_log = Instant::now() + LOG_EVERY;
            }
            std::thread::sleep(POLL);
            continue;
        };
        if config.get(id).is_some() {
            crate::info!(
                "server {id} is a member of the ensemble (version {:x})",
                config.version.unwrap_or_default()
            );
            return Ok(0);
        }
        let mut addresses = vec![format!("127.0.0.1:{}", pod.settings.ports.client)];
        addresses.extend(client_addresses(
            &config,
            Some(id),
            pod.settings.ports.client,
        ));
        let added = Session::open(
            &addresses,
            &pod.tls,
            pod.password.expose(),
            session::TIMEOUT,
        )
        .and_then(|mut session| session.reconfig(std::slice::from_ref(&line), &[]));
        match added {
            Ok(after) if after.get(id).is_some() => {
                crate::info!(
                    "server {id} joined the ensemble (version {:x}): {line}",
                    after.version.unwrap_or_default()
                );
                return Ok(0);
            }
            Ok(_) => {}
            Err(SessionError::Busy(why)) => crate::debug!("join: {why}; trying again"),
            Err(SessionError::Other(why)) => {
                if Instant::now() >= next_log {
                    crate::warn!("join: adding server {id} failed: {why}; trying again");
                    next_log = Instant::now() + LOG_EVERY;
                }
            }
        }
        std::thread::sleep(POLL);
    }
}
