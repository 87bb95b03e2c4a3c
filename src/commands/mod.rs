//! The command line: the table of commands, how one is picked, and the one place that turns a
//! command's result into output and an exit status.
//!
//! The name zkpod is called by picks the command (`start-zookeeper`, … through symlinks);
//! called as `zkpod`, the first argument does.

pub mod links;

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::Path;

use clap::ArgMatches;

use crate::cli::error::{self, Error, Result};
use crate::cli::{output, quote};
use crate::{diagnose, membership, pid1, probe, renew, start};

/// One command of zkpod.
pub struct Applet {
    /// What `zkpod NAME` runs.
    pub name: &'static str,
    /// The name it also answers to through a symlink.
    pub link: Option<&'static str>,
    pub about: &'static str,
    /// The command may be (or become) a container's PID 1. It blocks every signal first
    /// thing: there a signal without a handler is dropped, and a TERM that comes while it
    /// starts up must wait for it.
    pub pid1: bool,
    /// Its flags and arguments, for parsing and --help.
    pub command: fn() -> clap::Command,
    /// Run it; the exit status it ends with when it did not fail.
    pub run: fn(&ArgMatches) -> Result<u8>,
}

impl Applet {
    /// How messages name it: by its link name if it has one.
    pub fn display_name(&self) -> String {
        match self.link {
            Some(link) => link.to_owned(),
            None => format!("zkpod {}", self.name),
        }
    }
}

pub const APPLETS: &[Applet] = &[
    Applet {
        name: "start",
        link: Some("start-zookeeper"),
        about: "write ZooKeeper's configuration for this pod and run the server",
        pid1: true,
        command: start::command,
        run: start::run,
    },
    Applet {
        name: "ready",
        link: Some("zookeeper-ready"),
        about: "probe the server: alive (liveness), or --serving in a quorum (readiness)",
        pid1: false,
        command: probe::ready::command,
        run: probe::ready::run,
    },
    Applet {
        name: "metrics",
        link: Some("zookeeper-metrics"),
        about: "print the server's metrics (mntr) raw, as Prometheus text or JSON, or serve them",
        pid1: false,
        command: probe::metrics::command,
        run: probe::metrics::run,
    },
    Applet {
        name: "supervise",
        link: None,
        about: "run a command as a container's PID 1: forward signals, reap zombies, pass its status on",
        pid1: true,
        command: pid1::command,
        run: pid1::run,
    },
    Applet {
        name: "join",
        link: None,
        about: "have the ensemble add this pod's server once it has synced (dynamic membership; start-zookeeper runs it)",
        pid1: false,
        command: membership::join::command,
        run: membership::join::run,
    },
    Applet {
        name: "leave",
        link: None,
        about: "remove this pod's server from the ensemble (dynamic membership; the preStop hook)",
        pid1: false,
        command: membership::leave::command,
        run: membership::leave::run,
    },
    Applet {
        name: "renew",
        link: None,
        about: "take up a renewed certificate in --tls_dir while the server runs (start-zookeeper runs it)",
        pid1: false,
        command: renew::command,
        run: renew::run,
    },
    Applet {
        name: "diagnose",
        link: None,
        about: "tell why the ensemble is not healthy: this pod, every member, and a verdict",
        pid1: false,
        command: diagnose::command,
        run: diagnose::run,
    },
    Applet {
        name: "install-links",
        link: None,
        about: "create the start-zookeeper, zookeeper-ready and zookeeper-metrics symlinks in DIR",
        pid1: false,
        command: links::command,
        run: links::run,
    },
];

/// The applet whose link name zkpod is called by (the file name of argv[0]).
fn linked(arg0: Option<&OsStr>) -> Option<&'static Applet> {
    let called_as = arg0.and_then(|arg0| Path::new(arg0).file_name())?;
    APPLETS
        .iter()
        .find(|a| a.link.is_some_and(|l| called_as == l))
}

/// The applet `zkpod NAME` runs.
fn named(name: &OsStr) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| name == a.name)
}

/// Run zkpod with `args` (argv); the exit status.
pub fn main(args: Vec<OsString>) -> u8 {
    if let Some(applet) = linked(args.first().map(OsString::as_os_str)) {
        return run(applet, args);
    }
    // Called as zkpod (or any other name): the first argument is the command.
    let Some(first) = args.get(1) else {
        // No command at all: the list of them, as `zkpod --help` prints it.
        let _ = write!(std::io::stderr(), "{}", usage());
        return error::status::USAGE;
    };
    let result = match first.to_str() {
        Some("-h" | "--help" | "help") => output::print(usage()).map(|()| 0),
        Some("-V" | "--version") => {
            output::print(format!("zkpod {}\n", env!("CARGO_PKG_VERSION"))).map(|()| 0)
        }
        _ => match named(first) {
            Some(applet) => {
                // The command sees "zkpod <command>" as its name, then its own arguments.
                let mut rest = vec![OsString::from(format!("zkpod {}", applet.name))];
                rest.extend(args.into_iter().skip(2));
                return run(applet, rest);
            }
            None => {
                let names: Vec<&str> = APPLETS.iter().map(|a| a.name).collect();
                Err(Error::usage(format!(
                    "unknown command {} (the commands are: {})",
                    quote::quote(&first.to_string_lossy()),
                    names.join(", ")
                )))
            }
        },
    };
    finish("zkpod", result)
}

/// Parse `args` with the applet's definition, run it, report.
fn run(applet: &Applet, args: Vec<OsString>) -> u8 {
    // The others take signals as any program does, also when started by one that blocked
    // them (start-zookeeper starts `join` and `renew`, which end with it on a TERM).
    let signals = match applet.pid1 {
        true => pid1::signals::block(),
        false => pid1::signals::unblock(),
    };
    if let Err(err) = signals {
        return finish(&applet.display_name(), Err(err));
    }
    let result = parse(applet, args).and_then(|matches| match matches {
        Some(matches) => (applet.run)(&matches),
        None => Ok(0),
    });
    finish(&applet.display_name(), result)
}

/// The parsed arguments; None when --help or --version was printed instead.
fn parse(applet: &Applet, args: Vec<OsString>) -> Result<Option<ArgMatches>> {
    use clap::error::ErrorKind;
    let command = (applet.command)()
        .name(applet.display_name())
        .version(env!("CARGO_PKG_VERSION"));
    match command.try_get_matches_from(args) {
        Ok(matches) => Ok(Some(matches)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            output::print(err.render().to_string()).map(|()| None)
        }
        Err(err) => Err(Error::usage(one_line(&err.render().to_string()))),
    }
}

/// clap's message as one line: its first, with the indented lines that follow a first line
/// ending in `:` (the missing arguments' names), without usage or tips.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    if message.ends_with(':') {
        let named: Vec<&str> = lines
            .take_while(|line| line.starts_with(' '))
            .map(str::trim)
            .collect();
        message = format!("{} {}", message, named.join(", "));
    }
    message
}

/// The one place that reports: an error as one line `NAME: message` on stderr.
fn finish(name: &str, result: Result<u8>) -> u8 {
    match result {
        Ok(status) => status,
        Err(Error::BrokenPipe) => Error::BrokenPipe.code(),
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "{name}: {err}");
            err.code()
        }
    }
}

fn usage() -> String {
    let mut out = String::from(
        "zkpod: run ZooKeeper in a Kubernetes pod\n\n\
         Usage: zkpod <COMMAND> [ARGS...]\n       \
         start-zookeeper | zookeeper-ready | zookeeper-metrics [ARGS...]  (through symlinks)\n\n\
         Commands:\n",
    );
    for applet in APPLETS {
        let also = applet
            .link
            .map(|link| format!(" (also: {link})"))
            .unwrap_or_default();
        out.push_str(&format!("  {:<14} {}{also}\n", applet.name, applet.about));
    }
    out.push_str(
        "\n`zkpod <COMMAND> --help` describes each command.\n\n\
         Exit status: 0 success; 1 the command failed (the server is unhealthy, a refusal at \
         run time); 2 bad arguments or environment; 126/127 a command to run is not \
         executable / not found; 141 stdout was closed early. supervise and start-zookeeper \
         exit with their child's status.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_applet_has_a_valid_definition() {
        for applet in APPLETS {
            (applet.command)()
                .name(applet.display_name())
                .debug_assert();
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in APPLETS.iter().enumerate() {
            for b in &APPLETS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(a.link.is_none() || a.link != b.link);
            }
        }
    }

    #[test]
    fn links_pick_their_command_and_errors_get_their_status() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(main(args(&["/x/zookeeper-ready", "--bogus"])), 2);
        assert_eq!(main(args(&["zkpod", "frobnicate"])), 2);
        assert_eq!(main(args(&["zkpod"])), 2);
        assert_eq!(main(args(&["zkpod", "ready", "--timeout", "soon"])), 2);
    }

    #[test]
    fn a_missing_argument_is_named_on_the_one_line() {
        for (name, missing) in [("supervise", "<COMMAND>"), ("install-links", "<DIR>")] {
            let applet = APPLETS.iter().find(|a| a.name == name).unwrap();
            let err = parse(applet, vec![OsString::from(name)])
                .unwrap_err()
                .to_string();
            assert!(!err.contains('\n'), "{name}: {err}");
            assert!(err.contains(missing), "{name}: {err}");
        }
    }
}
