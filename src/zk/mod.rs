//! What zkpod knows of ZooKeeper itself, shared by the commands: the four-letter-word client
//! (`fourlw`), a session as the super user for reading and changing the membership
//! (`session`), the membership as ZooKeeper writes it (`members`), and the names of its files.

pub mod fourlw;
pub mod members;
pub mod session;

/// Whether ZooKeeper named this file while writing a snapshot it has not finished (any
/// compression): `snapshot.<zxid>.tmp`, renamed once it is whole.
pub fn is_unfinished_snapshot(name: &str) -> bool {
    name.starts_with("snapshot.") && name.ends_with(".tmp")
}
