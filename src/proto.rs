//! Generated KurrentDB wire types and gRPC stubs.
//!
//! **Not covered by the crate's semver guarantee.** These are prost messages
//! and tonic stubs, generated from the `.proto` files: they change when the
//! protocol files do, and when this crate moves to a new prost or tonic (0.x
//! crates), in any release. The module is public for the embedded server
//! (`kurrentdb-embedded` implements the services with the `server` feature's
//! stubs) and for tests and benches that speak the protocol directly;
//! applications use the crate's typed API, which never exposes these types.
//!
//! The `.proto` sources live in the crate's `proto/` directory and are compiled by
//! `build.rs`. The module tree mirrors the protobuf packages, so generated code can
//! refer across packages. Most code should use the short aliases below:
//!
//! | alias | protobuf package |
//! |---|---|
//! | [`shared`] | `event_store.client` (UUID, Empty, StreamIdentifier, error payloads) |
//! | [`streams`] | `event_store.client.streams` |
//! | [`persistent`] | `event_store.client.persistent_subscriptions` |
//! | [`projections`] | `event_store.client.projections` |
//! | [`gossip`] | `event_store.client.gossip` |
//! | [`server_features`] | `event_store.client.server_features` |
//! | [`operations`] | `event_store.client.operations` |
//! | [`users`] | `event_store.client.users` |
//! | [`monitoring`] | `event_store.client.monitoring` |
//! | [`v2`] | `kurrentdb.protocol.v2.streams` |
//! | [`v2_errors`] | `kurrentdb.protocol.v2.streams.errors` |
//! | [`rpc`] | `kurrent.rpc` |
//! | [`status`] | `google.rpc` (Status, Code) |
//!
//! Each service module has a `<service>_client` submodule (for example
//! [`streams::streams_client::StreamsClient`]). With the `server` cargo feature,
//! each also has a `<service>_server` submodule holding the service trait and the
//! tower service wrapper (for example `streams::streams_server::StreamsServer`).
//!
//! `bytes` fields are generated as [`bytes::Bytes`], so event payloads are shared,
//! not copied. Every message implements [`prost::Name`], so error details can be
//! packed with [`prost_types::Any::from_msg`] and unpacked with
//! [`prost_types::Any::to_msg`] (type URLs are `type.googleapis.com/<package>.<Message>`).

/// Packages under `event_store` (the v1 gRPC API).
pub mod event_store {
    /// Package `event_store.client`: types shared by all v1 services.
    #[allow(
        missing_docs,
        unreachable_pub,
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        rustdoc::all
    )]
    pub mod client {
        include!(concat!(env!("OUT_DIR"), "/event_store.client.rs"));

        /// Package `event_store.client.streams`: reads, subscriptions, appends, deletes.
        pub mod streams {
            include!(concat!(env!("OUT_DIR"), "/event_store.client.streams.rs"));
        }

        /// Package `event_store.client.persistent_subscriptions`.
        pub mod persistent_subscriptions {
            include!(concat!(
                env!("OUT_DIR"),
                "/event_store.client.persistent_subscriptions.rs"
            ));
        }

        /// Package `event_store.client.projections`.
        pub mod projections {
            include!(concat!(
                env!("OUT_DIR"),
                "/event_store.client.projections.rs"
            ));
        }

        /// Package `event_store.client.gossip`: cluster membership.
        pub mod gossip {
            include!(concat!(env!("OUT_DIR"), "/event_store.client.gossip.rs"));
        }

        /// Package `event_store.client.server_features`: capability discovery.
        pub mod server_features {
            include!(concat!(
                env!("OUT_DIR"),
                "/event_store.client.server_features.rs"
            ));
        }

        /// Package `event_store.client.operations`: scavenges and node admin.
        pub mod operations {
            include!(concat!(
                env!("OUT_DIR"),
                "/event_store.client.operations.rs"
            ));
        }

        /// Package `event_store.client.users`: user management.
        pub mod users {
            include!(concat!(env!("OUT_DIR"), "/event_store.client.users.rs"));
        }

        /// Package `event_store.client.monitoring`: server statistics.
        pub mod monitoring {
            include!(concat!(
                env!("OUT_DIR"),
                "/event_store.client.monitoring.rs"
            ));
        }
    }
}

/// Packages under `google`.
pub mod google {
    /// Package `google.rpc`: the rich error `Status` and the `Code` enum.
    #[allow(
        missing_docs,
        unreachable_pub,
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        rustdoc::all
    )]
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
    }
}

/// Packages under `kurrentdb` (the v2 gRPC API).
pub mod kurrentdb {
    /// Package `kurrentdb.protocol`.
    pub mod protocol {
        /// Package `kurrentdb.protocol.v2`.
        pub mod v2 {
            /// Package `kurrentdb.protocol.v2.streams`: multi-stream appends.
            #[allow(
                missing_docs,
                unreachable_pub,
                clippy::all,
                clippy::pedantic,
                clippy::nursery,
                rustdoc::all
            )]
            pub mod streams {
                include!(concat!(
                    env!("OUT_DIR"),
                    "/kurrentdb.protocol.v2.streams.rs"
                ));

                /// Package `kurrentdb.protocol.v2.streams.errors`: v2 error details.
                pub mod errors {
                    include!(concat!(
                        env!("OUT_DIR"),
                        "/kurrentdb.protocol.v2.streams.errors.rs"
                    ));
                }
            }
        }
    }
}

/// Packages under `kurrent`.
pub mod kurrent {
    /// Package `kurrent.rpc`: server-wide v2 error details.
    #[allow(
        missing_docs,
        unreachable_pub,
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        rustdoc::all
    )]
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/kurrent.rpc.rs"));
    }
}

pub use event_store::client as shared;
pub use event_store::client::gossip;
pub use event_store::client::monitoring;
pub use event_store::client::operations;
pub use event_store::client::persistent_subscriptions as persistent;
pub use event_store::client::projections;
pub use event_store::client::server_features;
pub use event_store::client::streams;
pub use event_store::client::users;
pub use google::rpc as status;
pub use kurrent::rpc;
pub use kurrentdb::protocol::v2::streams as v2;
pub use kurrentdb::protocol::v2::streams::errors as v2_errors;
