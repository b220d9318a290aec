//! An in-memory, KurrentDB-compatible gRPC server.
#![warn(missing_docs)]
