//! `pg_catalog` and `information_schema` emulation: relations SQLite queries, built from the
//! shadow catalog, plus the catalog functions (`format_type`, `pg_get_expr`, …).
//!
//! Not built yet: no system relation resolves, so catalog queries fail with `42P01`.

use crate::error::PgResult;
use crate::sql::translate::{Ex, Tr};
use crate::sql::types::PgType;

/// OID of a system relation by name (for `'pg_class'::regclass`).
pub fn system_relation_oid(_name: &str) -> Option<u32> {
    None
}

/// A system relation as the translator uses it: SQL to read it and its typed columns.
pub type SystemRelation = (String, Vec<(String, PgType)>);

/// SQL and typed columns of a system relation, if `name` (in `schema`) is one.
pub fn system_relation(
    _schema: Option<&str>,
    _name: &str,
    _tr: &mut Tr,
) -> PgResult<Option<SystemRelation>> {
    Ok(None)
}

/// Make the system relations a statement reads available on `conn` for `cat`.
pub fn prepare_connection(
    _conn: &rusqlite::Connection,
    _cat: &crate::sql::catalog::Catalog,
) -> PgResult<()> {
    Ok(())
}

impl Tr<'_> {
    /// Catalog functions (`format_type`, `pg_table_is_visible`, …).
    pub fn catalog_function(&mut self, _name: &str, _args: Vec<Ex>) -> PgResult<Option<Ex>> {
        Ok(None)
    }
}
