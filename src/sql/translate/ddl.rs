//! DDL, executed on the writer inside the current write transaction: it changes the shadow
//! catalog (allocating OIDs) and SQLite's schema, recording every statement in the replicated
//! payload. SQLite tables are derived from the catalog, so ALTERs that SQLite cannot do in place
//! rebuild the table from its new definition.

use rusqlite::types::Value;
use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CommentObject,
    CreateIndex, CreateTable, Expr, GeneratedAs, ObjectType, ReferentialAction, SequenceOptions,
    Statement, TableConstraint,
};

use super::scope::{Scope, ident};
use super::{Env, Tr, object_name, quote, user_relation_name};
use crate::error::{PgError, PgResult, code};
use crate::log::StmtCtx;
use crate::sql::catalog::{
    Catalog, CatalogTxn, Column, Constraint, ConstraintKind, FkAction, Identity, Index, Object,
    RelKind, Sequence, StoredExpr, Table,
};
use crate::sql::types::{self, PgType, Scalar};
use crate::store::WriteConn;

/// What a DDL statement reports back.
#[derive(Debug, Clone, PartialEq)]
pub struct DdlOutcome {
    pub tag: String,
    pub notices: Vec<String>,
}

fn done(tag: &str) -> PgResult<DdlOutcome> {
    Ok(DdlOutcome {
        tag: tag.into(),
        notices: Vec::new(),
    })
}

fn notice(tag: &str, n: String) -> PgResult<DdlOutcome> {
    Ok(DdlOutcome {
        tag: tag.into(),
        notices: vec![n],
    })
}

/// A DDL run: the writer, the statement context, and a working copy of the catalog.
struct Ddl<'w> {
    w: &'w mut WriteConn,
    ctx: StmtCtx,
    env: Env,
    cat: Catalog,
}

fn sqlite_err(e: rusqlite::Error) -> PgError {
    crate::sql::errors::from_sqlite(&e, None, None)
}

impl Ddl<'_> {
    fn exec(&mut self, sql: &str, params: Vec<Value>) -> PgResult<()> {
        self.w
            .exec(sql, &params, &self.ctx)
            .map(|_| ())
            .map_err(sqlite_err)
    }

    fn oid(&mut self) -> PgResult<u32> {
        let (w, ctx) = (&mut *self.w, self.ctx.clone());
        let mut f =
            |sql: &str, p: Vec<Value>| w.exec(sql, &p, &ctx).map(|_| ()).map_err(sqlite_err);
        CatalogTxn { cat: &mut self.cat }.alloc_oid(&mut f)
    }

    fn put(&mut self, obj: Object) -> PgResult<()> {
        let (w, ctx) = (&mut *self.w, self.ctx.clone());
        let mut f =
            |sql: &str, p: Vec<Value>| w.exec(sql, &p, &ctx).map(|_| ()).map_err(sqlite_err);
        CatalogTxn { cat: &mut self.cat }.put(obj, &mut f)
    }

    fn remove(&mut self, name: &str) -> PgResult<Option<Object>> {
        let (w, ctx) = (&mut *self.w, self.ctx.clone());
        let mut f =
            |sql: &str, p: Vec<Value>| w.exec(sql, &p, &ctx).map(|_| ()).map_err(sqlite_err);
        CatalogTxn { cat: &mut self.cat }.remove(name, &mut f)
    }

    fn name_taken(&self, name: &str) -> PgResult<()> {
        if self.cat.get(name).is_some()
            || crate::sql::pg_catalog::system_relation_oid(name).is_some()
        {
            return Err(PgError::new(
                code::DUPLICATE_TABLE,
                format!("relation \"{name}\" already exists"),
            ));
        }
        if super::is_internal_name(name) {
            return Err(PgError::new(
                code::INSUFFICIENT_PRIVILEGE,
                format!("\"{name}\" is a reserved name"),
            ));
        }
        Ok(())
    }

    /// Translate an expression in the scope of one table's columns (DEFAULT, CHECK, index keys).
    fn table_expr(
        &self,
        t: &Table,
        e: &Expr,
        target: Option<(PgType, i32)>,
    ) -> PgResult<(String, PgType)> {
        let mut tr = Tr::new(&self.cat, &self.env, &[]);
        let mut sc = Scope::default();
        sc.rels.push(super::Rel {
            name: Some(t.name.clone()),
            cols: t
                .columns
                .iter()
                .map(|c| super::Col {
                    name: c.name.clone(),
                    sql: quote(&c.name),
                    ty: c.ty,
                    typmod: c.typmod,
                    table_oid: t.oid,
                    attnum: c.attnum,
                    collate: super::query::collation_for(c.ty),
                    hidden: false,
                })
                .collect(),
            table: Some(t.name.clone()),
        });
        let x = tr.expr(e, &sc)?;
        if !tr.params.is_empty() {
            return Err(PgError::syntax("there is no parameter $1"));
        }
        match target {
            Some((ty, typmod)) => Ok((tr.coerce(x, ty, typmod)?, ty)),
            None => {
                let x = tr.settle(x)?;
                let t = x.known().unwrap_or(PgType::TEXT);
                Ok((x.sql, t))
            }
        }
    }

    /// Stored default: `DEFAULT now()` keeps both texts.
    fn default_expr(&self, t: &Table, c: &Column, e: &Expr) -> PgResult<StoredExpr> {
        let (sqlite, _) = self.table_expr(t, e, Some((c.ty, c.typmod)))?;
        if sqlite.contains('"') && !sqlite.starts_with("pg_") {
            // A column reference: PostgreSQL rejects it too.
        }
        Ok(StoredExpr {
            pg: e.to_string(),
            sqlite,
        })
    }

    fn check_expr(&self, t: &Table, e: &Expr) -> PgResult<StoredExpr> {
        let (sqlite, _) = self.table_expr(t, e, Some((PgType::BOOL, -1)))?;
        Ok(StoredExpr {
            pg: e.to_string(),
            sqlite,
        })
    }
}

/// A DDL statement: parsed by sqlparser, or by us where sqlparser cannot.
#[derive(Debug, Clone)]
pub enum DdlStatement {
    Sql(Box<Statement>),
    AlterSequence(crate::sql::statement::AlterSequence),
}

impl DdlStatement {
    /// The command name PostgreSQL uses in messages (`CREATE TABLE`, …).
    pub fn command(&self) -> String {
        let Self::Sql(ast) = self else {
            return "ALTER SEQUENCE".into();
        };
        let text = ast.to_string();
        let words: Vec<&str> = text
            .split_whitespace()
            .filter(|w| {
                !matches!(
                    *w,
                    "UNIQUE" | "OR" | "REPLACE" | "IF" | "NOT" | "EXISTS" | "CONCURRENTLY"
                )
            })
            .take(2)
            .collect();
        match words.as_slice() {
            ["TRUNCATE", ..] => "TRUNCATE TABLE".into(),
            ["COMMENT", ..] => "COMMENT".into(),
            w => w.join(" "),
        }
    }
}

/// Run a DDL statement on the writer (inside its open transaction).
/// Run a DDL statement on the writer (inside its open transaction) against the catalog `cat`
/// the transaction sees; returns the outcome and the catalog as the statement left it.
pub fn execute(
    stmt: &DdlStatement,
    w: &mut WriteConn,
    cat: &Catalog,
    env: &Env,
    ctx: &StmtCtx,
) -> PgResult<(DdlOutcome, Catalog)> {
    let cat = cat.clone();
    let mut d = Ddl {
        w,
        ctx: ctx.clone(),
        env: env.clone(),
        cat,
    };
    let out = match stmt {
        DdlStatement::Sql(s) => run(&mut d, s)?,
        DdlStatement::AlterSequence(a) => alter_sequence(&mut d, a)?,
    };
    Ok((out, d.cat))
}

fn run(d: &mut Ddl, stmt: &Statement) -> PgResult<DdlOutcome> {
    match stmt {
        Statement::CreateTable(ct) => create_table(d, ct),
        Statement::CreateIndex(ci) => create_index(d, ci),
        Statement::CreateSequence {
            if_not_exists,
            name,
            data_type,
            sequence_options,
            owned_by,
            temporary,
        } => {
            if *temporary {
                return Err(PgError::unsupported("temporary sequences"));
            }
            if owned_by.is_some() {
                return Err(PgError::unsupported("CREATE SEQUENCE … OWNED BY"));
            }
            let n = user_relation_name(name)?;
            if d.cat.get(&n).is_some() && *if_not_exists {
                return notice(
                    "CREATE SEQUENCE",
                    format!("relation \"{n}\" already exists, skipping"),
                );
            }
            d.name_taken(&n)?;
            let ty = match data_type {
                Some(dt) => types::declared_type(dt)?.ty,
                None => PgType::INT8,
            };
            create_sequence(d, &n, ty, sequence_options, None)?;
            done("CREATE SEQUENCE")
        }
        Statement::CreateView(v) => create_view(d, v),
        Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => drop(d, *object_type, *if_exists, names, *cascade),
        Statement::Truncate(t) => truncate(d, t),
        Statement::AlterTable(at) => alter_table(d, at),
        Statement::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => {
            let n = schema_name.to_string().to_lowercase();
            if n == "public" && *if_not_exists {
                return notice(
                    "CREATE SCHEMA",
                    "schema \"public\" already exists, skipping".into(),
                );
            }
            if n == "public" {
                return Err(PgError::new(
                    code::DUPLICATE_OBJECT,
                    "schema \"public\" already exists",
                ));
            }
            Err(PgError::unsupported("schemas other than public"))
        }
        Statement::CreateExtension(e) => {
            let n = ident(&e.name);
            match n.as_str() {
                "plpgsql" | "pgcrypto" | "uuid-ossp" => {
                    if e.if_not_exists || n == "plpgsql" {
                        notice(
                            "CREATE EXTENSION",
                            format!("extension \"{n}\" already exists, skipping"),
                        )
                    } else {
                        Err(PgError::new(
                            code::DUPLICATE_OBJECT,
                            format!("extension \"{n}\" already exists"),
                        ))
                    }
                }
                _ => Err(PgError::unsupported(format!("extension \"{n}\""))),
            }
        }
        Statement::Comment {
            object_type,
            object_name: on,
            comment,
            ..
        } => comment_on(d, *object_type, on, comment.clone()),
        other => Err(super::unsupported_statement(other)),
    }
}

fn alter_sequence(d: &mut Ddl, a: &crate::sql::statement::AlterSequence) -> PgResult<DdlOutcome> {
    let Some(mut s) = d.cat.sequence(&a.name).cloned() else {
        if a.if_exists {
            return notice(
                "ALTER SEQUENCE",
                format!("relation \"{}\" does not exist, skipping", a.name),
            );
        }
        return Err(PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{}\" does not exist", a.name),
        ));
    };
    let (tmin, tmax) = match s.ty.scalar {
        Scalar::Int2 => (i16::MIN as i64, i16::MAX as i64),
        Scalar::Int4 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    if let Some(inc) = a.increment {
        if inc == 0 {
            return Err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                "INCREMENT must not be zero",
            ));
        }
        s.increment = inc;
    }
    if let Some(m) = a.min {
        s.min = m.unwrap_or(if s.increment > 0 { 1 } else { tmin });
    }
    if let Some(m) = a.max {
        s.max = m.unwrap_or(if s.increment > 0 { tmax } else { -1 });
    }
    if let Some(st) = a.start {
        s.start = st;
    }
    if let Some(c) = a.cycle {
        s.cycle = c;
    }
    if let Some(c) = a.cache {
        s.cache = c;
    }
    if s.min > s.max {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            format!(
                "MINVALUE ({}) must be less than MAXVALUE ({})",
                s.min, s.max
            ),
        ));
    }
    if s.start < s.min || s.start > s.max {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            format!(
                "START value ({}) cannot be outside MINVALUE ({}) .. MAXVALUE ({})",
                s.start, s.min, s.max
            ),
        ));
    }
    d.exec(
        "UPDATE __bedrock_sequence_state SET increment = ?2, min_value = ?3, max_value = ?4, cycle = ?5 WHERE oid = ?1",
        vec![Value::Integer(s.oid as i64), Value::Integer(s.increment), Value::Integer(s.min), Value::Integer(s.max), Value::Integer(s.cycle as i64)],
    )?;
    if let Some(r) = a.restart {
        let v = r.unwrap_or(s.start);
        if v < s.min || v > s.max {
            return Err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                format!(
                    "RESTART value ({v}) cannot be outside MINVALUE ({}) .. MAXVALUE ({})",
                    s.min, s.max
                ),
            ));
        }
        d.exec(
            "UPDATE __bedrock_sequence_state SET last_value = ?2, is_called = 0 WHERE oid = ?1",
            vec![Value::Integer(s.oid as i64), Value::Integer(v)],
        )?;
    }
    d.put(Object::Sequence(s))?;
    done("ALTER SEQUENCE")
}

fn fk_action(a: &Option<ReferentialAction>) -> FkAction {
    match a {
        None | Some(ReferentialAction::NoAction) => FkAction::NoAction,
        Some(ReferentialAction::Restrict) => FkAction::Restrict,
        Some(ReferentialAction::Cascade) => FkAction::Cascade,
        Some(ReferentialAction::SetNull) => FkAction::SetNull,
        Some(ReferentialAction::SetDefault) => FkAction::SetDefault,
    }
}

fn index_col_names(cols: &[sqlparser::ast::IndexColumn]) -> PgResult<Vec<String>> {
    cols.iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(i) => Ok(ident(i)),
            other => Err(PgError::unsupported(format!(
                "expression {other} in a constraint"
            ))),
        })
        .collect()
}

/// PostgreSQL's name for an implicit object: `table_col1_col2_suffix`, shortened to 63 bytes.
fn implicit_name(table: &str, cols: &[String], suffix: &str, cat: &Catalog) -> String {
    let base = if cols.is_empty() {
        format!("{table}_{suffix}")
    } else {
        format!("{table}_{}_{suffix}", cols.join("_"))
    };
    let mut base: String = base.chars().take(63).collect();
    if cat.get(&base).is_none() {
        return base;
    }
    let stem = base.clone();
    for i in 1.. {
        base = format!(
            "{}{i}",
            stem.chars()
                .take(62 - i.to_string().len())
                .collect::<String>()
        );
        if cat.get(&base).is_none() {
            break;
        }
    }
    base
}

fn constraint_name_taken(cat: &Catalog, name: &str) -> bool {
    cat.tables()
        .any(|t| t.constraints.iter().any(|c| c.name == name))
        || cat.get(name).is_some()
}

fn implicit_constraint_name(
    table: &str,
    cols: &[String],
    suffix: &str,
    cat: &Catalog,
    taken: &[String],
) -> String {
    let base: String = if cols.is_empty() {
        format!("{table}_{suffix}")
    } else {
        format!("{table}_{}_{suffix}", cols.join("_"))
    }
    .chars()
    .take(63)
    .collect();
    if !constraint_name_taken(cat, &base) && !taken.contains(&base) {
        return base;
    }
    for i in 1.. {
        let n = format!(
            "{}{i}",
            base.chars()
                .take(62 - i.to_string().len())
                .collect::<String>()
        );
        if !constraint_name_taken(cat, &n) && !taken.contains(&n) {
            return n;
        }
    }
    base
}

fn create_sequence(
    d: &mut Ddl,
    name: &str,
    ty: PgType,
    opts: &[SequenceOptions],
    owned_by: Option<(String, String)>,
) -> PgResult<Sequence> {
    let (tmin, tmax) = match ty.scalar {
        Scalar::Int2 => (1, i16::MAX as i64),
        Scalar::Int4 => (1, i32::MAX as i64),
        Scalar::Int8 => (1, i64::MAX),
        _ => {
            return Err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                "sequence type must be smallint, integer, or bigint",
            ));
        }
    };
    let num = |e: &Expr| -> PgResult<i64> {
        let s = e.to_string();
        s.trim()
            .parse::<i64>()
            .map_err(|_| PgError::syntax(format!("invalid sequence option value {s}")))
    };
    let mut inc = 1i64;
    let mut min: Option<i64> = None;
    let mut max: Option<i64> = None;
    let mut start: Option<i64> = None;
    let mut cache = 1;
    let mut cycle = false;
    for o in opts {
        match o {
            SequenceOptions::IncrementBy(e, _) => inc = num(e)?,
            SequenceOptions::MinValue(Some(e)) => min = Some(num(e)?),
            SequenceOptions::MinValue(None) => min = None,
            SequenceOptions::MaxValue(Some(e)) => max = Some(num(e)?),
            SequenceOptions::MaxValue(None) => max = None,
            SequenceOptions::StartWith(e, _) => start = Some(num(e)?),
            SequenceOptions::Cache(e) => cache = num(e)?,
            SequenceOptions::Cycle(c) => cycle = *c,
        }
    }
    if inc == 0 {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            "INCREMENT must not be zero",
        ));
    }
    let (min, max) = if inc > 0 {
        (min.unwrap_or(tmin), max.unwrap_or(tmax))
    } else {
        (min.unwrap_or(-tmax), max.unwrap_or(-1))
    };
    let start = start.unwrap_or(if inc > 0 { min } else { max });
    if start < min || start > max {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("START value ({start}) cannot be less than MINVALUE ({min})"),
        ));
    }
    let oid = d.oid()?;
    let seq = Sequence {
        oid,
        name: name.to_string(),
        ty,
        increment: inc,
        min,
        max,
        start,
        cache,
        cycle,
        owned_by,
    };
    d.put(Object::Sequence(seq.clone()))?;
    d.exec(
        "INSERT INTO __bedrock_sequence_state(oid, name, last_value, is_called, increment, min_value, max_value, cycle) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7)",
        vec![
            Value::Integer(oid as i64),
            Value::Text(name.to_string()),
            Value::Integer(start),
            Value::Integer(inc),
            Value::Integer(min),
            Value::Integer(max),
            Value::Integer(cycle as i64),
        ],
    )?;
    Ok(seq)
}

/// SQLite DDL for a table, derived from its catalog definition.
pub fn sqlite_table_ddl(t: &Table, name: &str) -> String {
    let rowid = t.rowid_column().map(|c| c.name.clone());
    let mut parts = Vec::new();
    for c in &t.columns {
        let mut s = format!("{} {}", quote(&c.name), c.ty.storage().sqlite_decl());
        if c.not_null && rowid.as_deref() != Some(&c.name) {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT ({})", d.sqlite));
        }
        if let Some(coll) = super::query::collation_for(c.ty) {
            s.push_str(&format!(" COLLATE {coll}"));
        }
        if !c.ty.array {
            let range = match c.ty.scalar {
                Scalar::Int2 => Some((i16::MIN as i64, i16::MAX as i64)),
                Scalar::Int4 => Some((i32::MIN as i64, i32::MAX as i64)),
                _ => None,
            };
            if let Some((lo, hi)) = range {
                s.push_str(&format!(
                    " CONSTRAINT {} CHECK ({} BETWEEN {lo} AND {hi})",
                    quote(&format!("__bedrock_range_{}", c.attnum)),
                    quote(&c.name)
                ));
            }
        }
        parts.push(s);
    }
    if let Some(r) = &rowid {
        parts.push(format!("PRIMARY KEY ({})", quote(r)));
    }
    for con in &t.constraints {
        match &con.kind {
            ConstraintKind::Check(e) => parts.push(format!(
                "CONSTRAINT {} CHECK ({})",
                quote(&con.name),
                e.sqlite
            )),
            ConstraintKind::ForeignKey {
                ref_table,
                ref_columns,
                on_delete,
                on_update,
            } => parts.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
                quote(&con.name),
                con.columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                quote(ref_table),
                ref_columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                on_delete.sql(),
                on_update.sql()
            )),
            _ => {}
        }
    }
    format!("CREATE TABLE {} ({}) STRICT", quote(name), parts.join(", "))
}

fn index_ddl(i: &Index) -> String {
    format!(
        "CREATE {}INDEX {} ON {} ({}){}",
        if i.unique { "UNIQUE " } else { "" },
        quote(&i.name),
        quote(&i.table),
        i.keys_sqlite.join(", "),
        i.predicate
            .as_ref()
            .map(|p| format!(" WHERE {}", p.sqlite))
            .unwrap_or_default()
    )
}

/// The index object backing a PRIMARY KEY or UNIQUE constraint.
fn constraint_index(oid: u32, t: &Table, con: &Constraint) -> Index {
    let cols = con.columns.iter().map(|c| quote(c)).collect::<Vec<_>>();
    Index {
        oid,
        name: con.name.clone(),
        table: t.name.clone(),
        unique: true,
        keys_sqlite: cols.clone(),
        key_columns: con.columns.iter().map(|c| Some(c.clone())).collect(),
        pg_def: format!(
            "CREATE UNIQUE INDEX {} ON public.{} USING btree ({})",
            con.name,
            t.name,
            con.columns.join(", ")
        ),
        predicate: None,
        constraint: Some(con.name.clone()),
    }
}

/// Whether SQLite needs a real index for this constraint (a rowid primary key is the table).
fn needs_sqlite_index(t: &Table, con: &Constraint) -> bool {
    !(con.kind == ConstraintKind::PrimaryKey && t.rowid_column().is_some())
}

fn create_table(d: &mut Ddl, ct: &CreateTable) -> PgResult<DdlOutcome> {
    if ct.or_replace
        || ct.external
        || ct.query.is_some()
        || ct.like.is_some()
        || ct.clone.is_some()
        || ct.inherits.is_some()
        || ct.partition_of.is_some()
        || ct.partition_by.is_some()
    {
        let what = if ct.query.is_some() {
            "CREATE TABLE … AS"
        } else if ct.inherits.is_some() {
            "INHERITS"
        } else if ct.partition_by.is_some() {
            "partitioned tables"
        } else {
            "this form of CREATE TABLE"
        };
        return Err(PgError::unsupported(what));
    }
    if ct.temporary {
        return Err(PgError::unsupported("temporary tables"));
    }
    let name = user_relation_name(&ct.name)?;
    if d.cat.get(&name).is_some() && ct.if_not_exists {
        return notice(
            "CREATE TABLE",
            format!("relation \"{name}\" already exists, skipping"),
        );
    }
    d.name_taken(&name)?;
    let oid = d.oid()?;
    let row_type_oid = d.oid()?;
    let mut t = Table {
        oid,
        name: name.clone(),
        kind: RelKind::Table,
        columns: Vec::new(),
        constraints: Vec::new(),
        row_type_oid,
        view_def: None,
        next_attnum: 1,
        comment: None,
    };
    // Columns first (types), so constraints and defaults can refer to them.
    struct Pending<'a> {
        def: &'a ColumnDef,
        serial: bool,
    }
    let mut pending = Vec::new();
    for cd in &ct.columns {
        let cname = ident(&cd.name);
        if t.column(&cname).is_some() {
            return Err(PgError::new(
                code::DUPLICATE_COLUMN,
                format!("column \"{cname}\" specified more than once"),
            ));
        }
        let dt = types::declared_type(&cd.data_type)?;
        t.columns.push(Column {
            attnum: t.next_attnum,
            name: cname,
            ty: dt.ty,
            typmod: dt.typmod,
            not_null: dt.serial,
            default: None,
            identity: None,
            comment: None,
        });
        t.next_attnum += 1;
        pending.push(Pending {
            def: cd,
            serial: dt.serial,
        });
    }
    let mut taken: Vec<String> = Vec::new();
    let add_constraint = |d: &mut Ddl,
                          t: &mut Table,
                          name: Option<String>,
                          kind: ConstraintKind,
                          cols: Vec<String>,
                          taken: &mut Vec<String>|
     -> PgResult<()> {
        for c in &cols {
            if t.column(c).is_none() {
                return Err(PgError::new(
                    code::UNDEFINED_COLUMN,
                    format!("column \"{c}\" named in key does not exist"),
                ));
            }
        }
        let suffix = match &kind {
            ConstraintKind::PrimaryKey => "pkey",
            ConstraintKind::Unique => "key",
            ConstraintKind::Check(_) => "check",
            ConstraintKind::ForeignKey { .. } => "fkey",
        };
        let n = match name {
            Some(n) => n,
            None if matches!(kind, ConstraintKind::PrimaryKey) => {
                implicit_constraint_name(&t.name, &[], suffix, &d.cat, taken)
            }
            None => implicit_constraint_name(&t.name, &cols, suffix, &d.cat, taken),
        };
        if taken.contains(&n) || d.cat.get(&n).is_some() {
            return Err(PgError::new(
                code::DUPLICATE_OBJECT,
                format!(
                    "constraint \"{n}\" for relation \"{}\" already exists",
                    t.name
                ),
            ));
        }
        if kind == ConstraintKind::PrimaryKey {
            if t.primary_key().is_some() {
                return Err(PgError::new(
                    code::INVALID_TABLE_DEFINITION,
                    format!(
                        "multiple primary keys for table \"{}\" are not allowed",
                        t.name
                    ),
                ));
            }
            for c in &cols {
                if let Some(col) = t.column_mut(c) {
                    col.not_null = true;
                }
            }
        }
        taken.push(n.clone());
        let oid = d.oid()?;
        t.constraints.push(Constraint {
            oid,
            name: n,
            kind,
            columns: cols,
        });
        Ok(())
    };
    // Column options.
    let mut checks: Vec<(Option<String>, Expr)> = Vec::new();
    for p in &pending {
        let cname = ident(&p.def.name);
        for opt in &p.def.options {
            let cn = opt.name.as_ref().map(ident);
            match &opt.option {
                ColumnOption::Null => {
                    if let Some(c) = t.column_mut(&cname) {
                        c.not_null = false;
                    }
                }
                ColumnOption::NotNull => {
                    if let Some(c) = t.column_mut(&cname) {
                        c.not_null = true;
                    }
                }
                ColumnOption::Default(_) => {}
                ColumnOption::PrimaryKey(_) => add_constraint(
                    d,
                    &mut t,
                    cn,
                    ConstraintKind::PrimaryKey,
                    vec![cname.clone()],
                    &mut taken,
                )?,
                ColumnOption::Unique(_) => add_constraint(
                    d,
                    &mut t,
                    cn,
                    ConstraintKind::Unique,
                    vec![cname.clone()],
                    &mut taken,
                )?,
                ColumnOption::Check(c) => {
                    checks.push((cn.or(c.name.as_ref().map(ident)), (*c.expr).clone()))
                }
                ColumnOption::ForeignKey(fk) => {
                    let (rt, rcols) =
                        resolve_reference(d, &t, &fk.foreign_table, &fk.referred_columns, 1)?;
                    add_constraint(
                        d,
                        &mut t,
                        cn.or(fk.name.as_ref().map(ident)),
                        ConstraintKind::ForeignKey {
                            ref_table: rt,
                            ref_columns: rcols,
                            on_delete: fk_action(&fk.on_delete),
                            on_update: fk_action(&fk.on_update),
                        },
                        vec![cname.clone()],
                        &mut taken,
                    )?;
                }
                ColumnOption::Collation(c) => {
                    let n = c.to_string().to_lowercase().replace('"', "");
                    if !matches!(
                        n.as_str(),
                        "c" | "posix" | "default" | "pg_catalog.default" | "pg_catalog.c"
                    ) {
                        return Err(PgError::unsupported(format!("collation {c}")));
                    }
                }
                ColumnOption::Generated {
                    generated_as,
                    generation_expr: None,
                    ..
                } => {
                    let col = t
                        .column(&cname)
                        .cloned()
                        .ok_or_else(|| PgError::internal("column"))?;
                    if !col.ty.scalar.is_integer() || col.ty.array {
                        return Err(PgError::new(
                            code::INVALID_PARAMETER_VALUE,
                            "identity column type must be smallint, integer, or bigint",
                        ));
                    }
                    if let Some(c) = t.column_mut(&cname) {
                        c.identity = Some(if matches!(generated_as, GeneratedAs::Always) {
                            Identity::Always
                        } else {
                            Identity::ByDefault
                        });
                        c.not_null = true;
                    }
                }
                ColumnOption::Generated { .. } => {
                    return Err(PgError::unsupported("generated columns"));
                }
                ColumnOption::Comment(s) => {
                    if let Some(c) = t.column_mut(&cname) {
                        c.comment = Some(s.clone());
                    }
                }
                other => return Err(PgError::unsupported(format!("column option {other}"))),
            }
        }
    }
    for tc in &ct.constraints {
        match tc {
            TableConstraint::PrimaryKey(pk) => {
                let cols = index_col_names(&pk.columns)?;
                add_constraint(
                    d,
                    &mut t,
                    pk.name.as_ref().map(ident),
                    ConstraintKind::PrimaryKey,
                    cols,
                    &mut taken,
                )?
            }
            TableConstraint::Unique(u) => {
                let cols = index_col_names(&u.columns)?;
                add_constraint(
                    d,
                    &mut t,
                    u.name.as_ref().map(ident),
                    ConstraintKind::Unique,
                    cols,
                    &mut taken,
                )?
            }
            TableConstraint::Check(c) => {
                checks.push((c.name.as_ref().map(ident), (*c.expr).clone()))
            }
            TableConstraint::ForeignKey(fk) => {
                let cols: Vec<String> = fk.columns.iter().map(ident).collect();
                let (rt, rcols) =
                    resolve_reference(d, &t, &fk.foreign_table, &fk.referred_columns, cols.len())?;
                add_constraint(
                    d,
                    &mut t,
                    fk.name.as_ref().map(ident),
                    ConstraintKind::ForeignKey {
                        ref_table: rt,
                        ref_columns: rcols,
                        on_delete: fk_action(&fk.on_delete),
                        on_update: fk_action(&fk.on_update),
                    },
                    cols,
                    &mut taken,
                )?;
            }
            other => return Err(PgError::unsupported(format!("table constraint {other}"))),
        }
    }
    for (n, e) in checks {
        let stored = d.check_expr(&t, &e)?;
        let cols: Vec<String> = t
            .columns
            .iter()
            .filter(|c| stored.sqlite.contains(&quote(&c.name)))
            .map(|c| c.name.clone())
            .collect();
        let name = n.unwrap_or_else(|| {
            implicit_constraint_name(
                &t.name,
                &cols.iter().take(1).cloned().collect::<Vec<_>>(),
                "check",
                &d.cat,
                &taken,
            )
        });
        taken.push(name.clone());
        let oid = d.oid()?;
        t.constraints.push(Constraint {
            oid,
            name,
            kind: ConstraintKind::Check(stored),
            columns: cols,
        });
    }
    // Defaults, serial and identity sequences.
    for p in &pending {
        let cname = ident(&p.def.name);
        let col = t
            .column(&cname)
            .cloned()
            .ok_or_else(|| PgError::internal("column"))?;
        let explicit = p.def.options.iter().find_map(|o| match &o.option {
            ColumnOption::Default(e) => Some(e.clone()),
            _ => None,
        });
        if (p.serial || col.identity.is_some()) && explicit.is_some() {
            return Err(PgError::syntax(format!(
                "multiple default values specified for column \"{cname}\" of table \"{name}\""
            )));
        }
        if p.serial || col.identity.is_some() {
            let seq_name = implicit_name(&name, std::slice::from_ref(&cname), "seq", &d.cat);
            let opts: Vec<SequenceOptions> = p
                .def
                .options
                .iter()
                .find_map(|o| match &o.option {
                    ColumnOption::Generated {
                        sequence_options: Some(s),
                        ..
                    } => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let seq = create_sequence(
                d,
                &seq_name,
                if col.ty == PgType::INT2 || col.ty == PgType::INT4 {
                    col.ty
                } else {
                    PgType::INT8
                },
                &opts,
                Some((name.clone(), cname.clone())),
            )?;
            let pg = if p.serial {
                format!("nextval('{seq_name}'::regclass)")
            } else {
                String::new()
            };
            if let Some(c) = t.column_mut(&cname) {
                c.default = Some(StoredExpr {
                    pg,
                    sqlite: format!("pg_nextval({})", seq.oid),
                });
            }
        } else if let Some(e) = explicit {
            let stored = d.default_expr(&t, &col, &e)?;
            if let Some(c) = t.column_mut(&cname) {
                c.default = Some(stored);
            }
        }
    }
    if t.columns.is_empty() {
        // PostgreSQL allows zero-column tables; SQLite does not.
        return Err(PgError::unsupported("tables without columns"));
    }
    d.exec(&sqlite_table_ddl(&t, &name), vec![])?;
    for con in t.constraints.clone() {
        if con.has_index() {
            let ioid = d.oid()?;
            let idx = constraint_index(ioid, &t, &con);
            if needs_sqlite_index(&t, &con) {
                d.exec(&index_ddl(&idx), vec![])?;
            }
            d.put(Object::Index(idx))?;
        }
    }
    d.put(Object::Table(t))?;
    done("CREATE TABLE")
}

/// `REFERENCES other (cols)`: check the target and its unique key.
fn resolve_reference(
    d: &Ddl,
    t: &Table,
    target: &sqlparser::ast::ObjectName,
    cols: &[sqlparser::ast::Ident],
    n: usize,
) -> PgResult<(String, Vec<String>)> {
    let rt = user_relation_name(target)?;
    let other = if rt == t.name {
        Some(t.clone())
    } else {
        d.cat.table(&rt).cloned()
    };
    let Some(other) = other else {
        return Err(PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{rt}\" does not exist"),
        ));
    };
    let rcols: Vec<String> = if cols.is_empty() {
        match other.primary_key() {
            Some(pk) => pk.columns.clone(),
            None => {
                return Err(PgError::new(
                    code::UNDEFINED_OBJECT,
                    format!("there is no primary key for referenced table \"{rt}\""),
                ));
            }
        }
    } else {
        cols.iter().map(ident).collect()
    };
    if rcols.len() != n {
        return Err(PgError::new(
            code::INVALID_COLUMN_REFERENCE,
            "number of referencing and referenced columns for foreign key disagree",
        ));
    }
    for c in &rcols {
        if other.column(c).is_none() {
            return Err(PgError::new(
                code::UNDEFINED_COLUMN,
                format!("column \"{c}\" referenced in foreign key constraint does not exist"),
            ));
        }
    }
    let unique = other
        .constraints
        .iter()
        .any(|c| c.has_index() && c.columns == rcols)
        || d.cat.indexes_of(&rt).any(|i| {
            i.unique
                && i.predicate.is_none()
                && i.key_columns
                    .iter()
                    .map(|k| k.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    == rcols
        });
    if !unique {
        return Err(PgError::new(
            code::INVALID_COLUMN_REFERENCE,
            format!(
                "there is no unique constraint matching given keys for referenced table \"{rt}\""
            ),
        ));
    }
    Ok((rt, rcols))
}

fn create_index(d: &mut Ddl, ci: &CreateIndex) -> PgResult<DdlOutcome> {
    if !ci.with.is_empty()
        && ci
            .with
            .iter()
            .any(|w| !w.to_string().to_lowercase().contains("fillfactor"))
    {
        return Err(PgError::unsupported("index storage parameters"));
    }
    if let Some(u) = &ci.using {
        let m = u.to_string().to_lowercase();
        if !matches!(m.as_str(), "btree" | "hash") {
            return Err(PgError::unsupported(format!("index method {m}")));
        }
    }
    if ci.nulls_distinct == Some(false) {
        return Err(PgError::unsupported("NULLS NOT DISTINCT"));
    }
    let tname = user_relation_name(&ci.table_name)?;
    let t = d.cat.table(&tname).cloned().ok_or_else(|| {
        PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{tname}\" does not exist"),
        )
    })?;
    if t.kind == RelKind::View {
        return Err(PgError::new(
            code::WRONG_OBJECT_TYPE,
            format!("cannot create index on relation \"{tname}\""),
        )
        .with_detail("This operation is not supported for views."));
    }
    let mut keys_sqlite = Vec::new();
    let mut key_columns = Vec::new();
    let mut pg_keys = Vec::new();
    for ic in &ci.columns {
        let e = &ic.column.expr;
        let (sql, _) = d.table_expr(&t, e, None)?;
        let col = match e {
            Expr::Identifier(i) => Some(ident(i)),
            _ => None,
        };
        let dir = match super::funcs::asc_of(&ic.column.options) {
            Some(false) => " DESC",
            _ => "",
        };
        keys_sqlite.push(format!("{sql}{dir}"));
        let mut pgk = match &col {
            Some(c) => c.clone(),
            None => format!("({e})"),
        };
        if let Some(oc) = &ic.operator_class {
            pgk.push_str(&format!(" {}", oc.to_string().to_lowercase()));
        }
        if dir == " DESC" {
            pgk.push_str(" DESC");
        }
        pg_keys.push(pgk);
        key_columns.push(col);
    }
    if !ci.include.is_empty() {
        return Err(PgError::unsupported("INCLUDE columns"));
    }
    let name = match &ci.name {
        Some(n) => user_relation_name(n)?,
        None => {
            let cols: Vec<String> = key_columns
                .iter()
                .map(|c| c.clone().unwrap_or_else(|| "expr".into()))
                .collect();
            implicit_name(&tname, &cols, "idx", &d.cat)
        }
    };
    if d.cat.get(&name).is_some() {
        if ci.if_not_exists {
            return notice(
                "CREATE INDEX",
                format!("relation \"{name}\" already exists, skipping"),
            );
        }
        return Err(PgError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{name}\" already exists"),
        ));
    }
    d.name_taken(&name)?;
    let predicate = match &ci.predicate {
        Some(p) => Some(d.check_expr(&t, p)?),
        None => None,
    };
    let oid = d.oid()?;
    let idx = Index {
        oid,
        name: name.clone(),
        table: tname.clone(),
        unique: ci.unique,
        keys_sqlite,
        key_columns,
        pg_def: format!(
            "CREATE {}INDEX {name} ON public.{tname} USING btree ({}){}",
            if ci.unique { "UNIQUE " } else { "" },
            pg_keys.join(", "),
            predicate
                .as_ref()
                .map(|p| format!(" WHERE ({})", p.pg))
                .unwrap_or_default()
        ),
        predicate,
        constraint: None,
    };
    d.exec(&index_ddl(&idx), vec![])?;
    d.put(Object::Index(idx))?;
    done("CREATE INDEX")
}

fn create_view(d: &mut Ddl, v: &sqlparser::ast::CreateView) -> PgResult<DdlOutcome> {
    if v.materialized
        || v.temporary
        || v.or_alter
        || !v.columns.is_empty() && v.columns.iter().any(|c| c.data_type.is_some())
    {
        return Err(PgError::unsupported("this form of CREATE VIEW"));
    }
    let name = user_relation_name(&v.name)?;
    let existing = d.cat.table(&name).cloned();
    if let Some(e) = &existing {
        if !(v.or_replace && e.kind == RelKind::View) {
            if v.if_not_exists {
                return notice(
                    "CREATE VIEW",
                    format!("relation \"{name}\" already exists, skipping"),
                );
            }
            return Err(PgError::new(
                code::DUPLICATE_TABLE,
                format!("relation \"{name}\" already exists"),
            ));
        }
    } else {
        d.name_taken(&name)?;
    }
    let mut tr = Tr::new(&d.cat, &d.env, &[]);
    let out = tr.query_top(&v.query)?;
    if !tr.params.is_empty() {
        return Err(PgError::syntax("there is no parameter $1"));
    }
    let names: Vec<String> = if v.columns.is_empty() {
        out.cols.iter().map(|c| c.name.clone()).collect()
    } else {
        v.columns.iter().map(|c| ident(&c.name)).collect()
    };
    let (oid, row_type_oid) = match &existing {
        Some(e) => (e.oid, e.row_type_oid),
        None => (d.oid()?, d.oid()?),
    };
    let mut t = Table {
        oid,
        name: name.clone(),
        kind: RelKind::View,
        columns: Vec::new(),
        constraints: Vec::new(),
        row_type_oid,
        view_def: Some(v.query.to_string()),
        next_attnum: 1,
        comment: None,
    };
    for (i, c) in out.cols.iter().enumerate() {
        t.columns.push(Column {
            attnum: (i + 1) as i16,
            name: names.get(i).cloned().unwrap_or_else(|| c.name.clone()),
            ty: c.ty,
            typmod: c.typmod,
            not_null: false,
            default: None,
            identity: None,
            comment: None,
        });
    }
    t.next_attnum = t.columns.len() as i16 + 1;
    if existing.is_some() {
        d.exec(&format!("DROP VIEW {}", quote(&name)), vec![])?;
    }
    let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.name)).collect();
    d.exec(
        &format!(
            "CREATE VIEW {} ({}) AS {}",
            quote(&name),
            cols.join(", "),
            out.sql
        ),
        vec![],
    )?;
    d.put(Object::Table(t))?;
    done("CREATE VIEW")
}

fn drop(
    d: &mut Ddl,
    ot: ObjectType,
    if_exists: bool,
    names: &[sqlparser::ast::ObjectName],
    cascade: bool,
) -> PgResult<DdlOutcome> {
    let (tag, what) = match ot {
        ObjectType::Table => ("DROP TABLE", "table"),
        ObjectType::View => ("DROP VIEW", "view"),
        ObjectType::Index => ("DROP INDEX", "index"),
        ObjectType::Sequence => ("DROP SEQUENCE", "sequence"),
        ObjectType::Schema => return Err(PgError::unsupported("DROP SCHEMA")),
        other => return Err(PgError::unsupported(format!("DROP {other}"))),
    };
    let mut notices = Vec::new();
    // Check everything first: PostgreSQL drops all or nothing.
    let mut targets = Vec::new();
    for n in names {
        let name = user_relation_name(n)?;
        let obj = d.cat.get(&name).cloned();
        let ok = match (&obj, ot) {
            (Some(Object::Table(t)), ObjectType::Table) => t.kind == RelKind::Table,
            (Some(Object::Table(t)), ObjectType::View) => t.kind == RelKind::View,
            (Some(Object::Index(_)), ObjectType::Index) => true,
            (Some(Object::Sequence(_)), ObjectType::Sequence) => true,
            _ => false,
        };
        if !ok {
            if obj.is_some() {
                return Err(PgError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!("\"{name}\" is not a {what}"),
                )
                .with_hint(format!(
                    "Use DROP {} to remove it.",
                    match obj {
                        Some(Object::Index(_)) => "INDEX",
                        Some(Object::Sequence(_)) => "SEQUENCE",
                        Some(Object::Table(t)) if t.kind == RelKind::View => "VIEW",
                        _ => "TABLE",
                    }
                )));
            }
            if if_exists {
                notices.push(format!("{what} \"{name}\" does not exist, skipping"));
                continue;
            }
            // A missing relation is 42P01; indexes (like other non-relations) are 42704.
            let sqlstate = if what == "index" {
                code::UNDEFINED_OBJECT
            } else {
                code::UNDEFINED_TABLE
            };
            return Err(PgError::new(
                sqlstate,
                format!("{what} \"{name}\" does not exist"),
            ));
        }
        targets.push(name);
    }
    for name in &targets {
        match d.cat.get(name).cloned() {
            Some(Object::Table(t)) if t.kind == RelKind::Table => {
                // Foreign keys from other tables.
                let mut dependents: Vec<(String, String)> = Vec::new();
                for o in d
                    .cat
                    .tables()
                    .filter(|o| o.name != t.name && !targets.contains(&o.name))
                {
                    for c in &o.constraints {
                        if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind
                            && *ref_table == t.name
                        {
                            dependents.push((o.name.clone(), c.name.clone()));
                        }
                    }
                }
                if let Some((other, con)) = dependents.first() {
                    if !cascade {
                        return Err(PgError::new(
                            code::DEPENDENT_OBJECTS_STILL_EXIST,
                            format!(
                                "cannot drop table {} because other objects depend on it",
                                t.name
                            ),
                        )
                        .with_detail(format!(
                            "constraint {con} on table {other} depends on table {}",
                            t.name
                        ))
                        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                    }
                    for (other, con) in dependents.clone() {
                        notices.push(format!(
                            "drop cascades to constraint {con} on table {other}"
                        ));
                        drop_constraint(d, &other, &con)?;
                    }
                }
                let owned: Vec<String> = d
                    .cat
                    .sequences()
                    .filter(|s| s.owned_by.as_ref().is_some_and(|(tb, _)| *tb == t.name))
                    .map(|s| s.name.clone())
                    .collect();
                let idx: Vec<String> = d.cat.indexes_of(&t.name).map(|i| i.name.clone()).collect();
                d.exec("PRAGMA defer_foreign_keys = ON", vec![])?;
                d.exec(&format!("DROP TABLE {}", quote(&t.name)), vec![])?;
                for i in idx {
                    d.remove(&i)?;
                }
                for s in owned {
                    d.remove(&s)?;
                }
                d.remove(&t.name)?;
            }
            Some(Object::Table(t)) => {
                d.exec(&format!("DROP VIEW {}", quote(&t.name)), vec![])?;
                d.remove(&t.name)?;
            }
            Some(Object::Index(i)) => {
                if let Some(c) = &i.constraint {
                    return Err(PgError::new(
                        code::DEPENDENT_OBJECTS_STILL_EXIST,
                        format!(
                            "cannot drop index {} because constraint {c} on table {} requires it",
                            i.name, i.table
                        ),
                    )
                    .with_hint(format!(
                        "You can drop constraint {c} on table {} instead.",
                        i.table
                    )));
                }
                d.exec(&format!("DROP INDEX {}", quote(&i.name)), vec![])?;
                d.remove(&i.name)?;
            }
            Some(Object::Sequence(s)) => {
                if let Some((tb, col)) = &s.owned_by
                    && d.cat
                        .table(tb)
                        .and_then(|t| t.column(col))
                        .and_then(|c| c.default.as_ref())
                        .is_some_and(|def| def.sqlite.contains(&format!("pg_nextval({})", s.oid)))
                {
                    if !cascade {
                        return Err(PgError::new(
                            code::DEPENDENT_OBJECTS_STILL_EXIST,
                            format!(
                                "cannot drop sequence {} because other objects depend on it",
                                s.name
                            ),
                        )
                        .with_detail(format!(
                            "default value for column {col} of table {tb} depends on sequence {}",
                            s.name
                        ))
                        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                    }
                    let mut t = d
                        .cat
                        .table(tb)
                        .cloned()
                        .ok_or_else(|| PgError::internal("table"))?;
                    if let Some(c) = t.column_mut(col) {
                        c.default = None;
                    }
                    rebuild(d, &t, None)?;
                }
                d.remove(&s.name)?;
            }
            _ => {}
        }
    }
    Ok(DdlOutcome {
        tag: tag.into(),
        notices,
    })
}

fn truncate(d: &mut Ddl, t: &sqlparser::ast::Truncate) -> PgResult<DdlOutcome> {
    if t.partitions.is_some() {
        return Err(PgError::unsupported("TRUNCATE … PARTITION"));
    }
    let restart = matches!(
        t.identity,
        Some(sqlparser::ast::TruncateIdentityOption::Restart)
    );
    let mut names = Vec::new();
    for target in &t.table_names {
        let n = user_relation_name(&target.name)?;
        match d.cat.table(&n) {
            Some(tb) if tb.kind == RelKind::Table => names.push(n),
            Some(_) => {
                return Err(PgError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!("\"{n}\" is not a table"),
                ));
            }
            None => {
                if t.if_exists {
                    continue;
                }
                return Err(PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{n}\" does not exist"),
                ));
            }
        }
    }
    // Referencing tables must be truncated too (or CASCADE).
    let cascade = matches!(t.cascade, Some(sqlparser::ast::CascadeOption::Cascade));
    for n in names.clone() {
        for other in d.cat.tables() {
            let refs = other.constraints.iter().any(|c| matches!(&c.kind, ConstraintKind::ForeignKey { ref_table, .. } if *ref_table == n));
            if refs && !names.contains(&other.name) {
                if !cascade {
                    return Err(PgError::new(
                        code::FEATURE_NOT_SUPPORTED,
                        "cannot truncate a table referenced in a foreign key constraint",
                    )
                    .with_detail(format!("Table \"{}\" references \"{n}\".", other.name))
                    .with_hint(format!(
                        "Truncate table \"{}\" at the same time, or use TRUNCATE ... CASCADE.",
                        other.name
                    )));
                }
                names.push(other.name.clone());
            }
        }
    }
    d.exec("PRAGMA defer_foreign_keys = ON", vec![])?;
    for n in &names {
        d.exec(&format!("DELETE FROM {}", quote(n)), vec![])?;
    }
    if restart {
        let seqs: Vec<Sequence> = d
            .cat
            .sequences()
            .filter(|s| {
                s.owned_by
                    .as_ref()
                    .is_some_and(|(tb, _)| names.contains(tb))
            })
            .cloned()
            .collect();
        for s in seqs {
            d.exec(
                "UPDATE __bedrock_sequence_state SET last_value = ?2, is_called = 0 WHERE oid = ?1",
                vec![Value::Integer(s.oid as i64), Value::Integer(s.start)],
            )?;
        }
    }
    done("TRUNCATE TABLE")
}

/// Per-column fill expression for a rebuild (None: copy the column as is).
type Convert<'a> = Option<&'a dyn Fn(&Column) -> Option<String>>;

/// Rebuild a table from its (new) catalog definition. `convert` gives, per new column name,
/// the SQLite expression over the old table that fills it (default: the same column).
fn rebuild(d: &mut Ddl, t: &Table, convert: Convert<'_>) -> PgResult<()> {
    let old = "__bedrock_rebuild_old";
    d.exec("PRAGMA defer_foreign_keys = ON", vec![])?;
    d.exec("PRAGMA legacy_alter_table = ON", vec![])?;
    d.exec(
        &format!("ALTER TABLE {} RENAME TO {}", quote(&t.name), quote(old)),
        vec![],
    )?;
    d.exec(&sqlite_table_ddl(t, &t.name), vec![])?;
    let mut cols = Vec::new();
    let mut vals = Vec::new();
    for c in &t.columns {
        let v = convert.and_then(|f| f(c)).unwrap_or_else(|| quote(&c.name));
        cols.push(quote(&c.name));
        vals.push(v);
    }
    d.exec(
        &format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote(&t.name),
            cols.join(", "),
            vals.join(", "),
            quote(old)
        ),
        vec![],
    )?;
    d.exec(&format!("DROP TABLE {}", quote(old)), vec![])?;
    d.exec("PRAGMA legacy_alter_table = OFF", vec![])?;
    let indexes: Vec<Index> = d.cat.indexes_of(&t.name).cloned().collect();
    for i in indexes {
        let needed = match &i.constraint {
            Some(cn) => t
                .constraints
                .iter()
                .find(|c| c.name == *cn)
                .is_some_and(|c| needs_sqlite_index(t, c)),
            None => true,
        };
        if needed {
            d.exec(&index_ddl(&i), vec![])?;
        }
    }
    d.put(Object::Table(t.clone()))?;
    Ok(())
}

fn drop_constraint(d: &mut Ddl, table: &str, name: &str) -> PgResult<()> {
    let mut t = d.cat.table(table).cloned().ok_or_else(|| {
        PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{table}\" does not exist"),
        )
    })?;
    let Some(pos) = t.constraints.iter().position(|c| c.name == name) else {
        return Err(PgError::new(
            code::UNDEFINED_OBJECT,
            format!("constraint \"{name}\" of relation \"{table}\" does not exist"),
        ));
    };
    let con = t.constraints.remove(pos);
    match con.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            let was_rowid = t.rowid_column().is_some()
                || (con.kind == ConstraintKind::PrimaryKey && {
                    let mut probe = t.clone();
                    probe.constraints.push(con.clone());
                    probe.rowid_column().is_some()
                });
            if con.kind == ConstraintKind::PrimaryKey && was_rowid {
                d.remove(name)?;
                rebuild(d, &t, None)?;
            } else {
                d.exec(&format!("DROP INDEX {}", quote(name)), vec![])?;
                d.remove(name)?;
                d.put(Object::Table(t))?;
            }
        }
        _ => rebuild(d, &t, None)?,
    }
    Ok(())
}

fn alter_table(d: &mut Ddl, at: &AlterTable) -> PgResult<DdlOutcome> {
    let name = user_relation_name(&at.name)?;
    let Some(t0) = d.cat.table(&name).cloned() else {
        if at.if_exists {
            return notice(
                "ALTER TABLE",
                format!("relation \"{name}\" does not exist, skipping"),
            );
        }
        return Err(PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{name}\" does not exist"),
        ));
    };
    if t0.kind == RelKind::View {
        return Err(PgError::unsupported("ALTER on a view"));
    }
    let mut notices = Vec::new();
    for op in &at.operations {
        let t = d
            .cat
            .table(&name)
            .cloned()
            .ok_or_else(|| PgError::internal("table vanished"))?;
        alter_one(d, t, op, &mut notices)?;
    }
    Ok(DdlOutcome {
        tag: "ALTER TABLE".into(),
        notices,
    })
}

fn alter_one(
    d: &mut Ddl,
    mut t: Table,
    op: &AlterTableOperation,
    notices: &mut Vec<String>,
) -> PgResult<()> {
    use AlterTableOperation as A;
    match op {
        A::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => {
            let cname = ident(&column_def.name);
            if t.column(&cname).is_some() {
                if *if_not_exists {
                    notices.push(format!(
                        "column \"{cname}\" of relation \"{}\" already exists, skipping",
                        t.name
                    ));
                    return Ok(());
                }
                return Err(PgError::new(
                    code::DUPLICATE_COLUMN,
                    format!(
                        "column \"{cname}\" of relation \"{}\" already exists",
                        t.name
                    ),
                ));
            }
            let dt = types::declared_type(&column_def.data_type)?;
            let mut col = Column {
                attnum: t.next_attnum,
                name: cname.clone(),
                ty: dt.ty,
                typmod: dt.typmod,
                not_null: dt.serial,
                default: None,
                identity: None,
                comment: None,
            };
            t.next_attnum += 1;
            let mut needs_rebuild = dt.serial;
            let mut constraints = Vec::new();
            for opt in &column_def.options {
                match &opt.option {
                    ColumnOption::NotNull => col.not_null = true,
                    ColumnOption::Null => col.not_null = false,
                    ColumnOption::Default(e) => {
                        col.default = Some(d.default_expr(&t, &col, e)?);
                    }
                    ColumnOption::Unique(_) => {
                        constraints.push((opt.name.as_ref().map(ident), ConstraintKind::Unique))
                    }
                    ColumnOption::PrimaryKey(_) => {
                        constraints.push((opt.name.as_ref().map(ident), ConstraintKind::PrimaryKey))
                    }
                    ColumnOption::Check(c) => {
                        t.columns.push(col.clone());
                        let stored = d.check_expr(&t, &c.expr)?;
                        t.columns.pop();
                        let n = opt
                            .name
                            .as_ref()
                            .map(ident)
                            .or(c.name.as_ref().map(ident))
                            .unwrap_or_else(|| {
                                implicit_constraint_name(
                                    &t.name,
                                    std::slice::from_ref(&cname),
                                    "check",
                                    &d.cat,
                                    &[],
                                )
                            });
                        let oid = d.oid()?;
                        t.constraints.push(Constraint {
                            oid,
                            name: n,
                            kind: ConstraintKind::Check(stored),
                            columns: vec![cname.clone()],
                        });
                        needs_rebuild = true;
                    }
                    ColumnOption::ForeignKey(fk) => {
                        let (rt, rcols) =
                            resolve_reference(d, &t, &fk.foreign_table, &fk.referred_columns, 1)?;
                        let n = opt.name.as_ref().map(ident).unwrap_or_else(|| {
                            implicit_constraint_name(
                                &t.name,
                                std::slice::from_ref(&cname),
                                "fkey",
                                &d.cat,
                                &[],
                            )
                        });
                        let oid = d.oid()?;
                        t.constraints.push(Constraint {
                            oid,
                            name: n,
                            kind: ConstraintKind::ForeignKey {
                                ref_table: rt,
                                ref_columns: rcols,
                                on_delete: fk_action(&fk.on_delete),
                                on_update: fk_action(&fk.on_update),
                            },
                            columns: vec![cname.clone()],
                        });
                        needs_rebuild = true;
                    }
                    ColumnOption::Generated {
                        generated_as,
                        generation_expr: None,
                        ..
                    } => {
                        col.identity = Some(if matches!(generated_as, GeneratedAs::Always) {
                            Identity::Always
                        } else {
                            Identity::ByDefault
                        });
                        col.not_null = true;
                        needs_rebuild = true;
                    }
                    ColumnOption::Collation(_) | ColumnOption::Comment(_) => {}
                    other => return Err(PgError::unsupported(format!("column option {other}"))),
                }
            }
            if dt.serial || col.identity.is_some() {
                let seq_name = implicit_name(&t.name, std::slice::from_ref(&cname), "seq", &d.cat);
                let seq = create_sequence(
                    d,
                    &seq_name,
                    if col.ty == PgType::INT2 || col.ty == PgType::INT4 {
                        col.ty
                    } else {
                        PgType::INT8
                    },
                    &[],
                    Some((t.name.clone(), cname.clone())),
                )?;
                col.default = Some(StoredExpr {
                    pg: if dt.serial {
                        format!("nextval('{seq_name}'::regclass)")
                    } else {
                        String::new()
                    },
                    sqlite: format!("pg_nextval({})", seq.oid),
                });
            }
            let volatile_default = col
                .default
                .as_ref()
                .is_some_and(|e| e.sqlite.contains("pg_"));
            t.columns.push(col.clone());
            if needs_rebuild || volatile_default || (col.not_null && col.default.is_none()) {
                // Fill existing rows with the default (evaluated per row), as PostgreSQL does.
                let def = col.default.as_ref().map(|e| format!("({})", e.sqlite));
                let cname2 = cname.clone();
                rebuild(
                    d,
                    &t,
                    Some(&move |c: &Column| {
                        if c.name == cname2 {
                            Some(def.clone().unwrap_or_else(|| "NULL".into()))
                        } else {
                            None
                        }
                    }),
                )?;
            } else {
                let mut s = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    quote(&t.name),
                    quote(&cname),
                    col.ty.storage().sqlite_decl()
                );
                if let Some(e) = &col.default {
                    s.push_str(&format!(" DEFAULT ({})", e.sqlite));
                }
                if let Some(coll) = super::query::collation_for(col.ty) {
                    s.push_str(&format!(" COLLATE {coll}"));
                }
                if let Some((lo, hi)) = match col.ty.scalar {
                    Scalar::Int2 if !col.ty.array => Some((i16::MIN as i64, i16::MAX as i64)),
                    Scalar::Int4 if !col.ty.array => Some((i32::MIN as i64, i32::MAX as i64)),
                    _ => None,
                } {
                    s.push_str(&format!(
                        " CONSTRAINT {} CHECK ({} BETWEEN {lo} AND {hi})",
                        quote(&format!("__bedrock_range_{}", col.attnum)),
                        quote(&cname)
                    ));
                }
                d.exec(&s, vec![])?;
                d.put(Object::Table(t.clone()))?;
            }
            for (n, kind) in constraints {
                let t2 = d
                    .cat
                    .table(&t.name)
                    .cloned()
                    .ok_or_else(|| PgError::internal("table"))?;
                add_key_constraint(d, t2, n, kind, vec![cname.clone()])?;
            }
            Ok(())
        }
        A::DropColumn {
            column_names,
            if_exists,
            drop_behavior,
            ..
        } => {
            for cn in column_names {
                let cname = ident(cn);
                if t.column(&cname).is_none() {
                    if *if_exists {
                        notices.push(format!(
                            "column \"{cname}\" of relation \"{}\" does not exist, skipping",
                            t.name
                        ));
                        continue;
                    }
                    return Err(PgError::new(
                        code::UNDEFINED_COLUMN,
                        format!(
                            "column \"{cname}\" of relation \"{}\" does not exist",
                            t.name
                        ),
                    ));
                }
                if t.columns.len() == 1 {
                    return Err(PgError::unsupported("dropping the last column of a table"));
                }
                let cascade = matches!(drop_behavior, Some(sqlparser::ast::DropBehavior::Cascade));
                let _ = cascade;
                // Constraints and indexes on the column go with it.
                let dropped_cons: Vec<String> = t
                    .constraints
                    .iter()
                    .filter(|c| c.columns.contains(&cname))
                    .map(|c| c.name.clone())
                    .collect();
                t.constraints.retain(|c| !c.columns.contains(&cname));
                for cn in &dropped_cons {
                    if d.cat.index(cn).is_some() {
                        d.remove(cn)?;
                    }
                }
                let idx: Vec<String> = d
                    .cat
                    .indexes_of(&t.name)
                    .filter(|i| {
                        i.key_columns.iter().any(|k| k.as_deref() == Some(&cname))
                            || i.keys_sqlite.iter().any(|k| k.contains(&quote(&cname)))
                    })
                    .map(|i| i.name.clone())
                    .collect();
                for i in idx {
                    d.remove(&i)?;
                }
                let owned: Vec<String> = d
                    .cat
                    .sequences()
                    .filter(|s| {
                        s.owned_by
                            .as_ref()
                            .is_some_and(|(tb, c)| *tb == t.name && *c == cname)
                    })
                    .map(|s| s.name.clone())
                    .collect();
                t.columns.retain(|c| c.name != cname);
                rebuild(d, &t, None)?;
                for s in owned {
                    d.remove(&s)?;
                }
                t = d
                    .cat
                    .table(&t.name)
                    .cloned()
                    .ok_or_else(|| PgError::internal("table"))?;
            }
            Ok(())
        }
        A::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let (old, new) = (ident(old_column_name), ident(new_column_name));
            if t.column(&old).is_none() {
                return Err(PgError::new(
                    code::UNDEFINED_COLUMN,
                    format!("column \"{old}\" does not exist"),
                ));
            }
            if t.column(&new).is_some() {
                return Err(PgError::new(
                    code::DUPLICATE_COLUMN,
                    format!("column \"{new}\" of relation \"{}\" already exists", t.name),
                ));
            }
            d.exec(
                &format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}",
                    quote(&t.name),
                    quote(&old),
                    quote(&new)
                ),
                vec![],
            )?;
            for c in t.columns.iter_mut() {
                if c.name == old {
                    c.name = new.clone();
                }
            }
            for con in t.constraints.iter_mut() {
                for c in con.columns.iter_mut() {
                    if *c == old {
                        *c = new.clone();
                    }
                }
                if let ConstraintKind::Check(e) = &mut con.kind {
                    e.sqlite = e.sqlite.replace(&quote(&old), &quote(&new));
                }
            }
            let idx: Vec<Index> = d.cat.indexes_of(&t.name).cloned().collect();
            for mut i in idx {
                for k in i.key_columns.iter_mut() {
                    if k.as_deref() == Some(&old) {
                        *k = Some(new.clone());
                    }
                }
                for k in i.keys_sqlite.iter_mut() {
                    *k = k.replace(&quote(&old), &quote(&new));
                }
                d.put(Object::Index(i))?;
            }
            // Foreign keys of other tables pointing at the renamed column.
            let others: Vec<Table> = d
                .cat
                .tables()
                .filter(|o| o.name != t.name)
                .cloned()
                .collect();
            for mut o in others {
                let mut changed = false;
                for con in o.constraints.iter_mut() {
                    if let ConstraintKind::ForeignKey {
                        ref_table,
                        ref_columns,
                        ..
                    } = &mut con.kind
                        && *ref_table == t.name
                    {
                        for c in ref_columns.iter_mut() {
                            if *c == old {
                                *c = new.clone();
                                changed = true;
                            }
                        }
                    }
                }
                if changed {
                    d.put(Object::Table(o))?;
                }
            }
            let seqs: Vec<Sequence> = d
                .cat
                .sequences()
                .filter(|s| {
                    s.owned_by
                        .as_ref()
                        .is_some_and(|(tb, c)| *tb == t.name && *c == old)
                })
                .cloned()
                .collect();
            for mut s in seqs {
                s.owned_by = Some((t.name.clone(), new.clone()));
                d.put(Object::Sequence(s))?;
            }
            d.put(Object::Table(t))?;
            Ok(())
        }
        A::RenameTable { table_name } => {
            let target = match table_name {
                sqlparser::ast::RenameTableNameKind::As(n)
                | sqlparser::ast::RenameTableNameKind::To(n) => n,
            };
            let new = user_relation_name(target)?;
            d.name_taken(&new)?;
            let old = t.name.clone();
            d.exec(
                &format!("ALTER TABLE {} RENAME TO {}", quote(&old), quote(&new)),
                vec![],
            )?;
            t.name = new.clone();
            let idx: Vec<Index> = d.cat.indexes_of(&old).cloned().collect();
            for mut i in idx {
                i.table = new.clone();
                d.put(Object::Index(i))?;
            }
            let others: Vec<Table> = d.cat.tables().filter(|o| o.name != old).cloned().collect();
            for mut o in others {
                let mut changed = false;
                for con in o.constraints.iter_mut() {
                    if let ConstraintKind::ForeignKey { ref_table, .. } = &mut con.kind
                        && *ref_table == old
                    {
                        *ref_table = new.clone();
                        changed = true;
                    }
                }
                if changed {
                    d.put(Object::Table(o))?;
                }
            }
            let seqs: Vec<Sequence> = d
                .cat
                .sequences()
                .filter(|s| s.owned_by.as_ref().is_some_and(|(tb, _)| *tb == old))
                .cloned()
                .collect();
            for mut s in seqs {
                if let Some((_, c)) = s.owned_by.clone() {
                    s.owned_by = Some((new.clone(), c));
                }
                d.put(Object::Sequence(s))?;
            }
            d.put(Object::Table(t))?;
            Ok(())
        }
        A::AddConstraint { constraint, .. } => match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let cols = index_col_names(&pk.columns)?;
                add_key_constraint(
                    d,
                    t,
                    pk.name.as_ref().map(ident),
                    ConstraintKind::PrimaryKey,
                    cols,
                )
            }
            TableConstraint::Unique(u) => {
                let cols = index_col_names(&u.columns)?;
                add_key_constraint(
                    d,
                    t,
                    u.name.as_ref().map(ident),
                    ConstraintKind::Unique,
                    cols,
                )
            }
            TableConstraint::Check(c) => {
                let stored = d.check_expr(&t, &c.expr)?;
                let cols: Vec<String> = t
                    .columns
                    .iter()
                    .filter(|col| stored.sqlite.contains(&quote(&col.name)))
                    .map(|col| col.name.clone())
                    .collect();
                let n = c.name.as_ref().map(ident).unwrap_or_else(|| {
                    implicit_constraint_name(
                        &t.name,
                        &cols.iter().take(1).cloned().collect::<Vec<_>>(),
                        "check",
                        &d.cat,
                        &[],
                    )
                });
                if constraint_name_taken(&d.cat, &n) {
                    return Err(PgError::new(
                        code::DUPLICATE_OBJECT,
                        format!(
                            "constraint \"{n}\" for relation \"{}\" already exists",
                            t.name
                        ),
                    ));
                }
                let oid = d.oid()?;
                t.constraints.push(Constraint {
                    oid,
                    name: n.clone(),
                    kind: ConstraintKind::Check(stored),
                    columns: cols,
                });
                rebuild(d, &t, None).map_err(|e| if e.code == code::CHECK_VIOLATION { PgError::new(code::CHECK_VIOLATION, format!("check constraint \"{n}\" of relation \"{}\" is violated by some row", t.name)).with_table(t.name.clone()).with_constraint(n.clone()) } else { e })
            }
            TableConstraint::ForeignKey(fk) => {
                let cols: Vec<String> = fk.columns.iter().map(ident).collect();
                for c in &cols {
                    if t.column(c).is_none() {
                        return Err(PgError::new(
                            code::UNDEFINED_COLUMN,
                            format!(
                                "column \"{c}\" referenced in foreign key constraint does not exist"
                            ),
                        ));
                    }
                }
                let (rt, rcols) =
                    resolve_reference(d, &t, &fk.foreign_table, &fk.referred_columns, cols.len())?;
                let n = fk.name.as_ref().map(ident).unwrap_or_else(|| {
                    implicit_constraint_name(&t.name, &cols, "fkey", &d.cat, &[])
                });
                if constraint_name_taken(&d.cat, &n) {
                    return Err(PgError::new(
                        code::DUPLICATE_OBJECT,
                        format!(
                            "constraint \"{n}\" for relation \"{}\" already exists",
                            t.name
                        ),
                    ));
                }
                let oid = d.oid()?;
                t.constraints.push(Constraint {
                    oid,
                    name: n.clone(),
                    kind: ConstraintKind::ForeignKey {
                        ref_table: rt.clone(),
                        ref_columns: rcols.clone(),
                        on_delete: fk_action(&fk.on_delete),
                        on_update: fk_action(&fk.on_update),
                    },
                    columns: cols.clone(),
                });
                rebuild(d, &t, None)?;
                // Existing rows must satisfy it (deferred checks would only fire at COMMIT).
                let cond: Vec<String> = cols
                    .iter()
                    .zip(&rcols)
                    .map(|(a, b)| format!("p.{} = c.{}", quote(b), quote(a)))
                    .collect();
                let notnull: Vec<String> = cols
                    .iter()
                    .map(|a| format!("c.{} IS NOT NULL", quote(a)))
                    .collect();
                let probe = format!(
                    "SELECT 1 FROM {} AS c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {}) LIMIT 1",
                    quote(&t.name),
                    notnull.join(" AND "),
                    quote(&rt),
                    cond.join(" AND ")
                );
                let bad = d.w.exec(&probe, &[], &d.ctx).map_err(sqlite_err)?;
                if !bad.rows.is_empty() {
                    return Err(PgError::new(code::FOREIGN_KEY_VIOLATION, format!("insert or update on table \"{}\" violates foreign key constraint \"{n}\"", t.name)).with_constraint(n));
                }
                Ok(())
            }
            other => Err(PgError::unsupported(format!("constraint {other}"))),
        },
        A::DropConstraint {
            if_exists, name, ..
        } => {
            let n = ident(name);
            if !t.constraints.iter().any(|c| c.name == n) {
                if *if_exists {
                    notices.push(format!(
                        "constraint \"{n}\" of relation \"{}\" does not exist, skipping",
                        t.name
                    ));
                    return Ok(());
                }
                return Err(PgError::new(
                    code::UNDEFINED_OBJECT,
                    format!(
                        "constraint \"{n}\" of relation \"{}\" does not exist",
                        t.name
                    ),
                ));
            }
            drop_constraint(d, &t.name, &n)
        }
        A::AlterColumn { column_name, op } => {
            let cname = ident(column_name);
            let col = t.column(&cname).cloned().ok_or_else(|| {
                PgError::new(
                    code::UNDEFINED_COLUMN,
                    format!(
                        "column \"{cname}\" of relation \"{}\" does not exist",
                        t.name
                    ),
                )
            })?;
            match op {
                AlterColumnOperation::SetNotNull => {
                    if col.not_null {
                        return Ok(());
                    }
                    let nulls =
                        d.w.exec(
                            &format!(
                                "SELECT 1 FROM {} WHERE {} IS NULL LIMIT 1",
                                quote(&t.name),
                                quote(&cname)
                            ),
                            &[],
                            &d.ctx,
                        )
                        .map_err(sqlite_err)?;
                    if !nulls.rows.is_empty() {
                        return Err(PgError::new(
                            code::NOT_NULL_VIOLATION,
                            format!(
                                "column \"{cname}\" of relation \"{}\" contains null values",
                                t.name
                            ),
                        )
                        .with_table(t.name.clone())
                        .with_column(cname));
                    }
                    if let Some(c) = t.column_mut(&cname) {
                        c.not_null = true;
                    }
                    rebuild(d, &t, None)
                }
                AlterColumnOperation::DropNotNull => {
                    if t.primary_key()
                        .is_some_and(|pk| pk.columns.contains(&cname))
                    {
                        return Err(PgError::new(
                            code::INVALID_TABLE_DEFINITION,
                            format!("column \"{cname}\" is in a primary key"),
                        ));
                    }
                    if !col.not_null {
                        return Ok(());
                    }
                    if let Some(c) = t.column_mut(&cname) {
                        c.not_null = false;
                        c.identity = None;
                    }
                    rebuild(d, &t, None)
                }
                AlterColumnOperation::SetDefault { value } => {
                    let stored = d.default_expr(&t, &col, value)?;
                    if let Some(c) = t.column_mut(&cname) {
                        c.default = Some(stored);
                    }
                    rebuild(d, &t, None)
                }
                AlterColumnOperation::DropDefault => {
                    if col.default.is_none() {
                        return Ok(());
                    }
                    if let Some(c) = t.column_mut(&cname) {
                        c.default = None;
                    }
                    rebuild(d, &t, None)
                }
                AlterColumnOperation::SetDataType {
                    data_type, using, ..
                } => {
                    let dt = types::declared_type(data_type)?;
                    if dt.serial {
                        return Err(PgError::new(
                            code::UNDEFINED_OBJECT,
                            "type \"serial\" does not exist",
                        ));
                    }
                    // The conversion, evaluated over the old table.
                    let conv = match using {
                        Some(e) => {
                            let (sql, _) = d.table_expr(&t, e, Some((dt.ty, dt.typmod)))?;
                            sql
                        }
                        None => {
                            let mut tr = Tr::new(&d.cat, &d.env, &[]);
                            let x = super::Ex {
                                typmod: col.typmod,
                                ..super::Ex::new(quote(&cname), col.ty)
                            };
                            let explicit_ok = super::expr::common_type(col.ty, dt.ty).is_some()
                                || dt.ty.scalar.is_string()
                                || col.ty.scalar.is_string();
                            if !explicit_ok {
                                return Err(PgError::new(code::DATATYPE_MISMATCH, format!("column \"{cname}\" cannot be cast automatically to type {}", dt.ty.format(dt.typmod)))
                                    .with_hint(format!("You might need to specify \"USING {cname}::{}\".", dt.ty.format(dt.typmod))));
                            }
                            tr.cast(x, dt.ty, dt.typmod)?.sql
                        }
                    };
                    if let Some(c) = t.column_mut(&cname) {
                        c.ty = dt.ty;
                        c.typmod = dt.typmod;
                    }
                    let cname2 = cname.clone();
                    rebuild(
                        d,
                        &t,
                        Some(&move |c: &Column| {
                            if c.name == cname2 {
                                Some(conv.clone())
                            } else {
                                None
                            }
                        }),
                    )
                }
                AlterColumnOperation::AddGenerated { .. } => {
                    Err(PgError::unsupported("ADD GENERATED"))
                }
            }
        }
        A::OwnerTo { .. } => Ok(()),
        other => Err(PgError::unsupported(format!("ALTER TABLE … {other}"))),
    }
}

/// ADD PRIMARY KEY / UNIQUE on an existing table.
fn add_key_constraint(
    d: &mut Ddl,
    mut t: Table,
    name: Option<String>,
    kind: ConstraintKind,
    cols: Vec<String>,
) -> PgResult<()> {
    for c in &cols {
        if t.column(c).is_none() {
            return Err(PgError::new(
                code::UNDEFINED_COLUMN,
                format!("column \"{c}\" named in key does not exist"),
            ));
        }
    }
    let n = match name {
        Some(n) => n,
        None if kind == ConstraintKind::PrimaryKey => {
            implicit_constraint_name(&t.name, &[], "pkey", &d.cat, &[])
        }
        None => implicit_constraint_name(&t.name, &cols, "key", &d.cat, &[]),
    };
    if constraint_name_taken(&d.cat, &n) {
        return Err(PgError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{n}\" already exists"),
        ));
    }
    let is_pk = kind == ConstraintKind::PrimaryKey;
    if is_pk && t.primary_key().is_some() {
        return Err(PgError::new(
            code::INVALID_TABLE_DEFINITION,
            format!(
                "multiple primary keys for table \"{}\" are not allowed",
                t.name
            ),
        ));
    }
    let oid = d.oid()?;
    let con = Constraint {
        oid,
        name: n.clone(),
        kind,
        columns: cols.clone(),
    };
    let ioid = d.oid()?;
    if is_pk {
        for c in &cols {
            let nulls =
                d.w.exec(
                    &format!(
                        "SELECT 1 FROM {} WHERE {} IS NULL LIMIT 1",
                        quote(&t.name),
                        quote(c)
                    ),
                    &[],
                    &d.ctx,
                )
                .map_err(sqlite_err)?;
            if !nulls.rows.is_empty() {
                return Err(PgError::new(
                    code::NOT_NULL_VIOLATION,
                    format!(
                        "column \"{c}\" of relation \"{}\" contains null values",
                        t.name
                    ),
                ));
            }
            if let Some(col) = t.column_mut(c) {
                col.not_null = true;
            }
        }
    }
    t.constraints.push(con.clone());
    let idx = constraint_index(ioid, &t, &con);
    let dup = |e: PgError| -> PgError {
        if e.code == code::UNIQUE_VIOLATION {
            PgError::new(
                code::UNIQUE_VIOLATION,
                format!("could not create unique index \"{n}\""),
            )
            .with_detail("Key is duplicated.")
            .with_constraint(n.clone())
        } else {
            e
        }
    };
    if needs_sqlite_index(&t, &con) {
        d.exec(&index_ddl(&idx), vec![]).map_err(dup)?;
        d.put(Object::Index(idx))?;
        if is_pk {
            rebuild(d, &t, None)?;
        } else {
            d.put(Object::Table(t))?;
        }
    } else {
        // The key becomes the rowid: rebuild the table so lookups by key are direct.
        d.put(Object::Index(idx))?;
        rebuild(d, &t, None).map_err(dup)?;
    }
    Ok(())
}

fn comment_on(
    d: &mut Ddl,
    ot: CommentObject,
    on: &sqlparser::ast::ObjectName,
    comment: Option<String>,
) -> PgResult<DdlOutcome> {
    match ot {
        CommentObject::Table | CommentObject::View => {
            let n = user_relation_name(on)?;
            let mut t = d.cat.table(&n).cloned().ok_or_else(|| {
                PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{n}\" does not exist"),
                )
            })?;
            t.comment = comment;
            d.put(Object::Table(t))?;
        }
        CommentObject::Column => {
            let (tbl, col) = match object_name(on) {
                Ok((Some(t), c)) => (t, c),
                _ => return Err(PgError::syntax("column name must be qualified")),
            };
            let mut t = d.cat.table(&tbl).cloned().ok_or_else(|| {
                PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{tbl}\" does not exist"),
                )
            })?;
            let c = t.column_mut(&col).ok_or_else(|| {
                PgError::new(
                    code::UNDEFINED_COLUMN,
                    format!("column \"{col}\" of relation \"{tbl}\" does not exist"),
                )
            })?;
            c.comment = comment;
            d.put(Object::Table(t))?;
        }
        other => return Err(PgError::unsupported(format!("COMMENT ON {other}"))),
    }
    done("COMMENT")
}
