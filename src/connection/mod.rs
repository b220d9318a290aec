//! Connecting to KurrentDB: connection strings, channels, TLS, credentials and
//! cluster discovery.

pub mod settings;
