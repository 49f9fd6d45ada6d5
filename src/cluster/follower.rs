//! Following: finding and subscribing to the leader, applying its commits (approved only once
//! durable), tracking the commit point, detecting that our history forked from the leader's and
//! re-seeding from a snapshot, and the timers of every non-leading state.

use super::io::{ForkInfo, Output};
use super::journal::Journal;
use super::message::{DenyReason, Message};
use super::node::{Node, SnapshotWait};
use super::types::{Entry, LogPos, NodeId, State};
use crate::log::Envelope;

impl Node {
    /// A message from the leader of `term` (already adopted if newer). Returns false if it is
    /// stale or we are leading ourselves.
    pub(crate) fn leader_contact(&mut self, from: NodeId, term: u64) -> bool {
        if term != self.term || self.state.is_leader() {
            return false;
        }
        if self.state == State::StandingUp {
            // Someone else won this term.
            self.votes = None;
        }
        self.leader = Some(from);
        self.last_leader_contact = Some(self.now);
        self.reset_election_timer();
        if self.snapshot.is_none() && !matches!(self.state, State::Subscribing | State::Following) {
            self.subscribe(from);
        }
        true
    }

    fn subscribe(&mut self, leader: NodeId) {
        self.sync_peer = None;
        self.subscribe_sent = self.now;
        self.set_state(State::Subscribing, "found the leader");
        let msg = Message::Subscribe {
            term: self.term,
            tip: self.log.tip(),
        };
        self.send(leader, msg);
    }

    fn refuse_stale(&mut self, to: NodeId) {
        let msg = Message::DenyTransaction {
            term: self.term,
            reason: DenyReason::StaleTerm,
            tip: self.log.tip(),
        };
        self.send(to, msg);
    }

    /// Our log matches the leader's up to `verified`, so its commit point holds for us up to there.
    pub(crate) fn learn_commit_point(&mut self, leader_commit: u64) {
        let c = leader_commit.min(self.verified);
        if c > self.commit_point {
            self.commit_point = c;
        }
    }

    pub(crate) fn on_heartbeat(
        &mut self,
        _journal: &dyn Journal,
        from: NodeId,
        term: u64,
        tip: LogPos,
        commit_point: u64,
    ) {
        if term < self.term {
            self.refuse_stale(from);
            return;
        }
        if !self.leader_contact(from, term) {
            return;
        }
        self.leader_tip = tip.count;
        self.learn_commit_point(commit_point);
        let msg = Message::HeartbeatAck {
            term: self.term,
            tip: self.log.durable(),
            state: self.state,
        };
        self.send(from, msg);
    }

    pub(crate) fn on_commit_transaction(
        &mut self,
        _journal: &dyn Journal,
        from: NodeId,
        term: u64,
        commit_point: u64,
    ) {
        if term < self.term {
            return;
        }
        if self.leader_contact(from, term) {
            self.learn_commit_point(commit_point);
        }
    }

    /// Hands an entry to the driver for durable commit.
    pub(crate) fn append_entry(&mut self, entry: Entry) {
        self.log.push(entry.clone());
        self.out.push(Output::Commit { entry, batch: None });
    }

    /// An entry is well formed if its payload decodes and names the entry's term.
    pub(crate) fn entry_well_formed(entry: &Entry) -> bool {
        Envelope::decode_header(&entry.payload).is_ok_and(|(term, _)| term == entry.term)
    }

    pub(crate) fn on_begin(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        entry: Entry,
        commit_point: u64,
    ) {
        if term < self.term {
            self.refuse_stale(from);
            return;
        }
        if !self.leader_contact(from, term) || self.snapshot.is_some() {
            return;
        }
        if entry.term > term || !Self::entry_well_formed(&entry) {
            return;
        }
        self.last_entry_at = self.now;
        self.leader_tip = self.leader_tip.max(entry.count);
        let tip = self.log.tip();
        if entry.count == tip.count + 1 {
            if self.log.chains(&entry) {
                self.verified = entry.count;
                self.append_entry(entry);
                if self.cfg.faults.approve_before_durable {
                    let pos = self.log.tip();
                    self.send(from, Message::ApproveTransaction { term, pos });
                }
            } else {
                // The leader's commit n does not follow our n-1: our history differs.
                self.forked_from_leader(from, entry.pos(), tip.count);
                return;
            }
        } else if entry.count <= tip.count {
            match self.log.pos_at(journal, entry.count) {
                Some(p) if p.hash == entry.hash => {
                    self.verified = self.verified.max(entry.count);
                    let durable = self.log.durable();
                    if durable.count >= entry.count {
                        self.send(from, Message::ApproveTransaction { term, pos: durable });
                    }
                }
                Some(_) => {
                    self.forked_from_leader(from, entry.pos(), entry.count);
                    return;
                }
                None => {}
            }
        } else {
            let now = self.now;
            let repeat = self
                .last_gap
                .is_some_and(|(t, at)| t == tip.count && now < at + self.cfg.timing.heartbeat);
            if !repeat {
                self.last_gap = Some((tip.count, now));
                let msg = Message::DenyTransaction {
                    term,
                    reason: DenyReason::Gap,
                    tip,
                };
                self.send(from, msg);
            }
        }
        self.learn_commit_point(commit_point);
    }

    /// Our history is not the leader's: move our database aside and re-seed from the leader
    /// (DESIGN.md §7). The snapshot must hold the leader's commit `leader_pos`, so nothing we
    /// share with the leader (and may have approved) can be lost.
    fn forked_from_leader(&mut self, leader: NodeId, leader_pos: LogPos, detected_at: u64) {
        let term = self.term;
        let tip = self.log.tip();
        self.send(
            leader,
            Message::DenyTransaction {
                term,
                reason: DenyReason::Forked,
                tip,
            },
        );
        let fork = ForkInfo {
            local_tip: tip,
            detected_at,
        };
        self.start_snapshot(leader, leader_pos, Some(fork));
    }

    pub(crate) fn start_snapshot(
        &mut self,
        from: NodeId,
        must_contain: LogPos,
        fork: Option<ForkInfo>,
    ) {
        if self.snapshot.is_some() {
            return;
        }
        self.snapshot = Some(SnapshotWait { from });
        self.sync_peer = None;
        self.verified = self.commit_point;
        let reason = if fork.is_some() {
            "forked from the leader: re-seeding from a snapshot"
        } else {
            "behind the journal window: re-seeding from a snapshot"
        };
        self.set_state(State::Synchronizing, reason);
        self.out.push(Output::RequestSnapshot {
            from,
            must_contain,
            fork,
        });
    }

    pub(crate) fn on_snapshot_installed(&mut self, tip: LogPos) {
        self.log.reset(tip);
        self.snapshot = None;
        self.commit_point = self.commit_point.min(tip.count);
        self.verified = self.commit_point;
        for p in &mut self.peers {
            p.forked = false;
            p.cannot_serve = false;
        }
        if !self.state.is_leader() {
            self.set_state(State::Searching, "snapshot installed");
            if let Some(l) = self.leader
                && self.leader_alive()
            {
                self.subscribe(l);
            }
        }
    }

    pub(crate) fn on_snapshot_failed(&mut self) {
        self.snapshot = None;
        if !self.state.is_leader() {
            self.set_state(State::Searching, "snapshot failed");
        }
    }

    pub(crate) fn on_subscription_approved(
        &mut self,
        _journal: &dyn Journal,
        from: NodeId,
        term: u64,
        start: u64,
        commit_point: u64,
    ) {
        if term < self.term || !self.leader_contact(from, term) {
            return;
        }
        if self.state != State::Subscribing || self.snapshot.is_some() {
            return;
        }
        self.set_state(State::Following, "subscription approved");
        self.verified = self.verified.max(start.min(self.log.tip().count));
        self.last_entry_at = self.now;
        self.learn_commit_point(commit_point);
        let pos = self.log.durable();
        self.send(from, Message::ApproveTransaction { term, pos });
    }

    pub(crate) fn on_subscription_denied(
        &mut self,
        _journal: &dyn Journal,
        from: NodeId,
        term: u64,
        reason: DenyReason,
        leader_pos: LogPos,
    ) {
        if term < self.term || self.state != State::Subscribing || self.leader != Some(from) {
            return;
        }
        match reason {
            DenyReason::Forked => {
                let tip = self.log.tip();
                let fork = ForkInfo {
                    local_tip: tip,
                    detected_at: leader_pos.count.min(tip.count).max(1),
                };
                self.start_snapshot(from, leader_pos, Some(fork));
            }
            DenyReason::NeedSnapshot => {
                let tip = self.log.tip();
                self.start_snapshot(from, tip, None);
            }
            _ => {
                self.leader = None;
                self.set_state(State::Searching, "the leader refused our subscription");
            }
        }
    }

    pub(crate) fn on_committed(&mut self, journal: &dyn Journal, count: u64) {
        if !self.log.mark_durable(count) {
            return;
        }
        if self.state.is_leader() {
            self.advance_leader(journal);
        } else if matches!(self.state, State::Following | State::Subscribing)
            && let Some(l) = self.leader
        {
            let pos = self.log.durable();
            let term = self.term;
            self.send(l, Message::ApproveTransaction { term, pos });
        }
    }

    pub(crate) fn on_commit_failed(&mut self, journal: &dyn Journal, count: u64) {
        self.log.drop_from(count);
        let tip = self.log.tip().count;
        self.verified = self.verified.min(tip);
        // We only vouch for commits we hold.
        self.commit_point = self.commit_point.min(tip);
        if self.state.is_leader() {
            self.step_down(journal, "local commit failed");
        } else if self.snapshot.is_none() {
            self.leader = None;
            self.set_state(State::Searching, "local commit failed");
        }
    }

    /// The freshest reachable peer that has commits we lack and can serve them.
    fn fresher_peer(&self) -> Option<NodeId> {
        let tip = self.log.tip();
        let e = self.cfg.timing.election;
        let mut best: Option<(u64, u64, NodeId)> = None;
        for (i, p) in self.peers.iter().enumerate() {
            let id = NodeId(i);
            if id == self.me || !p.logged_in || p.forked || p.cannot_serve {
                continue;
            }
            if p.heard.is_none_or(|t| self.now >= t + e) || p.tip.count <= tip.count {
                continue;
            }
            let key = (p.tip.term, p.tip.count, id);
            if best.is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
                best = Some(key);
            }
        }
        best.map(|b| b.2)
    }

    pub(crate) fn tick_non_leader(&mut self, journal: &dyn Journal) {
        self.maybe_broadcast_status();
        if self.snapshot.is_some() {
            return;
        }
        let t = self.cfg.timing.clone();
        let now = self.now;
        match self.state {
            State::Searching => {
                if let Some(p) = self.fresher_peer() {
                    self.start_sync(p);
                } else if now >= self.state_since + 2 * t.status {
                    self.set_state(State::Waiting, "caught up with every peer in reach");
                }
            }
            State::Waiting => {
                if let Some(p) = self.fresher_peer() {
                    self.start_sync(p);
                } else {
                    self.maybe_stand_up(journal);
                }
            }
            State::Synchronizing => {
                if now > self.state_since.max(self.last_entry_at) + t.election {
                    self.sync_peer = None;
                    self.set_state(State::Searching, "synchronization timed out");
                }
            }
            State::StandingUp => {
                if now > self.state_since + t.election {
                    self.votes = None;
                    self.set_state(State::Searching, "stand-up timed out");
                    self.reset_election_timer();
                }
            }
            State::Subscribing | State::Following => {
                if !self.leader_alive() {
                    self.leader = None;
                    self.set_state(State::Searching, "the leader went silent");
                    self.reset_election_timer();
                } else if let Some(l) = self.leader {
                    let resend = if self.state == State::Subscribing {
                        now >= self.subscribe_sent + t.retransmit
                    } else {
                        // Stalled: the leader has more than we get (it may have forgotten us).
                        self.leader_tip > self.log.tip().count
                            && now >= self.last_entry_at.max(self.subscribe_sent) + 2 * t.retransmit
                    };
                    if resend {
                        self.subscribe_sent = now;
                        let msg = Message::Subscribe {
                            term: self.term,
                            tip: self.log.tip(),
                        };
                        if self.state == State::Following {
                            self.set_state(State::Subscribing, "replication stalled");
                        }
                        self.send(l, msg);
                    }
                }
            }
            State::Leading | State::StandingDown => {}
        }
    }
}
