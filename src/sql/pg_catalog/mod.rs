//! `pg_catalog` and `information_schema` emulation. Every system relation is a real relation
//! SQLite queries (joins, filters, subqueries): a per-connection TEMP table (`build`) filled from
//! the shadow catalog with the stable OIDs allocated at DDL time, plus static rows of PostgreSQL
//! 15's immutable catalogs (`static_rows`). Column lists and relation OIDs are PostgreSQL's
//! (`defs`). Catalog functions (`format_type`, `pg_get_indexdef`, …) are SQL over those tables or
//! small registered functions (`functions`). Internal objects (`__bedrock_*`, `sqlite_*`) never
//! appear: the rows come from the shadow catalog, which does not hold them.

mod build;
mod defs;
pub mod deparse;
mod functions;
mod static_rows;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use build::{AUX_TABLE, prepare_connection};

use crate::error::PgResult;
use crate::sql::catalog::Catalog;
use crate::sql::translate::{Env, Tr, sql_str};
use crate::sql::types::{PgType, Scalar};

/// Every catalog TEMP table's name starts with this (so SQL that reads the catalogs can be
/// recognised, e.g. when a follower replays it).
pub const TABLE_PREFIX: &str = "__bedrock_pgc_";

/// The two system schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Schema {
    PgCatalog,
    InformationSchema,
}

/// OID of `pg_catalog`.
pub const PG_CATALOG_OID: u32 = 11;
/// OID of `information_schema` (PostgreSQL 15's).
pub const INFORMATION_SCHEMA_OID: u32 = 13207;
/// OID of the bootstrap superuser, owner of everything.
pub const SUPERUSER_OID: u32 = 10;
/// OID of `pg_database_owner`, owner of `public`.
pub const DATABASE_OWNER_OID: u32 = 6171;

impl Schema {
    pub fn name(self) -> &'static str {
        match self {
            Schema::PgCatalog => "pg_catalog",
            Schema::InformationSchema => "information_schema",
        }
    }

    pub fn oid(self) -> u32 {
        match self {
            Schema::PgCatalog => PG_CATALOG_OID,
            Schema::InformationSchema => INFORMATION_SCHEMA_OID,
        }
    }
}

/// A system relation: PostgreSQL's name, schema, OID, relkind and typed columns.
#[derive(Debug)]
pub struct RelDef {
    pub name: &'static str,
    pub schema: Schema,
    pub oid: u32,
    /// pg_class.relkind in PostgreSQL: 'r' (catalog table) or 'v' (system view).
    pub kind: char,
    pub cols: &'static [(&'static str, PgType)],
}

impl RelDef {
    /// The TEMP table holding this relation's rows on a connection.
    pub fn table(&self) -> String {
        format!("temp.\"{}\"", self.table_name())
    }

    /// Unqualified name of the TEMP table (internal, hence never visible to clients).
    pub fn table_name(&self) -> String {
        match self.schema {
            Schema::PgCatalog => format!("{TABLE_PREFIX}{}", self.name),
            Schema::InformationSchema => format!("{TABLE_PREFIX}is_{}", self.name),
        }
    }

    pub fn col_index(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|(c, _)| *c == name)
    }
}

/// Every emulated system relation.
pub fn relations() -> &'static [RelDef] {
    defs::RELATIONS
}

fn by_name() -> &'static HashMap<(Schema, &'static str), &'static RelDef> {
    static MAP: OnceLock<HashMap<(Schema, &'static str), &'static RelDef>> = OnceLock::new();
    MAP.get_or_init(|| {
        defs::RELATIONS
            .iter()
            .map(|d| ((d.schema, d.name), d))
            .collect()
    })
}

/// A system relation by schema and name.
pub fn rel(schema: Schema, name: &str) -> Option<&'static RelDef> {
    by_name().get(&(schema, name)).copied()
}

/// The TEMP table of a pg_catalog relation (for SQL the catalog functions emit).
pub(crate) fn pgc(name: &str) -> String {
    rel(Schema::PgCatalog, name)
        .map(RelDef::table)
        .unwrap_or_else(|| format!("temp.\"__bedrock_pgc_{name}\""))
}

/// Resolve a relation name as written (`pg_class`, `pg_catalog.pg_class`,
/// `information_schema.tables`): pg_catalog is searched implicitly, information_schema only
/// when named.
pub fn resolve(schema: Option<&str>, name: &str) -> Option<&'static RelDef> {
    match schema {
        None | Some("pg_catalog") => rel(Schema::PgCatalog, name),
        Some("information_schema") => rel(Schema::InformationSchema, name),
        _ => None,
    }
}

/// OID of a system relation by name (for `'pg_class'::regclass`); accepts a
/// `pg_catalog.` or `information_schema.` prefix.
pub fn system_relation_oid(name: &str) -> Option<u32> {
    let (schema, n) = match name.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, name),
    };
    resolve(schema, n).map(|d| d.oid)
}

/// A system relation by OID.
pub fn system_relation_by_oid(oid: u32) -> Option<&'static RelDef> {
    defs::RELATIONS.iter().find(|d| d.oid == oid)
}

/// A system relation as the translator uses it: SQL to read it and its typed columns.
pub type SystemRelation = (String, Vec<(String, PgType)>);

/// SQL and typed columns of a system relation, if `name` (in `schema`) is one.
pub fn system_relation(
    schema: Option<&str>,
    name: &str,
    tr: &mut Tr,
) -> PgResult<Option<SystemRelation>> {
    let Some(d) = resolve(schema, name) else {
        return Ok(None);
    };
    tr.reads_catalog = true;
    let cols = d.cols.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    Ok(Some((relation_sql(d, tr.env), cols)))
}

/// The FROM-clause SQL of a system relation. Values that depend on the session (the database
/// name, the user every object belongs to, current settings) are filled in here; everything
/// else is read from the connection's TEMP table.
fn relation_sql(d: &RelDef, env: &Env) -> String {
    let user = sql_str(&env.user);
    let db = sql_str(&env.database);
    if d.schema == Schema::PgCatalog && d.name == "pg_settings" {
        return settings_sql(d);
    }
    let mut any = false;
    let mut list = Vec::with_capacity(d.cols.len());
    for (c, _) in d.cols {
        let q = format!("t.\"{c}\"");
        let over = match (d.schema, d.name, *c) {
            (Schema::PgCatalog, "pg_database", "datname") => Some(db.clone()),
            (Schema::PgCatalog, "pg_authid" | "pg_roles", "rolname") => Some(format!(
                "CASE WHEN t.\"oid\" = {SUPERUSER_OID} THEN {user} ELSE {q} END"
            )),
            (Schema::PgCatalog, "pg_user" | "pg_shadow", "usename") => Some(user.clone()),
            (
                Schema::PgCatalog,
                _,
                "tableowner" | "viewowner" | "sequenceowner" | "matviewowner",
            ) => Some(user.clone()),
            (Schema::PgCatalog, "pg_sequences", "last_value") => Some(format!(
                "(SELECT CASE WHEN s.is_called THEN s.last_value END FROM main.\"__bedrock_sequence_state\" AS s \
                 WHERE s.oid = (SELECT c.oid FROM {} AS c WHERE c.relname = t.\"sequencename\" AND c.relkind = 'S'))",
                pgc("pg_class")
            )),
            (Schema::InformationSchema, _, c) if c.ends_with("_catalog") => {
                Some(format!("CASE WHEN {q} IS NULL THEN NULL ELSE {db} END"))
            }
            (Schema::InformationSchema, _, "schema_owner" | "table_owner" | "grantee") => Some(
                format!("CASE WHEN {q} = 'postgres' THEN {user} ELSE {q} END"),
            ),
            _ => None,
        };
        match over {
            Some(sql) => {
                any = true;
                list.push(format!("{sql} AS \"{c}\""));
            }
            None => list.push(q),
        }
    }
    if !any {
        return d.table();
    }
    format!("(SELECT {} FROM {} AS t)", list.join(", "), d.table())
}

/// `pg_settings` lists the session's settings, read through `pg_current_settings_json()`.
fn settings_sql(d: &RelDef) -> String {
    let mut list = Vec::new();
    for (c, _) in d.cols {
        let e = match *c {
            "name" => "json_extract(j.value, '$.name')".to_string(),
            "setting" | "reset_val" | "boot_val" => "json_extract(j.value, '$.setting')".into(),
            "vartype" => "json_extract(j.value, '$.vartype')".into(),
            "category" => "'Ungrouped'".into(),
            "short_desc" => "''".into(),
            "context" => "json_extract(j.value, '$.context')".into(),
            "source" => "'session'".into(),
            "pending_restart" => "0".into(),
            _ => "NULL".into(),
        };
        list.push(format!("{e} AS \"{c}\""));
    }
    format!(
        "(SELECT {} FROM json_each(pg_current_settings_json()) AS j)",
        list.join(", ")
    )
}

/// A built-in function's OID by name (for `'array_in'::regproc`): the functions behind the
/// built-in types (input/output/send/receive), from `static_rows::PG_PROC`.
pub fn regproc_oid(name: &str) -> Option<u32> {
    let n = name.trim();
    let n = n.split('(').next().unwrap_or(n).trim();
    let n = n.strip_prefix("pg_catalog.").unwrap_or(n).trim_matches('"');
    if let Ok(o) = n.parse::<u32>() {
        return Some(o);
    }
    procs().iter().find(|(_, p)| p == n).map(|(o, _)| *o)
}

/// Name of a built-in function by OID.
pub fn regproc_name(oid: u32) -> Option<&'static str> {
    procs()
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, n)| n.as_str())
}

/// (oid, proname) of the static pg_proc rows.
fn procs() -> &'static [(u32, String)] {
    static P: OnceLock<Vec<(u32, String)>> = OnceLock::new();
    P.get_or_init(|| {
        static_rows::PG_PROC
            .iter()
            .filter_map(|row| {
                let mut it = row.splitn(3, ", ");
                let oid = it.next()?.parse().ok()?;
                let name = it.next()?.trim_matches('\'').to_string();
                Some((oid, name))
            })
            .collect()
    })
}

/// Name of a type by OID the way `regtype` prints it: `format_type` for built-in types, the
/// static pseudo-types, and user tables' row types.
pub fn regtype_name(oid: u32, cat: Option<&Catalog>) -> Option<String> {
    if oid == 0 {
        return Some("-".into());
    }
    if let Some(t) = PgType::from_oid(oid) {
        return Some(t.format(-1));
    }
    if let Some(n) = static_type_names().iter().find(|(o, _)| *o == oid) {
        return Some(n.1.clone());
    }
    let cat = cat?;
    cat.tables()
        .find(|t| t.row_type_oid == oid)
        .map(|t| deparse::quote_ident(&t.name))
}

/// (oid, typname) of the static pg_type rows.
pub(crate) fn static_type_names() -> &'static [(u32, String)] {
    static P: OnceLock<Vec<(u32, String)>> = OnceLock::new();
    P.get_or_init(|| {
        static_rows::PG_TYPE
            .iter()
            .filter_map(|row| {
                let mut it = row.splitn(3, ", ");
                let oid = it.next()?.parse().ok()?;
                let name = it.next()?.trim_matches('\'').to_string();
                Some((oid, name))
            })
            .collect()
    })
}

/// Name of a relation by OID the way `regclass` prints it (schema-qualified when the schema is
/// not on the search path).
pub fn regclass_name(oid: u32, cat: &Catalog) -> Option<String> {
    if oid == 0 {
        return Some("-".into());
    }
    if let Some(o) = cat.by_oid(oid) {
        return Some(deparse::quote_ident(o.name()));
    }
    system_relation_by_oid(oid).map(|d| match d.schema {
        Schema::PgCatalog => d.name.to_string(),
        Schema::InformationSchema => format!("information_schema.{}", d.name),
    })
}

/// Text output of a `regclass` / `regtype` / `regproc` value: its name, as PostgreSQL prints
/// it (None for other types, or when the value is not an OID).
pub fn reg_text(ty: PgType, v: &rusqlite::types::Value, cat: &Catalog) -> Option<String> {
    if ty.array {
        return None;
    }
    let rusqlite::types::Value::Integer(oid) = v else {
        return None;
    };
    let oid = u32::try_from(*oid).ok()?;
    match ty.scalar {
        Scalar::Regclass => regclass_name(oid, cat).or_else(|| Some(oid.to_string())),
        Scalar::Regtype => regtype_name(oid, Some(cat)).or_else(|| Some(oid.to_string())),
        Scalar::Regproc => {
            if oid == 0 {
                Some("-".into())
            } else {
                regproc_name(oid)
                    .map(str::to_string)
                    .or_else(|| Some(oid.to_string()))
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_resolve() {
        assert_eq!(system_relation_oid("pg_class"), Some(1259));
        assert_eq!(system_relation_oid("pg_catalog.pg_type"), Some(1247));
        assert!(system_relation_oid("information_schema.tables").is_some());
        assert!(resolve(None, "tables").is_none());
        assert!(resolve(Some("public"), "pg_class").is_none());
        for d in relations() {
            assert!(!d.cols.is_empty(), "{} has columns", d.name);
        }
    }

    #[test]
    fn procs_and_types() {
        assert_eq!(regproc_oid("array_in"), Some(750));
        assert_eq!(
            regproc_oid("pg_catalog.array_in(cstring,oid,integer)"),
            Some(750)
        );
        assert_eq!(regproc_name(1242), Some("boolin"));
        assert_eq!(regtype_name(23, None).as_deref(), Some("integer"));
        assert_eq!(regtype_name(2278, None).as_deref(), Some("void"));
    }
}
