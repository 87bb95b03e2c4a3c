//! The one error type of zkpod. Every command returns `Result`; each error carries the exit
//! status it ends the command with, and `cli::run` prints it as one line, `NAME: message`.

use std::fmt;

/// What went wrong, by how the command ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The command line or the environment is wrong: an unknown flag, a bad value, a missing
    /// argument. Exit status 2.
    Usage(String),
    /// The command was right, but what it found refuses: a myid conflict, no java, a port in
    /// use, an unhealthy server. Exit status 1.
    Failed(String),
    /// A command zkpod was to run could not be run: 127 when it is not found, 126 when it is
    /// not executable (as shells report it).
    Exec { status: u8, message: String },
    /// stdout was closed by its reader (`… | head -1`): end quietly, as a program killed by
    /// SIGPIPE would (141).
    BrokenPipe,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Exit statuses, in one place.
pub mod status {
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_EXECUTABLE: u8 = 126;
    pub const NOT_FOUND: u8 = 127;
    /// 128 + SIGPIPE.
    pub const BROKEN_PIPE: u8 = 141;
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error::Failed(message.into())
    }

    /// The exit status this error ends the command with.
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(_) => status::USAGE,
            Error::Failed(_) => status::FAILED,
            Error::Exec { status, .. } => *status,
            Error::BrokenPipe => status::BROKEN_PIPE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Failed(m) | Error::Exec { message: m, .. } => f.write_str(m),
            Error::BrokenPipe => f.write_str("stdout closed"),
        }
    }
}

impl std::error::Error for Error {}

/// Turn a system error into a runtime failure that says what was being done.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|err| Error::Failed(format!("{}: {err}", what())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status() {
        assert_eq!(Error::usage("x").code(), 2);
        assert_eq!(Error::failed("x").code(), 1);
        let exec = Error::Exec {
            status: 127,
            message: "x".into(),
        };
        assert_eq!(exec.code(), 127);
        assert_eq!(Error::BrokenPipe.code(), 141);
    }

    #[test]
    fn context_says_what_was_being_done() {
        let io: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        let err = io.context(|| "reading /x".into()).unwrap_err();
        assert_eq!(err.code(), 1);
        assert!(err.to_string().starts_with("reading /x: "), "{err}");
    }
}
