//! Asking a running server with four-letter words (`crate::zk::fourlw`): the
//! probe (`zookeeper-ready`) and the metrics (`zookeeper-metrics`: `mntr` read, rendered for
//! Prometheus or as JSON, and served over HTTP).

pub mod http;
pub mod json;
pub mod metrics;
#[allow(unsafe_code)]
pub mod mntr;
#[allow(unsafe_code)]
mod pieces;
#[allow(unsafe_code)]
pub mod prometheus;
pub mod ready;
#[allow(unsafe_code)]
mod seen;

use std::ffi::OsStr;
use std::time::Duration;

use crate::cli::error::Result;
use crate::cli::values::{Origin, Value};
use crate::zk::fourlw::Address;

/// The server and the time allowed, as both commands take them: `--host`, PORT (else
/// `ZK_CLIENT_PORT`, else 2181) and `--timeout` in seconds.
pub fn target(host: &OsStr, port: Option<&OsStr>, timeout: &OsStr) -> Result<(Address, Duration)> {
    // The variable is read only when PORT is not given: then it is the port.
    let env_port = match port {
        Some(_) => None,
        None => std::env::var_os("ZK_CLIENT_PORT").filter(|port| !port.is_empty()),
    };
    let server = Address::from_args(
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
