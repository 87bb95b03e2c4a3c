//! The super user's password, which dynamic membership needs: read once, shown nowhere.

use std::ffi::OsString;
use std::path::PathBuf;

use super::flags::Given;
use crate::cli::error::{Error, Result};
use crate::cli::values::Origin;

/// A password: shown nowhere (`{:?}` prints asterisks).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The super user's password, where dynamic membership needs one: from --super_password_file
/// (its one line), else ZK_SUPER_PASSWORD.
pub fn super_password(
    file: Option<&Given<PathBuf>>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<Secret>> {
    let (text, origin) = match file {
        Some(Given {
            value: path,
            origin,
        }) => {
            // A password is short: a bound, so that /dev/zero or a log file cannot eat memory.
            const MAX: u64 = 4096;
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .and_then(|file| {
                    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX + 1), &mut bytes)
                })
                .map_err(|err| {
                    Error::usage(format!("{origin}: cannot read {}: {err}", path.display()))
                })?;
            if bytes.len() as u64 > MAX {
                return Err(Error::usage(format!(
                    "{origin}: {} is over {MAX} bytes: not a password",
                    path.display()
                )));
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::usage(format!("{origin}: the password is not UTF-8")))?;
            (text, *origin)
        }
        None => match env("ZK_SUPER_PASSWORD").filter(|v| !v.is_empty()) {
            Some(value) => (
                value
                    .into_string()
                    .map_err(|_| Error::usage("ZK_SUPER_PASSWORD: the password is not UTF-8"))?,
                Origin::Env("ZK_SUPER_PASSWORD"),
            ),
            None => return Ok(None),
        },
    };
    // A file written with `echo` ends with a newline that is no part of the password.
    let password = text.strip_suffix('\n').unwrap_or(&text);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Error::usage(format!("{origin}: the password is empty")));
    }
    if password.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "{origin}: the password holds a line break or another control character"
        )));
    }
    Ok(Some(Secret(password.to_owned())))
}
