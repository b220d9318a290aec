//! An in-memory, KurrentDB-compatible gRPC server, for development and tests.
//!
//! It speaks the KurrentDB wire protocol (v1 streams, v2 streams appends, server
//! features, gossip) and answers like a real node does, down to status codes,
//! trailers and in-band results, so that code tested against it works against
//! KurrentDB. Everything lives in memory and is gone when the server stops.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = kurrentdb_embedded::EmbeddedServer::start().await?;
//! println!("connect to {}", server.connection_string());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Layout (after tokio's mini-redis): [`log`] is the append-only record log,
//! [`index`] maps streams to their records, [`store`] puts both behind one lock
//! and implements the operations, [`subscriptions`] turns reads into streams
//! (catch-up, then live), and [`services`] holds one thin module per gRPC
//! service.
#![warn(missing_docs)]

pub mod index;
pub mod log;
pub mod persistent;
pub mod server;
pub mod services;
pub mod store;
pub mod subscriptions;

pub use server::{EmbeddedServer, ServerOptions};
pub use store::{Store, StoreOptions};
