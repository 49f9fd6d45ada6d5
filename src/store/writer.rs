//! The single write connection. Every statement it runs that changes the database goes into
//! the body of the open transaction, tracked through savepoints (a rolled-back savepoint drops
//! its statements), and a transaction only ever commits together with its journal row — whose
//! body must be exactly those statements. So nothing can change the database without being
//! journaled, whatever the layers above believe a statement does.

use rusqlite::params;
use rusqlite::types::Value;

use super::{Conn, QueryOutput, journal, run};
use crate::log::{Body, Entry, Envelope, LogPos, RequestRecord, SeqRun, Statement, StmtCtx, chain};

/// A savepoint of the open transaction and how much of the body it covers.
struct Mark {
    name: String,
    body_len: usize,
}

/// The write connection and the transaction open on it.
pub struct WriteConn {
    conn: Conn,
    /// The durable tip of the journal.
    tip: LogPos,
    /// A SQLite transaction is open (BEGIN IMMEDIATE).
    open: bool,
    /// Statements that changed the database since BEGIN, in order: the body so far.
    body: Vec<Statement>,
    marks: Vec<Mark>,
    max_journal: u64,
    /// Sequence values the last statement handed out.
    drawn: Vec<SeqRun>,
}

/// Commits kept in the request-id index beyond the journal window, at least: a re-escalated
/// request is answered from it long after its journal row is trimmed.
const REQUEST_INDEX_MIN: u64 = 1_000_000;

/// How often (in commits) the request-id index is trimmed.
const REQUEST_INDEX_TRIM: u64 = 100_000;

impl WriteConn {
    pub(super) fn new(conn: Conn, tip: LogPos, max_journal: u64) -> WriteConn {
        WriteConn {
            conn,
            tip,
            open: false,
            body: Vec::new(),
            marks: Vec::new(),
            max_journal,
            drawn: Vec::new(),
        }
    }

    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    /// Watch the rows statements change (the writer's lock manager).
    pub fn update_hook<F>(&mut self, hook: F) -> rusqlite::Result<()>
    where
        F: FnMut(rusqlite::hooks::Action, &str, &str, i64) + Send + 'static,
    {
        self.conn.conn.update_hook(Some(hook))
    }

    /// The durable tip of the journal.
    pub fn tip(&self) -> LogPos {
        self.tip
    }

    pub fn in_transaction(&self) -> bool {
        self.open
    }

    /// Open the write transaction (takes SQLite's write lock at once). A leftover SQLite
    /// transaction (a ROLLBACK that failed earlier) is rolled back first; if that fails the
    /// writer refuses to nest new work in a transaction nobody owns.
    pub fn begin(&mut self) -> rusqlite::Result<()> {
        if self.open {
            return Ok(());
        }
        if !self.conn.conn.is_autocommit() {
            self.conn.conn.execute_batch("ROLLBACK")?;
        }
        self.conn
            .conn
            .prepare_cached("BEGIN IMMEDIATE")?
            .execute([])?;
        self.open = true;
        self.body.clear();
        self.marks.clear();
        Ok(())
    }

    /// Run a statement in the open transaction (opening one if needed). If it changed the
    /// database it joins the body, with its inputs completed by what it drew while it ran
    /// (the sequence values it handed out, also in [`WriteConn::drawn`]), so executing it
    /// again anywhere gives the same result.
    pub fn exec(
        &mut self,
        sql: &str,
        params: &[Value],
        ctx: &StmtCtx,
    ) -> rusqlite::Result<QueryOutput> {
        self.begin()?;
        self.conn.load_ctx(ctx);
        let r = run(&self.conn.conn, sql, params, false);
        let mut done = ctx.clone();
        self.conn.state().after_run(&mut done);
        self.drawn = std::mem::take(&mut done.seq);
        self.after_error_check();
        let (out, wrote) = r?;
        if wrote {
            done.seq = self.drawn.clone();
            self.body.push(Statement {
                sql: sql.to_string(),
                params: params.to_vec(),
                ctx: done,
            });
        }
        Ok(out)
    }

    /// The sequence values the last statement handed out.
    pub fn drawn(&self) -> &[SeqRun] {
        &self.drawn
    }

    /// Apply statements recorded elsewhere (a replayed body) in the open transaction.
    pub fn apply(&mut self, body: &Body) -> rusqlite::Result<()> {
        for s in &body.statements {
            self.conn.state().before_apply(&self.conn.conn, &s.sql)?;
            self.exec(&s.sql, &s.params, &s.ctx)?;
        }
        Ok(())
    }

    /// After an error SQLite may have rolled back the whole transaction by itself (an
    /// interrupt, SQLITE_FULL, …); then our view of it must be reset too.
    fn after_error_check(&mut self) {
        if self.open && self.conn.conn.is_autocommit() {
            self.open = false;
            self.body.clear();
            self.marks.clear();
        }
    }

    /// Whether the transaction was lost (rolled back by SQLite itself) since `begin`.
    pub fn transaction_lost(&self) -> bool {
        !self.open
    }

    pub fn savepoint(&mut self, name: &str) -> rusqlite::Result<()> {
        self.begin()?;
        self.conn
            .conn
            .prepare_cached(&format!("SAVEPOINT {}", super::quote_ident(name)))?
            .execute([])?;
        self.marks.push(Mark {
            name: name.to_string(),
            body_len: self.body.len(),
        });
        Ok(())
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.marks.iter().rposition(|m| m.name == name)
    }

    pub fn has_savepoint(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Keep what was done since the savepoint and forget the savepoint (and those after it).
    pub fn release(&mut self, name: &str) -> rusqlite::Result<()> {
        let Some(i) = self.find(name) else {
            return Err(no_savepoint(name));
        };
        self.conn
            .conn
            .prepare_cached(&format!("RELEASE SAVEPOINT {}", super::quote_ident(name)))?
            .execute([])?;
        self.marks.truncate(i);
        Ok(())
    }

    /// Undo everything after the savepoint; the savepoint itself stays, as in PostgreSQL.
    pub fn rollback_to(&mut self, name: &str) -> rusqlite::Result<()> {
        let Some(i) = self.find(name) else {
            return Err(no_savepoint(name));
        };
        self.conn
            .conn
            .prepare_cached(&format!(
                "ROLLBACK TO SAVEPOINT {}",
                super::quote_ident(name)
            ))?
            .execute([])?;
        self.marks.truncate(i + 1);
        self.body.truncate(self.marks[i].body_len);
        Ok(())
    }

    /// Undo the savepoint and everything after it, and forget it.
    pub fn discard(&mut self, name: &str) -> rusqlite::Result<()> {
        self.rollback_to(name)?;
        self.release(name)
    }

    /// Number of statements in the body so far.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// The body so far, encoded (what the commit's envelope must carry).
    pub fn body(&self) -> Vec<u8> {
        if self.body.is_empty() {
            return Vec::new();
        }
        Body {
            statements: self.body.clone(),
        }
        .encode()
    }

    /// Roll back the open transaction, if any.
    pub fn rollback(&mut self) -> rusqlite::Result<()> {
        self.open = false;
        self.body.clear();
        self.marks.clear();
        if !self.conn.conn.is_autocommit() {
            self.conn.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    /// Commit the open transaction as journal entry `entry`: its body must be exactly what
    /// this transaction changed. The journal row, the request-id index and the data commit
    /// together (one fsync with `synchronous=full`).
    pub fn commit(&mut self, entry: &Entry) -> Result<(), String> {
        let envelope =
            Envelope::decode(&entry.payload).map_err(|e| format!("commit {}: {e}", entry.count))?;
        if envelope.body != self.body() {
            return Err(format!(
                "commit {}: the entry's body is not what the transaction did",
                entry.count
            ));
        }
        self.commit_envelope(entry, &envelope.requests)
    }

    /// Execute an entry received from elsewhere (a follower applying the leader's commit, a
    /// new leader's no-op) and commit it, in one transaction.
    pub fn apply_entry(&mut self, entry: &Entry) -> Result<(), String> {
        let envelope =
            Envelope::decode(&entry.payload).map_err(|e| format!("commit {}: {e}", entry.count))?;
        let body = Body::decode(&envelope.body)
            .map_err(|e| format!("commit {}: body: {e}", entry.count))?;
        let r = self
            .rollback()
            .and_then(|_| self.begin())
            .and_then(|_| self.apply(&body));
        if let Err(e) = r {
            let _ = self.rollback();
            return Err(format!("commit {}: {e}", entry.count));
        }
        self.commit_envelope(entry, &envelope.requests)
    }

    fn commit_envelope(&mut self, entry: &Entry, records: &[RequestRecord]) -> Result<(), String> {
        let r = self.write_journal(entry, records);
        if let Err(e) = r {
            if let Err(r) = self.rollback() {
                tracing::error!("writer: ROLLBACK after a failed commit failed too: {r}");
            }
            return Err(format!("commit {}: {e}", entry.count));
        }
        self.open = false;
        self.body.clear();
        self.marks.clear();
        self.tip = entry.pos();
        Ok(())
    }

    fn write_journal(&mut self, entry: &Entry, records: &[RequestRecord]) -> Result<(), String> {
        if entry.count != self.tip.count + 1 {
            return Err(format!(
                "does not follow the journal's tip {}",
                self.tip.count
            ));
        }
        if chain(&self.tip.hash, &entry.payload) != entry.hash {
            return Err("its hash does not chain onto the journal".into());
        }
        self.begin().map_err(|e| e.to_string())?;
        let c = &self.conn.conn;
        let n = entry.count as i64;
        c.prepare_cached(
            "INSERT INTO __bedrock_journal(commit_count, term, hash, payload) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![n, entry.term as i64, &entry.hash[..], &entry.payload]))
        .map_err(|e| e.to_string())?;
        for r in records {
            c.prepare_cached(
                "INSERT OR REPLACE INTO __bedrock_requests(id, commit_count, result) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![&r.id.0.to_be_bytes()[..], n, &r.result]))
            .map_err(|e| e.to_string())?;
        }
        if entry.count > self.max_journal {
            journal::trim(c, entry.count - self.max_journal, 16).map_err(|e| e.to_string())?;
        }
        // The index has no second index on commit_count (one page less to write per
        // commit): it is trimmed by a scan, once every REQUEST_INDEX_TRIM commits.
        let keep = self.max_journal.saturating_mul(2).max(REQUEST_INDEX_MIN);
        if entry.count > keep && entry.count.is_multiple_of(REQUEST_INDEX_TRIM) {
            c.execute(
                "DELETE FROM __bedrock_requests WHERE commit_count <= ?1",
                params![(entry.count - keep) as i64],
            )
            .map_err(|e| e.to_string())?;
        }
        c.prepare_cached("COMMIT")
            .and_then(|mut st| st.execute([]))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Make the election state durable (`__bedrock_meta`), outside any client transaction:
    /// an open transaction is rolled back first (the core asks for this only when no batch of
    /// its is open, or when its leadership, and so that batch, has ended).
    pub fn persist_hard_state(&mut self, term: u64, vote: Option<&str>) -> rusqlite::Result<()> {
        self.rollback()?;
        let c = &self.conn.conn;
        c.execute_batch("BEGIN IMMEDIATE")?;
        let r = c
            .execute(
                "INSERT OR REPLACE INTO __bedrock_meta(key, value) VALUES ('term', ?1)",
                params![term as i64],
            )
            .and_then(|_| {
                c.execute(
                    "INSERT OR REPLACE INTO __bedrock_meta(key, value) VALUES ('vote', ?1)",
                    params![vote.unwrap_or("")],
                )
            })
            .and_then(|_| c.execute_batch("COMMIT"));
        if r.is_err() {
            let _ = c.execute_batch("ROLLBACK");
        }
        r.map(|_| ())
    }
}

fn no_savepoint(name: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(format!("no such savepoint: {name}")),
    )
}
