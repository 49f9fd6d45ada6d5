//! Client requests: every write submitted on this node waits in `pending` until it has exactly
//! one answer. A follower escalates it to the leader (again after a leader change or a timeout:
//! safe, because the leader de-duplicates by idempotency id against its queue, its pipeline and
//! the replicated record). The leader groups queued requests into one transaction per commit
//! (group commit) and answers each once its consistency level is met.

use super::io::{Executed, Output};
use super::journal::Journal;
use super::message::Message;
use super::node::Node;
use super::types::{Consistency, Entry, NodeId, Outcome, RequestId, State};
use crate::log::chain;
use crate::log::{Envelope, RequestRecord};

/// A request submitted on this node.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub consistency: Consistency,
    pub body: Vec<u8>,
    pub deadline: u64,
    /// It left this node or went into a batch: a timeout is then an unknown outcome.
    pub maybe_executed: bool,
    /// Leader and term it was last escalated to, and when.
    pub sent_to: Option<(NodeId, u64)>,
    pub last_sent: u64,
}

/// A request queued on the leader.
#[derive(Debug, Clone)]
pub(crate) struct LeaderReq {
    pub id: RequestId,
    pub consistency: Consistency,
    pub body: Vec<u8>,
    /// Nodes to answer (the submitting node; duplicates from re-escalation join here).
    pub origins: Vec<NodeId>,
    /// Our tick after which nobody waits for it any more: dropped if still queued.
    pub deadline: u64,
}

/// The batch the driver is executing.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub id: u64,
    pub reqs: Vec<LeaderReq>,
}

/// Where the leader has a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    Queued,
    Executing,
    /// Recorded in commit n, waiting for its consistency level.
    Waiting(u64),
}

/// A recorded request waiting for its consistency level.
#[derive(Debug, Clone)]
pub(crate) struct Waiter {
    pub id: RequestId,
    pub consistency: Consistency,
    pub origins: Vec<NodeId>,
    pub result: Vec<u8>,
}

fn add_origin(origins: &mut Vec<NodeId>, o: NodeId) {
    if !origins.contains(&o) {
        origins.push(o);
    }
}

impl Node {
    pub(crate) fn on_client_write(
        &mut self,
        journal: &dyn Journal,
        id: RequestId,
        consistency: Consistency,
        body: Vec<u8>,
        timeout: Option<u64>,
    ) {
        if self.pending.contains_key(&id) {
            return;
        }
        let deadline = self
            .now
            .saturating_add(timeout.unwrap_or(self.cfg.timing.request_timeout));
        self.pending.insert(
            id,
            Pending {
                consistency,
                body: body.clone(),
                deadline,
                maybe_executed: false,
                sent_to: None,
                last_sent: 0,
            },
        );
        if self.state.is_leader() {
            let me = self.me;
            self.accept_request(journal, id, consistency, body, me, deadline);
        } else {
            self.dispatch_escalations();
        }
    }

    /// Sends pending requests to the leader: first time, after a leader change, or on retry.
    fn dispatch_escalations(&mut self) {
        if self.state.is_leader() || !matches!(self.state, State::Following | State::Subscribing) {
            return;
        }
        let Some(leader) = self.leader else {
            return;
        };
        let now = self.now;
        let term = self.term;
        let retry = self.cfg.timing.escalate_retry;
        let mut msgs = Vec::new();
        for (id, p) in self.pending.iter_mut() {
            if p.sent_to != Some((leader, term)) || now >= p.last_sent + retry {
                p.sent_to = Some((leader, term));
                p.last_sent = now;
                p.maybe_executed = true;
                msgs.push(Message::Escalate {
                    id: *id,
                    consistency: p.consistency,
                    body: p.body.clone(),
                    ttl: p.deadline.saturating_sub(now),
                });
            }
        }
        for m in msgs {
            self.send(leader, m);
        }
    }

    /// New leader: take over the requests submitted here.
    pub(crate) fn accept_local_pending(&mut self, journal: &dyn Journal) {
        let me = self.me;
        let reqs: Vec<(RequestId, Consistency, Vec<u8>, u64)> = self
            .pending
            .iter()
            .map(|(id, p)| (*id, p.consistency, p.body.clone(), p.deadline))
            .collect();
        for (id, c, body, deadline) in reqs {
            self.accept_request(journal, id, c, body, me, deadline);
        }
    }

    pub(crate) fn on_escalate(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        id: RequestId,
        consistency: Consistency,
        body: Vec<u8>,
        ttl: u64,
    ) {
        // Not leading: drop it; the origin re-sends when it learns the leader.
        if self.state.is_leader() {
            let deadline = self.now.saturating_add(ttl);
            self.accept_request(journal, id, consistency, body, from, deadline);
        }
    }

    pub(crate) fn on_escalate_response(&mut self, id: RequestId, outcome: Outcome) {
        if self.pending.remove(&id).is_some() {
            self.out.push(Output::Reply { id, outcome });
        }
    }

    /// Leader: take a request, unless this id is already queued, running, or recorded — then
    /// the origin just joins the existing one (never executed twice).
    pub(crate) fn accept_request(
        &mut self,
        journal: &dyn Journal,
        id: RequestId,
        consistency: Consistency,
        body: Vec<u8>,
        origin: NodeId,
        deadline: u64,
    ) {
        let commit_point = self.commit_point;
        let dedup = !self.cfg.faults.reexecute_escalated;
        let recorded = if dedup {
            self.log.find_request(journal, id)
        } else {
            None
        };
        let Some(lead) = self.lead.as_mut() else {
            return;
        };
        if let Some(loc) = lead.index.get(&id).copied() {
            match loc {
                Loc::Queued => {
                    if let Some(r) = lead.queue.iter_mut().find(|r| r.id == id) {
                        add_origin(&mut r.origins, origin);
                        r.deadline = r.deadline.max(deadline);
                    }
                }
                Loc::Executing => {
                    if let Some(b) = lead.executing.as_mut()
                        && let Some(r) = b.reqs.iter_mut().find(|r| r.id == id)
                    {
                        add_origin(&mut r.origins, origin);
                    }
                }
                Loc::Waiting(n) => {
                    if let Some(w) = lead
                        .waiters
                        .get_mut(&n)
                        .and_then(|ws| ws.iter_mut().find(|w| w.id == id))
                    {
                        add_origin(&mut w.origins, origin);
                    }
                }
            }
            return;
        }
        if let Some((n, result)) = recorded {
            if n <= commit_point {
                self.answer(
                    origin,
                    id,
                    Outcome::Committed {
                        commit_count: n,
                        result,
                    },
                );
            } else {
                // In our log but not yet committed: answer once a majority holds it.
                lead.index.insert(id, Loc::Waiting(n));
                lead.waiters.entry(n).or_default().push(Waiter {
                    id,
                    consistency: Consistency::Quorum,
                    origins: vec![origin],
                    result,
                });
            }
            return;
        }
        lead.index.insert(id, Loc::Queued);
        lead.queue.push_back(super::requests::LeaderReq {
            id,
            consistency,
            body,
            origins: vec![origin],
            deadline,
        });
        self.maybe_execute(journal);
    }

    /// Leader: start the next batch if the writer is free, we hold our quorum, and the
    /// quorum checkpoint leaves room. Otherwise requests wait in the queue.
    ///
    /// The writer is free only once the previous batch is durable here too: the single
    /// writer makes it durable before it could run anything else anyway, and requests that
    /// arrive meanwhile then share the next batch (and its fsync) instead of queueing
    /// behind a batch of one. Replication to followers stays pipelined.
    pub(crate) fn maybe_execute(&mut self, _journal: &dyn Journal) {
        if self.state != State::Leading || self.snapshot.is_some() {
            return;
        }
        if self.log.tip().count != self.log.durable().count || !self.writer_ready {
            return;
        }
        let ready = self
            .lead
            .as_ref()
            .is_some_and(|l| l.executing.is_none() && !l.queue.is_empty());
        if !ready || !self.has_quorum_contact() || !self.checkpoint_room() {
            return;
        }
        let max = self.cfg.max_batch;
        let now = self.now;
        let Some(lead) = self.lead.as_mut() else {
            return;
        };
        // Nobody waits for expired requests any more (their origins answered "unknown").
        let mut reqs: Vec<LeaderReq> = Vec::new();
        while reqs.len() < max {
            let Some(r) = lead.queue.pop_front() else {
                break;
            };
            if now > r.deadline {
                lead.index.remove(&r.id);
            } else {
                reqs.push(r);
            }
        }
        if reqs.is_empty() {
            return;
        }
        let id = self.next_batch;
        self.next_batch += 1;
        for r in &reqs {
            lead.index.insert(r.id, Loc::Executing);
        }
        let requests: Vec<(RequestId, Vec<u8>)> =
            reqs.iter().map(|r| (r.id, r.body.clone())).collect();
        lead.executing = Some(Batch { id, reqs });
        self.writer_ready = false;
        for (rid, _) in &requests {
            if let Some(p) = self.pending.get_mut(rid) {
                p.maybe_executed = true;
            }
        }
        self.out.push(Output::Execute {
            batch: id,
            requests,
        });
    }

    pub(crate) fn on_executed(
        &mut self,
        journal: &dyn Journal,
        batch: u64,
        body: Vec<u8>,
        results: Vec<Executed>,
    ) {
        let term = self.term;
        let mine = self
            .lead
            .as_ref()
            .and_then(|l| l.executing.as_ref())
            .is_some_and(|b| b.id == batch);
        if !mine || !self.state.is_leader() {
            // Leadership ended while it ran; step_down already asked for the rollback.
            return;
        }
        let Some(b) = self.lead.as_mut().and_then(|l| l.executing.take()) else {
            return;
        };
        let mut records = Vec::new();
        let mut ok_reqs = Vec::new();
        let mut failed = Vec::new();
        for r in b.reqs {
            match results.iter().find(|x| x.id == r.id) {
                Some(x) if x.ok => {
                    records.push(RequestRecord {
                        id: r.id,
                        result: x.result.clone(),
                    });
                    ok_reqs.push((r, x.result.clone()));
                }
                Some(x) => failed.push((r, x.result.clone())),
                None => failed.push((r, Vec::new())),
            }
        }
        for (r, result) in failed {
            if let Some(l) = self.lead.as_mut() {
                l.index.remove(&r.id);
            }
            for o in r.origins {
                self.answer(
                    o,
                    r.id,
                    Outcome::Failed {
                        result: result.clone(),
                    },
                );
            }
        }
        if records.is_empty() {
            self.out.push(Output::Rollback { batch });
            self.maybe_execute(journal);
            return;
        }
        let payload = Envelope {
            term,
            requests: records,
            body,
        }
        .encode();
        let tip = self.log.tip();
        let entry = Entry {
            count: tip.count + 1,
            term,
            hash: chain(&tip.hash, &payload),
            payload,
        };
        let n = entry.count;
        self.log.push(entry.clone());
        self.out.push(Output::Commit {
            entry,
            batch: Some(batch),
        });
        if let Some(l) = self.lead.as_mut() {
            for (r, result) in ok_reqs {
                l.index.insert(r.id, Loc::Waiting(n));
                l.waiters.entry(n).or_default().push(Waiter {
                    id: r.id,
                    consistency: r.consistency,
                    origins: r.origins,
                    result,
                });
            }
        }
        self.replicate(journal);
        self.maybe_execute(journal);
    }

    pub(crate) fn on_execute_failed(&mut self, journal: &dyn Journal, batch: u64) {
        let Some(b) = self
            .lead
            .as_mut()
            .and_then(|l| l.executing.take_if(|b| b.id == batch))
        else {
            return;
        };
        for r in b.reqs {
            if let Some(l) = self.lead.as_mut() {
                l.index.remove(&r.id);
            }
            for o in r.origins {
                self.answer(o, r.id, Outcome::Failed { result: Vec::new() });
            }
        }
        self.maybe_execute(journal);
    }

    /// Delivers a final answer to the node where the client is.
    pub(crate) fn answer(&mut self, origin: NodeId, id: RequestId, outcome: Outcome) {
        if origin == self.me {
            if self.pending.remove(&id).is_some() {
                self.out.push(Output::Reply { id, outcome });
            }
        } else {
            self.send(origin, Message::EscalateResponse { id, outcome });
        }
    }

    /// Timeouts of requests submitted here, and escalation (re)sends.
    pub(crate) fn tick_requests(&mut self, _journal: &dyn Journal) {
        let now = self.now;
        // A request in the batch this leader's writer is running waits for it: its outcome
        // is known once the batch ends (a long statement is not an unknown outcome).
        let executing = |id: &RequestId| {
            self.lead
                .as_ref()
                .is_some_and(|l| l.index.get(id) == Some(&Loc::Executing))
        };
        let expired: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(id, p)| now >= p.deadline && !executing(id))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            let Some(p) = self.pending.remove(&id) else {
                continue;
            };
            // Still waiting in our own leader queue: it will not run now.
            if let Some(l) = self.lead.as_mut()
                && l.index.get(&id) == Some(&Loc::Queued)
            {
                l.index.remove(&id);
                l.queue.retain(|r| r.id != id);
            }
            // Never escalated nor put in a batch: certainly not executed anywhere.
            let outcome = if !p.maybe_executed {
                Outcome::Refused {
                    reason: "no leader with a quorum accepted the write within the wait timeout"
                        .into(),
                }
            } else {
                Outcome::Unknown
            };
            self.out.push(Output::Reply { id, outcome });
        }
        self.dispatch_escalations();
    }
}
