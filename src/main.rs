//! zkpod's entry point, without Rust's runtime start-up.
//!
//! The probe runs every few seconds in every pod, so its start-up is most of its cost. Rust's
//! usual `main` first checks that stdin, stdout and stderr are open and installs a stack
//! overflow handler (an alternate signal stack and two signal handlers): a third of the probe's
//! system calls. zkpod does without the handler: it takes argv from the C entry point, and does
//! the rest of Rust's start-up itself: stdin, stdout and stderr, if closed, are opened on
//! /dev/null (so that no file zkpod opens takes their place), and SIGPIPE is ignored, so that a
//! closed pipe or socket is an error to report, not a signal that kills.

// Under `cargo test` the test harness brings its own main.
#![cfg_attr(not(test), no_main)]

#[global_allocator]
static ALLOCATOR: zkpod::arena::Global = zkpod::arena::Global;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::ffi::{CStr, OsString, c_int};
    use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};

    let argc = usize::try_from(argc).unwrap_or(0);
    // SAFETY: the C runtime passes argc valid, NUL-terminated strings in argv.
    let arg = |i: usize| (i < argc).then(|| unsafe { CStr::from_ptr(*argv.add(i)) });
    let word = |i: usize| arg(i).map(|a| std::ffi::OsStr::from_bytes(a.to_bytes()));
    // A command that may live as long as the pod (PID 1) takes no memory from the arena, not
    // even for its arguments (see zkpod::arena).
    if zkpod::cli::applet_for(word(0), word(1)).is_some_and(|applet| applet.pid1) {
        zkpod::arena::close();
    }
    let args = (0..argc)
        .filter_map(arg)
        .map(|a| OsString::from_vec(a.to_bytes().to_vec()))
        .collect();
    // SAFETY: poll reads three pollfd; open and dup2 only fill a closed descriptor; SIG_IGN is a
    // valid disposition for SIGPIPE. Nothing else runs yet.
    unsafe {
        use nix::libc;
        let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        });
        if libc::poll(fds.as_mut_ptr(), 3, 0) >= 0 {
            for pollfd in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 && null != pollfd.fd {
                    libc::dup2(null, pollfd.fd);
                    libc::close(null);
                }
            }
        }
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
    c_int::from(zkpod::cli::main(args))
}
