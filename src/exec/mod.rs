//! Protocol-free execution (DESIGN.md §2): sessions' transactions and settings, reads on the
//! local read connections, and the one write path — every write becomes a client request of
//! the consensus core, executed by the writer when the core asks for it, answered once its
//! consistency level is met. The wire protocol (`crate::pg`) drives a [`Session`] and prints
//! what it returns; it never sees SQLite, the writer or the core.
//!
//! - [`session`]: one client session: block state, statements, SET/SHOW; its reads (`read`)
//!   and writes (`write`); [`stmt`]: translated statements and responses;
//! - [`copy`]: COPY FROM's rows, staged in bounded journal entries;
//! - [`writer`]: the thread that owns the single write connection (group commit,
//!   interactive transactions' frames, replay);
//! - [`work`]: what requests and frames ask the writer to do, and their results;
//! - [`cancel`]: cancel requests and statement timeouts;
//! - [`settings`]: session settings (GUCs) and their validation;
//! - [`outcome`]: the core's outcomes as PostgreSQL errors.

pub mod cancel;
pub mod copy;
pub mod outcome;
mod read;
pub mod session;
pub mod settings;
pub mod stats;
pub mod stmt;
pub mod work;
mod write;
pub mod writer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::{oneshot, watch};

use crate::cluster::{Consistency, Input, Outcome, RequestId, State};
use crate::config::Config;
use crate::log::LogPos;
use crate::sql::catalog::Catalog;
use crate::store::Store;
pub use cancel::{Cancel, StopReason};
pub use session::{Event, Session, TxnStatus};
pub use stmt::{Response, ResultSet, Stmt};
pub use write::TICK_MS;

/// What readers may see: the catalog and commit count of the last durable commit.
pub struct Published {
    /// Counters of the write path.
    pub stats: stats::Stats,
    catalog: RwLock<Arc<Catalog>>,
    commit_count: AtomicU64,
    /// Wakes readers waiting for a commit count (`bedrock.commit_count` fences).
    commits: watch::Sender<u64>,
}

impl Published {
    pub fn new(catalog: Arc<Catalog>, commit_count: u64) -> Published {
        Published {
            stats: stats::Stats::default(),
            catalog: RwLock::new(catalog),
            commit_count: AtomicU64::new(commit_count),
            commits: watch::channel(commit_count).0,
        }
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn commit_count(&self) -> u64 {
        self.commit_count.load(Ordering::Acquire)
    }

    /// A commit is durable: readers may see it.
    pub fn publish(&self, catalog: Option<Arc<Catalog>>, commit_count: u64) {
        if let Some(c) = catalog {
            *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = c;
        }
        self.commit_count.store(commit_count, Ordering::Release);
        self.commits.send_replace(commit_count);
    }

    /// Wait until this node has applied commit `n` (a session's read fence), or time out.
    /// Returns the node's commit count on success, or it on timeout as the error.
    pub async fn wait_for_commit(&self, n: u64, timeout: std::time::Duration) -> Result<u64, u64> {
        let mut rx = self.commits.subscribe();
        let wait = rx.wait_for(|c| *c >= n);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(c)) => Ok(*c),
            _ => Err(self.commit_count()),
        }
    }
}

/// A client write for the consensus core, answered exactly once.
pub struct Submit {
    pub id: RequestId,
    pub consistency: Consistency,
    pub body: Vec<u8>,
    /// Ticks to wait (the session's `bedrock.wait_timeout`).
    pub timeout_ticks: u64,
    pub reply: oneshot::Sender<Outcome>,
}

/// The consensus core as the executor reaches it (the node implements it): sessions submit
/// writes, and the writer reports what it did. Whoever calls steps the core there and then,
/// so a write travels session → writer → session with no hop through another task.
pub trait Core: Send + Sync {
    /// A client write, answered exactly once through `s.reply`.
    fn submit(&self, s: Submit);
    /// The writer completed a storage output (with the journal's new durable tip, if any).
    fn completed(&self, input: Input, tip: Option<LogPos>);
    /// Outputs the writer kept back until the hard state before them was durable.
    fn perform(&self, outputs: Vec<crate::cluster::Output>);
}

/// The node's role as sessions see it.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: State,
    pub term: u64,
    pub leader: Option<String>,
}

/// Ids of requests submitted on this node: a random per-process prefix and a counter, so ids
/// are unique across nodes and restarts.
pub struct RequestIds {
    prefix: u64,
    next: AtomicU64,
}

impl RequestIds {
    pub fn new() -> RequestIds {
        RequestIds {
            prefix: crate::entropy::random_u64(),
            next: AtomicU64::new(1),
        }
    }

    pub fn next(&self) -> RequestId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        RequestId(((self.prefix as u128) << 64) | n as u128)
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// What every session of this node shares.
pub struct Shared {
    pub store: Arc<Store>,
    pub config: Config,
    pub published: Arc<Published>,
    pub writer: writer::Handle,
    pub core: Arc<dyn Core>,
    pub slots: Arc<work::Slots>,
    pub ids: RequestIds,
    status: Arc<Mutex<Status>>,
    cancels: Mutex<HashMap<i32, (i32, Arc<Cancel>)>>,
    next_pid: AtomicI32,
    next_txn: AtomicU64,
    next_txid: AtomicU64,
}

impl Shared {
    pub fn new(
        store: Arc<Store>,
        config: Config,
        published: Arc<Published>,
        writer: writer::Handle,
        core: Arc<dyn Core>,
        slots: Arc<work::Slots>,
        status: Arc<Mutex<Status>>,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            store,
            config,
            published,
            writer,
            core,
            slots,
            ids: RequestIds::new(),
            status,
            cancels: Mutex::new(HashMap::new()),
            next_pid: AtomicI32::new(1000),
            next_txn: AtomicU64::new(1),
            next_txid: AtomicU64::new(0),
        })
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Register a session; returns (pid, secret key, cancel hook).
    pub fn register(&self) -> (i32, i32, Arc<Cancel>) {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let secret = crate::entropy::random_u64() as i32;
        let c = Arc::new(Cancel::default());
        self.cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pid, (secret, c.clone()));
        (pid, secret, c)
    }

    pub fn unregister(&self, pid: i32) {
        self.cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&pid);
    }

    /// A CancelRequest: only acts when pid and secret match, as PostgreSQL does.
    pub fn cancel(&self, pid: i32, key: i32) {
        let hit = self
            .cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&pid)
            .filter(|(k, _)| *k == key)
            .map(|(_, c)| c.clone());
        if let Some(c) = hit {
            c.request(StopReason::UserCancel);
        }
    }

    pub fn session_count(&self) -> usize {
        self.cancels.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// A transaction id for `txid_current()`: unique (a counter within this process, above
    /// every id an earlier run handed out, since each run starts at a higher commit count)
    /// and increasing.
    pub fn next_txid(&self) -> i64 {
        let n = self.next_txid.fetch_add(1, Ordering::Relaxed) & 0xF_FFFF;
        (((self.published.commit_count() + 1) << 20) | n) as i64
    }

    /// A new interactive-transaction id for the writer.
    pub fn next_txn(&self) -> u64 {
        self.next_txn.fetch_add(1, Ordering::Relaxed)
    }
}
