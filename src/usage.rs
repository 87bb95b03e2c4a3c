//! How every command reads its arguments and reports bad ones: one line on stderr that names
//! the command, and exit status 2. Help and version print in full and exit 0.

use std::ffi::OsString;
use std::fmt::Display;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

/// The exit status for a command line that is wrong.
const USAGE: u8 = 2;

/// Parse `args` into `T`; on --help, --version or an error, what to exit with.
pub fn parse<T: Parser>(args: Vec<OsString>, command: &str) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|err| clap_exit(err, command))
}

/// Print clap's verdict: help and version in full, errors as one line naming the command.
pub fn clap_exit(err: clap::Error, command: &str) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            bad(command, first.strip_prefix("error: ").unwrap_or(first))
        }
    }
}

/// Report a bad argument found after parsing (a value out of range, …).
pub fn bad(command: &str, problem: impl Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{command}: {problem}");
    ExitCode::from(USAGE)
}
