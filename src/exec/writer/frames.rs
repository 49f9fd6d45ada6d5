//! Interactive transactions at the writer. Each keeps the log of what it did (statements with
//! all their inputs, DDL, savepoints) and, for every statement, a digest of the result its
//! client saw. Its frame is open only while it is the one using the writer; running the log
//! again on the current database must reproduce every digest — then the transaction's client
//! cannot tell it was not running there all along, and it commits there (serializable). If a
//! digest differs, something it read changed under it: it fails with `40001`. The rows it
//! wrote or locked cannot change under it: it holds them ([`super::locks`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use super::locks::Need;
use super::statement::{Ran, digest_ddl, digest_of, run_ddl, run_statement};
use super::{FRAME, TxnId, Writer, storage};
use crate::error::{PgError, PgResult, code};
use crate::exec::work::{self, DdlWork, Done, StmtWork};
use crate::log::SeqRun;
use crate::sql::catalog::Catalog;
use crate::sql::statement::LockStmt;
use crate::sql::translate::LockWait;

/// One operation of an interactive transaction.
#[derive(Debug, Clone)]
pub enum TxnOp {
    Stmt(StmtWork),
    /// A read made before the block's first write, with the digest of what it returned.
    Check(StmtWork, u64),
    Ddl(DdlWork),
    Savepoint(String),
    Release(String),
    RollbackTo(String),
    /// `LOCK TABLE`: table locks against other writers (no effect on the database).
    LockTable(LockStmt),
}

/// What a transaction operation came to.
pub(super) enum Step {
    Reply(PgResult<Done>),
    /// It needs what transaction `blocker` holds: run it again when that one ends.
    Wait {
        blocker: TxnId,
        lock_timeout_ms: u64,
        deadline_ms: u64,
    },
}

/// What the log of a transaction holds.
#[derive(Debug, Clone)]
enum Item {
    Stmt {
        work: StmtWork,
        digest: u64,
    },
    Ddl {
        work: DdlWork,
        digest: u64,
    },
    /// A client savepoint, with the transaction's catalog when it was taken.
    Savepoint {
        name: String,
        catalog: Arc<Catalog>,
    },
    Release(String),
}

/// An interactive transaction known to the writer.
pub(super) struct Txn {
    log: Vec<Item>,
    /// The catalog the transaction sees (its own DDL included).
    pub catalog: Arc<Catalog>,
    /// The committed catalog its log was built on: if that moves, its statements no longer
    /// mean what they meant.
    pub base_generation: u64,
    /// Highest sequence value handed out per sequence (they stay handed out).
    pub seq_high: HashMap<u32, i64>,
    /// Active client savepoints: name and the log position of their `Item::Savepoint`.
    savepoints: Vec<(String, usize)>,
    /// It failed to run again: only its end is accepted now.
    doomed: bool,
}

impl Txn {
    fn new(committed: &Arc<Catalog>) -> Txn {
        Txn {
            log: Vec::new(),
            catalog: committed.clone(),
            base_generation: committed.generation,
            seq_high: HashMap::new(),
            savepoints: Vec::new(),
            doomed: false,
        }
    }

    fn note_drawn(&mut self, drawn: &[SeqRun]) {
        for r in drawn {
            for i in [0, r.count.saturating_sub(1)] {
                let v = r.value(i);
                let e = self.seq_high.entry(r.oid).or_insert(v);
                let step = if r.step != 0 { r.step } else { 1 };
                if (step > 0 && v > *e) || (step < 0 && v < *e) {
                    *e = v;
                }
            }
        }
    }

    fn savepoint_at(&self, name: &str) -> PgResult<usize> {
        self.savepoints
            .iter()
            .rposition(|(n, _)| n == name)
            .ok_or_else(|| no_savepoint(name))
    }
}

fn user_savepoint(name: &str) -> String {
    format!("u:{name}")
}

pub(super) fn serialization_failure(why: &str) -> PgError {
    PgError::new(
        code::SERIALIZATION_FAILURE,
        format!("could not serialize access due to {why}"),
    )
    .with_hint("The transaction might succeed if retried.")
}

fn no_wait(what: &str) -> PgError {
    PgError::new(
        code::LOCK_NOT_AVAILABLE,
        format!("could not obtain lock on {what}"),
    )
}

fn deadlock() -> PgError {
    PgError::new(code::DEADLOCK_DETECTED, "deadlock detected").with_detail(
        "The transaction waited for another one that waits for it; this statement was canceled.",
    )
}

fn stale() -> PgError {
    PgError::new(code::SERIALIZATION_FAILURE, crate::exec::session::STALE)
}

fn no_savepoint(name: &str) -> PgError {
    PgError::new(
        code::INVALID_SAVEPOINT_SPECIFICATION,
        format!("savepoint \"{name}\" does not exist"),
    )
}

/// A statement blocked by another transaction: what to report or how long to wait.
struct Blocked {
    blocker: TxnId,
    nowait: bool,
    what: String,
    lock_timeout_ms: u64,
    deadline_ms: u64,
}

impl Writer {
    /// Run one operation of interactive transaction `txn` in its frame.
    pub(super) fn txn_op(&mut self, txn: TxnId, op: TxnOp, cancel: &Arc<AtomicU8>) -> Step {
        let deadline = match &op {
            TxnOp::Stmt(s) | TxnOp::Check(s, _) => s.deadline_ms,
            TxnOp::Ddl(d) => d.deadline_ms,
            _ => 0,
        };
        if let Err(e) = work::check_stop(deadline, cancel) {
            return Step::Reply(Err(e));
        }
        let committed = self.committed.clone();
        let t = self.txns.entry(txn).or_insert_with(|| Txn::new(&committed));
        if t.doomed {
            return Step::Reply(Err(serialization_failure("a concurrent update")));
        }
        if t.log.is_empty() && self.live != Some(txn) {
            t.catalog = committed.clone();
            t.base_generation = committed.generation;
        }
        if let TxnOp::LockTable(l) = &op {
            return self.lock_tables(txn, l);
        }
        if let Err(e) = self.make_live(txn) {
            return Step::Reply(Err(e));
        }
        let r = match self.run_op(txn, op, cancel) {
            Ok(Ok(d)) => Step::Reply(Ok(d)),
            Ok(Err(b)) => self.blocked(txn, b),
            Err(e) => Step::Reply(Err(e)),
        };
        if self.w.transaction_lost() {
            // SQLite rolled the whole transaction back (an interrupted write): the frame is
            // gone, its log is not.
            self.live = None;
        }
        r
    }

    /// A statement of `txn` needs what another transaction holds.
    fn blocked(&mut self, txn: TxnId, b: Blocked) -> Step {
        if b.nowait {
            return Step::Reply(Err(no_wait(&b.what)));
        }
        if !self.lk.locks().wait(txn, b.blocker) {
            return Step::Reply(Err(deadlock()));
        }
        Step::Wait {
            blocker: b.blocker,
            lock_timeout_ms: b.lock_timeout_ms,
            deadline_ms: b.deadline_ms,
        }
    }

    /// `LOCK TABLE` in a mode that keeps other writers out.
    fn lock_tables(&mut self, txn: TxnId, l: &LockStmt) -> Step {
        if !l.blocks_writers {
            return Step::Reply(Ok(Done::Ok));
        }
        let needs: Vec<Need> = l
            .tables
            .iter()
            .map(|t| Need::Row((t.clone(), None), l.exclusive))
            .collect();
        let blocker = {
            let locks = self.lk.locks();
            needs
                .iter()
                .zip(&l.tables)
                .find_map(|(n, t)| locks.blocker(Some(txn), n).map(|b| (b, t.clone())))
        };
        if let Some((blocker, table)) = blocker {
            return self.blocked(
                txn,
                Blocked {
                    blocker,
                    nowait: l.nowait,
                    what: format!("relation \"{table}\""),
                    lock_timeout_ms: 0,
                    deadline_ms: 0,
                },
            );
        }
        let mut locks = self.lk.locks();
        for n in needs {
            if let Need::Row(key, ex) = n {
                locks.acquire(txn, key, ex);
            }
        }
        Step::Reply(Ok(Done::Ok))
    }

    /// Ok(Err(blocked)): the statement waits for another transaction.
    fn run_op(
        &mut self,
        txn: TxnId,
        op: TxnOp,
        cancel: &Arc<AtomicU8>,
    ) -> PgResult<Result<Done, Blocked>> {
        let Some(cat) = self.txns.get(&txn).map(|t| t.catalog.clone()) else {
            return Err(PgError::internal("transaction vanished"));
        };
        match op {
            TxnOp::Stmt(s) | TxnOp::Check(s, _)
                if s.generation != 0 && s.generation != cat.generation =>
            {
                Err(stale())
            }
            TxnOp::Check(s, expect) => {
                // A read the block made from its snapshot before its first write: it must
                // still return the same here, where the block now runs.
                let out = match self.statement_in_frame(txn, &s, &cat, cancel)? {
                    Ran::Done(o) => o,
                    Ran::Blocked(_) => {
                        return Err(serialization_failure(
                            "read/write dependencies among transactions",
                        ));
                    }
                };
                let digest = digest_of(&out.out);
                if digest != expect {
                    return Err(serialization_failure(
                        "read/write dependencies among transactions",
                    ));
                }
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.log.push(Item::Stmt { work: s, digest });
                }
                Ok(Ok(Done::Ok))
            }
            TxnOp::Stmt(s) => {
                let r = self.statement_in_frame(txn, &s, &cat, cancel);
                let drawn = self.w.drawn().to_vec();
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.note_drawn(&drawn);
                }
                let out = match r {
                    Ok(Ran::Done(o)) => o,
                    Ok(Ran::Blocked(blocker)) => {
                        let (nowait, what) = match &s.locking {
                            Some(l) => (
                                l.wait == LockWait::Nowait,
                                format!(
                                    "row in relation \"{}\"",
                                    l.targets.first().map(|t| t.0.as_str()).unwrap_or("")
                                ),
                            ),
                            None => (false, "row".into()),
                        };
                        return Ok(Err(Blocked {
                            blocker,
                            nowait,
                            what,
                            lock_timeout_ms: s.lock_timeout_ms,
                            deadline_ms: s.deadline_ms,
                        }));
                    }
                    Err(e) => {
                        // What the failed statement drew stays drawn: inside the frame now,
                        // outside it when the transaction ends (seq_high).
                        if !self.w.transaction_lost() {
                            self.keep_drawn(&drawn);
                        }
                        return Err(e);
                    }
                };
                let mut logged = s;
                logged.stmt.ctx.seq = drawn;
                let digest = digest_of(&out.out);
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.log.push(Item::Stmt {
                        work: logged,
                        digest,
                    });
                }
                Ok(Ok(Done::Rows(out)))
            }
            TxnOp::Ddl(d) => {
                if d.generation != cat.generation {
                    return Err(stale());
                }
                const STMT: &str = "__bedrock_stmt";
                self.w.savepoint(STMT).map_err(storage)?;
                let r = run_ddl(&mut self.w, &d, &cat, cancel);
                let (outcome, catalog) = match r {
                    Ok(v) => {
                        if !self.w.transaction_lost() {
                            self.w.release(STMT).map_err(storage)?;
                        }
                        v
                    }
                    Err(e) => {
                        if !self.w.transaction_lost() {
                            let _ = self.w.discard(STMT);
                        }
                        return Err(e);
                    }
                };
                let digest = digest_ddl(&outcome);
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.catalog = catalog.clone();
                    t.log.push(Item::Ddl { work: d, digest });
                }
                Ok(Ok(Done::Ddl { outcome, catalog }))
            }
            TxnOp::Savepoint(name) => {
                self.w.savepoint(&user_savepoint(&name)).map_err(storage)?;
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.savepoints.push((name.clone(), t.log.len()));
                    t.log.push(Item::Savepoint { name, catalog: cat });
                }
                Ok(Ok(Done::Ok))
            }
            TxnOp::Release(name) => {
                let t = self
                    .txns
                    .get_mut(&txn)
                    .ok_or_else(|| PgError::internal("transaction vanished"))?;
                let i = t.savepoint_at(&name)?;
                t.savepoints.truncate(i);
                t.log.push(Item::Release(name.clone()));
                self.w.release(&user_savepoint(&name)).map_err(storage)?;
                Ok(Ok(Done::Ok))
            }
            TxnOp::RollbackTo(name) => {
                let t = self
                    .txns
                    .get_mut(&txn)
                    .ok_or_else(|| PgError::internal("transaction vanished"))?;
                let i = t.savepoint_at(&name)?;
                let at = t.savepoints[i].1;
                t.savepoints.truncate(i + 1);
                if let Some(Item::Savepoint { catalog, .. }) = t.log.get(at) {
                    t.catalog = catalog.clone();
                }
                t.log.truncate(at + 1);
                let catalog = t.catalog.clone();
                self.w
                    .rollback_to(&user_savepoint(&name))
                    .map_err(storage)?;
                // Values handed out after the savepoint stay handed out.
                let high = t.seq_high.clone();
                for (oid, v) in high {
                    let _ = self.apply_floor(oid, v);
                }
                Ok(Ok(Done::Catalog(catalog)))
            }
            TxnOp::LockTable(_) => Ok(Ok(Done::Ok)),
        }
    }

    /// Run one statement of `txn` in its frame, atomically: if it fails or is blocked,
    /// nothing of it stays.
    fn statement_in_frame(
        &mut self,
        txn: TxnId,
        s: &StmtWork,
        cat: &Arc<Catalog>,
        cancel: &Arc<AtomicU8>,
    ) -> PgResult<Ran> {
        const STMT: &str = "__bedrock_stmt";
        self.w.savepoint(STMT).map_err(storage)?;
        let r = run_statement(&mut self.w, &self.lk, Some(txn), s, cat, cancel);
        if self.w.transaction_lost() {
            return r;
        }
        match r {
            Ok(Ran::Done(o)) => {
                self.w.release(STMT).map_err(storage)?;
                Ok(Ran::Done(o))
            }
            other => {
                let _ = self.w.discard(STMT);
                other
            }
        }
    }

    /// Open `txn`'s frame, parking whichever other frame is open and running `txn`'s log
    /// again if it was parked.
    pub(super) fn make_live(&mut self, txn: TxnId) -> PgResult<()> {
        if self.live == Some(txn) {
            return Ok(());
        }
        self.park();
        self.open()?;
        self.w.savepoint(FRAME).map_err(storage)?;
        let committed = self.committed.clone();
        let r = self.replay(txn, &committed);
        if let Err(e) = r {
            crate::exec::stats::Stats::add(&self.published.stats.replay_conflicts, 1);
            let _ = self.w.discard(FRAME);
            if let Some(t) = self.txns.get_mut(&txn) {
                t.doomed = true;
            }
            return Err(e);
        }
        self.live = Some(txn);
        Ok(())
    }

    /// Run `txn`'s log again inside the (already opened) frame savepoint, on top of catalog
    /// `base`; every result must match what its client saw.
    pub(super) fn replay(&mut self, txn: TxnId, base: &Arc<Catalog>) -> PgResult<()> {
        let Some(t) = self.txns.get(&txn) else {
            return Err(serialization_failure("a lost transaction"));
        };
        if t.log.is_empty() {
            return Ok(());
        }
        if t.base_generation != base.generation {
            return Err(serialization_failure("a concurrent schema change"));
        }
        let stats = &self.published.stats;
        crate::exec::stats::Stats::add(&stats.replays, 1);
        crate::exec::stats::Stats::add(&stats.replayed_statements, t.log.len() as u64);
        let none = Arc::new(AtomicU8::new(0));
        let mut cat = base.clone();
        // The log is read in place: `self.txns` and `self.w` are separate fields.
        let log = &t.log;
        for item in log {
            match item {
                Item::Stmt { work, digest } => {
                    let out =
                        match run_statement(&mut self.w, &self.lk, Some(txn), work, &cat, &none) {
                            Ok(Ran::Done(o)) => o,
                            _ => return Err(serialization_failure("a concurrent update")),
                        };
                    if digest_of(&out.out) != *digest {
                        return Err(serialization_failure("a concurrent update"));
                    }
                }
                Item::Ddl { work, digest } => {
                    let (outcome, c) = run_ddl(&mut self.w, work, &cat, &none)
                        .map_err(|_| serialization_failure("a concurrent update"))?;
                    if digest_ddl(&outcome) != *digest {
                        return Err(serialization_failure("a concurrent update"));
                    }
                    cat = c;
                }
                Item::Savepoint { name, .. } => {
                    self.w.savepoint(&user_savepoint(name)).map_err(storage)?;
                }
                Item::Release(name) => {
                    self.w.release(&user_savepoint(name)).map_err(storage)?;
                }
            }
        }
        // Catalog objects are rebuilt with the same definitions; the transaction keeps its
        // catalog (its generation is what its session translated against).
        Ok(())
    }
}
