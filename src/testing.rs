//! What the unit tests share.

use std::fs;
use std::path::PathBuf;

/// An empty directory for one test: `zkpod-NAME-PID` in the system's temporary directory,
/// emptied first when an earlier run left it behind.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkpod-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
