//! Name resolution: the relations visible at a point of a query (FROM items, CTEs, outer
//! queries for correlated subqueries) and their typed columns.

use crate::error::{PgError, PgResult, code};
use crate::sql::types::PgType;

/// A column as the translator sees it.
#[derive(Debug, Clone)]
pub struct Col {
    pub name: String,
    /// How emitted SQL refers to it.
    pub sql: String,
    pub ty: PgType,
    pub typmod: i32,
    pub table_oid: u32,
    pub attnum: i16,
    /// Collation SQLite must compare it with (numeric and interval columns carry one).
    pub collate: Option<&'static str>,
    /// Hidden from `*` (the right-hand side of a USING join).
    pub hidden: bool,
}

/// A relation in scope: a table, a subquery, a CTE reference or a function result.
#[derive(Debug, Clone)]
pub struct Rel {
    /// Name used to qualify columns (`t` in `t.col`); None for an unaliased subquery.
    pub name: Option<String>,
    pub cols: Vec<Col>,
    /// The table behind it, for FOR UPDATE and RETURNING.
    pub table: Option<String>,
}

/// The relations of one query level, linked to the enclosing level.
#[derive(Debug, Clone, Default)]
pub struct Scope<'p> {
    pub rels: Vec<Rel>,
    pub parent: Option<&'p Scope<'p>>,
}

/// Normalise an identifier as PostgreSQL does: unquoted names fold to lower case.
pub fn ident(i: &sqlparser::ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

impl<'p> Scope<'p> {
    pub fn child(parent: &'p Scope<'p>) -> Scope<'p> {
        Scope {
            rels: Vec::new(),
            parent: Some(parent),
        }
    }

    /// Resolve `name` or `qual.name`, searching this level first, then outer levels.
    pub fn lookup(&self, qual: Option<&str>, name: &str) -> PgResult<Option<Col>> {
        let mut found: Option<&Col> = None;
        let mut rel_found = false;
        for r in &self.rels {
            if let Some(q) = qual {
                if r.name.as_deref() != Some(q) {
                    continue;
                }
                rel_found = true;
            }
            for c in &r.cols {
                if c.name == name && !(qual.is_none() && c.hidden) {
                    if let Some(prev) = found
                        && prev.sql != c.sql
                    {
                        return Err(PgError::new(
                            code::AMBIGUOUS_COLUMN,
                            format!("column reference \"{name}\" is ambiguous"),
                        ));
                    }
                    found = Some(c);
                }
            }
        }
        if let Some(c) = found {
            return Ok(Some(c.clone()));
        }
        // A qualifier binds to the nearest level that has a relation of that name.
        if rel_found {
            return Ok(None);
        }
        if let Some(p) = self.parent {
            return p.lookup(qual, name);
        }
        if let Some(q) = qual
            && !rel_found
        {
            return Err(PgError::new(
                code::UNDEFINED_TABLE,
                format!("missing FROM-clause entry for table \"{q}\""),
            ));
        }
        Ok(None)
    }

    /// Add a FROM item to this level; PostgreSQL refuses two items with the same name.
    pub fn push(&mut self, rel: Rel) -> PgResult<()> {
        if let Some(n) = &rel.name
            && self.rels.iter().any(|r| r.name.as_ref() == Some(n))
        {
            return Err(PgError::new(
                "42712", // duplicate_alias
                format!("table name \"{n}\" specified more than once"),
            ));
        }
        self.rels.push(rel);
        Ok(())
    }

    /// Does any level have a relation called `name`?
    pub fn has_rel(&self, name: &str) -> bool {
        self.rels.iter().any(|r| r.name.as_deref() == Some(name))
            || self.parent.is_some_and(|p| p.has_rel(name))
    }

    /// Columns for `*` (or `qual.*`).
    pub fn star(&self, qual: Option<&str>) -> PgResult<Vec<Col>> {
        let mut out = Vec::new();
        let mut any = false;
        for r in &self.rels {
            if let Some(q) = qual
                && r.name.as_deref() != Some(q)
            {
                continue;
            }
            any = true;
            out.extend(
                r.cols
                    .iter()
                    .filter(|c| !c.hidden || qual.is_some())
                    .cloned(),
            );
        }
        if let Some(q) = qual
            && !any
        {
            return Err(PgError::new(
                code::UNDEFINED_TABLE,
                format!("missing FROM-clause entry for table \"{q}\""),
            ));
        }
        if qual.is_none() && self.rels.is_empty() {
            return Err(PgError::syntax(
                "SELECT * with no tables specified is not valid",
            ));
        }
        Ok(out)
    }
}
