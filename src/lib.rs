//! bedrock-pg: a distributed SQL database on SQLite that speaks the PostgreSQL wire protocol.
//!
//! The layout follows DESIGN.md §2: `config` (flags), `store` (SQLite, journal),
//! `sql` (PostgreSQL → SQLite translation, catalog emulation), `pg` (wire front end),
//! `cluster` (the sans-I/O consensus core) and `node` (wiring it all together).

pub mod cluster;
pub mod config;
pub mod error;
pub mod sql;
