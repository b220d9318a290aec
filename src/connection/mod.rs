//! Connecting to KurrentDB: connection strings ([`settings`], a folder of its
//! own: the settings, their parser and the query options), call credentials
//! ([`credentials`]), and, inside the crate, channels and TLS (`channel`) and
//! cluster discovery (`discovery`).
//!
//! A `Connection` owns the channel to the node the client currently talks to.
//! With one endpoint (and no `+discover`) that is simply the endpoint; otherwise
//! the node is chosen by gossip (`discovery`) according to the node preference.
//! Calls take a snapshot of the current node (`NodeHandle`); when a call fails
//! because the node went away or is not the leader, the call site asks for a
//! `Connection::reconnect`, naming the node generation it saw so that many
//! concurrent failures cause one reconnection.

mod channel;
pub mod credentials;
mod discovery;
pub mod settings;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::RwLock;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::Channel;

use self::channel::{TlsMaterial, build_channel};
use self::credentials::Credentials;
use self::settings::{ConnectionSettings, Endpoint, NodePreference};
use crate::error::{Error, Result};

/// The node a call is sent to: its address, its channel, and the generation of
/// the connection (bumped by every reconnection).
#[derive(Clone)]
pub(crate) struct NodeHandle {
    pub(crate) endpoint: Endpoint,
    pub(crate) channel: Channel,
    pub(crate) generation: u64,
}

/// The client's connection to a KurrentDB node or cluster.
pub(crate) struct Connection {
    settings: ConnectionSettings,
    tls: TlsMaterial,
    node: RwLock<Option<NodeHandle>>,
    generation: AtomicU64,
    reconnect_lock: tokio::sync::Mutex<()>,
    closed: AtomicBool,
    closed_tx: tokio::sync::watch::Sender<bool>,
    default_credentials: Option<Credentials>,
}

impl Connection {
    /// Builds the connection. With one endpoint and no discovery the channel is
    /// made at once (connecting lazily); otherwise the cluster is discovered now.
    pub(crate) async fn open(settings: ConnectionSettings) -> Result<Arc<Self>> {
        let tls = TlsMaterial::load(&settings)?;
        // A bearer token given with the settings takes the place of the user
        // info. Either is sent over TLS and over `tls=false` alike, as the
        // official clients do: a node started with `--insecure` ignores it.
        let default_credentials = match (settings.bearer_token(), settings.username()) {
            (Some(token), _) => Some(Credentials::bearer(token)),
            (None, Some(u)) => Some(Credentials::new(u, settings.password().unwrap_or_default())),
            (None, None) => None,
        };
        // A token that cannot be sent fails here rather than at each call.
        if let Some(c) = &default_credentials {
            c.header_value()?;
        }
        let (closed_tx, _) = tokio::sync::watch::channel(false);
        let connection = Arc::new(Connection {
            settings,
            tls,
            node: RwLock::new(None),
            generation: AtomicU64::new(0),
            reconnect_lock: tokio::sync::Mutex::new(()),
            closed: AtomicBool::new(false),
            closed_tx,
            default_credentials,
        });
        if connection.is_direct() {
            let endpoint = connection.settings.endpoints()[0].clone();
            connection.install(endpoint)?;
        } else {
            connection.reconnect(None, None).await?;
        }
        Ok(connection)
    }

    /// The settings the connection was made with.
    pub(crate) fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Whether the client talks to the one given endpoint, without discovery.
    pub(crate) fn is_direct(&self) -> bool {
        !self.settings.discover() && self.settings.endpoints().len() == 1
    }

    /// The current node, or [`Error::ClientClosed`].
    pub(crate) async fn current(&self) -> Result<NodeHandle> {
        self.check_open()?;
        if let Some(node) = self.node.read().clone() {
            return Ok(node);
        }
        self.reconnect(None, None).await?;
        self.node
            .read()
            .clone()
            .ok_or_else(|| Error::DiscoveryFailed("no node selected".into()))
    }

    /// Fails with [`Error::ClientClosed`] after [`close`](Self::close).
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::ClientClosed)
        } else {
            Ok(())
        }
    }

    /// Replaces the current node's channel, unless another call has already
    /// replaced the generation `seen`. `to` names the node to use (a leader
    /// reported by a not-leader error); without it the node is rediscovered (or,
    /// for a direct connection, the channel to the one endpoint is rebuilt).
    pub(crate) async fn reconnect(&self, seen: Option<u64>, to: Option<Endpoint>) -> Result<()> {
        let _guard = self.reconnect_lock.lock().await;
        self.check_open()?;
        if seen.is_some_and(|seen| self.generation.load(Ordering::Acquire) != seen) {
            return Ok(());
        }
        let endpoint = match to {
            Some(endpoint) => endpoint,
            None if self.is_direct() => self.settings.endpoints()[0].clone(),
            None => {
                let metadata = self.call_metadata(None, false)?;
                discovery::discover(&self.settings, &self.tls, &metadata).await?
            }
        };
        self.install(endpoint)
    }

    fn install(&self, endpoint: Endpoint) -> Result<()> {
        let channel = build_channel(&self.settings, &self.tls, &endpoint)?;
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        tracing::debug!(%endpoint, generation, "connected channel");
        *self.node.write() = Some(NodeHandle {
            endpoint,
            channel,
            generation,
        });
        Ok(())
    }

    /// Closes the connection: every later call, and every open read or
    /// subscription, ends with [`Error::ClientClosed`].
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closed_tx.send_replace(true);
        self.node.write().take();
    }

    /// A receiver that sees `true` once the connection is closed.
    pub(crate) fn closed_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closed_tx.subscribe()
    }

    /// Builds a call's request metadata: credentials (per-call ones override the
    /// connection's), `requires-leader`, and `connection-name`.
    ///
    /// A bearer token that cannot be a header value is refused with
    /// [`Error::InvalidBearerToken`] before anything is sent.
    pub(crate) fn call_metadata(
        &self,
        credentials: Option<&Credentials>,
        requires_leader: bool,
    ) -> Result<MetadataMap> {
        let mut meta = MetadataMap::new();
        if let Some(c) = credentials.or(self.default_credentials.as_ref()) {
            meta.insert("authorization", c.header_value()?);
        }
        let leader = requires_leader || self.settings.node_preference() == NodePreference::Leader;
        meta.insert(
            "requires-leader",
            MetadataValue::from_static(if leader { "true" } else { "false" }),
        );
        if let Ok(name) = MetadataValue::try_from(self.settings.connection_name()) {
            meta.insert("connection-name", name);
        }
        Ok(meta)
    }
}
