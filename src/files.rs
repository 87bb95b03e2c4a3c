//! Putting the rendered files on disk: directories created, every file written atomically,
//! and an existing myid never replaced.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::render::File;

/// What an existing myid file means for this start.
#[derive(Debug, PartialEq, Eq)]
pub enum Myid {
    /// No myid yet: write it.
    Missing,
    /// The volume already says who this server is, and it agrees.
    Matches,
}

/// Compare the myid already in `data_dir` (if any) with the one computed for this pod. A
/// different one means this volume belongs to another server: starting would give two servers
/// one identity, so it is an error naming both.
pub fn check_myid(data_dir: &Path, myid: u32) -> anyhow::Result<Myid> {
    let path = data_dir.join("myid");
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Myid::Missing),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    match existing.trim().parse::<u32>() {
        Ok(found) if found == myid => Ok(Myid::Matches),
        Ok(found) => bail!(
            "{} says this volume belongs to server {found}, but this pod is server {myid}: \
             refusing to start two servers with one identity (check the volume and --myid_offset)",
            path.display()
        ),
        Err(_) => bail!(
            "{} holds {}, not a server id; this pod is server {myid}: fix or remove the file",
            path.display(),
            crate::quote::quote(existing.trim())
        ),
    }
}

/// The myid file's path and contents.
pub fn myid_file(data_dir: &Path, myid: u32) -> File {
    File {
        path: data_dir.join("myid"),
        contents: format!("{myid}\n"),
    }
}

/// Create the directories that are missing.
pub fn create_dirs(dirs: &[&PathBuf]) -> anyhow::Result<()> {
    for dir in dirs {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// Write `files`, each atomically: every one goes to a temporary file beside it and is flushed
/// to disk, then all are renamed into place, then each directory is flushed once, which makes
/// the renames durable. A reader (or a crash) sees each file old or new, never half of one.
pub fn write(files: &[File]) -> anyhow::Result<()> {
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    let result = (|| {
        for file in files {
            let temp = temp_path(&file.path)?;
            // Recorded before it exists, so a half-written one is removed too.
            temps.push(temp.clone());
            write_flushed(&temp, file.contents.as_bytes())
                .with_context(|| format!("writing {}", file.path.display()))?;
        }
        for (temp, file) in temps.iter().zip(files) {
            fs::rename(temp, &file.path)
                .with_context(|| format!("writing {}", file.path.display()))?;
        }
        let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.path.parent()).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("flushing {}", dir.display()))?;
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

fn write_flushed(path: &Path, contents: &[u8]) -> io::Result<()> {
    // A temporary file left by a crash: in a pod, start-zookeeper always has the same pid.
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The files as `--dry_run` shows them: each under a `==> path <==` line.
pub fn show(files: &[File]) -> String {
    let mut out = String::new();
    for file in files {
        out.push_str(&format!("==> {} <==\n", file.path.display()));
        out.push_str(&file.contents);
        if !file.contents.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zkpod-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn myid_guard() {
        let dir = temp_dir("myid");
        assert_eq!(check_myid(&dir, 2).unwrap(), Myid::Missing);
        fs::write(dir.join("myid"), "2\n").unwrap();
        assert_eq!(check_myid(&dir, 2).unwrap(), Myid::Matches);
        let err = check_myid(&dir, 3).unwrap_err().to_string();
        assert!(
            err.contains("server 2") && err.contains("server 3"),
            "{err}"
        );
        fs::write(dir.join("myid"), "two\n").unwrap();
        let err = check_myid(&dir, 2).unwrap_err().to_string();
        assert!(err.contains("\"two\""), "{err}");
        fs::remove_dir_all(&dir).unwrap();
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
        write(&[file(cfg.clone(), "old\n")]).unwrap();
        write(&[file(cfg.clone(), "new\n"), file(env.clone(), "X=1\n")]).unwrap();
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
        write(&[file(cfg.clone(), "new\n")]).unwrap();
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
        assert!(write(&files).is_err());
        assert_eq!(fs::read_to_string(&cfg).unwrap(), "old\n");
        assert_eq!(fs::read_to_string(&env).unwrap(), "old env\n");
        assert!(
            !dir.join(format!(".zoo.cfg.{}.tmp", std::process::id()))
                .exists()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
