//! An in-memory, KurrentDB-compatible gRPC server, for development and tests.
//!
//! It speaks the KurrentDB wire protocol (v1 streams, v2 appends, persistent
//! subscriptions, server features, gossip) and answers like a real node does, down to status codes,
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
//! Layout (after tokio's mini-redis):
//! - `log`: the append-only record log and its positions;
//! - `index`: stream -> revisions, deletion and metadata;
//! - [`store`]: both behind one lock, and the domain operations (`store/write`:
//!   appends and deletes; `store/read`: stream and `$all` reads;
//!   `store/filter`: the `$all` filter);
//! - `subscriptions`: reads as streams of pages (catch-up, then live);
//! - `persistent/`: persistent-subscription groups, each with a driver task
//!   that sleeps until its next deadline or a wake-up;
//! - `services/`: one thin module per gRPC service;
//! - `logging`: what the server logs about connections and calls (a `tracing`
//!   layer around the services; quiet unless a subscriber listens);
//! - [`server`]: [`EmbeddedServer`], which serves them.
//!
//! Only what users, tests and the binary need is public: the server and its
//! options, the [`Store`] it hands out for inspection, and [`store::Matcher`]
//! (how client filter regexes are understood). The rest is internal.
#![warn(missing_docs)]

mod index;
mod log;
mod logging;
mod persistent;
pub mod server;
mod services;
pub mod store;
mod subscriptions;

pub use server::{EmbeddedServer, ServerOptions};
pub use store::{Store, StoreOptions};
