//! zkpod: one binary for the commands of a ZooKeeper container on Kubernetes.
//!
//! - `cli`: the table of commands, the one error type, and what commands share (value
//!   parsing, logging, output).
//! - `start`: start-zookeeper, phase by phase (flags → settings → plan → apply → exec).
//! - `probe`: zookeeper-ready and zookeeper-metrics, built on a four-letter-word client.
//! - `diagnose`: `zkpod diagnose`, why the ensemble is not healthy.
//! - `membership`: dynamic membership (ZooKeeper's reconfiguration): `zkpod join`, `zkpod leave`.
//! - `pid1`: `zkpod supervise`, the container's PID 1 (signals, spawn, credentials).

pub mod cli;
pub mod diagnose;
pub mod membership;
pub mod pid1;
pub mod probe;
pub mod start;
#[cfg(test)]
mod testing;
