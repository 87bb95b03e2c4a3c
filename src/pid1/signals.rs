//! Signals, the way a PID 1 must take them.
//!
//! The kernel does not deliver a signal to PID 1 when PID 1 has no handler for it, so no
//! handlers are installed at all. The signals are blocked first thing and read from a
//! signalfd instead. A blocked signal waits in the kernel until it is read, even one that
//! arrives before the child exists, and blocked and pending signals survive execve.

use std::os::fd::AsFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::cli::error::{Error, Result};

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

fn blocked() -> SigSet {
    let mut set = SigSet::all();
    for sig in UNBLOCKED {
        set.remove(sig);
    }
    set
}

/// Block every catchable signal. Call before anything else.
#[allow(unsafe_code)] // signal
pub fn block() -> Result<()> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&blocked()), None)
        .map_err(|err| Error::failed(format!("cannot block signals: {err}")))?;
    // An inherited "ignore SIGCHLD" would make the kernel reap children itself, and their exit
    // status would be lost.
    // SAFETY: restoring the default disposition installs no handler.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }
        .map_err(|err| Error::failed(format!("cannot reset SIGCHLD: {err}")))?;
    Ok(())
}

/// Unblock every signal: for commands a supervisor starts, which inherit its blocked signals.
pub fn unblock() -> Result<()> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|err| Error::failed(format!("cannot unblock signals: {err}")))
}

/// The blocked signals, readable from a file descriptor.
pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Block the signals (again: harmless) and open the descriptor. Signals that came before
    /// are read from it too.
    pub fn open() -> Result<Signals> {
        block()?;
        let fd = SignalFd::with_flags(&blocked(), SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(|err| Error::failed(format!("cannot open a signalfd: {err}")))?;
        Ok(Signals { fd })
    }

    /// The next pending signal's number, if any.
    pub fn next(&self) -> Option<i32> {
        match self.fd.read_signal() {
            Ok(Some(info)) => Some(info.ssi_signo as i32),
            _ => None,
        }
    }

    /// Sleep in the kernel until a signal is pending or `timeout` passes (None: no limit).
    /// False when the time ran out.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let timeout = match timeout {
            None => PollTimeout::NONE,
            Some(left) => PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                .unwrap_or(PollTimeout::MAX),
        };
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => false,
            Ok(_) | Err(Errno::EINTR) => true,
            Err(err) => {
                // Not expected from poll on one valid descriptor; do not spin on it.
                crate::error!("waiting for signals: {err}");
                std::thread::sleep(Duration::from_millis(100));
                true
            }
        }
    }
}
