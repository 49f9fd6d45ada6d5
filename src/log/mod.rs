//! The commit log's one format (DESIGN.md §3), used by the store and the consensus core alike:
//! - [`entry`]: a journal row (`commit_count`, `term`, `hash`, `payload`), log positions and
//!   request ids;
//! - [`hash`]: `hash(n) = SHA-256(hash(n-1) ‖ payload(n))`, `hash(0)` = 32 zero bytes, over the
//!   stored payload bytes;
//! - [`envelope`]: what the payload holds: the term, the request records (idempotency id and
//!   recorded result of every client request in the commit) and the body;
//! - [`body`]: the body: the SQLite statements with bound values and their replicated inputs;
//! - [`codec`]: the byte primitives of all of these, with one [`DecodeError`].

pub mod body;
pub mod codec;
pub mod entry;
pub mod envelope;
pub mod hash;

pub use body::{Body, SeqRun, Statement, StmtCtx};
pub use codec::DecodeError;
pub use entry::{Entry, LogPos, RequestId};
pub use envelope::{Envelope, RequestRecord};
pub use hash::{Hash, ZERO_HASH, chain};
