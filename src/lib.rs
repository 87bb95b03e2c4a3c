//! zkpod: one binary for the commands of a ZooKeeper container on Kubernetes.
//!
//! `commands` holds the table of commands and picks one by the name zkpod is called by. The
//! commands, each a module that imports only downwards:
//! - `start`: start-zookeeper, phase by phase (flags → settings → plan → apply → exec).
//! - `probe`: zookeeper-ready and zookeeper-metrics.
//! - `diagnose`: `zkpod diagnose`, why the ensemble is not healthy.
//! - `membership`: dynamic membership's `zkpod join` and `zkpod leave`.
//! - `pid1`: `zkpod supervise`, the container's PID 1 (signals, spawn, credentials), which
//!   start-zookeeper becomes.
//!
//! What they share, below them:
//! - `empty_disk`: the guard that keeps a server whose disk is empty out of the quorum.
//! - `config`: start-zookeeper's flags and variables, the settings, this pod's identity and the
//!   files rendered from them.
//! - `zk`: what zkpod knows of ZooKeeper: the four-letter-word client, a session as the super
//!   user, the membership as ZooKeeper keeps it.
//! - `cli`: what every command uses: the error type, value parsing, logging, output.

// `unsafe` only where zkpod calls the operating system (fork and exec, signals, the libc calls
// nix lacks), each function that does saying so with `#[allow(unsafe_code)]` and each block
// with its SAFETY reason. Code that reads what servers, peers or HTTP clients send has none.
#![deny(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnose;
pub mod empty_disk;
pub mod membership;
pub mod pid1;
pub mod probe;
pub mod renew;
pub mod start;
#[cfg(test)]
mod testing;
pub mod tls;
pub mod zk;
