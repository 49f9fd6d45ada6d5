//! The consensus core's answer to a write, as the client sees it (DESIGN.md §1 "Outcomes"): a
//! write refused before anything left the node is `57P03` (certainly not committed); one whose
//! fate is unknown is `40003` — never reported as a success or a failure.

use crate::cluster::Outcome;
use crate::error::{PgError, code};

/// The error for an outcome that is not `Committed` or `Failed`.
pub fn not_committed(o: &Outcome) -> Option<PgError> {
    match o {
        Outcome::Committed { .. } | Outcome::Failed { .. } => None,
        Outcome::Refused { reason } => Some(
            PgError::new(
                code::CANNOT_CONNECT_NOW,
                format!("the write was not committed: {reason}"),
            )
            .with_hint("Nothing was changed; retry when the cluster has a leader."),
        ),
        Outcome::Unknown => Some(
            PgError::new(
                code::STATEMENT_COMPLETION_UNKNOWN,
                "the outcome of the write is unknown: it was sent for commit, then no answer came within bedrock.wait_timeout",
            )
            .with_hint("It may or may not have committed; check before retrying."),
        ),
    }
}
