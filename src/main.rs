//! zkpod: one binary for the commands of a ZooKeeper container on Kubernetes.
//!
//! The name it is called by picks the command (`start-zookeeper`, ... through symlinks);
//! called as `zkpod`, the first argument does. Every command is a module with one `main`.

mod files;
mod fourlw;
mod http;
mod identity;
mod launch;
mod links;
mod logging;
mod metrics;
mod mntr;
mod privilege;
mod quote;
mod ready;
mod render;
mod settings;
mod start;
mod supervise;
mod usage;

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::ExitCode;

/// The commands, by the name a symlink gives them and the name `zkpod` takes.
const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "start-zookeeper",
        "start",
        "write ZooKeeper's configuration for this pod and run the server",
    ),
    (
        "zookeeper-ready",
        "ready",
        "probe the server: alive (liveness), or --serving in a quorum (readiness)",
    ),
    (
        "zookeeper-metrics",
        "metrics",
        "print the server's metrics (mntr) raw, as Prometheus text or JSON, or serve them",
    ),
    (
        "",
        "supervise",
        "run a command as a container's PID 1: forward signals, reap zombies, pass its status on",
    ),
    (
        "",
        "install-links",
        "create the start-zookeeper, zookeeper-ready and zookeeper-metrics symlinks in DIR",
    ),
];

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.is_empty() {
        args.push(OsString::from("zkpod"));
    }
    let called_as = Path::new(&args[0])
        .file_name()
        .unwrap_or(OsStr::new("zkpod"))
        .to_owned();

    if let Some(command) = command_by_link_name(&called_as) {
        return run(command, args);
    }
    // Called as zkpod (or any other name): the first argument is the command.
    let Some(first) = args.get(1).cloned() else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    match first.to_str() {
        Some("-h" | "--help" | "help") => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("zkpod {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(name) if COMMANDS.iter().any(|(_, command, _)| *command == name) => {
            // The command sees "zkpod <command>" as its name, then its own arguments.
            let mut rest = vec![OsString::from(format!("zkpod {name}"))];
            rest.extend(args.into_iter().skip(2));
            run(name, rest)
        }
        _ => {
            let names: Vec<&str> = COMMANDS.iter().map(|(_, name, _)| *name).collect();
            let problem = format!(
                "unknown command {} (the commands are: {})",
                quote::quote(&first.to_string_lossy()),
                names.join(", ")
            );
            usage::bad("zkpod", problem)
        }
    }
}

/// The command a symlink name stands for, e.g. `start-zookeeper` → `start`.
fn command_by_link_name(called_as: &OsStr) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(link, _, _)| !link.is_empty() && OsStr::new(link) == called_as)
        .map(|(_, name, _)| *name)
}

fn run(command: &str, args: Vec<OsString>) -> ExitCode {
    match command {
        "start" => start::main(args),
        "ready" => ready::main(args),
        "metrics" => metrics::main(args),
        "supervise" => supervise::main(args),
        "install-links" => links::main(args),
        _ => unreachable!("every command in COMMANDS is dispatched"),
    }
}

fn usage() -> String {
    let mut out = String::from(
        "zkpod: run ZooKeeper in a Kubernetes pod\n\n\
         Usage: zkpod <COMMAND> [ARGS...]\n       \
         start-zookeeper | zookeeper-ready | zookeeper-metrics [ARGS...]  (through symlinks)\n\n\
         Commands:\n",
    );
    for (link, name, about) in COMMANDS {
        let also = if link.is_empty() {
            String::new()
        } else {
            format!(" (also: {link})")
        };
        out.push_str(&format!("  {name:<14} {about}{also}\n"));
    }
    out.push_str("\n`zkpod <COMMAND> --help` describes each command.\n");
    out
}
