//! Starting the child: fork, then in the child reset what PID 1 changed for itself (the signal
//! mask, ignored SIGPIPE), drop privileges when asked, and exec. A failure in the child is
//! sent back through a close-on-exec pipe with the step it happened in, so that "not found"
//! (127) and "not executable" (126) are told apart from a failed privilege drop.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use super::credentials::Credentials;
use crate::cli::error::{Error, Result, status};

/// What to run, and how.
#[derive(Debug, Clone)]
pub struct Child {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub user: Option<Credentials>,
    /// After the first TERM, KILL the child if it is still running this much later.
    pub grace: Option<Duration>,
    /// A HUP restarts the child (TERM, wait, start again) instead of being passed on.
    pub restart_on_hup: bool,
}

/// The steps in the child that can fail, as sent through the pipe.
const STEP_SIGNALS: u8 = 1;
const STEP_USER: u8 = 2;
const STEP_EXEC: u8 = 3;

/// Start `child`; its pid.
#[allow(unsafe_code)] // fork, and write and _exit in the child
pub fn spawn(child: &Child) -> Result<Pid> {
    // Everything the child needs is prepared here: after fork it only makes system calls.
    let name = crate::cli::quote::word(&child.program.to_string_lossy());
    let c_string = |s: &OsStr| {
        CString::new(s.as_bytes())
            .map_err(|_| Error::usage(format!("{name}: an argument contains a NUL byte")))
    };
    let program = c_string(&child.program)?;
    let mut argv: Vec<CString> = vec![program.clone()];
    for arg in &child.args {
        argv.push(c_string(arg)?);
    }
    let home = child.user.as_ref().and_then(|user| user.home.as_ref());
    let mut envp: Vec<CString> = Vec::new();
    for (key, value) in std::env::vars_os() {
        if home.is_some() && key == "HOME" {
            continue;
        }
        let mut pair = key.into_vec();
        pair.push(b'=');
        pair.extend_from_slice(value.as_bytes());
        if let Ok(pair) = CString::new(pair) {
            envp.push(pair);
        }
    }
    if let Some(home) = home {
        let mut pair = b"HOME=".to_vec();
        pair.extend_from_slice(home.as_os_str().as_bytes());
        envp.push(c_string(OsStr::from_bytes(&pair))?);
    }
    let argv_ptrs = null_terminated(&argv);
    let envp_ptrs = null_terminated(&envp);

    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)
        .map_err(|err| Error::failed(format!("cannot run {name}: pipe: {err}")))?;
    // SAFETY: the child makes only system calls (no allocation, no lock) until it execs or
    // exits, so another thread (a name lookup left running) cannot leave it stuck.
    match unsafe { fork() } {
        Err(err) => Err(Error::failed(format!("cannot run {name}: fork: {err}"))),
        Ok(ForkResult::Child) => {
            drop(read_end);
            let (step, errno) = become_child(child.user.as_ref(), &program, &argv_ptrs, &envp_ptrs);
            let code = (errno as i32 as u32).to_be_bytes();
            let report = [step, code[0], code[1], code[2], code[3]];
            // SAFETY: write(2) and _exit(2) are async-signal-safe.
            unsafe {
                libc::write(write_end.as_raw_fd(), report.as_ptr().cast(), report.len());
                libc::_exit(status::NOT_FOUND as i32);
            }
        }
        Ok(ForkResult::Parent { child: pid }) => {
            drop(write_end);
            match read_report(read_end) {
                None => Ok(pid),
                Some((step, errno)) => {
                    // The child has exited; reap it so it is not left a zombie.
                    let _ = waitpid(pid, None);
                    Err(failure(&name, child.user.as_ref(), step, errno))
                }
            }
        }
    }
}

/// In the forked child: returns only on failure, with the step and errno.
#[allow(unsafe_code)] // signal and execvpe
fn become_child(
    user: Option<&Credentials>,
    program: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> (u8, Errno) {
    // A blocked mask survives exec: the child must see signals as usual.
    if let Err(err) = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None) {
        return (STEP_SIGNALS, err);
    }
    // Rust ignores SIGPIPE in its own processes, and "ignored" survives exec too.
    // SAFETY: restoring the default disposition installs no handler.
    if let Err(err) = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) } {
        return (STEP_SIGNALS, err);
    }
    if let Some(user) = user
        && let Err(err) = user.become_user()
    {
        return (STEP_USER, err);
    }
    // SAFETY: NUL-terminated arrays of pointers into CStrings that outlive this call.
    unsafe { libc::execvpe(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    (STEP_EXEC, Errno::last())
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// What the child sent: nothing (it exec'd) or a step and an errno.
fn read_report(read_end: OwnedFd) -> Option<(u8, Errno)> {
    let mut report = [0u8; 5];
    let mut got = 0;
    while got < report.len() {
        match nix::unistd::read(&read_end, &mut report[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    (got == report.len()).then(|| {
        let errno = u32::from_be_bytes([report[1], report[2], report[3], report[4]]);
        (report[0], Errno::from_raw(errno as i32))
    })
}

fn failure(name: &str, user: Option<&Credentials>, step: u8, errno: Errno) -> Error {
    match step {
        STEP_EXEC => {
            let (status, reason) = match errno {
                Errno::ENOENT => (status::NOT_FOUND, "command not found".to_owned()),
                Errno::EACCES => (
                    status::NOT_EXECUTABLE,
                    "permission denied (not executable?)".to_owned(),
                ),
                other => (status::NOT_EXECUTABLE, other.desc().to_owned()),
            };
            Error::Exec {
                status,
                message: format!("cannot run {name}: {reason}"),
            }
        }
        STEP_USER => {
            let who = user
                .map(|u| format!("uid {} gid {}", u.uid, u.gid))
                .unwrap_or_default();
            Error::failed(format!(
                "cannot run {name} as {who}: dropping privileges failed: {}",
                errno.desc()
            ))
        }
        _ => Error::failed(format!(
            "cannot run {name}: resetting signals failed: {}",
            errno.desc()
        )),
    }
}
