//! Reads on the session's own read connection (WAL: they never wait for the writer and see
//! only durable commits), the `bedrock.commit_count` read fence, snapshots for REPEATABLE
//! READ / SERIALIZABLE blocks, and turning SQLite's output into a response.

use std::sync::Arc;

use rusqlite::types::Value;

use super::session::{Block, Session};
use super::stmt::{Response, ResultSet};
use crate::error::{PgError, PgResult, code};
use crate::sql::translate::{Prepared, Tag};
use crate::store::{Conn, Progress, QueryOutput};

/// Progress callbacks (every 2,000 VM steps) a read may run on the async thread before it
/// yields to a blocking thread: roughly a millisecond of work.
const INLINE_BUDGET: i64 = 50;

/// Marker message of a read that yielded (never sent to a client).
const YIELDED: &str = "__bedrock_yield";

impl Session {
    /// Run a translated query or DML statement.
    pub(super) async fn run_prepared(
        &mut self,
        p: &Prepared,
        params: &[Value],
        followed_by_sync: bool,
    ) -> PgResult<Response> {
        // Lifted literals are bound after the client's parameters.
        let joined: Vec<Value>;
        let params: &[Value] = if p.consts.is_empty() {
            params
        } else {
            joined = params.iter().chain(p.consts.iter()).cloned().collect();
            &joined
        };
        self.await_fence().await?;
        let mut ctx = self.stmt_ctx();
        if p.sql.contains("pg_txid_current") {
            ctx.txid = self.txid();
        }
        if p.writes || self.txn.is_some() {
            if p.writes && self.block_read_only() {
                let what = match p.tag {
                    Tag::Insert => "INSERT",
                    Tag::Update => "UPDATE",
                    Tag::Delete => "DELETE",
                    _ => "this statement",
                };
                return Err(PgError::new(
                    code::READ_ONLY_SQL_TRANSACTION,
                    format!("cannot execute {what} in a read-only transaction"),
                ));
            }
            let out = self.write(p, params, ctx, followed_by_sync).await?;
            return Ok(self.response(p, out));
        }
        let out = self.read(p, params, ctx).await?;
        Ok(self.response(p, out))
    }

    /// A read on this session's read connection: first on this thread (most reads take
    /// microseconds), again on a blocking thread if it yields as long-running.
    async fn read(
        &mut self,
        p: &Prepared,
        params: &[Value],
        ctx: crate::log::StmtCtx,
    ) -> PgResult<QueryOutput> {
        let mut conn = match self.read_conn.take() {
            Some(c) => c,
            None => self.shared.store.reader().map_err(storage)?,
        };
        // A REPEATABLE READ / SERIALIZABLE block reads from the snapshot of its first read.
        if self.snapshot_isolation()
            && conn.conn.is_autocommit()
            && let Err(e) = conn.conn.execute_batch("BEGIN")
        {
            self.read_conn = Some(conn);
            return Err(storage(e));
        }
        let cat = self.catalog();
        // Catalog queries may first rebuild the emulated catalog: always blocking work.
        let mut inline = !p.reads_catalog;
        loop {
            let progress = conn.progress.clone();
            let (ctx2, cat2) = (ctx.clone(), cat.clone());
            let (back, result) = self
                .guarded(progress, inline, move |s| {
                    let r = (|| {
                        if p.reads_catalog {
                            crate::sql::pg_catalog::prepare_connection(&conn.conn, &cat2)?;
                        }
                        s.load_session_state(&conn, &p.sql);
                        conn.load_ctx(&ctx2);
                        let out = conn
                            .query(&p.sql, params)
                            .map_err(|e| crate::sql::errors::from_sqlite(&e, Some(&cat2), None))?;
                        if p.sql.contains("pg_set_config") {
                            s.save_set_config(&conn)?;
                        }
                        Ok(out)
                    })();
                    Ok((conn, r))
                })
                .await?;
            conn = back;
            let result = result.map_err(|e| self.stopped(e));
            match result {
                Err(e) if inline && e.message == YIELDED => inline = false,
                other => {
                    // Outside a snapshot the connection goes back to the node's pool at once:
                    // a handful of read connections serve any number of sessions, so memory
                    // does not grow with connections.
                    if conn.conn.is_autocommit() {
                        self.shared.store.return_reader(conn, p.reads_catalog);
                    } else {
                        self.read_conn = Some(conn);
                    }
                    let out = other?;
                    if self.snapshot_isolation() && self.txn.is_none() {
                        // Checked again at the writer if this block writes.
                        let work = self.stmt_work(p, params, ctx.clone());
                        self.snapshot_reads
                            .push((work, super::writer::digest_of(&out)));
                    }
                    return Ok(out);
                }
            }
        }
    }

    /// Close the snapshot of a REPEATABLE READ / SERIALIZABLE block.
    pub(super) fn end_snapshot(&mut self) {
        if let Some(c) = self.read_conn.take() {
            // A connection we cannot bring back to autocommit is not reused.
            if c.conn.is_autocommit() || c.conn.execute_batch("COMMIT").is_ok() {
                self.shared.store.return_reader(c, false);
            }
        }
    }

    /// Run SQLite work with cancel and statement_timeout wired to the connection's progress
    /// handler. Blocking work moves off the async runtime with `block_in_place`; `inline`
    /// work runs right here under a small step budget and reports `Progress::YIELD` if it
    /// turns out long, so the caller can rerun it as blocking work.
    async fn guarded<T>(
        &mut self,
        progress: Arc<Progress>,
        inline: bool,
        f: impl FnOnce(&mut Self) -> PgResult<T>,
    ) -> PgResult<T> {
        let deadline = self.deadline_ms();
        progress.start(deadline, if inline { Some(INLINE_BUDGET) } else { None });
        self.cancel.arm(Some(progress.clone()));
        let r = if inline {
            f(self)
        } else {
            tokio::task::block_in_place(|| f(self))
        };
        self.cancel.disarm();
        self.last_stop = progress.reason();
        // A cancel that arrives after the statement finished is ignored, as in PostgreSQL.
        progress.start(0, None);
        r.map_err(|e| self.stopped(e))
    }

    /// The statement's absolute deadline (ms since the epoch) from `statement_timeout`.
    pub(super) fn deadline_ms(&self) -> u64 {
        let timeout_ms = self.settings.statement_timeout_ms();
        if timeout_ms > 0 {
            crate::store::now_micros() as u64 / 1000 + timeout_ms
        } else {
            0
        }
    }

    /// Load session state the SQL functions read into a connection's context.
    fn load_session_state(&self, conn: &Conn, sql: &str) {
        if sql.contains("pg_current_setting")
            || sql.contains("pg_set_config")
            || sql.contains("pg_currval")
            || sql.contains("pg_lastval")
        {
            let fctx = crate::sql::extension::context(conn);
            let mut g = crate::sql::functions::lock(&fctx);
            g.currval = self.currval.clone();
            g.lastval = self.lastval;
            g.settings = self
                .settings
                .all()
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect();
            g.set_config_calls.clear();
        }
    }

    /// Read back the settings `set_config()` changed during a read.
    fn save_set_config(&mut self, conn: &Conn) -> PgResult<()> {
        let fctx = crate::sql::extension::context(conn);
        let calls = std::mem::take(&mut crate::sql::functions::lock(&fctx).set_config_calls);
        if !calls.is_empty() && self.block != Block::Idle {
            self.settings.track_transaction();
        }
        for (name, value, local) in calls {
            if let Some(changed) = self.settings.set(&name, &value, local)? {
                self.parameter_status(&changed);
            }
        }
        Ok(())
    }

    /// Honour the session's read fence: wait until the node has applied `bedrock.commit_count`.
    pub(super) async fn await_fence(&mut self) -> PgResult<()> {
        let fence: u64 = self
            .settings
            .value("bedrock.commit_count")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if fence <= self.shared.published.commit_count() {
            return Ok(());
        }
        let wait_ms = self.wait_timeout_ms();
        let published = self.shared.published.clone();
        let cancel = self.cancel.clone();
        cancel.arm(None);
        let r = tokio::select! {
            r = published.wait_for_commit(fence, std::time::Duration::from_millis(wait_ms)) => r,
            _ = cancel.notify.notified() => return Err(self.cancel.error()),
        };
        match r {
            Ok(_) => Ok(()),
            Err(at) => Err(PgError::new(
                code::QUERY_CANCELED,
                format!("canceling statement: waited {wait_ms}ms for this node to apply commit {fence} (bedrock.commit_count), but it has applied {at}"),
            )
            .with_hint("Lower bedrock.commit_count, raise bedrock.wait_timeout, or connect to a node that is caught up.")),
        }
    }

    /// `bedrock.wait_timeout` in milliseconds.
    pub(super) fn wait_timeout_ms(&self) -> u64 {
        self.settings
            .get("bedrock.wait_timeout")
            .and_then(|v| super::settings::parse_duration_ms(&v, 1000))
            .unwrap_or(10_000)
    }

    /// Turn SQLite's interruption into the reason the statement was stopped.
    fn stopped(&self, e: PgError) -> PgError {
        if e.code != code::QUERY_CANCELED {
            return e;
        }
        match self.last_stop {
            Progress::YIELD => PgError::new(code::QUERY_CANCELED, YIELDED),
            Progress::TIMEOUT => super::work::statement_timeout(),
            _ => self.cancel.error(),
        }
    }

    /// The response to a translated statement, from what SQLite returned.
    pub(super) fn response(&self, p: &Prepared, out: QueryOutput) -> Response {
        let n = if p.columns.is_empty() || p.tag != Tag::Select {
            out.changes
        } else {
            out.rows.len() as u64
        };
        let rows_or = |n: u64| {
            if p.columns.is_empty() {
                n
            } else {
                out.rows.len() as u64
            }
        };
        let tag = match &p.tag {
            Tag::Select => format!("SELECT {}", out.rows.len()),
            Tag::Insert => format!("INSERT 0 {}", rows_or(n)),
            Tag::Update => format!("UPDATE {}", rows_or(n)),
            Tag::Delete => format!("DELETE {}", rows_or(n)),
            Tag::Fixed(t) => t.clone(),
        };
        if p.columns.is_empty() {
            return Response::Done(tag);
        }
        let rows = if matches!(&p.tag, Tag::Fixed(t) if t == "EXPLAIN") {
            // EXPLAIN QUERY PLAN rows: (id, parent, notused, detail) -> detail text.
            out.rows
                .into_iter()
                .map(|r| vec![r.get(3).cloned().unwrap_or(Value::Null)])
                .collect()
        } else {
            out.rows
        };
        Response::Rows(ResultSet {
            cols: p.columns.clone(),
            rows,
            tag,
            sent: 0,
        })
    }
}

pub(super) fn storage(e: rusqlite::Error) -> PgError {
    PgError::new(code::IO_ERROR, format!("storage error: {e}"))
}
