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
//! - The hard state (term, vote) is written here too, in order with the rest.

mod frames;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::sync::mpsc;

use tokio::sync::{mpsc as tmpsc, oneshot};

use super::work::{self, Done, Retry, StmtOut, StmtWork, Work, WorkResult};
use super::{CoreMsg, Published};
use crate::cluster::{Executed, Input, RequestId};
use crate::error::{PgError, PgResult, code};
use crate::log::Entry;
use crate::sql::catalog::Catalog;
use crate::store::WriteConn;
use frames::Txn;
pub use frames::{TxnOp, digest_of};

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
    /// The core's `Output::PersistHardState`: durable before `done` is answered.
    PersistHardState {
        term: u64,
        vote: Option<String>,
        done: oneshot::Sender<Result<(), String>>,
    },
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
    Shutdown,
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
    core: tmpsc::UnboundedSender<CoreMsg>,
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
}

/// Start the writer thread.
pub fn spawn(
    w: WriteConn,
    catalog: Arc<Catalog>,
    published: Arc<Published>,
    slots: Arc<work::Slots>,
    core: tmpsc::UnboundedSender<CoreMsg>,
) -> Result<Handle, String> {
    let (tx, rx) = mpsc::channel();
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
    };
    std::thread::Builder::new()
        .name("bedrock-writer".into())
        .spawn(move || writer.run())
        .map_err(|e| format!("cannot start the writer thread: {e}"))?;
    Ok(Handle { tx })
}

impl Writer {
    fn run(mut self) {
        loop {
            let cmd = match self.deferred.pop_front() {
                Some(c) if self.batch.is_none() => c,
                Some(c) => {
                    self.deferred.push_front(c);
                    match self.rx.recv() {
                        Ok(c) => c,
                        Err(_) => return,
                    }
                }
                None => match self.rx.recv() {
                    Ok(c) => c,
                    Err(_) => return,
                },
            };
            match cmd {
                Command::Execute { batch, requests } => self.execute(batch, requests),
                Command::Commit { entry, batch } => self.commit(entry, batch),
                Command::Rollback { batch } => self.rollback_batch(batch),
                Command::PersistHardState { term, vote, done } => {
                    let _ = done.send(self.persist_hard_state(term, vote.as_deref()));
                }
                c @ (Command::Txn { .. } | Command::Abort { .. }) if self.batch.is_some() => {
                    self.deferred.push_back(c);
                }
                Command::Txn {
                    txn,
                    op,
                    cancel,
                    reply,
                } => {
                    let r = self.txn_op(txn, op, &cancel);
                    let _ = reply.send(r);
                }
                Command::Abort { txn } => self.abort(txn),
                Command::Shutdown => {
                    let _ = self.w.rollback();
                    return;
                }
            }
        }
    }

    fn to_core(&self, input: Input) {
        let pos = match &input {
            Input::Committed { .. } => Some(self.w.tip()),
            _ => None,
        };
        let _ = self.core.send(CoreMsg::Storage(input, pos));
    }

    // ------------------------------------------------------------ transactions and floors

    /// Open the SQLite transaction if none is, re-applying the sequence floors in it.
    fn open(&mut self) -> PgResult<()> {
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

    fn apply_floor(&mut self, oid: u32, v: i64) -> PgResult<()> {
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
    fn park(&mut self) {
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

    fn abort(&mut self, txn: TxnId) {
        if self.live == Some(txn) {
            self.park();
        }
        if let Some(t) = self.txns.remove(&txn) {
            self.add_floors(&t.seq_high);
        }
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

    // ------------------------------------------------------------ batches

    fn execute(&mut self, batch: u64, requests: Vec<(RequestId, Vec<u8>)>) {
        let works: Vec<(RequestId, Result<Work, String>)> = requests
            .into_iter()
            .map(|(id, b)| (id, Work::decode(&b).map_err(|e| e.to_string())))
            .collect();
        // The live frame goes first if its COMMIT is here: it is already executed.
        let live_commit = self.live.filter(|t| {
            works
                .iter()
                .any(|(_, w)| matches!(w, Ok(Work::Commit { txn }) if txn == t))
        });
        if live_commit.is_none() {
            self.park();
        }
        let mut order: Vec<usize> = (0..works.len()).collect();
        if let Some(t) = live_commit {
            order.sort_by_key(|i| !matches!(works[*i].1, Ok(Work::Commit { txn }) if txn == t));
        }
        // A request that made SQLite roll back the whole transaction (an interrupted write,
        // a full disk) fails alone: the others run again from the start.
        let mut failed: HashMap<RequestId, PgError> = HashMap::new();
        let (results, catalog, committing, catalog_changed) = loop {
            let mut results: Vec<(RequestId, WorkResult)> = Vec::new();
            let mut cat = self.committed.clone();
            let mut committing = Vec::new();
            let mut changed = false;
            let mut lost = None;
            if let Err(e) = self.open() {
                for (id, _) in &works {
                    results.push((*id, WorkResult::Failed(e.clone())));
                }
                break (results, cat, committing, changed);
            }
            for i in &order {
                let (id, work) = &works[*i];
                if let Some(e) = failed.get(id) {
                    results.push((*id, WorkResult::Failed(e.clone())));
                    continue;
                }
                let r = match work {
                    Err(e) => WorkResult::Failed(PgError::internal(format!("bad request: {e}"))),
                    Ok(w) => self.run_request(*id, w, &mut cat, &mut committing, &mut changed),
                };
                if self.w.transaction_lost() {
                    let e = match r {
                        WorkResult::Failed(e) => e,
                        _ => PgError::new(code::IO_ERROR, "the write transaction was lost"),
                    };
                    lost = Some((*id, e));
                    break;
                }
                results.push((*id, r));
            }
            match lost {
                Some((id, e)) => {
                    failed.insert(id, e);
                    // Frames were lost with the transaction; their statements are kept.
                    self.live = None;
                }
                None => break (results, cat, committing, changed),
            }
        };
        let mut executed = Vec::with_capacity(results.len());
        for (id, r) in results {
            let (ok, bytes) = match &r {
                WorkResult::Done(d) => (true, work::record_of(&done_tag(d))),
                WorkResult::Failed(e) => (false, work::failure_bytes(e)),
                WorkResult::Retry(_) => (
                    false,
                    work::failure_bytes(&PgError::new(
                        code::SERIALIZATION_FAILURE,
                        "the statement must be translated again",
                    )),
                ),
            };
            if let Some(slot) = self.slots.get(id) {
                slot.set(r);
            }
            executed.push(Executed {
                id,
                ok,
                result: bytes,
            });
        }
        let body = self.w.body();
        self.batch_requests = executed.iter().filter(|e| e.ok).count();
        self.batch = Some(OpenBatch {
            id: batch,
            catalog,
            committing,
            catalog_changed,
        });
        self.to_core(Input::Executed {
            batch,
            body,
            results: executed,
        });
    }

    /// Run one request of a batch in its own savepoint.
    fn run_request(
        &mut self,
        id: RequestId,
        work: &Work,
        cat: &mut Arc<Catalog>,
        committing: &mut Vec<TxnId>,
        changed: &mut bool,
    ) -> WorkResult {
        let cancel = self
            .slots
            .get(id)
            .map(|s| s.cancel.clone())
            .unwrap_or_default();
        if let Work::Commit { txn } = work {
            return self.commit_txn(*txn, cat, committing, changed);
        }
        if let Err(e) = self.w.savepoint(REQUEST) {
            return WorkResult::Failed(storage(e));
        }
        // Sequence values drawn by statements that end up rolled back stay drawn.
        let mut drawn: Vec<crate::log::SeqRun> = Vec::new();
        let r = match work {
            Work::Stmt(s) => {
                let r = self.run_stmt(s, cat, &cancel).map(|o| match o {
                    Ok(out) => Ok(Done::Rows(out)),
                    Err(r) => Err(r),
                });
                drawn.extend_from_slice(self.w.drawn());
                r
            }
            Work::Script(list) => {
                let mut r = Ok(Ok(Done::Ok));
                for s in list {
                    let one = self.run_stmt(s, cat, &cancel);
                    drawn.extend_from_slice(self.w.drawn());
                    match one {
                        Ok(Ok(_)) => {}
                        Ok(Err(retry)) => {
                            r = Ok(Err(retry));
                            break;
                        }
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                r
            }
            Work::Ddl(d) => self.run_ddl(d, cat, &cancel).map(|o| {
                o.map(|(outcome, c)| {
                    *cat = c.clone();
                    *changed = true;
                    Done::Ddl {
                        outcome,
                        catalog: c,
                    }
                })
            }),
            Work::Commit { .. } => unreachable_commit(),
        };
        if self.w.transaction_lost() {
            return match r {
                Err(e) => WorkResult::Failed(e),
                _ => WorkResult::Failed(PgError::new(
                    code::IO_ERROR,
                    "the write transaction was lost",
                )),
            };
        }
        match r {
            Ok(Ok(done)) => match self.w.release(REQUEST) {
                Ok(()) => WorkResult::Done(done),
                Err(e) => WorkResult::Failed(storage(e)),
            },
            Ok(Err(retry)) => {
                let _ = self.w.discard(REQUEST);
                WorkResult::Retry(retry)
            }
            Err(e) => {
                let _ = self.w.discard(REQUEST);
                self.keep_drawn(&drawn);
                WorkResult::Failed(e)
            }
        }
    }

    /// Values a rolled-back statement drew stay drawn (PostgreSQL's sequences are not
    /// transactional): the sequence is moved past them in the open transaction.
    fn keep_drawn(&mut self, drawn: &[crate::log::SeqRun]) {
        let mut high = HashMap::new();
        for r in drawn {
            for i in [0, r.count.saturating_sub(1)] {
                let v = r.value(i);
                // Both ends: the UPDATE keeps the furthest in the sequence's direction.
                let e = high.entry(r.oid).or_insert((v, v));
                e.0 = v.min(e.0);
                e.1 = v.max(e.1);
            }
        }
        for (oid, (lo, hi)) in high {
            let e = self.floors.entry(oid).or_insert((lo, hi));
            e.0 = e.0.min(lo);
            e.1 = e.1.max(hi);
            let _ = self.apply_floor(oid, lo);
            let _ = self.apply_floor(oid, hi);
        }
    }

    /// COMMIT of an interactive transaction: its frame joins the batch (at once if it is the
    /// open frame, else by running its statements again).
    fn commit_txn(
        &mut self,
        txn: TxnId,
        cat: &mut Arc<Catalog>,
        committing: &mut Vec<TxnId>,
        changed: &mut bool,
    ) -> WorkResult {
        let Some(t) = self.txns.get(&txn) else {
            return WorkResult::Failed(PgError::new(
                code::SERIALIZATION_FAILURE,
                "could not serialize access: the transaction was lost before its commit",
            ));
        };
        let high = t.seq_high.clone();
        let did_ddl = t.catalog.generation != t.base_generation;
        let result = if self.live == Some(txn) {
            self.live = None;
            self.w.release(FRAME).map_err(storage)
        } else {
            match self.w.savepoint(FRAME) {
                Err(e) => Err(storage(e)),
                Ok(()) => match self.replay(txn, cat) {
                    Ok(()) => self.w.release(FRAME).map_err(storage),
                    Err(e) => {
                        let _ = self.w.discard(FRAME);
                        Err(e)
                    }
                },
            }
        };
        match result {
            Ok(()) => {
                if did_ddl && let Some(t) = self.txns.get(&txn) {
                    *cat = t.catalog.clone();
                    *changed = true;
                }
                // Values its rolled-back statements handed out stay handed out.
                for (oid, v) in high {
                    let _ = self.apply_floor(oid, v);
                }
                committing.push(txn);
                WorkResult::Done(Done::Ok)
            }
            Err(e) => {
                self.abort(txn);
                WorkResult::Failed(e)
            }
        }
    }

    fn commit(&mut self, entry: Entry, batch: Option<u64>) {
        let count = entry.count;
        let r = match batch {
            Some(b) => match self.batch.take() {
                Some(ob) if ob.id == b => match self.w.commit(&entry) {
                    Ok(()) => {
                        self.published.stats.batch(self.batch_requests);
                        for t in &ob.committing {
                            self.txns.remove(t);
                        }
                        if ob.catalog_changed {
                            self.committed = ob.catalog.clone();
                        }
                        self.published
                            .publish(ob.catalog_changed.then_some(ob.catalog), count);
                        self.floors.clear();
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                other => {
                    self.batch = other;
                    Err(format!("commit {count}: batch {b} is not the open batch"))
                }
            },
            None => {
                // A commit made elsewhere (a new term's no-op; a follower applying): no frame
                // of ours may be open under it.
                self.park();
                self.batch = None;
                let had_body = crate::log::Envelope::decode(&entry.payload)
                    .map(|e| !e.body.is_empty())
                    .unwrap_or(false);
                match self.w.apply_entry(&entry) {
                    Ok(()) => {
                        let catalog = if had_body {
                            Catalog::load(&self.w.conn().conn).ok().map(Arc::new)
                        } else {
                            None
                        };
                        if let Some(c) = &catalog {
                            self.committed = c.clone();
                        }
                        self.published.publish(catalog, count);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match r {
            Ok(()) => self.to_core(Input::Committed { count }),
            Err(reason) => {
                tracing::error!("writer: {reason}");
                self.batch = None;
                self.live = None;
                let _ = self.w.rollback();
                self.to_core(Input::CommitFailed { count, reason });
            }
        }
    }

    fn rollback_batch(&mut self, batch: u64) {
        if self.batch.as_ref().is_some_and(|b| b.id == batch) {
            self.batch = None;
            self.live = None;
            if let Err(e) = self.w.rollback() {
                tracing::error!("writer: ROLLBACK of batch {batch} failed: {e}");
            }
        }
    }

    // ------------------------------------------------------------ statements

    /// Run one translated statement in the open transaction. `Ok(Err(retry))`: not run.
    fn run_stmt(
        &mut self,
        s: &StmtWork,
        cat: &Arc<Catalog>,
        cancel: &Arc<AtomicU8>,
    ) -> PgResult<Result<StmtOut, Retry>> {
        if s.generation != 0 && s.generation != cat.generation {
            return Ok(Err(Retry::Stale));
        }
        work::check_stop(s.deadline_ms, cancel)?;
        frames::run_statement(&mut self.w, s, cat, cancel).map(Ok)
    }

    fn run_ddl(
        &mut self,
        d: &work::DdlWork,
        cat: &Arc<Catalog>,
        cancel: &Arc<AtomicU8>,
    ) -> PgResult<Result<(crate::sql::translate::ddl::DdlOutcome, Arc<Catalog>), Retry>> {
        if d.generation != cat.generation {
            return Ok(Err(Retry::Stale));
        }
        work::check_stop(d.deadline_ms, cancel)?;
        frames::run_ddl(&mut self.w, d, cat, cancel).map(Ok)
    }
}

fn unreachable_commit() -> PgResult<Result<Done, Retry>> {
    Err(PgError::internal("COMMIT handled above"))
}

/// The command tag a request's record carries.
fn done_tag(d: &Done) -> String {
    match d {
        Done::Rows(o) => format!("{} rows, {} changed", o.out.rows.len(), o.out.changes),
        Done::Ddl { outcome, .. } => outcome.tag.clone(),
        Done::Ok | Done::Catalog(_) => "COMMIT".into(),
    }
}

pub(crate) fn storage(e: rusqlite::Error) -> PgError {
    PgError::new(code::IO_ERROR, format!("storage error: {e}"))
}
