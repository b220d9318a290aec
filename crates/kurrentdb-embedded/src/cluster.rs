//! [`EmbeddedCluster`]: several nodes in one process, each its own gRPC
//! endpoint, sharing one log.
//!
//! The nodes share one [`Store`]: an event a leader acknowledged is in the log
//! every node reads, so no election loses it (on KurrentDB, a write is
//! acknowledged once a quorum has it, and the elected leader is one of the
//! most up to date: the same promise). What is simulated honestly is what
//! clients see: each node serves its own port, answers in its role (see
//! `node/gate.rs`: a follower denies writes that require the leader with
//! KurrentDB's not-leader answer naming the leader, and serves reads), gossip
//! reports every member (`membership.rs`), and each node can be stopped,
//! restarted and partitioned on its own (`node/fate.rs`: its connections are
//! cut, or hang). A node is what `node/` makes it, as for a single server:
//! this file starts several and stops, partitions and restarts them. When
//! the leader goes, a new one is elected [`ClusterOptions::election_timeout`]
//! later if a quorum of the voting nodes is up.
//!
//! Persistent subscriptions live on the leader (the other nodes deny their
//! calls, see `node/gate.rs`). As on KurrentDB, whose `PersistentSubscriptionService`
//! shuts its subscriptions down when its node stops leading
//! (`StateChangeMessage`) and loads every group from its checkpoint when it
//! becomes leader (`BecomeLeader`, `StartSubscriptions`), each election
//! restarts the (shared) subsystem: the consumers still joined are dropped
//! (`persistent-subscription-dropped`), and the groups go on from their last
//! checkpoint, so events acknowledged after it are delivered again (at least
//! once, never lost).
//!
//! Security is the nodes' [`ServerOptions::security`]: insecure, the given
//! certificates on every node, or [`Security::Dev`](crate::Security::Dev):
//! one generated CA signing a certificate for `localhost` and `127.0.0.1`
//! for each node, the CA kept in memory ([`EmbeddedCluster::ca_pem`]) and
//! written to a temporary file ([`EmbeddedCluster::ca_file`]) that the
//! connection string names as `tlsCaFile`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

pub use crate::membership::NodeRole;
use crate::membership::{Member, Membership};
use crate::node::{
    Fate, NodeRoutes, RoleGateLayer, ServerOptions, ServerTls, SharedServices, connection_string,
    serve, stop_task,
};
use crate::security::ServerCertificates;
use crate::store::Store;

/// How to start an [`EmbeddedCluster`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The number of voting nodes (KurrentDB's `--cluster-size`; default 3).
    pub cluster_size: usize,
    /// The number of read-only replicas after them (KurrentDB's
    /// `--read-only-replica` nodes; default 0). They follow the leader, serve
    /// reads, and neither vote nor lead.
    pub read_only_replicas: usize,
    /// How long after the leader is lost a new one is elected (KurrentDB's
    /// `LeaderElectionTimeoutMs`; default 1 s).
    pub election_timeout: Duration,
    /// The options of every node. `port` is the first node's port, the others
    /// follow it (`port`, `port + 1`, ...); 0 gives each node a free port.
    /// `advertise_node_port_to_client_as`, when set, is the first node's
    /// advertised port, the others following it the same way.
    pub server: ServerOptions,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            cluster_size: 3,
            read_only_replicas: 0,
            election_timeout: Duration::from_secs(1),
            server: ServerOptions::default(),
        }
    }
}

/// How a partitioned node looks to the clients that try to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// Connections are refused, and open ones are cut.
    Refuse,
    /// Connections are accepted but nothing is answered, and open ones hang.
    Hang,
}

/// One node: its address, its connections' fate, and the task serving it
/// (none while stopped or refusing).
#[derive(Debug)]
struct Node {
    addr: SocketAddr,
    fate: watch::Sender<Fate>,
    serving: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
    /// `true` once the Operations service's `Shutdown` stopped the node.
    shut_down: watch::Receiver<bool>,
    /// The node's TLS certificates (`None`: insecure).
    certificates: Option<ServerCertificates>,
}

/// A running cluster of embedded nodes in the current tokio runtime. It stops
/// when dropped or on [`shutdown`](EmbeddedCluster::shutdown).
///
/// ```
/// use std::time::Duration;
/// use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster};
/// use kurrentdbclient::{AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, StreamState};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut cluster = EmbeddedCluster::start_with(ClusterOptions {
///     election_timeout: Duration::from_millis(100),
///     ..ClusterOptions::default()
/// })
/// .await?;
/// // Discovery through the seeds finds the leader (node 0).
/// let client = AsyncKurrentDBClient::connect(&cluster.connection_string()).await?;
/// let before = cluster.store().log_len();
/// let options = AppendToStreamOptions::default();
/// let append = || {
///     client.append_to_stream(
///         "orders",
///         StreamState::Any,
///         [NewEvent::new("OrderPlaced", "{}")],
///         &options,
///     )
/// };
/// append().await?;
/// // Stop the leader: node 1 is elected 100 ms later, and the client finds it.
/// cluster.stop_node(0).await?;
/// append().await?;
/// assert_eq!(cluster.leader(), Some(1));
/// assert_eq!(cluster.store().log_len(), before + 2);
/// cluster.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EmbeddedCluster {
    store: Arc<Store>,
    /// The cluster's TLS material (`None`: insecure).
    tls: Option<ServerTls>,
    membership: Arc<Membership>,
    services: SharedServices,
    nodes: Vec<Node>,
}

impl EmbeddedCluster {
    /// Starts `cluster_size` voting nodes on 127.0.0.1 and free ports, with
    /// the default options otherwise.
    pub async fn start(cluster_size: usize) -> std::io::Result<EmbeddedCluster> {
        Self::start_with(ClusterOptions {
            cluster_size,
            ..ClusterOptions::default()
        })
        .await
    }

    /// Starts a cluster with the given options. The first node leads.
    pub async fn start_with(options: ClusterOptions) -> std::io::Result<EmbeddedCluster> {
        let count = options
            .cluster_size
            .checked_add(options.read_only_replicas)
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a cluster has 1 to 64 nodes",
                )
            })?;
        if options.cluster_size == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a cluster needs at least one voting node",
            ));
        }
        let server = &options.server;
        let mut listeners = Vec::with_capacity(count);
        let mut members = Vec::with_capacity(count);
        for i in 0..count {
            let port = offset(server.port, i)?;
            let listener = TcpListener::bind(SocketAddr::new(server.host, port)).await?;
            let addr = listener.local_addr()?;
            let (host, mut advertised_port) = server.advertised(addr);
            if server.advertise_node_port_to_client_as != 0 {
                advertised_port = offset(server.advertise_node_port_to_client_as, i)?;
            }
            members.push(Member::new(
                host,
                advertised_port,
                i >= options.cluster_size,
            ));
            listeners.push((listener, addr));
        }
        let membership = Arc::new(Membership::new(members, options.election_timeout));
        let tls = ServerTls::prepare(&server.security)?;
        let store = server.new_store();
        let services = SharedServices::new(&store, server);
        let persistent = services.persistent.clone();
        membership.on_election(move || persistent.restart());
        let mut cluster = EmbeddedCluster {
            store,
            tls,
            membership,
            services,
            nodes: Vec::with_capacity(count),
        };
        for (index, (listener, addr)) in listeners.into_iter().enumerate() {
            let (fate, _) = watch::channel(Fate::default());
            // Dev mode: each node its own certificate, signed by the one CA.
            let certificates = match &cluster.tls {
                None => None,
                Some(ServerTls { dev: Some(dev), .. }) => Some(dev.node_certificates()?),
                Some(tls) => Some(tls.certificates.clone()),
            };
            cluster.nodes.push(Node {
                addr,
                fate,
                serving: None,
                shut_down: watch::channel(false).1,
                certificates,
            });
            cluster.serve_node(index, listener)?;
        }
        tracing::info!(nodes = count, "embedded KurrentDB cluster listening");
        Ok(cluster)
    }

    fn serve_node(&mut self, index: usize, listener: TcpListener) -> std::io::Result<()> {
        let (shutdown, _) = watch::channel(false);
        let addr = self.nodes[index].addr;
        let routes = NodeRoutes {
            grpc: self.services.routes(&self.membership, index, &shutdown),
            http: self
                .services
                .http(&self.store, &self.membership, index, addr, &shutdown),
            metrics: self.services.metrics.clone(),
            max_connections: self.services.max_connections,
        };
        let gate = RoleGateLayer::new(self.membership.clone(), index);
        let node = &mut self.nodes[index];
        node.shut_down = shutdown.subscribe();
        let fate = node.fate.subscribe();
        let tls = match &node.certificates {
            Some(certificates) => Some(certificates.rustls_config()?),
            None => None,
        };
        node.serving = Some(serve(listener, routes, gate, Some(fate), tls, shutdown)?);
        Ok(())
    }

    fn node(&self, index: usize) -> std::io::Result<&Node> {
        self.nodes.get(index).ok_or_else(|| no_such_node(index))
    }

    /// The number of nodes (voting nodes and read-only replicas).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no node (never: a cluster has one at least).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The address node `index` listens on.
    ///
    /// # Panics
    /// If there is no node `index`.
    pub fn addr(&self, index: usize) -> SocketAddr {
        self.nodes[index].addr
    }

    /// Every node's `host:port`, comma-separated: a seed list.
    pub fn seeds(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.addr.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A connection string with every node as a seed. Insecure:
    /// `kurrentdb://H:P1,H:P2,H:P3?tls=false`; secure, with KurrentDB's
    /// default `admin:changeit` credentials,
    /// `kurrentdb://admin:changeit@H:P1,H:P2,H:P3`, and in
    /// [`Security::Dev`](crate::Security::Dev) `?tlsCaFile=` naming a file
    /// holding the dev CA (written at start, removed when the cluster is
    /// dropped).
    pub fn connection_string(&self) -> String {
        connection_string(self.tls.as_ref(), &self.seeds())
    }

    /// Whether the nodes speak TLS.
    pub fn is_secure(&self) -> bool {
        self.tls.is_some()
    }

    /// The dev CA certificate (PEM) that signed every node's certificate, in
    /// [`Security::Dev`](crate::Security::Dev): what clients trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|tls| tls.dev.as_ref())
            .map(|dev| dev.ca_pem())
    }

    /// The file holding [`EmbeddedCluster::ca_pem`], in
    /// [`Security::Dev`](crate::Security::Dev).
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().and_then(ServerTls::ca_path)
    }

    /// The role of node `index` now (an election due by now has happened).
    pub fn role(&self, index: usize) -> NodeRole {
        self.membership.role(index)
    }

    /// The index of the leader now, if there is one.
    pub fn leader(&self) -> Option<usize> {
        self.membership.leader()
    }

    /// The epoch number: 1 at start, one more for every election.
    pub fn epoch(&self) -> u64 {
        self.membership.epoch()
    }

    /// Waits until there is a leader, at most `timeout`; returns its index.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Option<usize> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(leader) = self.leader() {
                return Some(leader);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The shared store, for in-process inspection.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Sets node `index`'s `NodePriority`, a hint for the next election
    /// (the highest priority among the reachable voters leads).
    pub fn set_node_priority(&self, index: usize, priority: i32) -> std::io::Result<()> {
        self.node(index)?;
        self.membership.set_priority(index, priority);
        Ok(())
    }

    /// Stops node `index`: its connections are cut, its port refuses
    /// connections, and gossip reports it `Shutdown`. A stopped leader is
    /// replaced after the election timeout.
    pub async fn stop_node(&mut self, index: usize) -> std::io::Result<()> {
        self.take_down(index, true).await
    }

    /// Partitions node `index` from the clients and the other nodes: its port
    /// refuses or hangs; the others see it not alive (in its last state).
    pub async fn partition_node(&mut self, index: usize, how: Partition) -> std::io::Result<()> {
        match how {
            Partition::Refuse => self.take_down(index, false).await,
            Partition::Hang => {
                self.node(index)?;
                self.membership.down(index, false);
                self.nodes[index].fate.send_modify(|f| f.hung = true);
                Ok(())
            }
        }
    }

    async fn take_down(&mut self, index: usize, stopped: bool) -> std::io::Result<()> {
        self.node(index)?;
        self.membership.down(index, stopped);
        let node = &mut self.nodes[index];
        cut(&node.fate);
        if let Some((stop, task)) = node.serving.take() {
            let _ = stop.send(());
            stop_task(task).await;
        }
        Ok(())
    }

    /// Brings node `index` back after a stop or a partition, on its port: it
    /// follows the leader (or, without one, joins the pending election).
    /// Connections left hanging by a partition are cut.
    pub async fn restart_node(&mut self, index: usize) -> std::io::Result<()> {
        self.node(index)?;
        let node = &mut self.nodes[index];
        let addr = node.addr;
        // A node shut down through the Operations service is served again
        // like a stopped one, once its serving task has ended.
        if *node.shut_down.borrow()
            && let Some((_, task)) = node.serving.take()
        {
            stop_task(task).await;
        }
        let node = &self.nodes[index];
        if node.serving.is_some() {
            // Running, or hanging: cut what hung and serve on.
            if node.fate.borrow().hung {
                cut(&node.fate);
            }
        } else {
            let listener = TcpListener::bind(addr).await?;
            self.serve_node(index, listener)?;
        }
        self.membership.up(index);
        Ok(())
    }

    /// Stops every node and waits until they have stopped.
    pub async fn shutdown(mut self) {
        for index in 0..self.nodes.len() {
            let _ = self.take_down(index, true).await;
        }
    }
}

/// Cuts every connection of a node, and ends a hang.
fn cut(fate: &watch::Sender<Fate>) {
    fate.send_modify(|f| {
        f.generation = f.generation.wrapping_add(1);
        f.hung = false;
    });
}

fn offset(port: u16, index: usize) -> std::io::Result<u16> {
    if port == 0 {
        return Ok(0);
    }
    u16::try_from(index)
        .ok()
        .and_then(|i| port.checked_add(i))
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the ports from {port} for {} nodes pass 65535", index + 1),
            )
        })
}

fn no_such_node(index: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("no node {index} in the cluster"),
    )
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            cut(&node.fate);
            if let Some((stop, task)) = node.serving.take() {
                let _ = stop.send(());
                task.abort();
            }
        }
    }
}
