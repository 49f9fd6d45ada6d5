//! The envelope of every commit's payload (what `__bedrock_journal.payload` holds and the hash
//! chain covers): the term it was proposed in, the
//! idempotency ids of the client requests it contains with their recorded results, and the
//! application's own bytes (the SQLite statements with bound values), which stay opaque here.
//!
//! The term is inside the hashed bytes so that two leaders of different terms can never produce
//! the same hash at the same commit count (even for empty no-op commits), and the request ids
//! are inside so that the replicated record answers re-escalated requests (DESIGN.md §6).

use super::codec::{DecodeError, Reader, Writer};
use super::entry::RequestId;

/// One client request recorded in a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: RequestId,
    /// What the leader answered when it executed the request (command tag, rows); opaque.
    pub result: Vec<u8>,
}

/// The decoded payload of a journal entry. The core builds it (term, request records); the
/// store executes its body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// Term of the leader that proposed this commit.
    pub term: u64,
    /// Requests whose effects this commit contains, in execution order.
    pub requests: Vec<RequestRecord>,
    /// The application's bytes: empty for the no-op a new leader commits to start its term.
    pub body: Vec<u8>,
}

const PAYLOAD_VERSION: u8 = 1;

impl Envelope {
    pub fn noop(term: u64) -> Self {
        Envelope {
            term,
            requests: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(PAYLOAD_VERSION);
        w.u64(self.term);
        w.u32(self.requests.len() as u32);
        for r in &self.requests {
            w.u128(r.id.0);
            w.bytes(&r.result);
        }
        w.bytes(&self.body);
        w.finish()
    }

    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let (term, requests) = Self::header(&mut r)?;
        let body = r.bytes()?;
        r.end()?;
        Ok(Envelope {
            term,
            requests,
            body,
        })
    }

    /// The term and request records without copying the body (which may be large); checks the
    /// body's length prefix all the same.
    pub fn decode_header(buf: &[u8]) -> Result<(u64, Vec<RequestRecord>), DecodeError> {
        let mut r = Reader::new(buf);
        let header = Self::header(&mut r)?;
        r.skip_bytes()?;
        r.end()?;
        Ok(header)
    }

    fn header(r: &mut Reader) -> Result<(u64, Vec<RequestRecord>), DecodeError> {
        let version = r.u8()?;
        if version != PAYLOAD_VERSION {
            return Err(DecodeError::BadTag(version));
        }
        let term = r.u64()?;
        let n = r.len_prefix(16 + 4)?;
        let mut requests = Vec::with_capacity(n);
        for _ in 0..n {
            let id = RequestId(r.u128()?);
            let result = r.bytes()?;
            requests.push(RequestRecord { id, result });
        }
        Ok((term, requests))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_garbage() {
        let p = Envelope {
            term: 7,
            requests: vec![RequestRecord {
                id: RequestId(42),
                result: b"INSERT 0 1".to_vec(),
            }],
            body: b"INSERT INTO t VALUES (1)".to_vec(),
        };
        let bytes = p.encode();
        assert_eq!(Envelope::decode(&bytes), Ok(p.clone()));
        assert_eq!(Envelope::decode_header(&bytes), Ok((p.term, p.requests)));
        for cut in 0..bytes.len() {
            assert!(Envelope::decode(&bytes[..cut]).is_err());
        }
        assert!(Envelope::decode(&[1, 0xff, 0xff]).is_err());
    }
}
