//! The container's PID 1: start one child, pass it every signal, reap every zombie, and exit
//! the way the child did.
//!
//! The kernel does not deliver a signal to PID 1 when PID 1 has no handler for it, so
//! handlers are not installed at all. Instead the signals are blocked first thing and read from
//! a signalfd. A blocked signal waits in the kernel until it is read, even one that arrives
//! before the child exists.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::{ArgAction, Parser};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::privilege::Credentials;
use crate::usage;

const NAME: &str = "zkpod supervise";

/// The blocked signals, readable from a file descriptor.
pub struct Signals {
    fd: SignalFd,
}

/// Signals left unblocked: the ones the kernel raises for the process's own faults (blocking
/// them would hang a crashing supervisor), and terminal stops for background reads/writes.
const UNBLOCKED: [Signal; 9] = [
    Signal::SIGFPE,
    Signal::SIGILL,
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGABRT,
    Signal::SIGTRAP,
    Signal::SIGSYS,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
];

/// Block every catchable signal and open a signalfd for them. Call before anything else.
pub fn block_signals() -> nix::Result<Signals> {
    let mut set = SigSet::all();
    for sig in UNBLOCKED {
        set.remove(sig);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    // An inherited "ignore SIGCHLD" would make the kernel reap children itself, and their exit
    // status would be lost.
    // SAFETY: restoring the default disposition installs no handler.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }?;
    let fd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    Ok(Signals { fd })
}

/// What to run, and how.
pub struct Child {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub user: Option<Credentials>,
    /// After the first TERM, KILL the child if it is still running this much later.
    pub grace: Option<Duration>,
}

/// Exit statuses of a command that could not be run, as shells use them.
const NOT_EXECUTABLE: u8 = 126;
const NOT_FOUND: u8 = 127;

/// Start the child and supervise it until it exits; return how to exit.
pub fn run(child: Child, signals: Signals) -> ExitCode {
    if nix::unistd::getpid().as_raw() != 1 {
        // Not PID 1: orphans of the child would go to the real init. Take them instead.
        if let Err(err) = nix::sys::prctl::set_child_subreaper(true) {
            tracing::warn!("cannot become a child subreaper: {err}");
        }
    }
    // A TERM or INT that came while the configuration was written: the pod is going away.
    // Signals read here that are not such a stop are passed on once the child runs.
    let mut early = Vec::new();
    while let Ok(Some(info)) = signals.fd.read_signal() {
        match Signal::try_from(info.ssi_signo as i32) {
            Ok(sig @ (Signal::SIGTERM | Signal::SIGINT)) => {
                tracing::info!("{sig} before the server started: not starting it");
                return ExitCode::from(128 + sig as u8);
            }
            Ok(Signal::SIGCHLD) => {}
            _ => early.push(info.ssi_signo as i32),
        }
    }

    let pid = match spawn(&child) {
        Ok(pid) => pid,
        Err(code) => return code,
    };
    tracing::debug!("started {:?} as pid {pid}", child.program);
    for signo in early {
        forward(pid, signo);
    }
    ExitCode::from(supervise(pid, &signals, child.grace))
}

/// fork + exec. In between, the child unblocks every signal (a blocked mask survives exec, and
/// std's posix_spawn path keeps the parent's) and drops privileges when asked.
fn spawn(child: &Child) -> Result<Pid, ExitCode> {
    let mut command = Command::new(&child.program);
    command.args(&child.args);
    if let Some(home) = child.user.as_ref().and_then(|user| user.home.as_ref()) {
        command.env("HOME", home);
    }
    let user = child.user.clone();
    // SAFETY: between fork and exec only sigprocmask, setgroups, setgid and setuid run: system
    // calls that are safe in a forked child.
    unsafe {
        command.pre_exec(move || {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            match &user {
                Some(user) => user.become_user(),
                None => Ok(()),
            }
        });
    }
    match command.spawn() {
        Ok(process) => Ok(Pid::from_raw(process.id() as i32)),
        Err(err) => {
            let name = child.program.to_string_lossy();
            let (code, reason) = match err.kind() {
                ErrorKind::NotFound => (NOT_FOUND, "command not found".to_string()),
                ErrorKind::PermissionDenied => (
                    NOT_EXECUTABLE,
                    "permission denied (not executable?)".to_string(),
                ),
                _ => (NOT_EXECUTABLE, err.to_string()),
            };
            eprintln!("zkpod: cannot run {name}: {reason}");
            Err(ExitCode::from(code))
        }
    }
}

/// Wait for signals; pass them on, reap zombies, until the child is gone. Returns the exit
/// status: the child's, or 128 + the signal that killed it.
fn supervise(child: Pid, signals: &Signals, grace: Option<Duration>) -> u8 {
    let mut kill_at: Option<Instant> = None;
    loop {
        // Asleep in the kernel until a signal comes (or the grace period ends).
        let timeout = match kill_at {
            None => PollTimeout::NONE,
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                    .unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(signals.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => {
                tracing::warn!("pid {child} still runs after the grace period: killing it");
                forward(child, Signal::SIGKILL as i32);
                kill_at = None;
                continue;
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(err) => {
                tracing::error!("waiting for signals: {err}");
                forward(child, Signal::SIGKILL as i32);
            }
        }
        while let Ok(Some(info)) = signals.fd.read_signal() {
            let signo = info.ssi_signo as i32;
            if signo == Signal::SIGCHLD as i32 {
                continue;
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
        if let Some(status) = reap(child) {
            return status;
        }
    }
}

/// Reap every exited child. Returns the exit status once `child` is among them.
fn reap(child: Pid) -> Option<u8> {
    let mut result = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => result = Some(code as u8),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => result = Some(128 + sig as u8),
            Ok(WaitStatus::StillAlive) | Err(_) => return result,
            Ok(_) => {} // an orphan, reaped
        }
    }
}

/// Pass a signal on. The child may be gone already; that is not an error.
fn forward(child: Pid, signo: i32) {
    // SAFETY: kill(2) with a pid and a signal number from the kernel; raw, so that real-time
    // signals, which nix's Signal does not name, pass too.
    unsafe {
        nix::libc::kill(child.as_raw(), signo);
    }
}

/// `zkpod supervise`: run a command as a well-behaved PID 1.
#[derive(Parser, Debug)]
#[command(
    name = "zkpod supervise",
    version,
    about = "Run COMMAND as a container's PID 1 would: pass it every signal, reap every \
zombie, exit with its status (128 + N if signal N killed it).",
    after_help = "Exit status 127: COMMAND not found; 126: not executable."
)]
struct SuperviseArgs {
    /// After the first TERM, KILL the command if it still runs after this many seconds
    /// (decimals allowed). Off by default: the kubelet's terminationGracePeriodSeconds rules.
    #[arg(long, value_name = "SECONDS")]
    grace: Option<String>,

    /// Run COMMAND as this user: NAME, UID, NAME:GROUP or UID:GID (needs root).
    #[arg(long, value_name = "USER")]
    user: Option<String>,

    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, action = ArgAction::Append)]
    command: Vec<OsString>,
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let signals = match block_signals() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("{NAME}: cannot block signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    let args: SuperviseArgs = match usage::parse(args, NAME) {
        Ok(args) => args,
        Err(code) => return code,
    };
    crate::logging::init(crate::settings::LogLevel::Info);
    let grace = args.grace.as_deref();
    let grace = match grace
        .map(|g| crate::settings::seconds("--grace", g))
        .transpose()
    {
        Ok(grace) => grace,
        Err(err) => return usage::bad(NAME, err),
    };
    let user = match crate::privilege::for_child(args.user.as_deref()) {
        Ok(user) => user,
        Err(err) => return usage::bad(NAME, format!("{err:#}")),
    };
    let mut command = args.command.into_iter();
    let program = command.next().unwrap_or_default();
    let child = Child {
        program,
        args: command.collect(),
        user,
        grace,
    };
    run(child, signals)
}
