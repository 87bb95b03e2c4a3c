//! `zkpod diagnose`: why is this ensemble not healthy, in one command.
//!
//! Run in a pod, with the same flags and `ZK_*` variables as start-zookeeper, it looks at
//! this pod (names, myid, the configuration files, the data directory) and asks every member
//! at once (DNS, the three ports, `ruok`, `srvr`, `conf`, and `gtmk` for servers waiting with
//! an empty disk), each step within a deadline. `verdict` turns what it found into problems,
//! the most fundamental first, each with what to do; `output` prints a table or JSON.

#![forbid(unsafe_code)]

pub mod gather;
pub mod output;
pub mod verdict;

use std::time::Duration;

use clap::{Arg, ArgMatches};
use serde::Serialize;

use crate::cli::error::{Error, Result};
use crate::cli::values::{Origin, Value};
use crate::config::flags;
use crate::config::running::Running;
use crate::config::settings::Settings;

pub use gather::{Disagreement, MemberReport, Port, ThisPod};
pub use verdict::Problem;

/// Everything diagnose found, and what it makes of it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub this_pod: ThisPod,
    pub members: Vec<MemberReport>,
    pub healthy: bool,
    pub problems: Vec<Problem>,
}

pub fn command() -> clap::Command {
    flags::add_flags(clap::Command::new("zkpod diagnose"))
        .about("Tell why the ensemble is not healthy: this pod, every member, and a verdict.")
        .long_about(
            "Tell why the ensemble is not healthy. Run it in a pod (kubectl exec zk-0 -- zkpod \
             diagnose); it reads the same flags and ZK_* variables as start-zookeeper, and what \
             none of them says it reads from the server running in the pod, so it sees the \
             ensemble as the pod was started however the manifest passed its settings (flags \
             or variables given that disagree with the running server are a problem of their \
             own). It reports this pod (host name, domain, \
             myid expected and on disk, whether the configuration files are what \
             start-zookeeper would write now, the data directory), every member (its name and \
             addresses, whether the client, quorum and election ports accept connections, \
             ruok, mode, zxid and epoch, the membership it reports, latency), and a verdict: \
             healthy, or the problems found, most fundamental first, each with what to do. \
             Members are asked at once, every step within --timeout.",
        )
        .arg(
            Arg::new("format")
                .long("format")
                .value_name("FORMAT")
                .default_value("table")
                .help("table (for people) or json (for tools)"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECONDS")
                .default_value("1")
                .help("Seconds each network step may take (decimals allowed)."),
        )
        .after_help("Exit status: 0 healthy; 1 problems found; 2 bad flags or variables.")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let text = |name: &'static str| -> Result<Value<'_>> {
        let raw = matches
            .get_one::<String>(name)
            .ok_or_else(|| Error::usage(format!("--{name} has no value")))?;
        Value::new(Origin::Flag(name), std::ffi::OsStr::new(raw))
    };
    let format = match text("format")?.text.trim() {
        "table" => Format::Table,
        "json" => Format::Json,
        _ => return Err(text("format")?.bad("is not table or json")),
    };
    let timeout: Duration = text("timeout")?.seconds()?;
    let env = |name: &str| std::env::var_os(name);
    let running = Running::find();
    let settings = Settings::new(flags::parse(matches, &env, running.as_ref())?, &env)?;
    let (mut this_pod, members) = gather::gather(&settings, timeout)?;
    if let Some(running) = &running {
        this_pod.running_config = Some(running.zoo_cfg.display().to_string());
        this_pod.disagreements = flags::disagreements(matches, &env, running)
            .into_iter()
            .map(|(origin, given, theirs)| Disagreement {
                given_by: origin.to_string(),
                given,
                running: theirs,
            })
            .collect();
    }
    let problems = verdict::verdict(&this_pod, &members);
    let report = Report {
        healthy: problems.is_empty(),
        this_pod,
        members,
        problems,
    };
    let page = match format {
        Format::Table => output::table(&report),
        Format::Json => output::json(&report),
    };
    crate::cli::output::print(page)?;
    Ok(if report.healthy { 0 } else { 1 })
}
