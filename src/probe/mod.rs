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

use std::path::Path;

use crate::cli::error::{Error, Result};
use crate::cli::values::{Origin, Value};
use crate::config::running::Running;
use crate::tls::{self, Tls};
use crate::zk::fourlw::Address;

/// The server and the time allowed, as both commands take them: `--host`, PORT (else
/// `ZK_CLIENT_PORT`, else, for this pod's own server, the port it runs with, else 2181) and
/// `--timeout` in seconds.
/// `--tls_dir` (else `ZK_TLS_DIR`, else the pod's server's) says whether to connect with TLS.
pub fn target(
    host: &OsStr,
    port: Option<&OsStr>,
    timeout: &OsStr,
    tls_dir: Option<&OsStr>,
) -> Result<(Address, Duration)> {
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
    let tls_dir = tls_dir
        .map(|dir| (Origin::Flag("tls_dir"), dir.to_owned()))
        .or_else(|| {
            std::env::var_os(tls::DIR_VAR)
                .filter(|dir| !dir.is_empty())
                .map(|dir| (Origin::Env(tls::DIR_VAR), dir))
        })
        .or_else(|| {
            let dir = running()?.var(tls::DIR_VAR)?;
            Some((Origin::Running(tls::DIR_VAR), dir.into()))
        });
    let tls = match tls_dir {
        None => Tls::none(),
        Some((origin, dir)) => {
            let stores = running().and_then(|r| r.tls_stores.as_ref());
            let stores = stores.map(|(keys, trust)| (keys.as_path(), trust.as_path()));
            Tls::installed_or_dir(stores, Path::new(&dir))
                .map_err(|why| Error::usage(format!("{origin}: {why}")))?
        }
    };
    let mut server = Address::from_args(
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
    server.tls = tls;
    let timeout = Value::new(Origin::Flag("timeout"), timeout)?.seconds()?;
    Ok((server, timeout))
}

/// The server running in this pod, if the probes run inside one (`config::running`), read
/// once.
pub fn running() -> Option<&'static Running> {
    static RUNNING: OnceLock<Option<Running>> = OnceLock::new();
    RUNNING.get_or_init(Running::find).as_ref()
}
