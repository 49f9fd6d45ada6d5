//! One client session: the protocol state machine (simple and extended query, COPY), the
//! transaction state (`I`/`T`/`E`, savepoints, implicit transactions), prepared statements and
//! portals, settings, and execution on the node's read connections or its single writer.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::BytesMut;
use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use pgwire::messages::data::{
    DataRow, FieldDescription, NoData, ParameterDescription, RowDescription,
};
use pgwire::messages::extendedquery::{
    BindComplete, CloseComplete, ParseComplete, PortalSuspended,
};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ErrorResponse, NoticeResponse, ReadyForQuery,
    TransactionStatus,
};
use pgwire::messages::startup::{Authentication, BackendKeyData, ParameterStatus, SecretKey};
use rusqlite::types::{Value, ValueRef};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::OwnedMutexGuard;

use super::copy::{CopyReader, render};
use super::protocol::{self, BadMessage, Frontend, Startup, put};
use super::server::{Cancel, Node, StopReason};
use super::settings::Settings;
use crate::error::{PgError, PgResult, Severity, code};
use crate::log::StmtCtx;
use crate::sql::catalog::Catalog;
use crate::sql::statement::{CopySource, CopyStmt, Parsed};
use crate::sql::translate::{self, Env, OutCol, Plan, Prepared, Tag, TxnOp};
use crate::sql::types::PgType;
use crate::sql::values;
use crate::store::{Conn, Writer};

/// Transaction block state.
#[derive(Debug, Clone, PartialEq)]
enum Block {
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

/// A statement prepared with Parse (or the one statement of a simple Query).
struct Stmt {
    text: String,
    parsed: Parsed,
    declared: Vec<Option<PgType>>,
    plan: Plan,
    generation: u64,
}

impl Stmt {
    /// Parameter types to announce and bind with.
    fn param_types(&self) -> Vec<(PgType, i32)> {
        match &self.plan {
            Plan::Run(p) => p.params.clone(),
            _ => self
                .declared
                .iter()
                .map(|t| (t.unwrap_or(PgType::TEXT), -1))
                .collect(),
        }
    }

    /// Result columns, if the statement returns rows.
    fn columns(&self) -> Option<Vec<OutCol>> {
        match &self.plan {
            Plan::Run(p) if !p.columns.is_empty() => Some(p.columns.clone()),
            Plan::Show(name) if name == "all" => Some(vec![
                text_col("name"),
                text_col("setting"),
                text_col("description"),
            ]),
            Plan::Show(name) => Some(vec![text_col(&show_column_name(name))]),
            _ => None,
        }
    }
}

fn text_col(name: &str) -> OutCol {
    OutCol {
        name: name.to_string(),
        ty: PgType::TEXT,
        typmod: -1,
        table_oid: 0,
        attnum: 0,
        collate: None,
    }
}

fn show_column_name(name: &str) -> String {
    match name {
        "transaction isolation level" => "transaction_isolation".into(),
        "time zone" => "TimeZone".into(),
        n => super::settings::canonical(n)
            .map(String::from)
            .unwrap_or_else(|| n.to_string()),
    }
}

/// The rows of an executed statement, waiting to be sent.
struct ResultSet {
    cols: Vec<OutCol>,
    rows: Vec<Vec<Value>>,
    tag: String,
    sent: usize,
}

struct Portal {
    stmt: Arc<Stmt>,
    params: Vec<Value>,
    formats: Vec<i16>,
    result: Option<ResultSet>,
}

/// What running a statement produced.
enum Outcome {
    Rows(ResultSet),
    Done(String),
    CopyIn(CopyStmt),
    CopyOut(CopyStmt),
    Empty,
}

pub struct Session {
    node: Arc<Node>,
    reader: BufReader<OwnedReadHalf>,
    writer_half: OwnedWriteHalf,
    out: BytesMut,
    pid: i32,
    secret: i32,
    cancel: Arc<Cancel>,
    settings: Settings,
    env: Env,
    block: Block,
    /// Transaction start (`now()`), microseconds since the epoch.
    txn_start: i64,
    read_conn: Option<Conn>,
    writer: Option<OwnedMutexGuard<Writer>>,
    /// Savepoints declared before the writer was taken (replayed when it is).
    early_savepoints: Vec<String>,
    statements: HashMap<String, Arc<Stmt>>,
    portals: HashMap<String, Portal>,
    /// After an error in the extended protocol, skip until Sync.
    skipping: bool,
    currval: HashMap<u32, i64>,
    lastval: Option<i64>,
    rng: u64,
    /// Text of the statement most recently parsed or executed (for error positions).
    last_parse_text: Option<String>,
    /// Why the last guarded statement stopped (a `Progress` reason).
    last_stop: u8,
    /// Translated simple-protocol statements by normalised text.
    simple_cache: HashMap<String, CachedSimple>,
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

/// Result of handling one message: keep going or end the connection.
enum Flow {
    Continue,
    Close,
}

fn io_err(e: std::io::Error) -> PgError {
    PgError::new(code::IO_ERROR, e.to_string())
}

impl Session {
    /// Run a connection from its first byte to the end.
    pub async fn run(node: Arc<Node>, sock: TcpStream) -> std::io::Result<()> {
        let (r, mut w) = sock.into_split();
        let mut reader = BufReader::with_capacity(64 * 1024, r);
        // Startup: SSL/GSS negotiation, cancel requests, then the StartupMessage.
        let params = loop {
            let Some(msg) = protocol::read_startup(&mut reader).await? else {
                return Ok(());
            };
            match msg {
                Ok(Startup::Ssl) | Ok(Startup::GssEnc) => {
                    w.write_all(b"N").await?;
                }
                Ok(Startup::Cancel { pid, key }) => {
                    node.cancel(pid, key);
                    return Ok(());
                }
                Ok(Startup::Start { version, params }) => {
                    let mut out = BytesMut::new();
                    if version & 0xffff != 0 {
                        // We speak 3.0; tell newer clients so.
                        put(
                            &mut out,
                            B::NegotiateProtocolVersion(
                                pgwire::messages::startup::NegotiateProtocolVersion::new(
                                    196608,
                                    vec![],
                                ),
                            ),
                        );
                        w.write_all(&out).await?;
                    }
                    break params;
                }
                Err(e) => {
                    let mut out = BytesMut::new();
                    put(&mut out, B::ErrorResponse(ErrorResponse::new(e.fields())));
                    w.write_all(&out).await?;
                    return Ok(());
                }
            }
        };
        let secret = crate::entropy::random_u64() as i32;
        let (pid, cancel) = node.register(secret);
        let mut s = Session {
            node: node.clone(),
            reader,
            writer_half: w,
            out: BytesMut::with_capacity(16 * 1024),
            pid,
            secret,
            cancel,
            settings: Settings::new("postgres"),
            env: Env::default(),
            block: Block::Idle,
            txn_start: 0,
            read_conn: None,
            writer: None,
            early_savepoints: Vec::new(),
            statements: HashMap::new(),
            portals: HashMap::new(),
            skipping: false,
            currval: HashMap::new(),
            lastval: None,
            rng: (crate::store::now_micros() as u64) ^ ((pid as u64) << 32),
            last_parse_text: None,
            last_stop: 0,
            simple_cache: HashMap::new(),
        };
        let result = s.start(params).await;
        let result = match result {
            Ok(true) => s.serve().await,
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        };
        s.end_session();
        node.unregister(pid);
        result
    }

    /// Apply the startup parameters and greet the client. Ok(false) if the client was refused.
    async fn start(&mut self, params: Vec<(String, String)>) -> std::io::Result<bool> {
        let mut user = None;
        let mut database = None;
        let mut gucs = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "user" => user = Some(v),
                "database" => database = Some(v),
                "replication" => {
                    return self
                        .refuse(PgError::fatal(
                            code::FEATURE_NOT_SUPPORTED,
                            "replication connections are not supported",
                        ))
                        .await;
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
            return self
                .refuse(PgError::fatal(
                    code::INVALID_AUTHORIZATION,
                    "no PostgreSQL user name specified in startup packet",
                ))
                .await;
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
                if e.code == code::UNDEFINED_OBJECT && !k.contains('.') {
                    e.severity = Severity::Fatal;
                    return self.refuse(e).await;
                }
                e.severity = Severity::Fatal;
                return self.refuse(e).await;
            }
        }
        self.env = Env {
            zone: self.settings.zone(),
            user,
            database,
            pid: self.pid,
        };
        put(&mut self.out, B::Authentication(Authentication::Ok));
        for name in super::settings::REPORTED {
            let v = self.settings.get(name).unwrap_or_default();
            put(
                &mut self.out,
                B::ParameterStatus(ParameterStatus::new(name.to_string(), v)),
            );
        }
        put(
            &mut self.out,
            B::BackendKeyData(BackendKeyData::new(self.pid, SecretKey::I32(self.secret))),
        );
        self.ready();
        self.flush().await?;
        Ok(true)
    }

    async fn refuse(&mut self, e: PgError) -> std::io::Result<bool> {
        put(
            &mut self.out,
            B::ErrorResponse(ErrorResponse::new(e.fields())),
        );
        self.flush().await?;
        Ok(false)
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.writer_half.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    fn status(&self) -> TransactionStatus {
        match &self.block {
            Block::Idle => TransactionStatus::Idle,
            Block::Open { failed: true, .. } => TransactionStatus::Error,
            Block::Open { implicit: true, .. } => TransactionStatus::Idle,
            Block::Open { .. } => TransactionStatus::Transaction,
        }
    }

    fn ready(&mut self) {
        let st = self.status();
        put(&mut self.out, B::ReadyForQuery(ReadyForQuery::new(st)));
    }

    fn send_error(&mut self, e: &PgError) {
        put(
            &mut self.out,
            B::ErrorResponse(ErrorResponse::new(e.fields())),
        );
    }

    fn notice(&mut self, severity: &str, code_: &str, msg: &str) {
        let fields = vec![
            (b'S', severity.to_string()),
            (b'V', severity.to_string()),
            (b'C', code_.to_string()),
            (b'M', msg.to_string()),
        ];
        put(
            &mut self.out,
            B::NoticeResponse(NoticeResponse::new(fields)),
        );
    }

    fn parameter_status(&mut self, name: &str) {
        if Settings::is_reported(name) || name.starts_with("bedrock.commit_count") {
            let v = self.settings.get(name).unwrap_or_default();
            put(
                &mut self.out,
                B::ParameterStatus(ParameterStatus::new(name.to_string(), v)),
            );
        }
        if name == "TimeZone" {
            self.env.zone = self.settings.zone();
        }
    }

    /// The message loop.
    async fn serve(&mut self) -> std::io::Result<()> {
        loop {
            let msg = match protocol::read_message(&mut self.reader).await? {
                None => return Ok(()),
                Some(m) => m,
            };
            let flow = match msg {
                Ok(m) => self.dispatch(m).await?,
                Err(BadMessage::Fatal(e)) => {
                    self.send_error(&e);
                    self.flush().await?;
                    Flow::Close
                }
                Err(BadMessage::Recoverable { error, extended }) => {
                    if extended {
                        self.fail_extended(&error);
                    } else {
                        self.send_error(&error);
                        self.ready();
                        self.flush().await?;
                    }
                    Flow::Continue
                }
            };
            if let Flow::Close = flow {
                self.flush().await?;
                return Ok(());
            }
            if self.out.len() > 64 * 1024 {
                self.flush().await?;
            }
        }
    }

    async fn dispatch(&mut self, m: Frontend) -> std::io::Result<Flow> {
        if self.skipping && !matches!(m, Frontend::Sync | Frontend::Terminate) {
            return Ok(Flow::Continue);
        }
        match m {
            Frontend::Query(q) => {
                self.simple_query(&q).await?;
                self.ready();
                self.flush().await?;
            }
            Frontend::Parse { name, query, types } => {
                if let Err(e) = self.parse(name, query, types) {
                    self.fail_extended(&e);
                }
            }
            Frontend::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            } => {
                if let Err(e) = self.bind(portal, statement, param_formats, params, result_formats)
                {
                    self.fail_extended(&e);
                }
            }
            Frontend::Describe { kind, name } => {
                if let Err(e) = self.describe(kind, &name) {
                    self.fail_extended(&e);
                }
            }
            Frontend::Execute { portal, max_rows } => self.execute(&portal, max_rows).await?,
            Frontend::Close { kind, name } => {
                if kind == b'S' {
                    self.statements.remove(&name);
                } else {
                    self.portals.remove(&name);
                }
                put(&mut self.out, B::CloseComplete(CloseComplete::new()));
            }
            Frontend::Sync => {
                self.skipping = false;
                self.end_implicit(true).await;
                self.portals.remove("");
                self.ready();
                self.flush().await?;
            }
            Frontend::Flush => self.flush().await?,
            Frontend::Terminate => return Ok(Flow::Close),
            Frontend::CopyData(_) | Frontend::CopyDone | Frontend::CopyFail(_) => {
                // Outside COPY these are ignored, as PostgreSQL does.
            }
            Frontend::Password(_) => {
                self.send_error(&PgError::fatal(
                    code::PROTOCOL_VIOLATION,
                    "unexpected password message",
                ));
                return Ok(Flow::Close);
            }
        }
        Ok(Flow::Continue)
    }

    /// An error in the extended protocol: report it, fail the block, skip until Sync.
    fn fail_extended(&mut self, e: &PgError) {
        let mut e = e.clone();
        if let Some((line, col)) = e.location.take()
            && let Some(text) = &self.last_parse_text
        {
            e.position = Some(PgError::char_position(text, line, col));
        }
        let e = &e;
        self.send_error(e);
        self.mark_failed();
        self.skipping = true;
    }

    fn mark_failed(&mut self) {
        match &mut self.block {
            Block::Open { failed, .. } => *failed = true,
            Block::Idle => {}
        }
    }

    // ---------------------------------------------------------------- simple query

    async fn simple_query(&mut self, sql: &str) -> std::io::Result<()> {
        let pieces: Vec<(usize, String)> = crate::sql::statement::split(sql)
            .into_iter()
            .map(|(o, t)| (o, t.to_string()))
            .collect();
        let stmts: Vec<(usize, String)> = pieces
            .into_iter()
            .filter(|(_, t)| !crate::sql::statement::is_blank(t))
            .collect();
        if stmts.is_empty() {
            put(
                &mut self.out,
                B::EmptyQueryResponse(EmptyQueryResponse::new()),
            );
            return Ok(());
        }
        // Several statements run in one implicit transaction (unless they manage their own).
        let multi = stmts.len() > 1;
        if multi && self.block == Block::Idle {
            self.block = Block::Open {
                implicit: true,
                failed: false,
                read_only: self.default_read_only(),
                isolation: None,
            };
            self.txn_start = crate::store::now_micros();
        }
        for (offset, text) in stmts {
            let r = self.simple_statement(&text).await;
            match r {
                Ok(()) => {}
                Err(mut e) => {
                    if let Some((line, col)) = e.location.take() {
                        e.position = Some(PgError::char_position(&text, line, col));
                    }
                    if let Some(p) = e.position {
                        e.position = Some(sql[..offset].chars().count() + p);
                    }
                    if e.code == code::IO_ERROR && e.message.contains("Broken pipe") {
                        return Err(std::io::Error::other(e.message.clone()));
                    }
                    self.send_error(&e);
                    self.after_error().await;
                    return Ok(());
                }
            }
            self.flush_if_big().await?;
        }
        if multi {
            self.end_implicit(true).await;
        }
        Ok(())
    }

    async fn flush_if_big(&mut self) -> std::io::Result<()> {
        if self.out.len() > 64 * 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    /// After a failed statement: an explicit block becomes failed; otherwise roll back.
    async fn after_error(&mut self) {
        match &self.block {
            Block::Open {
                implicit: false, ..
            } => self.mark_failed(),
            Block::Open { implicit: true, .. } => {
                let _ = self.finish_transaction(false).await;
            }
            Block::Idle => {
                let _ = self.finish_transaction(false).await;
            }
        }
    }

    async fn simple_statement(&mut self, text: &str) -> PgResult<()> {
        let (stmt, params) = match self.normalized_statement(text) {
            Some(hit) => hit,
            None => {
                let parsed = crate::sql::statement::parse(text)?;
                (
                    Arc::new(self.prepare(text.to_string(), parsed, vec![])?),
                    Vec::new(),
                )
            }
        };
        if let Some(cols) = stmt.columns() {
            self.row_description(&cols, &[]);
        }
        let outcome = self.run_stmt(&stmt, &params).await?;
        match outcome {
            Outcome::Rows(mut rs) => {
                self.send_rows(&mut rs, &[], 0)?;
                put(
                    &mut self.out,
                    B::CommandComplete(CommandComplete::new(rs.tag.clone())),
                );
            }
            Outcome::Done(tag) => put(&mut self.out, B::CommandComplete(CommandComplete::new(tag))),
            Outcome::Empty => put(
                &mut self.out,
                B::EmptyQueryResponse(EmptyQueryResponse::new()),
            ),
            Outcome::CopyIn(c) => self.copy_in(c).await?,
            Outcome::CopyOut(c) => self.copy_out(c).await?,
        }
        Ok(())
    }

    /// A simple-protocol statement through the session's cache of normalised statements: its
    /// literals become parameters, so repeated shapes are translated once. None means "take
    /// the normal path" (not normalisable, or the normalised text does not translate — then
    /// the original text reports its own error).
    fn normalized_statement(&mut self, text: &str) -> Option<(Arc<Stmt>, Vec<Value>)> {
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

    // ---------------------------------------------------------------- extended protocol

    /// Translate a parsed statement against the catalog this session sees.
    fn prepare(
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

    fn catalog(&self) -> Arc<Catalog> {
        match &self.writer {
            Some(w) => w.catalog.clone(),
            None => self.node.store.catalog(),
        }
    }

    fn parse(&mut self, name: String, query: String, types: Vec<u32>) -> PgResult<()> {
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(PgError::new(
                code::DUPLICATE_PREPARED_STATEMENT,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let declared: Vec<Option<PgType>> = types
            .iter()
            .map(|oid| {
                if *oid == 0 {
                    Ok(None)
                } else {
                    PgType::from_oid(*oid).map(Some).ok_or_else(|| {
                        PgError::new(
                            code::UNDEFINED_OBJECT,
                            format!("type with OID {oid} is not supported by bedrock-pg"),
                        )
                    })
                }
            })
            .collect::<PgResult<_>>()?;
        self.last_parse_text = Some(query.clone());
        let parsed = crate::sql::statement::parse(&query)?;
        let stmt = self.prepare(query, parsed, declared)?;
        self.statements.insert(name, Arc::new(stmt));
        put(&mut self.out, B::ParseComplete(ParseComplete::new()));
        Ok(())
    }

    /// Re-translate a statement if the catalog changed since it was prepared.
    fn refresh(&mut self, stmt: Arc<Stmt>) -> PgResult<Arc<Stmt>> {
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

    fn bind(
        &mut self,
        portal: String,
        statement: String,
        formats: Vec<i16>,
        params: Vec<Option<Vec<u8>>>,
        result_formats: Vec<i16>,
    ) -> PgResult<()> {
        let stmt = self.statements.get(&statement).cloned().ok_or_else(|| {
            PgError::new(
                code::INVALID_SQL_STATEMENT_NAME,
                format!("prepared statement \"{statement}\" does not exist"),
            )
        })?;
        let stmt = self.refresh(stmt)?;
        let types = stmt.param_types();
        if params.len() != types.len() {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{statement}\" requires {}",
                    params.len(),
                    types.len()
                ),
            ));
        }
        if formats.len() > 1 && formats.len() != params.len() {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                format!(
                    "bind message has {} parameter formats but {} parameters",
                    formats.len(),
                    params.len()
                ),
            ));
        }
        let zone = self.settings.zone();
        let mut values = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            let (ty, typmod) = types[i];
            let fmt = match formats.len() {
                0 => 0,
                1 => formats[0],
                _ => formats[i],
            };
            let v = match p {
                None => Value::Null,
                Some(bytes) => {
                    let v = match fmt {
                        0 => {
                            let s = protocol::utf8(bytes)?;
                            values::from_text(ty, &s, &zone)?
                        }
                        1 => values::from_binary(ty, bytes)?,
                        f => {
                            return Err(PgError::new(
                                code::PROTOCOL_VIOLATION,
                                format!("unsupported format code: {f}"),
                            ));
                        }
                    };
                    values::apply_typmod(ty, typmod, v)?
                }
            };
            values.push(v);
        }
        if let Some(cols) = stmt.columns()
            && result_formats.len() > 1
            && result_formats.len() != cols.len()
        {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                format!(
                    "bind message has {} result formats but query has {} columns",
                    result_formats.len(),
                    cols.len()
                ),
            ));
        }
        if result_formats.iter().any(|f| *f != 0 && *f != 1) {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                "unsupported result format code",
            ));
        }
        self.portals.insert(
            portal,
            Portal {
                stmt,
                params: values,
                formats: result_formats,
                result: None,
            },
        );
        put(&mut self.out, B::BindComplete(BindComplete::new()));
        Ok(())
    }

    fn describe(&mut self, kind: u8, name: &str) -> PgResult<()> {
        if kind == b'S' {
            let stmt = self.statements.get(name).cloned().ok_or_else(|| {
                PgError::new(
                    code::INVALID_SQL_STATEMENT_NAME,
                    format!("prepared statement \"{name}\" does not exist"),
                )
            })?;
            let stmt = self.refresh(stmt)?;
            let oids: Vec<u32> = stmt.param_types().iter().map(|(t, _)| t.oid()).collect();
            put(
                &mut self.out,
                B::ParameterDescription(ParameterDescription::new(oids)),
            );
            match stmt.columns() {
                Some(cols) => self.row_description(&cols, &[]),
                None => put(&mut self.out, B::NoData(NoData::new())),
            }
        } else {
            let p = self.portals.get(name).ok_or_else(|| {
                PgError::new(
                    code::INVALID_CURSOR_NAME,
                    format!("portal \"{name}\" does not exist"),
                )
            })?;
            let cols = p.stmt.columns();
            let formats = p.formats.clone();
            match cols {
                Some(cols) => self.row_description(&cols, &formats),
                None => put(&mut self.out, B::NoData(NoData::new())),
            }
        }
        Ok(())
    }

    async fn execute(&mut self, name: &str, max_rows: i32) -> std::io::Result<()> {
        let Some(mut portal) = self.portals.remove(name) else {
            self.fail_extended(&PgError::new(
                code::INVALID_CURSOR_NAME,
                format!("portal \"{name}\" does not exist"),
            ));
            return Ok(());
        };
        self.last_parse_text = Some(portal.stmt.text.clone());
        if portal.result.is_none() {
            // First Execute: run the statement in the implicit transaction if none is open.
            if self.block == Block::Idle && !matches!(portal.stmt.plan, Plan::Txn(_)) {
                self.block = Block::Open {
                    implicit: true,
                    failed: false,
                    read_only: self.default_read_only(),
                    isolation: None,
                };
                self.txn_start = crate::store::now_micros();
            }
            let stmt = portal.stmt.clone();
            match self.run_stmt(&stmt, &portal.params).await {
                Ok(Outcome::Rows(rs)) => portal.result = Some(rs),
                Ok(Outcome::Done(tag)) => {
                    put(&mut self.out, B::CommandComplete(CommandComplete::new(tag)));
                    return Ok(());
                }
                Ok(Outcome::Empty) => {
                    put(
                        &mut self.out,
                        B::EmptyQueryResponse(EmptyQueryResponse::new()),
                    );
                    return Ok(());
                }
                Ok(Outcome::CopyIn(c)) => {
                    if let Err(e) = self.copy_in(c).await {
                        self.fail_extended(&e);
                    }
                    return Ok(());
                }
                Ok(Outcome::CopyOut(c)) => {
                    if let Err(e) = self.copy_out(c).await {
                        self.fail_extended(&e);
                    }
                    return Ok(());
                }
                Err(e) => {
                    self.fail_extended(&e);
                    return Ok(());
                }
            }
        }
        let formats = portal.formats.clone();
        let Some(rs) = portal.result.as_mut() else {
            return Ok(());
        };
        let limit = if max_rows > 0 { max_rows as usize } else { 0 };
        if let Err(e) = self.send_rows(rs, &formats, limit) {
            self.fail_extended(&e);
            return Ok(());
        }
        if rs.sent < rs.rows.len() {
            put(&mut self.out, B::PortalSuspended(PortalSuspended::new()));
            self.portals.insert(name.to_string(), portal);
        } else {
            put(
                &mut self.out,
                B::CommandComplete(CommandComplete::new(rs.tag.clone())),
            );
            // A completed portal stays (re-Execute returns nothing more).
            self.portals.insert(name.to_string(), portal);
        }
        self.flush_if_big().await
    }

    fn row_description(&mut self, cols: &[OutCol], formats: &[i16]) {
        let fields = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let f = match formats.len() {
                    0 => 0,
                    1 => formats[0],
                    _ => formats.get(i).copied().unwrap_or(0),
                };
                FieldDescription::new(
                    c.name.clone(),
                    c.table_oid as i32,
                    c.attnum,
                    c.ty.oid(),
                    c.ty.typlen(),
                    c.typmod,
                    f,
                )
            })
            .collect();
        put(
            &mut self.out,
            B::RowDescription(RowDescription::new(fields)),
        );
    }

    /// Encode and queue rows (all, or up to `limit`).
    fn send_rows(&mut self, rs: &mut ResultSet, formats: &[i16], limit: usize) -> PgResult<()> {
        let style = self.settings.style();
        // regclass / regtype / regproc print as names, which needs the catalog.
        let cat = self.catalog();
        let end = if limit == 0 {
            rs.rows.len()
        } else {
            (rs.sent + limit).min(rs.rows.len())
        };
        for r in rs.sent..end {
            let row = &rs.rows[r];
            let mut data = BytesMut::with_capacity(64);
            for (i, v) in row.iter().enumerate() {
                let ty = rs.cols.get(i).map(|c| c.ty).unwrap_or(PgType::TEXT);
                let fmt = match formats.len() {
                    0 => 0,
                    1 => formats[0],
                    _ => formats.get(i).copied().unwrap_or(0),
                };
                let bytes: Option<Vec<u8>> = if fmt == 1 {
                    values::to_binary(ty, ValueRef::from(v))?
                } else if let Some(name) = crate::sql::pg_catalog::reg_text(ty, v, &cat) {
                    Some(name.into_bytes())
                } else {
                    values::to_text(ty, ValueRef::from(v), &style)?.map(String::into_bytes)
                };
                match bytes {
                    None => data.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(b) => {
                        data.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        data.extend_from_slice(&b);
                    }
                }
            }
            put(
                &mut self.out,
                B::DataRow(DataRow::new(data, row.len() as i16)),
            );
        }
        rs.sent = end;
        Ok(())
    }

    // ---------------------------------------------------------------- execution

    fn default_read_only(&self) -> bool {
        self.settings.value("default_transaction_read_only") == Some("on")
    }

    fn next_seed(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 27)
    }

    fn stmt_ctx(&mut self) -> StmtCtx {
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
        }
    }

    fn in_failed_block(&self) -> bool {
        matches!(self.block, Block::Open { failed: true, .. })
    }

    fn block_read_only(&self) -> bool {
        matches!(
            self.block,
            Block::Open {
                read_only: true,
                ..
            }
        ) || (self.block == Block::Idle && self.default_read_only())
    }

    async fn run_stmt(&mut self, stmt: &Stmt, params: &[Value]) -> PgResult<Outcome> {
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
                Outcome::CopyIn(c.clone())
            } else {
                Outcome::CopyOut(c.clone())
            });
        }
        if let Parsed::Discard = &stmt.parsed {
            if !matches!(self.block, Block::Idle | Block::Open { implicit: true, .. }) {
                return Err(PgError::new(
                    code::ACTIVE_SQL_TRANSACTION,
                    "DISCARD ALL cannot run inside a transaction block",
                ));
            }
            self.statements.clear();
            self.portals.retain(|k, _| k.is_empty());
            for n in self.settings.reset(None)? {
                self.parameter_status(&n);
            }
            self.currval.clear();
            self.lastval = None;
            return Ok(Outcome::Done("DISCARD ALL".into()));
        }
        match &stmt.plan {
            Plan::Empty => Ok(Outcome::Empty),
            Plan::NoOp(tag) => Ok(Outcome::Done(tag.clone())),
            Plan::Txn(op) => self.txn_op(op.clone()).await.map(Outcome::Done),
            Plan::Set { name, value, local } => {
                self.set(name, value.as_deref(), *local).map(Outcome::Done)
            }
            Plan::Show(name) => self.show(name),
            Plan::Reset(name) => {
                if self.block != Block::Idle {
                    self.settings.track_transaction();
                }
                for n in self.settings.reset(name.as_deref())? {
                    self.parameter_status(&n);
                }
                Ok(Outcome::Done("RESET".into()))
            }
            Plan::Deallocate(name) => {
                match name {
                    None => self.statements.retain(|k, _| k.is_empty()),
                    Some(n) => {
                        if self.statements.remove(n).is_none() {
                            return Err(PgError::new(
                                code::INVALID_SQL_STATEMENT_NAME,
                                format!("prepared statement \"{n}\" does not exist"),
                            ));
                        }
                    }
                }
                Ok(Outcome::Done(if name.is_none() {
                    "DEALLOCATE ALL".into()
                } else {
                    "DEALLOCATE".into()
                }))
            }
            Plan::Copy(_) => Err(PgError::unsupported("this form of COPY")),
            Plan::Ddl(ast) => self.run_ddl(ast).await.map(Outcome::Done),
            Plan::Run(p) => self.run_prepared(p, params).await,
        }
    }

    /// Take the writer and open a write transaction (waiting for other writers).
    async fn acquire_writer(&mut self) -> PgResult<()> {
        if self.writer.is_some() {
            return Ok(());
        }
        if self.block_read_only() && self.block != Block::Idle {
            return Err(PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                "cannot execute this statement in a read-only transaction",
            ));
        }
        let lock = self.node.store.writer();
        self.cancel.arm(None);
        let timeout_ms = self.settings.statement_timeout_ms();
        let wait = lock.lock_owned();
        let guard = if timeout_ms > 0 {
            tokio::select! {
                g = wait => g,
                _ = self.cancel.notify.notified() => return Err(self.stop_error()),
                _ = tokio::time::sleep(std::time::Duration::from_millis(timeout_ms)) => {
                    return Err(PgError::new(code::QUERY_CANCELED, "canceling statement due to statement timeout"));
                }
            }
        } else {
            tokio::select! {
                g = wait => g,
                _ = self.cancel.notify.notified() => return Err(self.stop_error()),
            }
        };
        let mut guard = guard;
        tokio::task::block_in_place(|| -> PgResult<()> {
            if guard.in_transaction() {
                // A previous holder died mid-transaction; never inherit its work.
                guard.rollback()?;
            }
            guard.begin()?;
            for sp in &self.early_savepoints {
                guard.savepoint(sp)?;
            }
            Ok(())
        })?;
        self.writer = Some(guard);
        Ok(())
    }

    fn stop_error(&self) -> PgError {
        match self.cancel.reason() {
            Some(StopReason::Timeout) => PgError::new(
                code::QUERY_CANCELED,
                "canceling statement due to statement timeout",
            ),
            _ => PgError::new(
                code::QUERY_CANCELED,
                "canceling statement due to user request",
            ),
        }
    }

    /// Run blocking SQLite work with cancel and statement_timeout wired to the connection.
    /// Run SQLite work with cancel and statement_timeout wired to the connection's progress
    /// handler. Blocking work (writes, fsync) moves off the async runtime with
    /// `block_in_place`; `inline` work runs right here under a small step budget and reports
    /// `Progress::YIELD` if it turns out long, so the caller can rerun it as blocking work.
    async fn guarded<T>(
        &mut self,
        progress: Arc<crate::store::Progress>,
        inline: bool,
        f: impl FnOnce(&mut Self) -> PgResult<T>,
    ) -> PgResult<T> {
        let timeout_ms = self.settings.statement_timeout_ms();
        let deadline = if timeout_ms > 0 {
            crate::store::now_micros() as u64 / 1000 + timeout_ms
        } else {
            0
        };
        progress.start(deadline, if inline { Some(INLINE_BUDGET) } else { None });
        self.cancel.arm(Some(progress.clone()));
        let r = if inline {
            f(self)
        } else {
            tokio::task::block_in_place(|| f(self))
        };
        self.cancel.disarm();
        self.last_stop = progress.reason();
        // Leave the connection runnable for what follows outside this guard (COMMIT, ROLLBACK);
        // a cancel that arrives after the statement finished is ignored, as in PostgreSQL.
        progress.start(0, None);
        r.map_err(|e| self.stopped(e))
    }

    /// Load session state the SQL functions read into a connection's context.
    fn load_session_state(&self, conn: &Conn, sql: &str) {
        if sql.contains("pg_current_setting")
            || sql.contains("pg_set_config")
            || sql.contains("pg_currval")
            || sql.contains("pg_lastval")
            || sql.contains("pg_nextval")
            || sql.contains("pg_setval")
        {
            let mut g = crate::sql::functions::lock(&conn.ctx);
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

    /// Read back what SQL functions changed in session state.
    fn save_session_state(&mut self, conn: &Conn, sql: &str) -> PgResult<()> {
        if !(sql.contains("pg_set_config")
            || sql.contains("pg_nextval")
            || sql.contains("pg_setval"))
        {
            return Ok(());
        }
        let (currval, lastval, calls) = {
            let mut g = crate::sql::functions::lock(&conn.ctx);
            (
                g.currval.clone(),
                g.lastval,
                std::mem::take(&mut g.set_config_calls),
            )
        };
        self.currval = currval;
        self.lastval = lastval;
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
    async fn await_fence(&mut self) -> PgResult<()> {
        let fence: u64 = self
            .settings
            .value("bedrock.commit_count")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if fence <= self.node.store.commit_count() {
            return Ok(());
        }
        let wait_ms = self
            .settings
            .get("bedrock.wait_timeout")
            .and_then(|v| super::settings::parse_duration_ms(&v, 1000))
            .unwrap_or(10_000);
        let store = self.node.store.clone();
        let cancel = self.cancel.clone();
        cancel.arm(None);
        let r = tokio::select! {
            r = store.wait_for_commit(fence, std::time::Duration::from_millis(wait_ms)) => r,
            _ = cancel.notify.notified() => return Err(self.stop_error()),
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

    async fn run_prepared(&mut self, p: &Prepared, params: &[Value]) -> PgResult<Outcome> {
        // Lifted literals are bound after the client's parameters.
        let joined: Vec<Value>;
        let params: &[Value] = if p.consts.is_empty() {
            params
        } else {
            joined = params.iter().chain(p.consts.iter()).cloned().collect();
            &joined
        };
        self.await_fence().await?;
        let ctx = self.stmt_ctx();
        let autocommit = self.block == Block::Idle;
        if p.writes || self.writer.is_some() {
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
            self.acquire_writer().await?;
            let target = target_table(p);
            let interrupt = match &self.writer {
                Some(w) => w.conn.progress.clone(),
                None => return Err(PgError::internal("writer vanished")),
            };
            let result = self
                .guarded(interrupt, false, |s| {
                    let Some(mut w) = s.writer.take() else {
                        return Err(PgError::internal("writer vanished"));
                    };
                    if p.reads_catalog {
                        crate::sql::pg_catalog::prepare_connection(&w.conn.conn, &w.catalog)?;
                    }
                    s.load_session_state(&w.conn, &p.sql);
                    let r = w.exec(&p.sql, params, &ctx, p.writes);
                    let cat = w.catalog.clone();
                    let r = r.map_err(|e| {
                        crate::sql::errors::from_sqlite(&e, Some(&cat), target.as_deref())
                    });
                    if r.is_err() {
                        w.sync_after_error();
                    }
                    let saved = s.save_session_state(&w.conn, &p.sql);
                    s.writer = Some(w);
                    let out = r?;
                    saved?;
                    Ok(out)
                })
                .await;
            let out = match result {
                Ok(o) => o,
                Err(e) => {
                    if autocommit {
                        let _ = self.finish_transaction(false).await;
                    }
                    return Err(e);
                }
            };
            if autocommit {
                self.commit_writer()?;
            }
            return Ok(self.outcome(p, out));
        }
        // A read on this session's read connection: first on this thread (most reads take
        // microseconds), again on a blocking thread if it yields as long-running.
        let mut conn = match self.read_conn.take() {
            Some(c) => c,
            None => self.node.store.reader()?,
        };
        let cat = self.catalog();
        // Catalog queries may first rebuild the emulated catalog: always blocking work.
        let mut inline = !p.reads_catalog;
        loop {
            let progress = conn.progress.clone();
            let (ctx, cat2) = (ctx.clone(), cat.clone());
            let (back, result) = self
                .guarded(progress, inline, move |s| {
                    let r = (|| {
                        if p.reads_catalog {
                            crate::sql::pg_catalog::prepare_connection(&conn.conn, &cat2)?;
                        }
                        s.load_session_state(&conn, &p.sql);
                        conn.load_ctx(&ctx);
                        crate::store::run(&conn.conn, &p.sql, params)
                            .map_err(|e| crate::sql::errors::from_sqlite(&e, Some(&cat2), None))
                    })();
                    Ok((conn, r))
                })
                .await?;
            conn = back;
            let result = result.map_err(|e| self.stopped(e));
            match result {
                Err(e) if inline && e.message == YIELDED => inline = false,
                other => {
                    self.read_conn = Some(conn);
                    return Ok(self.outcome(p, other?));
                }
            }
        }
    }

    /// Turn SQLite's interruption into the reason the statement was stopped.
    fn stopped(&self, e: PgError) -> PgError {
        if e.code != code::QUERY_CANCELED {
            return e;
        }
        match self.last_stop {
            crate::store::Progress::YIELD => PgError::new(code::QUERY_CANCELED, YIELDED),
            crate::store::Progress::TIMEOUT => PgError::new(
                code::QUERY_CANCELED,
                "canceling statement due to statement timeout",
            ),
            _ => self.stop_error(),
        }
    }

    fn outcome(&self, p: &Prepared, out: crate::store::QueryOutput) -> Outcome {
        let n = if p.columns.is_empty() || p.tag != Tag::Select {
            out.changes
        } else {
            out.rows.len() as u64
        };
        let tag = match &p.tag {
            Tag::Select => format!("SELECT {}", out.rows.len()),
            Tag::Insert => format!(
                "INSERT 0 {}",
                if p.columns.is_empty() {
                    n
                } else {
                    out.rows.len() as u64
                }
            ),
            Tag::Update => format!(
                "UPDATE {}",
                if p.columns.is_empty() {
                    n
                } else {
                    out.rows.len() as u64
                }
            ),
            Tag::Delete => format!(
                "DELETE {}",
                if p.columns.is_empty() {
                    n
                } else {
                    out.rows.len() as u64
                }
            ),
            Tag::Fixed(t) => t.clone(),
        };
        if p.columns.is_empty() {
            return Outcome::Done(tag);
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
        Outcome::Rows(ResultSet {
            cols: p.columns.clone(),
            rows,
            tag,
            sent: 0,
        })
    }

    async fn run_ddl(&mut self, ast: &translate::ddl::DdlStatement) -> PgResult<String> {
        if self.block_read_only() {
            return Err(PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                format!(
                    "cannot execute {} in a read-only transaction",
                    ast.command()
                ),
            ));
        }
        let autocommit = self.block == Block::Idle;
        self.acquire_writer().await?;
        let ctx = self.stmt_ctx();
        let env = self.env.clone();
        let interrupt = match &self.writer {
            Some(w) => w.conn.progress.clone(),
            None => return Err(PgError::internal("writer vanished")),
        };
        let r = self
            .guarded(interrupt, false, |s| {
                let Some(mut w) = s.writer.take() else {
                    return Err(PgError::internal("writer vanished"));
                };
                // DDL is all-or-nothing: a savepoint undoes a half-done statement.
                let sp = "__bedrock_ddl";
                let r = w
                    .savepoint(sp)
                    .and_then(|_| translate::ddl::execute(ast, &mut w, &env, &ctx));
                let r = match r {
                    Ok(o) => w.release(sp).map(|_| o),
                    Err(e) => {
                        if w.sqlite_txn_open() {
                            let _ = w.rollback_to(sp);
                            let _ = w.release(sp);
                        }
                        w.sync_after_error();
                        Err(e)
                    }
                };
                s.writer = Some(w);
                r
            })
            .await;
        match r {
            Ok(o) => {
                for n in &o.notices {
                    self.notice("NOTICE", "00000", n);
                }
                if autocommit {
                    self.commit_writer()?;
                }
                Ok(o.tag)
            }
            Err(e) => {
                if autocommit {
                    let _ = self.finish_transaction(false).await;
                }
                Err(e)
            }
        }
    }

    /// Commit the writer's transaction and release it.
    fn commit_writer(&mut self) -> PgResult<()> {
        let Some(mut w) = self.writer.take() else {
            return Ok(());
        };
        let r = tokio::task::block_in_place(|| w.commit());
        drop(w);
        self.early_savepoints.clear();
        match r {
            Ok(Some(n)) => {
                self.settings
                    .set_internal("bedrock.commit_count", n.to_string());
                put(
                    &mut self.out,
                    B::ParameterStatus(ParameterStatus::new(
                        "bedrock.commit_count".into(),
                        n.to_string(),
                    )),
                );
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// End the current transaction (commit or roll back) and return to Idle.
    async fn finish_transaction(&mut self, commit: bool) -> PgResult<()> {
        let result = if commit { self.commit_writer() } else { Ok(()) };
        let committed = commit && result.is_ok();
        if !committed && let Some(mut w) = self.writer.take() {
            let _ = tokio::task::block_in_place(|| w.rollback());
        }
        self.early_savepoints.clear();
        self.block = Block::Idle;
        self.txn_start = 0;
        for n in self.settings.end_transaction(committed) {
            self.parameter_status(&n);
        }
        self.portals.retain(|k, _| k.is_empty());
        result
    }

    /// End an implicit block (end of a multi-statement Query, or Sync).
    async fn end_implicit(&mut self, commit: bool) {
        if let Block::Open {
            implicit: true,
            failed,
            ..
        } = self.block
        {
            if let Err(e) = self.finish_transaction(commit && !failed).await {
                self.send_error(&e);
            }
        } else if self.block == Block::Idle
            && self.writer.is_some()
            && let Err(e) = self.finish_transaction(commit).await
        {
            self.send_error(&e);
        }
    }

    async fn txn_op(&mut self, op: TxnOp) -> PgResult<String> {
        match op {
            TxnOp::Begin {
                read_only,
                isolation,
                start,
            } => {
                match &mut self.block {
                    Block::Open {
                        implicit: true,
                        read_only: ro,
                        isolation: iso,
                        ..
                    } => {
                        // BEGIN inside a multi-statement Query makes the block explicit.
                        *ro = read_only || *ro;
                        *iso = isolation;
                        self.block = Block::Open {
                            implicit: false,
                            failed: false,
                            read_only,
                            isolation: None,
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
                match self.writer.as_mut() {
                    Some(w) => tokio::task::block_in_place(|| w.savepoint(&name))?,
                    None => self.early_savepoints.push(name),
                }
                Ok("SAVEPOINT".into())
            }
            TxnOp::Release(name) => {
                self.require_block("RELEASE SAVEPOINT")?;
                match self.writer.as_mut() {
                    Some(w) => tokio::task::block_in_place(|| w.release(&name))?,
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
                match self.writer.as_mut() {
                    Some(w) => tokio::task::block_in_place(|| w.rollback_to(&name))?,
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
                if let Block::Open {
                    read_only: ro,
                    isolation: iso,
                    ..
                } = &mut self.block
                {
                    if let Some(r) = read_only {
                        if !r && *ro && self.writer.is_none() {
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

    fn show(&mut self, name: &str) -> PgResult<Outcome> {
        let col = show_column_name(name);
        let value = match name {
            "all" => {
                let rows = self
                    .settings
                    .all()
                    .into_iter()
                    .map(|(k, v)| vec![Value::Text(k), Value::Text(v), Value::Text(String::new())])
                    .collect();
                return Ok(Outcome::Rows(ResultSet {
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
            "bedrock.node_commit_count" => self.node.store.commit_count().to_string(),
            "bedrock.state" => "LEADING".into(),
            "bedrock.leader" | "bedrock.node_name" => self.node.config.node_name.clone(),
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
        Ok(Outcome::Rows(ResultSet {
            cols: vec![text_col(&col)],
            rows: vec![vec![Value::Text(value)]],
            tag: "SHOW".into(),
            sent: 0,
        }))
    }

    // ---------------------------------------------------------------- COPY

    /// COPY … FROM STDIN: receive the data, then insert it in the current (or an implicit)
    /// write transaction.
    async fn copy_in(&mut self, c: CopyStmt) -> PgResult<()> {
        let CopySource::Table { name, columns } = &c.source else {
            return Err(PgError::unsupported("COPY (query) FROM"));
        };
        let cat = self.catalog();
        let t = cat.table(name).cloned().ok_or_else(|| {
            PgError::new(
                code::UNDEFINED_TABLE,
                format!("relation \"{name}\" does not exist"),
            )
        })?;
        let cols: Vec<crate::sql::catalog::Column> = if columns.is_empty() {
            t.columns.clone()
        } else {
            columns
                .iter()
                .map(|n| {
                    t.column(n).cloned().ok_or_else(|| {
                        PgError::new(
                            code::UNDEFINED_COLUMN,
                            format!("column \"{n}\" of relation \"{name}\" does not exist"),
                        )
                    })
                })
                .collect::<PgResult<_>>()?
        };
        if self.block_read_only() {
            return Err(PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                "cannot execute COPY FROM in a read-only transaction",
            ));
        }
        put(
            &mut self.out,
            B::CopyInResponse(CopyInResponse::new(
                0,
                cols.len() as i16,
                vec![0; cols.len()],
            )),
        );
        self.flush().await.map_err(io_err)?;
        let autocommit = self.block == Block::Idle;
        let mut reader = CopyReader::new(c.clone());
        let mut pending: Vec<Vec<Value>> = Vec::new();
        let mut total: u64 = 0;
        let mut failure: Option<PgError> = None;
        let zone = self.settings.zone();
        loop {
            let msg = match protocol::read_message(&mut self.reader)
                .await
                .map_err(io_err)?
            {
                None => {
                    return Err(PgError::new(
                        code::IO_ERROR,
                        "connection closed during COPY",
                    ));
                }
                Some(m) => m,
            };
            let rows = match msg {
                Ok(Frontend::CopyData(d)) => {
                    if failure.is_some() {
                        continue;
                    }
                    reader.feed(&d)
                }
                Ok(Frontend::CopyDone) => {
                    if failure.is_none() {
                        match reader.finish() {
                            Ok(rows) => {
                                if let Err(e) = convert_rows(rows, &cols, &zone, &mut pending) {
                                    failure = Some(e);
                                }
                            }
                            Err(e) => failure = Some(e),
                        }
                    }
                    break;
                }
                Ok(Frontend::CopyFail(m)) => {
                    failure = Some(PgError::new(
                        code::QUERY_CANCELED,
                        format!("COPY from stdin failed: {m}"),
                    ));
                    break;
                }
                Ok(Frontend::Sync) | Ok(Frontend::Flush) => continue,
                Ok(other) => {
                    failure = Some(PgError::new(
                        code::PROTOCOL_VIOLATION,
                        format!("unexpected message type during COPY from stdin: {other:?}")
                            .chars()
                            .take(120)
                            .collect::<String>(),
                    ));
                    break;
                }
                Err(BadMessage::Fatal(e)) => return Err(e),
                Err(BadMessage::Recoverable { error, .. }) => {
                    failure = Some(error);
                    continue;
                }
            };
            match rows.and_then(|r| convert_rows(r, &cols, &zone, &mut pending)) {
                Ok(()) => {}
                Err(e) => failure = Some(e),
            }
            if pending.len() >= 5000 && failure.is_none() {
                match self
                    .insert_rows(&t.name, &cols, std::mem::take(&mut pending))
                    .await
                {
                    Ok(n) => total += n,
                    Err(e) => failure = Some(e),
                }
            }
        }
        if let Some(e) = failure {
            if autocommit {
                let _ = self.finish_transaction(false).await;
            }
            return Err(e.with_detail(format!("COPY {name}, line {}", reader.line)));
        }
        match self.insert_rows(&t.name, &cols, pending).await {
            Ok(n) => total += n,
            Err(e) => {
                if autocommit {
                    let _ = self.finish_transaction(false).await;
                }
                return Err(e);
            }
        }
        if autocommit {
            self.commit_writer()?;
        }
        put(
            &mut self.out,
            B::CommandComplete(CommandComplete::new(format!("COPY {total}"))),
        );
        Ok(())
    }

    /// Insert converted rows in batches (each batch one recorded statement).
    async fn insert_rows(
        &mut self,
        table: &str,
        cols: &[crate::sql::catalog::Column],
        rows: Vec<Vec<Value>>,
    ) -> PgResult<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        self.acquire_writer().await?;
        let ctx = self.stmt_ctx();
        let ncols = cols.len();
        let per = (30_000 / ncols.max(1)).clamp(1, 500);
        let col_list: Vec<String> = cols.iter().map(|c| translate::quote(&c.name)).collect();
        let interrupt = match &self.writer {
            Some(w) => w.conn.progress.clone(),
            None => return Err(PgError::internal("writer vanished")),
        };
        let table = table.to_string();
        self.guarded(interrupt, false, move |s| {
            let Some(w) = s.writer.as_mut() else {
                return Err(PgError::internal("writer vanished"));
            };
            let cat = w.catalog.clone();
            let mut n = 0u64;
            for chunk in rows.chunks(per) {
                let mut groups = Vec::with_capacity(chunk.len());
                let mut params = Vec::with_capacity(chunk.len() * ncols);
                for row in chunk {
                    let start = params.len();
                    groups.push(format!(
                        "({})",
                        (1..=ncols)
                            .map(|k| format!("?{}", start + k))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    params.extend(row.iter().cloned());
                }
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    translate::quote(&table),
                    col_list.join(", "),
                    groups.join(", ")
                );
                w.exec(&sql, &params, &ctx, true)
                    .map_err(|e| crate::sql::errors::from_sqlite(&e, Some(&cat), Some(&table)))?;
                n += chunk.len() as u64;
            }
            Ok(n)
        })
        .await
    }

    /// COPY … TO STDOUT.
    async fn copy_out(&mut self, c: CopyStmt) -> PgResult<()> {
        let query = match &c.source {
            CopySource::Table { name, columns } => {
                let cols = if columns.is_empty() {
                    "*".to_string()
                } else {
                    columns
                        .iter()
                        .map(|c| translate::quote(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("SELECT {cols} FROM {}", translate::quote(name))
            }
            CopySource::Query(q) => q.clone(),
        };
        let parsed = crate::sql::statement::parse(&query)?;
        let stmt = self.prepare(query, parsed, vec![])?;
        let Plan::Run(p) = &stmt.plan else {
            return Err(PgError::syntax("COPY query must be a SELECT"));
        };
        let outcome = self.run_prepared(p, &[]).await?;
        let Outcome::Rows(rs) = outcome else {
            return Err(PgError::syntax("COPY query must return rows"));
        };
        let style = self.settings.style();
        let n = rs.cols.len();
        put(
            &mut self.out,
            B::CopyOutResponse(CopyOutResponse::new(0, n as i16, vec![0; n])),
        );
        let force: Vec<bool> = rs
            .cols
            .iter()
            .map(|col| c.force_quote.contains(&col.name))
            .collect();
        if c.header && c.format == crate::sql::statement::CopyFormat::Csv {
            let names: Vec<Option<String>> =
                rs.cols.iter().map(|col| Some(col.name.clone())).collect();
            let line = render(
                &names,
                &CopyStmt {
                    force_quote_all: false,
                    ..c.clone()
                },
                &[],
            );
            put(
                &mut self.out,
                B::CopyData(CopyData::new(line.into_bytes().into())),
            );
        }
        for row in &rs.rows {
            let mut texts = Vec::with_capacity(n);
            for (i, v) in row.iter().enumerate() {
                texts.push(values::to_text(rs.cols[i].ty, ValueRef::from(v), &style)?);
            }
            let line = render(&texts, &c, &force);
            put(
                &mut self.out,
                B::CopyData(CopyData::new(line.into_bytes().into())),
            );
            if self.out.len() > 64 * 1024 {
                self.flush().await.map_err(io_err)?;
            }
        }
        put(&mut self.out, B::CopyDone(CopyDone::new()));
        put(
            &mut self.out,
            B::CommandComplete(CommandComplete::new(format!("COPY {}", rs.rows.len()))),
        );
        Ok(())
    }

    /// The connection is going away: roll back anything open and return connections.
    fn end_session(&mut self) {
        if let Some(mut w) = self.writer.take() {
            let _ = tokio::task::block_in_place(|| w.rollback());
        }
        if let Some(c) = self.read_conn.take() {
            self.node.store.return_reader(c);
        }
    }
}

/// Progress callbacks (every 2,000 VM steps) a read may run on the async thread before it
/// yields to a blocking thread: roughly a millisecond of work.
const INLINE_BUDGET: i64 = 50;

/// Marker message of a read that yielded (never sent to a client).
const YIELDED: &str = "__bedrock_yield";

fn no_savepoint(name: &str) -> PgError {
    PgError::new(
        code::INVALID_SAVEPOINT_SPECIFICATION,
        format!("savepoint \"{name}\" does not exist"),
    )
}

/// Convert COPY text fields into canonical values for the target columns.
fn convert_rows(
    rows: Vec<Vec<Option<String>>>,
    cols: &[crate::sql::catalog::Column],
    zone: &crate::sql::datetime::Zone,
    out: &mut Vec<Vec<Value>>,
) -> PgResult<()> {
    for r in rows {
        if r.len() < cols.len() {
            let missing = &cols[r.len()].name;
            return Err(PgError::new(
                code::BAD_COPY_FILE_FORMAT,
                format!("missing data for column \"{missing}\""),
            ));
        }
        if r.len() > cols.len() {
            return Err(PgError::new(
                code::BAD_COPY_FILE_FORMAT,
                "extra data after last expected column",
            ));
        }
        let mut vals = Vec::with_capacity(cols.len());
        for (f, c) in r.into_iter().zip(cols) {
            vals.push(match f {
                None => {
                    if c.not_null {
                        return Err(PgError::new(
                            code::NOT_NULL_VIOLATION,
                            format!(
                                "null value in column \"{}\" violates not-null constraint",
                                c.name
                            ),
                        ));
                    }
                    Value::Null
                }
                Some(s) => {
                    values::apply_typmod(c.ty, c.typmod, values::from_text(c.ty, &s, zone)?)?
                }
            });
        }
        out.push(vals);
    }
    Ok(())
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
