//! Dynamic membership's commands: `zkpod join` (run by start-zookeeper for a server that is
//! not a member yet) and `zkpod leave` (the preStop hook). What they read and change, the
//! membership as ZooKeeper keeps it and a session as the super user, is in `crate::zk`.

#![forbid(unsafe_code)]

pub mod join;
pub mod leave;
