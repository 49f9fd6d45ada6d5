//! Batches: the requests the consensus core groups into one commit, each run in its own
//! savepoint in one SQLite transaction, then committed as one journal entry.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use super::statement::{Ran, run_ddl, run_statement};
use super::{FRAME, OpenBatch, REQUEST, TxnId, Writer, storage};
use crate::cluster::{Executed, Input, RequestId};
use crate::error::{PgError, PgResult, code};
use crate::exec::work::{self, Done, Retry, StmtOut, StmtWork, Work, WorkResult};
use crate::log::Entry;
use crate::sql::catalog::Catalog;
use crate::sql::translate::LockWait;

impl Writer {
    pub(super) fn execute(&mut self, batch: u64, requests: Vec<(RequestId, Vec<u8>)>) {
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
                let r = self.run_stmt(s, cat, &cancel).map(|o| o.map(Done::Rows));
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
            Work::Commit { .. } => Err(PgError::internal("COMMIT handled above")),
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
    pub(super) fn keep_drawn(&mut self, drawn: &[crate::log::SeqRun]) {
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

    pub(super) fn commit(&mut self, entry: Entry, batch: Option<u64>) {
        let count = entry.count;
        let r = match batch {
            Some(b) => match self.batch.take() {
                Some(ob) if ob.id == b => match self.w.commit(&entry) {
                    Ok(()) => {
                        self.published.stats.batch(self.batch_requests);
                        for t in &ob.committing {
                            self.txns.remove(t);
                            self.release_locks(*t);
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

    pub(super) fn rollback_batch(&mut self, batch: u64) {
        if self.batch.as_ref().is_some_and(|b| b.id == batch) {
            self.batch = None;
            self.live = None;
            if let Err(e) = self.w.rollback() {
                tracing::error!("writer: ROLLBACK of batch {batch} failed: {e}");
            }
        }
    }

    /// Run one translated statement of an autocommit request. `Ok(Err(retry))`: not run
    /// (or undone): the session acts on the reason and submits it again.
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
        match run_statement(&mut self.w, &self.lk, None, s, cat, cancel)? {
            Ran::Done(out) => Ok(Ok(out)),
            Ran::Blocked(blocker) => {
                if s.locking.as_ref().map(|l| l.wait) == Some(LockWait::Nowait) {
                    let table = s
                        .locking
                        .as_ref()
                        .and_then(|l| l.targets.first())
                        .map(|t| t.0.clone())
                        .unwrap_or_default();
                    return Err(PgError::new(
                        code::LOCK_NOT_AVAILABLE,
                        format!("could not obtain lock on row in relation \"{table}\""),
                    ));
                }
                Ok(Err(Retry::Locked { blocker }))
            }
        }
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
        run_ddl(&mut self.w, d, cat, cancel).map(Ok)
    }
}

/// The command tag a request's record carries.
fn done_tag(d: &Done) -> String {
    match d {
        Done::Rows(o) => format!("{} rows, {} changed", o.out.rows.len(), o.out.changes),
        Done::Ddl { outcome, .. } => outcome.tag.clone(),
        Done::Ok | Done::Catalog(_) => "COMMIT".into(),
    }
}
