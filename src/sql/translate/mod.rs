//! PostgreSQL → SQLite translation. A statement parsed by sqlparser is walked by a typed emitter:
//! every construct has one small function that resolves names, computes the PostgreSQL type of
//! each expression, coerces untyped literals and parameters by context, and prints SQLite SQL.
//! Constructs without a faithful translation fail with `0A000` naming the construct — nothing
//! unknown is passed through to SQLite to mean something else.

pub mod ddl;
mod dml;
mod expr;
mod funcs;
mod funcs_ext;
mod grouping;
mod query;
pub mod scope;

use std::collections::HashMap;

use sqlparser::ast::{ObjectName, ObjectNamePart, Statement};

use super::catalog::Catalog;
use super::datetime::Zone;
use super::types::PgType;
use crate::error::{PgError, PgResult, code};
pub use scope::{Col, Rel, Scope};

/// Session facts translation depends on.
#[derive(Debug, Clone)]
pub struct Env {
    pub zone: Zone,
    pub user: String,
    pub database: String,
    /// The session's backend pid (`pg_backend_pid()`), as sent in BackendKeyData.
    pub pid: i32,
}

impl Default for Env {
    fn default() -> Self {
        Env {
            zone: Zone::UTC,
            user: "postgres".into(),
            database: "postgres".into(),
            pid: 0,
        }
    }
}

/// The type of a translated expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    Known(PgType),
    /// An untyped literal (`'abc'`, `NULL`) whose type comes from context.
    Unknown,
    /// A parameter `$n` (0-based index) whose type is not settled yet.
    Param(usize),
}

/// A constant the emitter may re-emit once its type is known.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(String),
    Null,
}

/// A typed SQL fragment.
#[derive(Debug, Clone)]
pub struct Ex {
    pub sql: String,
    pub ty: Ty,
    pub typmod: i32,
    pub lit: Option<Lit>,
    /// Collation the value compares with (set for numeric/interval columns).
    pub collate: Option<&'static str>,
    /// The output column name PostgreSQL would give it (FigureColname); None = `?column?`.
    pub name: Option<String>,
    /// Table oid and attnum when the value is a plain column.
    pub origin: Option<(u32, i16)>,
}

impl Ex {
    pub fn new(sql: impl Into<String>, ty: PgType) -> Ex {
        Ex {
            sql: sql.into(),
            ty: Ty::Known(ty),
            typmod: -1,
            lit: None,
            collate: None,
            name: None,
            origin: None,
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> Ex {
        self.name = Some(name.into());
        self
    }

    pub fn known(&self) -> Option<PgType> {
        match self.ty {
            Ty::Known(t) => Some(t),
            _ => None,
        }
    }
}

/// A result column as announced in RowDescription.
#[derive(Debug, Clone, PartialEq)]
pub struct OutCol {
    pub name: String,
    pub ty: PgType,
    pub typmod: i32,
    pub table_oid: u32,
    pub attnum: i16,
    pub collate: Option<&'static str>,
}

/// The command tag family of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Tag {
    Select,
    Insert,
    Update,
    Delete,
    /// A fixed tag such as `CREATE TABLE`.
    Fixed(String),
}

/// One SQLite statement ready to run, with what the front end needs to describe and bind it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub sql: String,
    /// Parameter types, index i for `$i+1`, with the typmod to enforce when binding.
    pub params: Vec<(PgType, i32)>,
    pub columns: Vec<OutCol>,
    pub tag: Tag,
    /// Must run on the writer (DML, nextval, FOR UPDATE, set_config).
    pub writes: bool,
    /// The statement reads the emulated system catalogs.
    pub reads_catalog: bool,
    /// Literal values lifted out of the SQL (bound after the client's parameters), so that
    /// statements differing only in literals share one SQLite prepared statement.
    pub consts: Vec<rusqlite::types::Value>,
    /// `SELECT … FOR UPDATE / FOR SHARE`: the row locks it takes.
    pub locking: Option<Locking>,
}

/// The row locks of a `SELECT … FOR UPDATE / FOR SHARE`: for each locked table, the output
/// column (after the visible ones) that carries the row's rowid.
#[derive(Debug, Clone, PartialEq)]
pub struct Locking {
    pub targets: Vec<(String, usize)>,
    /// FOR UPDATE / FOR NO KEY UPDATE (not FOR SHARE / FOR KEY SHARE).
    pub exclusive: bool,
    pub wait: LockWait,
}

/// What a locking clause does when a row is locked by another transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    Block,
    Nowait,
    SkipLocked,
}

/// Marks a lifted literal in emitted SQL until its parameter number is known.
const CONST_MARK: char = '\u{1}';

/// What a statement is, for the session to act on.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A query or DML statement.
    Run(Prepared),
    /// DDL: executed on the writer by `ddl::execute`.
    Ddl(ddl::DdlStatement),
    /// Transaction control.
    Txn(TxnOp),
    /// `SET name = value` (`local` for SET LOCAL); value None means DEFAULT.
    Set {
        name: String,
        value: Option<String>,
        local: bool,
    },
    Show(String),
    Reset(Option<String>),
    /// `COPY table [(cols)] FROM STDIN / TO STDOUT`.
    Copy(Box<Statement>),
    /// Accepted and ignored (VACUUM, ANALYZE, CHECKPOINT, …).
    NoOp(String),
    /// `DEALLOCATE name` / `DEALLOCATE ALL` (None).
    Deallocate(Option<String>),
    /// `LOCK TABLE`.
    Lock(crate::sql::statement::LockStmt),
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TxnOp {
    Begin {
        read_only: bool,
        isolation: Option<String>,
        /// Spelled `START TRANSACTION` (its command tag differs from `BEGIN`'s).
        start: bool,
    },
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
    /// `SET TRANSACTION …`: only its access mode matters to us.
    SetTransaction {
        read_only: Option<bool>,
        isolation: Option<String>,
    },
}

/// The translator of one statement.
pub struct Tr<'a> {
    pub cat: &'a Catalog,
    pub env: &'a Env,
    /// Parameter types as known so far (client-declared or inferred).
    pub params: Vec<Option<(PgType, i32)>>,
    pub writes: bool,
    pub reads_catalog: bool,
    /// Lift literals into bound parameters (not inside DDL: SQLite's schema cannot hold them).
    pub auto_params: bool,
    /// A function whose result depends on session state that is not replicated; refused in
    /// statements that write (a follower replaying them would compute something else).
    pub session_dependent: Option<&'static str>,
    consts: Vec<rusqlite::types::Value>,
    /// The top-level query's locking clause, until its SELECT takes it.
    pub(crate) pending_lock: Option<Vec<sqlparser::ast::LockClause>>,
    pub(crate) locking: Option<Locking>,
    ctes: Vec<HashMap<String, Rel>>,
    next_alias: usize,
}

impl<'a> Tr<'a> {
    pub fn new(cat: &'a Catalog, env: &'a Env, declared: &[Option<PgType>]) -> Tr<'a> {
        Tr {
            cat,
            env,
            params: declared.iter().map(|t| t.map(|t| (t, -1))).collect(),
            writes: false,
            reads_catalog: false,
            auto_params: false,
            session_dependent: None,
            consts: Vec::new(),
            pending_lock: None,
            locking: None,
            ctes: Vec::new(),
            next_alias: 0,
        }
    }

    /// SQL for a constant value: a lifted parameter when `auto_params`, else a literal.
    pub fn const_sql(&mut self, v: rusqlite::types::Value) -> String {
        if !self.auto_params {
            return sql_value(&v);
        }
        self.consts.push(v);
        format!("{CONST_MARK}{}{CONST_MARK}", self.consts.len() - 1)
    }

    /// Number the lifted constants after the client's parameters; returns the final SQL.
    fn finish_sql(&mut self, sql: String) -> String {
        if self.consts.is_empty() {
            return sql;
        }
        let base = self.params.len();
        let mut out = String::with_capacity(sql.len() + 8);
        for (i, part) in sql.split(CONST_MARK).enumerate() {
            if i % 2 == 1 {
                let k: usize = part.parse().unwrap_or(0);
                out.push_str(&format!("?{}", base + k + 1));
            } else {
                out.push_str(part);
            }
        }
        out
    }

    /// A fresh internal alias.
    pub fn alias(&mut self, prefix: &str) -> String {
        self.next_alias += 1;
        format!("__{prefix}{}", self.next_alias)
    }

    pub fn param_type(&self, i: usize) -> Option<PgType> {
        self.params.get(i).and_then(|p| p.map(|(t, _)| t))
    }

    /// Settle the type of `$i+1` (first context wins, as in PostgreSQL).
    pub fn set_param(&mut self, i: usize, ty: PgType, typmod: i32) {
        if self.params.len() <= i {
            self.params.resize(i + 1, None);
        }
        if self.params[i].is_none() {
            self.params[i] = Some((ty, typmod));
        }
    }

    fn finish_params(&self) -> Vec<(PgType, i32)> {
        self.params
            .iter()
            .map(|p| p.unwrap_or((PgType::TEXT, -1)))
            .collect()
    }

    fn lookup_cte(&self, name: &str) -> Option<&Rel> {
        self.ctes.iter().rev().find_map(|m| m.get(name))
    }
}

/// Refuse session-dependent functions in statements whose effects replicate.
fn check_replicable(tr: &Tr, writes: bool) -> PgResult<()> {
    match (tr.session_dependent, writes) {
        (Some(f), true) => Err(PgError::unsupported(format!(
            "{f} in a statement that writes (its result depends on session state that does not replicate)"
        ))),
        _ => Ok(()),
    }
}

/// Translate a parsed statement. `declared` holds client-declared parameter types.
pub fn translate(
    stmt: &Statement,
    cat: &Catalog,
    env: &Env,
    declared: &[Option<PgType>],
) -> PgResult<Plan> {
    use Statement as S;
    let mut tr = Tr::new(cat, env, declared);
    tr.auto_params = true;
    Ok(match stmt {
        S::Query(q) => {
            let out = tr.query_top(q)?;
            check_replicable(&tr, tr.writes)?;
            let sql = tr.finish_sql(out.sql);
            Plan::Run(Prepared {
                sql,
                params: tr.finish_params(),
                columns: out.cols,
                tag: Tag::Select,
                writes: tr.writes,
                reads_catalog: tr.reads_catalog,
                consts: std::mem::take(&mut tr.consts),
                locking: tr.locking.take(),
            })
        }
        S::Insert(_) | S::Update(_) | S::Delete(_) => {
            let (sql, cols, tag) = tr.dml(stmt)?;
            check_replicable(&tr, true)?;
            let sql = tr.finish_sql(sql);
            Plan::Run(Prepared {
                sql,
                params: tr.finish_params(),
                columns: cols,
                tag,
                writes: true,
                reads_catalog: tr.reads_catalog,
                consts: std::mem::take(&mut tr.consts),
                locking: None,
            })
        }
        S::StartTransaction { modes, begin, .. } => Plan::Txn(match begin_op(modes) {
            TxnOp::Begin {
                read_only,
                isolation,
                ..
            } => TxnOp::Begin {
                read_only,
                isolation,
                start: !*begin,
            },
            other => other,
        }),
        S::Commit { chain, .. } => {
            if *chain {
                return Err(PgError::unsupported("COMMIT AND CHAIN"));
            }
            Plan::Txn(TxnOp::Commit)
        }
        S::Rollback { chain, savepoint } => {
            if *chain {
                return Err(PgError::unsupported("ROLLBACK AND CHAIN"));
            }
            match savepoint {
                Some(s) => Plan::Txn(TxnOp::RollbackTo(scope::ident(s))),
                None => Plan::Txn(TxnOp::Rollback),
            }
        }
        S::Savepoint { name } => Plan::Txn(TxnOp::Savepoint(scope::ident(name))),
        S::ReleaseSavepoint { name } => Plan::Txn(TxnOp::Release(scope::ident(name))),
        S::Copy { .. } => Plan::Copy(Box::new(stmt.clone())),
        S::Set(set) => set_plan(set)?,
        S::ShowVariable { .. } => {
            // sqlparser splits `bedrock.consistency` into words; the statement text keeps the dot.
            let text = stmt.to_string();
            let name = text
                .trim_start_matches("SHOW")
                .trim()
                .trim_matches('"')
                .to_lowercase();
            Plan::Show(name)
        }
        S::Reset(r) => match &r.reset {
            sqlparser::ast::Reset::ALL => Plan::Reset(None),
            sqlparser::ast::Reset::ConfigurationParameter(n) => Plan::Reset(Some(n.to_string())),
            _ => return Err(PgError::unsupported("RESET SESSION AUTHORIZATION")),
        },
        S::Deallocate { name, .. } => {
            if name.value.eq_ignore_ascii_case("all") && name.quote_style.is_none() {
                Plan::Deallocate(None)
            } else {
                Plan::Deallocate(Some(scope::ident(name)))
            }
        }
        S::Vacuum(_) | S::Analyze(_) => Plan::NoOp(
            if matches!(stmt, S::Vacuum(_)) {
                "VACUUM"
            } else {
                "ANALYZE"
            }
            .into(),
        ),
        S::CreateTable(_)
        | S::CreateIndex(_)
        | S::CreateSequence { .. }
        | S::CreateView(_)
        | S::Drop { .. }
        | S::AlterTable(_)
        | S::Truncate(_)
        | S::AlterIndex { .. }
        | S::CreateSchema { .. }
        | S::CreateExtension(_)
        | S::Comment { .. } => Plan::Ddl(ddl::DdlStatement::Sql(Box::new(stmt.clone()))),
        S::Explain { statement, .. } => {
            let inner = translate(statement, cat, env, declared)?;
            let Plan::Run(p) = inner else {
                return Err(PgError::unsupported("EXPLAIN of this statement"));
            };
            Plan::Run(Prepared {
                sql: format!("EXPLAIN QUERY PLAN {}", p.sql),
                consts: p.consts,
                params: p.params,
                columns: vec![OutCol {
                    name: "QUERY PLAN".into(),
                    ty: PgType::TEXT,
                    typmod: -1,
                    table_oid: 0,
                    attnum: 0,
                    collate: None,
                }],
                tag: Tag::Fixed("EXPLAIN".into()),
                writes: false,
                reads_catalog: p.reads_catalog,
                locking: None,
            })
        }
        other => return Err(unsupported_statement(other)),
    })
}

/// The text of a SET value list as PostgreSQL joins it (`a, b`); None for DEFAULT.
fn set_value(values: &[sqlparser::ast::Expr]) -> Option<String> {
    use sqlparser::ast::{Expr, Value as V};
    let mut parts = Vec::new();
    for v in values {
        let s = match v {
            Expr::Identifier(i)
                if i.quote_style.is_none()
                    && i.value.eq_ignore_ascii_case("default")
                    && values.len() == 1 =>
            {
                return None;
            }
            Expr::Identifier(i) => i.value.clone(),
            Expr::Value(x) => match &x.value {
                V::SingleQuotedString(s)
                | V::EscapedStringLiteral(s)
                | V::DoubleQuotedString(s) => s.clone(),
                V::Number(n, _) => n.clone(),
                V::Boolean(b) => {
                    if *b {
                        "on".into()
                    } else {
                        "off".into()
                    }
                }
                other => other.to_string(),
            },
            Expr::UnaryOp {
                op: sqlparser::ast::UnaryOperator::Minus,
                expr,
            } => format!("-{expr}"),
            other => other.to_string(),
        };
        parts.push(s);
    }
    Some(parts.join(", "))
}

fn set_plan(set: &sqlparser::ast::Set) -> PgResult<Plan> {
    use sqlparser::ast::{ContextModifier, Set};
    Ok(match set {
        Set::SingleAssignment {
            scope: sc,
            variable,
            values,
            ..
        } => {
            let local = matches!(sc, Some(ContextModifier::Local));
            let name = variable.to_string().replace('"', "");
            Plan::Set {
                name,
                value: set_value(values),
                local,
            }
        }
        Set::SetTimeZone { local, value } => Plan::Set {
            name: "TimeZone".into(),
            value: set_value(std::slice::from_ref(value)),
            local: *local,
        },
        Set::SetNames { charset_name, .. } => Plan::Set {
            name: "client_encoding".into(),
            value: Some(charset_name.value.clone()),
            local: false,
        },
        Set::SetNamesDefault {} => Plan::Set {
            name: "client_encoding".into(),
            value: None,
            local: false,
        },
        Set::SetTransaction {
            modes,
            snapshot,
            session,
        } => {
            if snapshot.is_some() {
                return Err(PgError::unsupported("SET TRANSACTION SNAPSHOT"));
            }
            let TxnOp::Begin {
                read_only,
                isolation,
                ..
            } = begin_op(modes)
            else {
                return Err(PgError::internal("begin_op"));
            };
            let has_access = modes
                .iter()
                .any(|m| matches!(m, sqlparser::ast::TransactionMode::AccessMode(_)));
            if *session {
                // SET SESSION CHARACTERISTICS AS TRANSACTION …
                if let Some(l) = isolation {
                    return Ok(Plan::Set {
                        name: "default_transaction_isolation".into(),
                        value: Some(l),
                        local: false,
                    });
                }
                return Ok(Plan::Set {
                    name: "default_transaction_read_only".into(),
                    value: Some(if read_only { "on".into() } else { "off".into() }),
                    local: false,
                });
            }
            Plan::Txn(TxnOp::SetTransaction {
                read_only: if has_access { Some(read_only) } else { None },
                isolation,
            })
        }
        other => return Err(PgError::unsupported(format!("the statement {other}"))),
    })
}

fn begin_op(modes: &[sqlparser::ast::TransactionMode]) -> TxnOp {
    use sqlparser::ast::{TransactionAccessMode, TransactionMode};
    let mut read_only = false;
    let mut isolation = None;
    for m in modes {
        match m {
            TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => read_only = true,
            TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => read_only = false,
            TransactionMode::IsolationLevel(l) => isolation = Some(l.to_string().to_lowercase()),
        }
    }
    TxnOp::Begin {
        read_only,
        isolation,
        start: false,
    }
}

/// A `0A000` naming the kind of statement.
pub fn unsupported_statement(s: &Statement) -> PgError {
    let text = s.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    PgError::unsupported(format!("the statement {}", words.join(" ")))
}

/// Split an object name into (schema, name), normalised. Only `public` and `pg_catalog` /
/// `information_schema` schemas exist.
pub fn object_name(n: &ObjectName) -> PgResult<(Option<String>, String)> {
    let parts: Vec<String> =
        n.0.iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Ok(scope::ident(i)),
                other => Err(PgError::unsupported(format!("name {other}"))),
            })
            .collect::<PgResult<_>>()?;
    match parts.as_slice() {
        [name] => Ok((None, name.clone())),
        [schema, name] => Ok((Some(schema.clone()), name.clone())),
        [db, schema, name] => {
            if *db != "postgres" && *db != "bedrock" {
                return Err(PgError::unsupported(format!(
                    "cross-database references ({db})"
                )));
            }
            Ok((Some(schema.clone()), name.clone()))
        }
        _ => Err(PgError::syntax(format!(
            "improper qualified name (too many dotted names): {n}"
        ))),
    }
}

/// A user relation name: in `public` (or unqualified), never an internal `__bedrock_` name.
pub fn user_relation_name(n: &ObjectName) -> PgResult<String> {
    let (schema, name) = object_name(n)?;
    match schema.as_deref() {
        None | Some("public") => {}
        Some(s) if s == "pg_catalog" || s == "information_schema" => {
            return Err(PgError::new(
                code::INSUFFICIENT_PRIVILEGE,
                format!("permission denied: \"{name}\" is a system catalog"),
            ));
        }
        Some(s) => {
            return Err(PgError::new(
                code::UNDEFINED_SCHEMA,
                format!("schema \"{s}\" does not exist"),
            ));
        }
    }
    Ok(name)
}

/// Internal objects are invisible to clients.
pub fn is_internal_name(name: &str) -> bool {
    name.starts_with("__bedrock") || name.starts_with("sqlite_")
}

pub fn quote(s: &str) -> String {
    crate::store::quote_ident(s)
}

/// A SQLite string literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Render a canonical value as a SQLite literal.
pub fn sql_value(v: &rusqlite::types::Value) -> String {
    use rusqlite::types::Value as V;
    match v {
        V::Null => "NULL".into(),
        V::Integer(i) => i.to_string(),
        V::Real(f) => {
            if f.is_nan() {
                "NULL".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    "9e999".into()
                } else {
                    "-9e999".into()
                }
            } else {
                let s = format!("{f:?}");
                if s.contains('.') || s.contains('e') {
                    s
                } else {
                    format!("{s}.0")
                }
            }
        }
        V::Text(t) => sql_str(t),
        V::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("x'{hex}'")
        }
    }
}
