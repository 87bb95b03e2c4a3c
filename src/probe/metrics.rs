//! `zookeeper-metrics`: the server's `mntr`, as it is (like the original script), as
//! Prometheus metrics, or as JSON; printed once or served over HTTP for Prometheus to scrape.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::net::TcpListener;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, ValueEnum};

use super::http::{self, Response};
use super::{json, prometheus};
use crate::cli::error::{Error, Result};
use crate::cli::output;
use crate::cli::values::{Origin, Value};
use crate::zk::fourlw::{self, Address, Failure};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// mntr exactly as the server sends it
    Raw,
    /// the Prometheus text format, with zk_up
    Prometheus,
    /// one JSON object
    Json,
}

#[derive(Parser, Debug)]
#[command(
    about = "Print a ZooKeeper server's metrics (mntr), or serve them to Prometheus.",
    long_about = "Print a ZooKeeper server's metrics (the mntr four-letter word): raw as the \
server sends them, in the Prometheus text format, or as JSON. With --listen, serve them on \
/metrics over HTTP for Prometheus to scrape; every scrape asks the server anew.",
    after_help = "Exit status: 0 printed; 1 the server cannot be asked (refused, timed out, mntr \
not whitelisted, not serving), with one line on stderr saying what to do (the Prometheus format \
still prints a valid page, with zk_up 0), or --listen cannot listen; 2 bad arguments.\n\n\
Example: kubectl exec zk-0 -- zookeeper-metrics --format prometheus"
)]
struct MetricsArgs {
    /// The server's address.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: OsString,

    /// Seconds the server may take to answer, decimals allowed.
    #[arg(long, value_name = "SECONDS", default_value = "2")]
    timeout: OsString,

    /// How to print the metrics.
    #[arg(long, value_enum, default_value = "raw")]
    format: Format,

    /// Serve Prometheus metrics on http://ADDR:PORT/metrics instead of printing once
    /// (e.g. 0.0.0.0:9141). Other paths answer 404.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<OsString>,

    /// Connect with TLS, with the certificate in this directory (tls.crt, tls.key, ca.crt),
    /// as start-zookeeper's --tls_dir. [default: $ZK_TLS_DIR, else, inside a pod, the
    /// directory the pod's server runs with, else plaintext]
    #[arg(long = "tls_dir", value_name = "DIR")]
    tls_dir: Option<OsString>,

    /// The client port. [default: $ZK_CLIENT_PORT, else, inside a pod, the port the pod's
    /// server runs with, else 2181]
    #[arg(value_name = "PORT")]
    port: Option<OsString>,
}

pub fn command() -> clap::Command {
    MetricsArgs::command()
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let args =
        MetricsArgs::from_arg_matches(matches).map_err(|err| Error::usage(err.to_string()))?;
    let (server, timeout) = super::target(
        &args.host,
        args.port.as_deref(),
        &args.timeout,
        args.tls_dir.as_deref(),
    )?;
    match &args.listen {
        Some(addr) => {
            let addr = Value::new(Origin::Flag("listen"), addr)?;
            listen(addr, &server, timeout)
        }
        None => print_once(args.format, &server, timeout),
    }
}

fn print_once(format: Format, server: &Address, timeout: Duration) -> Result<u8> {
    let answer = fourlw::ask_bytes(server, "mntr", timeout);
    match (&answer, format) {
        (Ok(raw), Format::Raw) => output::print(raw)?,
        (Ok(raw), Format::Json) => output::print(json::object(&fourlw::text(raw)))?,
        (_, Format::Prometheus) => output::print(prometheus_page(&answer))?,
        (Err(_), _) => {}
    }
    match answer {
        Ok(_) => Ok(0),
        Err(err) => Err(Error::failed(format!("{server}: {}", advice(&err)))),
    }
}

fn prometheus_page(answer: &std::result::Result<Vec<u8>, Failure>) -> String {
    match answer {
        Ok(raw) => prometheus::page(&fourlw::text(raw), true),
        Err(_) => prometheus::page("", false),
    }
}

/// The failure, with what to do about it where zkpod knows.
fn advice(err: &Failure) -> String {
    match err {
        Failure::NotServing => format!("{err}; mntr answers again once the quorum is back"),
        _ => err.to_string(),
    }
}

fn listen(addr: Value, server: &Address, timeout: Duration) -> Result<u8> {
    // A malformed address is a bad argument; one that cannot be bound (in use, not on this
    // host) is a refusal at run time.
    let addrs: Vec<std::net::SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(addr.text)
        .map_err(|_| addr.bad("is not ADDR:PORT (e.g. 0.0.0.0:9141)"))?
        .collect();
    let listener = TcpListener::bind(&addrs[..])
        .map_err(|err| Error::failed(format!("--listen {}: {err}", addr.text)))?;
    // As PID 1 of a sidecar container, TERM and INT would be ignored without a handler.
    // A thread waits for them and ends the process: a scrape half answered is no loss.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])
    .map_err(|err| Error::failed(format!("cannot handle TERM and INT: {err}")))?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            std::process::exit(0);
        }
    });
    crate::info!("serving {server}'s metrics on http://{}/metrics", addr.text);
    http::serve(&listener, |method, path| match (method, path) {
        ("GET", "/metrics") => {
            let answer = fourlw::ask_bytes(server, "mntr", timeout);
            if let Err(err) = &answer {
                crate::warn!("{server}: {}", advice(err));
            }
            Response {
                status: "200 OK",
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: prometheus_page(&answer),
            }
        }
        ("GET", _) => Response::text("404 Not Found", "only /metrics is here\n"),
        _ => Response::text("405 Method Not Allowed", "GET /metrics\n"),
    })
}
