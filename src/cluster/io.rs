//! What goes into the core and what comes out of it.
//!
//! The driver feeds [`Input`]s to [`crate::cluster::Node::step`] and performs the returned
//! [`Output`]s **in order**. Two ordering rules carry the safety argument:
//! - [`Output::PersistHardState`] must be durable before any later output is performed (a vote
//!   must be on disk before the STANDUP_RESPONSE that announces it leaves the node).
//! - Storage outputs ([`Output::Commit`], [`Output::Execute`], [`Output::RequestSnapshot`]) are
//!   performed one after another in the order given (the single SQLite writer), and their
//!   completions are reported back in that same order.

use super::message::Message;
use super::types::{Consistency, Entry, LogPos, NodeId, Outcome, RequestId, State};

/// The durable election state (`__bedrock_meta`): current term and the vote cast in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HardState {
    pub term: u64,
    /// The member voted for in `term` (the driver stores its name).
    pub vote: Option<NodeId>,
}

/// The result of executing one request of a batch on the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    pub id: RequestId,
    /// False if the request failed (its savepoint was rolled back): it is answered
    /// [`Outcome::Failed`] and not recorded.
    pub ok: bool,
    /// Command tag / rows, or the error, opaque to the core.
    pub result: Vec<u8>,
}

/// Why a node moved its database aside: the commits that diverged from the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkInfo {
    /// Our tip when the fork was found.
    pub local_tip: LogPos,
    /// The first commit count at which we know our history differs from the leader's.
    pub detected_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// One tick of time passed.
    Tick,
    /// A message from a logged-in (or logging-in) peer.
    Message { from: NodeId, msg: Message },
    /// The transport (re)connected to a peer: the core sends LOGIN.
    PeerConnected(NodeId),
    /// The transport lost a peer.
    PeerDisconnected(NodeId),
    /// A client on this node submits a write. Answered by exactly one [`Output::Reply`].
    ClientWrite {
        id: RequestId,
        consistency: Consistency,
        body: Vec<u8>,
        /// Ticks to wait for an answer (the session's `bedrock.wait_timeout`); `None` for
        /// `Timing::request_timeout`.
        timeout: Option<u64>,
    },
    /// The batch of [`Output::Execute`] ran; its transaction is still open. `body` is the
    /// application payload to replicate (statements with bound values).
    Executed {
        batch: u64,
        body: Vec<u8>,
        results: Vec<Executed>,
    },
    /// The batch could not run at all (the transaction was rolled back).
    ExecuteFailed { batch: u64, reason: String },
    /// [`Output::Commit`] of `count` is durable (reported in order).
    Committed { count: u64 },
    /// [`Output::Commit`] of `count` failed; nothing from it on is durable.
    CommitFailed { count: u64, reason: String },
    /// The snapshot asked for by [`Output::RequestSnapshot`] is installed; `tip` is the new
    /// durable tip.
    SnapshotInstalled { tip: LogPos },
    /// The snapshot could not be fetched or did not satisfy `must_contain`.
    SnapshotFailed { reason: String },
    /// The driver's writer has nothing else ready to run. A leader starts its next batch only
    /// then (and once the previous one is durable), so a batch takes in every request that
    /// arrived while the writer was busy — "a batch closes as soon as the writer has nothing
    /// ready to run" — and a lone client's request, arriving at an idle writer, starts one at
    /// once. Batching efficiency only: safety never depends on it.
    WriterReady,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send a message to a peer (best effort; the core retries what matters).
    Send { to: NodeId, msg: Message },
    /// Make the term and vote durable before performing anything that follows.
    PersistHardState(HardState),
    /// Leader: execute these requests in one transaction (a savepoint each), keep it open, and
    /// report [`Input::Executed`]. The next output about this batch is a [`Output::Commit`] with
    /// `batch: Some(..)` or an [`Output::Rollback`].
    Execute {
        batch: u64,
        requests: Vec<(RequestId, Vec<u8>)>,
    },
    /// Leader: roll back the open transaction of `batch` (leadership was lost meanwhile).
    Rollback { batch: u64 },
    /// Make `entry` durable: insert its journal row and commit, in one SQLite transaction. With
    /// `batch: Some(b)` it is the open transaction of batch `b`; otherwise execute the payload's
    /// body first. Report [`Input::Committed`] (in order).
    Commit { entry: Entry, batch: Option<u64> },
    /// Fetch a snapshot of `from`'s database and install it atomically. Refuse it (report
    /// [`Input::SnapshotFailed`]) unless it holds commit `must_contain.count` with hash
    /// `must_contain.hash` (or that commit is older than the snapshot's journal window). With
    /// `fork: Some(..)`, first move the current file aside (`<db>.forked-<time>`), never delete it,
    /// and log which commits diverged.
    RequestSnapshot {
        from: NodeId,
        must_contain: LogPos,
        fork: Option<ForkInfo>,
    },
    /// The final answer to a [`Input::ClientWrite`] submitted on this node.
    Reply { id: RequestId, outcome: Outcome },
    /// The node changed state (for logs and metrics; one line with the reason).
    StateChanged {
        from: State,
        to: State,
        term: u64,
        reason: &'static str,
    },
}
