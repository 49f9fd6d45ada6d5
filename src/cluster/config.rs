//! Static configuration of one node's core: who is in the cluster with which priority, the
//! timers (in ticks: the driver decides what a tick is), the commit bounds, and — hidden and off
//! by default — deliberate bugs the simulator uses to prove its invariants have teeth.

use super::types::NodeId;

/// One configured node (this node included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Election priority; unique among voters; 0 = permafollower (never votes, counts or leads).
    pub priority: u32,
}

impl Member {
    pub fn is_voter(&self) -> bool {
        self.priority > 0
    }
}

/// Timers, all in ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Leader heartbeat period.
    pub heartbeat: u64,
    /// A follower that hears nothing from its leader for this long starts looking for a new one;
    /// a leader that has not heard from a majority for this long steps down.
    pub election: u64,
    /// Extra wait per rank of priority before standing up (rank 0 = highest-priority voter).
    pub stagger: u64,
    /// Period of STATE broadcasts by non-leaders.
    pub status: u64,
    /// Resend unacknowledged commits / requests after this long without progress.
    pub retransmit: u64,
    /// Re-send an unanswered escalation after this long.
    pub escalate_retry: u64,
    /// Longest a client request waits for an answer (DESIGN.md `bedrock.wait_timeout`).
    pub request_timeout: u64,
    /// Longest a handover (STANDINGDOWN) may take before the leader resumes leading.
    pub handover: u64,
}

impl Default for Timing {
    fn default() -> Self {
        // Sized for a 10 ms tick: 1 s election timeout (DESIGN.md §4), 10 s wait timeout.
        Timing {
            heartbeat: 10,
            election: 100,
            stagger: 20,
            status: 25,
            retransmit: 30,
            escalate_retry: 50,
            request_timeout: 1000,
            handover: 200,
        }
    }
}

/// Deliberate bugs, each breaking one safety rule, so tests can show the simulator catches it.
/// Never set outside tests.
#[doc(hidden)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Grant votes (and probes) without checking the candidate's log is up to date.
    pub skip_up_to_date_check: bool,
    /// Count permafollowers in the quorum (numerator and denominator).
    pub count_permafollowers: bool,
    /// Followers approve a commit as soon as they receive it, before it is durable.
    pub approve_before_durable: bool,
    /// The leader executes an escalated request again even if its id is already recorded.
    pub reexecute_escalated: bool,
}

/// Configuration of one node's core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Identifies the cluster; a LOGIN with another id is refused.
    pub cluster_id: u64,
    /// Every configured node, this one included. The order is local to this node.
    pub members: Vec<Member>,
    /// This node's index in `members`.
    pub me: NodeId,
    /// Protocol version advertised at LOGIN.
    pub version: u32,
    pub timing: Timing,
    /// `-quorumCheckpoint`: most commits the leader may hold beyond the last one a majority
    /// approved.
    pub quorum_checkpoint: u64,
    /// Most client requests grouped into one commit.
    pub max_batch: usize,
    /// Most commits in flight (sent, not approved) to one follower.
    pub max_inflight: u64,
    /// Most commits in one SYNCHRONIZE_RESPONSE.
    pub sync_batch: u64,
    #[doc(hidden)]
    pub faults: Faults,
}

impl Config {
    /// A configuration with default timers and bounds.
    pub fn new(cluster_id: u64, members: Vec<Member>, me: NodeId) -> Self {
        Config {
            cluster_id,
            members,
            me,
            version: 1,
            timing: Timing::default(),
            quorum_checkpoint: 100,
            max_batch: 64,
            max_inflight: 64,
            sync_batch: 100,
            faults: Faults::default(),
        }
    }

    /// Checks what the core relies on: `me` exists, names are unique, voters' priorities are
    /// unique. Returns a one-line reason on error.
    pub fn validate(&self) -> Result<(), String> {
        if self.me.0 >= self.members.len() {
            return Err(format!("node index {} is not a member", self.me.0));
        }
        for (i, a) in self.members.iter().enumerate() {
            for b in &self.members[i + 1..] {
                if a.name == b.name {
                    return Err(format!("node name {:?} is configured twice", a.name));
                }
                if a.is_voter() && a.priority == b.priority {
                    return Err(format!(
                        "nodes {:?} and {:?} share priority {}; voters need unique priorities",
                        a.name, b.name, a.priority
                    ));
                }
            }
        }
        let t = &self.timing;
        if t.heartbeat == 0 || t.election <= t.heartbeat * 2 {
            return Err("election timeout must exceed two heartbeats".into());
        }
        if self.quorum_checkpoint == 0 || self.max_batch == 0 || self.max_inflight == 0 {
            return Err("quorum checkpoint, batch and in-flight bounds must be positive".into());
        }
        if self.voters() == 0 {
            return Err("at least one node needs a priority above 0".into());
        }
        if self.sync_batch == 0 {
            return Err("sync batch must be positive".into());
        }
        Ok(())
    }

    pub fn me(&self) -> &Member {
        &self.members[self.me.0]
    }

    pub fn member(&self, id: NodeId) -> Option<&Member> {
        self.members.get(id.0)
    }

    pub fn id_of(&self, name: &str) -> Option<NodeId> {
        self.members.iter().position(|m| m.name == name).map(NodeId)
    }

    pub fn is_voter(&self, id: NodeId) -> bool {
        self.member(id).is_some_and(Member::is_voter)
    }

    /// Whether a member's durable approvals count towards a commit quorum: voters only (the
    /// permafollower fault also counts permafollowers, against the voters' majority).
    pub fn counts(&self, id: NodeId) -> bool {
        self.is_voter(id) || (self.faults.count_permafollowers && self.member(id).is_some())
    }

    /// Size of a strict majority of the configured voters.
    pub fn majority(&self) -> usize {
        self.voters() / 2 + 1
    }

    /// Number of configured voters.
    pub fn voters(&self) -> usize {
        self.members.iter().filter(|m| m.is_voter()).count()
    }

    /// 0 for the highest-priority voter, 1 for the next, … (permafollowers: voters' count).
    pub fn rank(&self, id: NodeId) -> u64 {
        let Some(m) = self.member(id) else {
            return self.members.len() as u64;
        };
        self.members
            .iter()
            .filter(|o| o.is_voter() && o.priority > m.priority)
            .count() as u64
    }

    /// Ids of every other member.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.me;
        (0..self.members.len())
            .map(NodeId)
            .filter(move |id| *id != me)
    }
}
