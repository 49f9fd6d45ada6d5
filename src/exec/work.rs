//! Work for the writer: what a client request asks the leader to execute (the opaque body the
//! consensus core carries for it), what an interactive transaction asks of its frame, and what
//! comes back. Request bodies have an explicit byte encoding: the core hands them back to be
//! executed, and a follower will one day send them to its leader.

use std::collections::HashMap;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};

use rusqlite::types::Value;

use crate::error::{PgError, PgResult, code};
use crate::log::body::{decode_statement, decode_values, encode_statement, encode_values};
use crate::log::codec::{Reader, Writer};
use crate::log::{DecodeError, RequestId, Statement, StmtCtx};
use crate::sql::catalog::Catalog;
use crate::sql::translate::ddl::DdlOutcome;
use crate::sql::translate::{LockWait, Locking};
use crate::store::QueryOutput;

/// Session state a statement's SQL functions read (`currval`, `lastval`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionIn {
    pub currval: Vec<(u32, i64)>,
    pub lastval: Option<i64>,
}

/// Session state a statement changed: sequence values for `currval` / `lastval`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionOut {
    pub currval: Vec<(u32, i64)>,
    pub lastval: Option<i64>,
}

/// One translated statement (DML, or a SELECT that must run on the writer).
#[derive(Debug, Clone, PartialEq)]
pub struct StmtWork {
    /// Catalog generation the statement was translated against: if the writer's catalog
    /// moved meanwhile it is refused as stale and translated again.
    pub generation: u64,
    pub stmt: Statement,
    /// Materialise the emulated system catalogs first.
    pub reads_catalog: bool,
    /// The table a DML statement targets, for naming constraints in errors.
    pub target: Option<String>,
    pub session: SessionIn,
    /// Absolute deadline (ms since the epoch, 0 = none): `statement_timeout`.
    pub deadline_ms: u64,
    /// `lock_timeout` (ms, 0 = none): longest wait for a row another transaction holds.
    pub lock_timeout_ms: u64,
    /// The row locks of a `SELECT … FOR UPDATE / FOR SHARE`.
    pub locking: Option<Locking>,
}

/// A DDL statement, as PostgreSQL text: the writer translates and runs it against the catalog
/// of the transaction it joins.
#[derive(Debug, Clone, PartialEq)]
pub struct DdlWork {
    pub generation: u64,
    pub text: String,
    pub user: String,
    pub database: String,
    pub pid: i32,
    pub ctx: StmtCtx,
    pub deadline_ms: u64,
}

/// What one client request asks the leader to execute.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// An autocommit statement.
    Stmt(StmtWork),
    /// An autocommit DDL statement.
    Ddl(DdlWork),
    /// Several statements that commit or fail together (COPY's staging steps).
    Script(Vec<StmtWork>),
    /// COMMIT of an interactive transaction whose statements the writer already holds.
    Commit { txn: u64 },
}

const STMT: u8 = 1;
const DDL: u8 = 2;
const SCRIPT: u8 = 3;
const COMMIT: u8 = 4;

fn put_stmt(w: &mut Writer, s: &StmtWork) {
    w.u64(s.generation);
    encode_statement(w, &s.stmt);
    w.bool(s.reads_catalog);
    w.bytes(s.target.as_deref().unwrap_or("").as_bytes());
    w.u32(s.session.currval.len() as u32);
    for (oid, v) in &s.session.currval {
        w.u32(*oid);
        w.i64(*v);
    }
    encode_values(w, &[s.session.lastval.map_or(Value::Null, Value::Integer)]);
    w.u64(s.deadline_ms);
    w.u64(s.lock_timeout_ms);
    match &s.locking {
        None => w.u8(0),
        Some(l) => {
            w.u8(match l.wait {
                LockWait::Block => 1,
                LockWait::Nowait => 2,
                LockWait::SkipLocked => 3,
            });
            w.bool(l.exclusive);
            w.u32(l.targets.len() as u32);
            for (t, c) in &l.targets {
                w.bytes(t.as_bytes());
                w.u32(*c as u32);
            }
        }
    }
}

fn get_stmt(r: &mut Reader) -> Result<StmtWork, DecodeError> {
    let generation = r.u64()?;
    let stmt = decode_statement(r)?;
    let reads_catalog = r.bool()?;
    let target = r.string()?;
    let n = r.len_prefix(12)?;
    let mut currval = Vec::with_capacity(n);
    for _ in 0..n {
        currval.push((r.u32()?, r.i64()?));
    }
    let lastval = match decode_values(r)?.first() {
        Some(Value::Integer(v)) => Some(*v),
        _ => None,
    };
    let deadline_ms = r.u64()?;
    let lock_timeout_ms = r.u64()?;
    let locking = match r.u8()? {
        0 => None,
        w @ 1..=3 => {
            let exclusive = r.bool()?;
            let n = r.len_prefix(8)?;
            let mut targets = Vec::with_capacity(n);
            for _ in 0..n {
                targets.push((r.string()?, r.u32()? as usize));
            }
            Some(Locking {
                targets,
                exclusive,
                wait: match w {
                    1 => LockWait::Block,
                    2 => LockWait::Nowait,
                    _ => LockWait::SkipLocked,
                },
            })
        }
        t => return Err(DecodeError::BadTag(t)),
    };
    Ok(StmtWork {
        generation,
        stmt,
        reads_catalog,
        target: (!target.is_empty()).then_some(target),
        session: SessionIn { currval, lastval },
        deadline_ms,
        lock_timeout_ms,
        locking,
    })
}

impl Work {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Work::Stmt(s) => {
                w.u8(STMT);
                put_stmt(&mut w, s);
            }
            Work::Ddl(d) => {
                w.u8(DDL);
                w.u64(d.generation);
                w.bytes(d.text.as_bytes());
                w.bytes(d.user.as_bytes());
                w.bytes(d.database.as_bytes());
                w.u32(d.pid as u32);
                encode_statement(
                    &mut w,
                    &Statement {
                        sql: String::new(),
                        params: Vec::new(),
                        ctx: d.ctx.clone(),
                    },
                );
                w.u64(d.deadline_ms);
            }
            Work::Script(list) => {
                w.u8(SCRIPT);
                w.u32(list.len() as u32);
                for s in list {
                    put_stmt(&mut w, s);
                }
            }
            Work::Commit { txn } => {
                w.u8(COMMIT);
                w.u64(*txn);
            }
        }
        w.finish()
    }

    pub fn decode(buf: &[u8]) -> Result<Work, DecodeError> {
        let mut r = Reader::new(buf);
        let work = match r.u8()? {
            STMT => Work::Stmt(get_stmt(&mut r)?),
            DDL => {
                let generation = r.u64()?;
                let text = r.string()?;
                let user = r.string()?;
                let database = r.string()?;
                let pid = r.u32()? as i32;
                let ctx = decode_statement(&mut r)?.ctx;
                Work::Ddl(DdlWork {
                    generation,
                    text,
                    user,
                    database,
                    pid,
                    ctx,
                    deadline_ms: r.u64()?,
                })
            }
            SCRIPT => {
                let n = r.len_prefix(8)?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push(get_stmt(&mut r)?);
                }
                Work::Script(list)
            }
            COMMIT => Work::Commit { txn: r.u64()? },
            t => return Err(DecodeError::BadTag(t)),
        };
        r.end()?;
        Ok(work)
    }
}

/// What executing a statement produced.
#[derive(Debug, Clone, Default)]
pub struct StmtOut {
    pub out: QueryOutput,
    pub session: SessionOut,
}

/// What executing a request produced, as the session that submitted it needs it.
#[derive(Debug, Clone)]
pub enum Done {
    Rows(StmtOut),
    Ddl {
        outcome: DdlOutcome,
        catalog: Arc<Catalog>,
    },
    /// A script, a transaction's COMMIT, a savepoint.
    Ok,
    /// ROLLBACK TO SAVEPOINT: the catalog the transaction sees again.
    Catalog(Arc<Catalog>),
}

/// Why the writer did not run a request, for the session to act on before trying again.
#[derive(Debug, Clone)]
pub enum Retry {
    /// Translated against a catalog that has changed since: translate again.
    Stale,
    /// It needs a row that interactive transaction `blocker` holds: wait for it to end
    /// (`Command::WaitFor`), then submit again.
    Locked { blocker: u64 },
}

/// The full result of one request, handed to the session that submitted it.
#[derive(Debug, Clone)]
pub enum WorkResult {
    Done(Done),
    Failed(PgError),
    Retry(Retry),
}

/// What the core records for a request (its command tag; a re-escalated request is answered
/// from it) or carries back for a failure (SQLSTATE and message).
pub fn record_of(tag: &str) -> Vec<u8> {
    tag.as_bytes().to_vec()
}

pub fn failure_bytes(e: &PgError) -> Vec<u8> {
    format!("{}\u{0}{}", e.code, e.message).into_bytes()
}

/// Turn a failure carried by the core back into an error (when no local result exists).
pub fn failure_from_bytes(b: &[u8]) -> PgError {
    let s = String::from_utf8_lossy(b);
    match s.split_once('\u{0}') {
        Some((c, m)) => {
            PgError::from_udf_message(&format!("{c}{}{m}", crate::error::UDF_ERROR_SEPARATOR))
                .unwrap_or_else(|| PgError::new(code::INTERNAL_ERROR, m.to_string()))
        }
        None => PgError::new(code::INTERNAL_ERROR, "the request failed"),
    }
}

/// A request submitted on this node: where the writer leaves its full result and how the
/// session stops it.
#[derive(Debug, Default)]
pub struct Slot {
    pub cancel: Arc<AtomicU8>,
    result: Mutex<Option<WorkResult>>,
}

impl Slot {
    pub fn set(&self, r: WorkResult) {
        *self.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    }

    pub fn take(&self) -> Option<WorkResult> {
        self.result.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Requests submitted on this node, by id, until their sessions collect the result.
#[derive(Debug, Default)]
pub struct Slots {
    map: Mutex<HashMap<RequestId, Arc<Slot>>>,
}

impl Slots {
    pub fn insert(&self, id: RequestId, cancel: Arc<AtomicU8>) -> Arc<Slot> {
        let s = Arc::new(Slot {
            cancel,
            result: Mutex::new(None),
        });
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, s.clone());
        s
    }

    pub fn get(&self, id: RequestId) -> Option<Arc<Slot>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    pub fn remove(&self, id: RequestId) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }
}

/// Check a request's deadline and cancel flag before running it.
pub fn check_stop(deadline_ms: u64, cancel: &AtomicU8) -> PgResult<()> {
    match cancel.load(std::sync::atomic::Ordering::SeqCst) {
        1 => {
            return Err(PgError::new(
                code::QUERY_CANCELED,
                "canceling statement due to user request",
            ));
        }
        2 => return Err(statement_timeout()),
        _ => {}
    }
    if deadline_ms != 0 && crate::store::now_micros() as u64 / 1000 >= deadline_ms {
        return Err(statement_timeout());
    }
    Ok(())
}

pub fn statement_timeout() -> PgError {
    PgError::new(
        code::QUERY_CANCELED,
        "canceling statement due to statement timeout",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip() {
        let s = StmtWork {
            generation: 7,
            stmt: Statement {
                sql: "UPDATE t SET a = ?1".into(),
                params: vec![Value::Integer(3)],
                ctx: StmtCtx::default(),
            },
            reads_catalog: false,
            target: Some("t".into()),
            session: SessionIn {
                currval: vec![(16400, 9)],
                lastval: Some(9),
            },
            deadline_ms: 5,
            lock_timeout_ms: 100,
            locking: Some(Locking {
                targets: vec![("t".into(), 3)],
                exclusive: true,
                wait: LockWait::SkipLocked,
            }),
        };
        for w in [
            Work::Stmt(s.clone()),
            Work::Script(vec![s.clone(), s]),
            Work::Commit { txn: 42 },
            Work::Ddl(DdlWork {
                generation: 1,
                text: "CREATE TABLE x (a int)".into(),
                user: "postgres".into(),
                database: "postgres".into(),
                pid: 1000,
                ctx: StmtCtx::default(),
                deadline_ms: 0,
            }),
        ] {
            let b = w.encode();
            assert_eq!(Work::decode(&b), Ok(w));
            for cut in 0..b.len() {
                assert!(Work::decode(&b[..cut]).is_err());
            }
        }
    }
}
