//! The consensus core: priority Paxos and two-phase commit as a pure state machine (DESIGN.md §3–§7).
//!
//! Sans-I/O in the style of raft-rs: no sockets, no clock, no randomness, no threads. A driver
//! (the server, or the simulator in `tests/simulation.rs`) owns one [`Node`] and
//! - calls [`Node::new`] at start with the durable term/vote ([`HardState`]) and its
//!   [`Journal`] (read access to the durable commit log),
//! - feeds it [`Input`]s with [`Node::step`]: ticks, peer messages, client writes, and the
//!   completions of what it asked for,
//! - performs the returned [`Output`]s in order: send messages, persist the hard state (durably,
//!   before anything after it), execute / commit / roll back transactions, fetch and install
//!   snapshots, answer clients.
//!
//! Modules, one job each:
//! - [`types`]: values (the commit log's own types, hash chain and envelope are `crate::log`'s);
//! - [`message`], [`codec`]: peer messages and their byte encoding;
//! - [`config`], [`journal`], [`io`]: configuration, the storage trait, inputs and outputs;
//! - `node` (dispatch, LOGIN, terms), `election`, `leader`, `follower`, `sync`, `requests`:
//!   the behaviour, split by role.
//!
//! docs/protocol.md describes the protocol as built and how it fixes Bedrock's weaknesses.

pub mod codec;
pub mod config;
mod election;
mod follower;
pub mod io;
pub mod journal;
mod leader;
mod log;
pub mod message;
mod node;
mod requests;
mod sync;
pub mod types;

pub use config::{Config, Faults, Member, Timing};
pub use io::{Executed, ForkInfo, HardState, Input, Output};
pub use journal::Journal;
pub use message::{DenyReason, Message};
pub use node::{Node, PeerInfo};
pub use types::{Consistency, Entry, Hash, LogPos, NodeId, Outcome, RequestId, State, ZERO_HASH};
