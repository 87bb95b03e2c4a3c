//! A ZooKeeper session as the super user, for reading the membership and changing it; every
//! call within a deadline. Built on the zookeeper-client crate (the one Rust client that
//! speaks reconfiguration), driven by a single-threaded runtime: zkpod's callers wait for
//! each answer anyway.

#![forbid(unsafe_code)]

use std::time::Duration;

use zookeeper_client as zk;

use super::members::Config;

/// How long a session with the ensemble may take to open, and each call on it, where the
/// caller has no deadline of its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// ZooKeeper's error codes that the crate passes on as numbers.
const RECONFIG_IN_PROGRESS: i32 = -14;
const NEW_CONFIG_NO_QUORUM: i32 = -13;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// Another reconfiguration is under way, or the new one found no quorum yet: try again.
    Busy(String),
    /// Anything else (unreachable, timed out, refused): the message.
    Other(String),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Busy(why) | SessionError::Other(why) => f.write_str(why),
        }
    }
}

fn session_error(err: zk::Error) -> SessionError {
    match err {
        zk::Error::UnexpectedErrorCode(RECONFIG_IN_PROGRESS) => {
            SessionError::Busy("another reconfiguration is in progress".into())
        }
        zk::Error::UnexpectedErrorCode(NEW_CONFIG_NO_QUORUM) => {
            SessionError::Busy("the new configuration has no quorum of synced servers yet".into())
        }
        zk::Error::Timeout => SessionError::Other("timed out".into()),
        zk::Error::NoAuth | zk::Error::AuthFailed => SessionError::Other(
            "the super user's password was refused (it must match the servers')".into(),
        ),
        zk::Error::ReconfigDisabled => SessionError::Other(
            "reconfiguration is disabled on the server (reconfigEnabled)".into(),
        ),
        other => SessionError::Other(other.to_string()),
    }
}

/// A session with the ensemble.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: zk::Client,
    timeout: Duration,
}

impl Session {
    /// Connect to one of `servers` (`host:port`) and authenticate as the super user, within
    /// `timeout`.
    pub fn open(
        servers: &[String],
        password: &str,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|err| SessionError::Other(format!("starting the client: {err}")))?;
        let auth = format!("super:{password}");
        let connector = zk::Client::connector()
            .with_session_timeout(timeout.max(Duration::from_secs(2)))
            .with_connection_timeout(timeout)
            .with_auth("digest", auth.as_bytes());
        let cluster = servers.join(",");
        let client = runtime
            .block_on(async {
                tokio::time::timeout(timeout, connector.connect(&cluster))
                    .await
                    .unwrap_or(Err(zk::Error::Timeout))
            })
            .map_err(|err| {
                SessionError::Other(format!("connecting to {cluster}: {}", session_error(err)))
            })?;
        Ok(Session {
            runtime,
            client,
            timeout,
        })
    }

    fn call<T>(
        &self,
        request: impl std::future::Future<Output = Result<T, zk::Error>>,
    ) -> Result<T, SessionError> {
        self.runtime
            .block_on(async {
                tokio::time::timeout(self.timeout, request)
                    .await
                    .unwrap_or(Err(zk::Error::Timeout))
            })
            .map_err(session_error)
    }

    /// The ensemble's membership, as the server this session is on knows it.
    pub fn config(&self) -> Result<Config, SessionError> {
        let (data, _) = self.call(self.client.get_config())?;
        Ok(Config::parse(&String::from_utf8_lossy(&data)))
    }

    /// Add `joining` (`server.N=…` lines) and remove `leaving` (ids); the new membership once
    /// it is committed.
    pub fn reconfig(&self, joining: &[String], leaving: &[u32]) -> Result<Config, SessionError> {
        let leaving: Vec<String> = leaving.iter().map(u32::to_string).collect();
        let joinings: Vec<&str> = joining.iter().map(String::as_str).collect();
        let leavings: Vec<&str> = leaving.iter().map(String::as_str).collect();
        let update = zk::EnsembleUpdate::Incremental {
            joinings: joinings.iter().copied(),
            leavings: leavings.iter().copied(),
        };
        let (data, _) = self.call(self.client.update_ensemble(update, None))?;
        Ok(Config::parse(&String::from_utf8_lossy(&data)))
    }
}
