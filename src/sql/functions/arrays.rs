//! Array functions over our stored array form (a JSON array of canonical element values):
//! `array_length` / `array_upper` / `array_ndims` / `array_dims`, `array_to_string`,
//! `string_to_array`, `array_position(s)`, `array_cat` (and `||`, append, prepend),
//! `array_remove`, `array_replace`, `trim_array`, and the `@>` / `<@` / `&&` operators.
//! Elements compare as PostgreSQL compares their type (numeric by value, intervals by span).

use std::cmp::Ordering;

use rusqlite::Connection;
use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};

use super::{DET, Shared, int_arg, lock, owned, text_arg, udf_err, xcode};
use crate::error::PgError;
use crate::sql::datetime as dt;
use crate::sql::types::{PgType, Scalar};
use crate::sql::values;

/// The element scalar of an array type oid argument (text when unknown).
fn elem_scalar(c: &Context<'_>, i: usize) -> Scalar {
    match c.get_raw(i) {
        ValueRef::Integer(oid) => PgType::from_oid(oid as u32)
            .map(|t| t.scalar)
            .unwrap_or(Scalar::Text),
        _ => Scalar::Text,
    }
}

fn elements(c: &Context<'_>, i: usize, s: Scalar) -> rusqlite::Result<Option<Vec<Value>>> {
    match c.get_raw(i) {
        ValueRef::Null => Ok(None),
        v => values::array_elements(s, v).map(Some).map_err(udf_err),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => values::format_float(*f, false),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => String::new(),
    }
}

/// Equality of two non-NULL elements of scalar type `s`.
pub fn elem_eq(a: &Value, b: &Value, s: Scalar) -> bool {
    match s {
        Scalar::Numeric => {
            crate::sql::numeric::compare(&text_of(a), &text_of(b)) == Ordering::Equal
        }
        Scalar::Interval => match (
            dt::parse_interval(&text_of(a)),
            dt::parse_interval(&text_of(b)),
        ) {
            (Ok(x), Ok(y)) => x.cmp_key() == y.cmp_key(),
            _ => text_of(a) == text_of(b),
        },
        _ => match (a, b) {
            (Value::Integer(x), Value::Integer(y)) => x == y,
            (Value::Integer(x), Value::Real(y)) | (Value::Real(y), Value::Integer(x)) => {
                *x as f64 == *y
            }
            (Value::Real(x), Value::Real(y)) => x == y || (x.is_nan() && y.is_nan()),
            (Value::Text(x), Value::Text(y)) => x == y,
            (Value::Blob(x), Value::Blob(y)) => x == y,
            (Value::Blob(x), Value::Text(y)) | (Value::Text(y), Value::Blob(x)) => {
                x.as_slice() == y.as_bytes()
            }
            (Value::Integer(x), Value::Text(y)) | (Value::Text(y), Value::Integer(x)) => {
                y.trim() == x.to_string()
            }
            _ => false,
        },
    }
}

/// An element argument in the same representation as stored elements.
fn elem_arg(c: &Context<'_>, i: usize, s: Scalar) -> Value {
    let v = owned(c.get_raw(i));
    match (s, v) {
        (Scalar::Bool, Value::Text(t)) => {
            Value::Integer(values::parse_bool(&t).unwrap_or(false) as i64)
        }
        (_, v) => v,
    }
}

fn store(elems: &[Value]) -> Value {
    values::array_store(elems)
}

/// `string_to_array(s, delimiter, null_string)`.
pub fn string_to_array(
    s: &str,
    delim: Option<&str>,
    null_str: Option<&str>,
) -> Vec<Option<String>> {
    if s.is_empty() {
        return Vec::new();
    }
    let parts: Vec<String> = match delim {
        None => s.chars().map(String::from).collect(),
        Some("") => vec![s.to_string()],
        Some(d) => s.split(d).map(String::from).collect(),
    };
    parts
        .into_iter()
        .map(|p| {
            if Some(p.as_str()) == null_str {
                None
            } else {
                Some(p)
            }
        })
        .collect()
}

fn trim_error(n: usize) -> PgError {
    PgError::new(
        xcode::ARRAY_SUBSCRIPT_ERROR,
        format!("number of elements to trim must be between 0 and {n}"),
    )
}

pub(super) fn register(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    // pg_array_length(arr, dim): only dimension 1 exists; empty arrays have no dimensions.
    conn.create_scalar_function("pg_array_length", 2, DET, |c| {
        let Some(e) = elements(c, 0, Scalar::Text)? else {
            return Ok(None);
        };
        Ok(match int_arg(c, 1)? {
            Some(1) if !e.is_empty() => Some(e.len() as i64),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_array_ndims", 1, DET, |c| {
        Ok(elements(c, 0, Scalar::Text)?.and_then(|e| (!e.is_empty()).then_some(1i64)))
    })?;
    conn.create_scalar_function("pg_array_dims", 1, DET, |c| {
        Ok(elements(c, 0, Scalar::Text)?
            .and_then(|e| (!e.is_empty()).then(|| format!("[1:{}]", e.len()))))
    })?;
    // pg_array_to_string(arr, sep, null_string, array_oid)
    let cx = ctx.clone();
    conn.create_scalar_function("pg_array_to_string", 4, DET, move |c| {
        let s = elem_scalar(c, 3);
        let (Some(e), Some(sep)) = (elements(c, 0, s)?, text_arg(c, 1)) else {
            return Ok(None);
        };
        let null_str = text_arg(c, 2);
        let style = lock(&cx).style();
        let mut parts = Vec::with_capacity(e.len());
        for v in &e {
            match values::to_text(PgType::scalar(s), ValueRef::from(v), &style).map_err(udf_err)? {
                Some(t) => parts.push(t),
                None => {
                    if let Some(n) = &null_str {
                        parts.push(n.clone());
                    }
                }
            }
        }
        Ok(Some(parts.join(&sep)))
    })?;
    // pg_string_to_array(s, delimiter, null_string)
    conn.create_scalar_function("pg_string_to_array", 3, DET, |c| {
        let Some(s) = text_arg(c, 0) else {
            return Ok(None);
        };
        let delim = text_arg(c, 1);
        let null_str = text_arg(c, 2);
        let items = string_to_array(&s, delim.as_deref(), null_str.as_deref());
        let vals: Vec<Value> = items
            .into_iter()
            .map(|x| x.map(Value::Text).unwrap_or(Value::Null))
            .collect();
        Ok(Some(store(&vals)))
    })?;
    // pg_array_position(arr, elem, start, array_oid) / pg_array_positions(arr, elem, array_oid)
    conn.create_scalar_function("pg_array_position", 4, DET, |c| {
        let s = elem_scalar(c, 3);
        let Some(e) = elements(c, 0, s)? else {
            return Ok(None);
        };
        let Some(start) = int_arg(c, 2)? else {
            return Err(udf_err(PgError::new(
                xcode::NULL_VALUE_NOT_ALLOWED,
                "initial position must not be null",
            )));
        };
        let x = elem_arg(c, 1, s);
        let from = (start.max(1) - 1) as usize;
        for (i, v) in e.iter().enumerate().skip(from) {
            let hit = match (&x, v) {
                (Value::Null, Value::Null) => true,
                (Value::Null, _) | (_, Value::Null) => false,
                (a, b) => elem_eq(a, b, s),
            };
            if hit {
                return Ok(Some(i as i64 + 1));
            }
        }
        Ok(None)
    })?;
    conn.create_scalar_function("pg_array_positions", 3, DET, |c| {
        let s = elem_scalar(c, 2);
        let Some(e) = elements(c, 0, s)? else {
            return Ok(None);
        };
        let x = elem_arg(c, 1, s);
        let hits: Vec<Value> = e
            .iter()
            .enumerate()
            .filter(|(_, v)| match (&x, v) {
                (Value::Null, Value::Null) => true,
                (Value::Null, _) | (_, Value::Null) => false,
                (a, b) => elem_eq(a, b, s),
            })
            .map(|(i, _)| Value::Integer(i as i64 + 1))
            .collect();
        Ok(Some(store(&hits)))
    })?;
    // pg_array_cat(a, b): a NULL side is ignored; both NULL gives NULL.
    conn.create_scalar_function("pg_array_cat", 2, DET, |c| {
        let bad = || {
            udf_err(PgError::new(
                crate::error::code::DATA_CORRUPTED,
                "malformed stored array",
            ))
        };
        let side = |i: usize| -> rusqlite::Result<Option<Vec<serde_json::Value>>> {
            match c.get_raw(i) {
                ValueRef::Null => Ok(None),
                v => raw_json(v).map(Some).ok_or_else(bad),
            }
        };
        Ok(match (side(0)?, side(1)?) {
            (None, None) => None,
            (Some(a), None) | (None, Some(a)) => Some(serde_json::Value::Array(a).to_string()),
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(serde_json::Value::Array(a).to_string())
            }
        })
    })?;
    // pg_array_contains(a, b, array_oid): a @> b (NULL elements never match).
    conn.create_scalar_function("pg_array_contains", 3, DET, |c| {
        let s = elem_scalar(c, 2);
        let (Some(a), Some(b)) = (elements(c, 0, s)?, elements(c, 1, s)?) else {
            return Ok(None);
        };
        Ok(Some(b.iter().all(|y| {
            !matches!(y, Value::Null)
                && a.iter()
                    .any(|x| !matches!(x, Value::Null) && elem_eq(x, y, s))
        })))
    })?;
    // pg_array_overlap(a, b, array_oid): a && b
    conn.create_scalar_function("pg_array_overlap", 3, DET, |c| {
        let s = elem_scalar(c, 2);
        let (Some(a), Some(b)) = (elements(c, 0, s)?, elements(c, 1, s)?) else {
            return Ok(None);
        };
        Ok(Some(b.iter().any(|y| {
            !matches!(y, Value::Null)
                && a.iter()
                    .any(|x| !matches!(x, Value::Null) && elem_eq(x, y, s))
        })))
    })?;
    // pg_array_remove(arr, elem, array_oid)
    conn.create_scalar_function("pg_array_remove", 3, DET, |c| {
        let s = elem_scalar(c, 2);
        let Some(e) = elements(c, 0, s)? else {
            return Ok(None);
        };
        let x = elem_arg(c, 1, s);
        let kept: Vec<Value> = e
            .into_iter()
            .filter(|v| match (&x, v) {
                (Value::Null, Value::Null) => false,
                (Value::Null, _) | (_, Value::Null) => true,
                (a, b) => !elem_eq(a, b, s),
            })
            .collect();
        Ok(Some(store(&kept)))
    })?;
    // pg_array_replace(arr, from, to, array_oid)
    conn.create_scalar_function("pg_array_replace", 4, DET, |c| {
        let s = elem_scalar(c, 3);
        let Some(e) = elements(c, 0, s)? else {
            return Ok(None);
        };
        let from = elem_arg(c, 1, s);
        let to = elem_arg(c, 2, s);
        let out: Vec<Value> = e
            .into_iter()
            .map(|v| {
                let hit = match (&from, &v) {
                    (Value::Null, Value::Null) => true,
                    (Value::Null, _) | (_, Value::Null) => false,
                    (a, b) => elem_eq(a, b, s),
                };
                if hit { to.clone() } else { v }
            })
            .collect();
        Ok(Some(store(&out)))
    })?;
    // pg_trim_array(arr, n)
    conn.create_scalar_function("pg_trim_array", 2, DET, |c| {
        let (Some(e), Some(n)) = (raw_json(c.get_raw(0)), int_arg(c, 1)?) else {
            return Ok(None);
        };
        if n < 0 || n as usize > e.len() {
            return Err(udf_err(trim_error(e.len())));
        }
        let keep = e.len() - n as usize;
        Ok(Some(
            serde_json::Value::Array(e.into_iter().take(keep).collect()).to_string(),
        ))
    })?;
    Ok(())
}

/// The stored JSON array as JSON values (None for NULL or a malformed value).
fn raw_json(v: ValueRef<'_>) -> Option<Vec<serde_json::Value>> {
    match v {
        ValueRef::Text(t) => match serde_json::from_slice(t) {
            Ok(serde_json::Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_strings() {
        let s = |x: &str, d: Option<&str>, n: Option<&str>| string_to_array(x, d, n);
        assert_eq!(
            s("a,b,,c", Some(","), None),
            vec![
                Some("a".into()),
                Some("b".into()),
                Some("".into()),
                Some("c".into())
            ]
        );
        assert_eq!(s("a,b,,c", Some(","), Some(""))[2], None);
        assert_eq!(s("abc", None, None).len(), 3);
        assert_eq!(s("abc", Some(""), None), vec![Some("abc".into())]);
        assert!(s("", Some(","), None).is_empty());
    }

    #[test]
    fn element_equality() {
        assert!(elem_eq(
            &Value::Text("1.50".into()),
            &Value::Text("1.5".into()),
            Scalar::Numeric
        ));
        assert!(elem_eq(
            &Value::Integer(2),
            &Value::Real(2.0),
            Scalar::Float8
        ));
        assert!(elem_eq(
            &Value::Text("1 day".into()),
            &Value::Text("24:00:00".into()),
            Scalar::Interval
        ));
        assert!(!elem_eq(
            &Value::Text("a".into()),
            &Value::Text("b".into()),
            Scalar::Text
        ));
    }
}
