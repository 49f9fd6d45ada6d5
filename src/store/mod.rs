//! SQLite storage: one writer connection through which every write goes, a pool of read
//! connections (WAL mode, so reads never wait for the writer), and the journal: every committed
//! write transaction appends its payload and hash to `__bedrock_journal` in the same SQLite
//! transaction as the data it describes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::config::Synchronous;
use crate::error::{PgError, PgResult, code};
use crate::log::{Body, Envelope, Statement, StmtCtx, chain};
use crate::sql::catalog::{Catalog, INTERNAL_SCHEMA};
use crate::sql::functions::{self, ExecContext};

/// Why a running statement must stop; SQLite's progress handler checks it every few thousand
/// VM steps, so cancel, statement_timeout and "yield to a blocking thread" need no timer task
/// and work even when every runtime thread is busy.
#[derive(Debug, Default)]
pub struct Progress {
    stop: std::sync::atomic::AtomicU8,
    deadline_ms: AtomicU64,
    budget: std::sync::atomic::AtomicI64,
}

impl Progress {
    pub const RUN: u8 = 0;
    pub const CANCEL: u8 = 1;
    pub const TIMEOUT: u8 = 2;
    pub const YIELD: u8 = 3;

    /// Arm for one statement: an absolute deadline (ms since the epoch, 0 = none) and a
    /// budget of progress callbacks before yielding (None = unlimited).
    pub fn start(&self, deadline_ms: u64, budget: Option<i64>) {
        self.stop.store(Self::RUN, Ordering::SeqCst);
        self.deadline_ms.store(deadline_ms, Ordering::SeqCst);
        self.budget.store(budget.unwrap_or(-1), Ordering::SeqCst);
    }

    pub fn request(&self, why: u8) {
        self.stop.store(why, Ordering::SeqCst);
    }

    pub fn reason(&self) -> u8 {
        self.stop.load(Ordering::SeqCst)
    }

    fn should_stop(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) != Self::RUN {
            return true;
        }
        let d = self.deadline_ms.load(Ordering::Relaxed);
        if d != 0 && now_micros() as u64 / 1000 >= d {
            self.stop.store(Self::TIMEOUT, Ordering::SeqCst);
            return true;
        }
        let b = self.budget.load(Ordering::Relaxed);
        if b == 0 {
            self.stop.store(Self::YIELD, Ordering::SeqCst);
            return true;
        }
        if b > 0 {
            self.budget.store(b - 1, Ordering::Relaxed);
        }
        false
    }
}

/// A SQLite connection with our functions registered and its execution context.
pub struct Conn {
    pub conn: Connection,
    pub ctx: functions::Shared,
    pub progress: Arc<Progress>,
}

impl Conn {
    fn open(path: &Path, sync: Synchronous, read_only: bool) -> rusqlite::Result<Conn> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", sync.pragma())?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // PostgreSQL's LIKE is case-sensitive.
        conn.pragma_update(None, "case_sensitive_like", "ON")?;
        conn.pragma_update(None, "recursive_triggers", "ON")?;
        // Map the file so page reads are memory reads, and give each connection a larger cache.
        conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
        conn.pragma_update(None, "cache_size", -32_000)?;
        if read_only {
            conn.pragma_update(None, "query_only", "ON")?;
        }
        conn.set_prepared_statement_cache_capacity(256);
        let ctx: functions::Shared = Arc::new(Mutex::new(ExecContext::default()));
        functions::register(&conn, ctx.clone())?;
        let progress = Arc::new(Progress::default());
        progress.start(0, None);
        let p = progress.clone();
        conn.progress_handler(2000, Some(move || p.should_stop()))?;
        Ok(Conn {
            conn,
            ctx,
            progress,
        })
    }

    /// Load a statement's replicated inputs into the connection before running it.
    pub fn load_ctx(&self, c: &StmtCtx) {
        functions::lock(&self.ctx).load(c);
    }
}

/// A column of a result as SQLite describes it.
#[derive(Debug, Clone)]
pub struct OutColumn {
    pub name: String,
    /// Table and column the value comes straight from, when it does.
    pub origin: Option<(String, String)>,
}

/// Rows and counts of one executed statement.
#[derive(Debug, Clone, Default)]
pub struct QueryOutput {
    pub columns: Vec<OutColumn>,
    pub rows: Vec<Vec<Value>>,
    /// Rows changed by an INSERT / UPDATE / DELETE.
    pub changes: u64,
}

/// Run one statement and collect its result.
pub fn run(conn: &Connection, sql: &str, params: &[Value]) -> rusqlite::Result<QueryOutput> {
    let mut stmt = conn.prepare_cached(sql)?;
    let columns: Vec<OutColumn> = stmt
        .columns_with_metadata()
        .map(|c| OutColumn {
            name: c.name().to_string(),
            origin: match (c.table_name(), c.origin_name()) {
                (Some(t), Some(o)) => Some((t.to_string(), o.to_string())),
                _ => None,
            },
        })
        .collect();
    // A parameter the statement never mentions (a client's unused `$n`) is not bound.
    let count = stmt.parameter_count();
    for (i, p) in params.iter().enumerate().take(count) {
        stmt.raw_bind_parameter(i + 1, p)?;
    }
    let ncols = columns.len();
    let mut out = QueryOutput {
        columns,
        rows: Vec::new(),
        changes: 0,
    };
    let before = conn.total_changes();
    {
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            let mut r = Vec::with_capacity(ncols);
            for i in 0..ncols {
                r.push(owned(row.get_ref(i)?));
            }
            out.rows.push(r);
        }
    }
    if !stmt.readonly() && conn.total_changes() != before {
        // Rows this statement changed itself: not foreign-key cascades, not the sequence
        // updates nextval() makes (total_changes would count those too).
        out.changes = conn.changes();
    }
    Ok(out)
}

/// An owned copy of a SQLite value (invalid UTF-8 in text is replaced, never a panic).
pub fn owned(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null => Value::Null,
        R::Integer(i) => Value::Integer(i),
        R::Real(f) => Value::Real(f),
        R::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        R::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// The head of the commit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub commit_count: u64,
    pub hash: [u8; 32],
    pub term: u64,
}

fn read_head(conn: &Connection) -> rusqlite::Result<Head> {
    let row: Option<(i64, i64, Vec<u8>)> = conn
        .query_row(
            "SELECT commit_count, term, hash FROM __bedrock_journal ORDER BY commit_count DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => Head {
            commit_count: 0,
            hash: [0; 32],
            term: 0,
        },
        Some((n, term, h)) => {
            // A hash of the wrong length is a damaged journal, never the empty hash.
            let hash: [u8; 32] = h.as_slice().try_into().map_err(|_| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Blob,
                    format!("journal commit {n}: hash is {} bytes, not 32", h.len()).into(),
                )
            })?;
            Head {
                commit_count: n as u64,
                hash,
                term: term as u64,
            }
        }
    })
}

/// State shared by the writer and everyone reading.
pub struct Shared {
    catalog: RwLock<Arc<Catalog>>,
    commit_count: AtomicU64,
    /// Wakes readers waiting for a commit count (`bedrock.commit_count` fences).
    commits: tokio::sync::watch::Sender<u64>,
}

/// Options the store is opened with.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    pub max_journal_size: u64,
    pub clean: bool,
}

/// The node's database.
pub struct Store {
    cfg: StoreConfig,
    shared: Arc<Shared>,
    writer: Arc<tokio::sync::Mutex<Writer>>,
    readers: Mutex<Vec<Conn>>,
}

fn sqlite_err(e: rusqlite::Error) -> PgError {
    PgError::new(code::IO_ERROR, format!("storage error: {e}"))
}

impl Store {
    /// Open (or create) the database file. Errors are one line for the command line.
    pub fn open(cfg: StoreConfig) -> Result<Arc<Store>, String> {
        if cfg.clean {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = cfg.path.clone().into_os_string();
                p.push(suffix);
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(format!(
                            "-clean: cannot remove {}: {e}",
                            PathBuf::from(p).display()
                        ));
                    }
                }
            }
        }
        let what = |e: rusqlite::Error| format!("-db {}: {e}", cfg.path.display());
        let conn = Conn::open(&cfg.path, cfg.synchronous, false).map_err(what)?;
        conn.conn.execute_batch(INTERNAL_SCHEMA).map_err(what)?;
        let cluster_id: Option<String> = conn
            .conn
            .query_row(
                "SELECT value FROM __bedrock_meta WHERE key = 'cluster_id'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(what)?;
        if cluster_id.is_none() {
            let id = format!(
                "{:016x}",
                functions::lock(&conn.ctx).next_u64()
                    ^ std::process::id() as u64
                    ^ now_micros() as u64
            );
            conn.conn
                .execute(
                    "INSERT INTO __bedrock_meta(key, value) VALUES ('cluster_id', ?1)",
                    params![id],
                )
                .map_err(what)?;
        }
        let head = read_head(&conn.conn).map_err(what)?;
        let catalog = Catalog::load(&conn.conn)
            .map_err(|e| format!("-db {}: {}", cfg.path.display(), e.message))?;
        let catalog = Arc::new(catalog);
        let shared = Arc::new(Shared {
            catalog: RwLock::new(catalog.clone()),
            commit_count: AtomicU64::new(head.commit_count),
            commits: tokio::sync::watch::channel(head.commit_count).0,
        });
        let writer = Writer {
            conn,
            head: Head {
                term: head.term.max(1),
                ..head
            },
            txn: None,
            catalog,
            shared: shared.clone(),
            max_journal: cfg.max_journal_size,
        };
        Ok(Arc::new(Store {
            cfg,
            shared,
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers: Mutex::new(Vec::new()),
        }))
    }

    /// A read connection (from the pool, or newly opened).
    pub fn reader(&self) -> PgResult<Conn> {
        if let Some(c) = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        Conn::open(&self.cfg.path, self.cfg.synchronous, true).map_err(sqlite_err)
    }

    /// Give a read connection back to the pool.
    pub fn return_reader(&self, c: Conn) {
        if c.conn.is_autocommit() {
            let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < 64 {
                pool.push(c);
            }
        }
    }

    pub fn writer(&self) -> Arc<tokio::sync::Mutex<Writer>> {
        self.writer.clone()
    }

    /// The published catalog (what committed transactions created).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Number of the last committed write transaction.
    pub fn commit_count(&self) -> u64 {
        self.shared.commit_count.load(Ordering::Acquire)
    }

    /// Wait until this node has applied commit `n` (a session's read fence), or time out.
    /// Returns the node's commit count on success, or it on timeout as the error.
    pub async fn wait_for_commit(&self, n: u64, timeout: std::time::Duration) -> Result<u64, u64> {
        let mut rx = self.shared.commits.subscribe();
        let wait = rx.wait_for(|c| *c >= n);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(c)) => Ok(*c),
            _ => Err(self.commit_count()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.cfg.path
    }
}

pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// A savepoint inside a write transaction: where the recorded statements and catalog stood.
struct Savepoint {
    name: String,
    statements: usize,
    catalog: Arc<Catalog>,
}

/// An open write transaction: what it has done so far, in replay order.
#[derive(Default)]
struct WriteTxn {
    statements: Vec<Statement>,
    savepoints: Vec<Savepoint>,
}

/// The single writer. A session holds it (through the store's async mutex) for the whole of
/// a write transaction, so write transactions are serialised.
pub struct Writer {
    pub conn: Conn,
    head: Head,
    txn: Option<WriteTxn>,
    /// The catalog as this transaction sees it (DDL changes it before commit).
    pub catalog: Arc<Catalog>,
    shared: Arc<Shared>,
    max_journal: u64,
}

impl Writer {
    pub fn head(&self) -> Head {
        self.head
    }

    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// Start a write transaction (takes SQLite's write lock at once).
    pub fn begin(&mut self) -> PgResult<()> {
        if self.txn.is_some() {
            return Err(PgError::internal("writer: transaction already open"));
        }
        self.ensure_no_sqlite_txn()?;
        self.conn
            .conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(sqlite_err)?;
        functions::lock(&self.conn.ctx).seq_high.clear();
        self.catalog = self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.txn = Some(WriteTxn::default());
        Ok(())
    }

    /// Run a statement in the open transaction. `record` puts it in the replicated payload
    /// (everything that changes data or schema must be recorded).
    pub fn exec(
        &mut self,
        sql: &str,
        params: &[Value],
        ctx: &StmtCtx,
        record: bool,
    ) -> rusqlite::Result<QueryOutput> {
        self.conn.load_ctx(ctx);
        let out = run(&self.conn.conn, sql, params)?;
        if record && let Some(t) = self.txn.as_mut() {
            t.statements.push(Statement {
                sql: sql.to_string(),
                params: params.to_vec(),
                ctx: ctx.clone(),
            });
        }
        Ok(out)
    }

    pub fn savepoint(&mut self, name: &str) -> PgResult<()> {
        let t = self
            .txn
            .as_mut()
            .ok_or_else(|| PgError::internal("savepoint outside transaction"))?;
        self.conn
            .conn
            .execute_batch(&format!("SAVEPOINT {}", quote_ident(name)))
            .map_err(sqlite_err)?;
        t.savepoints.push(Savepoint {
            name: name.to_string(),
            statements: t.statements.len(),
            catalog: self.catalog.clone(),
        });
        Ok(())
    }

    fn find_savepoint(&self, name: &str) -> PgResult<usize> {
        let t = self
            .txn
            .as_ref()
            .ok_or_else(|| PgError::internal("no transaction"))?;
        t.savepoints
            .iter()
            .rposition(|s| s.name == name)
            .ok_or_else(|| {
                PgError::new(
                    code::INVALID_SAVEPOINT_SPECIFICATION,
                    format!("savepoint \"{name}\" does not exist"),
                )
            })
    }

    pub fn release(&mut self, name: &str) -> PgResult<()> {
        let i = self.find_savepoint(name)?;
        self.conn
            .conn
            .execute_batch(&format!("RELEASE SAVEPOINT {}", quote_ident(name)))
            .map_err(sqlite_err)?;
        if let Some(t) = self.txn.as_mut() {
            t.savepoints.truncate(i);
        }
        Ok(())
    }

    /// Undo everything after the savepoint (the savepoint itself stays, as in PostgreSQL).
    pub fn rollback_to(&mut self, name: &str) -> PgResult<()> {
        let i = self.find_savepoint(name)?;
        self.conn
            .conn
            .execute_batch(&format!("ROLLBACK TO SAVEPOINT {}", quote_ident(name)))
            .map_err(sqlite_err)?;
        let Some(t) = self.txn.as_mut() else {
            return Ok(());
        };
        t.savepoints.truncate(i + 1);
        let sp = &t.savepoints[i];
        t.statements.truncate(sp.statements);
        self.catalog = sp.catalog.clone();
        self.reapply_sequences()
    }

    /// Sequences are not transactional: re-apply values handed out by rolled-back work.
    fn reapply_sequences(&mut self) -> PgResult<()> {
        let high: Vec<(u32, i64)> = functions::lock(&self.conn.ctx)
            .seq_high
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        if high.is_empty() {
            return Ok(());
        }
        let ctx = StmtCtx {
            txn_micros: now_micros(),
            stmt_micros: now_micros(),
            seed: 0,
            zone: "UTC".into(),
        };
        for (oid, v) in high {
            self.exec(
                "UPDATE __bedrock_sequence_state SET last_value = CASE WHEN increment > 0 THEN max(last_value, ?2) ELSE min(last_value, ?2) END, is_called = 1 WHERE oid = ?1",
                &[Value::Integer(oid as i64), Value::Integer(v)],
                &ctx,
                true,
            )
            .map_err(sqlite_err)?;
        }
        Ok(())
    }

    /// Commit. Returns the new commit count, or None if the transaction changed nothing
    /// (then nothing is journaled).
    pub fn commit(&mut self) -> PgResult<Option<u64>> {
        let Some(t) = self.txn.take() else {
            return Err(PgError::internal("commit without transaction"));
        };
        if t.statements.is_empty() {
            self.conn
                .conn
                .execute_batch("COMMIT")
                .map_err(|e| self.fail(e))?;
            return Ok(None);
        }
        let payload = Envelope {
            term: self.head.term,
            requests: Vec::new(),
            body: Body {
                statements: t.statements,
            }
            .encode(),
        }
        .encode();
        let n = self.head.commit_count + 1;
        let hash = chain(&self.head.hash, &payload);
        let journal = self.conn.conn.execute(
            "INSERT INTO __bedrock_journal(commit_count, term, hash, payload) VALUES (?1, ?2, ?3, ?4)",
            params![n as i64, self.head.term as i64, &hash[..], &payload],
        );
        if let Err(e) = journal {
            return Err(self.fail(e));
        }
        if n > self.max_journal {
            let floor = n - self.max_journal;
            let trimmed = self.conn.conn.execute(
                "DELETE FROM __bedrock_journal WHERE commit_count IN \
                 (SELECT commit_count FROM __bedrock_journal WHERE commit_count <= ?1 ORDER BY commit_count LIMIT 10)",
                params![floor as i64],
            );
            if let Err(e) = trimmed {
                return Err(self.fail(e));
            }
        }
        if let Err(e) = self.conn.conn.execute_batch("COMMIT") {
            return Err(self.fail(e));
        }
        self.head = Head {
            commit_count: n,
            hash,
            term: self.head.term,
        };
        *self
            .shared
            .catalog
            .write()
            .unwrap_or_else(|p| p.into_inner()) = self.catalog.clone();
        self.shared.commit_count.store(n, Ordering::Release);
        self.shared.commits.send_replace(n);
        Ok(Some(n))
    }

    /// No SQLite transaction may be open between our transactions: a leftover one (a ROLLBACK
    /// that failed earlier) is rolled back now, and if that fails too the writer refuses to
    /// start new work instead of nesting it in a transaction nobody owns.
    fn ensure_no_sqlite_txn(&mut self) -> PgResult<()> {
        if self.conn.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.conn.execute_batch("ROLLBACK").map_err(|e| {
            PgError::new(
                code::IO_ERROR,
                format!(
                    "storage error: the writer is stuck in a transaction it cannot roll back: {e}"
                ),
            )
        })
    }

    /// A failure while committing: roll back so the writer stays usable.
    fn fail(&mut self, e: rusqlite::Error) -> PgError {
        if let Err(r) = self.conn.conn.execute_batch("ROLLBACK")
            && !self.conn.conn.is_autocommit()
        {
            tracing::error!("writer: ROLLBACK after a failed commit failed too: {r}");
        }
        self.txn = None;
        self.catalog = self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        sqlite_err(e)
    }

    /// Roll back the open transaction (no-op if none).
    pub fn rollback(&mut self) -> PgResult<()> {
        if self.txn.take().is_none() {
            return Ok(());
        }
        if !self.conn.conn.is_autocommit() {
            self.conn
                .conn
                .execute_batch("ROLLBACK")
                .map_err(sqlite_err)?;
        }
        self.catalog = self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // Take the values handed out before `begin` clears them.
        let high = std::mem::take(&mut functions::lock(&self.conn.ctx).seq_high);
        if !high.is_empty() {
            self.begin()?;
            functions::lock(&self.conn.ctx).seq_high = high;
            self.reapply_sequences()?;
            self.commit()?;
        }
        Ok(())
    }

    /// After a statement failed inside SQLite's transaction, SQLite may have rolled the whole
    /// transaction back by itself (e.g. on SQLITE_FULL or an interrupt); keep our state in step.
    pub fn sync_after_error(&mut self) {
        if self.txn.is_some() && self.conn.conn.is_autocommit() {
            self.txn = None;
            self.catalog = self
                .shared
                .catalog
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
        }
    }

    /// Is the SQLite transaction still open (it may have been rolled back by SQLite itself)?
    pub fn sqlite_txn_open(&self) -> bool {
        !self.conn.conn.is_autocommit()
    }
}

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Execute a commit's body as a follower would: every statement with its recorded inputs.
pub fn apply_body(conn: &Conn, body: &Body) -> rusqlite::Result<()> {
    for s in &body.statements {
        conn.load_ctx(&s.ctx);
        // A write that read the system catalogs needs them materialised on this connection,
        // from the catalog as it stands at this point of the log.
        if s.sql.contains(crate::sql::pg_catalog::TABLE_PREFIX) {
            Catalog::load(&conn.conn)
                .and_then(|cat| crate::sql::pg_catalog::prepare_connection(&conn.conn, &cat))
                .map_err(|e| rusqlite::Error::ModuleError(e.to_string()))?;
        }
        run(&conn.conn, &s.sql, &s.params)?;
    }
    Ok(())
}

/// Recompute the hash chain over the journal window. Returns the number of commits checked.
pub fn verify_journal(conn: &Connection) -> Result<u64, String> {
    let mut stmt = conn
        .prepare("SELECT commit_count, hash, payload FROM __bedrock_journal ORDER BY commit_count")
        .map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut prev: Option<(u64, [u8; 32])> = None;
    let mut checked = 0;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let n: i64 = r.get(0).map_err(|e| e.to_string())?;
        let h: Vec<u8> = r.get(1).map_err(|e| e.to_string())?;
        let p: Vec<u8> = r.get(2).map_err(|e| e.to_string())?;
        let mut hash = [0u8; 32];
        if h.len() != 32 {
            return Err(format!("commit {n}: hash is {} bytes", h.len()));
        }
        hash.copy_from_slice(&h);
        if let Some((pn, ph)) = prev {
            if n as u64 != pn + 1 {
                return Err(format!("gap in journal between {pn} and {n}"));
            }
            if chain(&ph, &p) != hash {
                return Err(format!("commit {n}: hash does not match the chain"));
            }
        } else if n == 1 && chain(&crate::log::ZERO_HASH, &p) != hash {
            return Err("commit 1: hash does not match the chain".into());
        }
        let envelope = Envelope::decode(&p).map_err(|e| format!("commit {n}: {e}"))?;
        Body::decode(&envelope.body).map_err(|e| format!("commit {n}: body: {e}"))?;
        prev = Some((n as u64, hash));
        checked += 1;
    }
    Ok(checked)
}

/// A checksum of the content of every user table (and the replicated catalog), so nodes can
/// compare state: SHA-256 over tables in name order, rows in rowid order.
pub fn content_checksum(conn: &Connection) -> rusqlite::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let tables: Vec<String> = {
        let mut st = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name NOT IN ('__bedrock_journal', '__bedrock_meta') ORDER BY name",
        )?;
        st.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for t in tables {
        h.update(t.as_bytes());
        h.update([0]);
        let mut st = conn
            .prepare(&format!("SELECT * FROM {} ORDER BY rowid", quote_ident(&t)))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM {}", quote_ident(&t))))?;
        let n = st.column_count();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            for i in 0..n {
                match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => h.update([0]),
                    rusqlite::types::ValueRef::Integer(v) => {
                        h.update([1]);
                        h.update(v.to_be_bytes());
                    }
                    rusqlite::types::ValueRef::Real(v) => {
                        h.update([2]);
                        h.update(v.to_bits().to_be_bytes());
                    }
                    rusqlite::types::ValueRef::Text(v) => {
                        h.update([3]);
                        h.update((v.len() as u64).to_be_bytes());
                        h.update(v);
                    }
                    rusqlite::types::ValueRef::Blob(v) => {
                        h.update([4]);
                        h.update((v.len() as u64).to_be_bytes());
                        h.update(v);
                    }
                }
            }
        }
    }
    Ok(h.finalize().into())
}

/// Rebuild a database from another one's journal alone, as a follower would: a fresh file with
/// the internal schema, then every journaled payload applied in order, each in its own
/// transaction. Returns the number of commits applied and the content checksum of the result.
/// Requires the journal to start at commit 1 (nothing trimmed).
pub fn replay_journal(src: &Path, dst: &Path) -> Result<(u64, [u8; 32]), String> {
    let source = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let replica = Conn::open(dst, Synchronous::Off, false).map_err(|e| e.to_string())?;
    replica
        .conn
        .execute_batch(INTERNAL_SCHEMA)
        .map_err(|e| e.to_string())?;
    let mut st = source
        .prepare("SELECT commit_count, payload FROM __bedrock_journal ORDER BY commit_count")
        .map_err(|e| e.to_string())?;
    let mut rows = st.query([]).map_err(|e| e.to_string())?;
    let mut n = 0u64;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let count: i64 = r.get(0).map_err(|e| e.to_string())?;
        if count as u64 != n + 1 {
            return Err(format!(
                "journal does not start at 1 or has a gap at {count}"
            ));
        }
        let bytes: Vec<u8> = r.get(1).map_err(|e| e.to_string())?;
        let envelope = Envelope::decode(&bytes).map_err(|e| format!("commit {count}: {e}"))?;
        let body =
            Body::decode(&envelope.body).map_err(|e| format!("commit {count}: body: {e}"))?;
        replica
            .conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| e.to_string())?;
        apply_body(&replica, &body).map_err(|e| format!("commit {count}: {e}"))?;
        replica
            .conn
            .execute_batch("COMMIT")
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    let sum = content_checksum(&replica.conn).map_err(|e| e.to_string())?;
    Ok((n, sum))
}
