//! The writer: one thread that owns the single write connection and does, one after another,
//! everything that changes the database (DESIGN.md §5.1).
//!
//! - **Batches.** When the consensus core asks ([`Command::Execute`]) it runs every request
//!   of the batch in its own savepoint inside one SQLite transaction, reports the body (the
//!   statements that changed the database) and keeps the transaction open; the core then
//!   asks to commit it as one journal entry ([`Command::Commit`]): one SQLite COMMIT, one
//!   fsync for all of them. A batch is whatever queued while the previous one ran, so batches
//!   grow with load and a lone client waits for no timer.
//! - **Interactive transactions** run statement by statement in a *frame*: a savepoint on the
//!   write connection, opened only while no executed batch is waiting for its commit (so a
//!   transaction never sees a write that is not yet durable). A transaction that is idle in
//!   its client blocks nobody: when anyone else needs the writer, its frame is rolled back
//!   ("parked") and its statements are kept; when it comes back, they run again
//!   ([`frames`]) — deterministic, since every statement carries its inputs — and must give
//!   exactly the results its client already saw, or the transaction fails with `40001`. Its
//!   COMMIT is a request like any other, so it shares a batch (and an fsync) with the rest.
//! - **Locks** ([`locks`]): rows a transaction updated, deleted or selected `FOR UPDATE`
//!   stay its own until it ends; others wait for them (bounded), fail with `NOWAIT` or skip
//!   them with `SKIP LOCKED`, as in PostgreSQL.
//! - The hard state (term, vote) is written here too, in order with the rest.
//!
//! Files: [`batch`] (the core's batches), `frames` (interactive transactions, replay),
//! `statement` (running one statement), [`locks`].

mod batch;
mod frames;
mod locks;
mod statement;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::work::{self, Done};
use super::{Core, Published};
use crate::cluster::{Input, RequestId};
use crate::error::{PgError, PgResult, code};
use crate::log::Entry;
use crate::sql::catalog::Catalog;
use crate::store::WriteConn;
pub use frames::TxnOp;
use frames::{Step, Txn};
use locks::LockCtx;
pub use statement::digest_of;

/// Id of an interactive transaction at the writer.
pub type TxnId = u64;

/// Savepoint of an interactive transaction's frame.
const FRAME: &str = "__bedrock_frame";
/// Savepoint of one request of a batch.
const REQUEST: &str = "__bedrock_request";

/// What the writer is asked to do.
pub enum Command {
    /// The core's `Output::Execute`.
    Execute {
        batch: u64,
        requests: Vec<(RequestId, Vec<u8>)>,
    },
    /// The core's `Output::Commit`.
    Commit {
        entry: Entry,
        batch: Option<u64>,
    },
    /// The core's `Output::Rollback`.
    Rollback {
        batch: u64,
    },
    /// The core's `Output::PersistHardState`: durable before anything queued after it.
    PersistHardState {
        term: u64,
        vote: Option<String>,
    },
    /// Outputs of the core that had to wait for a `PersistHardState` before them.
    Perform(Vec<crate::cluster::Output>),
    /// A statement (or savepoint operation) of an interactive transaction.
    Txn {
        txn: TxnId,
        op: TxnOp,
        cancel: Arc<AtomicU8>,
        reply: oneshot::Sender<PgResult<Done>>,
    },
    /// The transaction ended without COMMIT (ROLLBACK, a failed block, the session closed).
    Abort {
        txn: TxnId,
    },
    /// An autocommit statement needs what transaction `blocker` holds: answered once that
    /// one ends, or with an error at the statement's deadline or `lock_timeout`.
    WaitFor {
        blocker: TxnId,
        deadline_ms: u64,
        lock_timeout_ms: u64,
        cancel: Arc<AtomicU8>,
        reply: oneshot::Sender<PgResult<()>>,
    },
    Shutdown,
}

/// Something waiting for a transaction to end.
enum Waiter {
    /// An operation of a transaction (run again when the blocker ends).
    Op {
        txn: TxnId,
        op: Box<TxnOp>,
        reply: oneshot::Sender<PgResult<Done>>,
    },
    /// An autocommit statement's session (told to submit it again).
    Session {
        reply: oneshot::Sender<PgResult<()>>,
    },
}

struct Waiting {
    blocker: TxnId,
    waiter: Waiter,
    cancel: Arc<AtomicU8>,
    /// Absolute ms (0 = none): `statement_timeout`, and `lock_timeout` from the wait's start.
    deadline_ms: u64,
    lock_deadline_ms: u64,
}

/// A way to send commands to the writer thread.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
}

impl Handle {
    /// Send a command; false if the writer has stopped.
    pub fn send(&self, c: Command) -> bool {
        self.tx.send(c).is_ok()
    }

    /// Run one operation of an interactive transaction and wait for its result.
    pub async fn txn(&self, txn: TxnId, op: TxnOp, cancel: Arc<AtomicU8>) -> PgResult<Done> {
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::Txn {
            txn,
            op,
            cancel,
            reply,
        }) {
            return Err(stopped());
        }
        rx.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> PgError {
    PgError::new(code::CANNOT_CONNECT_NOW, "the writer has stopped")
}

/// The batch the core asked for, executed, waiting for its commit.
struct OpenBatch {
    id: u64,
    /// The catalog as the batch leaves it.
    catalog: Arc<Catalog>,
    /// Interactive transactions whose COMMIT is in it.
    committing: Vec<TxnId>,
    catalog_changed: bool,
}

struct Writer {
    w: WriteConn,
    rx: mpsc::Receiver<Command>,
    core: Arc<dyn Core>,
    published: Arc<Published>,
    slots: Arc<work::Slots>,
    /// The catalog of the last durable commit.
    committed: Arc<Catalog>,
    batch: Option<OpenBatch>,
    /// The transaction whose frame is open.
    live: Option<TxnId>,
    txns: HashMap<TxnId, Txn>,
    /// Sequence values handed out by frames that were rolled back (lowest and highest per
    /// sequence): applied (journaled) in every transaction until one commits, so a value is
    /// never handed out twice.
    floors: HashMap<u32, (i64, i64)>,
    /// Transaction operations that arrived while a batch waited for its commit.
    deferred: VecDeque<Command>,
    /// Requests that succeeded in the open batch (for the statistics).
    batch_requests: usize,
    lk: LockCtx,
    /// Statements waiting for a transaction to end.
    waiting: Vec<Waiting>,
    /// The core was told this writer is ready for a batch, and no batch came since.
    ready_reported: bool,
    /// Commands run since the last batch.
    since_batch: u32,
}

/// The writer's queue: the handle to send to it, and what the thread will read.
pub struct Inbox(mpsc::Receiver<Command>);

pub fn channel() -> (Handle, Inbox) {
    let (tx, rx) = mpsc::channel();
    (Handle { tx }, Inbox(rx))
}

/// Start the writer thread on its queue.
pub fn spawn(
    inbox: Inbox,
    w: WriteConn,
    catalog: Arc<Catalog>,
    published: Arc<Published>,
    slots: Arc<work::Slots>,
    core: Arc<dyn Core>,
) -> Result<(), String> {
    let rx = inbox.0;
    let mut w = w;
    let lk = LockCtx::default();
    install_lock_hooks(&mut w, &lk).map_err(|e| format!("cannot set up the writer: {e}"))?;
    let writer = Writer {
        w,
        rx,
        core,
        published,
        slots,
        committed: catalog,
        batch: None,
        live: None,
        txns: HashMap::new(),
        floors: HashMap::new(),
        deferred: VecDeque::new(),
        batch_requests: 0,
        lk,
        waiting: Vec::new(),
        ready_reported: false,
        since_batch: 0,
    };
    std::thread::Builder::new()
        .name("bedrock-writer".into())
        .spawn(move || writer.run())
        .map_err(|e| format!("cannot start the writer thread: {e}"))?;
    Ok(())
}

/// Watch the rows statements change, and give `pg_row_locked()` (SKIP LOCKED) the lock table.
fn install_lock_hooks(w: &mut WriteConn, lk: &LockCtx) -> rusqlite::Result<()> {
    let touched = lk.touched.clone();
    let recording = lk.recording.clone();
    let epoch = lk.epoch.clone();
    let mut last: Option<Arc<str>> = None;
    // Inserts only matter per table: the last (statement, table) recorded.
    let mut last_insert: Option<(u64, Arc<str>)> = None;
    w.update_hook(move |action, _db, table, rowid| {
        if !recording.load(Ordering::Relaxed) {
            return;
        }
        let insert = matches!(action, rusqlite::hooks::Action::SQLITE_INSERT);
        let now = epoch.load(Ordering::Relaxed);
        if insert && matches!(&last_insert, Some((e, t)) if *e == now && &**t == table) {
            return;
        }
        let name = match &last {
            Some(n) if &**n == table => n.clone(),
            _ => {
                let n: Arc<str> = Arc::from(table);
                last = Some(n.clone());
                n
            }
        };
        if insert {
            last_insert = Some((now, name.clone()));
        }
        touched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((insert, name, rowid));
    })?;
    let locks = lk.locks.clone();
    let current = lk.current.clone();
    w.conn().conn.create_scalar_function(
        "pg_row_locked",
        3,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        move |f| {
            let table: String = f.get(0)?;
            let rowid: i64 = f.get(1)?;
            let exclusive: bool = f.get(2)?;
            let txn = match current.load(Ordering::SeqCst) {
                0 => None,
                t => Some(t),
            };
            Ok(locks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .locked_for(txn, &table, rowid, exclusive))
        },
    )
}

impl Writer {
    fn run(mut self) {
        loop {
            let cmd = match self.deferred.pop_front() {
                Some(c) if self.batch.is_none() => c,
                other => {
                    if let Some(c) = other {
                        self.deferred.push_front(c);
                    }
                    match self.next_command() {
                        Some(c) => c,
                        None => return,
                    }
                }
            };
            match cmd {
                Command::Execute { batch, requests } => {
                    self.ready_reported = false;
                    self.since_batch = 0;
                    self.execute(batch, requests)
                }
                Command::Commit { entry, batch } => self.commit(entry, batch),
                Command::Rollback { batch } => self.rollback_batch(batch),
                Command::PersistHardState { term, vote } => {
                    if let Err(e) = self.persist_hard_state(term, vote.as_deref()) {
                        // Nothing after it may happen without it: stop the node.
                        tracing::error!("{e}; stopping");
                        std::process::exit(1);
                    }
                }
                Command::Perform(outputs) => self.core.perform(outputs),
                c @ (Command::Txn { .. } | Command::Abort { .. }) if self.batch.is_some() => {
                    self.deferred.push_back(c);
                }
                Command::Txn {
                    txn,
                    op,
                    cancel,
                    reply,
                } => match self.txn_op(txn, op.clone(), &cancel) {
                    Step::Reply(r) => {
                        let _ = reply.send(r);
                    }
                    Step::Wait {
                        blocker,
                        lock_timeout_ms,
                        deadline_ms,
                    } => self.wait(
                        blocker,
                        Waiter::Op {
                            txn,
                            op: Box::new(op),
                            reply,
                        },
                        cancel,
                        deadline_ms,
                        lock_timeout_ms,
                    ),
                },
                Command::Abort { txn } => self.abort(txn),
                Command::WaitFor {
                    blocker,
                    deadline_ms,
                    lock_timeout_ms,
                    cancel,
                    reply,
                } => {
                    if self.lk.locks().holds_any(blocker) {
                        self.wait(
                            blocker,
                            Waiter::Session { reply },
                            cancel,
                            deadline_ms,
                            lock_timeout_ms,
                        );
                    } else {
                        let _ = reply.send(Ok(()));
                    }
                }
                Command::Shutdown => {
                    let _ = self.w.rollback();
                    return;
                }
            }
            self.expire_waits();
        }
    }

    /// The next command; while statements wait, wake up now and then to time them out.
    fn next_command(&mut self) -> Option<Command> {
        // Nothing else ready to run (or a fair share of other work done since the last
        // batch): the core may start its next batch now, with every request that queued
        // meanwhile (docs/write-path.md §2).
        if self.batch.is_none() && !self.ready_reported {
            match self.rx.try_recv() {
                Ok(c) if self.since_batch < FAIR_SHARE => {
                    self.since_batch += 1;
                    return Some(c);
                }
                // Runs first; the batch is queued behind it.
                Ok(c) => self.deferred.push_back(c),
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => return None,
            }
            self.ready_reported = true;
            self.core.completed(Input::WriterReady, None);
            if let Some(c) = self.deferred.pop_front() {
                return Some(c);
            }
        }
        self.since_batch += 1;
        loop {
            if self.waiting.is_empty() {
                return self.rx.recv().ok();
            }
            match self.rx.recv_timeout(Duration::from_millis(WAIT_POLL_MS)) {
                Ok(c) => return Some(c),
                Err(mpsc::RecvTimeoutError::Timeout) => self.expire_waits(),
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    fn wait(
        &mut self,
        blocker: TxnId,
        waiter: Waiter,
        cancel: Arc<AtomicU8>,
        deadline_ms: u64,
        lock_timeout_ms: u64,
    ) {
        let now = now_ms();
        self.waiting.push(Waiting {
            blocker,
            waiter,
            cancel,
            deadline_ms,
            lock_deadline_ms: if lock_timeout_ms > 0 {
                now + lock_timeout_ms
            } else {
                0
            },
        });
    }

    /// Answer waits whose statement was canceled or timed out.
    fn expire_waits(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let now = now_ms();
        let mut i = 0;
        while i < self.waiting.len() {
            let w = &self.waiting[i];
            let err = match w.cancel.load(Ordering::SeqCst) {
                1 => Some(PgError::new(
                    code::QUERY_CANCELED,
                    "canceling statement due to user request",
                )),
                2 => Some(work::statement_timeout()),
                _ if w.lock_deadline_ms != 0 && now >= w.lock_deadline_ms => Some(PgError::new(
                    code::LOCK_NOT_AVAILABLE,
                    "canceling statement due to lock timeout",
                )),
                _ if w.deadline_ms != 0 && now >= w.deadline_ms => Some(work::statement_timeout()),
                _ => None,
            };
            match err {
                Some(e) => {
                    let w = self.waiting.swap_remove(i);
                    match w.waiter {
                        Waiter::Op { txn, reply, .. } => {
                            self.lk.locks().stop_waiting(txn);
                            let _ = reply.send(Err(e));
                        }
                        Waiter::Session { reply } => {
                            let _ = reply.send(Err(e));
                        }
                    }
                }
                None => i += 1,
            }
        }
    }

    /// Transaction `t` ended: its locks go, and whatever waited for it runs again.
    fn release_locks(&mut self, t: TxnId) {
        self.lk.locks().release(t);
        let mut i = 0;
        while i < self.waiting.len() {
            if self.waiting[i].blocker != t {
                i += 1;
                continue;
            }
            let w = self.waiting.swap_remove(i);
            match w.waiter {
                Waiter::Op { txn, op, reply } => {
                    self.lk.locks().stop_waiting(txn);
                    self.deferred.push_front(Command::Txn {
                        txn,
                        op: *op,
                        cancel: w.cancel,
                        reply,
                    });
                }
                Waiter::Session { reply } => {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    pub(super) fn to_core(&self, input: Input) {
        let pos = match &input {
            Input::Committed { .. } => Some(self.w.tip()),
            _ => None,
        };
        self.core.completed(input, pos);
    }

    // ------------------------------------------------------------ transactions and floors

    /// Open the SQLite transaction if none is, re-applying the sequence floors in it.
    pub(super) fn open(&mut self) -> PgResult<()> {
        if self.w.in_transaction() {
            return Ok(());
        }
        self.w.begin().map_err(storage)?;
        let floors: Vec<(u32, (i64, i64))> = self.floors.iter().map(|(k, v)| (*k, *v)).collect();
        for (oid, (lo, hi)) in floors {
            self.apply_floor(oid, lo)?;
            self.apply_floor(oid, hi)?;
        }
        Ok(())
    }

    pub(super) fn apply_floor(&mut self, oid: u32, v: i64) -> PgResult<()> {
        let ctx = crate::log::StmtCtx {
            zone: "UTC".into(),
            ..Default::default()
        };
        self.w
            .exec(
                "UPDATE __bedrock_sequence_state SET last_value = CASE WHEN increment > 0 THEN max(last_value, ?2) ELSE min(last_value, ?2) END, is_called = 1 WHERE oid = ?1",
                &[rusqlite::types::Value::Integer(oid as i64), rusqlite::types::Value::Integer(v)],
                &ctx,
            )
            .map(|_| ())
            .map_err(storage)
    }

    /// Sequence values a rolled-back frame handed out stay handed out (PostgreSQL's
    /// sequences are not transactional).
    fn add_floors(&mut self, high: &HashMap<u32, i64>) {
        for (oid, v) in high {
            // Which way the sequence runs is decided by the UPDATE (max or min).
            let e = self.floors.entry(*oid).or_insert((*v, *v));
            e.0 = e.0.min(*v);
            e.1 = e.1.max(*v);
            if self.w.in_transaction() {
                let _ = self.apply_floor(*oid, *v);
            }
        }
    }

    /// Roll back the open frame (its statements are kept, to run again when needed).
    pub(super) fn park(&mut self) {
        let Some(t) = self.live.take() else {
            return;
        };
        super::stats::Stats::add(&self.published.stats.parks, 1);
        if self.w.has_savepoint(FRAME) && self.w.discard(FRAME).is_err() {
            let _ = self.w.rollback();
        }
        if let Some(txn) = self.txns.get(&t) {
            let high = txn.seq_high.clone();
            self.add_floors(&high);
        }
    }

    pub(super) fn abort(&mut self, txn: TxnId) {
        if self.live == Some(txn) {
            self.park();
        }
        if let Some(t) = self.txns.remove(&txn) {
            self.add_floors(&t.seq_high);
        }
        // A statement of its own that still waits ends with it.
        let mut i = 0;
        while i < self.waiting.len() {
            if matches!(self.waiting[i].waiter, Waiter::Op { txn: t, .. } if t == txn) {
                let w = self.waiting.swap_remove(i);
                if let Waiter::Op { reply, .. } = w.waiter {
                    let _ = reply.send(Err(PgError::new(
                        code::QUERY_CANCELED,
                        "canceling statement: its transaction ended",
                    )));
                }
            } else {
                i += 1;
            }
        }
        self.release_locks(txn);
    }

    fn persist_hard_state(&mut self, term: u64, vote: Option<&str>) -> Result<(), String> {
        // The core asks for this with no batch of its open (or after its leadership, and so
        // that batch, ended): whatever is open is rolled back first.
        self.park();
        self.batch = None;
        self.w
            .persist_hard_state(term, vote)
            .map_err(|e| format!("cannot persist the term: {e}"))
    }
}

/// Commands of interactive transactions the writer runs, while more keep coming, before it
/// lets the core start a batch anyway (so COMMITs are never starved by a busy writer).
const FAIR_SHARE: u32 = 32;

/// How often waiting statements are checked for cancels and timeouts.
const WAIT_POLL_MS: u64 = 10;

fn now_ms() -> u64 {
    crate::store::now_micros() as u64 / 1000
}

pub(crate) fn storage(e: rusqlite::Error) -> PgError {
    PgError::new(code::IO_ERROR, format!("storage error: {e}"))
}
