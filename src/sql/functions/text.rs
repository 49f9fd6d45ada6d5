//! Pattern matching with PostgreSQL semantics: POSIX regular expressions (`~`, `~*`) through the
//! `regex` crate with a per-statement compiled-pattern cache, and case-insensitive `ILIKE`.

use std::sync::Arc;

use regex::Regex;
use rusqlite::functions::Context;

use super::{DET, text_arg, udf_err};
use crate::error::{PgError, code};

fn compiled(f: &Context<'_>, flags: &str) -> rusqlite::Result<Arc<Regex>> {
    if let Some(r) = f.get_aux::<Regex>(0)? {
        return Ok(r);
    }
    let pat = text_arg(f, 0).unwrap_or_default();
    let r = Regex::new(&format!("{flags}{pat}")).map_err(|e| {
        udf_err(PgError::new(
            code::INVALID_REGULAR_EXPRESSION,
            format!("invalid regular expression: {e}"),
        ))
    })?;
    f.set_aux(0, r)
}

/// `LIKE` pattern (with `\` escapes) to a regex body.
fn like_to_regex(p: &str) -> String {
    let mut out = String::from("^");
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&regex::escape(&n.to_string()));
                }
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    out
}

fn ilike_compiled(f: &Context<'_>) -> rusqlite::Result<Arc<Regex>> {
    if let Some(r) = f.get_aux::<Regex>(0)? {
        return Ok(r);
    }
    let pat = text_arg(f, 0).unwrap_or_default();
    let r = Regex::new(&format!("(?is){}", like_to_regex(&pat)))
        .map_err(|e| udf_err(PgError::internal(e.to_string())))?;
    f.set_aux(0, r)
}

pub(super) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    // SQLite's `x REGEXP y` calls regexp(y, x).
    conn.create_scalar_function("regexp", 2, DET, |f| {
        let Some(s) = text_arg(f, 1) else {
            return Ok(None);
        };
        Ok(Some(compiled(f, "")?.is_match(&s)))
    })?;
    conn.create_scalar_function("pg_regexp_i", 2, DET, |f| {
        let Some(s) = text_arg(f, 1) else {
            return Ok(None);
        };
        Ok(Some(compiled(f, "(?i)")?.is_match(&s)))
    })?;
    // pg_ilike(pattern, text)
    conn.create_scalar_function("pg_ilike", 2, DET, |f| {
        let Some(s) = text_arg(f, 1) else {
            return Ok(None);
        };
        if text_arg(f, 0).is_none() {
            return Ok(None);
        }
        Ok(Some(ilike_compiled(f)?.is_match(&s)))
    })?;
    Ok(())
}
