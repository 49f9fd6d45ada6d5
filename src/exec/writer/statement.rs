//! Running one statement on the write connection, for a batch request, a transaction's frame
//! or a replay alike: its session state loaded, its cancel flag and deadline watched, the
//! locks it needs checked (and, for a transaction, taken), and a digest of what it returned
//! so a replay can tell whether it would still return the same.

use std::hash::Hasher;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use rusqlite::types::Value;

use super::TxnId;
use super::locks::{LockCtx, Need, is_internal};
use crate::error::{PgError, PgResult, code};
use crate::exec::work::{self, DdlWork, SessionOut, StmtOut, StmtWork};
use crate::sql::catalog::Catalog;
use crate::sql::translate::ddl::DdlOutcome;
use crate::store::{Progress, QueryOutput, WriteConn};

/// What running a statement came to.
pub(super) enum Ran {
    Done(StmtOut),
    /// A row (or table) it needs is held by this other transaction. The caller undoes the
    /// statement (its savepoint).
    Blocked(TxnId),
}

/// Run one translated statement. `txn`: the transaction it belongs to (None: an autocommit
/// request, which takes no locks but must not touch what others hold).
pub(super) fn run_statement(
    w: &mut WriteConn,
    lk: &LockCtx,
    txn: Option<TxnId>,
    s: &StmtWork,
    cat: &Arc<Catalog>,
    cancel: &Arc<AtomicU8>,
) -> PgResult<Ran> {
    let progress = w.conn().progress.clone();
    progress.start(s.deadline_ms, None);
    progress.watch(Some(cancel.clone()));
    lk.start(txn);
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
    let mut out = r.map_err(|e| stopped(e, why))?;
    // What it needs: the rows it changed, and the rows a locking clause selected (whose
    // rowids ride in hidden columns after the visible ones).
    let mut needs = lk.take_touched();
    needs.retain(|n| match n {
        Need::Row((t, _), _) | Need::InsertInto(t) => !is_internal(t),
    });
    if let Some(l) = &s.locking {
        let visible = l.targets.iter().map(|t| t.1).min().unwrap_or(0);
        for row in &mut out.out.rows {
            for (table, col) in &l.targets {
                if let Some(Value::Integer(rowid)) = row.get(*col) {
                    needs.push(Need::Row((table.clone(), Some(*rowid)), l.exclusive));
                }
            }
            row.truncate(visible);
        }
    }
    if needs.is_empty() {
        return Ok(Ran::Done(out));
    }
    let mut locks = lk.locks();
    for n in &needs {
        if let Some(b) = locks.blocker(txn, n) {
            return Ok(Ran::Blocked(b));
        }
    }
    if let Some(t) = txn {
        for n in needs {
            if let Need::Row(key, ex) = n {
                locks.acquire(t, key, ex);
            }
        }
    }
    Ok(Ran::Done(out))
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

pub(super) fn digest_ddl(o: &DdlOutcome) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(o.tag.as_bytes());
    for n in &o.notices {
        h.write(n.as_bytes());
    }
    h.finish()
}
