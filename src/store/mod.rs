//! SQLite storage, a leaf of the crate: the database file, its read connections (WAL mode, so
//! reads never wait for the writer), the single write connection ([`WriteConn`]) and the
//! journal ([`journal`]). It knows nothing of sessions, SQL translation or the consensus core:
//! the SQL layer adds its functions and tables through the [`Extension`] it is opened with.

pub mod journal;
pub mod writer;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::config::Synchronous;
use crate::log::StmtCtx;
pub use writer::WriteConn;

/// What the layer above adds to every connection the store opens.
pub trait Extension: Send + Sync + 'static {
    /// `CREATE TABLE IF NOT EXISTS …` of the tables it keeps in the database, run at open.
    fn schema(&self) -> &'static str;
    /// Register functions, collations and modules on a new connection; returns the
    /// connection's execution state (given back through [`Conn::state`]).
    fn setup(&self, conn: &Connection) -> rusqlite::Result<Arc<dyn ConnState>>;
}

/// The per-connection state of the [`Extension`].
pub trait ConnState: Any + Send + Sync {
    /// Load a statement's replicated inputs (times, seed, zone, sequence values to hand out)
    /// before it runs.
    fn load(&self, ctx: &StmtCtx);
    /// After it ran: complete its replicated inputs with what it drew (sequence values).
    fn after_run(&self, ctx: &mut StmtCtx);
    /// Before a journaled statement is applied on this connection (a follower, a replay):
    /// prepare what it needs, e.g. materialise the emulated system catalogs it reads.
    fn before_apply(&self, conn: &Connection, sql: &str) -> rusqlite::Result<()>;
    fn as_any(&self) -> &dyn Any;
}

/// Why a running statement must stop; SQLite's progress handler checks it every few thousand
/// VM steps, so cancel, statement_timeout and "yield to a blocking thread" need no timer task
/// and work even when every runtime thread is busy.
#[derive(Debug, Default)]
pub struct Progress {
    stop: AtomicU8,
    deadline_ms: AtomicU64,
    budget: AtomicI64,
    /// The cancel flag of the session whose statement runs now (the writer runs statements of
    /// many sessions): non-zero stops it.
    session: Mutex<Option<Arc<AtomicU8>>>,
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

    /// Watch a session's cancel flag while its statement runs (None: stop watching).
    pub fn watch(&self, flag: Option<Arc<AtomicU8>>) {
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = flag;
    }

    pub fn reason(&self) -> u8 {
        self.stop.load(Ordering::SeqCst)
    }

    fn should_stop(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) != Self::RUN {
            return true;
        }
        if let Some(f) = self
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            let why = f.load(Ordering::Relaxed);
            if why != Self::RUN {
                self.stop.store(why, Ordering::SeqCst);
                return true;
            }
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

/// Whether a connection may change the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opened `query_only`; runs only statements SQLite reports read-only.
    Reader,
    /// The single write connection: everything that changes the database is journaled.
    Writer,
}

/// A SQLite connection with the extension's functions registered.
pub struct Conn {
    pub conn: Connection,
    state: Arc<dyn ConnState>,
    pub progress: Arc<Progress>,
    role: Role,
}

impl Conn {
    fn open(
        path: &Path,
        sync: Synchronous,
        role: Role,
        ext: &dyn Extension,
    ) -> rusqlite::Result<Conn> {
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
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        // The file is read through the page cache, not mapped: a mapping per connection makes
        // every connection's RSS show the whole database (an operator or a container limit
        // reads that as the server's size), and the cache keeps hot pages anyway.
        conn.pragma_update(None, "mmap_size", 0)?;
        if role == Role::Reader {
            conn.pragma_update(None, "query_only", "ON")?;
        }
        conn.set_prepared_statement_cache_capacity(256);
        let state = ext.setup(&conn)?;
        let progress = Arc::new(Progress::default());
        progress.start(0, None);
        let p = progress.clone();
        conn.progress_handler(2000, Some(move || p.should_stop()))?;
        Ok(Conn {
            conn,
            state,
            progress,
            role,
        })
    }

    /// The extension's state of this connection.
    pub fn state(&self) -> &dyn ConnState {
        self.state.as_ref()
    }

    /// Load a statement's replicated inputs into the connection before running it.
    pub fn load_ctx(&self, c: &StmtCtx) {
        self.state.load(c);
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Run one statement on a read connection. A statement SQLite does not report read-only
    /// is refused here whatever the classifier said (and `query_only` stops writes made by
    /// functions), so nothing can change the database outside the journaled writer.
    pub fn query(&self, sql: &str, params: &[Value]) -> rusqlite::Result<QueryOutput> {
        run(&self.conn, sql, params, self.role == Role::Reader).map(|(out, _)| out)
    }
}

/// Page cache per connection, KiB.
const CACHE_KIB: i64 = 16_000;

/// Rows and counts of one executed statement (the translator knows the columns).
#[derive(Debug, Clone, Default)]
pub struct QueryOutput {
    pub rows: Vec<Vec<Value>>,
    /// Rows changed by an INSERT / UPDATE / DELETE.
    pub changes: u64,
}

/// Error of a statement that is not read-only reaching a read connection.
fn not_read_only() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
        Some("internal error: a statement that writes reached a read connection".into()),
    )
}

/// Run one statement and collect its result. Returns whether it changed the database (it is
/// not read-only for SQLite, or rows changed while it ran, e.g. by `nextval()` in a SELECT).
fn run(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    must_be_read_only: bool,
) -> rusqlite::Result<(QueryOutput, bool)> {
    let mut stmt = conn.prepare_cached(sql)?;
    if must_be_read_only && !stmt.readonly() {
        return Err(not_read_only());
    }
    let ncols = stmt.column_count();
    // A parameter the statement never mentions (a client's unused `$n`) is not bound.
    let count = stmt.parameter_count();
    for (i, p) in params.iter().enumerate().take(count) {
        stmt.raw_bind_parameter(i + 1, p)?;
    }
    let mut out = QueryOutput {
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
    let changed_rows = conn.total_changes() != before;
    if !stmt.readonly() && changed_rows {
        // Rows this statement changed itself: not foreign-key cascades, not the sequence
        // updates nextval() makes (total_changes would count those too).
        out.changes = conn.changes();
    }
    Ok((out, !stmt.readonly() || changed_rows))
}

/// An owned string from SQLite text: one validation pass (std's fast one) and one copy; invalid
/// UTF-8 (which our writes never store) is replaced, never a panic.
pub fn utf8_owned(t: &[u8]) -> String {
    match std::str::from_utf8(t) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(t).into_owned(),
    }
}

/// An owned copy of a SQLite value (invalid UTF-8 in text is replaced, never a panic).
pub fn owned(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null => Value::Null,
        R::Integer(i) => Value::Integer(i),
        R::Real(f) => Value::Real(f),
        R::Text(t) => Value::Text(utf8_owned(t)),
        R::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// The store's own tables: the journal, the request-id index and node metadata.
pub const STORE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS __bedrock_meta(key TEXT PRIMARY KEY, value ANY) STRICT;
CREATE TABLE IF NOT EXISTS __bedrock_journal(
    commit_count INTEGER PRIMARY KEY,
    term INTEGER NOT NULL,
    hash BLOB NOT NULL,
    payload BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS __bedrock_requests(
    id BLOB PRIMARY KEY,
    commit_count INTEGER NOT NULL,
    result BLOB NOT NULL) STRICT, WITHOUT ROWID;
";

/// Tables whose content is node-local (not compared between nodes).
pub const LOCAL_TABLES: &[&str] = &["__bedrock_journal", "__bedrock_meta", "__bedrock_requests"];

/// Options the store is opened with.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    pub max_journal_size: u64,
    pub clean: bool,
}

/// The node's database file and its read connections.
pub struct Store {
    cfg: StoreConfig,
    ext: Arc<dyn Extension>,
    readers: Mutex<Vec<Conn>>,
}

fn one_line(path: &Path, e: impl std::fmt::Display) -> String {
    format!("-db {}: {e}", path.display())
}

impl Store {
    /// Open (or create) the database file; returns the store and its single write
    /// connection. Errors are one line for the command line.
    pub fn open(
        cfg: StoreConfig,
        ext: Arc<dyn Extension>,
    ) -> Result<(Arc<Store>, WriteConn), String> {
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
        let what = |e: rusqlite::Error| one_line(&cfg.path, e);
        let conn =
            Conn::open(&cfg.path, cfg.synchronous, Role::Writer, ext.as_ref()).map_err(what)?;
        conn.conn.execute_batch(STORE_SCHEMA).map_err(what)?;
        conn.conn.execute_batch(ext.schema()).map_err(what)?;
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
            let id = format!("{:016x}", crate::entropy::random_u64());
            conn.conn
                .execute(
                    "INSERT INTO __bedrock_meta(key, value) VALUES ('cluster_id', ?1)",
                    params![id],
                )
                .map_err(what)?;
        }
        let tip = journal::read_tip(&conn.conn).map_err(|e| one_line(&cfg.path, e))?;
        let writer = WriteConn::new(conn, tip, cfg.max_journal_size);
        Ok((
            Arc::new(Store {
                cfg,
                ext,
                readers: Mutex::new(Vec::new()),
            }),
            writer,
        ))
    }

    /// A read connection (from the pool, or newly opened).
    pub fn reader(&self) -> rusqlite::Result<Conn> {
        if let Some(c) = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        Conn::open(
            &self.cfg.path,
            self.cfg.synchronous,
            Role::Reader,
            self.ext.as_ref(),
        )
    }

    /// Give a read connection back to the pool. Only a connection outside any transaction is
    /// kept, and with `check` (it ran something that lifts `query_only`, such as the
    /// catalogs' refresh) only if it is `query_only` again; anything else is closed.
    pub fn return_reader(&self, c: Conn, check: bool) {
        let query_only = !check
            || c.conn
                .pragma_query_value(None, "query_only", |r| r.get::<_, i64>(0))
                .unwrap_or(0)
                == 1;
        if c.conn.is_autocommit() && query_only && c.role == Role::Reader {
            let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < READER_POOL {
                pool.push(c);
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.cfg.path
    }

    /// Checkpoint the WAL into the database file from a thread of its own (PASSIVE: it never
    /// waits for the writer or for readers), so the writer never pays for checkpoints.
    pub fn start_checkpointer(&self) -> Result<(), String> {
        let path = self.cfg.path.clone();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| one_line(&path, e))?;
        std::thread::Builder::new()
            .name("bedrock-checkpoint".into())
            .spawn(move || checkpoint_forever(conn))
            .map(|_| ())
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))
    }

    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }
}

/// WAL frames beyond which the checkpoint thread runs a checkpoint (SQLite's default).
const CHECKPOINT_FRAMES: i64 = 1000;

fn checkpoint_forever(conn: Connection) {
    let mut last = 0i64;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let r = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match r {
            Ok((log, done)) => {
                // Frames written since the last round that are still to copy: more soon.
                if log - done > CHECKPOINT_FRAMES && log != last {
                    last = log;
                    continue;
                }
                last = log;
            }
            Err(e) => tracing::warn!("WAL checkpoint failed: {e}"),
        }
    }
}

/// Idle read connections kept for reuse.
const READER_POOL: usize = 16;

pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
