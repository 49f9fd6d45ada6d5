//! Small value types shared by every part of the core: node ids, consistency levels, outcomes
//! and the Bedrock state names (log positions, entries and request ids come from `crate::log`).

use std::fmt;

pub use crate::log::{Entry, Hash, LogPos, RequestId, ZERO_HASH};

/// Index of a node in [`crate::cluster::Config::members`]. It is local to one node's
/// configuration and never goes on the wire: the transport maps a peer's login name to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How many voters must hold a write before the client is told it committed (DESIGN.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Consistency {
    /// As soon as the leader has committed it durably (while it holds its quorum).
    Async,
    /// The leader and at least one voting follower hold it durably.
    One,
    /// A strict majority of the configured voters hold it durably.
    Quorum,
}

impl Consistency {
    pub fn to_u8(self) -> u8 {
        match self {
            Consistency::Async => 0,
            Consistency::One => 1,
            Consistency::Quorum => 2,
        }
    }

    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Consistency::Async),
            1 => Some(Consistency::One),
            2 => Some(Consistency::Quorum),
            _ => None,
        }
    }
}

/// The final answer to a client request. Exactly one is produced per submitted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Committed at `commit_count` with the consistency asked for; `result` is what the leader
    /// recorded when it executed the request (command tag, rows), so a re-escalated request is
    /// answered from the record.
    Committed { commit_count: u64, result: Vec<u8> },
    /// Executed and failed (e.g. a constraint violation): nothing was committed.
    Failed { result: Vec<u8> },
    /// Refused before it left this node: definitely not committed (SQLSTATE 57P03).
    Refused { reason: String },
    /// Sent for commit, then the leader or quorum was lost and the wait timed out: it may or may
    /// not have committed (SQLSTATE 40003). Never reported as success or failure.
    Unknown,
}

/// Bedrock's node states, in Bedrock's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// Connecting to peers and learning their term, commit count, hash and priority.
    Searching,
    /// Pulling missing commits from a fresher peer (or installing a snapshot).
    Synchronizing,
    /// Caught up with every peer it can see, no leader known; may stand up.
    Waiting,
    /// Candidate for a new term.
    StandingUp,
    /// Leader.
    Leading,
    /// Leader handing over to a higher-priority node: takes no new writes, finishes in-flight ones.
    StandingDown,
    /// Asked the leader to subscribe; waiting for approval.
    Subscribing,
    /// Replicating from the leader.
    Following,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Searching => "SEARCHING",
            State::Synchronizing => "SYNCHRONIZING",
            State::Waiting => "WAITING",
            State::StandingUp => "STANDINGUP",
            State::Leading => "LEADING",
            State::StandingDown => "STANDINGDOWN",
            State::Subscribing => "SUBSCRIBING",
            State::Following => "FOLLOWING",
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            State::Searching => 0,
            State::Synchronizing => 1,
            State::Waiting => 2,
            State::StandingUp => 3,
            State::Leading => 4,
            State::StandingDown => 5,
            State::Subscribing => 6,
            State::Following => 7,
        }
    }

    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => State::Searching,
            1 => State::Synchronizing,
            2 => State::Waiting,
            3 => State::StandingUp,
            4 => State::Leading,
            5 => State::StandingDown,
            6 => State::Subscribing,
            7 => State::Following,
            _ => return None,
        })
    }

    /// LEADING or STANDINGDOWN: this node is the leader of its term.
    pub fn is_leader(self) -> bool {
        matches!(self, State::Leading | State::StandingDown)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
