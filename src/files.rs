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

/// Write `files`, each atomically.
pub fn write(files: &[File]) -> anyhow::Result<()> {
    for file in files {
        write_atomically(&file.path, file.contents.as_bytes())
            .with_context(|| format!("writing {}", file.path.display()))?;
    }
    Ok(())
}

/// Write to a temporary file beside `path`, flush it to disk, then rename it over `path`: a
/// reader (or a crash) sees the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let temp: PathBuf = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        // The rename itself is durable once the directory is.
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
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

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = temp_dir("atomic");
        let path = dir.join("zoo.cfg");
        write_atomically(&path, b"old\n").unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("zoo.cfg")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = temp_dir("failed");
        let path = dir.join("zoo.cfg");
        fs::write(&path, "old\n").unwrap();
        // A directory where the temporary file would go makes the write fail.
        let temp = dir.join(format!(".zoo.cfg.{}.tmp", std::process::id()));
        fs::create_dir(&temp).unwrap();
        assert!(write_atomically(&path, b"new\n").is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "old\n");
        fs::remove_dir_all(&dir).unwrap();
    }
}
