//! bedrock-pg: a distributed SQL database on SQLite that speaks the PostgreSQL wire protocol.
//!
//! The layout follows DESIGN.md §2: `config` (flags), `log` (the commit log's one format),
//! `store` (SQLite, journal; a leaf), `sql` (PostgreSQL → SQLite translation, catalog
//! emulation, functions), `exec` (sessions' execution and the one write path), `pg` (the wire
//! protocol only), `cluster` (the sans-I/O consensus core) and `node` (wiring it all
//! together and driving the core).

pub mod cluster;
pub mod config;
pub mod entropy;
pub mod error;
pub mod exec;
pub mod log;
pub mod memory;
pub mod node;
pub mod pg;
pub mod sql;
pub mod store;

/// The PostgreSQL version bedrock-pg reports (`server_version`).
pub const PG_VERSION: &str = "16.6";

/// `version()`: PostgreSQL-shaped so client libraries parse it.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {PG_VERSION} (bedrock-pg {}) on {}-linux, compiled by rustc, 64-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    )
}
