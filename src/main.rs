//! zkpod's entry point: the command line goes to `zkpod::commands`, which picks the command.
//!
//! Rust's runtime has already opened stdin, stdout and stderr on /dev/null if they were closed
//! (so no file zkpod opens takes their place) and ignores SIGPIPE, so a closed pipe or socket
//! is an error to report, not a signal that kills.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(zkpod::commands::main(std::env::args_os().collect()))
}
