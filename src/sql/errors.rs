//! SQLite errors as PostgreSQL errors: the right SQLSTATE, PostgreSQL's wording, and the
//! constraint name recovered from the shadow catalog.

use rusqlite::ffi;

use super::catalog::{Catalog, ConstraintKind};
use crate::error::{PgError, code};

/// Map a SQLite error. `cat` and `table` (the statement's target) let us name constraints.
pub fn from_sqlite(e: &rusqlite::Error, cat: Option<&Catalog>, table: Option<&str>) -> PgError {
    let (err, msg) = match e {
        rusqlite::Error::SqliteFailure(err, msg) => (err, msg.clone().unwrap_or_default()),
        rusqlite::Error::UserFunctionError(u) => {
            let m = u.to_string();
            return PgError::from_udf_message(&m).unwrap_or_else(|| PgError::internal(m));
        }
        other => return PgError::internal(other.to_string()),
    };
    if let Some(pg) = PgError::from_udf_message(&msg) {
        return pg;
    }
    match err.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => unique(&msg, cat),
        ffi::SQLITE_CONSTRAINT_NOTNULL => not_null(&msg),
        ffi::SQLITE_CONSTRAINT_CHECK => check(&msg, cat, table),
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => foreign_key(cat, table),
        ffi::SQLITE_CONSTRAINT_DATATYPE => {
            // A NULL into a rowid primary key, or a value of the wrong storage class.
            PgError::new(
                code::DATATYPE_MISMATCH,
                format!("value has the wrong type for its column ({msg})"),
            )
        }
        ffi::SQLITE_INTERRUPT => PgError::new(
            code::QUERY_CANCELED,
            "canceling statement due to user request",
        ),
        ffi::SQLITE_BUSY | ffi::SQLITE_BUSY_SNAPSHOT | ffi::SQLITE_LOCKED => PgError::new(
            code::SERIALIZATION_FAILURE,
            "could not serialize access due to concurrent update",
        ),
        ffi::SQLITE_READONLY => PgError::new(
            code::READ_ONLY_SQL_TRANSACTION,
            "cannot execute this statement in a read-only transaction",
        ),
        ffi::SQLITE_FULL => PgError::new("53100", "could not extend file: No space left on device"),
        ffi::SQLITE_TOOBIG => PgError::new(code::PROGRAM_LIMIT_EXCEEDED, "value too large"),
        _ => by_message(&msg),
    }
}

fn by_message(msg: &str) -> PgError {
    if let Some(t) = msg.strip_prefix("no such table: ") {
        return PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{t}\" does not exist"),
        );
    }
    if let Some(c) = msg.strip_prefix("no such column: ") {
        return PgError::new(code::UNDEFINED_COLUMN, format!("column {c} does not exist"));
    }
    if let Some(f) = msg.strip_prefix("no such function: ") {
        return PgError::new(
            code::UNDEFINED_FUNCTION,
            format!("function {} does not exist", f.to_lowercase()),
        );
    }
    if msg.contains("misuse of aggregate") || msg.contains("misuse of window function") {
        return PgError::new(
            code::GROUPING_ERROR,
            format!("aggregate functions are not allowed here ({msg})"),
        );
    }
    if msg.contains("integer overflow") {
        return PgError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "bigint out of range");
    }
    if msg.contains("string or blob too big") {
        return PgError::new(code::PROGRAM_LIMIT_EXCEEDED, "value too large");
    }
    if msg.contains("too many terms in compound SELECT")
        || msg.contains("Expression tree is too large")
        || msg.contains("too many")
    {
        return PgError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("statement is too complex ({msg})"),
        );
    }
    PgError::internal(format!("SQLite: {msg}"))
}

/// `UNIQUE constraint failed: t.a, t.b`
fn unique(msg: &str, cat: Option<&Catalog>) -> PgError {
    let cols_part = msg
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or(msg);
    let mut table = None;
    let mut cols = Vec::new();
    for item in cols_part.split(", ") {
        if let Some((t, c)) = item.split_once('.') {
            table = Some(t.to_string());
            cols.push(c.to_string());
        }
    }
    let name = match (cat, &table) {
        (Some(cat), Some(t)) => cat
            .table(t)
            .and_then(|tb| {
                tb.constraints
                    .iter()
                    .find(|c| {
                        matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                            && c.columns == cols
                    })
                    .map(|c| c.name.clone())
            })
            .or_else(|| {
                cat.indexes_of(t)
                    .find(|i| {
                        i.unique
                            && i.key_columns
                                .iter()
                                .map(|k| k.clone().unwrap_or_default())
                                .collect::<Vec<_>>()
                                == cols
                    })
                    .map(|i| i.name.clone())
            })
            .unwrap_or_else(|| format!("{t}_{}_key", cols.join("_"))),
        _ => msg.to_string(),
    };
    let mut e = PgError::new(
        code::UNIQUE_VIOLATION,
        format!("duplicate key value violates unique constraint \"{name}\""),
    )
    .with_constraint(name);
    if let Some(t) = table {
        e = e.with_table(t);
    }
    // PostgreSQL's detail names the key values ("Key (id)=(1) already exists."); SQLite does
    // not report them, and a detail without them would not be PostgreSQL's text, so none.
    e
}

/// `NOT NULL constraint failed: t.c`
fn not_null(msg: &str) -> PgError {
    let item = msg
        .strip_prefix("NOT NULL constraint failed: ")
        .unwrap_or(msg);
    let (t, c) = item.split_once('.').unwrap_or(("?", item));
    PgError::new(
        code::NOT_NULL_VIOLATION,
        format!("null value in column \"{c}\" of relation \"{t}\" violates not-null constraint"),
    )
    .with_table(t)
    .with_column(c)
}

/// `CHECK constraint failed: name`
fn check(msg: &str, cat: Option<&Catalog>, table: Option<&str>) -> PgError {
    let name = msg
        .strip_prefix("CHECK constraint failed: ")
        .unwrap_or(msg)
        .trim()
        .trim_matches('"')
        .to_string();
    if let Some(attnum) = name.strip_prefix("__bedrock_range_") {
        let ty = match (cat, table) {
            (Some(cat), Some(t)) => cat.table(t).and_then(|tb| {
                tb.columns
                    .iter()
                    .find(|c| c.attnum.to_string() == attnum)
                    .map(|c| c.ty)
            }),
            _ => None,
        };
        let label = match ty.map(|t| t.scalar) {
            Some(crate::sql::types::Scalar::Int2) => "smallint",
            _ => "integer",
        };
        return PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("{label} out of range"),
        );
    }
    let owner = cat.and_then(|c| {
        c.tables()
            .find(|t| t.constraints.iter().any(|k| k.name == name))
            .map(|t| t.name.clone())
    });
    let t = owner.or(table.map(String::from)).unwrap_or_default();
    PgError::new(
        code::CHECK_VIOLATION,
        format!("new row for relation \"{t}\" violates check constraint \"{name}\""),
    )
    .with_table(t)
    .with_constraint(name)
}

fn foreign_key(cat: Option<&Catalog>, table: Option<&str>) -> PgError {
    let (Some(cat), Some(t)) = (cat, table) else {
        return PgError::new(
            code::FOREIGN_KEY_VIOLATION,
            "insert or update violates a foreign key constraint",
        );
    };
    // A child table's own constraint, else a constraint of a table referencing it.
    if let Some(c) = cat.table(t).and_then(|tb| {
        tb.constraints
            .iter()
            .find(|c| matches!(c.kind, ConstraintKind::ForeignKey { .. }))
    }) {
        return PgError::new(
            code::FOREIGN_KEY_VIOLATION,
            format!(
                "insert or update on table \"{t}\" violates foreign key constraint \"{}\"",
                c.name
            ),
        )
        .with_table(t)
        .with_constraint(c.name.clone());
    }
    for other in cat.tables() {
        for c in &other.constraints {
            if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind
                && ref_table == t
            {
                return PgError::new(
                    code::FOREIGN_KEY_VIOLATION,
                    format!("update or delete on table \"{t}\" violates foreign key constraint \"{}\" on table \"{}\"", c.name, other.name),
                )
                .with_table(t)
                .with_constraint(c.name.clone());
            }
        }
    }
    PgError::new(
        code::FOREIGN_KEY_VIOLATION,
        format!("foreign key violation on table \"{t}\""),
    )
}
