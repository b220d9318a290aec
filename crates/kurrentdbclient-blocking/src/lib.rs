//! Blocking twin of [`kurrentdbclient`]: `KurrentDBClient`.
#![warn(missing_docs)]

pub use kurrentdbclient::*;
