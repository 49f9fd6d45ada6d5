//! One client connection, as the wire protocol sees it: startup, the message loop, the simple
//! and extended query protocols (prepared statements, portals, row-limited Execute, Describe),
//! COPY framing, and encoding results in the formats the client asked for. Everything a
//! statement does is the executor's ([`crate::exec::Session`]); this file only speaks v3.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::BytesMut;
use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use pgwire::messages::data::{FieldDescription, NoData, ParameterDescription, RowDescription};
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

use super::copy::{CopyReader, render};
use super::protocol::{self, BadMessage, Frontend, Startup, put};
use crate::error::{PgError, PgResult, code};
use crate::exec::{self, Event, Response, ResultSet, Shared, Stmt, TxnStatus};
use crate::sql::statement::{CopyStmt, Parsed};
use crate::sql::translate::{OutCol, Plan};
use crate::sql::types::{PgType, Scalar};
use crate::sql::values;

struct Portal {
    stmt: Arc<Stmt>,
    params: Vec<Value>,
    formats: Vec<i16>,
    result: Option<ResultSet>,
}

pub struct Session {
    exec: exec::Session,
    reader: BufReader<OwnedReadHalf>,
    writer_half: OwnedWriteHalf,
    out: BytesMut,
    statements: HashMap<String, Arc<Stmt>>,
    portals: HashMap<String, Portal>,
    /// After an error in the extended protocol, skip until Sync.
    skipping: bool,
    /// Text of the statement most recently parsed or executed (for error positions).
    last_parse_text: Option<String>,
}

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
    pub async fn run(shared: Arc<Shared>, sock: TcpStream) -> std::io::Result<()> {
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
                    shared.cancel(pid, key);
                    return Ok(());
                }
                Ok(Startup::Start { version, params }) => {
                    if version & 0xffff != 0 {
                        // We speak 3.0; tell newer clients so.
                        let mut out = BytesMut::new();
                        put(
                            &mut out,
                            B::NegotiateProtocolVersion(
                                pgwire::messages::startup::NegotiateProtocolVersion::new(
                                    protocol::PROTOCOL_3_0,
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
        let mut s = Session {
            exec: exec::Session::new(shared),
            reader,
            writer_half: w,
            out: BytesMut::with_capacity(16 * 1024),
            statements: HashMap::new(),
            portals: HashMap::new(),
            skipping: false,
            last_parse_text: None,
        };
        let result = match s.exec.startup(params) {
            Ok(()) => match s.greet().await {
                Ok(()) => s.serve().await,
                Err(e) => Err(e),
            },
            Err(e) => {
                s.send_error(&e);
                s.flush().await
            }
        };
        s.exec.end();
        result
    }

    async fn greet(&mut self) -> std::io::Result<()> {
        put(&mut self.out, B::Authentication(Authentication::Ok));
        for (name, v) in self.exec.reported_parameters() {
            put(
                &mut self.out,
                B::ParameterStatus(ParameterStatus::new(name, v)),
            );
        }
        put(
            &mut self.out,
            B::BackendKeyData(BackendKeyData::new(
                self.exec.pid,
                SecretKey::I32(self.exec.secret),
            )),
        );
        self.ready();
        self.flush().await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.writer_half.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    fn ready(&mut self) {
        let st = match self.exec.status() {
            TxnStatus::Idle => TransactionStatus::Idle,
            TxnStatus::InBlock => TransactionStatus::Transaction,
            TxnStatus::Failed => TransactionStatus::Error,
        };
        put(&mut self.out, B::ReadyForQuery(ReadyForQuery::new(st)));
    }

    fn send_error(&mut self, e: &PgError) {
        self.events();
        put(
            &mut self.out,
            B::ErrorResponse(ErrorResponse::new(e.fields())),
        );
    }

    /// Send what the executor queued: notices and changed parameters.
    fn events(&mut self) {
        for ev in self.exec.take_events() {
            match ev {
                Event::Notice {
                    severity,
                    code,
                    message,
                } => {
                    let fields = vec![
                        (b'S', severity.to_string()),
                        (b'V', severity.to_string()),
                        (b'C', code.to_string()),
                        (b'M', message),
                    ];
                    put(
                        &mut self.out,
                        B::NoticeResponse(NoticeResponse::new(fields)),
                    );
                }
                Event::ParameterStatus { name, value } => put(
                    &mut self.out,
                    B::ParameterStatus(ParameterStatus::new(name, value)),
                ),
            }
        }
    }

    /// The message loop.
    async fn serve(&mut self) -> std::io::Result<()> {
        loop {
            let read = protocol::read_message(&mut self.reader);
            let msg = match self.exec.idle_in_transaction_timeout() {
                Some(t) => match tokio::time::timeout(t, read).await {
                    Ok(m) => m?,
                    Err(_) => {
                        // PostgreSQL ends the session (its transaction is rolled back).
                        self.send_error(&PgError::fatal(
                            code::IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                            "terminating connection due to idle-in-transaction timeout",
                        ));
                        return self.flush().await;
                    }
                },
                None => read.await?,
            };
            let Some(msg) = msg else {
                return Ok(());
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
        // After an error everything up to Sync is skipped; a Flush still sends what is
        // queued (the error itself), as PostgreSQL does — a client waiting for it would hang.
        if self.skipping && !matches!(m, Frontend::Sync | Frontend::Terminate | Frontend::Flush) {
            return Ok(Flow::Continue);
        }
        match m {
            Frontend::Query(q) => {
                self.simple_query(&q).await?;
                self.events();
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
                if let Some(e) = self.exec.end_implicit().await {
                    self.send_error(&e);
                }
                self.portals.remove("");
                if self.exec.status() == TxnStatus::Idle {
                    // Portals live until their transaction ends.
                    self.portals.retain(|k, _| k.is_empty());
                }
                self.events();
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
        self.send_error(&e);
        self.exec.mark_failed();
        self.skipping = true;
    }

    /// Whether the next message, already received, is a Sync: then the statement being
    /// executed ends its implicit block, and a lone write may commit on its own.
    fn sync_is_next(&self) -> bool {
        let b = self.reader.buffer();
        b.len() >= 5 && b[0] == b'S' && b[1..5] == 4i32.to_be_bytes()
    }

    // ---------------------------------------------------------------- simple query

    async fn simple_query(&mut self, sql: &str) -> std::io::Result<()> {
        let stmts: Vec<(usize, String)> = crate::sql::statement::split(sql)
            .into_iter()
            .filter(|(_, t)| !crate::sql::statement::is_blank(t))
            .map(|(o, t)| (o, t.to_string()))
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
        if multi {
            self.exec.begin_implicit();
        }
        for (offset, text) in stmts {
            if let Err(mut e) = self.simple_statement(&text, !multi).await {
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
                self.exec.after_error().await;
                return Ok(());
            }
            self.events();
            if self.out.len() > 64 * 1024 {
                self.flush().await?;
            }
        }
        if multi && let Some(e) = self.exec.end_implicit().await {
            self.send_error(&e);
        }
        Ok(())
    }

    async fn simple_statement(&mut self, text: &str, alone: bool) -> PgResult<()> {
        let (stmt, params) = match self.exec.normalized(text) {
            Some(hit) => hit,
            None => (
                Arc::new(self.exec.parse(text.to_string(), vec![])?),
                Vec::new(),
            ),
        };
        if let Some(cols) = stmt.columns() {
            self.row_description(&cols, &[]);
        }
        let response = self.run_statement(&stmt, &params, alone).await?;
        match response {
            Response::Rows(mut rs) => {
                self.send_rows(&mut rs, &[], 0)?;
                put(
                    &mut self.out,
                    B::CommandComplete(CommandComplete::new(rs.tag.clone())),
                );
            }
            Response::Done(tag) => {
                self.events();
                put(&mut self.out, B::CommandComplete(CommandComplete::new(tag)))
            }
            Response::Empty => put(
                &mut self.out,
                B::EmptyQueryResponse(EmptyQueryResponse::new()),
            ),
            Response::CopyIn(c) => self.copy_in(c).await?,
            Response::CopyOut(c) => self.copy_out(c).await?,
        }
        Ok(())
    }

    /// Run a statement, doing here what concerns the protocol's own objects (prepared
    /// statements named by DEALLOCATE, everything DISCARD ALL forgets).
    async fn run_statement(
        &mut self,
        stmt: &Arc<Stmt>,
        params: &[Value],
        followed_by_sync: bool,
    ) -> PgResult<Response> {
        if let Plan::Deallocate(name) = &stmt.plan {
            if self.exec.status() == TxnStatus::Failed {
                return self.exec.run(stmt, params, followed_by_sync).await;
            }
            return match name {
                None => {
                    self.statements.retain(|k, _| k.is_empty());
                    Ok(Response::Done("DEALLOCATE ALL".into()))
                }
                Some(n) => match self.statements.remove(n) {
                    Some(_) => Ok(Response::Done("DEALLOCATE".into())),
                    None => Err(PgError::new(
                        code::INVALID_SQL_STATEMENT_NAME,
                        format!("prepared statement \"{n}\" does not exist"),
                    )),
                },
            };
        }
        let r = self.exec.run(stmt, params, followed_by_sync).await?;
        if matches!(stmt.parsed, Parsed::Discard) {
            self.statements.clear();
            self.portals.retain(|k, _| k.is_empty());
        }
        Ok(r)
    }

    // ---------------------------------------------------------------- extended protocol

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
        let stmt = self.exec.parse(query, declared)?;
        self.statements.insert(name, Arc::new(stmt));
        put(&mut self.out, B::ParseComplete(ParseComplete::new()));
        Ok(())
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
        let stmt = self.exec.refresh(stmt)?;
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
        let zone = self.exec.zone();
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
            let stmt = self.exec.refresh(stmt)?;
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
            if self.exec.status() == TxnStatus::Idle && !matches!(portal.stmt.plan, Plan::Txn(_)) {
                self.exec.begin_implicit();
            }
            let stmt = portal.stmt.clone();
            let alone = self.sync_is_next();
            let r = self.run_statement(&stmt, &portal.params, alone).await;
            self.events();
            match r {
                Ok(Response::Rows(rs)) => portal.result = Some(rs),
                Ok(Response::Done(tag)) => {
                    put(&mut self.out, B::CommandComplete(CommandComplete::new(tag)));
                    return Ok(());
                }
                Ok(Response::Empty) => {
                    put(
                        &mut self.out,
                        B::EmptyQueryResponse(EmptyQueryResponse::new()),
                    );
                    return Ok(());
                }
                Ok(Response::CopyIn(c)) => {
                    if let Err(e) = self.copy_in(c).await {
                        self.fail_extended(&e);
                    }
                    return Ok(());
                }
                Ok(Response::CopyOut(c)) => {
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
        } else {
            put(
                &mut self.out,
                B::CommandComplete(CommandComplete::new(rs.tag.clone())),
            );
        }
        // A portal stays until it is closed or its transaction ends (a re-Execute of a
        // completed portal returns nothing more).
        self.portals.insert(name.to_string(), portal);
        if self.out.len() > 64 * 1024 {
            self.flush().await?;
        }
        Ok(())
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

    /// Encode and queue rows (all, or up to `limit`). DataRow messages are written straight
    /// into the output buffer (pgwire's DataRow would be one more copy of every value, on the
    /// hottest path of every read); text and integers in text format skip the conversion.
    fn send_rows(&mut self, rs: &mut ResultSet, formats: &[i16], limit: usize) -> PgResult<()> {
        use bytes::BufMut;
        let style = self.exec.output_style();
        // regclass / regtype / regproc print as names, which needs the catalog.
        let cat = self.exec.catalog();
        let end = if limit == 0 {
            rs.rows.len()
        } else {
            (rs.sent + limit).min(rs.rows.len())
        };
        for r in rs.sent..end {
            let row = &rs.rows[r];
            let start = self.out.len();
            self.out.put_u8(b'D');
            self.out.put_i32(0);
            self.out.put_i16(row.len() as i16);
            for (i, v) in row.iter().enumerate() {
                let ty = rs.cols.get(i).map(|c| c.ty).unwrap_or(PgType::TEXT);
                let fmt = match formats.len() {
                    0 => 0,
                    1 => formats[0],
                    _ => formats.get(i).copied().unwrap_or(0),
                };
                if fmt == 0 && !ty.array {
                    match (ty.scalar, v) {
                        (
                            Scalar::Text | Scalar::Varchar | Scalar::Bpchar | Scalar::Name,
                            Value::Text(t),
                        ) => {
                            self.out.put_i32(t.len() as i32);
                            self.out.put_slice(t.as_bytes());
                            continue;
                        }
                        (Scalar::Int8, Value::Integer(n))
                        | (Scalar::Int4, Value::Integer(n @ -2147483648..=2147483647)) => {
                            let mut b = itoa::Buffer::new();
                            let digits = b.format(*n).as_bytes();
                            self.out.put_i32(digits.len() as i32);
                            self.out.put_slice(digits);
                            continue;
                        }
                        _ => {}
                    }
                }
                let bytes: Option<Vec<u8>> = if fmt == 1 {
                    values::to_binary(ty, ValueRef::from(v))?
                } else if let Some(name) = crate::sql::pg_catalog::reg_text(ty, v, &cat) {
                    Some(name.into_bytes())
                } else {
                    values::to_text(ty, ValueRef::from(v), &style)?.map(String::into_bytes)
                };
                match bytes {
                    None => self.out.put_i32(-1),
                    Some(b) => {
                        self.out.put_i32(b.len() as i32);
                        self.out.put_slice(&b);
                    }
                }
            }
            let len = (self.out.len() - start - 1) as i32;
            self.out[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
        }
        rs.sent = end;
        Ok(())
    }

    // ---------------------------------------------------------------- COPY

    /// COPY … FROM STDIN: collect the data and hand its rows to the executor.
    async fn copy_in(&mut self, c: CopyStmt) -> PgResult<()> {
        let mut st = self.exec.copy_in_begin(&c)?;
        let n = st.columns();
        put(
            &mut self.out,
            B::CopyInResponse(CopyInResponse::new(0, n as i16, vec![0; n])),
        );
        self.flush().await.map_err(io_err)?;
        let mut reader = CopyReader::new(c.clone());
        let mut failure: Option<PgError> = None;
        loop {
            let msg = match protocol::read_message(&mut self.reader)
                .await
                .map_err(io_err)?
            {
                None => {
                    self.exec.copy_in_abort(st).await;
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
                                if let Err(e) = self.exec.copy_in_rows(&mut st, rows).await {
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
                Err(BadMessage::Fatal(e)) => {
                    self.exec.copy_in_abort(st).await;
                    return Err(e);
                }
                Err(BadMessage::Recoverable { error, .. }) => {
                    failure = Some(error);
                    continue;
                }
            };
            match rows {
                Ok(rows) => {
                    if let Err(e) = self.exec.copy_in_rows(&mut st, rows).await {
                        failure = Some(e);
                    }
                }
                Err(e) => failure = Some(e),
            }
        }
        if let Some(e) = failure {
            self.exec.copy_in_abort(st).await;
            let name = match &c.source {
                crate::sql::statement::CopySource::Table { name, .. } => name.clone(),
                _ => String::new(),
            };
            return Err(e.with_detail(format!("COPY {name}, line {}", reader.line)));
        }
        let tag = self.exec.copy_in_end(st).await?;
        self.events();
        put(&mut self.out, B::CommandComplete(CommandComplete::new(tag)));
        Ok(())
    }

    /// COPY … TO STDOUT.
    async fn copy_out(&mut self, c: CopyStmt) -> PgResult<()> {
        let rs = self.exec.copy_out(&c).await?;
        let style = self.exec.output_style();
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
}
