//! The container's PID 1: start one child, pass it every signal, reap every zombie, and exit
//! the way the child did. `zkpod supervise` is this as a command; start-zookeeper becomes it
//! once the configuration is written.

pub mod credentials;
pub mod signals;
pub mod spawn;

use std::ffi::OsString;
use std::time::Instant;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::cli::error::Result;
use crate::cli::values::{Origin, Value};
use credentials::Credentials;
use signals::Signals;
pub use spawn::Child;

pub fn command() -> Command {
    Command::new("supervise")
        .about(
            "Run COMMAND as a container's PID 1 would: pass it every signal, reap every \
             zombie, exit with its status (128 + N if signal N killed it).",
        )
        .after_help(
            "Exit status: COMMAND's own, or 128 + N when signal N killed it; 127 COMMAND not \
             found; 126 not executable; 1 the user could not be switched to; 2 bad arguments.",
        )
        .arg(
            Arg::new("grace")
                .long("grace")
                .value_name("SECONDS")
                .value_parser(value_parser!(OsString))
                .help(
                    "After the first TERM, KILL the command if it still runs after this many \
                     seconds (decimals allowed). Off by default: the kubelet's \
                     terminationGracePeriodSeconds rules.",
                ),
        )
        .arg(
            Arg::new("restart_on_hup")
                .long("restart_on_hup")
                .action(ArgAction::SetTrue)
                .help(
                    "A HUP restarts COMMAND in place instead of being passed on: TERM (and \
                     after --grace KILL), wait for its end, start it again.",
                ),
        )
        .arg(
            Arg::new("user")
                .long("user")
                .value_name("USER")
                .value_parser(value_parser!(OsString))
                .help(
                    "Run COMMAND as this user: NAME, UID, NAME:GROUP, UID:GID, or :GROUP for \
                     the current user with that group (needs root).",
                ),
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .required(true)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .action(ArgAction::Append)
                .value_parser(value_parser!(OsString))
                .help("The command and its arguments."),
        )
}

pub fn run(matches: &ArgMatches) -> Result<u8> {
    let value = |name: &'static str| {
        matches
            .get_one::<OsString>(name)
            .map(|raw| Value::new(Origin::Flag(name), raw))
            .transpose()
    };
    let grace = value("grace")?.map(|v| v.seconds()).transpose()?;
    let user = Credentials::for_child(value("user")?)?;
    let mut command = matches
        .get_many::<OsString>("command")
        .into_iter()
        .flatten()
        .cloned();
    let child = Child {
        program: command.next().unwrap_or_default(),
        args: command.collect(),
        user,
        grace,
        restart_on_hup: matches.get_flag("restart_on_hup"),
    };
    supervise(child)
}

/// Start the child and supervise it until it exits; the status to exit with.
pub fn supervise(child: Child) -> Result<u8> {
    let signals = Signals::open()?;
    if nix::unistd::getpid().as_raw() != 1 {
        // Not PID 1: orphans of the child would go to the real init. Take them instead.
        if let Err(err) = nix::sys::prctl::set_child_subreaper(true) {
            crate::warn!("cannot become a child subreaper: {err}");
        }
    }
    // A TERM or INT that came while the configuration was written: the pod is going away.
    // Other signals read here are passed on once the child runs.
    let mut early = Vec::new();
    while let Some(signo) = signals.next() {
        match Signal::try_from(signo) {
            Ok(sig @ (Signal::SIGTERM | Signal::SIGINT)) => {
                crate::info!("{sig} before the server started: not starting it");
                return Ok(128 + sig as u8);
            }
            Ok(Signal::SIGCHLD) => {}
            _ => early.push(signo),
        }
    }

    let mut pid = spawn::spawn(&child)?;
    crate::debug!("started {:?} as pid {pid}", child.program);
    for signo in early {
        forward(pid, signo);
    }
    // From here on nothing may end PID 1 but the child's end.
    loop {
        match wait_for(pid, &signals, &child) {
            Ended::Exited(status) => return Ok(status),
            Ended::Restart => {
                pid = spawn::spawn(&child)?;
                crate::info!("restarted {:?} as pid {pid}", child.program);
            }
        }
    }
}

/// How a child's run ended.
enum Ended {
    /// By itself or by a signal passed on: PID 1 exits with this status.
    Exited(u8),
    /// Stopped for a restart (`restart_on_hup`).
    Restart,
}

/// Wait for signals; pass them on, reap zombies, until the child is gone.
fn wait_for(child: Pid, signals: &Signals, how: &Child) -> Ended {
    let grace = how.grace;
    let mut kill_at: Option<Instant> = None;
    // A HUP asked for a restart, and no TERM or INT came since.
    let mut restarting = false;
    loop {
        // Asleep in the kernel until a signal comes (or the grace period ends).
        let left = kill_at.map(|at| at.saturating_duration_since(Instant::now()));
        if !signals.wait(left) {
            crate::warn!("pid {child} still runs after the grace period: killing it");
            forward(child, Signal::SIGKILL as i32);
            kill_at = None;
            continue;
        }
        while let Some(signo) = signals.next() {
            if signo == Signal::SIGCHLD as i32 {
                continue;
            }
            if signo == Signal::SIGHUP as i32 && how.restart_on_hup {
                if !restarting {
                    crate::info!("HUP: restarting pid {child}");
                    restarting = true;
                    forward(child, Signal::SIGTERM as i32);
                    if let Some(grace) = grace {
                        kill_at = Some(Instant::now() + grace);
                    }
                }
                continue;
            }
            if signo == Signal::SIGTERM as i32 || signo == Signal::SIGINT as i32 {
                restarting = false;
            }
            forward(child, signo);
            if signo == Signal::SIGTERM as i32
                && kill_at.is_none()
                && let Some(grace) = grace
            {
                kill_at = Some(Instant::now() + grace);
            }
        }
        // Signals of several children merge into one SIGCHLD: reap until none is left.
        if let Some(status) = reap(Some(child)) {
            return match restarting {
                true => Ended::Restart,
                false => Ended::Exited(status),
            };
        }
    }
}

/// Reap every exited child. Returns the exit status once `child` is among them; with no
/// child of its own (an empty server still waiting), it only reaps orphans.
pub fn reap(child: Option<Pid>) -> Option<u8> {
    let mut result = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if Some(pid) == child => result = Some(code as u8),
            Ok(WaitStatus::Signaled(pid, sig, _)) if Some(pid) == child => {
                result = Some(128 + sig as u8)
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return result,
            Ok(_) => {} // an orphan, reaped
        }
    }
}

/// Pass a signal on. The child may be gone already (ESRCH); any other failure is logged.
#[allow(unsafe_code)] // kill
fn forward(child: Pid, signo: i32) {
    // SAFETY: kill(2) with a pid and a signal number from the kernel; raw, so that real-time
    // signals, which nix's Signal does not name, pass too.
    let sent = unsafe { nix::libc::kill(child.as_raw(), signo) };
    if sent != 0 {
        let err = Errno::last();
        if err != Errno::ESRCH {
            crate::warn!("cannot pass signal {signo} to pid {child}: {}", err.desc());
        }
    }
}
