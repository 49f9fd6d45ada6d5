//! SYNCHRONIZE: with no leader in sight, a node pulls the commits it lacks from the freshest
//! peer that is not forked from it, checked by hash at its own tip (so a fork is never spread),
//! in batches. Peers serve only durable commits.

use super::journal::Journal;
use super::message::{DenyReason, Message};
use super::node::Node;
use super::types::{Entry, LogPos, NodeId, State};

impl Node {
    pub(crate) fn start_sync(&mut self, peer: NodeId) {
        self.sync_peer = Some(peer);
        self.last_entry_at = self.now;
        self.set_state(State::Synchronizing, "a peer has commits we lack");
        let msg = Message::Synchronize {
            term: self.term,
            tip: self.log.tip(),
        };
        self.send(peer, msg);
    }

    /// Serve a peer's SYNCHRONIZE from our durable journal.
    pub(crate) fn on_synchronize(&mut self, journal: &dyn Journal, from: NodeId, tip: LogPos) {
        let mine = self.log.durable();
        let term = self.term;
        let deny = |reason| Message::SynchronizeDenied {
            term,
            reason,
            peer_tip: mine,
        };
        let reply = if tip.count >= mine.count {
            deny(DenyReason::NothingNewer)
        } else {
            match journal.pos_at(tip.count) {
                None => deny(DenyReason::NeedSnapshot),
                Some(p) if p.hash != tip.hash => deny(DenyReason::Forked),
                Some(_) => {
                    let last = mine.count.min(tip.count + self.cfg.sync_batch);
                    let entries: Option<Vec<Entry>> =
                        (tip.count + 1..=last).map(|n| journal.entry(n)).collect();
                    match entries {
                        Some(entries) => Message::SynchronizeResponse {
                            term,
                            entries,
                            peer_tip: mine,
                        },
                        None => deny(DenyReason::NeedSnapshot),
                    }
                }
            }
        };
        self.send(from, reply);
    }

    pub(crate) fn on_synchronize_response(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        entries: Vec<Entry>,
        peer_tip: LogPos,
    ) {
        self.note_peer_tip(journal, from, peer_tip);
        if self.state != State::Synchronizing
            || self.sync_peer != Some(from)
            || self.snapshot.is_some()
        {
            return;
        }
        for e in entries {
            let tip = self.log.tip();
            if e.count <= tip.count {
                if self
                    .log
                    .pos_at(journal, e.count)
                    .is_some_and(|p| p.hash != e.hash)
                {
                    self.peers[from.0].forked = true;
                    break;
                }
                continue;
            }
            if !self.log.chains(&e) || !Self::entry_well_formed(&e) {
                self.peers[from.0].forked = true;
                break;
            }
            self.append_entry(e);
            self.last_entry_at = self.now;
        }
        if self.peers[from.0].forked {
            self.sync_peer = None;
            self.set_state(State::Searching, "sync peer's history differs from ours");
        } else if self.log.tip().count >= peer_tip.count {
            self.sync_peer = None;
            self.set_state(State::Waiting, "synchronized");
        } else {
            let msg = Message::Synchronize {
                term: self.term,
                tip: self.log.tip(),
            };
            self.send(from, msg);
        }
    }

    pub(crate) fn on_synchronize_denied(
        &mut self,
        journal: &dyn Journal,
        from: NodeId,
        reason: DenyReason,
        peer_tip: LogPos,
    ) {
        self.note_peer_tip(journal, from, peer_tip);
        if self.sync_peer != Some(from) {
            return;
        }
        match reason {
            DenyReason::Forked => self.peers[from.0].forked = true,
            // Only the leader re-seeds us (DESIGN.md §7); until then this peer cannot help.
            DenyReason::NeedSnapshot => self.peers[from.0].cannot_serve = true,
            _ => {}
        }
        self.sync_peer = None;
        if self.state == State::Synchronizing && self.snapshot.is_none() {
            self.set_state(State::Searching, "sync peer cannot serve us");
        }
    }
}
