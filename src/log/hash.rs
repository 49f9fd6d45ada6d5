//! The hash chain of the commit log: `hash(n) = SHA-256(hash(n-1) || payload(n))`, `hash(0)` = 32
//! zero bytes (DESIGN.md §3). Two nodes with the same hash at the same commit count hold the same
//! history.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: the cumulative hash of the commit log at some commit count.
pub type Hash = [u8; 32];

/// `hash(0)`: the hash of the empty log.
pub const ZERO_HASH: Hash = [0u8; 32];

/// The hash of commit `n` given the hash of commit `n - 1` and the payload of commit `n`.
pub fn chain(prev: &Hash, payload: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(payload);
    h.finalize().into()
}

/// A short hex prefix for logs and reports.
pub fn short(hash: &Hash) -> String {
    hash[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_matches_sha256_of_concatenation() {
        let h1 = chain(&ZERO_HASH, b"abc");
        let mut buf = vec![0u8; 32];
        buf.extend_from_slice(b"abc");
        let expect: Hash = Sha256::digest(&buf).into();
        assert_eq!(h1, expect);
        assert_ne!(chain(&h1, b"abc"), h1);
    }
}
