//! Interactive transactions at the writer. Each keeps the log of what it did (statements with
//! all their inputs, DDL, savepoints) and, for every statement, a digest of the result its
//! client saw. Its frame is open only while it is the one using the writer; running the log
//! again on the current database must reproduce every digest — then the transaction's client
//! cannot tell it was not running there all along, and it commits there (serializable). If a
//! digest differs, something it read changed under it: it fails with `40001`.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use rusqlite::types::Value;

use super::{FRAME, Writer, storage};
use crate::error::{PgError, PgResult, code};
use crate::exec::work::{self, DdlWork, Done, SessionOut, StmtOut, StmtWork};
use crate::log::SeqRun;
use crate::sql::catalog::Catalog;
use crate::sql::translate::ddl::DdlOutcome;
use crate::store::{Progress, QueryOutput, WriteConn};

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
            for i in 0..r.count {
                let v = r.value(i);
                let e = self.seq_high.entry(r.oid).or_insert(v);
                let step = if r.step != 0 { r.step } else { 1 };
                if (step > 0 && v > *e) || (step < 0 && v < *e) {
                    *e = v;
                }
            }
        }
    }
}

fn user_savepoint(name: &str) -> String {
    format!("u:{name}")
}

fn serialization_failure(why: &str) -> PgError {
    PgError::new(
        code::SERIALIZATION_FAILURE,
        format!("could not serialize access due to {why}"),
    )
    .with_hint("The transaction might succeed if retried.")
}

impl Writer {
    /// Run one operation of interactive transaction `txn` in its frame.
    pub(super) fn txn_op(
        &mut self,
        txn: super::TxnId,
        op: TxnOp,
        cancel: &Arc<AtomicU8>,
    ) -> PgResult<Done> {
        let deadline = match &op {
            TxnOp::Stmt(s) | TxnOp::Check(s, _) => s.deadline_ms,
            TxnOp::Ddl(d) => d.deadline_ms,
            _ => 0,
        };
        work::check_stop(deadline, cancel)?;
        let committed = self.committed.clone();
        let t = self.txns.entry(txn).or_insert_with(|| Txn::new(&committed));
        if t.doomed {
            return Err(serialization_failure("a concurrent update"));
        }
        // Savepoint operations before the first statement need no frame.
        if t.log.is_empty() && self.live != Some(txn) {
            t.catalog = committed.clone();
            t.base_generation = committed.generation;
        }
        self.make_live(txn)?;
        let r = self.run_op(txn, op, cancel);
        if self.w.transaction_lost() {
            // SQLite rolled the whole transaction back (an interrupted write): the frame is
            // gone, its log is not.
            self.live = None;
        }
        r
    }

    fn run_op(&mut self, txn: super::TxnId, op: TxnOp, cancel: &Arc<AtomicU8>) -> PgResult<Done> {
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
                let out =
                    in_statement_savepoint(&mut self.w, |w| run_statement(w, &s, &cat, cancel))?;
                let digest = digest_rows(&out.out);
                if digest != expect {
                    return Err(serialization_failure(
                        "read/write dependencies among transactions",
                    ));
                }
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.log.push(Item::Stmt { work: s, digest });
                }
                Ok(Done::Ok)
            }
            TxnOp::Stmt(s) => {
                let out =
                    in_statement_savepoint(&mut self.w, |w| run_statement(w, &s, &cat, cancel))?;
                let drawn = self.w.drawn().to_vec();
                let mut logged = s;
                logged.stmt.ctx.seq = drawn.clone();
                let digest = digest_rows(&out.out);
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.note_drawn(&drawn);
                    t.log.push(Item::Stmt {
                        work: logged,
                        digest,
                    });
                }
                Ok(Done::Rows(out))
            }
            TxnOp::Ddl(d) => {
                if d.generation != cat.generation {
                    return Err(stale());
                }
                let (outcome, catalog) =
                    in_statement_savepoint(&mut self.w, |w| run_ddl(w, &d, &cat, cancel))?;
                let digest = digest_ddl(&outcome);
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.catalog = catalog.clone();
                    t.log.push(Item::Ddl { work: d, digest });
                }
                Ok(Done::Ddl { outcome, catalog })
            }
            TxnOp::Savepoint(name) => {
                self.w.savepoint(&user_savepoint(&name)).map_err(storage)?;
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.savepoints.push((name.clone(), t.log.len()));
                    t.log.push(Item::Savepoint { name, catalog: cat });
                }
                Ok(Done::Ok)
            }
            TxnOp::Release(name) => {
                let t = self
                    .txns
                    .get_mut(&txn)
                    .ok_or_else(|| PgError::internal("transaction vanished"))?;
                let i = t
                    .savepoints
                    .iter()
                    .rposition(|(n, _)| *n == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                t.savepoints.truncate(i);
                t.log.push(Item::Release(name.clone()));
                self.w.release(&user_savepoint(&name)).map_err(storage)?;
                Ok(Done::Ok)
            }
            TxnOp::RollbackTo(name) => {
                let t = self
                    .txns
                    .get_mut(&txn)
                    .ok_or_else(|| PgError::internal("transaction vanished"))?;
                let i = t
                    .savepoints
                    .iter()
                    .rposition(|(n, _)| *n == name)
                    .ok_or_else(|| no_savepoint(&name))?;
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
                Ok(Done::Catalog(catalog))
            }
        }
    }

    /// Open `txn`'s frame, parking whichever other frame is open and running `txn`'s log
    /// again if it was parked.
    pub(super) fn make_live(&mut self, txn: super::TxnId) -> PgResult<()> {
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
    pub(super) fn replay(&mut self, txn: super::TxnId, base: &Arc<Catalog>) -> PgResult<()> {
        let Some(t) = self.txns.get(&txn) else {
            return Err(serialization_failure("a lost transaction"));
        };
        if t.log.is_empty() {
            return Ok(());
        }
        if t.base_generation != base.generation {
            return Err(serialization_failure("a concurrent schema change"));
        }
        let log = t.log.clone();
        let stats = &self.published.stats;
        crate::exec::stats::Stats::add(&stats.replays, 1);
        crate::exec::stats::Stats::add(&stats.replayed_statements, log.len() as u64);
        let none = Arc::new(AtomicU8::new(0));
        let mut cat = base.clone();
        for item in &log {
            match item {
                Item::Stmt { work, digest } => {
                    let out = run_statement(&mut self.w, work, &cat, &none)
                        .map_err(|_| serialization_failure("a concurrent update"))?;
                    if digest_rows(&out.out) != *digest {
                        return Err(serialization_failure("a concurrent update"));
                    }
                }
                Item::Ddl { work, digest } => {
                    let mut w = work.clone();
                    w.generation = cat.generation;
                    let (outcome, c) = run_ddl(&mut self.w, &w, &cat, &none)
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
        // Catalog objects are rebuilt with the same definitions; keep the transaction's
        // catalog (its generation is what its session translated against).
        Ok(())
    }
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

/// Run `f` so that a failure undoes exactly what it did (a statement is atomic).
fn in_statement_savepoint<T>(
    w: &mut WriteConn,
    f: impl FnOnce(&mut WriteConn) -> PgResult<T>,
) -> PgResult<T> {
    const STMT: &str = "__bedrock_stmt";
    w.savepoint(STMT).map_err(storage)?;
    let r = f(w);
    if w.transaction_lost() {
        return r;
    }
    match r {
        Ok(v) => {
            w.release(STMT).map_err(storage)?;
            Ok(v)
        }
        Err(e) => {
            let _ = w.discard(STMT);
            Err(e)
        }
    }
}

/// Run one translated statement on the write connection, with its session state loaded and
/// its cancel flag and deadline watched.
pub(super) fn run_statement(
    w: &mut WriteConn,
    s: &StmtWork,
    cat: &Arc<Catalog>,
    cancel: &Arc<AtomicU8>,
) -> PgResult<StmtOut> {
    let progress = w.conn().progress.clone();
    progress.start(s.deadline_ms, None);
    progress.watch(Some(cancel.clone()));
    let r = (|| {
        if s.reads_catalog {
            crate::sql::pg_catalog::prepare_connection(&w.conn().conn, cat)?;
        }
        let fctx = crate::sql::extension::context(w.conn());
        let uses_seq = s.stmt.sql.contains("pg_currval")
            || s.stmt.sql.contains("pg_lastval")
            || s.stmt.sql.contains("pg_nextval")
            || s.stmt.sql.contains("pg_setval");
        if uses_seq {
            let mut g = crate::sql::functions::lock(&fctx);
            g.currval = s.session.currval.iter().copied().collect();
            g.lastval = s.session.lastval;
        }
        let out = w
            .exec(&s.stmt.sql, &s.stmt.params, &s.stmt.ctx)
            .map_err(|e| crate::sql::errors::from_sqlite(&e, Some(cat), s.target.as_deref()))?;
        let session = if uses_seq {
            let g = crate::sql::functions::lock(&fctx);
            SessionOut {
                currval: g.currval.iter().map(|(k, v)| (*k, *v)).collect(),
                lastval: g.lastval,
            }
        } else {
            SessionOut::default()
        };
        Ok(StmtOut { out, session })
    })();
    let why = progress.reason();
    progress.watch(None);
    progress.start(0, None);
    r.map_err(|e| stopped(e, why))
}

/// Run a DDL statement (PostgreSQL text) against catalog `cat`.
pub(super) fn run_ddl(
    w: &mut WriteConn,
    d: &DdlWork,
    cat: &Arc<Catalog>,
    cancel: &Arc<AtomicU8>,
) -> PgResult<(DdlOutcome, Arc<Catalog>)> {
    use crate::sql::statement::Parsed;
    use crate::sql::translate::{self, Env, Plan};
    let parsed = crate::sql::statement::parse(&d.text)?;
    let env = Env {
        zone: crate::sql::datetime::Zone::parse(&d.ctx.zone)
            .unwrap_or(crate::sql::datetime::Zone::UTC),
        user: d.user.clone(),
        database: d.database.clone(),
        pid: d.pid,
    };
    let ast = match parsed {
        Parsed::AlterSequence(a) => translate::ddl::DdlStatement::AlterSequence(a),
        Parsed::Sql(s) => match translate::translate(&s, cat, &env, &[])? {
            Plan::Ddl(ast) => ast,
            _ => return Err(PgError::internal("not a DDL statement")),
        },
        _ => return Err(PgError::internal("not a DDL statement")),
    };
    let progress = w.conn().progress.clone();
    progress.start(d.deadline_ms, None);
    progress.watch(Some(cancel.clone()));
    let r = translate::ddl::execute(&ast, w, cat, &env, &d.ctx);
    let why = progress.reason();
    progress.watch(None);
    progress.start(0, None);
    let (outcome, catalog) = r.map_err(|e| stopped(e, why))?;
    Ok((outcome, Arc::new(catalog)))
}

/// An interrupted statement reports why it was stopped.
fn stopped(e: PgError, why: u8) -> PgError {
    if e.code != code::QUERY_CANCELED {
        return e;
    }
    match why {
        Progress::TIMEOUT => work::statement_timeout(),
        _ => PgError::new(
            code::QUERY_CANCELED,
            "canceling statement due to user request",
        ),
    }
}

/// A digest of what a statement returned to its client.
pub fn digest_of(out: &QueryOutput) -> u64 {
    digest_rows(out)
}

fn digest_rows(out: &QueryOutput) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write_u64(out.changes);
    h.write_usize(out.rows.len());
    for row in &out.rows {
        for v in row {
            match v {
                Value::Null => h.write_u8(0),
                Value::Integer(i) => {
                    h.write_u8(1);
                    h.write_i64(*i);
                }
                Value::Real(f) => {
                    h.write_u8(2);
                    h.write_u64(f.to_bits());
                }
                Value::Text(t) => {
                    h.write_u8(3);
                    h.write(t.as_bytes());
                    h.write_u8(0xff);
                }
                Value::Blob(b) => {
                    h.write_u8(4);
                    h.write_usize(b.len());
                    h.write(b);
                }
            }
        }
    }
    h.finish()
}

fn digest_ddl(o: &DdlOutcome) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(o.tag.as_bytes());
    for n in &o.notices {
        h.write(n.as_bytes());
    }
    h.finish()
}
