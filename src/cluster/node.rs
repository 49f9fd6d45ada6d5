//! The node: one state machine holding everything the core knows, with [`Node::step`] as its only
//! way in. This file holds the struct, the input dispatch, LOGIN, term handling and state
//! changes; the behaviour of each role lives in `election`, `leader`, `follower`, `sync` and
//! `requests`.

use std::collections::{BTreeMap, BTreeSet};

use super::config::Config;
use super::io::{HardState, Input, Output};
use super::journal::Journal;
use super::leader::LeaderState;
use super::log::Log;
use super::message::Message;
use super::requests::Pending;
use super::types::{LogPos, NodeId, State};

/// What this node knows about one peer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peer {
    /// The peer sent a valid LOGIN since we (or it) last restarted.
    pub logged_in: bool,
    /// Last tick we sent it a LOGIN asking for one back (rate limit).
    pub login_sent: Option<u64>,
    /// Its last reported term, state and tip.
    pub term: u64,
    pub state: Option<State>,
    pub tip: LogPos,
    /// Tick of the last message from it, and of the last one carrying our current term.
    pub heard: Option<u64>,
    pub heard_in_term: Option<u64>,
    /// Its history differs from ours (found by hash at equal commit counts): never sync from it.
    pub forked: bool,
    /// It cannot serve us commits (our tip is older than its journal window).
    pub cannot_serve: bool,
    // Leader side, valid in the current term only.
    /// It subscribed and we stream commits to it.
    pub subscribed: bool,
    /// Highest commit it approved durably.
    pub matched: u64,
    /// Next commit to send it.
    pub next: u64,
    /// Tick of its last approval (or of the last resend).
    pub progress_at: u64,
    /// Tick of the last rewind after a gap it reported (rewinds are rate limited: every
    /// out-of-order entry reports the same gap).
    pub rewound_at: Option<u64>,
}

/// What this node knows about a peer, for status pages and `bedrock_cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: NodeId,
    pub logged_in: bool,
    /// Its last reported state, term and tip.
    pub state: Option<State>,
    pub term: u64,
    pub tip: LogPos,
    /// Ticks since we last heard from it.
    pub silent_for: Option<u64>,
    /// Its history differs from ours.
    pub forked: bool,
    /// Leader only: it subscribed, and the highest commit it durably holds.
    pub subscribed: bool,
    pub matched: u64,
}

/// An election round in progress (pre-vote or vote).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ballot {
    pub term: u64,
    pub granted: BTreeSet<NodeId>,
}

/// Snapshot being fetched and installed.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotWait {
    pub from: NodeId,
}

/// One node of the cluster: the consensus core. See the module docs of [`crate::cluster`].
#[derive(Debug)]
pub struct Node {
    pub(crate) cfg: Config,
    pub(crate) me: NodeId,
    // Durable election state.
    pub(crate) term: u64,
    pub(crate) vote: Option<NodeId>,
    // Role.
    pub(crate) state: State,
    pub(crate) state_since: u64,
    pub(crate) leader: Option<NodeId>,
    pub(crate) now: u64,
    // Log.
    pub(crate) log: Log,
    /// Everything up to here is held by a majority (learned from the leader or computed by it).
    pub(crate) commit_point: u64,
    /// Our log matches the current leader's up to here.
    pub(crate) verified: u64,
    /// The current leader's tip as last advertised.
    pub(crate) leader_tip: u64,
    pub(crate) peers: Vec<Peer>,
    // Timers.
    pub(crate) last_leader_contact: Option<u64>,
    /// Start of the current stand-up wait (reset by leader contact and by votes granted).
    pub(crate) election_reset: u64,
    pub(crate) next_probe_at: u64,
    pub(crate) last_status: u64,
    pub(crate) last_entry_at: u64,
    pub(crate) subscribe_sent: u64,
    /// Last gap reported to the leader (our tip, when), so a burst of out-of-order entries
    /// yields one report.
    pub(crate) last_gap: Option<(u64, u64)>,
    // Elections.
    pub(crate) probe: Option<Ballot>,
    pub(crate) votes: Option<Ballot>,
    // Leading.
    pub(crate) lead: Option<LeaderState>,
    pub(crate) next_batch: u64,
    /// The driver's writer has nothing else ready to run (see `Input::WriterReady`).
    pub(crate) writer_ready: bool,
    pub(crate) handover_failures: u32,
    pub(crate) handover_backoff_until: u64,
    // Syncing.
    pub(crate) sync_peer: Option<NodeId>,
    pub(crate) snapshot: Option<SnapshotWait>,
    // Client requests submitted on this node.
    pub(crate) pending: BTreeMap<super::types::RequestId, Pending>,
    pub(crate) out: Vec<Output>,
}

impl Node {
    /// Starts (or restarts) a node from its durable state. `journal` is its durable log. The
    /// returned outputs (LOGINs, and in single-node mode the first leadership) must be performed.
    pub fn new(
        cfg: Config,
        hard: HardState,
        journal: &dyn Journal,
    ) -> Result<(Node, Vec<Output>), String> {
        cfg.validate()?;
        let me = cfg.me;
        let n = cfg.members.len();
        let mut node = Node {
            me,
            term: hard.term,
            vote: hard.vote,
            state: State::Searching,
            state_since: 0,
            leader: None,
            now: 0,
            log: Log::new(journal.tip()),
            commit_point: 0,
            verified: 0,
            leader_tip: 0,
            peers: vec![Peer::default(); n],
            last_leader_contact: None,
            election_reset: 0,
            next_probe_at: 0,
            last_status: 0,
            last_entry_at: 0,
            subscribe_sent: 0,
            last_gap: None,
            probe: None,
            votes: None,
            lead: None,
            next_batch: 1,
            writer_ready: true,
            handover_failures: 0,
            handover_backoff_until: 0,
            sync_peer: None,
            snapshot: None,
            pending: BTreeMap::new(),
            out: Vec::new(),
            cfg,
        };
        node.reset_election_timer();
        if n == 1 {
            // Single-node mode: lead at once (Bedrock's SEARCHING -> LEADING with no peers).
            node.start_probe(journal);
        } else {
            let peers: Vec<NodeId> = node.cfg.peers().collect();
            for p in peers {
                node.send_login(p, true);
            }
        }
        let out = std::mem::take(&mut node.out);
        Ok((node, out))
    }

    /// Feeds one input; returns what the driver must do, in order.
    pub fn step(&mut self, journal: &dyn Journal, input: Input) -> Vec<Output> {
        match input {
            Input::Tick => self.on_tick(journal),
            Input::Message { from, msg } => self.on_message(journal, from, msg),
            Input::PeerConnected(p) => {
                if self.valid_peer(p) {
                    self.send_login(p, true);
                }
            }
            Input::PeerDisconnected(p) => {
                if self.valid_peer(p) {
                    let peer = &mut self.peers[p.0];
                    peer.logged_in = false;
                    peer.subscribed = false;
                }
            }
            Input::ClientWrite {
                id,
                consistency,
                body,
                timeout,
            } => self.on_client_write(journal, id, consistency, body, timeout),
            Input::Executed {
                batch,
                body,
                results,
            } => self.on_executed(journal, batch, body, results),
            Input::ExecuteFailed { batch, .. } => self.on_execute_failed(journal, batch),
            Input::Committed { count } => self.on_committed(journal, count),
            Input::CommitFailed { count, .. } => self.on_commit_failed(journal, count),
            Input::SnapshotInstalled { tip } => self.on_snapshot_installed(tip),
            Input::SnapshotFailed { .. } => self.on_snapshot_failed(),
            Input::WriterReady => {
                self.writer_ready = true;
                self.maybe_execute(journal);
            }
        }
        std::mem::take(&mut self.out)
    }

    // ----- observers -----

    pub fn state(&self) -> State {
        self.state
    }
    pub fn term(&self) -> u64 {
        self.term
    }
    pub fn vote(&self) -> Option<NodeId> {
        self.vote
    }
    /// The leader of the current term, if known (this node when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    pub fn id(&self) -> NodeId {
        self.me
    }
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// Last commit handed to the driver.
    pub fn tip(&self) -> LogPos {
        self.log.tip()
    }
    /// Last commit known durable.
    pub fn durable(&self) -> LogPos {
        self.log.durable()
    }
    /// Everything up to this commit count is held by a majority of voters.
    pub fn commit_point(&self) -> u64 {
        self.commit_point
    }
    /// Client requests submitted here and not yet answered.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }
    /// Whether a snapshot is being fetched or installed (the database is about to change).
    pub fn installing_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }
    /// The peer a snapshot is being fetched from, if any.
    pub fn snapshot_source(&self) -> Option<NodeId> {
        self.snapshot.as_ref().map(|s| s.from)
    }
    /// Whether local reads may be served: following or leading, not installing a snapshot.
    pub fn can_serve_reads(&self) -> bool {
        self.snapshot.is_none()
            && matches!(
                self.state,
                State::Following | State::Leading | State::StandingDown
            )
    }
    /// What we know of every peer.
    pub fn peer_info(&self) -> Vec<PeerInfo> {
        self.cfg
            .peers()
            .map(|id| {
                let p = &self.peers[id.0];
                PeerInfo {
                    id,
                    logged_in: p.logged_in,
                    state: p.state,
                    term: p.term,
                    tip: p.tip,
                    silent_for: p.heard.map(|t| self.now - t),
                    forked: p.forked,
                    subscribed: p.subscribed,
                    matched: p.matched,
                }
            })
            .collect()
    }
    /// Leading with a quorum heard within the election timeout, or following a leader heard
    /// within it: the bound on how stale local reads can be without the node knowing.
    pub fn in_contact_with_leader(&self) -> bool {
        if self.state.is_leader() {
            self.has_quorum_contact()
        } else {
            matches!(self.state, State::Following) && self.leader_alive()
        }
    }
    /// Whether this node would execute a write now (leading with quorum and checkpoint room).
    pub fn accepting_writes(&self) -> bool {
        self.state == State::Leading && self.has_quorum_contact() && self.checkpoint_room()
    }

    // ----- helpers shared by the role modules -----

    pub(crate) fn valid_peer(&self, p: NodeId) -> bool {
        p != self.me && p.0 < self.peers.len()
    }

    pub(crate) fn send(&mut self, to: NodeId, msg: Message) {
        self.out.push(Output::Send { to, msg });
    }

    pub(crate) fn is_voter(&self) -> bool {
        self.cfg.is_voter(self.me)
    }

    pub(crate) fn set_state(&mut self, to: State, reason: &'static str) {
        if self.state != to {
            self.out.push(Output::StateChanged {
                from: self.state,
                to,
                term: self.term,
                reason,
            });
            self.state = to;
            self.state_since = self.now;
        }
    }

    pub(crate) fn persist(&mut self) {
        self.out.push(Output::PersistHardState(HardState {
            term: self.term,
            vote: self.vote,
        }));
    }

    /// A message carried a newer term: adopt it, forget our vote, and stop leading, standing
    /// up or following the old term's leader.
    pub(crate) fn adopt_term(&mut self, journal: &dyn Journal, term: u64, reason: &'static str) {
        if term <= self.term {
            return;
        }
        self.term = term;
        self.vote = None;
        self.persist();
        self.votes = None;
        self.probe = None;
        self.leader = None;
        for p in &mut self.peers {
            p.heard_in_term = None;
        }
        // What we verified against the old leader stays true only up to the commit point.
        self.verified = self.commit_point;
        if self.state.is_leader() {
            self.step_down(journal, reason);
        } else if self.snapshot.is_none() && self.state != State::Searching {
            self.set_state(State::Searching, reason);
        }
    }

    pub(crate) fn send_login(&mut self, to: NodeId, reply_wanted: bool) {
        if reply_wanted {
            self.peers[to.0].login_sent = Some(self.now);
        }
        let me = self.cfg.me().clone();
        let msg = Message::Login {
            cluster_id: self.cfg.cluster_id,
            name: me.name,
            priority: me.priority,
            version: self.cfg.version,
            term: self.term,
            tip: self.log.tip(),
            reply_wanted,
        };
        self.send(to, msg);
    }

    fn on_login(&mut self, journal: &dyn Journal, from: NodeId, msg: Message) {
        let Message::Login {
            cluster_id,
            name,
            priority,
            term,
            tip,
            reply_wanted,
            ..
        } = msg
        else {
            return;
        };
        let Some(member) = self.cfg.member(from) else {
            return;
        };
        // Identity must match the configuration exactly (Bedrock aborted or looped on this).
        if cluster_id != self.cfg.cluster_id || name != member.name || priority != member.priority {
            return;
        }
        let now = self.now;
        let forked = self.differs_at(journal, &tip);
        let peer = &mut self.peers[from.0];
        peer.logged_in = true;
        peer.heard = Some(now);
        peer.term = term;
        peer.tip = tip;
        peer.state = Some(State::Searching);
        peer.cannot_serve = false;
        // It may have restarted and lost what was not durable: it must subscribe again.
        peer.subscribed = false;
        peer.forked = forked;
        if term > self.term {
            self.adopt_term(journal, term, "peer has a newer term");
        }
        if reply_wanted {
            self.send_login(from, false);
        }
        if self.state.is_leader() {
            self.send_heartbeat(from);
        }
    }

    /// Whether our log has a different hash at `pos.count` (fork detection at equal counts).
    pub(crate) fn differs_at(&self, journal: &dyn Journal, pos: &LogPos) -> bool {
        match self.log.pos_at(journal, pos.count) {
            Some(mine) => mine.hash != pos.hash,
            None => false,
        }
    }

    fn on_message(&mut self, journal: &dyn Journal, from: NodeId, msg: Message) {
        if !self.valid_peer(from) {
            return;
        }
        if matches!(msg, Message::Login { .. }) {
            self.on_login(journal, from, msg);
            return;
        }
        if !self.peers[from.0].logged_in {
            // Talk only to peers that proved who they are; ask this one to log in again.
            let due = self.peers[from.0]
                .login_sent
                .is_none_or(|t| self.now >= t + self.cfg.timing.heartbeat);
            if due {
                self.send_login(from, true);
            }
            return;
        }
        let now = self.now;
        self.peers[from.0].heard = Some(now);
        if let Some(t) = msg.term() {
            self.peers[from.0].term = t;
            if t > self.term {
                self.adopt_term(journal, t, "peer has a newer term");
            }
            if t == self.term {
                self.peers[from.0].heard_in_term = Some(now);
            }
        }
        match msg {
            Message::Login { .. } => {}
            Message::Status { term, state, tip } => self.on_status(journal, from, term, state, tip),
            Message::StandupProbe { term, tip } => self.on_probe(from, term, tip),
            Message::StandupProbeResponse { term, granted, .. } => {
                self.on_probe_response(journal, from, term, granted)
            }
            Message::Standup {
                term,
                tip,
                transfer,
            } => self.on_standup(journal, from, term, tip, transfer),
            Message::StandupResponse { term, granted } => {
                self.on_standup_response(journal, from, term, granted)
            }
            Message::StandupNow { term } => self.on_standup_now(journal, from, term),
            Message::Heartbeat {
                term,
                tip,
                commit_point,
            } => self.on_heartbeat(journal, from, term, tip, commit_point),
            Message::HeartbeatAck { term, tip, state } => {
                self.on_heartbeat_ack(journal, from, term, tip, state)
            }
            Message::Subscribe { term, tip } => self.on_subscribe(journal, from, term, tip),
            Message::SubscriptionApproved {
                term,
                from: start,
                commit_point,
            } => self.on_subscription_approved(journal, from, term, start, commit_point),
            Message::SubscriptionDenied {
                term,
                reason,
                leader_pos,
            } => self.on_subscription_denied(journal, from, term, reason, leader_pos),
            Message::BeginTransaction {
                term,
                entry,
                commit_point,
            } => self.on_begin(journal, from, term, entry, commit_point),
            Message::ApproveTransaction { term, pos } => self.on_approve(journal, from, term, pos),
            Message::DenyTransaction { term, reason, tip } => {
                self.on_deny(journal, from, term, reason, tip)
            }
            Message::CommitTransaction { term, commit_point } => {
                self.on_commit_transaction(journal, from, term, commit_point)
            }
            Message::Synchronize { term: _, tip } => self.on_synchronize(journal, from, tip),
            Message::SynchronizeResponse {
                entries, peer_tip, ..
            } => self.on_synchronize_response(journal, from, entries, peer_tip),
            Message::SynchronizeDenied {
                reason, peer_tip, ..
            } => self.on_synchronize_denied(journal, from, reason, peer_tip),
            Message::Escalate {
                id,
                consistency,
                body,
                ttl,
            } => self.on_escalate(journal, from, id, consistency, body, ttl),
            Message::EscalateResponse { id, outcome } => self.on_escalate_response(id, outcome),
        }
    }

    fn on_status(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        _term: u64,
        state: State,
        tip: LogPos,
    ) {
        self.note_peer_tip(journal, from, tip);
        self.peers[from.0].state = Some(state);
    }

    /// Records a peer's advertised tip and re-checks whether it is forked from us.
    pub(crate) fn note_peer_tip(&mut self, journal: &dyn Journal, from: NodeId, tip: LogPos) {
        let changed = self.peers[from.0].tip != tip;
        self.peers[from.0].tip = tip;
        if changed {
            let forked = self.differs_at(journal, &tip);
            let p = &mut self.peers[from.0];
            // A peer whose tip we cannot check keeps its mark until it changes.
            if forked || tip.count <= self.log.tip().count {
                p.forked = forked;
            }
            p.cannot_serve = false;
        }
    }

    fn on_tick(&mut self, journal: &dyn Journal) {
        self.now += 1;
        match self.state {
            State::Leading | State::StandingDown => self.tick_leader(journal),
            _ => self.tick_non_leader(journal),
        }
        self.tick_requests(journal);
    }

    /// Periodic STATE broadcast from non-leaders, so searching nodes learn who is freshest.
    pub(crate) fn maybe_broadcast_status(&mut self) {
        if self.now < self.last_status + self.cfg.timing.status {
            return;
        }
        self.last_status = self.now;
        let msg = Message::Status {
            term: self.term,
            state: self.state,
            tip: self.log.tip(),
        };
        let peers: Vec<NodeId> = self.cfg.peers().collect();
        for p in peers {
            self.send(p, msg.clone());
        }
    }
}
