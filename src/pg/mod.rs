//! The PostgreSQL front end: the v3 wire protocol only — the listener, message decoding,
//! sessions' protocol state (prepared statements, portals, row formats) and COPY's data
//! formats. What statements do is `crate::exec`'s.

pub mod copy;
pub mod protocol;
pub mod server;
pub mod session;
