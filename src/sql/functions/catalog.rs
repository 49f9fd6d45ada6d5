//! SQLite functions behind the catalog emulation: `regclass` / `regtype` / `regproc` input and
//! output (`pg_regclass`, `pg_to_regclass`, `pg_regclass_name`, …), `format_type` for built-in
//! types, `pg_settings` rows and `pg_size_pretty`. Relation names resolve against the shadow
//! catalog table itself (`__bedrock_catalog`, replicated with the data) and the static system
//! relations, so they work on any connection, including a follower replaying a statement.

use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension};

use super::{DET, Shared, VOLATILE, lock, text_arg, udf_err};
use crate::error::{PgError, PgResult, code};
use crate::sql::pg_catalog::{self, deparse::quote_ident};
use crate::sql::types::{PgType, type_by_name};

/// Split `schema.name` (either part possibly double-quoted) into normalised parts.
pub fn parse_qualified(s: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut quoted_part = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted_part = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cur.push('"');
                        }
                        Some('"') => break,
                        Some(x) => cur.push(x),
                        None => return None,
                    }
                }
            }
            '.' => {
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            c if c.is_whitespace() && !quoted_part && cur.is_empty() => {}
            c => {
                if quoted_part {
                    return None;
                }
                cur.extend(c.to_lowercase());
            }
        }
    }
    parts.push(cur);
    if parts.iter().any(|p| p.trim().is_empty()) || parts.len() > 3 {
        return None;
    }
    Some(
        parts
            .into_iter()
            .map(|p| p.trim_end().to_string())
            .collect(),
    )
}

fn conn_of<'a>(f: &'a Context<'_>) -> PgResult<rusqlite::functions::ConnectionRef<'a>> {
    // SAFETY: we only run read statements on the connection; we never close it or touch the
    // statement this function runs in.
    unsafe { f.get_connection() }.map_err(|e| PgError::internal(e.to_string()))
}

/// A user relation's OID by name, from the shadow catalog table.
fn user_relation(conn: &Connection, name: &str) -> PgResult<Option<u32>> {
    conn.prepare_cached(
        "SELECT oid FROM main.\"__bedrock_catalog\" WHERE name = ?1 AND kind IN ('table', 'index', 'sequence')",
    )
    .and_then(|mut st| st.query_row([name], |r| r.get::<_, i64>(0)).optional())
    .map(|o| o.map(|o| o as u32))
    .map_err(|e| PgError::internal(e.to_string()))
}

/// Resolve a relation name as `regclass` input does (pg_catalog, then public).
fn resolve_regclass(conn: &Connection, input: &str) -> PgResult<Option<u32>> {
    let t = input.trim();
    if let Ok(o) = t.parse::<u32>() {
        return Ok(Some(o));
    }
    let parts = parse_qualified(t)
        .ok_or_else(|| PgError::new("42602", format!("invalid name syntax: \"{input}\"")))?;
    let (schema, name) = match parts.as_slice() {
        [n] => (None, n.as_str()),
        [s, n] | [_, s, n] => (Some(s.as_str()), n.as_str()),
        _ => return Ok(None),
    };
    match schema {
        None => {
            if let Some(o) = pg_catalog::system_relation_oid(name) {
                return Ok(Some(o));
            }
            user_relation(conn, name)
        }
        Some("public") => user_relation(conn, name),
        Some(s @ ("pg_catalog" | "information_schema")) => {
            Ok(pg_catalog::system_relation_oid(&format!("{s}.{name}")))
        }
        Some(s) => Err(PgError::new(
            code::UNDEFINED_SCHEMA,
            format!("schema \"{s}\" does not exist"),
        )),
    }
}

fn regclass_name(conn: &Connection, oid: u32) -> PgResult<String> {
    if oid == 0 {
        return Ok("-".into());
    }
    let user: Option<String> = conn
        .prepare_cached("SELECT name FROM main.\"__bedrock_catalog\" WHERE oid = ?1")
        .and_then(|mut st| st.query_row([oid as i64], |r| r.get(0)).optional())
        .map_err(|e| PgError::internal(e.to_string()))?;
    if let Some(n) = user {
        return Ok(quote_ident(&n));
    }
    Ok(match pg_catalog::system_relation_by_oid(oid) {
        Some(d) if d.schema == pg_catalog::Schema::PgCatalog => d.name.to_string(),
        Some(d) => format!("information_schema.{}", d.name),
        None => oid.to_string(),
    })
}

/// A type's OID by name: built-in types, the static pseudo-types, user tables' row types.
fn resolve_regtype(conn: &Connection, input: &str) -> PgResult<Option<u32>> {
    let t = input.trim();
    if let Ok(o) = t.parse::<u32>() {
        return Ok(Some(o));
    }
    // Drop a type modifier: `character varying(20)`, `numeric(10,2)[]`.
    let mut base = String::new();
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if depth == 0 => base.push(c),
            _ => {}
        }
    }
    let base = base.trim().to_string();
    if let Some(d) = type_by_name(&base) {
        return Ok(Some(d.ty.oid()));
    }
    let name = parse_qualified(&base)
        .and_then(|p| p.last().cloned())
        .unwrap_or(base);
    if let Some((o, _)) = pg_catalog::static_type_names()
        .iter()
        .find(|(_, n)| *n == name)
    {
        return Ok(Some(*o));
    }
    conn.prepare_cached(
        "SELECT json_extract(def, '$.row_type_oid') FROM main.\"__bedrock_catalog\" WHERE name = ?1 AND kind = 'table'",
    )
    .and_then(|mut st| st.query_row([&name], |r| r.get::<_, i64>(0)).optional())
    .map(|o| o.map(|o| o as u32))
    .map_err(|e| PgError::internal(e.to_string()))
}

fn regtype_name(conn: &Connection, oid: u32) -> PgResult<String> {
    if let Some(n) = pg_catalog::regtype_name(oid, None) {
        return Ok(n);
    }
    let n: Option<String> = conn
        .prepare_cached(
            "SELECT name FROM main.\"__bedrock_catalog\" WHERE kind = 'table' AND json_extract(def, '$.row_type_oid') = ?1",
        )
        .and_then(|mut st| st.query_row([oid as i64], |r| r.get(0)).optional())
        .map_err(|e| PgError::internal(e.to_string()))?;
    Ok(n.map(|n| quote_ident(&n))
        .unwrap_or_else(|| oid.to_string()))
}

fn oid_arg(f: &Context<'_>, i: usize) -> Option<u32> {
    match f.get_raw(i) {
        ValueRef::Integer(v) => u32::try_from(v).ok(),
        ValueRef::Real(v) => Some(v as u32),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// `pg_size_pretty(bigint)` exactly as PostgreSQL 15 rounds and names the units.
pub fn size_pretty(size: i64) -> String {
    // (name, limit, round, unitbits)
    const UNITS: &[(&str, i64, bool, u32)] = &[
        ("bytes", 10 * 1024, false, 0),
        ("kB", 20 * 1024 - 1, true, 10),
        ("MB", 20 * 1024 - 1, true, 20),
        ("GB", 20 * 1024 - 1, true, 30),
        ("TB", 20 * 1024 - 1, true, 40),
        ("PB", 20 * 1024 - 1, true, 50),
    ];
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    let mut size = size;
    for (i, (name, limit, round, bits)) in UNITS.iter().enumerate() {
        let last = i + 1 == UNITS.len();
        if last || size.unsigned_abs() < *limit as u64 {
            if *round {
                size = half_rounded(size);
            }
            return format!("{size} {name}");
        }
        let (_, _, next_round, next_bits) = UNITS[i + 1];
        let shift = next_bits - bits - next_round as u32 + *round as u32;
        size /= 1i64 << shift;
    }
    format!("{size} bytes")
}

/// Canonical spelling of a setting name as `pg_settings` shows it.
fn setting_name(lower: &str) -> String {
    match lower {
        "datestyle" => "DateStyle".into(),
        "intervalstyle" => "IntervalStyle".into(),
        "timezone" => "TimeZone".into(),
        other => other.to_string(),
    }
}

pub(super) fn register(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_format_type", 2, DET, |f| {
        let Some(oid) = oid_arg(f, 0) else {
            return Ok(None);
        };
        let typmod = match f.get_raw(1) {
            ValueRef::Integer(m) => m as i32,
            _ => -1,
        };
        if oid == 0 {
            return Ok(Some("-".to_string()));
        }
        Ok(PgType::from_oid(oid).map(|t| t.format(typmod)))
    })?;
    for (name, strict) in [("pg_regclass", true), ("pg_to_regclass", false)] {
        conn.create_scalar_function(name, 1, VOLATILE, move |f| {
            let Some(s) = text_arg(f, 0) else {
                return Ok(None);
            };
            let conn = conn_of(f).map_err(udf_err)?;
            match resolve_regclass(&conn, &s) {
                Ok(Some(o)) => Ok(Some(o as i64)),
                Ok(None) if strict => Err(udf_err(PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{s}\" does not exist"),
                ))),
                Err(e) if strict => Err(udf_err(e)),
                _ => Ok(None),
            }
        })?;
    }
    conn.create_scalar_function("pg_regclass_name", 1, VOLATILE, |f| {
        let Some(oid) = oid_arg(f, 0) else {
            return Ok(None);
        };
        let conn = conn_of(f).map_err(udf_err)?;
        regclass_name(&conn, oid).map(Some).map_err(udf_err)
    })?;
    for (name, strict) in [("pg_regtype", true), ("pg_to_regtype", false)] {
        conn.create_scalar_function(name, 1, VOLATILE, move |f| {
            let Some(s) = text_arg(f, 0) else {
                return Ok(None);
            };
            let conn = conn_of(f).map_err(udf_err)?;
            match resolve_regtype(&conn, &s) {
                Ok(Some(o)) => Ok(Some(o as i64)),
                Ok(None) if strict => Err(udf_err(PgError::new(
                    code::UNDEFINED_OBJECT,
                    format!("type \"{s}\" does not exist"),
                ))),
                Err(e) if strict => Err(udf_err(e)),
                _ => Ok(None),
            }
        })?;
    }
    conn.create_scalar_function("pg_regtype_name", 1, VOLATILE, |f| {
        let Some(oid) = oid_arg(f, 0) else {
            return Ok(None);
        };
        let conn = conn_of(f).map_err(udf_err)?;
        regtype_name(&conn, oid).map(Some).map_err(udf_err)
    })?;
    conn.create_scalar_function("pg_to_regproc", 1, DET, |f| {
        Ok(text_arg(f, 0)
            .and_then(|s| pg_catalog::regproc_oid(&s))
            .map(|o| o as i64))
    })?;
    // The session's settings as JSON rows for `pg_settings`. The name starts with
    // `pg_current_setting` on purpose: the session loads its settings into the connection
    // before running a statement whose SQL mentions that name.
    conn.create_scalar_function("pg_current_settings_json", 0, VOLATILE, move |_| {
        let g = lock(&ctx);
        let mut rows: Vec<(String, String)> = g
            .settings
            .iter()
            .map(|(k, v)| (setting_name(k), v.clone()))
            .collect();
        rows.sort();
        let arr: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|(name, setting)| {
                let lower = setting.to_ascii_lowercase();
                let vartype = if matches!(lower.as_str(), "on" | "off" | "true" | "false") {
                    "bool"
                } else if setting.parse::<i64>().is_ok() {
                    "integer"
                } else {
                    "string"
                };
                let context = if matches!(
                    name.as_str(),
                    "server_version"
                        | "server_version_num"
                        | "server_encoding"
                        | "lc_collate"
                        | "lc_ctype"
                        | "max_identifier_length"
                        | "block_size"
                        | "integer_datetimes"
                        | "max_index_keys"
                ) {
                    "internal"
                } else {
                    "user"
                };
                serde_json::json!({"name": name, "setting": setting, "vartype": vartype, "context": context})
            })
            .collect();
        Ok(serde_json::Value::Array(arr).to_string())
    })?;
    conn.create_scalar_function("pg_size_pretty", 1, DET, |f| {
        let v = match f.get_raw(0) {
            ValueRef::Null => return Ok(None),
            ValueRef::Integer(i) => i,
            ValueRef::Real(r) => r as i64,
            ValueRef::Text(t) => {
                let s = String::from_utf8_lossy(t);
                let int = s.split('.').next().unwrap_or("0");
                int.trim().parse::<i64>().unwrap_or(0)
            }
            ValueRef::Blob(_) => 0,
        };
        Ok(Some(size_pretty(v)))
    })?;
    let _ = Value::Null;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_qualified("users"), Some(vec!["users".to_string()]));
        assert_eq!(
            parse_qualified("public.\"Users\""),
            Some(vec!["public".to_string(), "Users".to_string()])
        );
        assert_eq!(parse_qualified("a..b"), None);
        assert_eq!(parse_qualified("\"unterminated"), None);
    }

    #[test]
    fn pretty_sizes() {
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(123_456_789), "118 MB");
        assert_eq!(size_pretty(0), "0 bytes");
    }
}
