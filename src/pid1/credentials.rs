//! Who the child runs as: what `--user` names, and dropping to it in the child just before
//! exec.

use std::ffi::CString;
use std::path::PathBuf;

use nix::unistd::{self, Gid, Group, Uid, User};

use crate::cli::error::{Error, Result};
use crate::cli::quote::quote;
use crate::cli::values::Value;

/// Who the child runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: Uid,
    pub gid: Gid,
    /// Supplementary groups, set first.
    pub groups: Vec<Gid>,
    /// HOME for the child: the named user's; None (keep HOME) when the spec names no user.
    pub home: Option<PathBuf>,
}

impl Credentials {
    /// `NAME`, `UID`, `NAME:GROUP`, `UID:GID`, `:GROUP` (as gosu reads them). A user given by
    /// number need not exist (random UIDs); one given by name must. Without a group, the
    /// user's primary group and its supplementary groups; with one, that group alone. An empty
    /// user part (`:GROUP`, or nothing) means the current user, and keeps HOME. A name that
    /// does not exist is a bad value (exit 2), named by where it came from.
    pub fn parse(given: Value) -> Result<Credentials> {
        let spec = given.text;
        let (user_part, group_part) = match spec.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (spec, None),
        };
        let entry = if user_part.is_empty() {
            User::from_uid(Uid::current()).ok().flatten()
        } else if let Ok(uid) = user_part.parse::<u32>() {
            User::from_uid(Uid::from_raw(uid)).ok().flatten()
        } else {
            let entry = User::from_name(user_part).ok().flatten();
            Some(entry.ok_or_else(|| {
                Error::usage(format!(
                    "{}: no user named {}",
                    given.origin,
                    quote(user_part)
                ))
            })?)
        };
        let uid = match (&entry, user_part.parse::<u32>()) {
            (_, Ok(uid)) => Uid::from_raw(uid),
            (Some(entry), _) => entry.uid,
            (None, _) => Uid::current(),
        };
        let home = (!user_part.is_empty()).then(|| {
            entry
                .as_ref()
                .map_or_else(|| PathBuf::from("/"), |e| e.dir.clone())
        });

        let explicit_group = match group_part.filter(|g| !g.is_empty()) {
            None => None,
            Some(group) => Some(match group.parse::<u32>() {
                Ok(gid) => Gid::from_raw(gid),
                Err(_) => {
                    Group::from_name(group)
                        .ok()
                        .flatten()
                        .ok_or_else(|| {
                            Error::usage(format!(
                                "{}: no group named {}",
                                given.origin,
                                quote(group)
                            ))
                        })?
                        .gid
                }
            }),
        };
        let (gid, groups) = match (explicit_group, &entry) {
            (Some(gid), _) => (gid, vec![gid]),
            (None, Some(entry)) => {
                let name = CString::new(entry.name.as_str())
                    .map_err(|_| Error::usage("--user: the user name contains a NUL byte"))?;
                let groups = unistd::getgrouplist(&name, entry.gid).map_err(|err| {
                    Error::failed(format!("--user: the groups of {}: {err}", entry.name))
                })?;
                (entry.gid, groups)
            }
            // A number without a passwd entry: the root group, as container runtimes do.
            (None, None) => (Gid::from_raw(0), vec![Gid::from_raw(0)]),
        };
        Ok(Credentials {
            uid,
            gid,
            groups,
            home,
        })
    }

    /// What `--user` means for this process: root drops to it; anyone else may only name
    /// themselves, which changes nothing (None). Naming someone else without root is refused
    /// at run time (exit 1).
    pub fn for_child(given: Option<Value>) -> Result<Option<Credentials>> {
        let Some(given) = given else {
            return Ok(None);
        };
        let credentials = Credentials::parse(given)?;
        if Uid::effective().is_root() {
            return Ok(Some(credentials));
        }
        if credentials.uid != Uid::effective() || credentials.gid != Gid::effective() {
            return Err(Error::failed(format!(
                "{} {}: switching users needs root, and this runs as uid {}",
                given.origin,
                quote(given.text),
                Uid::effective()
            )));
        }
        Ok(None)
    }

    /// Become this user: supplementary groups, then the group, then the user (after setuid the
    /// process may no longer change its groups). Runs in the child between fork and exec.
    pub fn become_user(&self) -> nix::Result<()> {
        unistd::setgroups(&self.groups)?;
        unistd::setgid(self.gid)?;
        unistd::setuid(self.uid)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::values::Origin;

    fn parse(spec: &str) -> Result<Credentials> {
        Credentials::parse(Value {
            origin: Origin::Env("ZK_USER"),
            text: spec,
        })
    }

    #[test]
    fn names_and_numbers() {
        let root = parse("root").unwrap();
        assert_eq!((root.uid.as_raw(), root.gid.as_raw()), (0, 0));
        assert_eq!(root.home, Some(PathBuf::from("/root")));
        assert_eq!(parse(":0").unwrap().home, None);
        let by_number = parse("0:0").unwrap();
        assert_eq!(by_number.groups, vec![Gid::from_raw(0)]);
        let nobody = parse("65534").unwrap();
        assert_eq!(nobody.uid.as_raw(), 65534);
        let stranger = parse("4242").unwrap();
        assert_eq!((stranger.uid.as_raw(), stranger.gid.as_raw()), (4242, 0));
        assert_eq!(stranger.home, Some(PathBuf::from("/")));
        let mixed = parse("65534:root").unwrap();
        assert_eq!((mixed.uid.as_raw(), mixed.gid.as_raw()), (65534, 0));
    }

    #[test]
    fn unknown_names_are_bad_values() {
        for bad in ["bogus-user-zkpod", "0day", "0:bogus-group-zkpod"] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code(), 2, "{bad}");
            // Named by where the value came from.
            assert!(err.to_string().starts_with("ZK_USER: no "), "{bad}: {err}");
        }
    }
}
