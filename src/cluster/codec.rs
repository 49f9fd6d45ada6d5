//! An explicit byte encoding for [`Message`]: a version byte, a tag byte, then fixed-width
//! big-endian integers and u32-length-prefixed byte strings. Decoding checks every length against
//! the bytes actually present, so garbage from the network yields an error, never a panic or a
//! huge allocation. The transport frames messages (it knows where one ends).

use super::message::{DenyReason, Message};
use super::types::{Consistency, Outcome, RequestId, State};
pub use crate::log::DecodeError;
use crate::log::codec::{Reader, Writer};

fn read_state(r: &mut Reader) -> Result<State, DecodeError> {
    let t = r.u8()?;
    State::from_u8(t).ok_or(DecodeError::BadTag(t))
}

fn read_reason(r: &mut Reader) -> Result<DenyReason, DecodeError> {
    let t = r.u8()?;
    DenyReason::from_u8(t).ok_or(DecodeError::BadTag(t))
}

fn read_consistency(r: &mut Reader) -> Result<Consistency, DecodeError> {
    let t = r.u8()?;
    Consistency::from_u8(t).ok_or(DecodeError::BadTag(t))
}

/// Version of the wire encoding; a peer speaking another one is refused at decode time.
pub const WIRE_VERSION: u8 = 1;

fn write_outcome(w: &mut Writer, o: &Outcome) {
    match o {
        Outcome::Committed {
            commit_count,
            result,
        } => {
            w.u8(0);
            w.u64(*commit_count);
            w.bytes(result);
        }
        Outcome::Failed { result } => {
            w.u8(1);
            w.bytes(result);
        }
        Outcome::Refused { reason } => {
            w.u8(2);
            w.bytes(reason.as_bytes());
        }
        Outcome::Unknown => w.u8(3),
    }
}

fn read_outcome(r: &mut Reader) -> Result<Outcome, DecodeError> {
    Ok(match r.u8()? {
        0 => Outcome::Committed {
            commit_count: r.u64()?,
            result: r.bytes()?,
        },
        1 => Outcome::Failed { result: r.bytes()? },
        2 => Outcome::Refused {
            reason: r.string()?,
        },
        3 => Outcome::Unknown,
        t => return Err(DecodeError::BadTag(t)),
    })
}

/// Minimum encoded size of an entry, used to bound entry counts before allocating.
const MIN_ENTRY: usize = 8 + 8 + 32 + 4;

impl Message {
    /// Encodes the message (version byte, tag, fields).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(WIRE_VERSION);
        match self {
            Message::Login {
                cluster_id,
                name,
                priority,
                version,
                term,
                tip,
                reply_wanted,
            } => {
                w.u8(0);
                w.u64(*cluster_id);
                w.bytes(name.as_bytes());
                w.u32(*priority);
                w.u32(*version);
                w.u64(*term);
                w.pos(tip);
                w.bool(*reply_wanted);
            }
            Message::Status { term, state, tip } => {
                w.u8(1);
                w.u64(*term);
                w.u8(state.to_u8());
                w.pos(tip);
            }
            Message::StandupProbe { term, tip } => {
                w.u8(2);
                w.u64(*term);
                w.pos(tip);
            }
            Message::StandupProbeResponse {
                term,
                granted,
                voter_term,
            } => {
                w.u8(3);
                w.u64(*term);
                w.bool(*granted);
                w.u64(*voter_term);
            }
            Message::Standup {
                term,
                tip,
                transfer,
            } => {
                w.u8(4);
                w.u64(*term);
                w.pos(tip);
                w.bool(*transfer);
            }
            Message::StandupResponse { term, granted } => {
                w.u8(5);
                w.u64(*term);
                w.bool(*granted);
            }
            Message::StandupNow { term } => {
                w.u8(6);
                w.u64(*term);
            }
            Message::Heartbeat {
                term,
                tip,
                commit_point,
            } => {
                w.u8(7);
                w.u64(*term);
                w.pos(tip);
                w.u64(*commit_point);
            }
            Message::HeartbeatAck { term, tip, state } => {
                w.u8(8);
                w.u64(*term);
                w.pos(tip);
                w.u8(state.to_u8());
            }
            Message::Subscribe { term, tip } => {
                w.u8(9);
                w.u64(*term);
                w.pos(tip);
            }
            Message::SubscriptionApproved {
                term,
                from,
                commit_point,
            } => {
                w.u8(10);
                w.u64(*term);
                w.u64(*from);
                w.u64(*commit_point);
            }
            Message::SubscriptionDenied {
                term,
                reason,
                leader_pos,
            } => {
                w.u8(11);
                w.u64(*term);
                w.u8(reason.to_u8());
                w.pos(leader_pos);
            }
            Message::BeginTransaction {
                term,
                entry,
                commit_point,
            } => {
                w.u8(12);
                w.u64(*term);
                w.entry(entry);
                w.u64(*commit_point);
            }
            Message::ApproveTransaction { term, pos } => {
                w.u8(13);
                w.u64(*term);
                w.pos(pos);
            }
            Message::DenyTransaction { term, reason, tip } => {
                w.u8(14);
                w.u64(*term);
                w.u8(reason.to_u8());
                w.pos(tip);
            }
            Message::CommitTransaction { term, commit_point } => {
                w.u8(15);
                w.u64(*term);
                w.u64(*commit_point);
            }
            Message::Synchronize { term, tip } => {
                w.u8(16);
                w.u64(*term);
                w.pos(tip);
            }
            Message::SynchronizeResponse {
                term,
                entries,
                peer_tip,
            } => {
                w.u8(17);
                w.u64(*term);
                w.u32(entries.len() as u32);
                for e in entries {
                    w.entry(e);
                }
                w.pos(peer_tip);
            }
            Message::SynchronizeDenied {
                term,
                reason,
                peer_tip,
            } => {
                w.u8(18);
                w.u64(*term);
                w.u8(reason.to_u8());
                w.pos(peer_tip);
            }
            Message::Escalate {
                id,
                consistency,
                body,
                ttl,
            } => {
                w.u8(19);
                w.u128(id.0);
                w.u8(consistency.to_u8());
                w.bytes(body);
                w.u64(*ttl);
            }
            Message::EscalateResponse { id, outcome } => {
                w.u8(20);
                w.u128(id.0);
                write_outcome(&mut w, outcome);
            }
        }
        w.finish()
    }

    /// Decodes one message; any malformed input is an error.
    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(buf);
        let version = r.u8()?;
        if version != WIRE_VERSION {
            return Err(DecodeError::BadTag(version));
        }
        let msg = match r.u8()? {
            0 => Message::Login {
                cluster_id: r.u64()?,
                name: r.string()?,
                priority: r.u32()?,
                version: r.u32()?,
                term: r.u64()?,
                tip: r.pos()?,
                reply_wanted: r.bool()?,
            },
            1 => Message::Status {
                term: r.u64()?,
                state: read_state(&mut r)?,
                tip: r.pos()?,
            },
            2 => Message::StandupProbe {
                term: r.u64()?,
                tip: r.pos()?,
            },
            3 => Message::StandupProbeResponse {
                term: r.u64()?,
                granted: r.bool()?,
                voter_term: r.u64()?,
            },
            4 => Message::Standup {
                term: r.u64()?,
                tip: r.pos()?,
                transfer: r.bool()?,
            },
            5 => Message::StandupResponse {
                term: r.u64()?,
                granted: r.bool()?,
            },
            6 => Message::StandupNow { term: r.u64()? },
            7 => Message::Heartbeat {
                term: r.u64()?,
                tip: r.pos()?,
                commit_point: r.u64()?,
            },
            8 => Message::HeartbeatAck {
                term: r.u64()?,
                tip: r.pos()?,
                state: read_state(&mut r)?,
            },
            9 => Message::Subscribe {
                term: r.u64()?,
                tip: r.pos()?,
            },
            10 => Message::SubscriptionApproved {
                term: r.u64()?,
                from: r.u64()?,
                commit_point: r.u64()?,
            },
            11 => Message::SubscriptionDenied {
                term: r.u64()?,
                reason: read_reason(&mut r)?,
                leader_pos: r.pos()?,
            },
            12 => Message::BeginTransaction {
                term: r.u64()?,
                entry: r.entry()?,
                commit_point: r.u64()?,
            },
            13 => Message::ApproveTransaction {
                term: r.u64()?,
                pos: r.pos()?,
            },
            14 => Message::DenyTransaction {
                term: r.u64()?,
                reason: read_reason(&mut r)?,
                tip: r.pos()?,
            },
            15 => Message::CommitTransaction {
                term: r.u64()?,
                commit_point: r.u64()?,
            },
            16 => Message::Synchronize {
                term: r.u64()?,
                tip: r.pos()?,
            },
            17 => {
                let term = r.u64()?;
                let n = r.len_prefix(MIN_ENTRY)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    entries.push(r.entry()?);
                }
                Message::SynchronizeResponse {
                    term,
                    entries,
                    peer_tip: r.pos()?,
                }
            }
            18 => Message::SynchronizeDenied {
                term: r.u64()?,
                reason: read_reason(&mut r)?,
                peer_tip: r.pos()?,
            },
            19 => Message::Escalate {
                id: RequestId(r.u128()?),
                consistency: read_consistency(&mut r)?,
                body: r.bytes()?,
                ttl: r.u64()?,
            },
            20 => Message::EscalateResponse {
                id: RequestId(r.u128()?),
                outcome: read_outcome(&mut r)?,
            },
            t => return Err(DecodeError::BadTag(t)),
        };
        r.end()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Entry, LogPos, ZERO_HASH};

    fn samples() -> Vec<Message> {
        let pos = LogPos {
            count: 5,
            term: 2,
            hash: [7u8; 32],
        };
        let entry = Entry {
            count: 6,
            term: 3,
            hash: ZERO_HASH,
            payload: b"xyz".to_vec(),
        };
        vec![
            Message::Login {
                cluster_id: 9,
                name: "node0".into(),
                priority: 100,
                version: 1,
                term: 3,
                tip: pos,
                reply_wanted: true,
            },
            Message::Status {
                term: 3,
                state: State::Waiting,
                tip: pos,
            },
            Message::StandupProbe { term: 4, tip: pos },
            Message::StandupProbeResponse {
                term: 4,
                granted: true,
                voter_term: 3,
            },
            Message::Standup {
                term: 4,
                tip: pos,
                transfer: false,
            },
            Message::StandupResponse {
                term: 4,
                granted: false,
            },
            Message::StandupNow { term: 4 },
            Message::Heartbeat {
                term: 4,
                tip: pos,
                commit_point: 3,
            },
            Message::HeartbeatAck {
                term: 4,
                tip: pos,
                state: State::Following,
            },
            Message::Subscribe { term: 4, tip: pos },
            Message::SubscriptionApproved {
                term: 4,
                from: 5,
                commit_point: 2,
            },
            Message::SubscriptionDenied {
                term: 4,
                reason: DenyReason::Forked,
                leader_pos: pos,
            },
            Message::BeginTransaction {
                term: 4,
                entry: entry.clone(),
                commit_point: 5,
            },
            Message::ApproveTransaction { term: 4, pos },
            Message::DenyTransaction {
                term: 4,
                reason: DenyReason::Gap,
                tip: pos,
            },
            Message::CommitTransaction {
                term: 4,
                commit_point: 6,
            },
            Message::Synchronize { term: 4, tip: pos },
            Message::SynchronizeResponse {
                term: 4,
                entries: vec![entry.clone(), entry],
                peer_tip: pos,
            },
            Message::SynchronizeDenied {
                term: 4,
                reason: DenyReason::NeedSnapshot,
                peer_tip: pos,
            },
            Message::Escalate {
                id: RequestId(77),
                consistency: Consistency::One,
                body: b"INSERT".to_vec(),
                ttl: 500,
            },
            Message::EscalateResponse {
                id: RequestId(77),
                outcome: Outcome::Committed {
                    commit_count: 6,
                    result: b"INSERT 0 1".to_vec(),
                },
            },
            Message::EscalateResponse {
                id: RequestId(78),
                outcome: Outcome::Refused {
                    reason: "no leader".into(),
                },
            },
            Message::EscalateResponse {
                id: RequestId(79),
                outcome: Outcome::Unknown,
            },
        ]
    }

    #[test]
    fn every_message_roundtrips() {
        for m in samples() {
            let bytes = m.encode();
            assert_eq!(Message::decode(&bytes).as_ref(), Ok(&m), "{}", m.name());
        }
    }

    #[test]
    fn truncations_and_corruptions_are_errors_not_panics() {
        // A tiny xorshift so the test is deterministic without a dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for m in samples() {
            let bytes = m.encode();
            for cut in 0..bytes.len() {
                assert!(Message::decode(&bytes[..cut]).is_err());
            }
            let mut extra = bytes.clone();
            extra.push(0);
            assert!(Message::decode(&extra).is_err());
            for _ in 0..200 {
                let mut b = bytes.clone();
                let i = (next() as usize) % b.len();
                b[i] = next() as u8;
                let _ = Message::decode(&b);
            }
        }
        for len in 0..64 {
            for _ in 0..50 {
                let b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                let _ = Message::decode(&b);
            }
        }
        // A huge declared count must not allocate.
        let mut w = Writer::default();
        w.u8(WIRE_VERSION);
        w.u8(17);
        w.u64(1);
        w.u32(u32::MAX);
        assert!(matches!(
            Message::decode(&w.finish()),
            Err(DecodeError::BadLength(_))
        ));
    }
}
