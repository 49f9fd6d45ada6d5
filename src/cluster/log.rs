//! The core's view of its own commit log: the durable part (read through [`Journal`]) plus the
//! commits it has asked the driver to make durable but not yet heard back about.

use std::collections::{HashMap, VecDeque};

use super::journal::Journal;
use super::types::{Entry, LogPos, RequestId};
use crate::log::Envelope;
use crate::log::chain;

#[derive(Debug, Default)]
pub(crate) struct Log {
    /// Last durable commit, as last reported by the driver.
    durable: LogPos,
    /// Commits handed to the driver, not yet reported durable, in order.
    unstable: VecDeque<Entry>,
    /// Request ids recorded in `unstable` commits (the journal's index covers durable ones).
    recent_ids: HashMap<RequestId, (u64, Vec<u8>)>,
}

impl Log {
    pub fn new(durable: LogPos) -> Self {
        Log {
            durable,
            ..Log::default()
        }
    }

    pub fn durable(&self) -> LogPos {
        self.durable
    }

    /// The last commit handed to the driver (durable or not).
    pub fn tip(&self) -> LogPos {
        self.unstable.back().map_or(self.durable, Entry::pos)
    }

    pub fn pos_at(&self, journal: &dyn Journal, count: u64) -> Option<LogPos> {
        if count > self.durable.count {
            let first = self.unstable.front()?.count;
            return self
                .unstable
                .get(count.checked_sub(first)? as usize)
                .map(Entry::pos);
        }
        if count == self.durable.count {
            return Some(self.durable);
        }
        journal.pos_at(count)
    }

    pub fn entry(&self, journal: &dyn Journal, count: u64) -> Option<Entry> {
        if count > self.durable.count {
            let first = self.unstable.front()?.count;
            return self
                .unstable
                .get(count.checked_sub(first)? as usize)
                .cloned();
        }
        if count == 0 {
            return None;
        }
        journal.entry(count)
    }

    /// Where request `id` is recorded, if anywhere in this log.
    pub fn find_request(&self, journal: &dyn Journal, id: RequestId) -> Option<(u64, Vec<u8>)> {
        if let Some(found) = self.recent_ids.get(&id) {
            return Some(found.clone());
        }
        journal.find_request(id)
    }

    /// Whether `entry` extends the tip: next count and a hash that chains onto ours.
    pub fn chains(&self, entry: &Entry) -> bool {
        let tip = self.tip();
        entry.count == tip.count + 1
            && entry.term >= tip.term
            && chain(&tip.hash, &entry.payload) == entry.hash
    }

    /// Records an entry handed to the driver for durable commit.
    pub fn push(&mut self, entry: Entry) {
        if let Ok((_, requests)) = Envelope::decode_header(&entry.payload) {
            for r in requests {
                self.recent_ids.insert(r.id, (entry.count, r.result));
            }
        }
        self.unstable.push_back(entry);
    }

    /// The driver reports everything up to `count` durable. Returns whether anything changed.
    pub fn mark_durable(&mut self, count: u64) -> bool {
        let mut changed = false;
        while self.unstable.front().is_some_and(|e| e.count <= count) {
            if let Some(e) = self.unstable.pop_front() {
                if let Ok((_, requests)) = Envelope::decode_header(&e.payload) {
                    for r in requests {
                        self.recent_ids.remove(&r.id);
                    }
                }
                self.durable = e.pos();
                changed = true;
            }
        }
        changed
    }

    /// The driver failed to commit `count`: nothing from it on will be durable.
    pub fn drop_from(&mut self, count: u64) {
        while self.unstable.back().is_some_and(|e| e.count >= count) {
            if let Some(e) = self.unstable.pop_back()
                && let Ok((_, requests)) = Envelope::decode_header(&e.payload)
            {
                for r in requests {
                    self.recent_ids.remove(&r.id);
                }
            }
        }
    }

    /// A snapshot replaced the whole database.
    pub fn reset(&mut self, durable: LogPos) {
        *self = Log::new(durable);
    }
}
