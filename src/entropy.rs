//! Unpredictable numbers from the operating system: cancel keys (a client that can guess
//! another session's key can cancel its queries) and the per-process prefix of request ids.

/// 64 random bits from the OS. If the OS source fails (it practically never does), falls back
/// to a hash of the time and process id with std's randomly keyed hasher, never a panic.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_ok() {
        return u64::from_le_bytes(b);
    }
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn differs() {
        assert_ne!(super::random_u64(), super::random_u64());
    }
}
