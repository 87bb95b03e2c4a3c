//! Snapshots that ZooKeeper did not finish writing.
//!
//! A follower that syncs from the leader by snapshot writes it to `snapshot.<zxid>.tmp`,
//! renames it once it is whole and on disk, records the leader's epoch, and only then answers
//! the leader. A server stopped before the rename leaves the `.tmp` file behind, and
//! ZooKeeper (3.8, and later releases alike) takes it for a snapshot at the next start: it
//! loads it, finds its zxid newer than the epoch it recorded, and exits ("The current epoch,
//! N, is older than the last zxid"), at every start. The file holds nothing this server
//! acknowledged, so start-zookeeper moves it out of ZooKeeper's sight, into
//! `<data_dir>/unfinished-snapshots/`, and the server syncs again. Nothing is deleted.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::cli::error::{Context as _, Result};
use crate::zk;

/// Where unfinished snapshots go, in the data directory.
const ASIDE: &str = "unfinished-snapshots";

/// An unfinished snapshot, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub from: PathBuf,
    pub to: PathBuf,
}

/// The unfinished snapshots in `data_dir`'s `version-2`, each with a free name to go to.
/// Reads the disk, changes nothing.
pub fn find(data_dir: &Path) -> Result<Vec<Move>> {
    let version2 = data_dir.join("version-2");
    let entries = match fs::read_dir(&version2) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).context(|| format!("reading {}", version2.display())),
    };
    let aside = data_dir.join(ASIDE);
    let mut moves = Vec::new();
    for entry in entries {
        let entry = entry.context(|| format!("reading {}", version2.display()))?;
        let name = entry.file_name();
        if !name.to_str().is_some_and(zk::is_unfinished_snapshot) {
            continue;
        }
        // An earlier one of the same name stays: this one gets a number.
        let mut to = aside.join(&name);
        let mut n = 0;
        while to
            .try_exists()
            .context(|| format!("reading {}", aside.display()))?
        {
            n += 1;
            to = aside.join(format!("{}.{n}", name.to_string_lossy()));
        }
        moves.push(Move {
            from: entry.path(),
            to,
        });
    }
    moves.sort_by(|a, b| a.from.cmp(&b.from));
    Ok(moves)
}

/// Carry out `moves`. Each is a new link, which never replaces a file, then the old name's
/// removal: a crash in between leaves the file under both names, and the next start moves it
/// again.
pub fn move_aside(moves: &[Move]) -> Result<()> {
    for Move { from, to } in moves {
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        }
        fs::hard_link(from, to)
            .and_then(|()| fs::remove_file(from))
            .context(|| format!("moving {} to {}", from.display(), to.display()))?;
        let name = from.file_name().unwrap_or_default().to_string_lossy();
        crate::warn!(
            "moved {name}, a snapshot ZooKeeper did not finish writing (the server stopped while \
             it synced), to {}: ZooKeeper would load it and fail to start; the server syncs \
             again. Delete it once the server serves.",
            to.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_snapshots_go_aside_and_nothing_is_replaced() {
        let dir = crate::testing::scratch_dir("unfinished");
        let version2 = dir.join("version-2");
        fs::create_dir_all(&version2).unwrap();
        assert_eq!(find(&dir.join("missing")).unwrap(), []);
        for name in ["snapshot.100000005", "log.100000001", "currentEpoch"] {
            fs::write(version2.join(name), name).unwrap();
        }
        assert_eq!(find(&dir).unwrap(), []);
        for round in ["first", "second"] {
            for name in ["snapshot.200000001.tmp", "snapshot.200000001.snappy.tmp"] {
                fs::write(version2.join(name), round).unwrap();
            }
            move_aside(&find(&dir).unwrap()).unwrap();
        }
        let aside = dir.join(ASIDE);
        let read = |name: &str| fs::read_to_string(aside.join(name)).unwrap();
        assert_eq!(read("snapshot.200000001.tmp"), "first");
        assert_eq!(read("snapshot.200000001.tmp.1"), "second");
        assert_eq!(read("snapshot.200000001.snappy.tmp.1"), "second");
        let mut left: Vec<_> = fs::read_dir(&version2)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["currentEpoch", "log.100000001", "snapshot.100000005"]
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
