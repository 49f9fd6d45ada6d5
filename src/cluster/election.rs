//! Elections: priority-staggered candidacy, a pre-vote round (STANDUP_PROBE) so a node that
//! cannot win never bumps terms, durable single votes per term with the up-to-date check, and
//! the leader's handover (STANDUP_NOW) to a caught-up higher-priority node.

use std::collections::BTreeSet;

use super::io::Output;
use super::journal::Journal;
use super::leader::LeaderState;
use super::message::Message;
use super::node::{Ballot, Node};
use super::types::{Entry, LogPos, NodeId, State};
use crate::log::Envelope;
use crate::log::chain;

/// splitmix64: spreads stand-up times deterministically (the core has no randomness).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Node {
    /// Up to half a stagger step, different per node and attempt, so two nodes that time out
    /// together do not keep colliding.
    fn jitter(&self) -> u64 {
        let span = self.cfg.timing.stagger / 2 + 1;
        mix((self.me.0 as u64) << 48 ^ self.now ^ self.term << 20) % span
    }

    /// Restart the wait before standing up: election timeout plus the priority stagger, so the
    /// highest-priority voter normally goes first and lower ones only if it does not.
    pub(crate) fn reset_election_timer(&mut self) {
        let t = &self.cfg.timing;
        let rank = self.cfg.rank(self.me);
        self.election_reset = self.now;
        self.next_probe_at =
            self.now + t.election + t.stagger / 2 + rank * t.stagger + self.jitter();
    }

    /// Whether we heard from a live leader recently (we then refuse to help depose it).
    pub(crate) fn leader_alive(&self) -> bool {
        if self.state.is_leader() {
            return true;
        }
        self.leader.is_some()
            && self
                .last_leader_contact
                .is_some_and(|t| self.now < t + self.cfg.timing.election)
    }

    fn up_to_date(&self, candidate: &LogPos) -> bool {
        self.cfg.faults.skip_up_to_date_check
            || candidate.up_to_date_key() >= self.log.tip().up_to_date_key()
    }

    /// WAITING voter: stand up when our staggered timer expires.
    pub(crate) fn maybe_stand_up(&mut self, journal: &dyn Journal) {
        if !self.is_voter() || self.snapshot.is_some() || self.leader_alive() {
            return;
        }
        if self.now < self.next_probe_at {
            return;
        }
        self.start_probe(journal);
    }

    /// Pre-vote: ask the voters whether they would vote for us in the next term.
    pub(crate) fn start_probe(&mut self, journal: &dyn Journal) {
        if !self.is_voter() {
            return;
        }
        let term = self.term + 1;
        let mut granted = BTreeSet::new();
        granted.insert(self.me);
        self.probe = Some(Ballot { term, granted });
        // Retry spacing if this round fails; keeps the priority order.
        let t = &self.cfg.timing;
        self.next_probe_at = self.now + t.stagger * (1 + self.cfg.rank(self.me)) + self.jitter();
        if self.cfg.majority() <= 1 {
            self.stand_up(journal, false);
            return;
        }
        let tip = self.log.tip();
        let voters: Vec<NodeId> = self.cfg.peers().filter(|p| self.cfg.is_voter(*p)).collect();
        for p in voters {
            self.send(p, Message::StandupProbe { term, tip });
        }
    }

    pub(crate) fn on_probe(&mut self, from: NodeId, term: u64, tip: LogPos) {
        let granted = self.cfg.is_voter(from)
            && self.is_voter()
            && term > self.term
            && self.up_to_date(&tip)
            && !self.leader_alive()
            && self.snapshot.is_none();
        let voter_term = self.term;
        self.send(
            from,
            Message::StandupProbeResponse {
                term,
                granted,
                voter_term,
            },
        );
    }

    pub(crate) fn on_probe_response(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        granted: bool,
    ) {
        if self.state != State::Waiting || !granted || !self.cfg.is_voter(from) {
            return;
        }
        let majority = self.cfg.majority();
        let Some(probe) = self.probe.as_mut() else {
            return;
        };
        if probe.term != term || term != self.term + 1 {
            return;
        }
        probe.granted.insert(from);
        if probe.granted.len() >= majority {
            self.stand_up(journal, false);
        }
    }

    /// STANDINGUP: move to the next term, vote for ourselves durably, ask for votes.
    pub(crate) fn stand_up(&mut self, journal: &dyn Journal, transfer: bool) {
        self.probe = None;
        self.term += 1;
        self.vote = Some(self.me);
        self.persist();
        self.leader = None;
        for p in &mut self.peers {
            p.heard_in_term = None;
        }
        self.verified = self.commit_point;
        let mut granted = BTreeSet::new();
        granted.insert(self.me);
        self.votes = Some(Ballot {
            term: self.term,
            granted,
        });
        self.set_state(
            State::StandingUp,
            if transfer {
                "the leader handed over to us"
            } else {
                "a majority would vote for us"
            },
        );
        if self.cfg.majority() <= 1 {
            self.become_leader(journal);
            return;
        }
        let term = self.term;
        let tip = self.log.tip();
        let voters: Vec<NodeId> = self.cfg.peers().filter(|p| self.cfg.is_voter(*p)).collect();
        for p in voters {
            self.send(
                p,
                Message::Standup {
                    term,
                    tip,
                    transfer,
                },
            );
        }
    }

    pub(crate) fn on_standup(
        &mut self,
        _journal: &dyn Journal,
        from: NodeId,
        term: u64,
        tip: LogPos,
        _transfer: bool,
    ) {
        // A higher term was adopted by the caller; a lower one is refused with ours.
        let grant = term == self.term
            && self.cfg.is_voter(from)
            && self.is_voter()
            && self.vote.is_none_or(|v| v == from)
            && self.up_to_date(&tip)
            && self.snapshot.is_none();
        if grant {
            if self.vote != Some(from) {
                self.vote = Some(from);
                // Durable before the response leaves (the driver performs outputs in order).
                self.persist();
            }
            self.reset_election_timer();
        }
        let term = self.term;
        self.send(
            from,
            Message::StandupResponse {
                term,
                granted: grant,
            },
        );
    }

    pub(crate) fn on_standup_response(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        granted: bool,
    ) {
        if self.state != State::StandingUp || term != self.term || !granted {
            return;
        }
        if !self.cfg.is_voter(from) {
            return;
        }
        let majority = self.cfg.majority();
        let Some(votes) = self.votes.as_mut() else {
            return;
        };
        votes.granted.insert(from);
        if votes.granted.len() >= majority {
            self.become_leader(journal);
        }
    }

    /// Handover target: our leader says stand up now (we are caught up and outrank it).
    pub(crate) fn on_standup_now(&mut self, journal: &dyn Journal, from: NodeId, term: u64) {
        if term != self.term
            || self.leader != Some(from)
            || !self.is_voter()
            || self.snapshot.is_some()
            || self.state.is_leader()
        {
            return;
        }
        self.stand_up(journal, true);
    }

    /// Won: LEADING. Commit a no-op in the new term first: once a majority holds it, everything
    /// before it is committed too, and our term's commits can be counted safely.
    pub(crate) fn become_leader(&mut self, journal: &dyn Journal) {
        self.votes = None;
        self.probe = None;
        self.leader = Some(self.me);
        self.sync_peer = None;
        self.set_state(State::Leading, "won the election");
        let tip = self.log.tip();
        let now = self.now;
        for p in &mut self.peers {
            p.subscribed = false;
            p.matched = 0;
            p.next = tip.count + 1;
            p.progress_at = now;
        }
        let payload = Envelope::noop(self.term).encode();
        let entry = Entry {
            count: tip.count + 1,
            term: self.term,
            hash: chain(&tip.hash, &payload),
            payload,
        };
        self.lead = Some(LeaderState::new(now, entry.count));
        self.log.push(entry.clone());
        self.verified = entry.count;
        self.out.push(Output::Commit { entry, batch: None });
        self.broadcast_heartbeat();
        self.accept_local_pending(journal);
    }
}
