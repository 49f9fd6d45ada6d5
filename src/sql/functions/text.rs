//! String functions with PostgreSQL semantics: `substr` with zero/negative starts, `left` /
//! `right` with negative counts, padding, `split_part`, `concat_ws`, `initcap`, `translate`,
//! `quote_ident` / `quote_literal`, `chr` / `ascii` and the length limits PostgreSQL enforces.
//! Everything counts characters, never bytes.

use rusqlite::Connection;
use rusqlite::functions::Context;
use rusqlite::types::ValueRef;

use super::{DET, int_arg, text_arg, udf_err, xcode};
use crate::error::{PgError, PgResult, code};

/// PostgreSQL's MaxAllocSize less the varlena header: the largest text value it builds.
const MAX_TEXT_BYTES: i64 = 0x3fff_ffff - 4;

fn too_large() -> PgError {
    PgError::new(code::PROGRAM_LIMIT_EXCEEDED, "requested length too large")
}

/// `substr(s, start [, count])`: characters from `start` (1-based, may be ≤ 0) for `count`.
pub fn substr(s: &str, start: i64, count: Option<i64>) -> PgResult<String> {
    let end = match count {
        Some(c) if c < 0 => {
            return Err(PgError::new(
                xcode::SUBSTRING_ERROR,
                "negative substring length not allowed",
            ));
        }
        Some(c) => start.saturating_add(c),
        None => i64::MAX,
    };
    let from = start.max(1);
    if end <= from {
        return Ok(String::new());
    }
    Ok(s.chars()
        .skip((from - 1) as usize)
        .take((end - from) as usize)
        .collect())
}

/// `overlay(s placing r from start [for count])`.
pub fn overlay(s: &str, r: &str, start: i64, count: Option<i64>) -> PgResult<String> {
    if start <= 0 {
        return Err(PgError::new(
            xcode::SUBSTRING_ERROR,
            "negative substring length not allowed",
        ));
    }
    let count = count.unwrap_or(r.chars().count() as i64);
    let end = start
        .checked_add(count)
        .filter(|v| i32::try_from(*v).is_ok() && i32::try_from(start).is_ok())
        .ok_or_else(|| PgError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "integer out of range"))?;
    let mut out = substr(s, 1, Some(start - 1))?;
    out.push_str(r);
    out.push_str(&substr(s, end, None)?);
    Ok(out)
}

/// `left(s, n)`: the first n characters, or all but the last |n| when n is negative.
pub fn left(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let k = if n >= 0 { n.min(len) } else { (len + n).max(0) };
    s.chars().take(k as usize).collect()
}

/// `right(s, n)`: the last n characters, or all but the first |n| when n is negative.
pub fn right(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let k = if n >= 0 { n.min(len) } else { (len + n).max(0) };
    s.chars().skip((len - k) as usize).collect()
}

/// `lpad` / `rpad`: pad with `fill` (repeated) or truncate to `len` characters.
pub fn pad(s: &str, len: i64, fill: &str, left_side: bool) -> PgResult<String> {
    if len <= 0 {
        return Ok(String::new());
    }
    // PostgreSQL sizes the result for four-byte characters before it looks at the input.
    if len.saturating_mul(4) > MAX_TEXT_BYTES {
        return Err(too_large());
    }
    let slen = s.chars().count() as i64;
    if slen >= len || fill.is_empty() {
        return Ok(s.chars().take(len as usize).collect());
    }
    let need = (len - slen) as usize;
    let padding: String = fill.chars().cycle().take(need).collect();
    Ok(if left_side {
        padding + s
    } else {
        s.to_string() + &padding
    })
}

/// `repeat(s, n)`.
pub fn repeat(s: &str, n: i64) -> PgResult<String> {
    if n <= 0 || s.is_empty() {
        return Ok(String::new());
    }
    let total = (s.len() as i64).checked_mul(n).ok_or_else(too_large)?;
    if n > i32::MAX as i64 || total > MAX_TEXT_BYTES {
        return Err(too_large());
    }
    Ok(s.repeat(n as usize))
}

/// `split_part(s, delimiter, n)`: n counts from the end when negative; zero is an error.
pub fn split_part(s: &str, delim: &str, n: i64) -> PgResult<String> {
    if n == 0 {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            "field position must not be zero",
        ));
    }
    if s.is_empty() {
        return Ok(String::new());
    }
    if delim.is_empty() {
        return Ok(if n == 1 || n == -1 {
            s.to_string()
        } else {
            String::new()
        });
    }
    let parts: Vec<&str> = s.split(delim).collect();
    let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
    Ok(if idx < 0 {
        String::new()
    } else {
        parts
            .get(idx as usize)
            .map(|p| p.to_string())
            .unwrap_or_default()
    })
}

/// One character through a case mapping, kept as is when the mapping is not one character
/// (PostgreSQL maps character by character, so `ß` stays `ß` in `upper`).
fn map_char(c: char, upper: bool) -> char {
    let mut it: Box<dyn Iterator<Item = char>> = if upper {
        Box::new(c.to_uppercase())
    } else {
        Box::new(c.to_lowercase())
    };
    match (it.next(), it.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

pub fn lower(s: &str) -> String {
    s.chars().map(|c| map_char(c, false)).collect()
}

pub fn upper(s: &str) -> String {
    s.chars().map(|c| map_char(c, true)).collect()
}

/// `initcap`: upper-case the first letter of each alphanumeric run, lower-case the rest.
pub fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        out.push(map_char(c, !in_word));
        in_word = c.is_alphanumeric();
    }
    out
}

/// `translate(s, from, to)`: replace each character of `from` by the one at the same
/// position in `to`, deleting it when `to` is shorter. The first occurrence in `from` wins.
pub fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// Keywords that `quote_ident` must quote (every category but unreserved), from PostgreSQL 15.
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// `quote_ident`: double-quote unless the name is a plain lower-case identifier.
pub fn quote_ident(s: &str) -> String {
    let safe = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && QUOTED_KEYWORDS.binary_search(&s).is_err();
    if safe {
        return s.to_string();
    }
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `quote_literal`: single-quoted, `E''` form when the text holds backslashes.
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    if s.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `chr(n)`: the character with code point n.
pub fn chr(n: i64) -> PgResult<String> {
    if n == 0 {
        return Err(PgError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            "null character not permitted",
        ));
    }
    if n < 0 {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            "character number must be positive",
        ));
    }
    if n > 0x10ffff {
        return Err(PgError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("requested character too large for encoding: {n}"),
        ));
    }
    char::from_u32(n as u32).map(String::from).ok_or_else(|| {
        PgError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("requested character not valid for encoding: {n}"),
        )
    })
}

/// `to_hex` of an integer of the given width in bits (two's complement for negatives).
pub fn to_hex(v: i64, bits: u32) -> String {
    if bits == 32 {
        format!("{:x}", v as i32 as u32)
    } else {
        format!("{:x}", v as u64)
    }
}

fn text1(
    conn: &Connection,
    name: &str,
    f: impl Fn(&str) -> PgResult<String> + Send + 'static,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, DET, move |c| match text_arg(c, 0) {
        None => Ok(None),
        Some(s) => f(&s).map(Some).map_err(udf_err),
    })
}

fn text_int(
    conn: &Connection,
    name: &str,
    f: impl Fn(&str, i64) -> PgResult<String> + Send + 'static,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 2, DET, move |c| {
        match (text_arg(c, 0), int_arg(c, 1)?) {
            (Some(s), Some(n)) => f(&s, n).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })
}

/// The bytes of a text or bytea argument.
pub(super) fn bytes_arg(c: &Context<'_>, i: usize) -> Option<Vec<u8>> {
    match c.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Blob(b) | ValueRef::Text(b) => Some(b.to_vec()),
        _ => text_arg(c, i).map(String::into_bytes),
    }
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    text1(conn, "pg_lower", |s| Ok(lower(s)))?;
    text1(conn, "pg_upper", |s| Ok(upper(s)))?;
    text1(conn, "pg_initcap", |s| Ok(initcap(s)))?;
    text1(conn, "pg_reverse", |s| Ok(s.chars().rev().collect()))?;
    text1(conn, "pg_quote_ident", |s| Ok(quote_ident(s)))?;
    text1(conn, "pg_quote_literal", |s| Ok(quote_literal(s)))?;
    // quote_nullable: NULL becomes the word NULL.
    conn.create_scalar_function("pg_quote_nullable", 1, DET, |c| {
        Ok(match text_arg(c, 0) {
            None => "NULL".to_string(),
            Some(s) => quote_literal(&s),
        })
    })?;
    text_int(conn, "pg_left", |s, n| Ok(left(s, n)))?;
    text_int(conn, "pg_right", |s, n| Ok(right(s, n)))?;
    text_int(conn, "pg_repeat", repeat)?;
    for n in [2, 3] {
        conn.create_scalar_function("pg_substr", n, DET, move |c| {
            let Some(s) = text_arg(c, 0) else {
                return Ok(None);
            };
            let Some(start) = int_arg(c, 1)? else {
                return Ok(None);
            };
            let count = if n == 3 {
                match int_arg(c, 2)? {
                    None => return Ok(None),
                    v => v,
                }
            } else {
                None
            };
            substr(&s, start, count).map(Some).map_err(udf_err)
        })?;
    }
    for (name, left_side) in [("pg_lpad", true), ("pg_rpad", false)] {
        conn.create_scalar_function(name, 3, DET, move |c| {
            match (text_arg(c, 0), int_arg(c, 1)?, text_arg(c, 2)) {
                (Some(s), Some(n), Some(fill)) => {
                    pad(&s, n, &fill, left_side).map(Some).map_err(udf_err)
                }
                _ => Ok(None),
            }
        })?;
    }
    conn.create_scalar_function("pg_split_part", 3, DET, |c| {
        match (text_arg(c, 0), text_arg(c, 1), int_arg(c, 2)?) {
            (Some(s), Some(d), Some(n)) => split_part(&s, &d, n).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_translate", 3, DET, |c| {
        match (text_arg(c, 0), text_arg(c, 1), text_arg(c, 2)) {
            (Some(s), Some(f), Some(t)) => Ok(Some(translate(&s, &f, &t))),
            _ => Ok(None),
        }
    })?;
    // concat_ws(sep, ...): NULL separator gives NULL; NULL arguments are skipped.
    conn.create_scalar_function("pg_concat_ws", -1, DET, |c| {
        if c.is_empty() {
            return Ok(None);
        }
        let Some(sep) = text_arg(c, 0) else {
            return Ok(None);
        };
        let parts: Vec<String> = (1..c.len()).filter_map(|i| text_arg(c, i)).collect();
        Ok(Some(parts.join(&sep)))
    })?;
    conn.create_scalar_function("pg_ascii", 1, DET, |c| {
        Ok(text_arg(c, 0).map(|s| s.chars().next().map(|ch| ch as i64).unwrap_or(0)))
    })?;
    conn.create_scalar_function("pg_chr", 1, DET, |c| match int_arg(c, 0)? {
        None => Ok(None),
        Some(n) => chr(n).map(Some).map_err(udf_err),
    })?;
    // pg_overlay(s, r, start [, count])
    for n in [3, 4] {
        conn.create_scalar_function("pg_overlay", n, DET, move |c| {
            let (Some(s), Some(r), Some(start)) = (text_arg(c, 0), text_arg(c, 1), int_arg(c, 2)?)
            else {
                return Ok(None);
            };
            let count = if n == 4 {
                match int_arg(c, 3)? {
                    None => return Ok(None),
                    v => v,
                }
            } else {
                None
            };
            overlay(&s, &r, start, count).map(Some).map_err(udf_err)
        })?;
    }
    // pg_to_hex(value, bits)
    conn.create_scalar_function("pg_to_hex", 2, DET, |c| {
        match (int_arg(c, 0)?, int_arg(c, 1)?) {
            (Some(v), Some(bits)) => Ok(Some(to_hex(v, bits as u32))),
            _ => Ok(None),
        }
    })?;
    // length of a character(n) value ignores trailing spaces.
    conn.create_scalar_function("pg_bpchar_length", 1, DET, |c| {
        Ok(text_arg(c, 0).map(|s| s.trim_end_matches(' ').chars().count() as i64))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_edges() {
        assert_eq!(substr("hello", 0, Some(3)).unwrap(), "he");
        assert_eq!(substr("hello", -2, Some(5)).unwrap(), "he");
        assert_eq!(substr("hello", -5, None).unwrap(), "hello");
        assert_eq!(substr("hello", 10, None).unwrap(), "");
        assert_eq!(substr("héllo", 2, Some(2)).unwrap(), "él");
        assert_eq!(substr("x", i64::MAX, Some(i64::MAX)).unwrap(), "");
        assert_eq!(substr("xyz", i64::MIN, Some(i64::MAX)).unwrap(), "");
        assert_eq!(
            substr("hello", 2, Some(-1)).unwrap_err().code,
            xcode::SUBSTRING_ERROR
        );
    }

    #[test]
    fn left_right_pad_repeat() {
        assert_eq!(left("hello", -2), "hel");
        assert_eq!(right("hello", -2), "llo");
        assert_eq!(left("hello", i64::MIN), "");
        assert_eq!(right("hello", i64::MAX), "hello");
        assert_eq!(pad("hi", 6, "xy", true).unwrap(), "xyxyhi");
        assert_eq!(pad("hi", 5, "", true).unwrap(), "hi");
        assert_eq!(pad("hello", 2, " ", false).unwrap(), "he");
        assert_eq!(pad("hi", -1, " ", false).unwrap(), "");
        assert!(pad("x", i64::MAX, " ", true).is_err());
        assert_eq!(repeat("ab", 3).unwrap(), "ababab");
        assert_eq!(repeat("ab", -1).unwrap(), "");
        assert_eq!(
            repeat("x", 2_000_000_000).unwrap_err().code,
            code::PROGRAM_LIMIT_EXCEEDED
        );
        assert!(repeat("xy", i64::MAX).is_err());
        assert_eq!(overlay("abcdef", "xy", 2, Some(3)).unwrap(), "axyef");
        assert_eq!(overlay("abcdef", "xy", 2, None).unwrap(), "axydef");
        assert!(overlay("abc", "x", 0, None).is_err());
        assert!(overlay("abc", "x", 1, Some(i64::MAX)).is_err());
    }

    #[test]
    fn split_and_case() {
        assert_eq!(split_part("a,b,c", ",", -1).unwrap(), "c");
        assert_eq!(split_part("a,b,c", ",", -4).unwrap(), "");
        assert_eq!(split_part("a,b,c", ",", i64::MIN).unwrap(), "");
        assert_eq!(split_part("a,b,c", "", 1).unwrap(), "a,b,c");
        assert!(split_part("a", ",", 0).is_err());
        assert_eq!(
            initcap("hELLO wORLD foo_bar 3rd x-y"),
            "Hello World Foo_Bar 3rd X-Y"
        );
        assert_eq!(upper("straße"), "STRAßE");
        assert_eq!(lower("ÄÖ"), "äö");
        assert_eq!(translate("hello", "elo", "i"), "hi");
    }

    #[test]
    fn quoting() {
        assert!(QUOTED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(quote_ident("foo"), "foo");
        assert_eq!(quote_ident("Foo"), "\"Foo\"");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(quote_literal("a\\b'c"), "E'a\\\\b''c'");
        assert_eq!(chr(65).unwrap(), "A");
        assert!(chr(0xD800).is_err());
        assert_eq!(to_hex(-1, 32), "ffffffff");
        assert_eq!(to_hex(-1, 64), "ffffffffffffffff");
    }
}
