//! The byte primitives every encoding of the commit log and of peer messages is built from:
//! fixed-width big-endian integers and u32-length-prefixed byte strings. [`Reader`] checks every
//! length against the bytes actually present, so garbage yields a [`DecodeError`], never a
//! panic or a huge allocation. There is one decode error for the whole log: entries, envelopes,
//! bodies and messages.

use std::fmt;

use super::entry::{Entry, LogPos};
use super::hash::Hash;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The buffer ended before the value did.
    Truncated,
    /// An unknown tag, version or enum value.
    BadTag(u8),
    /// A length or count larger than the bytes left could hold.
    BadLength(u64),
    /// Bytes left over after the message.
    TrailingBytes(usize),
    /// A string that is not UTF-8.
    BadUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "message truncated"),
            DecodeError::BadTag(t) => write!(f, "unknown tag or version {t}"),
            DecodeError::BadLength(n) => write!(f, "length {n} exceeds the message"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
            DecodeError::BadUtf8 => write!(f, "string is not UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Appends encoded values to a buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn bool(&mut self, v: bool) {
        self.buf.push(v as u8);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u128(&mut self, v: u128) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn hash(&mut self, h: &Hash) {
        self.buf.extend_from_slice(h);
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.buf.extend_from_slice(b);
    }
    pub fn pos(&mut self, p: &LogPos) {
        self.u64(p.count);
        self.u64(p.term);
        self.hash(&p.hash);
    }
    pub fn entry(&mut self, e: &Entry) {
        self.u64(e.count);
        self.u64(e.term);
        self.hash(&e.hash);
        self.bytes(&e.payload);
    }
    /// A writer that starts with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads encoded values, refusing anything that does not fit in the buffer.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError::BadTag(t)),
        }
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.array()?))
    }
    pub fn hash(&mut self) -> Result<Hash, DecodeError> {
        self.array()
    }
    /// A count of items each at least `min_item` bytes long, checked against what is left.
    pub fn len_prefix(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item.max(1)) > self.buf.len() {
            return Err(DecodeError::BadLength(n as u64));
        }
        Ok(n)
    }
    pub fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.len_prefix(1)?;
        Ok(self.take(n)?.to_vec())
    }
    /// Skips a length-prefixed byte string.
    pub fn skip_bytes(&mut self) -> Result<(), DecodeError> {
        let n = self.len_prefix(1)?;
        self.take(n).map(|_| ())
    }
    pub fn string(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?).map_err(|_| DecodeError::BadUtf8)
    }
    pub fn pos(&mut self) -> Result<LogPos, DecodeError> {
        Ok(LogPos {
            count: self.u64()?,
            term: self.u64()?,
            hash: self.hash()?,
        })
    }
    pub fn entry(&mut self) -> Result<Entry, DecodeError> {
        Ok(Entry {
            count: self.u64()?,
            term: self.u64()?,
            hash: self.hash()?,
            payload: self.bytes()?,
        })
    }
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.buf.len()))
        }
    }
}
