//! The peer messages, Bedrock's vocabulary with terms added. Every message that concerns the
//! replicated log carries the sender's term: a receiver adopts a higher term (and a leader or
//! candidate that sees one steps down), and answers a lower one so the sender learns it is stale.
//!
//! Messages name no node: the transport knows which peer a message came from (it maps the name
//! given at LOGIN to a [`crate::cluster::NodeId`]).

use super::types::{Consistency, Entry, LogPos, Outcome, RequestId, State};

/// Why a leader or peer refused to serve a node's log, or why a follower refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The node's history differs from the sender's at some commit count (a fork).
    Forked,
    /// The commits the node needs are older than the sender's journal window: it needs a snapshot.
    NeedSnapshot,
    /// The sender is not the leader (or no longer): try again later.
    NotLeader,
    /// An entry arrived out of order (a gap after lost messages): resend from `tip + 1`.
    Gap,
    /// The sender's term is older than the receiver's.
    StaleTerm,
    /// The sender has nothing newer than the node.
    NothingNewer,
}

impl DenyReason {
    pub fn to_u8(self) -> u8 {
        match self {
            DenyReason::Forked => 0,
            DenyReason::NeedSnapshot => 1,
            DenyReason::NotLeader => 2,
            DenyReason::Gap => 3,
            DenyReason::StaleTerm => 4,
            DenyReason::NothingNewer => 5,
        }
    }

    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => DenyReason::Forked,
            1 => DenyReason::NeedSnapshot,
            2 => DenyReason::NotLeader,
            3 => DenyReason::Gap,
            4 => DenyReason::StaleTerm,
            5 => DenyReason::NothingNewer,
            _ => return None,
        })
    }
}

/// A peer message. See docs/protocol.md for when each is sent and what the receiver does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// First message on a link, and the answer to it when `reply_wanted`. Identity and freshness.
    Login {
        cluster_id: u64,
        name: String,
        priority: u32,
        version: u32,
        term: u64,
        tip: LogPos,
        reply_wanted: bool,
    },
    /// Periodic state report from a node that is not leading (Bedrock's STATE + PING).
    Status {
        term: u64,
        state: State,
        tip: LogPos,
    },
    /// Pre-vote: "would you vote for me in `term` (= my term + 1)?" Changes nobody's term.
    StandupProbe { term: u64, tip: LogPos },
    /// Answer to a probe; `voter_term` lets a stale prober catch up.
    StandupProbeResponse {
        term: u64,
        granted: bool,
        voter_term: u64,
    },
    /// Candidate for `term` asks for a vote (Bedrock's STANDINGUP state broadcast).
    Standup {
        term: u64,
        tip: LogPos,
        /// Set when the leader handed over to this node (STANDINGDOWN).
        transfer: bool,
    },
    /// A vote (Bedrock's STANDUP_RESPONSE approve/deny).
    StandupResponse { term: u64, granted: bool },
    /// Handover: the leader tells its caught-up higher-priority follower to stand up now.
    StandupNow { term: u64 },
    /// Leader liveness and tip, sent to every peer.
    Heartbeat {
        term: u64,
        tip: LogPos,
        commit_point: u64,
    },
    /// Any node's answer to a heartbeat of its term; `tip` is its durable tip.
    HeartbeatAck {
        term: u64,
        tip: LogPos,
        state: State,
    },
    /// "I hold `tip` (durably): stream me what follows."
    Subscribe { term: u64, tip: LogPos },
    /// The leader accepted the subscription and streams commits after `from`.
    SubscriptionApproved {
        term: u64,
        from: u64,
        commit_point: u64,
    },
    /// The leader refused: the node is forked (`leader_pos` is the leader's position at the
    /// node's count, or its tip if shorter) or needs a snapshot; or the receiver is not leading.
    SubscriptionDenied {
        term: u64,
        reason: DenyReason,
        leader_pos: LogPos,
    },
    /// One commit, proposed by the leader of `term`.
    BeginTransaction {
        term: u64,
        entry: Entry,
        commit_point: u64,
    },
    /// "I durably hold everything up to `pos`" (cumulative).
    ApproveTransaction { term: u64, pos: LogPos },
    /// The follower refused an entry; `tip` is the follower's tip.
    DenyTransaction {
        term: u64,
        reason: DenyReason,
        tip: LogPos,
    },
    /// The leader's commit point: everything up to it is held by a majority.
    CommitTransaction { term: u64, commit_point: u64 },
    /// "I hold `tip`: send me the commits after it" (SYNCHRONIZING, no leader needed).
    Synchronize { term: u64, tip: LogPos },
    /// Commits after the requester's tip; `peer_tip` is the sender's tip.
    SynchronizeResponse {
        term: u64,
        entries: Vec<Entry>,
        peer_tip: LogPos,
    },
    /// The peer cannot serve the requester (fork, window, nothing newer).
    SynchronizeDenied {
        term: u64,
        reason: DenyReason,
        peer_tip: LogPos,
    },
    /// A client write forwarded to the leader. `ttl`: ticks the origin will still wait; the
    /// leader drops it unexecuted if it is still queued after that (the client has its answer).
    Escalate {
        id: RequestId,
        consistency: Consistency,
        body: Vec<u8>,
        ttl: u64,
    },
    /// The leader's final answer to an escalated request.
    EscalateResponse { id: RequestId, outcome: Outcome },
}

impl Message {
    /// The sender's term for messages that carry one (everything but LOGIN's separate handling
    /// and the request-level escalation messages).
    pub fn term(&self) -> Option<u64> {
        match self {
            Message::Login { term, .. }
            | Message::Status { term, .. }
            | Message::Standup { term, .. }
            | Message::StandupResponse { term, .. }
            | Message::StandupNow { term }
            | Message::Heartbeat { term, .. }
            | Message::HeartbeatAck { term, .. }
            | Message::Subscribe { term, .. }
            | Message::SubscriptionApproved { term, .. }
            | Message::SubscriptionDenied { term, .. }
            | Message::BeginTransaction { term, .. }
            | Message::ApproveTransaction { term, .. }
            | Message::DenyTransaction { term, .. }
            | Message::CommitTransaction { term, .. }
            | Message::Synchronize { term, .. }
            | Message::SynchronizeResponse { term, .. }
            | Message::SynchronizeDenied { term, .. } => Some(*term),
            // A probe is about a hypothetical term; its response carries the voter's real term.
            Message::StandupProbeResponse { voter_term, .. } => Some(*voter_term),
            Message::StandupProbe { .. }
            | Message::Escalate { .. }
            | Message::EscalateResponse { .. } => None,
        }
    }

    /// Bedrock-style name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Login { .. } => "LOGIN",
            Message::Status { .. } => "STATE",
            Message::StandupProbe { .. } => "STANDUP_PROBE",
            Message::StandupProbeResponse { .. } => "STANDUP_PROBE_RESPONSE",
            Message::Standup { .. } => "STANDUP",
            Message::StandupResponse { .. } => "STANDUP_RESPONSE",
            Message::StandupNow { .. } => "STANDUP_NOW",
            Message::Heartbeat { .. } => "HEARTBEAT",
            Message::HeartbeatAck { .. } => "HEARTBEAT_ACK",
            Message::Subscribe { .. } => "SUBSCRIBE",
            Message::SubscriptionApproved { .. } => "SUBSCRIPTION_APPROVED",
            Message::SubscriptionDenied { .. } => "SUBSCRIPTION_DENIED",
            Message::BeginTransaction { .. } => "BEGIN_TRANSACTION",
            Message::ApproveTransaction { .. } => "APPROVE_TRANSACTION",
            Message::DenyTransaction { .. } => "DENY_TRANSACTION",
            Message::CommitTransaction { .. } => "COMMIT_TRANSACTION",
            Message::Synchronize { .. } => "SYNCHRONIZE",
            Message::SynchronizeResponse { .. } => "SYNCHRONIZE_RESPONSE",
            Message::SynchronizeDenied { .. } => "SYNCHRONIZE_DENIED",
            Message::Escalate { .. } => "ESCALATE",
            Message::EscalateResponse { .. } => "ESCALATE_RESPONSE",
        }
    }
}
