//! Read access to the durable commit log, implemented by the driver: the server over
//! `__bedrock_journal` (plus an index of request ids), the simulator over its in-memory disk.
//! Writes are never done through this trait: the core asks for them with
//! [`crate::cluster::Output::Commit`] and [`crate::cluster::Output::RequestSnapshot`] and learns
//! that they are durable from [`crate::cluster::Input::Committed`] and friends.

use super::types::{Entry, LogPos, RequestId};

pub trait Journal {
    /// The durable tip: count, term and hash of the last durable commit (default for none).
    fn tip(&self) -> LogPos;

    /// The durable entry at `count`, or `None` if it is beyond the tip or older than the
    /// journal window (`-maxJournalSize`).
    fn entry(&self, count: u64) -> Option<Entry>;

    /// The commit count and recorded result of request `id`, if a durable commit holds it.
    /// Must cover the whole history (the id index survives journal truncation).
    fn find_request(&self, id: RequestId) -> Option<(u64, Vec<u8>)>;

    /// The durable position at `count` (count 0 is the empty log).
    fn pos_at(&self, count: u64) -> Option<LogPos> {
        if count == 0 {
            return Some(LogPos::default());
        }
        let tip = self.tip();
        if count == tip.count {
            return Some(tip);
        }
        self.entry(count).map(|e| e.pos())
    }
}
