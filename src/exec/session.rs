//! One client session, protocol-free: its settings, its transaction block (`I`/`T`/`E`,
//! implicit blocks, savepoints), the translation of its statements, and running them — reads
//! on its read connection ([`super::read`]), writes through the one write path
//! ([`super::write`]). What it has to tell the client besides results (notices, changed
//! parameters) it queues as [`Event`]s for the protocol to send.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::types::Value;

use super::settings::{self, Settings};
use super::stmt::{Response, ResultSet, Stmt, text_col};
use super::{Cancel, Shared};
use crate::error::{PgError, PgResult, Severity, code};
use crate::log::StmtCtx;
use crate::sql::catalog::Catalog;
use crate::sql::statement::Parsed;
use crate::sql::translate::{self, Env, Plan, TxnOp};
use crate::sql::types::PgType;
use crate::sql::values;
use crate::store::Conn;

/// Message of the error that makes a stale statement translate again (never sent).
pub const STALE: &str = "__bedrock_stale_translation";

/// Something to tell the client besides a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Notice {
        severity: &'static str,
        code: &'static str,
        message: String,
    },
    ParameterStatus {
        name: String,
        value: String,
    },
}

/// Transaction status as ReadyForQuery reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnStatus {
    Idle,
    InBlock,
    Failed,
}

/// Transaction block state.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Block {
    /// No transaction block.
    Idle,
    /// Inside a block. `implicit` blocks end by themselves (end of a multi-statement Query, or
    /// the next Sync).
    Open {
        implicit: bool,
        failed: bool,
        read_only: bool,
        isolation: Option<String>,
    },
}

/// The block's life at the writer, once it wrote.
pub(super) struct WriteTxn {
    pub id: super::writer::TxnId,
    /// Its catalog, once its own DDL changed it.
    pub catalog: Option<Arc<Catalog>>,
}

pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) cancel: Arc<Cancel>,
    pub(super) settings: Settings,
    pub(super) env: Env,
    pub(super) block: Block,
    /// Transaction start (`now()`), microseconds since the epoch.
    pub(super) txn_start: i64,
    pub(super) read_conn: Option<Conn>,
    /// The block's interactive transaction at the writer, from its first write.
    pub(super) txn: Option<WriteTxn>,
    /// Savepoints declared before the first write (sent to the writer with it).
    pub(super) early_savepoints: Vec<String>,
    /// Every savepoint active in the block (innermost last).
    active_savepoints: Vec<String>,
    /// Reads of a REPEATABLE READ / SERIALIZABLE block before its first write, with the
    /// digest of what they returned: checked again at the writer when it writes.
    pub(super) snapshot_reads: Vec<(super::work::StmtWork, u64)>,
    /// Hidden tables a COPY of the block staged its rows in (dropped when the block ends).
    pub(super) copy_staging: Vec<String>,
    pub(super) currval: HashMap<u32, i64>,
    pub(super) lastval: Option<i64>,
    /// `txid_current()` of the open block (0: not asked yet).
    txid: i64,
    rng: u64,
    pub(super) events: Vec<Event>,
    /// Why the last guarded read stopped (a `Progress` reason).
    pub(super) last_stop: u8,
    /// Translated simple-protocol statements by normalised text.
    simple_cache: HashMap<String, CachedSimple>,
    pub pid: i32,
    pub secret: i32,
}

/// A cached translation of a normalised simple-protocol statement.
struct CachedSimple {
    stmt: Arc<Stmt>,
    /// Catalog generation and TimeZone it was translated under.
    generation: u64,
    zone: String,
}

/// Normalised statements a session keeps translated.
const SIMPLE_CACHE_SIZE: usize = 256;

impl Session {
    /// A new session; `startup` applies the client's startup parameters.
    pub fn new(shared: Arc<Shared>) -> Session {
        let (pid, secret, cancel) = shared.register();
        Session {
            shared,
            cancel,
            settings: Settings::new("postgres"),
            env: Env::default(),
            block: Block::Idle,
            txn_start: 0,
            read_conn: None,
            txn: None,
            early_savepoints: Vec::new(),
            active_savepoints: Vec::new(),
            snapshot_reads: Vec::new(),
            copy_staging: Vec::new(),
            currval: HashMap::new(),
            lastval: None,
            txid: 0,
            rng: crate::entropy::random_u64(),
            events: Vec::new(),
            last_stop: 0,
            simple_cache: HashMap::new(),
            pid,
            secret,
        }
    }

    /// Apply the startup parameters (user, database, settings). A refusal is FATAL.
    pub fn startup(&mut self, params: Vec<(String, String)>) -> PgResult<()> {
        let mut user = None;
        let mut database = None;
        let mut gucs = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "user" => user = Some(v),
                "database" => database = Some(v),
                "replication" => {
                    return Err(PgError::fatal(
                        code::FEATURE_NOT_SUPPORTED,
                        "replication connections are not supported",
                    ));
                }
                "options" => {
                    // `-c name=value` pairs (also `--name=value`).
                    let mut it = v.split_whitespace().peekable();
                    while let Some(tok) = it.next() {
                        let kv = if tok == "-c" {
                            it.next().unwrap_or("")
                        } else {
                            tok.trim_start_matches("-c").trim_start_matches("--")
                        };
                        if let Some((a, b)) = kv.split_once('=') {
                            gucs.push((a.replace('-', "_"), b.to_string()));
                        }
                    }
                }
                _ => gucs.push((k, v)),
            }
        }
        let Some(user) = user.filter(|u| !u.is_empty()) else {
            return Err(PgError::fatal(
                code::INVALID_AUTHORIZATION,
                "no PostgreSQL user name specified in startup packet",
            ));
        };
        let database = database
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| user.clone());
        self.settings = Settings::new(&user);
        for (k, v) in gucs {
            if k == "client_encoding" && v.trim_matches('\'').eq_ignore_ascii_case("auto") {
                continue;
            }
            if let Err(mut e) = self.settings.set(&k, &v, false) {
                e.severity = Severity::Fatal;
                return Err(e);
            }
        }
        self.env = Env {
            zone: self.settings.zone(),
            user,
            database,
            pid: self.pid,
        };
        Ok(())
    }

    /// The parameters reported at startup, in order.
    pub fn reported_parameters(&self) -> Vec<(String, String)> {
        settings::REPORTED
            .iter()
            .map(|n| (n.to_string(), self.settings.get(n).unwrap_or_default()))
            .collect()
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub(super) fn notice(&mut self, severity: &'static str, code: &'static str, msg: &str) {
        self.events.push(Event::Notice {
            severity,
            code,
            message: msg.to_string(),
        });
    }

    pub(super) fn parameter_status(&mut self, name: &str) {
        if Settings::is_reported(name) || name.starts_with("bedrock.commit_count") {
            let v = self.settings.get(name).unwrap_or_default();
            self.events.push(Event::ParameterStatus {
                name: name.to_string(),
                value: v,
            });
        }
        if name == "TimeZone" {
            self.env.zone = self.settings.zone();
        }
    }

    pub fn status(&self) -> TxnStatus {
        match &self.block {
            Block::Idle => TxnStatus::Idle,
            Block::Open { failed: true, .. } => TxnStatus::Failed,
            Block::Open { implicit: true, .. } => TxnStatus::Idle,
            Block::Open { .. } => TxnStatus::InBlock,
        }
    }

    /// Time zone for reading parameter values.
    pub fn zone(&self) -> crate::sql::datetime::Zone {
        self.settings.zone()
    }

    pub fn output_style(&self) -> values::OutputStyle {
        self.settings.style()
    }

    /// `idle_in_transaction_session_timeout`, when it applies now (inside a block).
    pub fn idle_in_transaction_timeout(&self) -> Option<std::time::Duration> {
        if !matches!(
            self.block,
            Block::Open {
                implicit: false,
                ..
            }
        ) {
            return None;
        }
        let ms = self
            .settings
            .get("idle_in_transaction_session_timeout")
            .and_then(|v| settings::parse_duration_ms(&v, 1))
            .unwrap_or(0);
        (ms > 0).then(|| std::time::Duration::from_millis(ms))
    }

    /// The catalog this session sees: its transaction's own, or the published one.
    pub fn catalog(&self) -> Arc<Catalog> {
        match self.txn.as_ref().and_then(|t| t.catalog.clone()) {
            Some(c) => c,
            None => self.shared.published.catalog(),
        }
    }

    // ------------------------------------------------------------ statements

    /// Translate a parsed statement against the catalog this session sees.
    pub fn prepare(
        &mut self,
        text: String,
        parsed: Parsed,
        declared: Vec<Option<PgType>>,
    ) -> PgResult<Stmt> {
        let cat = self.catalog();
        let plan = match &parsed {
            Parsed::Sql(s) => translate::translate(s, &cat, &self.env, &declared)?,
            Parsed::Empty => Plan::Empty,
            Parsed::NoOp(tag) => Plan::NoOp(tag.clone()),
            Parsed::Discard => Plan::NoOp("DISCARD ALL".into()),
            Parsed::Copy(_) => Plan::NoOp("COPY".into()),
            Parsed::Show(name) => Plan::Show(name.clone()),
            Parsed::Lock(l) => Plan::Lock(l.clone()),
            Parsed::AlterSequence(a) => {
                Plan::Ddl(translate::ddl::DdlStatement::AlterSequence(a.clone()))
            }
        };
        Ok(Stmt {
            text,
            parsed,
            declared,
            plan,
            generation: cat.generation,
        })
    }

    /// Parse and translate one statement's text.
    pub fn parse(&mut self, text: String, declared: Vec<Option<PgType>>) -> PgResult<Stmt> {
        let parsed = crate::sql::statement::parse(&text)?;
        self.prepare(text, parsed, declared)
    }

    /// Re-translate a statement if the catalog changed since it was prepared.
    pub fn refresh(&mut self, stmt: Arc<Stmt>) -> PgResult<Arc<Stmt>> {
        let generation = self.catalog().generation;
        if stmt.generation == generation || !matches!(stmt.parsed, Parsed::Sql(_)) {
            return Ok(stmt);
        }
        let fresh = self.prepare(
            stmt.text.clone(),
            stmt.parsed.clone(),
            stmt.declared.clone(),
        )?;
        if let (Some(a), Some(b)) = (stmt.columns(), fresh.columns())
            && a.iter().map(|c| c.ty).collect::<Vec<_>>()
                != b.iter().map(|c| c.ty).collect::<Vec<_>>()
        {
            return Err(PgError::new(
                code::FEATURE_NOT_SUPPORTED,
                "cached plan must not change result type",
            ));
        }
        Ok(Arc::new(fresh))
    }

    /// A simple-protocol statement through the session's cache of normalised statements: its
    /// literals become parameters, so repeated shapes are translated once. None means "take
    /// the normal path" (not normalisable, or the normalised text does not translate — then
    /// the original text reports its own error).
    pub fn normalized(&mut self, text: &str) -> Option<(Arc<Stmt>, Vec<Value>)> {
        let n = crate::sql::normalize::normalize(text)?;
        let generation = self.catalog().generation;
        let zone = self.settings.value("TimeZone").unwrap_or("UTC").to_string();
        // The same text with a number where a string was is a different statement.
        let mut key = n.sql.clone();
        for l in &n.literals {
            key.push('\u{0}');
            key.push_str(&l.declared.map(|t| t.oid()).unwrap_or(0).to_string());
        }
        let cached = self
            .simple_cache
            .get(&key)
            .filter(|e| e.generation == generation && e.zone == zone)
            .map(|e| e.stmt.clone());
        let stmt = match cached {
            Some(s) => s,
            None => {
                let declared: Vec<Option<PgType>> = n.literals.iter().map(|l| l.declared).collect();
                let parsed = crate::sql::statement::parse(&n.sql).ok()?;
                let stmt = self.prepare(n.sql.clone(), parsed, declared).ok()?;
                if !matches!(stmt.plan, Plan::Run(_)) {
                    return None;
                }
                let stmt = Arc::new(stmt);
                if self.simple_cache.len() >= SIMPLE_CACHE_SIZE {
                    self.simple_cache.clear();
                }
                self.simple_cache.insert(
                    key,
                    CachedSimple {
                        stmt: stmt.clone(),
                        generation,
                        zone,
                    },
                );
                stmt
            }
        };
        // Bind the literals as their parameters' types, as the literal would have been read.
        let zone = self.settings.zone();
        let types = stmt.param_types();
        let mut params = Vec::with_capacity(n.literals.len());
        for (l, (ty, typmod)) in n.literals.iter().zip(types) {
            let v = values::from_text(ty, &l.text, &zone)
                .and_then(|v| values::apply_typmod(ty, typmod, v))
                .ok()?;
            params.push(v);
        }
        Some((stmt, params))
    }

    // ------------------------------------------------------------ blocks

    pub(super) fn default_read_only(&self) -> bool {
        self.settings.value("default_transaction_read_only") == Some("on")
    }

    /// Several statements of one Query, or the messages up to a Sync, run in one implicit
    /// transaction (unless they manage their own).
    pub fn begin_implicit(&mut self) {
        if self.block == Block::Idle {
            self.block = Block::Open {
                implicit: true,
                failed: false,
                read_only: self.default_read_only(),
                isolation: None,
            };
            self.txn_start = crate::store::now_micros();
        }
    }

    pub(super) fn next_seed(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 27)
    }

    pub(super) fn stmt_ctx(&mut self) -> StmtCtx {
        let now = crate::store::now_micros();
        let txn = if self.block == Block::Idle || self.txn_start == 0 {
            now
        } else {
            self.txn_start
        };
        StmtCtx {
            txn_micros: txn,
            stmt_micros: now,
            seed: self.next_seed(),
            zone: self.settings.value("TimeZone").unwrap_or("UTC").to_string(),
            seq: Vec::new(),
            txid: 0,
        }
    }

    /// The transaction id of the block (or of the autocommit statement), given out the
    /// first time it is asked for.
    pub(super) fn txid(&mut self) -> i64 {
        if self.block == Block::Idle || self.txid == 0 {
            self.txid = self.shared.next_txid();
        }
        self.txid
    }

    pub(super) fn in_failed_block(&self) -> bool {
        matches!(self.block, Block::Open { failed: true, .. })
    }

    pub(super) fn block_read_only(&self) -> bool {
        matches!(
            self.block,
            Block::Open {
                read_only: true,
                ..
            }
        ) || (self.block == Block::Idle && self.default_read_only())
    }

    /// A REPEATABLE READ or SERIALIZABLE block: its reads come from one snapshot.
    pub(super) fn snapshot_isolation(&self) -> bool {
        match &self.block {
            Block::Open { isolation, .. } => {
                let level = isolation.clone().or_else(|| {
                    self.settings
                        .get("default_transaction_isolation")
                        .map(|s| s.to_lowercase())
                });
                matches!(
                    level.as_deref(),
                    Some("repeatable read") | Some("serializable")
                )
            }
            Block::Idle => false,
        }
    }

    /// An error in a block: it fails. Without a savepoint to return to, its transaction is
    /// over — as in PostgreSQL, which aborts it at once and frees its locks, leaving only
    /// ROLLBACK to the client.
    pub fn mark_failed(&mut self) {
        if let Block::Open { failed, .. } = &mut self.block {
            *failed = true;
            if self.active_savepoints.is_empty() {
                self.abort_writes();
            }
        }
    }

    /// After a failed statement: an explicit block becomes failed; otherwise roll back.
    pub async fn after_error(&mut self) {
        match &self.block {
            Block::Open {
                implicit: false, ..
            } => self.mark_failed(),
            _ => {
                let _ = self.finish_transaction(false).await;
            }
        }
    }

    /// End the current transaction (commit or roll back) and return to Idle.
    pub(super) async fn finish_transaction(&mut self, commit: bool) -> PgResult<()> {
        let result = if commit {
            self.commit_writes().await
        } else {
            self.abort_writes();
            Ok(())
        };
        let committed = commit && result.is_ok();
        self.end_snapshot();
        self.early_savepoints.clear();
        self.active_savepoints.clear();
        self.snapshot_reads.clear();
        self.block = Block::Idle;
        self.txn_start = 0;
        self.txid = 0;
        for n in self.settings.end_transaction(committed) {
            self.parameter_status(&n);
        }
        let staged = std::mem::take(&mut self.copy_staging);
        self.drop_tables(staged).await;
        result
    }

    /// End an implicit block (end of a multi-statement Query, or Sync).
    pub async fn end_implicit(&mut self) -> Option<PgError> {
        if let Block::Open {
            implicit: true,
            failed,
            ..
        } = self.block
        {
            return self.finish_transaction(!failed).await.err();
        }
        None
    }

    // ------------------------------------------------------------ running

    /// Run a statement with its bound parameters. `followed_by_sync`: the protocol knows
    /// that this statement ends its implicit block, so a lone write can commit on its own.
    pub async fn run(
        &mut self,
        stmt: &Arc<Stmt>,
        params: &[Value],
        followed_by_sync: bool,
    ) -> PgResult<Response> {
        let mut stmt = stmt.clone();
        let mut stale = 0;
        loop {
            match self.run_once(&stmt, params, followed_by_sync).await {
                // Translated against a catalog that changed before the writer ran it:
                // translate again (a few times at most: DDL is rare).
                Err(e) if e.message == STALE => {
                    stale += 1;
                    if stale > 4 {
                        return Err(PgError::new(
                            code::SERIALIZATION_FAILURE,
                            "could not serialize access due to concurrent schema changes",
                        ));
                    }
                    let fresh = self.prepare(
                        stmt.text.clone(),
                        stmt.parsed.clone(),
                        stmt.declared.clone(),
                    )?;
                    stmt = Arc::new(fresh);
                }
                // An autocommit statement needs a row another transaction holds: wait for
                // it to end (bounded by lock_timeout and statement_timeout), then run again.
                Err(e) if super::write::blocker_of(&e).is_some() => {
                    let blocker = super::write::blocker_of(&e).unwrap_or(0);
                    let lock_timeout = self
                        .settings
                        .get("lock_timeout")
                        .and_then(|v| settings::parse_duration_ms(&v, 1))
                        .unwrap_or(0);
                    self.wait_for(blocker, lock_timeout).await?;
                }
                other => return other,
            }
        }
    }

    async fn run_once(
        &mut self,
        stmt: &Stmt,
        params: &[Value],
        followed_by_sync: bool,
    ) -> PgResult<Response> {
        if self.in_failed_block() {
            let allowed = matches!(
                stmt.plan,
                Plan::Txn(TxnOp::Rollback | TxnOp::Commit | TxnOp::RollbackTo(_))
            );
            if !allowed {
                return Err(PgError::new(
                    code::IN_FAILED_SQL_TRANSACTION,
                    "current transaction is aborted, commands ignored until end of transaction block",
                ));
            }
        }
        if let Parsed::Copy(c) = &stmt.parsed {
            return Ok(if c.from_stdin {
                Response::CopyIn(c.clone())
            } else {
                Response::CopyOut(c.clone())
            });
        }
        if let Parsed::Discard = &stmt.parsed {
            if !matches!(self.block, Block::Idle | Block::Open { implicit: true, .. }) {
                return Err(PgError::new(
                    code::ACTIVE_SQL_TRANSACTION,
                    "DISCARD ALL cannot run inside a transaction block",
                ));
            }
            for n in self.settings.reset(None)? {
                self.parameter_status(&n);
            }
            self.currval.clear();
            self.lastval = None;
            return Ok(Response::Done("DISCARD ALL".into()));
        }
        match &stmt.plan {
            Plan::Empty => Ok(Response::Empty),
            Plan::NoOp(tag) => Ok(Response::Done(tag.clone())),
            Plan::Txn(op) => self.txn_op(op.clone()).await.map(Response::Done),
            Plan::Set { name, value, local } => {
                self.set(name, value.as_deref(), *local).map(Response::Done)
            }
            Plan::Show(name) => self.show(name),
            Plan::Reset(name) => {
                if self.block != Block::Idle {
                    self.settings.track_transaction();
                }
                for n in self.settings.reset(name.as_deref())? {
                    self.parameter_status(&n);
                }
                Ok(Response::Done("RESET".into()))
            }
            // DEALLOCATE names the protocol's prepared statements: the protocol does it.
            Plan::Deallocate(_) => Ok(Response::Done("DEALLOCATE".into())),
            Plan::Copy(_) => Err(PgError::unsupported("this form of COPY")),
            Plan::Lock(l) => self.lock_tables(l).await.map(Response::Done),
            Plan::Ddl(ast) => self
                .run_ddl(stmt, ast, followed_by_sync)
                .await
                .map(Response::Done),
            Plan::Run(p) => self.run_prepared(p, params, followed_by_sync).await,
        }
    }

    async fn txn_op(&mut self, op: TxnOp) -> PgResult<String> {
        match op {
            TxnOp::Begin {
                read_only,
                isolation,
                start,
            } => {
                match &self.block {
                    Block::Open { implicit: true, .. } => {
                        // BEGIN inside a multi-statement Query makes the block explicit.
                        self.block = Block::Open {
                            implicit: false,
                            failed: false,
                            read_only: read_only || self.default_read_only(),
                            isolation,
                        };
                    }
                    Block::Open { .. } => {
                        self.notice(
                            "WARNING",
                            "25001",
                            "there is already a transaction in progress",
                        );
                    }
                    Block::Idle => {
                        let ro = read_only || self.default_read_only();
                        self.block = Block::Open {
                            implicit: false,
                            failed: false,
                            read_only: ro,
                            isolation,
                        };
                        self.txn_start = crate::store::now_micros();
                    }
                }
                Ok(if start { "START TRANSACTION" } else { "BEGIN" }.into())
            }
            TxnOp::Commit => match self.block.clone() {
                Block::Idle => {
                    self.notice("WARNING", "25P01", "there is no transaction in progress");
                    Ok("COMMIT".into())
                }
                Block::Open { failed: true, .. } => {
                    let _ = self.finish_transaction(false).await;
                    Ok("ROLLBACK".into())
                }
                Block::Open { implicit, .. } => {
                    if implicit {
                        self.notice("WARNING", "25P01", "there is no transaction in progress");
                    }
                    self.finish_transaction(true).await?;
                    Ok("COMMIT".into())
                }
            },
            TxnOp::Rollback => {
                if self.block == Block::Idle
                    || matches!(self.block, Block::Open { implicit: true, .. })
                {
                    self.notice("WARNING", "25P01", "there is no transaction in progress");
                }
                let _ = self.finish_transaction(false).await;
                Ok("ROLLBACK".into())
            }
            TxnOp::Savepoint(name) => {
                self.require_block("SAVEPOINT")?;
                self.active_savepoints.push(name.clone());
                match &self.txn {
                    Some(_) => {
                        self.txn_savepoint_op(super::writer::TxnOp::Savepoint(name))
                            .await?
                    }
                    None => self.early_savepoints.push(name),
                }
                Ok("SAVEPOINT".into())
            }
            TxnOp::Release(name) => {
                self.require_block("RELEASE SAVEPOINT")?;
                let i = self
                    .active_savepoints
                    .iter()
                    .rposition(|s| *s == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                self.active_savepoints.truncate(i);
                match &self.txn {
                    Some(_) => {
                        self.txn_savepoint_op(super::writer::TxnOp::Release(name))
                            .await?
                    }
                    None => {
                        let i = self
                            .early_savepoints
                            .iter()
                            .rposition(|s| *s == name)
                            .ok_or_else(|| no_savepoint(&name))?;
                        self.early_savepoints.truncate(i);
                    }
                }
                Ok("RELEASE".into())
            }
            TxnOp::RollbackTo(name) => {
                self.require_block("ROLLBACK TO SAVEPOINT")?;
                let i = self
                    .active_savepoints
                    .iter()
                    .rposition(|s| *s == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                self.active_savepoints.truncate(i + 1);
                match &self.txn {
                    Some(_) => {
                        self.txn_savepoint_op(super::writer::TxnOp::RollbackTo(name))
                            .await?
                    }
                    None => {
                        let i = self
                            .early_savepoints
                            .iter()
                            .rposition(|s| *s == name)
                            .ok_or_else(|| no_savepoint(&name))?;
                        self.early_savepoints.truncate(i + 1);
                    }
                }
                if let Block::Open { failed, .. } = &mut self.block {
                    *failed = false;
                }
                Ok("ROLLBACK".into())
            }
            TxnOp::SetTransaction {
                read_only,
                isolation,
            } => {
                if self.block == Block::Idle {
                    self.notice(
                        "WARNING",
                        "25P01",
                        "SET TRANSACTION can only be used in transaction blocks",
                    );
                    return Ok("SET".into());
                }
                let wrote = self.txn.is_some();
                if let Block::Open {
                    read_only: ro,
                    isolation: iso,
                    ..
                } = &mut self.block
                {
                    if let Some(r) = read_only {
                        if !r && *ro && !wrote {
                            *ro = false;
                        } else {
                            *ro = r;
                        }
                    }
                    if isolation.is_some() {
                        *iso = isolation;
                    }
                }
                Ok("SET".into())
            }
        }
    }

    fn require_block(&self, what: &str) -> PgResult<()> {
        if matches!(
            self.block,
            Block::Open {
                implicit: false,
                ..
            }
        ) {
            return Ok(());
        }
        Err(PgError::new(
            code::NO_ACTIVE_SQL_TRANSACTION,
            format!("{what} can only be used in transaction blocks"),
        ))
    }

    fn set(&mut self, name: &str, value: Option<&str>, local: bool) -> PgResult<String> {
        let lname = name.to_ascii_lowercase();
        if lname == "transaction_isolation" || lname == "transaction_read_only" {
            return Ok("SET".into());
        }
        if local && self.block == Block::Idle {
            self.notice(
                "WARNING",
                "25P01",
                "SET LOCAL can only be used in transaction blocks",
            );
            return Ok("SET".into());
        }
        if self.block != Block::Idle {
            self.settings.track_transaction();
        }
        let changed = match value {
            Some(v) => self.settings.set(name, v, local)?,
            None => self.settings.reset(Some(name))?.into_iter().next(),
        };
        if let Some(c) = changed {
            self.parameter_status(&c);
        }
        Ok("SET".into())
    }

    fn show(&mut self, name: &str) -> PgResult<Response> {
        let col = super::stmt::show_column_name(name);
        let status = self.shared.status();
        let value = match name {
            "all" => {
                let rows = self
                    .settings
                    .all()
                    .into_iter()
                    .map(|(k, v)| vec![Value::Text(k), Value::Text(v), Value::Text(String::new())])
                    .collect();
                return Ok(Response::Rows(ResultSet {
                    cols: vec![
                        text_col("name"),
                        text_col("setting"),
                        text_col("description"),
                    ],
                    rows,
                    tag: "SHOW".into(),
                    sent: 0,
                }));
            }
            "bedrock.node_commit_count" => self.shared.published.commit_count().to_string(),
            "bedrock.group_commit" => self.shared.published.stats.render(),
            "bedrock.state" => status.state.name().to_string(),
            "bedrock.leader" => status.leader.unwrap_or_default(),
            "bedrock.node_name" => self.shared.config.node_name.clone(),
            "transaction isolation level" | "transaction_isolation" => match &self.block {
                Block::Open {
                    isolation: Some(l), ..
                } => l.clone(),
                _ => self
                    .settings
                    .get("default_transaction_isolation")
                    .unwrap_or_else(|| "read committed".into()),
            },
            "transaction_read_only" => {
                if self.block_read_only() {
                    "on".into()
                } else {
                    "off".into()
                }
            }
            "bedrock.commit_count" => self
                .settings
                .get("bedrock.commit_count")
                .unwrap_or_else(|| "0".into()),
            other => self.settings.get(other).ok_or_else(|| {
                PgError::new(
                    code::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{other}\""),
                )
            })?,
        };
        Ok(Response::Rows(ResultSet {
            cols: vec![text_col(&col)],
            rows: vec![vec![Value::Text(value)]],
            tag: "SHOW".into(),
            sent: 0,
        }))
    }

    /// The connection is going away: roll back anything open and return connections.
    pub fn end(&mut self) {
        self.abort_writes();
        self.end_snapshot();
        if let Some(c) = self.read_conn.take() {
            self.shared.store.return_reader(c, true);
        }
        self.shared.unregister(self.pid);
    }
}

pub(super) fn no_savepoint(name: &str) -> PgError {
    PgError::new(
        code::INVALID_SAVEPOINT_SPECIFICATION,
        format!("savepoint \"{name}\" does not exist"),
    )
}
