//! # kurrentdbclient
//!
//! An async client for [KurrentDB](https://www.kurrent.io) (formerly EventStoreDB),
//! speaking its gRPC protocol over tonic.
//!
//! The entry point is [`AsyncKurrentDBClient`]. A blocking twin with the same calls,
//! `KurrentDBClient`, lives in the `kurrentdbclient-blocking` crate.
#![warn(missing_docs)]

pub mod connection;
pub mod error;
pub mod proto;
pub mod types;

pub use connection::settings::{ConnectionSettings, NodePreference};
pub use error::{Error, Result};
pub use types::*;
