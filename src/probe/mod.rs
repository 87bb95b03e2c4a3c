//! Asking a running server with four-letter words (`crate::zk::fourlw`): the
//! probe (`zookeeper-ready`) and the metrics (`zookeeper-metrics`: `mntr` read, rendered for
//! Prometheus or as JSON, and served over HTTP).

#![forbid(unsafe_code)]

pub mod http;
pub mod json;
pub mod metrics;
pub mod mntr;
pub mod prometheus;
pub mod ready;

use std::ffi::OsStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::cli::error::Result;
use crate::cli::values::{Origin, Value};
use crate::config::running::Running;
use crate::zk::fourlw::Address;

/// The server and the time allowed, as both commands take them: `--host`, PORT (else
/// `ZK_CLIENT_PORT`, else, for this pod's own server, the port it runs with, else 2181) and
/// `--timeout` in seconds.
pub fn target(host: &OsStr, port: Option<&OsStr>, timeout: &OsStr) -> Result<(Address, Duration)> {
    // The variable is read only when PORT is not given: then it is the port.
    let env_port = match port {
        Some(_) => None,
        None => std::env::var_os("ZK_CLIENT_PORT").filter(|port| !port.is_empty()),
    };
    let host = Value::new(Origin::Flag("host"), host)?;
    let local = matches!(host.text, "127.0.0.1" | "localhost" | "::1");
    let running_port = match (port, &env_port) {
        (None, None) if local => running().and_then(|r| r.var("ZK_CLIENT_PORT")),
        _ => None,
    };
    let server = Address::from_args(
        host,
        port.map(|port| Value::new(Origin::Arg("PORT"), port))
            .transpose()?,
        match (&env_port, running_port) {
            (Some(port), _) => Some(Value::new(Origin::Env("ZK_CLIENT_PORT"), port)?),
            (None, Some(port)) => Some(Value {
                origin: Origin::Running("ZK_CLIENT_PORT"),
                text: port,
            }),
            (None, None) => None,
        },
    )?;
    let timeout = Value::new(Origin::Flag("timeout"), timeout)?.seconds()?;
    Ok((server, timeout))
}

/// The server running in this pod, if the probes run inside one (`config::running`), read
/// once.
pub fn running() -> Option<&'static Running> {
    static RUNNING: OnceLock<Option<Running>> = OnceLock::new();
    RUNNING.get_or_init(Running::find).as_ref()
}
