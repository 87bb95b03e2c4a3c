//! What commands print on stdout. A reader that stops early (`… | head -1`) is not an error
//! to report: the command ends quietly with 141, as one killed by SIGPIPE would.

use std::io::{ErrorKind, Write};

use super::error::{Error, Result};

/// Write `text` to stdout, whole.
pub fn print(text: impl AsRef<[u8]>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == ErrorKind::BrokenPipe => Err(Error::BrokenPipe),
        Err(err) => Err(Error::failed(format!("writing to stdout: {err}"))),
    }
}
