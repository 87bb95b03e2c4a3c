//! Writing files whole or not at all: each goes to a temporary file beside it and is renamed
//! into place, so a reader (ZooKeeper, a probe) or a crash sees it old or new, never half
//! written.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::unistd::{self, Gid, Uid};

use super::render::File;
use crate::cli::error::{Context as _, Error, Result};

/// What a write promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A reader (or a crash) sees each file old or new, never half of one.
    Atomic,
    /// That, and once written the new file survives a crash.
    Durable,
}

/// Write `files`, each atomically: every one goes to a temporary file beside it, then all are
/// renamed into place. Durable: each temporary file is flushed to disk before the renames,
/// and each directory once after them, which makes the renames durable.
pub fn write(files: &[&File], durability: Durability) -> Result<()> {
    let durable = durability == Durability::Durable;
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    let result = (|| {
        for file in files {
            let temp =
                temp_path(&file.path).context(|| format!("writing {}", file.path.display()))?;
            // Recorded before it exists, so a half-written one is removed too.
            temps.push(temp.clone());
            write_new(&temp, file.contents.as_bytes(), durable, 0o644)
                .context(|| format!("writing {}", file.path.display()))?;
        }
        for (temp, file) in temps.iter().zip(files) {
            fs::rename(temp, &file.path).context(|| format!("writing {}", file.path.display()))?;
        }
        if !durable {
            return Ok(());
        }
        let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.path.parent()).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .context(|| format!("flushing {}", dir.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for temp in &temps {
            let _ = fs::remove_file(temp);
        }
    }
    result
}

/// Write `file` atomically, readable by its owner only: `owner` (the server's user and
/// group), else zkpod's. It is never readable by anyone else, not even while it is written.
pub fn write_private(file: &File, owner: Option<(Uid, Gid)>) -> Result<()> {
    let context = || format!("writing {}", file.path.display());
    let temp = temp_path(&file.path).context(context)?;
    let result = write_new(&temp, file.contents.as_bytes(), false, 0o600)
        .and_then(|()| match owner {
            Some((uid, gid)) => unistd::chown(&temp, Some(uid), Some(gid)).map_err(io::Error::from),
            None => Ok(()),
        })
        .and_then(|()| fs::rename(&temp, &file.path));
    if let Err(err) = result {
        let _ = fs::remove_file(&temp);
        return Err(Error::failed(format!("{}: {err}", context())));
    }
    Ok(())
}

/// `.NAME.PID.tmp` beside `path`.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    Ok(dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

fn write_new(path: &Path, contents: &[u8], flush: bool, mode: u32) -> io::Result<()> {
    // A temporary file left by a crash: in a pod, start-zookeeper always has the same pid.
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.write_all(contents)?;
    if flush { file.sync_all() } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        crate::testing::scratch_dir(&format!("files-{name}"))
    }

    fn write_all(files: &[&File]) -> Result<()> {
        write(files, Durability::Durable)
    }

    fn file(path: PathBuf, contents: &str) -> File {
        File {
            path,
            contents: contents.into(),
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = temp_dir("atomic");
        let (cfg, env) = (dir.join("zoo.cfg"), dir.join("java.env"));
        write_all(&[&file(cfg.clone(), "old\n")]).unwrap();
        write_all(&[&file(cfg.clone(), "new\n"), &file(env.clone(), "X=1\n")]).unwrap();
        assert_eq!(fs::read_to_string(&cfg).unwrap(), "new\n");
        assert_eq!(fs::read_to_string(&env).unwrap(), "X=1\n");
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["java.env", "zoo.cfg"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stale_temporary_file_does_not_block_the_write() {
        let dir = temp_dir("stale");
        let cfg = dir.join("zoo.cfg");
        fs::write(
            dir.join(format!(".zoo.cfg.{}.tmp", std::process::id())),
            "half",
        )
        .unwrap();
        write_all(&[&file(cfg.clone(), "new\n")]).unwrap();
        assert_eq!(fs::read_to_string(&cfg).unwrap(), "new\n");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_keeps_every_old_file_and_no_temporary_one() {
        let dir = temp_dir("failed");
        let (cfg, env) = (dir.join("zoo.cfg"), dir.join("java.env"));
        fs::write(&cfg, "old\n").unwrap();
        fs::write(&env, "old env\n").unwrap();
        // A directory where the second temporary file would go makes the write fail.
        let blocker = dir.join(format!(".java.env.{}.tmp", std::process::id()));
        fs::create_dir(&blocker).unwrap();
        let files = [file(cfg.clone(), "new\n"), file(env.clone(), "new env\n")];
        assert!(write_all(&[&files[0], &files[1]]).is_err());
        assert_eq!(fs::read_to_string(&cfg).unwrap(), "old\n");
        assert_eq!(fs::read_to_string(&env).unwrap(), "old env\n");
        assert!(
            !dir.join(format!(".zoo.cfg.{}.tmp", std::process::id()))
                .exists()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
