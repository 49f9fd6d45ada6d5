//! Leading: heartbeats, subscriptions, streaming commits to followers with flow control and
//! retransmission, the commit point (majority of durable approvals, counted only from this
//! term's no-op on), the quorum-contact rule, `-quorumCheckpoint`, and handover.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::io::Output;
use super::journal::Journal;
use super::message::{DenyReason, Message};
use super::node::Node;
use super::requests::{Batch, LeaderReq, Loc, Waiter};
use super::types::{LogPos, NodeId, RequestId, State};

/// A handover in progress (STANDINGDOWN).
#[derive(Debug, Clone)]
pub(crate) struct Handover {
    pub target: NodeId,
    pub since: u64,
    pub sent_at: Option<u64>,
}

/// What only the leader of the current term keeps. Dropped when leadership ends.
#[derive(Debug)]
pub(crate) struct LeaderState {
    /// Count of the no-op that opened this term.
    pub noop: u64,
    pub last_heartbeat: u64,
    /// The batch the driver is executing (one at a time: the single SQLite writer).
    pub executing: Option<Batch>,
    /// Requests waiting to be executed (group commit takes them in batches).
    pub queue: VecDeque<LeaderReq>,
    /// Where each request id known to this leader is, for de-duplication.
    pub index: HashMap<RequestId, Loc>,
    /// Requests in commits, waiting for their consistency level, by commit count.
    pub waiters: BTreeMap<u64, Vec<Waiter>>,
    pub handover: Option<Handover>,
}

impl LeaderState {
    pub fn new(now: u64, noop: u64) -> Self {
        LeaderState {
            noop,
            last_heartbeat: now,
            executing: None,
            queue: VecDeque::new(),
            index: HashMap::new(),
            waiters: BTreeMap::new(),
            handover: None,
        }
    }
}

impl Node {
    pub(crate) fn send_heartbeat(&mut self, to: NodeId) {
        let msg = Message::Heartbeat {
            term: self.term,
            tip: self.log.tip(),
            commit_point: self.commit_point,
        };
        self.send(to, msg);
    }

    pub(crate) fn broadcast_heartbeat(&mut self) {
        if let Some(l) = self.lead.as_mut() {
            l.last_heartbeat = self.now;
        }
        let peers: Vec<NodeId> = self.cfg.peers().collect();
        for p in peers {
            self.send_heartbeat(p);
        }
    }

    /// Heard from a majority of voters (ourselves included) within the election timeout.
    pub(crate) fn has_quorum_contact(&self) -> bool {
        if !self.state.is_leader() {
            return false;
        }
        let e = self.cfg.timing.election;
        let mut n = usize::from(self.cfg.counts(self.me));
        for (i, p) in self.peers.iter().enumerate() {
            let id = NodeId(i);
            if id != self.me
                && self.cfg.counts(id)
                && p.heard_in_term.is_some_and(|t| self.now < t + e)
            {
                n += 1;
            }
        }
        n >= self.cfg.majority()
    }

    /// The highest commit count a majority of voters hold durably (ourselves included).
    pub(crate) fn majority_match(&self) -> u64 {
        let mut v: Vec<u64> = Vec::with_capacity(self.peers.len());
        for (i, p) in self.peers.iter().enumerate() {
            let id = NodeId(i);
            if !self.cfg.counts(id) {
                continue;
            }
            v.push(if id == self.me {
                self.log.durable().count
            } else {
                p.matched
            });
        }
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.get(self.cfg.majority() - 1).copied().unwrap_or(0)
    }

    /// `-quorumCheckpoint`: may the leader add one more commit?
    pub(crate) fn checkpoint_room(&self) -> bool {
        self.log.tip().count.saturating_sub(self.majority_match()) < self.cfg.quorum_checkpoint
    }

    pub(crate) fn tick_leader(&mut self, journal: &dyn Journal) {
        if !self.has_quorum_contact() {
            self.step_down(journal, "lost contact with a majority of voters");
            return;
        }
        let due = self
            .lead
            .as_ref()
            .is_some_and(|l| self.now >= l.last_heartbeat + self.cfg.timing.heartbeat);
        if due {
            self.broadcast_heartbeat();
        }
        // Resend what followers have not approved after a while (lost messages).
        let tip = self.log.tip().count;
        let retransmit = self.cfg.timing.retransmit;
        let stalled: Vec<NodeId> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.subscribed && p.matched < tip && self.now >= p.progress_at + retransmit
            })
            .map(|(i, _)| NodeId(i))
            .collect();
        for id in stalled {
            let now = self.now;
            let p = &mut self.peers[id.0];
            p.next = p.matched + 1;
            p.progress_at = now;
            self.send_append(journal, id);
        }
        self.tick_handover();
        self.maybe_execute(journal);
    }

    pub(crate) fn on_heartbeat_ack(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        tip: LogPos,
        state: State,
    ) {
        if term != self.term || !self.state.is_leader() {
            return;
        }
        self.note_peer_tip(journal, from, tip);
        self.peers[from.0].state = Some(state);
        // It follows us but we forgot its subscription (a duplicated LOGIN resets it): resume
        // streaming after its durable tip if that is our history.
        let mine = self.log.tip();
        let ours = self
            .log
            .pos_at(journal, tip.count)
            .is_some_and(|p| p.hash == tip.hash);
        let servable = tip.count == mine.count || self.log.entry(journal, tip.count + 1).is_some();
        if state == State::Following && !self.peers[from.0].subscribed && ours && servable {
            let now = self.now;
            let p = &mut self.peers[from.0];
            p.subscribed = true;
            p.next = tip.count + 1;
            p.progress_at = now;
        }
        // Its durable tip counts as an approval if it is our history: a lost APPROVE must not
        // stall the commit point once nothing new is sent.
        self.on_approve(journal, from, term, tip);
    }

    pub(crate) fn on_subscribe(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        tip: LogPos,
    ) {
        let mine = self.log.tip();
        if term != self.term || !self.state.is_leader() {
            let t = self.term;
            self.send(
                from,
                Message::SubscriptionDenied {
                    term: t,
                    reason: DenyReason::NotLeader,
                    leader_pos: mine,
                },
            );
            return;
        }
        let deny = |reason, leader_pos| Message::SubscriptionDenied {
            term,
            reason,
            leader_pos,
        };
        let verdict = if tip.count > mine.count {
            // Its extra commits are from older terms: ours will differ there.
            Err(deny(DenyReason::Forked, mine))
        } else {
            match self.log.pos_at(journal, tip.count) {
                None => Err(deny(DenyReason::NeedSnapshot, mine)),
                Some(p) if p.hash != tip.hash => Err(deny(DenyReason::Forked, p)),
                Some(_) => {
                    if tip.count < mine.count && self.log.entry(journal, tip.count + 1).is_none() {
                        Err(deny(DenyReason::NeedSnapshot, mine))
                    } else {
                        Ok(())
                    }
                }
            }
        };
        match verdict {
            Err(msg) => {
                self.peers[from.0].subscribed = false;
                self.send(from, msg);
            }
            Ok(()) => {
                let now = self.now;
                let p = &mut self.peers[from.0];
                p.subscribed = true;
                // Only ever lower if its storage lost approved commits; keeps the rewind sane.
                p.matched = p.matched.min(tip.count);
                p.next = tip.count + 1;
                p.progress_at = now;
                let commit_point = self.commit_point;
                self.send(
                    from,
                    Message::SubscriptionApproved {
                        term,
                        from: tip.count,
                        commit_point,
                    },
                );
                self.send_append(journal, from);
            }
        }
    }

    /// Streams commits to a subscribed follower, at most `max_inflight` beyond what it approved.
    pub(crate) fn send_append(&mut self, journal: &dyn Journal, to: NodeId) {
        let tip = self.log.tip();
        loop {
            let p = &self.peers[to.0];
            if !p.subscribed || p.next > tip.count || p.next > p.matched + self.cfg.max_inflight {
                return;
            }
            let n = p.next;
            match self.log.entry(journal, n) {
                Some(entry) => {
                    let msg = Message::BeginTransaction {
                        term: self.term,
                        entry,
                        commit_point: self.commit_point,
                    };
                    self.send(to, msg);
                    self.peers[to.0].next = n + 1;
                }
                None => {
                    // Fell out of the journal window: it needs a snapshot.
                    self.peers[to.0].subscribed = false;
                    let term = self.term;
                    self.send(
                        to,
                        Message::SubscriptionDenied {
                            term,
                            reason: DenyReason::NeedSnapshot,
                            leader_pos: tip,
                        },
                    );
                    return;
                }
            }
        }
    }

    /// Sends newly proposed commits to every subscribed follower.
    pub(crate) fn replicate(&mut self, journal: &dyn Journal) {
        let subs: Vec<NodeId> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.subscribed)
            .map(|(i, _)| NodeId(i))
            .collect();
        for p in subs {
            self.send_append(journal, p);
        }
    }

    pub(crate) fn on_approve(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        pos: LogPos,
    ) {
        if term != self.term || !self.state.is_leader() {
            return;
        }
        // Count it only if it is our history (it always should be).
        let ours = self
            .log
            .pos_at(journal, pos.count)
            .is_some_and(|p| p.hash == pos.hash);
        if !ours {
            return;
        }
        let now = self.now;
        let p = &mut self.peers[from.0];
        if pos.count > p.matched {
            p.matched = pos.count;
            p.progress_at = now;
        }
        if p.next <= p.matched {
            p.next = p.matched + 1;
        }
        self.send_append(journal, from);
        self.advance_leader(journal);
    }

    pub(crate) fn on_deny(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        term: u64,
        reason: DenyReason,
        tip: LogPos,
    ) {
        if term != self.term || !self.state.is_leader() {
            return;
        }
        match reason {
            DenyReason::Gap => {
                let now = self.now;
                let heartbeat = self.cfg.timing.heartbeat;
                let p = &mut self.peers[from.0];
                if tip.count < p.matched {
                    // It lost commits it approved (broken storage): make it subscribe afresh.
                    p.subscribed = false;
                    return;
                }
                let resume = tip.count + 1;
                let recently = p.rewound_at.is_some_and(|t| now < t + heartbeat);
                if resume < p.next && !recently {
                    p.next = resume;
                    p.rewound_at = Some(now);
                    self.send_append(journal, from);
                }
            }
            DenyReason::Forked | DenyReason::NeedSnapshot => {
                self.peers[from.0].subscribed = false;
            }
            _ => {}
        }
    }

    /// Something changed (a durable commit, an approval): move the commit point and answer
    /// whatever requests now meet their consistency level.
    pub(crate) fn advance_leader(&mut self, journal: &dyn Journal) {
        let Some(noop) = self.lead.as_ref().map(|l| l.noop) else {
            return;
        };
        let mm = self.majority_match();
        if mm > self.commit_point && mm >= noop {
            self.commit_point = mm;
            let msg = Message::CommitTransaction {
                term: self.term,
                commit_point: mm,
            };
            let subs: Vec<NodeId> = self
                .peers
                .iter()
                .enumerate()
                .filter(|(_, p)| p.subscribed)
                .map(|(i, _)| NodeId(i))
                .collect();
            for p in subs {
                self.send(p, msg.clone());
            }
        }
        self.process_acks();
        self.maybe_execute(journal);
    }

    /// Whether some other member that counts (a voting follower) holds `n` durably.
    fn follower_holds(&self, n: u64) -> bool {
        self.peers
            .iter()
            .enumerate()
            .any(|(i, p)| NodeId(i) != self.me && self.cfg.counts(NodeId(i)) && p.matched >= n)
    }

    /// Answers the requests whose consistency level is met.
    pub(crate) fn process_acks(&mut self) {
        let durable = self.log.durable().count;
        let cp = self.commit_point;
        let limit = durable.max(cp);
        let alone = self.cfg.voters() <= 1;
        let Some(lead) = self.lead.as_ref() else {
            return;
        };
        let counts: Vec<u64> = lead.waiters.range(..=limit).map(|(n, _)| *n).collect();
        let mut answers = Vec::new();
        for n in counts {
            let one_ok = durable >= n && (alone || self.follower_holds(n));
            let Some(lead) = self.lead.as_mut() else {
                return;
            };
            let Some(ws) = lead.waiters.get_mut(&n) else {
                continue;
            };
            let mut keep = Vec::new();
            for w in ws.drain(..) {
                let met = match w.consistency {
                    super::types::Consistency::Async => durable >= n,
                    super::types::Consistency::One => one_ok,
                    super::types::Consistency::Quorum => cp >= n,
                };
                if met {
                    lead.index.remove(&w.id);
                    answers.push((n, w));
                } else {
                    keep.push(w);
                }
            }
            if keep.is_empty() {
                lead.waiters.remove(&n);
            } else {
                *ws = keep;
            }
        }
        for (n, w) in answers {
            for origin in w.origins {
                self.answer(
                    origin,
                    w.id,
                    super::types::Outcome::Committed {
                        commit_count: n,
                        result: w.result.clone(),
                    },
                );
            }
        }
    }

    /// Leave leadership (lost quorum, newer term, local failure). In-flight client requests
    /// submitted here stay pending and go to the next leader, which answers them from the
    /// replicated record if they committed.
    pub(crate) fn step_down(&mut self, _journal: &dyn Journal, reason: &'static str) {
        if let Some(lead) = self.lead.take() {
            if let Some(b) = lead.executing {
                self.out.push(Output::Rollback { batch: b.id });
            }
            if lead.handover.as_ref().is_some_and(|h| h.sent_at.is_some()) {
                self.handover_failures = 0;
            }
        }
        if self.leader == Some(self.me) {
            self.leader = None;
        }
        for p in &mut self.peers {
            p.subscribed = false;
        }
        self.set_state(State::Searching, reason);
        self.reset_election_timer();
    }

    /// The caught-up, reachable voter with the highest priority above ours, if any.
    fn handover_target(&self) -> Option<NodeId> {
        let my_priority = self.cfg.me().priority;
        let tip = self.log.tip().count;
        let recent = self.cfg.timing.election / 2;
        let mut best: Option<(u32, NodeId)> = None;
        for (i, p) in self.peers.iter().enumerate() {
            let id = NodeId(i);
            let Some(m) = self.cfg.member(id) else {
                continue;
            };
            if id == self.me || !m.is_voter() || m.priority <= my_priority {
                continue;
            }
            let fresh = p.heard_in_term.is_some_and(|t| self.now < t + recent);
            if fresh
                && p.matched + self.cfg.max_inflight >= tip
                && best.is_none_or(|(bp, _)| m.priority > bp)
            {
                best = Some((m.priority, id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// Handover to a returning higher-priority node: stop executing new writes (they queue),
    /// wait until everything is committed and the target holds it all, then tell it to stand up.
    fn tick_handover(&mut self) {
        let now = self.now;
        if self.state == State::Leading
            && now >= self.handover_backoff_until
            && let Some(target) = self.handover_target()
        {
            if let Some(l) = self.lead.as_mut() {
                l.handover = Some(Handover {
                    target,
                    since: now,
                    sent_at: None,
                });
            }
            self.set_state(
                State::StandingDown,
                "handing over to a higher-priority node",
            );
        }
        if self.state != State::StandingDown {
            return;
        }
        let tip = self.log.tip().count;
        let cp = self.commit_point;
        let heartbeat = self.cfg.timing.heartbeat;
        let limit = self.cfg.timing.handover;
        let Some(lead) = self.lead.as_mut() else {
            return;
        };
        let Some(h) = lead.handover.as_mut() else {
            return;
        };
        if now > h.since + limit {
            lead.handover = None;
            self.handover_failures = self.handover_failures.saturating_add(1);
            let backoff = self.cfg.timing.election << self.handover_failures.min(3);
            self.handover_backoff_until = now + backoff;
            self.set_state(State::Leading, "handover timed out");
            return;
        }
        let target = h.target;
        let ready = lead.executing.is_none()
            && cp == tip
            && self.peers[target.0].matched == tip
            && h.sent_at.is_none_or(|t| now >= t + heartbeat);
        if ready {
            h.sent_at = Some(now);
            let term = self.term;
            self.send(target, Message::StandupNow { term });
        }
    }
}
