//! Carrying out a plan: directories created, files written atomically, the server's
//! directories handed to its user. Nothing here decides anything; `plan` did.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::unistd::{self, Uid};

use super::plan::{Myid, Plan};
use super::unfinished;
use crate::cli::error::{Context as _, Error, Result};
use crate::config::write::{Durability, write, write_private};
use crate::pid1::credentials::Credentials;

/// Write everything the plan says, in order: directories, files, unfinished snapshots moved
/// aside, owners.
pub fn apply(plan: &Plan) -> Result<()> {
    for dir in std::iter::once(&plan.conf_dir).chain(&plan.server_dirs) {
        fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
    }
    let log_dir = match fs::create_dir_all(&plan.log_dir) {
        Ok(()) => Some(&plan.log_dir),
        Err(err) => {
            crate::info!(
                "no log directory {} ({err}): ZooKeeper logs to the console without it",
                plan.log_dir.display()
            );
            None
        }
    };
    if plan.user.is_none() && !Uid::effective().is_root() {
        for dir in &plan.server_dirs {
            check_writable(dir)?;
        }
    }
    // The configuration is written anew at every start, before the server reads it: it must
    // never be seen half written, but a crash that loses it loses nothing, since the next
    // start writes it again. myid is the server's identity on the persistent volume: it must
    // also survive a crash once the server has started with it.
    write(&plan.files.all(), Durability::Atomic)?;
    if let Myid::New { file, .. } = &plan.myid {
        write(&[file], Durability::Durable)?;
    }
    if let Some(secret) = &plan.secret {
        write_private(secret, owner(plan))?;
    }
    if let Some(tls) = &plan.tls {
        for store in &tls.stores {
            if let Some(dir) = store.path.parent() {
                fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
            }
            write_private(store, owner(plan))?;
        }
    }
    unfinished::move_aside(&plan.unfinished)?;
    if let Some(user) = &plan.user {
        for dir in plan.server_dirs.iter().chain(log_dir) {
            chown_tree(dir, user)?;
        }
    }
    match &plan.myid {
        Myid::Kept(myid) => crate::info!("kept myid {myid}"),
        Myid::New { id, .. } => crate::info!("wrote myid {id}"),
        Myid::Standalone => crate::info!("standalone server: no myid"),
    }
    Ok(())
}

/// The server's user and group, when zkpod switches to them.
fn owner(plan: &Plan) -> Option<(Uid, nix::unistd::Gid)> {
    plan.user.as_ref().map(|who| (who.uid, who.gid))
}

/// Give `dir` and everything in it to the user, without following symlinks. Only entries with
/// another owner are changed, so a restart on a large volume costs one walk.
pub fn chown_tree(dir: &Path, who: &Credentials) -> Result<()> {
    let meta = fs::symlink_metadata(dir).context(|| format!("reading {}", dir.display()))?;
    if meta.uid() != who.uid.as_raw() || meta.gid() != who.gid.as_raw() {
        unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            dir,
            Some(who.uid),
            Some(who.gid),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .context(|| format!("giving {} to uid {}", dir.display(), who.uid))?;
    }
    if meta.is_dir() {
        for entry in fs::read_dir(dir).context(|| format!("reading {}", dir.display()))? {
            let entry = entry.context(|| format!("reading {}", dir.display()))?;
            chown_tree(&entry.path(), who)?;
        }
    }
    Ok(())
}

/// A clear error when the server could not write to `dir` as the current user.
fn check_writable(dir: &Path) -> Result<()> {
    unistd::access(dir, unistd::AccessFlags::W_OK).map_err(|err| {
        Error::failed(format!(
            "{} is not writable by uid {} (fix the volume's owner, or use fsGroup): {err}",
            dir.display(),
            Uid::effective()
        ))
    })
}
