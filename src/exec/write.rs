//! The one write path of a session (DESIGN.md §5). An autocommit write is one client request
//! of the consensus core: the core queues it, the writer runs it in the next batch, and the
//! client is answered once its consistency level is met. A write inside a transaction block
//! runs in the block's frame at the writer (its client needs each result at once), and the
//! block's COMMIT is the request. Either way nothing is visible to anyone else, nor answered,
//! before it is durable.

use rusqlite::types::Value;

use super::Submit;
use super::session::{Block, Session, WriteTxn};
use super::work::{self, Done, SessionIn, StmtOut, StmtWork, Work, WorkResult};
use super::writer::{Command, TxnOp};
use crate::cluster::{Consistency, Outcome};
use crate::error::{PgError, PgResult, code};
use crate::log::{Statement, StmtCtx};
use crate::sql::translate::{Prepared, ddl::DdlStatement};
use crate::store::QueryOutput;

/// Commands the core is asked to wait at most this much longer than the session's
/// `bedrock.wait_timeout` before the session gives up on an answer (the core always answers
/// within the wait timeout; this only bounds a stuck driver).
const ANSWER_GRACE_MS: u64 = 30_000;

/// Milliseconds per tick of the consensus core.
pub const TICK_MS: u64 = 10;

impl Session {
    /// The work item for a translated statement.
    pub(super) fn stmt_work(&self, p: &Prepared, params: &[Value], ctx: StmtCtx) -> StmtWork {
        let uses_seq = p.sql.contains("pg_currval") || p.sql.contains("pg_lastval");
        StmtWork {
            generation: self.catalog().generation,
            stmt: Statement {
                sql: p.sql.clone(),
                params: params.to_vec(),
                ctx,
            },
            reads_catalog: p.reads_catalog,
            target: target_table(p),
            session: if uses_seq {
                SessionIn {
                    currval: self.currval.iter().map(|(k, v)| (*k, *v)).collect(),
                    lastval: self.lastval,
                }
            } else {
                SessionIn::default()
            },
            deadline_ms: self.deadline_ms(),
            lock_timeout_ms: self
                .settings
                .get("lock_timeout")
                .and_then(|v| super::settings::parse_duration_ms(&v, 1))
                .unwrap_or(0),
            locking: p.locking.clone(),
        }
    }

    /// A statement that writes (or runs in a block that wrote).
    pub(super) async fn write(
        &mut self,
        p: &Prepared,
        params: &[Value],
        ctx: StmtCtx,
        followed_by_sync: bool,
    ) -> PgResult<QueryOutput> {
        let work = self.stmt_work(p, params, ctx);
        if self.autocommit(followed_by_sync) {
            let (done, _) = self.submit(Work::Stmt(work)).await?;
            return match done {
                Done::Rows(out) => Ok(self.take_session_out(out)),
                _ => Ok(QueryOutput::default()),
            };
        }
        match self.txn_do(TxnOp::Stmt(work)).await? {
            Done::Rows(out) => Ok(self.take_session_out(out)),
            _ => Ok(QueryOutput::default()),
        }
    }

    /// Whether a write commits on its own: outside a block, or as the only statement of an
    /// implicit block that ends right after it.
    fn autocommit(&self, followed_by_sync: bool) -> bool {
        match &self.block {
            Block::Idle => true,
            Block::Open { implicit: true, .. } => followed_by_sync && self.txn.is_none(),
            _ => false,
        }
    }

    fn take_session_out(&mut self, out: StmtOut) -> QueryOutput {
        if !out.session.currval.is_empty() {
            self.currval.extend(out.session.currval.iter().copied());
        }
        if out.session.lastval.is_some() {
            self.lastval = out.session.lastval;
        }
        out.out
    }

    /// DDL: a request of its own in autocommit mode, else part of the block's frame.
    pub(super) async fn run_ddl(
        &mut self,
        stmt: &super::stmt::Stmt,
        ast: &DdlStatement,
        followed_by_sync: bool,
    ) -> PgResult<String> {
        if self.block_read_only() {
            return Err(PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                format!(
                    "cannot execute {} in a read-only transaction",
                    ast.command()
                ),
            ));
        }
        let ctx = self.stmt_ctx();
        let work = work::DdlWork {
            generation: self.catalog().generation,
            text: stmt.text.clone(),
            user: self.env.user.clone(),
            database: self.env.database.clone(),
            pid: self.env.pid,
            ctx,
            deadline_ms: self.deadline_ms(),
        };
        let done = if self.autocommit(followed_by_sync) {
            self.submit(Work::Ddl(work)).await?.0
        } else {
            self.txn_do(TxnOp::Ddl(work)).await?
        };
        match done {
            Done::Ddl { outcome, catalog } => {
                if let Some(t) = self.txn.as_mut() {
                    t.catalog = Some(catalog);
                }
                for n in &outcome.notices {
                    self.notice("NOTICE", "00000", n);
                }
                Ok(outcome.tag)
            }
            _ => Err(PgError::internal("DDL returned no outcome")),
        }
    }

    /// Submit a request to the core and wait for its answer; returns the result and the
    /// commit count it committed at.
    pub(super) async fn submit(&mut self, work: Work) -> PgResult<(Done, u64)> {
        let shared = self.shared.clone();
        let id = shared.ids.next();
        let slot = shared.slots.insert(id, self.cancel.flag());
        // A statement waits for the writer at most its statement_timeout (a COMMIT is not
        // cut short), and for a leader at most bedrock.wait_timeout.
        let statement_ms = match work {
            Work::Commit { .. } => 0,
            _ => self.settings.statement_timeout_ms(),
        };
        let wait_ms = match statement_ms {
            0 => self.wait_timeout_ms(),
            s => s.min(self.wait_timeout_ms()),
        };
        let (reply, rx) = tokio::sync::oneshot::channel();
        shared.core.submit(Submit {
            id,
            consistency: self.consistency(),
            body: work.encode(),
            timeout_ticks: wait_ms.div_ceil(TICK_MS).max(1),
            reply,
        });
        let outcome = match tokio::time::timeout(
            std::time::Duration::from_millis(wait_ms + ANSWER_GRACE_MS),
            rx,
        )
        .await
        {
            Ok(Ok(o)) => o,
            Ok(Err(_)) => Outcome::Unknown,
            Err(_) => Outcome::Unknown,
        };
        let result = slot.take();
        shared.slots.remove(id);
        if statement_ms > 0
            && statement_ms <= self.wait_timeout_ms()
            && matches!(outcome, Outcome::Refused { .. })
        {
            // It never ran: its statement_timeout expired while it waited for the writer.
            return Err(work::statement_timeout());
        }
        if let Some(e) = super::outcome::not_committed(&outcome) {
            return Err(e);
        }
        match (outcome, result) {
            (Outcome::Committed { commit_count, .. }, Some(WorkResult::Done(d))) => {
                self.note_commit(commit_count);
                Ok((d, commit_count))
            }
            (Outcome::Committed { commit_count, .. }, _) => {
                // Answered from the record (no local result): it committed.
                self.note_commit(commit_count);
                Ok((Done::Ok, commit_count))
            }
            (_, Some(WorkResult::Failed(e))) => Err(e),
            (_, Some(WorkResult::Retry(work::Retry::Stale))) => Err(stale()),
            (_, Some(WorkResult::Retry(work::Retry::Locked { blocker }))) => Err(locked(blocker)),
            (Outcome::Failed { result }, _) => Err(work::failure_from_bytes(&result)),
            _ => Err(PgError::internal("the write got no answer")),
        }
    }

    fn consistency(&self) -> Consistency {
        match self
            .settings
            .value("bedrock.consistency")
            .unwrap_or("QUORUM")
            .to_ascii_uppercase()
            .as_str()
        {
            "ASYNC" => Consistency::Async,
            "ONE" => Consistency::One,
            _ => Consistency::Quorum,
        }
    }

    /// A commit of this session's is durable: raise its read fence and tell the client.
    fn note_commit(&mut self, n: u64) {
        self.settings
            .set_internal("bedrock.commit_count", n.to_string());
        self.events.push(super::session::Event::ParameterStatus {
            name: "bedrock.commit_count".into(),
            value: n.to_string(),
        });
    }

    /// The block's transaction at the writer, created at its first write (with the
    /// savepoints declared before it, and the snapshot reads it must still see).
    async fn ensure_txn(&mut self) -> PgResult<super::writer::TxnId> {
        if let Some(t) = &self.txn {
            return Ok(t.id);
        }
        let id = self.shared.next_txn();
        self.txn = Some(WriteTxn { id, catalog: None });
        let flag = self.cancel.flag();
        for (work, digest) in std::mem::take(&mut self.snapshot_reads) {
            self.shared
                .writer
                .txn(id, TxnOp::Check(work, digest), flag.clone())
                .await?;
        }
        for name in std::mem::take(&mut self.early_savepoints) {
            self.shared
                .writer
                .txn(id, TxnOp::Savepoint(name), flag.clone())
                .await?;
        }
        Ok(id)
    }

    /// Run one operation in the block's frame.
    pub(super) async fn txn_do(&mut self, op: TxnOp) -> PgResult<Done> {
        let id = self.ensure_txn().await?;
        self.cancel.arm(None);
        let r = self.shared.writer.txn(id, op, self.cancel.flag()).await;
        if let Ok(Done::Catalog(c)) = &r
            && let Some(t) = self.txn.as_mut()
        {
            t.catalog = Some(c.clone());
        }
        r
    }

    /// Wait until transaction `blocker` ends (its locks are free), within the statement's
    /// deadline and `lock_timeout`.
    pub(super) async fn wait_for(&mut self, blocker: u64, lock_timeout_ms: u64) -> PgResult<()> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self.shared.writer.send(Command::WaitFor {
            blocker,
            deadline_ms: self.deadline_ms(),
            lock_timeout_ms,
            cancel: self.cancel.flag(),
            reply,
        });
        if !sent {
            return Err(PgError::new(
                code::CANNOT_CONNECT_NOW,
                "the writer has stopped",
            ));
        }
        rx.await.unwrap_or_else(|_| {
            Err(PgError::new(
                code::CANNOT_CONNECT_NOW,
                "the writer has stopped",
            ))
        })
    }

    /// `LOCK TABLE`: only in a transaction block; the tables must exist.
    pub(super) async fn lock_tables(
        &mut self,
        l: &crate::sql::statement::LockStmt,
    ) -> PgResult<String> {
        if !matches!(
            self.block,
            Block::Open {
                implicit: false,
                ..
            }
        ) {
            return Err(PgError::new(
                code::NO_ACTIVE_SQL_TRANSACTION,
                "LOCK TABLE can only be used in transaction blocks",
            ));
        }
        let cat = self.catalog();
        for t in &l.tables {
            if cat.table(t).is_none() {
                return Err(PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{t}\" does not exist"),
                ));
            }
        }
        if l.blocks_writers && self.block_read_only() {
            return Err(PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                "cannot execute LOCK TABLE in a read-only transaction",
            ));
        }
        self.txn_do(TxnOp::LockTable(l.clone())).await?;
        Ok("LOCK TABLE".into())
    }

    /// A savepoint operation once the block wrote.
    pub(super) async fn txn_savepoint_op(&mut self, op: TxnOp) -> PgResult<()> {
        self.txn_do(op).await.map(|_| ())
    }

    /// COMMIT of the block: its transaction at the writer (if it wrote) becomes a request.
    pub(super) async fn commit_writes(&mut self) -> PgResult<()> {
        let Some(t) = self.txn.take() else {
            return Ok(());
        };
        match self.submit(Work::Commit { txn: t.id }).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Whatever happened, the writer forgets it (a no-op if it already did).
                self.shared.writer.send(Command::Abort { txn: t.id });
                Err(e)
            }
        }
    }

    /// The block ends without COMMIT: the writer drops its frame.
    pub(super) fn abort_writes(&mut self) {
        if let Some(t) = self.txn.take() {
            self.shared.writer.send(Command::Abort { txn: t.id });
        }
    }
}

/// Message of the error that makes a statement wait for transaction `blocker` and run again
/// (never sent).
const LOCKED: &str = "__bedrock_locked:";

fn locked(blocker: u64) -> PgError {
    PgError::new(code::LOCK_NOT_AVAILABLE, format!("{LOCKED}{blocker}"))
}

/// The transaction an autocommit statement must wait for, if `e` says so.
pub(super) fn blocker_of(e: &PgError) -> Option<u64> {
    e.message.strip_prefix(LOCKED)?.parse().ok()
}

fn stale() -> PgError {
    PgError::new(code::SERIALIZATION_FAILURE, super::session::STALE)
}

/// The table a DML statement targets, for naming constraints in errors.
fn target_table(p: &Prepared) -> Option<String> {
    let s = p.sql.as_str();
    let rest = s
        .strip_prefix("INSERT INTO ")
        .or_else(|| s.strip_prefix("UPDATE "))
        .or_else(|| s.strip_prefix("DELETE FROM "))?;
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].replace("\"\"", "\""))
}
