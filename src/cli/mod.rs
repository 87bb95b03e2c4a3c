//! What every command uses: the one error type and its exit statuses (`error`), flag and
//! variable values that name where they came from (`values`), log lines (`log`), standard
//! output (`output`) and quoting for messages (`quote`).

#![forbid(unsafe_code)]

pub mod error;
pub mod log;
pub mod output;
pub mod quote;
pub mod values;

pub use error::{Error, Result};
