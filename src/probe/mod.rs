//! Asking a running server: the four-letter-word client, and the commands built on it, the
//! probe (`zookeeper-ready`) and the metrics (`zookeeper-metrics`: `mntr` read, rendered for
//! Prometheus or as JSON, and served over HTTP).

pub mod fourlw;
pub mod http;
pub mod json;
pub mod metrics;
pub mod mntr;
pub mod prometheus;
pub mod ready;

use std::ffi::OsStr;
use std::time::Duration;

use crate::cli::error::Result;
use crate::cli::values::{Origin, Value};
use fourlw::Server;

/// The server and the time allowed, as both commands take them: `--host`, PORT (else
/// `ZK_CLIENT_PORT`, else 2181) and `--timeout` in seconds.
pub fn target(host: &OsStr, port: Option<&OsStr>, timeout: &OsStr) -> Result<(Server, Duration)> {
    // The variable is read only when PORT is not given: then it is the port.
    let env_port = match port {
        Some(_) => None,
        None => std::env::var_os("ZK_CLIENT_PORT").filter(|port| !port.is_empty()),
    };
    let server = Server::from_args(
        Value::new(Origin::Flag("host"), host)?,
        port.map(|port| Value::new(Origin::Arg("PORT"), port))
            .transpose()?,
        env_port
            .as_deref()
            .map(|port| Value::new(Origin::Env("ZK_CLIENT_PORT"), port))
            .transpose()?,
    )?;
    let timeout = Value::new(Origin::Flag("timeout"), timeout)?.seconds()?;
    Ok((server, timeout))
}
