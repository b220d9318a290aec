//! Who is who: the members of a node's cluster, their roles, and elections.
//!
//! One [`Membership`] is shared by every node of an
//! [`EmbeddedCluster`](crate::EmbeddedCluster) (and a single
//! [`EmbeddedServer`](crate::EmbeddedServer) has one of its own, with one
//! member, always the leader): gossip and the Operations service read it,
//! and the role gate (`node/gate.rs`) asks it where a call may go.
//!
//! The nodes share one log, so the facts KurrentDB elects by (the most recent
//! epoch and writer checkpoint, then `NodePriority`) are equal but for the
//! priority: a new leader is the reachable voting member of highest priority
//! (the lowest index among equals). Read-only replicas never vote nor lead.
//! An election needs a quorum of the voting members (`ClusterSize / 2 + 1`, as
//! KurrentDB's `QuorumSize`) to be reachable.
//!
//! Elections are evaluated lazily: when the leader is lost, the time is noted,
//! and the first look at the membership [`election_timeout`] later (a gossip
//! read, a call through the gate, a test asking for the leader) elects.
//! Nothing polls; the bound is exact: from the leader's loss, a node knows its
//! new leader `election_timeout` later (KurrentDB's `LeaderElectionTimeoutMs`,
//! 1 s by default), provided a quorum is up.
//!
//! [`election_timeout`]: crate::ClusterOptions::election_timeout

use std::time::{Duration, Instant};

use kurrentdbclient::proto::gossip::member_info::VNodeState;
use parking_lot::Mutex;
use uuid::Uuid;

/// A node's role as the cluster sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeRole {
    /// Takes writes.
    Leader,
    /// A voting member following the leader: serves reads, refuses writes
    /// that require the leader.
    Follower,
    /// A non-voting member following the leader (KurrentDB's
    /// `--read-only-replica`): serves reads, never writes.
    ReadOnlyReplica,
    /// Up but without a leader (an election is pending, or no quorum).
    Unknown,
    /// Stopped, or cut off from the others by a partition.
    Down,
}

/// Where a call that needs the leader should go, from one node's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// This node is the leader.
    Here,
    /// Another node leads: its advertised host, port and instance id.
    Leader {
        host: String,
        port: u16,
        instance_id: Uuid,
    },
    /// No leader is known (KurrentDB answers "Server Is Not Ready").
    NotReady,
}

/// One member of the cluster.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) instance_id: Uuid,
    /// The host and port clients are told (gossip, not-leader trailers).
    pub(crate) advertised_host: String,
    pub(crate) advertised_port: u16,
    pub(crate) read_only: bool,
    pub(crate) priority: i32,
    /// Serving and reachable by the others.
    up: bool,
    /// Stopped on purpose (gossip says `Shutdown`) rather than cut off.
    stopped: bool,
    /// The last state the member was known in.
    state: VNodeState,
}

impl Member {
    /// A member advertised to clients at `host:port`.
    pub(crate) fn new(advertised_host: String, advertised_port: u16, read_only: bool) -> Self {
        Member {
            instance_id: Uuid::new_v4(),
            advertised_host,
            advertised_port,
            read_only,
            priority: 0,
            up: true,
            stopped: false,
            state: VNodeState::Unknown,
        }
    }
}

/// What gossip says about one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberView {
    pub(crate) instance_id: Uuid,
    pub(crate) state: VNodeState,
    pub(crate) is_alive: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The epoch the member is in (one per elected leader), and its id.
    pub(crate) epoch: u64,
    pub(crate) epoch_id: Uuid,
    /// A read-only replica.
    pub(crate) read_only: bool,
    /// Its `NodePriority`.
    pub(crate) priority: i32,
}

#[derive(Debug)]
struct Members {
    nodes: Vec<Member>,
    leader: Option<usize>,
    /// Incremented by every election, as KurrentDB's epoch number.
    epoch: u64,
    /// A new id for every epoch, as KurrentDB's `EpochId`.
    epoch_id: Uuid,
    /// When the last leader was lost (an election is due `timeout` later).
    leader_lost_at: Option<Instant>,
    /// A leader resigning: the election it starts prefers any other voter.
    resigning: Option<usize>,
}

/// The shared membership of a cluster (see the module docs).
#[derive(Debug)]
pub(crate) struct Membership {
    inner: Mutex<Members>,
    election_timeout: Duration,
    /// Called after each election (see [`Membership::on_election`]).
    on_election: std::sync::OnceLock<ElectionHook>,
}

/// What runs when a new leader is elected.
struct ElectionHook(Box<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for ElectionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ElectionHook")
    }
}

impl Membership {
    /// A cluster of `nodes` whose first voting member leads from the start.
    pub(crate) fn new(nodes: Vec<Member>, election_timeout: Duration) -> Self {
        let mut members = Members {
            nodes,
            leader: None,
            epoch: 0,
            epoch_id: Uuid::nil(),
            leader_lost_at: Some(Instant::now()),
            resigning: None,
        };
        members.elect();
        Membership {
            inner: Mutex::new(members),
            election_timeout,
            on_election: std::sync::OnceLock::new(),
        }
    }

    /// A single node: one member, the leader.
    pub(crate) fn single(host: String, port: u16) -> Self {
        Self::new(vec![Member::new(host, port, false)], Duration::ZERO)
    }

    /// Sets what runs after every later election, once the membership's lock
    /// is released (the cluster restarts its persistent subscriptions there).
    /// A second hook is ignored.
    pub(crate) fn on_election(&self, hook: impl Fn() + Send + Sync + 'static) {
        let _ = self.on_election.set(ElectionHook(Box::new(hook)));
    }

    fn with<T>(&self, f: impl FnOnce(&mut Members) -> T) -> T {
        let (out, elected) = {
            let mut members = self.inner.lock();
            let before = members.epoch;
            members.advance(self.election_timeout);
            let out = f(&mut members);
            (out, members.epoch != before)
        };
        if elected && let Some(hook) = self.on_election.get() {
            (hook.0)();
        }
        out
    }

    /// Where a call on node `index` that needs the leader goes.
    pub(crate) fn route(&self, index: usize) -> Route {
        self.with(|m| match m.leader {
            Some(leader) if leader == index => Route::Here,
            Some(leader) if m.nodes.get(index).is_some_and(|n| n.up) => {
                let node = &m.nodes[leader];
                Route::Leader {
                    host: node.advertised_host.clone(),
                    port: node.advertised_port,
                    instance_id: node.instance_id,
                }
            }
            _ => Route::NotReady,
        })
    }

    /// Whether node `index` is a read-only replica.
    pub(crate) fn is_read_only(&self, index: usize) -> bool {
        self.inner
            .lock()
            .nodes
            .get(index)
            .is_some_and(|n| n.read_only)
    }

    /// Every member as gossip reports it.
    pub(crate) fn view(&self) -> Vec<MemberView> {
        self.with(|m| {
            let (epoch, epoch_id) = (m.epoch, m.epoch_id);
            m.nodes
                .iter()
                .map(|n| MemberView {
                    instance_id: n.instance_id,
                    state: if n.stopped {
                        VNodeState::Shutdown
                    } else {
                        n.state
                    },
                    is_alive: n.up,
                    host: n.advertised_host.clone(),
                    port: n.advertised_port,
                    epoch,
                    epoch_id,
                    read_only: n.read_only,
                    priority: n.priority,
                })
                .collect()
        })
    }

    /// The role of node `index`.
    pub(crate) fn role(&self, index: usize) -> NodeRole {
        self.with(|m| match m.nodes.get(index) {
            Some(n) if !n.up => NodeRole::Down,
            Some(n) => match n.state {
                VNodeState::Leader => NodeRole::Leader,
                VNodeState::Follower => NodeRole::Follower,
                VNodeState::ReadOnlyReplica => NodeRole::ReadOnlyReplica,
                _ => NodeRole::Unknown,
            },
            None => NodeRole::Down,
        })
    }

    /// The index of the leader, if there is one now.
    pub(crate) fn leader(&self) -> Option<usize> {
        self.with(|m| m.leader)
    }

    /// The current epoch number.
    pub(crate) fn epoch(&self) -> u64 {
        self.with(|m| m.epoch)
    }

    /// Node `index` goes down: `stopped` on purpose (gossip: `Shutdown`), or
    /// cut off by a partition (gossip: its last state, not alive).
    pub(crate) fn down(&self, index: usize, stopped: bool) {
        self.with(|m| {
            if let Some(n) = m.nodes.get_mut(index) {
                n.up = false;
                n.stopped = stopped;
            }
            if m.leader == Some(index) {
                m.leader = None;
                m.leader_lost_at = Some(Instant::now());
                for n in m.nodes.iter_mut().filter(|n| n.up) {
                    n.state = leaderless_state(n.read_only);
                }
            }
        });
    }

    /// Node `index` is back: it follows the leader if there is one, or waits
    /// for the pending election.
    pub(crate) fn up(&self, index: usize) {
        self.with(|m| {
            let has_leader = m.leader.is_some();
            if let Some(n) = m.nodes.get_mut(index) {
                n.up = true;
                n.stopped = false;
                n.state = if has_leader {
                    following_state(n.read_only)
                } else {
                    leaderless_state(n.read_only)
                };
            }
        });
        // The quorum may be back: an election due now happens now.
        self.with(|_| ());
    }

    /// Node `index` resigns its leadership (the Operations service's
    /// `ResignNode`): if it leads, an election runs at once, in which every
    /// other reachable voter ranks before it (KurrentDB's
    /// `GetBestLeaderCandidate` orders a resigning leader after the others,
    /// before looking at priorities), so another node leads when one is up,
    /// and a single node is elected again, in a new epoch. A node that does
    /// not lead ignores it, as KurrentDB does ("only leader resignation is
    /// supported"). Whether it resigned.
    pub(crate) fn resign(&self, index: usize) -> bool {
        self.with(|m| {
            if m.leader != Some(index) {
                return false;
            }
            m.leader = None;
            m.leader_lost_at = Some(Instant::now());
            m.resigning = Some(index);
            m.elect();
            m.resigning = None;
            true
        })
    }

    /// Sets node `index`'s `NodePriority` (a hint for the next election).
    pub(crate) fn set_priority(&self, index: usize, priority: i32) {
        self.with(|m| {
            if let Some(n) = m.nodes.get_mut(index) {
                n.priority = priority;
            }
        });
    }
}

fn following_state(read_only: bool) -> VNodeState {
    if read_only {
        VNodeState::ReadOnlyReplica
    } else {
        VNodeState::Follower
    }
}

fn leaderless_state(read_only: bool) -> VNodeState {
    if read_only {
        VNodeState::ReadOnlyLeaderless
    } else {
        VNodeState::Unknown
    }
}

impl Members {
    /// Elects if an election is due `timeout` after the leader's loss.
    fn advance(&mut self, timeout: Duration) {
        if self.leader.is_none()
            && self
                .leader_lost_at
                .is_some_and(|lost| lost.elapsed() >= timeout)
        {
            self.elect();
        }
    }

    /// Elects the reachable voting member of highest priority, if a quorum of
    /// the voting members is reachable.
    fn elect(&mut self) {
        let voters = self.nodes.iter().filter(|n| !n.read_only).count();
        let quorum = if voters <= 1 { voters } else { voters / 2 + 1 };
        let up = self.nodes.iter().filter(|n| !n.read_only && n.up).count();
        if up == 0 || up < quorum {
            return;
        }
        let Some(winner) = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.read_only && n.up)
            // Not resigning; then the highest priority; among equals the
            // lowest index.
            .max_by_key(|(i, n)| {
                (
                    self.resigning != Some(*i),
                    n.priority,
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(i, _)| i)
        else {
            return;
        };
        self.leader = Some(winner);
        self.leader_lost_at = None;
        self.epoch = self.epoch.saturating_add(1);
        self.epoch_id = Uuid::new_v4();
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if n.up {
                n.state = if i == winner {
                    VNodeState::Leader
                } else {
                    following_state(n.read_only)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(voters: usize, replicas: usize, timeout: Duration) -> Membership {
        let nodes = (0..voters + replicas)
            .map(|i| Member::new("127.0.0.1".into(), 2113 + i as u16, i >= voters))
            .collect();
        Membership::new(nodes, timeout)
    }

    #[test]
    fn the_first_voter_leads_and_the_others_follow() {
        let m = cluster(3, 1, Duration::from_secs(60));
        assert_eq!(m.leader(), Some(0));
        assert_eq!(m.role(1), NodeRole::Follower);
        assert_eq!(m.role(3), NodeRole::ReadOnlyReplica);
        assert_eq!(m.epoch(), 1);
        match m.route(2) {
            Route::Leader { port, .. } => assert_eq!(port, 2113),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.route(0), Route::Here);
    }

    #[test]
    fn losing_the_leader_elects_after_the_timeout_given_a_quorum() {
        let m = cluster(3, 1, Duration::ZERO);
        m.down(0, true);
        assert_eq!(m.leader(), Some(1));
        assert_eq!(m.epoch(), 2);
        let view = m.view();
        assert_eq!(view[0].state, VNodeState::Shutdown);
        assert!(!view[0].is_alive);
        m.down(1, false);
        // One of three voters is no quorum.
        assert_eq!(m.leader(), None);
        assert_eq!(m.route(2), Route::NotReady);
        assert_eq!(m.role(3), NodeRole::Unknown);
        m.up(0);
        assert_eq!(m.leader(), Some(0));
        assert_eq!(m.role(2), NodeRole::Follower);
        assert_eq!(m.role(1), NodeRole::Down);
    }

    #[test]
    fn no_election_before_the_timeout() {
        let m = cluster(3, 0, Duration::from_secs(60));
        m.down(0, false);
        assert_eq!(m.leader(), None);
        assert_eq!(m.role(1), NodeRole::Unknown);
        // The lost leader is still reported in its last state, not alive.
        assert_eq!(m.view()[0].state, VNodeState::Leader);
    }

    #[test]
    fn a_resigning_leader_hands_over_and_a_single_node_is_reelected() {
        let m = cluster(3, 0, Duration::from_secs(60));
        assert!(!m.resign(1), "a follower does not resign");
        assert_eq!(m.leader(), Some(0));
        m.set_priority(0, 10);
        assert!(m.resign(0));
        assert_eq!(m.leader(), Some(1));
        assert_eq!(m.role(0), NodeRole::Follower);
        assert_eq!(m.epoch(), 2);
        let single = Membership::single("127.0.0.1".into(), 2113);
        assert!(single.resign(0));
        assert_eq!(single.leader(), Some(0));
        assert_eq!(single.epoch(), 2);
    }

    #[test]
    fn priority_decides_between_equals() {
        let m = cluster(3, 0, Duration::ZERO);
        m.set_priority(2, 5);
        m.down(0, true);
        assert_eq!(m.leader(), Some(2));
    }
}
