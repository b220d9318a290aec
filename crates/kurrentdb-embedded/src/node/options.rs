//! A node's options: [`ServerOptions`], which a single server and every node
//! of a cluster start with.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use crate::projections::RunProjections;
use crate::security::{OAuthOptions, Security};
use crate::store::{Store, StoreOptions};

/// The server version reported by `ServerFeatures` (the KurrentDB release whose
/// behaviour is imitated).
pub(crate) const SERVER_VERSION: &str = "25.1.0";

/// How to start an [`EmbeddedServer`](crate::EmbeddedServer), or each node of
/// an [`EmbeddedCluster`](crate::EmbeddedCluster) (its
/// [`server`](crate::ClusterOptions::server) options).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address to bind (default 127.0.0.1).
    pub host: IpAddr,
    /// The port (default 0: a free port chosen by the system).
    pub port: u16,
    /// The maximum size of an append in bytes (default 1 MiB, like KurrentDB's
    /// `MaxAppendSize`).
    pub max_append_size: u32,
    /// The maximum size of one v2 record in bytes (default 1 MiB).
    pub max_record_size: u32,
    /// The version reported by `ServerFeatures`.
    pub server_version: String,
    /// Which projections run (KurrentDB's `--run-projections`; default
    /// [`RunProjections::None`]: no projection subsystem, and the Projections
    /// service answers UNIMPLEMENTED).
    pub run_projections: RunProjections,
    /// Enable the standard projections (`$by_category`, `$by_event_type`,
    /// `$stream_by_category`, `$streams`, `$by_correlation_id`) at start
    /// (KurrentDB's `--start-standard-projections`; default false).
    pub start_standard_projections: bool,
    /// The host gossip and not-leader answers give clients for this node
    /// (KurrentDB's `--advertise-host-to-client-as`; default `None`: the
    /// address the node listens on).
    pub advertise_host_to_client_as: Option<String>,
    /// The port gossip and not-leader answers give clients for this node
    /// (KurrentDB's `--advertise-node-port-to-client-as`; default 0: the
    /// port the node listens on).
    pub advertise_node_port_to_client_as: u16,
    /// How the server is secured (default [`Security::Insecure`]: plain
    /// HTTP/2, what tests and the quickstart want; the binary requires a mode,
    /// as KurrentDB does).
    pub security: Security,
    /// Write, before anything else, the events a fresh KurrentDB node writes
    /// when it starts (`$epoch-information`, the `$scavenges` stream's
    /// metadata; see `store/system.rs`), so that `$all` starts as there:
    /// a read or subscription of `$all` with no filter sees these `$`-typed
    /// events first, and the first event a client appends is not at commit
    /// position 0 (default true; false gives an empty `$all`).
    pub startup_events: bool,
    /// Bearer (OAuth/OIDC access) tokens accepted beside users and user
    /// certificates, checked as KurrentDB's OAuth authentication checks them
    /// (default `None`: a bearer token that is not basic credentials leaves
    /// the call anonymous). A secure server only: an insecure one lets every
    /// call through, as KurrentDB's `--insecure`.
    pub oauth: Option<OAuthOptions>,
    /// Let anonymous callers read `/stats` and `/metrics` over HTTP on a
    /// secure server (KurrentDB's `--allow-anonymous-endpoint-access`;
    /// default false: they need a login, as there). An insecure server
    /// serves everyone.
    pub allow_anonymous_endpoint_access: bool,
    /// Let anonymous callers read `/gossip` over HTTP on a secure server
    /// whatever [`allow_anonymous_endpoint_access`] says (KurrentDB's
    /// `--override-anonymous-endpoint-access-for-gossip`; default true, as
    /// there: clients discover a cluster through it).
    ///
    /// [`allow_anonymous_endpoint_access`]: Self::allow_anonymous_endpoint_access
    pub override_anonymous_endpoint_access_for_gossip: bool,
    /// How many connections the node holds open at once, gRPC and HTTP,
    /// plain or TLS (default 1024; at least 1). A
    /// connection past it is closed as soon as it is accepted, as Kestrel
    /// closes one past its `MaxConcurrentConnections`.
    ///
    /// KurrentDB leaves Kestrel's limit unset (`kestrelsettings.json`);
    /// this server keeps one by default, so that clients that open many
    /// connections and send little (a request head may hold up to 400 KiB
    /// for 30 s, or an idle connection stay open) bound the memory and file
    /// descriptors it holds.
    pub max_connections: usize,
}

/// The default of [`ServerOptions::max_connections`].
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl Default for ServerOptions {
    fn default() -> Self {
        let store = StoreOptions::default();
        ServerOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            max_append_size: store.max_append_size,
            max_record_size: store.max_record_size,
            server_version: SERVER_VERSION.to_owned(),
            run_projections: RunProjections::None,
            start_standard_projections: false,
            advertise_host_to_client_as: None,
            advertise_node_port_to_client_as: 0,
            security: Security::Insecure,
            startup_events: true,
            oauth: None,
            allow_anonymous_endpoint_access: false,
            override_anonymous_endpoint_access_for_gossip: true,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServerOptions {
    /// A fresh store with these options' limits, holding the startup events
    /// when [`startup_events`](Self::startup_events) asks for them.
    pub(crate) fn new_store(&self) -> Arc<Store> {
        let store = Arc::new(Store::new(StoreOptions {
            max_append_size: self.max_append_size,
            max_record_size: self.max_record_size,
        }));
        if self.startup_events {
            store.write_startup_events();
        }
        store
    }

    /// The host and port clients are told for a node listening on `addr`.
    pub(crate) fn advertised(&self, addr: SocketAddr) -> (String, u16) {
        let host = self
            .advertise_host_to_client_as
            .clone()
            .unwrap_or_else(|| addr.ip().to_string());
        let port = match self.advertise_node_port_to_client_as {
            0 => addr.port(),
            port => port,
        };
        (host, port)
    }
}
