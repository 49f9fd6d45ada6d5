//! Positions in the commit log, its entries (`__bedrock_journal` rows) and the idempotency ids
//! of the client requests they record.

use std::fmt;

use super::hash::Hash;

/// A position in the commit log: the commit count, the term of the entry at that count and the
/// cumulative hash there. `LogPos::default()` is the empty log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogPos {
    pub count: u64,
    pub term: u64,
    pub hash: Hash,
}

impl LogPos {
    /// Raft's "at least as up to date" order: last term first, then length.
    pub fn up_to_date_key(&self) -> (u64, u64) {
        (self.term, self.count)
    }
}

/// One commit of the journal (`__bedrock_journal` row). `payload` is the core's envelope
/// (see [`super::envelope`]); `hash = SHA-256(hash(count-1) || payload)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub count: u64,
    pub term: u64,
    pub hash: Hash,
    pub payload: Vec<u8>,
}

impl Entry {
    pub fn pos(&self) -> LogPos {
        LogPos {
            count: self.count,
            term: self.term,
            hash: self.hash,
        }
    }
}

/// The idempotency id of a client request. The server generates it where the client is
/// connected; it travels with escalations and is recorded in the replicated log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u128);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}
