//! Materialising the system relations on a connection: one TEMP table per relation, the static
//! rows once per connection, the rows derived from the shadow catalog whenever
//! `Catalog::generation` moved since this connection last built them.
//!
//! The generation a connection's tables reflect is stored in a TEMP table too, so it rolls back
//! with them: a refresh inside a write transaction that is then rolled back leaves tables and
//! marker consistent, and the next statement rebuilds.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;
use rusqlite::types::Value;

use super::deparse::{self, quote_ident};
use super::{
    DATABASE_OWNER_OID, INFORMATION_SCHEMA_OID, PG_CATALOG_OID, RelDef, SUPERUSER_OID, Schema, rel,
    relations, static_rows,
};
use crate::error::{PgError, PgResult};
use crate::sql::catalog::{
    Catalog, Column, ConstraintKind, Identity, Index, Object, PUBLIC_NAMESPACE_OID, RelKind,
    Sequence, Table,
};
use crate::sql::types::{PgType, Scalar};

/// Side table the catalog functions read: `(oid, sub, kind, def)` where kind 0/1 is the plain
/// and pretty `pg_get_indexdef` / `pg_get_constraintdef` / `pg_get_viewdef` text (sub = index
/// key number, 0 for the whole definition) and kind 2 maps (table oid, attnum) to the sequence
/// `pg_get_serial_sequence` returns.
pub const AUX_TABLE: &str = "temp.\"__bedrock_pgc_def\"";
const STATE_TABLE: &str = "temp.\"__bedrock_pgc_state\"";
/// Bump when the static rows or the table layout change.
const STATIC_VERSION: i64 = 2;

/// OID of the pg_class / pg_constraint / pg_namespace / pg_attrdef catalogs (classid values).
const PG_CLASS: i64 = 1259;
const PG_CONSTRAINT: i64 = 2606;
const PG_NAMESPACE: i64 = 2615;
const PG_ATTRDEF: i64 = 2604;

fn err(e: rusqlite::Error) -> PgError {
    PgError::internal(format!("system catalog: {e}"))
}

/// Make the system relations available on `conn` for `cat`. Cheap (one indexed read) when the
/// connection already reflects this catalog generation.
pub fn prepare_connection(conn: &Connection, cat: &Catalog) -> PgResult<()> {
    let built = state(conn, "generation");
    if built == Some(cat.generation as i64) {
        return Ok(());
    }
    // Read connections run with `PRAGMA query_only=ON`, which refuses writes to TEMP tables as
    // well. The refresh writes nothing but this connection's TEMP tables, so lift it for the
    // refresh and put it back: failing to put it back is an error (the store then closes the
    // connection instead of reusing it), never ignored.
    let lifted = lift_query_only(conn)?;
    let r = refresh(conn, cat);
    if lifted {
        conn.pragma_update(None, "query_only", true).map_err(|e| {
            PgError::internal(format!(
                "system catalog: cannot make the read connection read-only again: {e}"
            ))
        })?;
    }
    r
}

/// Lift `query_only` if it is on; returns whether it was.
fn lift_query_only(conn: &Connection) -> PgResult<bool> {
    let on: i64 = conn
        .pragma_query_value(None, "query_only", |r| r.get(0))
        .map_err(err)?;
    if on != 0 {
        conn.pragma_update(None, "query_only", false).map_err(err)?;
    }
    Ok(on != 0)
}

fn refresh(conn: &Connection, cat: &Catalog) -> PgResult<()> {
    let fresh = state(conn, "static") != Some(STATIC_VERSION);
    if fresh && conn.is_autocommit() {
        // Keep the catalog tables in memory. Changing temp_store drops existing TEMP tables,
        // which is fine here: there are none yet (or they are stale).
        let ts: i64 = conn
            .pragma_query_value(None, "temp_store", |r| r.get(0))
            .map_err(err)?;
        if ts != 2 {
            conn.pragma_update(None, "temp_store", 2).map_err(err)?;
        }
    }
    conn.execute_batch("SAVEPOINT \"__bedrock_pgc\"")
        .map_err(err)?;
    let r = (|| {
        if fresh {
            create_tables(conn)?;
            load_static(conn)?;
        }
        refresh_dynamic(conn, cat)
    })();
    match r {
        Ok(()) => conn.execute_batch("RELEASE \"__bedrock_pgc\"").map_err(err),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO \"__bedrock_pgc\"; RELEASE \"__bedrock_pgc\"");
            Err(e)
        }
    }
}

fn state(conn: &Connection, key: &str) -> Option<i64> {
    let mut st = conn
        .prepare_cached(&format!("SELECT v FROM {STATE_TABLE} WHERE k = ?1"))
        .ok()?;
    st.query_row([key], |r| r.get(0)).ok()
}

fn set_state(conn: &Connection, key: &str, v: i64) -> PgResult<()> {
    conn.execute(
        &format!("INSERT OR REPLACE INTO {STATE_TABLE}(k, v) VALUES (?1, ?2)"),
        rusqlite::params![key, v],
    )
    .map_err(err)?;
    Ok(())
}

/// Secondary indexes on the catalog tables, for the joins clients run.
const INDEXES: &[(&str, &str)] = &[
    ("pg_class", "oid"),
    ("pg_class", "relname"),
    ("pg_attribute", "attrelid, attnum"),
    ("pg_type", "oid"),
    ("pg_type", "typname"),
    ("pg_constraint", "conrelid"),
    ("pg_constraint", "oid"),
    ("pg_index", "indrelid"),
    ("pg_index", "indexrelid"),
    ("pg_attrdef", "adrelid, adnum"),
    ("pg_description", "objoid"),
    ("pg_proc", "oid"),
    ("pg_depend", "objid"),
    ("pg_depend", "refobjid"),
];

fn create_tables(conn: &Connection) -> PgResult<()> {
    let mut sql = String::new();
    sql.push_str(&format!(
        "DROP TABLE IF EXISTS {STATE_TABLE}; CREATE TEMP TABLE \"__bedrock_pgc_state\"(k TEXT PRIMARY KEY, v INTEGER);\n"
    ));
    sql.push_str(&format!(
        "DROP TABLE IF EXISTS {AUX_TABLE}; CREATE TEMP TABLE \"__bedrock_pgc_def\"(oid INTEGER, sub INTEGER, kind INTEGER, def TEXT);\n\
         CREATE INDEX temp.\"__bedrock_pgc_def_i\" ON \"__bedrock_pgc_def\"(oid, sub, kind);\n"
    ));
    for d in relations() {
        let cols: Vec<String> = d
            .cols
            .iter()
            .map(|(c, t)| format!("\"{c}\" {}", t.storage().sqlite_decl()))
            .collect();
        sql.push_str(&format!(
            "DROP TABLE IF EXISTS {}; CREATE TEMP TABLE \"{}\"({});\n",
            d.table(),
            d.table_name(),
            cols.join(", ")
        ));
    }
    for (i, (r, cols)) in INDEXES.iter().enumerate() {
        if let Some(d) = rel(Schema::PgCatalog, r) {
            sql.push_str(&format!(
                "CREATE INDEX temp.\"__bedrock_pgc_i{i}\" ON \"{}\"({cols});\n",
                d.table_name()
            ));
        }
    }
    conn.execute_batch(&sql).map_err(err)
}

fn insert_literal_rows(conn: &Connection, name: &str, rows: &[&str]) -> PgResult<()> {
    let Some(d) = rel(Schema::PgCatalog, name) else {
        return Ok(());
    };
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = rows.iter().map(|r| format!("({r})")).collect();
    conn.execute_batch(&format!(
        "INSERT INTO {} VALUES {};",
        d.table(),
        values.join(", ")
    ))
    .map_err(err)
}

fn load_static(conn: &Connection) -> PgResult<()> {
    use static_rows as s;
    for (name, rows) in [
        ("pg_type", s::PG_TYPE),
        ("pg_proc", s::PG_PROC),
        ("pg_namespace", s::PG_NAMESPACE),
        ("pg_am", s::PG_AM),
        ("pg_collation", s::PG_COLLATION),
        ("pg_database", s::PG_DATABASE),
        ("pg_authid", s::PG_AUTHID),
        ("pg_tablespace", s::PG_TABLESPACE),
        ("pg_language", s::PG_LANGUAGE),
        ("pg_roles", s::PG_ROLES),
        ("pg_user", s::PG_USER),
        ("pg_shadow", s::PG_SHADOW),
    ] {
        insert_literal_rows(conn, name, rows)?;
    }
    let mut out = Out::default();
    system_rows(&mut out);
    out.insert(conn)?;
    fill_attribute_type_info(conn, "1")?;
    set_state(conn, "static", STATIC_VERSION)
}

/// Relations whose rows come (partly) from the shadow catalog, with the predicate selecting
/// those rows (the rest are static).
const DYNAMIC: &[(Schema, &str, &str)] = &[
    (Schema::PgCatalog, "pg_class", "oid >= 16384"),
    (Schema::PgCatalog, "pg_attribute", "attrelid >= 16384"),
    (Schema::PgCatalog, "pg_type", "oid >= 16384"),
    (Schema::PgCatalog, "pg_index", "1"),
    (Schema::PgCatalog, "pg_constraint", "1"),
    (Schema::PgCatalog, "pg_attrdef", "1"),
    (Schema::PgCatalog, "pg_description", "1"),
    (Schema::PgCatalog, "pg_sequence", "1"),
    (Schema::PgCatalog, "pg_depend", "1"),
    (Schema::PgCatalog, "pg_tables", "schemaname = 'public'"),
    (Schema::PgCatalog, "pg_views", "schemaname = 'public'"),
    (Schema::PgCatalog, "pg_indexes", "1"),
    (Schema::PgCatalog, "pg_sequences", "1"),
    (Schema::PgCatalog, "pg_stat_user_tables", "1"),
    (Schema::PgCatalog, "pg_stat_all_tables", "1"),
    (Schema::PgCatalog, "pg_statio_user_tables", "1"),
    (Schema::PgCatalog, "pg_stat_user_indexes", "1"),
    (Schema::PgCatalog, "pg_stat_all_indexes", "1"),
    (Schema::PgCatalog, "pg_statio_user_indexes", "1"),
    (
        Schema::InformationSchema,
        "tables",
        "table_schema = 'public'",
    ),
    (
        Schema::InformationSchema,
        "columns",
        "table_schema = 'public'",
    ),
    (Schema::InformationSchema, "views", "1"),
    (Schema::InformationSchema, "table_constraints", "1"),
    (Schema::InformationSchema, "key_column_usage", "1"),
    (Schema::InformationSchema, "referential_constraints", "1"),
    (Schema::InformationSchema, "constraint_column_usage", "1"),
    (Schema::InformationSchema, "check_constraints", "1"),
    (Schema::InformationSchema, "sequences", "1"),
];

fn refresh_dynamic(conn: &Connection, cat: &Catalog) -> PgResult<()> {
    let mut sql = format!("DELETE FROM {AUX_TABLE};\n");
    for (s, n, pred) in DYNAMIC {
        if let Some(d) = rel(*s, n) {
            sql.push_str(&format!("DELETE FROM {} WHERE {pred};\n", d.table()));
        }
    }
    conn.execute_batch(&sql).map_err(err)?;
    let mut out = Out::default();
    catalog_rows(cat, &mut out);
    out.insert(conn)?;
    fill_attribute_type_info(conn, "attrelid >= 16384")?;
    set_state(conn, "generation", cat.generation as i64)
}

/// attlen / attbyval / attalign / attstorage / attcollation follow the column's type.
fn fill_attribute_type_info(conn: &Connection, pred: &str) -> PgResult<()> {
    let (Some(a), Some(t)) = (
        rel(Schema::PgCatalog, "pg_attribute"),
        rel(Schema::PgCatalog, "pg_type"),
    ) else {
        return Ok(());
    };
    conn.execute_batch(&format!(
        "UPDATE {} SET attlen = t.typlen, attbyval = t.typbyval, attalign = t.typalign, \
         attstorage = t.typstorage, attcollation = t.typcollation \
         FROM {} AS t WHERE t.oid = atttypid AND {pred};",
        a.table(),
        t.table()
    ))
    .map_err(err)
}

/// A value for one catalog cell.
pub(crate) trait Cell {
    fn cell(self) -> Value;
}

impl Cell for Value {
    fn cell(self) -> Value {
        self
    }
}
impl Cell for i64 {
    fn cell(self) -> Value {
        Value::Integer(self)
    }
}
impl Cell for i32 {
    fn cell(self) -> Value {
        Value::Integer(self as i64)
    }
}
impl Cell for i16 {
    fn cell(self) -> Value {
        Value::Integer(self as i64)
    }
}
impl Cell for u32 {
    fn cell(self) -> Value {
        Value::Integer(self as i64)
    }
}
impl Cell for usize {
    fn cell(self) -> Value {
        Value::Integer(self as i64)
    }
}
impl Cell for bool {
    fn cell(self) -> Value {
        Value::Integer(self as i64)
    }
}
impl Cell for f64 {
    fn cell(self) -> Value {
        Value::Real(self)
    }
}
impl Cell for char {
    fn cell(self) -> Value {
        Value::Text(self.to_string())
    }
}
impl Cell for &str {
    fn cell(self) -> Value {
        Value::Text(self.to_string())
    }
}
impl Cell for String {
    fn cell(self) -> Value {
        Value::Text(self)
    }
}
impl<T: Cell> Cell for Option<T> {
    fn cell(self) -> Value {
        match self {
            Some(v) => v.cell(),
            None => Value::Null,
        }
    }
}

/// A JSON array of integers: our storage of int2[] / oid[] / int2vector / oidvector.
fn int_array(v: impl IntoIterator<Item = i64>) -> Value {
    let parts: Vec<String> = v.into_iter().map(|i| i.to_string()).collect();
    Value::Text(format!("[{}]", parts.join(",")))
}

/// One row under construction: every column starts at its type's zero (0 / false / '' for
/// "char") or NULL, and is set by name.
pub(crate) struct Row {
    def: &'static RelDef,
    vals: Vec<Value>,
}

impl Row {
    fn new(def: &'static RelDef) -> Row {
        let vals = def
            .cols
            .iter()
            .map(|(_, t)| {
                // information_schema columns are nullable; pg_catalog's mostly are not.
                if t.array || def.schema == Schema::InformationSchema {
                    return Value::Null;
                }
                match t.scalar {
                    Scalar::Bool
                    | Scalar::Int2
                    | Scalar::Int4
                    | Scalar::Int8
                    | Scalar::Oid
                    | Scalar::Regclass
                    | Scalar::Regtype
                    | Scalar::Regproc => Value::Integer(0),
                    Scalar::Float4 | Scalar::Float8 => Value::Real(0.0),
                    Scalar::Char => Value::Text(String::new()),
                    _ => Value::Null,
                }
            })
            .collect();
        Row { def, vals }
    }

    fn set(mut self, col: &str, v: impl Cell) -> Row {
        match self.def.col_index(col) {
            Some(i) => self.vals[i] = v.cell(),
            None => debug_assert!(false, "{} has no column {col}", self.def.name),
        }
        self
    }
}

/// The rows of one relation.
type RelRows = (&'static RelDef, Vec<Vec<Value>>);

/// Rows collected per relation, inserted in one pass.
#[derive(Default)]
pub(crate) struct Out {
    rows: BTreeMap<(Schema, &'static str), RelRows>,
    aux: Vec<(i64, i64, i64, String)>,
}

impl Out {
    /// A new row of `schema.name` (None if we do not emulate it — a programming error caught by
    /// the unit tests).
    fn row(&self, schema: Schema, name: &str) -> Option<Row> {
        let d = rel(schema, name);
        debug_assert!(d.is_some(), "no system relation {name}");
        d.map(Row::new)
    }

    fn push(&mut self, r: Option<Row>) {
        if let Some(r) = r {
            self.rows
                .entry((r.def.schema, r.def.name))
                .or_insert_with(|| (r.def, Vec::new()))
                .1
                .push(r.vals);
        }
    }

    fn pg(&self, name: &str) -> Option<Row> {
        self.row(Schema::PgCatalog, name)
    }

    fn is(&self, name: &str) -> Option<Row> {
        self.row(Schema::InformationSchema, name)
    }

    fn aux(&mut self, oid: u32, sub: i64, kind: i64, def: String) {
        self.aux.push((oid as i64, sub, kind, def));
    }

    fn insert(&self, conn: &Connection) -> PgResult<()> {
        for (d, rows) in self.rows.values() {
            let marks: Vec<String> = (1..=d.cols.len()).map(|i| format!("?{i}")).collect();
            let mut st = conn
                .prepare_cached(&format!(
                    "INSERT INTO {} VALUES ({})",
                    d.table(),
                    marks.join(", ")
                ))
                .map_err(err)?;
            for r in rows {
                st.execute(rusqlite::params_from_iter(r.iter()))
                    .map_err(err)?;
            }
        }
        let mut st = conn
            .prepare_cached(&format!(
                "INSERT INTO {AUX_TABLE}(oid, sub, kind, def) VALUES (?1, ?2, ?3, ?4)"
            ))
            .map_err(err)?;
        for (o, s, k, d) in &self.aux {
            st.execute(rusqlite::params![o, s, k, d]).map_err(err)?;
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn count(&self, schema: Schema, name: &str) -> usize {
        self.rows.get(&(schema, name)).map_or(0, |r| r.1.len())
    }
}

/// pg_class, pg_attribute, pg_tables / pg_views and information_schema rows describing the
/// system relations themselves.
fn system_rows(out: &mut Out) {
    for d in relations() {
        let nsp = d.schema.oid();
        out.push(
            out.pg("pg_class")
                .map(|r| class_base(r, d.oid, d.name, nsp))
                .map(|r| {
                    r.set("relkind", d.kind)
                        .set("relam", if d.kind == 'r' { 2 } else { 0 })
                        .set("relfilenode", if d.kind == 'r' { d.oid } else { 0 })
                        .set("relnatts", d.cols.len())
                        .set("relhasrules", d.kind == 'v')
                }),
        );
        for (i, (c, t)) in d.cols.iter().enumerate() {
            out.push(
                out.pg("pg_attribute")
                    .map(|r| attribute(r, d.oid, c, *t, -1, (i + 1) as i16, d.kind == 'r')),
            );
            out.push(out.is("columns").map(|r| {
                is_column(r, d.schema.name(), d.name, c, *t, -1, (i + 1) as i16)
                    .set("is_nullable", if d.kind == 'r' { "NO" } else { "YES" })
                    .set("is_updatable", "NO")
            }));
        }
        if d.kind == 'r' {
            out.push(out.pg("pg_tables").map(|r| {
                r.set("schemaname", d.schema.name())
                    .set("tablename", d.name)
                    .set("tableowner", "postgres")
                    .set("hasindexes", true)
            }));
        } else {
            out.push(out.pg("pg_views").map(|r| {
                r.set("schemaname", d.schema.name())
                    .set("viewname", d.name)
                    .set("viewowner", "postgres")
            }));
        }
        out.push(out.is("tables").map(|r| {
            r.set("table_catalog", "postgres")
                .set("table_schema", d.schema.name())
                .set("table_name", d.name)
                .set(
                    "table_type",
                    if d.kind == 'r' { "BASE TABLE" } else { "VIEW" },
                )
                .set("is_insertable_into", "NO")
                .set("is_typed", "NO")
        }));
    }
    for (name, owner) in [
        ("information_schema", "postgres"),
        ("pg_catalog", "postgres"),
        ("pg_toast", "postgres"),
        ("public", "pg_database_owner"),
    ] {
        out.push(out.is("schemata").map(|r| {
            r.set("catalog_name", "postgres")
                .set("schema_name", name)
                .set("schema_owner", owner)
        }));
    }
    let _ = (INFORMATION_SCHEMA_OID, PG_CATALOG_OID, DATABASE_OWNER_OID);
}

/// The pg_class columns every relation shares.
fn class_base(r: Row, oid: u32, name: &str, nsp: u32) -> Row {
    r.set("oid", oid)
        .set("relname", name)
        .set("relnamespace", nsp)
        .set("relowner", SUPERUSER_OID)
        .set("relpersistence", 'p')
        .set("relreplident", 'n')
        .set("relispopulated", true)
        .set("reltuples", -1.0)
}

/// A pg_attribute row (type-derived columns are filled in by `fill_attribute_type_info`).
fn attribute(
    r: Row,
    relid: u32,
    name: &str,
    ty: PgType,
    typmod: i32,
    attnum: i16,
    not_null: bool,
) -> Row {
    r.set("attrelid", relid)
        .set("attname", name)
        .set("atttypid", ty.oid())
        .set("attstattarget", -1)
        .set("attnum", attnum)
        .set("attndims", if ty.array { 1 } else { 0 })
        .set("attcacheoff", -1)
        .set("atttypmod", typmod)
        .set("attnotnull", not_null)
        .set("attislocal", true)
}

/// Type facts information_schema.columns reports.
struct IsType {
    data_type: String,
    char_max: Option<i64>,
    char_octets: Option<i64>,
    num_precision: Option<i64>,
    num_radix: Option<i64>,
    num_scale: Option<i64>,
    dt_precision: Option<i64>,
}

fn is_type(ty: PgType, typmod: i32) -> IsType {
    let mut t = IsType {
        data_type: if ty.array {
            "ARRAY".into()
        } else {
            ty.scalar.sql_name().to_string()
        },
        char_max: None,
        char_octets: None,
        num_precision: None,
        num_radix: None,
        num_scale: None,
        dt_precision: None,
    };
    if ty.array {
        return t;
    }
    match ty.scalar {
        Scalar::Varchar | Scalar::Bpchar | Scalar::Text => {
            if typmod >= 4 {
                t.char_max = Some((typmod - 4) as i64);
                t.char_octets = Some((typmod - 4) as i64 * 4);
            } else {
                t.char_octets = Some(1_073_741_824);
            }
        }
        Scalar::Int2 | Scalar::Int4 | Scalar::Int8 => {
            t.num_precision = Some(match ty.scalar {
                Scalar::Int2 => 16,
                Scalar::Int4 => 32,
                _ => 64,
            });
            t.num_radix = Some(2);
            t.num_scale = Some(0);
        }
        Scalar::Float4 | Scalar::Float8 => {
            t.num_precision = Some(if ty.scalar == Scalar::Float4 { 24 } else { 53 });
            t.num_radix = Some(2);
        }
        Scalar::Numeric => {
            t.num_radix = Some(10);
            if let Some((p, s)) = crate::sql::types::numeric_precision_scale(typmod) {
                t.num_precision = Some(p as i64);
                t.num_scale = Some(s as i64);
            }
        }
        Scalar::Date => t.dt_precision = Some(0),
        Scalar::Time | Scalar::Timestamp | Scalar::Timestamptz => {
            t.dt_precision = Some(if typmod >= 0 { typmod as i64 } else { 6 })
        }
        Scalar::Interval => t.dt_precision = Some(6),
        _ => {}
    }
    t
}

/// An information_schema.columns row.
fn is_column(
    r: Row,
    schema: &str,
    table: &str,
    name: &str,
    ty: PgType,
    typmod: i32,
    attnum: i16,
) -> Row {
    let t = is_type(ty, typmod);
    r.set("table_catalog", "postgres")
        .set("table_schema", schema)
        .set("table_name", table)
        .set("column_name", name)
        .set("ordinal_position", attnum)
        .set("is_nullable", "YES")
        .set("data_type", t.data_type)
        .set("character_maximum_length", t.char_max)
        .set("character_octet_length", t.char_octets)
        .set("numeric_precision", t.num_precision)
        .set("numeric_precision_radix", t.num_radix)
        .set("numeric_scale", t.num_scale)
        .set("datetime_precision", t.dt_precision)
        .set("udt_catalog", "postgres")
        .set("udt_schema", "pg_catalog")
        .set("udt_name", ty.name())
        .set("dtd_identifier", attnum.to_string())
        .set("is_self_referencing", "NO")
        .set("is_identity", "NO")
        .set("identity_cycle", "NO")
        .set("is_generated", "NEVER")
        .set("is_updatable", "YES")
}

/// Synthetic OID of a column default (pg_attrdef.oid): the shadow catalog does not allocate
/// one, so derive a stable value from (table, column) in a range user OIDs do not reach.
fn attrdef_oid(table: u32, attnum: i16) -> u32 {
    let v = (table as u64 * 1664 + attnum.max(0) as u64) % (1u64 << 30);
    (3u64 << 30) as u32 + v as u32
}

/// The catalog with the lookups the row builders need, computed once (so a build is linear in
/// the number of objects).
struct View<'a> {
    cat: &'a Catalog,
    indexes: HashMap<&'a str, Vec<&'a Index>>,
    /// Sequence owned by (table, column).
    owned: HashMap<(&'a str, &'a str), &'a Sequence>,
    /// Tables some foreign key references.
    referenced: HashSet<&'a str>,
}

impl<'a> View<'a> {
    fn new(cat: &'a Catalog) -> View<'a> {
        let mut v = View {
            cat,
            indexes: HashMap::new(),
            owned: HashMap::new(),
            referenced: HashSet::new(),
        };
        for o in cat.objects() {
            match o {
                Object::Index(i) => v.indexes.entry(i.table.as_str()).or_default().push(i),
                Object::Sequence(s) => {
                    if let Some((t, c)) = &s.owned_by {
                        v.owned.insert((t.as_str(), c.as_str()), s);
                    }
                }
                Object::Table(t) => {
                    for c in &t.constraints {
                        if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind {
                            v.referenced.insert(ref_table.as_str());
                        }
                    }
                }
            }
        }
        v
    }

    fn indexes_of(&self, table: &str) -> impl Iterator<Item = &'a Index> + '_ {
        self.indexes.get(table).into_iter().flatten().copied()
    }
}

/// Every row derived from the shadow catalog.
pub(crate) fn catalog_rows(cat: &Catalog, out: &mut Out) {
    let v = View::new(cat);
    for t in cat.tables() {
        table_rows(&v, t, out);
    }
    for o in cat.objects() {
        if let Object::Index(i) = o {
            index_rows(&v, i, out);
        }
    }
    for s in cat.sequences() {
        sequence_rows(&v, s, out);
    }
}

fn attnum_of(t: &Table, col: &str) -> i64 {
    t.column(col).map_or(0, |c| c.attnum as i64)
}

fn table_rows(v: &View, t: &Table, out: &mut Out) {
    let view = t.kind == RelKind::View;
    let has_index = v.indexes_of(&t.name).next().is_some();
    let checks = t
        .constraints
        .iter()
        .filter(|c| matches!(c.kind, ConstraintKind::Check(_)))
        .count();
    let referenced = v.referenced.contains(t.name.as_str());
    let has_fk = t
        .constraints
        .iter()
        .any(|c| matches!(c.kind, ConstraintKind::ForeignKey { .. }));
    out.push(out.pg("pg_class").map(|r| {
        class_base(r, t.oid, &t.name, PUBLIC_NAMESPACE_OID)
            .set("reltype", t.row_type_oid)
            .set("relam", if view { 0 } else { 2 })
            .set("relfilenode", if view { 0 } else { t.oid })
            .set("relhasindex", has_index)
            .set("relkind", if view { 'v' } else { 'r' })
            .set("relnatts", t.columns.len())
            .set("relchecks", checks)
            .set("relhasrules", view)
            .set("relhastriggers", has_fk || referenced)
            .set("relreplident", if view { 'n' } else { 'd' })
    }));
    out.push(out.pg("pg_type").map(|r| {
        r.set("oid", t.row_type_oid)
            .set("typname", t.name.as_str())
            .set("typnamespace", PUBLIC_NAMESPACE_OID)
            .set("typowner", SUPERUSER_OID)
            .set("typlen", -1)
            .set("typtype", 'c')
            .set("typcategory", 'C')
            .set("typisdefined", true)
            .set("typdelim", ',')
            .set("typrelid", t.oid)
            .set("typinput", 2290)
            .set("typoutput", 2291)
            .set("typreceive", 2402)
            .set("typsend", 2403)
            .set("typalign", 'd')
            .set("typstorage", 'x')
            .set("typtypmod", -1)
    }));
    if let Some(c) = &t.comment {
        out.push(out.pg("pg_description").map(|r| {
            r.set("objoid", t.oid)
                .set("classoid", PG_CLASS)
                .set("objsubid", 0)
                .set("description", c.as_str())
        }));
    }
    if view {
        let def = t.view_def.clone().unwrap_or_default();
        out.push(out.pg("pg_views").map(|r| {
            r.set("schemaname", "public")
                .set("viewname", t.name.as_str())
                .set("viewowner", "postgres")
                .set("definition", format!(" {def};"))
        }));
        out.push(out.is("views").map(|r| {
            r.set("table_catalog", "postgres")
                .set("table_schema", "public")
                .set("table_name", t.name.as_str())
                .set("view_definition", format!(" {def};"))
                .set("check_option", "NONE")
                .set("is_updatable", "NO")
                .set("is_insertable_into", "NO")
                .set("is_trigger_updatable", "NO")
                .set("is_trigger_deletable", "NO")
                .set("is_trigger_insertable_into", "NO")
        }));
        out.aux(t.oid, 0, 0, format!(" {def};"));
        out.aux(t.oid, 0, 1, format!(" {def};"));
    } else {
        // Statistics views list every table (with zero counters: nothing is tracked).
        for stat in [
            "pg_stat_user_tables",
            "pg_stat_all_tables",
            "pg_statio_user_tables",
        ] {
            out.push(out.pg(stat).map(|r| {
                r.set("relid", t.oid)
                    .set("schemaname", "public")
                    .set("relname", t.name.as_str())
            }));
        }
        out.push(out.pg("pg_tables").map(|r| {
            r.set("schemaname", "public")
                .set("tablename", t.name.as_str())
                .set("tableowner", "postgres")
                .set("hasindexes", has_index)
                .set("hastriggers", has_fk || referenced)
        }));
    }
    out.push(out.is("tables").map(|r| {
        r.set("table_catalog", "postgres")
            .set("table_schema", "public")
            .set("table_name", t.name.as_str())
            .set("table_type", if view { "VIEW" } else { "BASE TABLE" })
            .set("is_insertable_into", if view { "NO" } else { "YES" })
            .set("is_typed", "NO")
    }));
    for c in &t.columns {
        column_rows(v, t, c, out);
    }
    for con in &t.constraints {
        constraint_rows(v, t, con, out);
    }
    // NOT NULL columns appear in information_schema as CHECK constraints.
    if !view {
        for c in t.columns.iter().filter(|c| c.not_null) {
            let name = format!("{}_{}_{}_not_null", PUBLIC_NAMESPACE_OID, t.oid, c.attnum);
            out.push(out.is("table_constraints").map(|r| {
                constraint_names(r, &name, &t.name)
                    .set("constraint_type", "CHECK")
                    .set("is_deferrable", "NO")
                    .set("initially_deferred", "NO")
                    .set("enforced", "YES")
            }));
            out.push(out.is("check_constraints").map(|r| {
                r.set("constraint_catalog", "postgres")
                    .set("constraint_schema", "public")
                    .set("constraint_name", name.as_str())
                    .set(
                        "check_clause",
                        format!("{} IS NOT NULL", quote_ident(&c.name)),
                    )
            }));
        }
    }
}

fn column_rows(v: &View, t: &Table, c: &Column, out: &mut Out) {
    let has_def = c.default.is_some() && c.identity.is_none();
    out.push(out.pg("pg_attribute").map(|r| {
        attribute(r, t.oid, &c.name, c.ty, c.typmod, c.attnum, c.not_null)
            .set("atthasdef", has_def)
            .set(
                "attidentity",
                match c.identity {
                    Some(Identity::Always) => "a",
                    Some(Identity::ByDefault) => "d",
                    None => "",
                },
            )
    }));
    if has_def && let Some(d) = &c.default {
        let oid = attrdef_oid(t.oid, c.attnum);
        out.push(out.pg("pg_attrdef").map(|r| {
            r.set("oid", oid)
                .set("adrelid", t.oid)
                .set("adnum", c.attnum)
                .set(
                    "adbin",
                    deparse::default_def(c).unwrap_or_else(|| d.pg.clone()),
                )
        }));
        out.push(
            out.pg("pg_depend")
                .map(|r| depend(r, PG_ATTRDEF, oid, PG_CLASS, t.oid, c.attnum as i64, 'a')),
        );
    }
    if let Some(cm) = &c.comment {
        out.push(out.pg("pg_description").map(|r| {
            r.set("objoid", t.oid)
                .set("classoid", PG_CLASS)
                .set("objsubid", c.attnum)
                .set("description", cm.as_str())
        }));
    }
    let seq = v.owned.get(&(t.name.as_str(), c.name.as_str())).copied();
    if let Some(s) = seq {
        out.aux(
            t.oid,
            c.attnum as i64,
            2,
            format!("public.{}", quote_ident(&s.name)),
        );
    }
    let view = t.kind == RelKind::View;
    out.push(out.is("columns").map(|r| {
        let mut r = is_column(r, "public", &t.name, &c.name, c.ty, c.typmod, c.attnum)
            .set("is_nullable", if c.not_null { "NO" } else { "YES" })
            .set("is_updatable", if view { "NO" } else { "YES" });
        if has_def {
            r = r.set("column_default", deparse::default_def(c));
        }
        if let Some(id) = c.identity {
            r = r.set("is_identity", "YES").set(
                "identity_generation",
                match id {
                    Identity::Always => "ALWAYS",
                    Identity::ByDefault => "BY DEFAULT",
                },
            );
            if let Some(s) = seq {
                r = r
                    .set("identity_start", s.start.to_string())
                    .set("identity_increment", s.increment.to_string())
                    .set("identity_maximum", s.max.to_string())
                    .set("identity_minimum", s.min.to_string())
                    .set("identity_cycle", if s.cycle { "YES" } else { "NO" });
            }
        }
        r
    }));
}

fn depend(
    r: Row,
    classid: i64,
    objid: u32,
    refclassid: i64,
    refobjid: u32,
    refsub: i64,
    deptype: char,
) -> Row {
    r.set("classid", classid)
        .set("objid", objid)
        .set("objsubid", 0)
        .set("refclassid", refclassid)
        .set("refobjid", refobjid)
        .set("refobjsubid", refsub)
        .set("deptype", deptype)
}

fn constraint_names(r: Row, name: &str, table: &str) -> Row {
    r.set("constraint_catalog", "postgres")
        .set("constraint_schema", "public")
        .set("constraint_name", name)
        .set("table_catalog", "postgres")
        .set("table_schema", "public")
        .set("table_name", table)
}

/// The unique index of `table` whose key is exactly `cols` (what a foreign key relies on).
fn unique_index_on<'a>(v: &View<'a>, table: &str, cols: &[String]) -> Option<&'a Index> {
    v.indexes_of(table).find(|i| {
        i.unique
            && i.predicate.is_none()
            && i.key_columns.len() == cols.len()
            && i.key_columns
                .iter()
                .zip(cols)
                .all(|(k, c)| k.as_deref() == Some(c.as_str()))
    })
}

fn constraint_rows(v: &View, t: &Table, con: &crate::sql::catalog::Constraint, out: &mut Out) {
    let cat = v.cat;
    let conkey = int_array(con.columns.iter().map(|c| attnum_of(t, c)));
    let mut r = out.pg("pg_constraint").map(|r| {
        r.set("oid", con.oid)
            .set("conname", con.name.as_str())
            .set("connamespace", PUBLIC_NAMESPACE_OID)
            .set("contype", con.contype())
            .set("convalidated", true)
            .set("conrelid", t.oid)
            .set("confupdtype", ' ')
            .set("confdeltype", ' ')
            .set("confmatchtype", ' ')
            .set("conislocal", true)
            .set(
                "connoinherit",
                !matches!(con.kind, ConstraintKind::Check(_)),
            )
            .set("conkey", conkey.clone())
    });
    let type_name = match con.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        ConstraintKind::Unique => "UNIQUE",
        ConstraintKind::Check(_) => "CHECK",
        ConstraintKind::ForeignKey { .. } => "FOREIGN KEY",
    };
    out.push(out.is("table_constraints").map(|r| {
        constraint_names(r, &con.name, &t.name)
            .set("constraint_type", type_name)
            .set("is_deferrable", "NO")
            .set("initially_deferred", "NO")
            .set("enforced", "YES")
            .set(
                "nulls_distinct",
                if con.has_index() { Some("YES") } else { None },
            )
    }));
    for (pretty, kind) in [(false, 0), (true, 1)] {
        out.aux(con.oid, 0, kind, deparse::constraint_def(t, con, pretty));
    }
    for c in &con.columns {
        out.push(out.pg("pg_depend").map(|r| {
            depend(
                r,
                PG_CONSTRAINT,
                con.oid,
                PG_CLASS,
                t.oid,
                attnum_of(t, c),
                'a',
            )
        }));
    }
    match &con.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            let idx = v
                .indexes_of(&t.name)
                .find(|i| i.constraint.as_deref() == Some(con.name.as_str()));
            r = r.map(|r| r.set("conindid", idx.map_or(0, |i| i.oid)));
            for (i, c) in con.columns.iter().enumerate() {
                out.push(out.is("key_column_usage").map(|r| {
                    constraint_names(r, &con.name, &t.name)
                        .set("column_name", c.as_str())
                        .set("ordinal_position", i + 1)
                }));
                out.push(out.is("constraint_column_usage").map(|r| {
                    constraint_names(r, &con.name, &t.name).set("column_name", c.as_str())
                }));
            }
        }
        ConstraintKind::Check(e) => {
            r = r.map(|r| r.set("conbin", e.pg.as_str()));
            out.push(out.is("check_constraints").map(|r| {
                r.set("constraint_catalog", "postgres")
                    .set("constraint_schema", "public")
                    .set("constraint_name", con.name.as_str())
                    .set(
                        "check_clause",
                        deparse::constraint_def(t, con, false)
                            .trim_start_matches("CHECK ")
                            .to_string(),
                    )
            }));
            for c in &con.columns {
                out.push(out.is("constraint_column_usage").map(|r| {
                    constraint_names(r, &con.name, &t.name).set("column_name", c.as_str())
                }));
            }
        }
        ConstraintKind::ForeignKey {
            ref_table,
            ref_columns,
            on_delete,
            on_update,
        } => {
            let rt = cat.table(ref_table);
            let ref_oid = rt.map_or(0, |x| x.oid);
            let confkey = int_array(
                ref_columns
                    .iter()
                    .map(|c| rt.map_or(0, |x| attnum_of(x, c))),
            );
            let uidx = unique_index_on(v, ref_table, ref_columns);
            r = r.map(|r| {
                r.set("confrelid", ref_oid)
                    .set("conindid", uidx.map_or(0, |i| i.oid))
                    .set("confupdtype", on_update.letter())
                    .set("confdeltype", on_delete.letter())
                    .set("confmatchtype", 's')
                    .set("confkey", confkey)
            });
            if ref_oid != 0 {
                for c in ref_columns {
                    let n = rt.map_or(0, |x| attnum_of(x, c));
                    out.push(
                        out.pg("pg_depend")
                            .map(|r| depend(r, PG_CONSTRAINT, con.oid, PG_CLASS, ref_oid, n, 'n')),
                    );
                }
            }
            for (i, c) in con.columns.iter().enumerate() {
                out.push(out.is("key_column_usage").map(|r| {
                    constraint_names(r, &con.name, &t.name)
                        .set("column_name", c.as_str())
                        .set("ordinal_position", i + 1)
                        .set("position_in_unique_constraint", i + 1)
                }));
            }
            for c in ref_columns {
                out.push(out.is("constraint_column_usage").map(|r| {
                    constraint_names(r, &con.name, ref_table).set("column_name", c.as_str())
                }));
            }
            let unique_name = uidx.and_then(|i| i.constraint.clone().or(Some(i.name.clone())));
            let rule = |a: crate::sql::catalog::FkAction| a.sql();
            out.push(out.is("referential_constraints").map(|r| {
                r.set("constraint_catalog", "postgres")
                    .set("constraint_schema", "public")
                    .set("constraint_name", con.name.as_str())
                    .set("unique_constraint_catalog", "postgres")
                    .set("unique_constraint_schema", "public")
                    .set("unique_constraint_name", unique_name)
                    .set("match_option", "NONE")
                    .set("update_rule", rule(*on_update))
                    .set("delete_rule", rule(*on_delete))
            }));
        }
    }
    out.push(r);
}

/// The type and output name of an index key expression, typed by the translator in the scope of
/// the table's columns (text when it cannot be typed).
fn expr_key(cat: &Catalog, t: &Table, expr: &str) -> (String, PgType, i32) {
    let name = match expr.find('(') {
        Some(p)
            if p > 0
                && expr[..p]
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.') =>
        {
            expr[..p]
                .rsplit('.')
                .next()
                .unwrap_or("expr")
                .to_lowercase()
        }
        _ => "expr".to_string(),
    };
    let typed = (|| -> Option<(PgType, i32)> {
        use crate::sql::translate::{Col, Env, Rel, Scope};
        let stmts = crate::sql::parse(&format!("SELECT {expr}")).ok()?;
        let sqlparser::ast::Statement::Query(q) = stmts.first()? else {
            return None;
        };
        let sqlparser::ast::SetExpr::Select(s) = q.body.as_ref() else {
            return None;
        };
        let sqlparser::ast::SelectItem::UnnamedExpr(e) = s.projection.first()? else {
            return None;
        };
        let env = Env::default();
        let mut tr = crate::sql::translate::Tr::new(cat, &env, &[]);
        let mut sc = Scope::default();
        sc.rels.push(Rel {
            name: Some(t.name.clone()),
            cols: t
                .columns
                .iter()
                .map(|c| Col {
                    name: c.name.clone(),
                    sql: format!("\"{}\"", c.name),
                    ty: c.ty,
                    typmod: c.typmod,
                    table_oid: t.oid,
                    attnum: c.attnum,
                    collate: None,
                    hidden: false,
                })
                .collect(),
            table: Some(t.name.clone()),
        });
        let x = tr.expr(e, &sc).ok()?;
        x.known().map(|k| (k, x.typmod))
    })();
    let (ty, typmod) = typed.unwrap_or((PgType::TEXT, -1));
    (name, ty, typmod)
}

fn index_rows(v: &View, idx: &Index, out: &mut Out) {
    let cat = v.cat;
    let Some(t) = cat.table(&idx.table) else {
        return;
    };
    let keys = deparse::index_keys(idx);
    let method = deparse::index_method(idx);
    let con = deparse::index_constraint(cat, idx);
    let primary = con.is_some_and(|c| c.kind == ConstraintKind::PrimaryKey);
    out.push(out.pg("pg_class").map(|r| {
        class_base(r, idx.oid, &idx.name, PUBLIC_NAMESPACE_OID)
            .set("relam", if method == "hash" { 405 } else { 403 })
            .set("relfilenode", idx.oid)
            .set("relkind", 'i')
            .set("relnatts", keys.len())
            .set("relpages", 1)
            .set("reltuples", 0.0)
    }));
    let mut indkey = Vec::new();
    let mut collations = Vec::new();
    let mut options = Vec::new();
    let mut exprs = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let (name, ty, typmod, attnum) = if k.is_column {
            match t.column(&k.expr) {
                Some(c) => (c.name.clone(), c.ty, c.typmod, c.attnum as i64),
                None => (k.expr.clone(), PgType::TEXT, -1, 0),
            }
        } else {
            let (n, ty, m) = expr_key(cat, t, &k.expr);
            exprs.push(k.expr.clone());
            (n, ty, m, 0)
        };
        indkey.push(attnum);
        collations.push(if ty.scalar.is_string() && !ty.array {
            100
        } else {
            0
        });
        options.push(if k.options.contains(" DESC") { 3 } else { 0 });
        out.push(
            out.pg("pg_attribute")
                .map(|r| attribute(r, idx.oid, &name, ty, typmod, (i + 1) as i16, false)),
        );
        let key = deparse::index_key_def(k);
        out.aux(idx.oid, (i + 1) as i64, 0, key.clone());
        out.aux(idx.oid, (i + 1) as i64, 1, key);
        if k.is_column && attnum != 0 && con.is_none() {
            out.push(
                out.pg("pg_depend")
                    .map(|r| depend(r, PG_CLASS, idx.oid, PG_CLASS, t.oid, attnum, 'a')),
            );
        }
    }
    if let Some(c) = con {
        out.push(
            out.pg("pg_depend")
                .map(|r| depend(r, PG_CLASS, idx.oid, PG_CONSTRAINT, c.oid, 0, 'i')),
        );
    }
    let n = keys.len();
    out.push(out.pg("pg_index").map(|r| {
        r.set("indexrelid", idx.oid)
            .set("indrelid", t.oid)
            .set("indnatts", n)
            .set("indnkeyatts", n)
            .set("indisunique", idx.unique)
            .set("indisprimary", primary)
            .set("indimmediate", true)
            .set("indisvalid", true)
            .set("indisready", true)
            .set("indislive", true)
            .set("indkey", int_array(indkey.iter().copied()))
            .set("indcollation", int_array(collations.iter().copied()))
            .set("indclass", int_array(std::iter::repeat_n(0, n)))
            .set("indoption", int_array(options.iter().copied()))
            .set(
                "indexprs",
                if exprs.is_empty() {
                    None
                } else {
                    Some(exprs.join(", "))
                },
            )
            .set("indpred", idx.predicate.as_ref().map(|p| p.pg.clone()))
    }));
    for stat in [
        "pg_stat_user_indexes",
        "pg_stat_all_indexes",
        "pg_statio_user_indexes",
    ] {
        out.push(out.pg(stat).map(|r| {
            r.set("relid", t.oid)
                .set("indexrelid", idx.oid)
                .set("schemaname", "public")
                .set("relname", t.name.as_str())
                .set("indexrelname", idx.name.as_str())
        }));
    }
    let plain = deparse::index_def(idx, method, false);
    out.push(out.pg("pg_indexes").map(|r| {
        r.set("schemaname", "public")
            .set("tablename", t.name.as_str())
            .set("indexname", idx.name.as_str())
            .set("indexdef", plain.as_str())
    }));
    out.aux(idx.oid, 0, 0, plain);
    out.aux(idx.oid, 0, 1, deparse::index_def(idx, method, true));
}

fn sequence_rows(v: &View, s: &Sequence, out: &mut Out) {
    let cat = v.cat;
    out.push(out.pg("pg_class").map(|r| {
        class_base(r, s.oid, &s.name, PUBLIC_NAMESPACE_OID)
            .set("relfilenode", s.oid)
            .set("relkind", 'S')
            .set("relnatts", 3)
            .set("relpages", 1)
            .set("reltuples", 1.0)
    }));
    for (i, (n, ty)) in [
        ("last_value", PgType::INT8),
        ("log_cnt", PgType::INT8),
        ("is_called", PgType::BOOL),
    ]
    .into_iter()
    .enumerate()
    {
        out.push(
            out.pg("pg_attribute")
                .map(|r| attribute(r, s.oid, n, ty, -1, (i + 1) as i16, true)),
        );
    }
    out.push(out.pg("pg_sequence").map(|r| {
        r.set("seqrelid", s.oid)
            .set("seqtypid", s.ty.oid())
            .set("seqstart", s.start)
            .set("seqincrement", s.increment)
            .set("seqmax", s.max)
            .set("seqmin", s.min)
            .set("seqcache", s.cache)
            .set("seqcycle", s.cycle)
    }));
    out.push(out.pg("pg_sequences").map(|r| {
        r.set("schemaname", "public")
            .set("sequencename", s.name.as_str())
            .set("sequenceowner", "postgres")
            .set("data_type", s.ty.oid())
            .set("start_value", s.start)
            .set("min_value", s.min)
            .set("max_value", s.max)
            .set("increment_by", s.increment)
            .set("cycle", s.cycle)
            .set("cache_size", s.cache)
    }));
    let bits = match s.ty.scalar {
        Scalar::Int2 => 16,
        Scalar::Int4 => 32,
        _ => 64,
    };
    // Identity sequences are internal to their column: information_schema does not list them.
    let identity = s.owned_by.as_ref().is_some_and(|(tb, col)| {
        cat.table(tb)
            .and_then(|t| t.column(col))
            .is_some_and(|c| c.identity.is_some())
    });
    out.push(out.is("sequences").filter(|_| !identity).map(|r| {
        r.set("sequence_catalog", "postgres")
            .set("sequence_schema", "public")
            .set("sequence_name", s.name.as_str())
            .set("data_type", s.ty.scalar.sql_name())
            .set("numeric_precision", bits)
            .set("numeric_precision_radix", 2)
            .set("numeric_scale", 0)
            .set("start_value", s.start.to_string())
            .set("minimum_value", s.min.to_string())
            .set("maximum_value", s.max.to_string())
            .set("increment", s.increment.to_string())
            .set("cycle_option", if s.cycle { "YES" } else { "NO" })
    }));
    out.push(out.pg("pg_depend").map(|r| {
        depend(
            r,
            PG_CLASS,
            s.oid,
            PG_NAMESPACE,
            PUBLIC_NAMESPACE_OID,
            0,
            'n',
        )
    }));
    if let Some((tb, col)) = &s.owned_by
        && let Some(t) = cat.table(tb)
    {
        let identity = t.column(col).is_some_and(|c| c.identity.is_some());
        out.push(out.pg("pg_depend").map(|r| {
            depend(
                r,
                PG_CLASS,
                s.oid,
                PG_CLASS,
                t.oid,
                attnum_of(t, col),
                if identity { 'i' } else { 'a' },
            )
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_rows_build() {
        let mut out = Out::default();
        system_rows(&mut out);
        assert_eq!(out.count(Schema::PgCatalog, "pg_class"), relations().len());
        assert!(out.count(Schema::PgCatalog, "pg_attribute") > 500);
        assert_eq!(out.count(Schema::InformationSchema, "schemata"), 4);
    }

    /// A catalog with one of everything the builders handle.
    fn sample() -> Catalog {
        use crate::sql::catalog::{CatalogTxn, Constraint, FkAction, StoredExpr};
        let mut cat = Catalog::default();
        let mut txn = CatalogTxn { cat: &mut cat };
        let mut exec = |_: &str, _: Vec<Value>| -> PgResult<()> { Ok(()) };
        let col = |attnum: i16, name: &str, ty: PgType| Column {
            attnum,
            name: name.into(),
            ty,
            typmod: -1,
            not_null: false,
            default: None,
            identity: None,
            comment: None,
        };
        let mut id = col(1, "id", PgType::INT4);
        id.not_null = true;
        id.identity = Some(Identity::ByDefault);
        let mut name = col(2, "name", PgType::TEXT);
        name.default = Some(StoredExpr {
            pg: "'x'".into(),
            sqlite: "'x'".into(),
        });
        let parent = col(3, "parent", PgType::INT4);
        let t = Table {
            oid: 16384,
            name: "t".into(),
            kind: RelKind::Table,
            columns: vec![id, name, parent],
            constraints: vec![
                Constraint {
                    oid: 16386,
                    name: "t_pkey".into(),
                    kind: ConstraintKind::PrimaryKey,
                    columns: vec!["id".into()],
                },
                Constraint {
                    oid: 16387,
                    name: "t_parent_fkey".into(),
                    kind: ConstraintKind::ForeignKey {
                        ref_table: "t".into(),
                        ref_columns: vec!["id".into()],
                        on_delete: FkAction::SetNull,
                        on_update: FkAction::NoAction,
                    },
                    columns: vec!["parent".into()],
                },
                Constraint {
                    oid: 16388,
                    name: "t_name_check".into(),
                    kind: ConstraintKind::Check(StoredExpr {
                        pg: "name <> ''".into(),
                        sqlite: "1".into(),
                    }),
                    columns: vec!["name".into()],
                },
            ],
            row_type_oid: 16385,
            view_def: None,
            next_attnum: 4,
            comment: Some("a table".into()),
        };
        txn.put(Object::Table(t), &mut exec).unwrap();
        txn.put(
            Object::Index(Index {
                oid: 16389,
                name: "t_pkey".into(),
                table: "t".into(),
                unique: true,
                keys_sqlite: vec![],
                key_columns: vec![Some("id".into())],
                pg_def: "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)".into(),
                predicate: None,
                constraint: Some("t_pkey".into()),
            }),
            &mut exec,
        )
        .unwrap();
        txn.put(
            Object::Index(Index {
                oid: 16390,
                name: "t_lower".into(),
                table: "t".into(),
                unique: false,
                keys_sqlite: vec![],
                key_columns: vec![None, Some("id".into())],
                pg_def: "CREATE INDEX t_lower ON public.t USING btree ((lower(name)) text_pattern_ops, id DESC) WHERE (parent IS NULL)".into(),
                predicate: Some(StoredExpr {
                    pg: "parent IS NULL".into(),
                    sqlite: "1".into(),
                }),
                constraint: None,
            }),
            &mut exec,
        )
        .unwrap();
        txn.put(
            Object::Sequence(Sequence {
                oid: 16391,
                name: "t_id_seq".into(),
                ty: PgType::INT4,
                increment: 1,
                min: 1,
                max: i32::MAX as i64,
                start: 1,
                cache: 1,
                cycle: false,
                owned_by: Some(("t".into(), "id".into())),
            }),
            &mut exec,
        )
        .unwrap();
        cat
    }

    fn one<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> T {
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[test]
    fn builds_rows_from_the_catalog() {
        let cat = sample();
        let conn = Connection::open_in_memory().unwrap();
        prepare_connection(&conn, &cat).unwrap();
        let pgc = super::super::pgc;
        assert_eq!(
            one::<String>(
                &conn,
                &format!(
                    "SELECT group_concat(attname || ':' || atttypid, ',') FROM {} WHERE attrelid = 16390",
                    pgc("pg_attribute")
                )
            ),
            "lower:25,id:23"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!(
                    "SELECT indkey || indoption FROM {} WHERE indexrelid = 16390",
                    pgc("pg_index")
                )
            ),
            "[0,1][0,3]"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!("SELECT def FROM {AUX_TABLE} WHERE oid = 16390 AND sub = 0 AND kind = 1")
            ),
            "CREATE INDEX t_lower ON public.t USING btree (lower(name) text_pattern_ops, id DESC) WHERE parent IS NULL"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!("SELECT def FROM {AUX_TABLE} WHERE oid = 16387 AND kind = 1")
            ),
            "FOREIGN KEY (parent) REFERENCES t(id) ON DELETE SET NULL"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!(
                    "SELECT confdeltype || confupdtype || conindid FROM {} WHERE oid = 16387",
                    pgc("pg_constraint")
                )
            ),
            "na16389"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!(
                    "SELECT deptype FROM {} WHERE objid = 16391 AND refobjid = 16384",
                    pgc("pg_depend")
                )
            ),
            "i"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!(
                    "SELECT attidentity || atthasdef FROM {} WHERE attrelid = 16384 AND attnum = 1",
                    pgc("pg_attribute")
                )
            ),
            "d0"
        );
        assert_eq!(
            one::<String>(
                &conn,
                &format!(
                    "SELECT adbin FROM {} WHERE adrelid = 16384 AND adnum = 2",
                    pgc("pg_attrdef")
                )
            ),
            "'x'::text"
        );
        // The same generation is not rebuilt; a new one is.
        let before: i64 = one(&conn, "SELECT total_changes()");
        prepare_connection(&conn, &cat).unwrap();
        assert_eq!(one::<i64>(&conn, "SELECT total_changes()"), before);
        let mut cat2 = cat.clone();
        cat2.generation = crate::sql::catalog::next_generation();
        prepare_connection(&conn, &cat2).unwrap();
        assert!(one::<i64>(&conn, "SELECT total_changes()") > before);
    }

    #[test]
    fn builds_on_a_read_only_connection() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "query_only", true).unwrap();
        let cat = Catalog::default();
        prepare_connection(&conn, &cat).unwrap();
        let n: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {} WHERE relnamespace = 11",
                    super::super::pgc("pg_class")
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(n > 40);
        let q: i64 = conn
            .pragma_query_value(None, "query_only", |r| r.get(0))
            .unwrap();
        assert_eq!(q, 1);
        // Unchanged generation: nothing to do.
        prepare_connection(&conn, &cat).unwrap();
    }
}
