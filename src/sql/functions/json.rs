//! `json` / `jsonb` functions and operators. `json` values are stored as written and `jsonb`
//! values in PostgreSQL's normalised text (see `values::parse_jsonb`), so element access works
//! on exact source spans (`jsonparse`) and returns what PostgreSQL returns for either type.
//! Values are turned into JSON by `pg_json_frag(value, type_oid)` with `to_json`'s rules;
//! `json_build_*` print PostgreSQL's `json` spacing (`{"a" : 1}`), `jsonb` results are
//! normalised by `pg_jsonb`.

use std::cmp::Ordering;

use rusqlite::Connection;
use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};
use serde_json::Value as J;

use super::jsonparse::{self, Kind, Node};
use super::{DET, Shared, int_arg, lock, text_arg, udf_err, xcode};
use crate::error::{PgError, PgResult, code};
use crate::sql::datetime as dt;
use crate::sql::types::{PgType, Scalar};
use crate::sql::values;

fn param_err(msg: impl Into<String>) -> PgError {
    PgError::new(code::INVALID_PARAMETER_VALUE, msg)
}

/// Parse stored jsonb (or any JSON text) into a serde value.
pub fn to_serde(s: &str) -> PgResult<J> {
    serde_json::from_str(s).map_err(|e| {
        PgError::new(
            code::INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type json",
        )
        .with_detail(e.to_string())
    })
}

pub fn jsonb_text(v: &J) -> String {
    let mut out = String::new();
    values::write_jsonb(v, &mut out);
    out
}

/// ISO 8601 text of a stored timestamptz in `zone`, as `to_json` prints it.
pub fn json_timestamptz(stored: &str, zone: &dt::Zone) -> String {
    let Some(utc) = dt::stored_timestamp(stored) else {
        return stored.to_string();
    };
    let off = zone.offset_at_utc(&utc).local_minus_utc();
    let local = utc + chrono::Duration::seconds(off as i64);
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    let mut z = format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60);
    if a % 60 != 0 {
        z.push_str(&format!(":{:02}", a % 60));
    }
    format!("{}{z}", dt::format_timestamp(&local).replacen(' ', "T", 1))
}

fn float_json(f: f64, float4: bool) -> String {
    if f.is_finite() {
        values::format_float(f, float4)
    } else {
        jsonparse::quote(&values::format_float(f, float4))
    }
}

/// The JSON text of one SQL value of type `ty` (None for SQL NULL), as `to_json` makes it.
pub fn fragment(
    ty: PgType,
    v: ValueRef<'_>,
    style: &values::OutputStyle,
) -> PgResult<Option<String>> {
    if matches!(v, ValueRef::Null) {
        return Ok(None);
    }
    let text = |v: ValueRef<'_>| -> PgResult<String> {
        Ok(values::to_text(ty, v, style)?.unwrap_or_default())
    };
    if ty.array {
        let elems = values::array_elements(ty.scalar, v)?;
        let mut out = String::from("[");
        for (i, e) in elems.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match fragment(PgType::scalar(ty.scalar), ValueRef::from(e), style)? {
                Some(f) => out.push_str(&f),
                None => out.push_str("null"),
            }
        }
        out.push(']');
        return Ok(Some(out));
    }
    Ok(Some(match ty.scalar {
        Scalar::Json | Scalar::Jsonb => text(v)?,
        Scalar::Bool => {
            if text(v)? == "t" {
                "true".into()
            } else {
                "false".into()
            }
        }
        s if s.is_integer() => text(v)?,
        Scalar::Float4 | Scalar::Float8 => match v {
            ValueRef::Real(f) => float_json(f, ty.scalar == Scalar::Float4),
            ValueRef::Integer(i) => i.to_string(),
            _ => {
                let t = text(v)?;
                match t.parse::<f64>() {
                    Ok(f) if f.is_finite() => t,
                    _ => jsonparse::quote(&t),
                }
            }
        },
        Scalar::Numeric => {
            let t = text(v)?;
            if t.ends_with("Infinity") || t == "NaN" {
                jsonparse::quote(&t)
            } else {
                t
            }
        }
        Scalar::Timestamptz => {
            let s = String::from_utf8_lossy(match v {
                ValueRef::Text(t) => t,
                _ => b"",
            })
            .into_owned();
            jsonparse::quote(&json_timestamptz(&s, &style.zone))
        }
        Scalar::Timestamp => jsonparse::quote(&text(v)?.replacen(' ', "T", 1)),
        _ => jsonparse::quote(&text(v)?),
    }))
}

fn ty_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<PgType> {
    let oid: i64 = c.get(i)?;
    PgType::from_oid(oid as u32).ok_or_else(|| udf_err(PgError::internal("unknown type oid")))
}

fn parse_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<(String, Node)>> {
    match text_arg(c, i) {
        None => Ok(None),
        Some(s) => {
            let n = jsonparse::parse(&s).map_err(udf_err)?;
            Ok(Some((s, n)))
        }
    }
}

fn serde_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<J>> {
    match text_arg(c, i) {
        None => Ok(None),
        Some(s) => to_serde(&s).map(Some).map_err(udf_err),
    }
}

/// `->` / `->>` step: by key (text) or by index (integer).
fn step<'n>(n: &'n Node, key: &ValueRef<'_>) -> Option<&'n Node> {
    match key {
        ValueRef::Integer(i) => n.index(*i),
        ValueRef::Text(t) => n.get(&String::from_utf8_lossy(t)),
        ValueRef::Real(f) => n.index(*f as i64),
        _ => None,
    }
}

/// `#>` / `#>>` step: keys for objects, integers (possibly negative) for arrays.
fn path_step<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Obj(_) => n.get(key),
        Kind::Arr(_) => key.trim().parse::<i64>().ok().and_then(|i| n.index(i)),
        _ => None,
    }
}

fn out_node(n: &Node, src: &str, as_text: bool) -> Option<String> {
    if as_text {
        n.as_text(src)
    } else {
        Some(n.raw(src).to_string())
    }
}

/// Text elements of a stored `text[]` (NULLs kept as None).
fn text_array(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<Vec<Option<String>>>> {
    match c.get_raw(i) {
        ValueRef::Null => Ok(None),
        v => {
            let elems = values::array_elements(Scalar::Text, v).map_err(udf_err)?;
            Ok(Some(
                elems
                    .into_iter()
                    .map(|e| match e {
                        Value::Null => None,
                        Value::Text(t) => Some(t),
                        Value::Integer(i) => Some(i.to_string()),
                        Value::Real(f) => Some(values::format_float(f, false)),
                        Value::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    })
                    .collect(),
            ))
        }
    }
}

fn num_cmp(a: &serde_json::Number, b: &serde_json::Number) -> Ordering {
    crate::sql::numeric::compare(&a.to_string(), &b.to_string())
}

fn scalar_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => num_cmp(x, y) == Ordering::Equal,
        (J::String(x), J::String(y)) => x == y,
        (J::Bool(x), J::Bool(y)) => x == y,
        (J::Null, J::Null) => true,
        _ => false,
    }
}

fn is_container(v: &J) -> bool {
    matches!(v, J::Array(_) | J::Object(_))
}

/// PostgreSQL's `JsonbDeepContains` for two containers of the same kind.
fn deep_contains(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Object(x), J::Object(y)) => y.iter().all(|(k, bv)| match x.get(k) {
            None => false,
            Some(av) => {
                if is_container(bv) {
                    std::mem::discriminant(av) == std::mem::discriminant(bv)
                        && deep_contains(av, bv)
                } else {
                    scalar_eq(av, bv)
                }
            }
        }),
        (J::Array(x), J::Array(y)) => y.iter().all(|bv| {
            if is_container(bv) {
                x.iter().any(|av| {
                    std::mem::discriminant(av) == std::mem::discriminant(bv)
                        && deep_contains(av, bv)
                })
            } else {
                x.iter().any(|av| !is_container(av) && scalar_eq(av, bv))
            }
        }),
        _ => scalar_eq(a, b),
    }
}

/// `a @> b` on jsonb, with raw scalars treated as one-element pseudo arrays.
pub fn contains(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Object(_), J::Object(_)) => deep_contains(a, b),
        (J::Object(_), _) | (_, J::Object(_)) => false,
        (J::Array(_), J::Array(_)) => deep_contains(a, b),
        (J::Array(_), s) => deep_contains(a, &J::Array(vec![s.clone()])),
        (_, J::Array(_)) => false,
        (x, y) => scalar_eq(x, y),
    }
}

/// `?`: a top-level key, or a string element of a top-level array (or the scalar string).
fn exists(j: &J, key: &str) -> bool {
    match j {
        J::Object(m) => m.contains_key(key),
        J::Array(a) => a.iter().any(|e| matches!(e, J::String(s) if s == key)),
        J::String(s) => s == key,
        _ => false,
    }
}

/// `a || b` on jsonb.
pub fn concat(a: J, b: J) -> J {
    match (a, b) {
        (J::Object(mut x), J::Object(y)) => {
            for (k, v) in y {
                x.insert(k, v);
            }
            J::Object(x)
        }
        (a, b) => {
            let mut out = match a {
                J::Array(x) => x,
                other => vec![other],
            };
            match b {
                J::Array(y) => out.extend(y),
                other => out.push(other),
            }
            J::Array(out)
        }
    }
}

/// `jsonb_pretty`.
pub fn pretty(v: &J) -> String {
    fn scalar(v: &J) -> String {
        jsonb_text(v)
    }
    fn go(v: &J, level: usize, out: &mut String) {
        let pad = |n: usize| "    ".repeat(n);
        match v {
            J::Object(m) => {
                out.push('{');
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('\n');
                    out.push_str(&pad(level + 1));
                    out.push_str(&jsonparse::quote(k));
                    out.push_str(": ");
                    go(&m[*k], level + 1, out);
                }
                out.push('\n');
                out.push_str(&pad(level));
                out.push('}');
            }
            J::Array(a) => {
                out.push('[');
                for (i, e) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('\n');
                    out.push_str(&pad(level + 1));
                    go(e, level + 1, out);
                }
                out.push('\n');
                out.push_str(&pad(level));
                out.push(']');
            }
            other => out.push_str(&scalar(other)),
        }
    }
    let mut out = String::new();
    go(v, 0, &mut out);
    out
}

fn strip_nulls(v: J) -> J {
    match v {
        J::Object(m) => J::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        J::Array(a) => J::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// `json_strip_nulls`: keeps key order and duplicates, prints without whitespace.
fn json_strip_nulls(n: &Node, src: &str, out: &mut String) {
    match &n.kind {
        Kind::Obj(m) => {
            out.push('{');
            let mut first = true;
            for (k, v) in m {
                if matches!(v.kind, Kind::Null) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                jsonparse::quote_into(k, out);
                out.push(':');
                json_strip_nulls(v, src, out);
            }
            out.push('}');
        }
        Kind::Arr(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_strip_nulls(e, src, out);
            }
            out.push(']');
        }
        Kind::Str(s) => jsonparse::quote_into(s, out),
        _ => out.push_str(n.raw(src)),
    }
}

/// How `jsonb_set` / `jsonb_insert` change the element at the end of the path.
#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Replace { create: bool },
    InsertBefore,
    InsertAfter,
}

fn path_int(p: &str, pos: usize) -> PgResult<i64> {
    p.trim().parse::<i64>().map_err(|_| {
        PgError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("path element at position {pos} is not an integer: \"{p}\""),
        )
    })
}

fn set_path(v: &mut J, path: &[String], idx: usize, new: &J, op: SetOp) -> PgResult<()> {
    let key = &path[idx];
    let last = idx + 1 == path.len();
    match v {
        J::Object(m) => {
            if let Some(child) = m.get_mut(key) {
                if last {
                    match op {
                        SetOp::Replace { .. } => *child = new.clone(),
                        _ => {
                            return Err(param_err("cannot replace existing key").with_hint(
                                "Try using the function jsonb_set to replace key value.",
                            ));
                        }
                    }
                } else {
                    set_path(child, path, idx + 1, new, op)?;
                }
            } else if last && op != (SetOp::Replace { create: false }) {
                m.insert(key.clone(), new.clone());
            }
        }
        J::Array(a) => {
            let mut i = path_int(key, idx + 1)?;
            let n = a.len() as i64;
            if i < 0 {
                i += n;
            }
            if i < 0 || i >= n {
                if last && op != (SetOp::Replace { create: false }) {
                    if i < 0 {
                        a.insert(0, new.clone());
                    } else {
                        a.push(new.clone());
                    }
                }
                return Ok(());
            }
            let i = i as usize;
            if last {
                match op {
                    SetOp::Replace { .. } => a[i] = new.clone(),
                    SetOp::InsertBefore => a.insert(i, new.clone()),
                    SetOp::InsertAfter => a.insert(i + 1, new.clone()),
                }
            } else {
                set_path(&mut a[i], path, idx + 1, new, op)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn path_strings(p: Vec<Option<String>>) -> PgResult<Vec<String>> {
    p.into_iter()
        .enumerate()
        .map(|(i, x)| {
            x.ok_or_else(|| {
                PgError::new(
                    xcode::NULL_VALUE_NOT_ALLOWED,
                    format!("path element at position {} is null", i + 1),
                )
            })
        })
        .collect()
}

fn delete_path(v: &mut J, path: &[String], idx: usize) -> PgResult<()> {
    let key = &path[idx];
    let last = idx + 1 == path.len();
    match v {
        J::Object(m) => {
            if last {
                m.remove(key);
            } else if let Some(child) = m.get_mut(key) {
                delete_path(child, path, idx + 1)?;
            }
        }
        J::Array(a) => {
            let mut i = path_int(key, idx + 1)?;
            let n = a.len() as i64;
            if i < 0 {
                i += n;
            }
            if i < 0 || i >= n {
                return Ok(());
            }
            if last {
                a.remove(i as usize);
            } else {
                delete_path(&mut a[i as usize], path, idx + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `pg_json_items(json, function_name)`: the elements of an array (as raw JSON strings) or the
/// members of an object (an object of raw JSON strings), for the set-returning functions.
fn items(src: &str, n: &Node, fname: &str) -> PgResult<String> {
    let is_b = fname.starts_with("jsonb");
    let wants_array = fname.contains("array_elements");
    let wants_keys = fname.contains("object_keys");
    let kind_err = |n: &Node| -> PgError {
        let what = match n.kind {
            Kind::Arr(_) => "array",
            Kind::Obj(_) => "object",
            _ => "scalar",
        };
        let msg = if wants_array {
            if is_b {
                format!(
                    "cannot extract elements from {}",
                    if what == "object" {
                        "an object"
                    } else {
                        "a scalar"
                    }
                )
            } else if what == "object" {
                format!("cannot call {fname} on a non-array")
            } else {
                format!("cannot call {fname} on a scalar")
            }
        } else if wants_keys {
            format!(
                "cannot call {fname} on {}",
                if what == "array" {
                    "an array"
                } else {
                    "a scalar"
                }
            )
        } else if is_b {
            format!("cannot call {fname} on a non-object")
        } else if what == "array" {
            "cannot deconstruct an array as an object".to_string()
        } else {
            "cannot deconstruct a scalar".to_string()
        };
        param_err(msg)
    };
    let mut out = String::new();
    match &n.kind {
        Kind::Arr(a) if wants_array => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jsonparse::quote_into(e.raw(src), &mut out);
            }
            out.push(']');
        }
        Kind::Obj(m) if wants_keys => {
            out.push('[');
            for (i, (k, _)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jsonparse::quote_into(k, &mut out);
            }
            out.push(']');
        }
        Kind::Obj(m) if !wants_array => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jsonparse::quote_into(k, &mut out);
                out.push(':');
                jsonparse::quote_into(v.raw(src), &mut out);
            }
            out.push('}');
        }
        _ => return Err(kind_err(n)),
    }
    Ok(out)
}

fn array_length(n: &Node) -> PgResult<i64> {
    match &n.kind {
        Kind::Arr(a) => Ok(a.len() as i64),
        Kind::Obj(_) => Err(param_err("cannot get array length of a non-array")),
        _ => Err(param_err("cannot get array length of a scalar")),
    }
}

/// `json_build_object` in PostgreSQL's `json` layout. `parts` alternate key text and value
/// fragments (None = SQL NULL).
pub fn build_object(parts: &[Option<String>]) -> PgResult<String> {
    if !parts.len().is_multiple_of(2) {
        return Err(param_err("argument list must have even number of elements"));
    }
    let mut out = String::from("{");
    for (i, pair) in parts.chunks(2).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let Some(k) = &pair[0] else {
            return Err(param_err(format!("argument {} cannot be null", i * 2 + 1))
                .with_hint("Object keys should be text."));
        };
        jsonparse::quote_into(k, &mut out);
        out.push_str(" : ");
        out.push_str(pair[1].as_deref().unwrap_or("null"));
    }
    out.push('}');
    Ok(out)
}

pub fn build_array(parts: &[Option<String>]) -> String {
    let items: Vec<&str> = parts
        .iter()
        .map(|p| p.as_deref().unwrap_or("null"))
        .collect();
    format!("[{}]", items.join(", "))
}

pub(super) fn register(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    // pg_jsonb(json_text): normalise to jsonb's text form.
    conn.create_scalar_function("pg_jsonb", 1, DET, |c| match text_arg(c, 0) {
        None => Ok(None),
        Some(s) => values::parse_jsonb(&s).map(Some).map_err(udf_err),
    })?;
    // pg_json_frag(value, type_oid): to_json of one value (NULL stays NULL).
    let cx = ctx.clone();
    conn.create_scalar_function("pg_json_frag", 2, DET, move |c| {
        let ty = ty_arg(c, 1)?;
        let style = lock(&cx).style();
        fragment(ty, c.get_raw(0), &style).map_err(udf_err)
    })?;
    // pg_json_get(json, key_or_index, as_text): -> and ->>
    conn.create_scalar_function("pg_json_get", 3, DET, |c| {
        let Some((src, n)) = parse_arg(c, 0)? else {
            return Ok(None);
        };
        let as_text = c.get::<i64>(2).unwrap_or(0) != 0;
        Ok(step(&n, &c.get_raw(1)).and_then(|x| out_node(x, &src, as_text)))
    })?;
    // pg_json_path(json, text[] path, as_text): #> and #>>
    conn.create_scalar_function("pg_json_path", 3, DET, |c| {
        let Some((src, n)) = parse_arg(c, 0)? else {
            return Ok(None);
        };
        let Some(path) = text_array(c, 1)? else {
            return Ok(None);
        };
        let as_text = c.get::<i64>(2).unwrap_or(0) != 0;
        let mut cur = &n;
        for p in &path {
            let Some(k) = p else {
                return Ok(None);
            };
            match path_step(cur, k) {
                Some(next) => cur = next,
                None => return Ok(None),
            }
        }
        Ok(out_node(cur, &src, as_text))
    })?;
    // pg_json_items(json, function_name): rows for the set-returning functions.
    conn.create_scalar_function("pg_json_items", 2, DET, |c| {
        let Some((src, n)) = parse_arg(c, 0)? else {
            return Ok(None);
        };
        let fname = text_arg(c, 1).unwrap_or_default();
        items(&src, &n, &fname).map(Some).map_err(udf_err)
    })?;
    // pg_json_elem(raw_json, as_text): one row value of those functions.
    conn.create_scalar_function("pg_json_elem", 2, DET, |c| {
        let Some((src, n)) = parse_arg(c, 0)? else {
            return Ok(None);
        };
        let as_text = c.get::<i64>(1).unwrap_or(0) != 0;
        Ok(out_node(&n, &src, as_text))
    })?;
    conn.create_scalar_function("pg_json_typeof", 1, DET, |c| {
        Ok(parse_arg(c, 0)?.map(|(_, n)| n.type_name()))
    })?;
    conn.create_scalar_function("pg_json_array_length", 1, DET, |c| match parse_arg(c, 0)? {
        None => Ok(None),
        Some((_, n)) => array_length(&n).map(Some).map_err(udf_err),
    })?;
    conn.create_scalar_function("pg_jsonb_contains", 2, DET, |c| {
        match (serde_arg(c, 0)?, serde_arg(c, 1)?) {
            (Some(a), Some(b)) => Ok(Some(contains(&a, &b))),
            _ => Ok(None),
        }
    })?;
    // pg_jsonb_exists(jsonb, key | text[], mode): ? (0), ?& (1), ?| (2)
    conn.create_scalar_function("pg_jsonb_exists", 3, DET, |c| {
        let Some(j) = serde_arg(c, 0)? else {
            return Ok(None);
        };
        let mode = c.get::<i64>(2).unwrap_or(0);
        if mode == 0 {
            return Ok(text_arg(c, 1).map(|k| exists(&j, &k)));
        }
        let Some(keys) = text_array(c, 1)? else {
            return Ok(None);
        };
        let keys: Vec<String> = keys.into_iter().flatten().collect();
        Ok(Some(if mode == 1 {
            keys.iter().all(|k| exists(&j, k))
        } else {
            keys.iter().any(|k| exists(&j, k))
        }))
    })?;
    conn.create_scalar_function("pg_jsonb_concat", 2, DET, |c| {
        match (serde_arg(c, 0)?, serde_arg(c, 1)?) {
            (Some(a), Some(b)) => Ok(Some(jsonb_text(&concat(a, b)))),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_jsonb_typeof", 1, DET, |c| {
        Ok(parse_arg(c, 0)?.map(|(_, n)| n.type_name()))
    })?;
    conn.create_scalar_function("pg_jsonb_pretty", 1, DET, |c| {
        Ok(serde_arg(c, 0)?.map(|j| pretty(&j)))
    })?;
    conn.create_scalar_function("pg_jsonb_strip_nulls", 1, DET, |c| {
        Ok(serde_arg(c, 0)?.map(|j| jsonb_text(&strip_nulls(j))))
    })?;
    conn.create_scalar_function("pg_json_strip_nulls", 1, DET, |c| {
        Ok(parse_arg(c, 0)?.map(|(src, n)| {
            let mut out = String::new();
            json_strip_nulls(&n, &src, &mut out);
            out
        }))
    })?;
    // pg_jsonb_set(target, path, new, create_missing) / pg_jsonb_insert(target, path, new, after)
    for (name, insert) in [("pg_jsonb_set", false), ("pg_jsonb_insert", true)] {
        conn.create_scalar_function(name, 4, DET, move |c| {
            let (Some(mut j), Some(path), Some(new)) =
                (serde_arg(c, 0)?, text_array(c, 1)?, serde_arg(c, 2)?)
            else {
                return Ok(None);
            };
            let Ok(flag) = c.get::<bool>(3) else {
                return Ok(None);
            };
            let op = match (insert, flag) {
                (false, create) => SetOp::Replace { create },
                (true, false) => SetOp::InsertBefore,
                (true, true) => SetOp::InsertAfter,
            };
            if !is_container(&j) {
                return Err(udf_err(param_err("cannot set path in scalar")));
            }
            let path = path_strings(path).map_err(udf_err)?;
            if !path.is_empty() {
                set_path(&mut j, &path, 0, &new, op).map_err(udf_err)?;
            }
            Ok(Some(jsonb_text(&j)))
        })?;
    }
    // pg_jsonb_delete(jsonb, key | index | text[], kind): `-` with text (0), int (1), text[] (2)
    conn.create_scalar_function("pg_jsonb_delete", 3, DET, |c| {
        let Some(j) = serde_arg(c, 0)? else {
            return Ok(None);
        };
        let kind = c.get::<i64>(2).unwrap_or(0);
        if !is_container(&j) {
            return Err(udf_err(param_err("cannot delete from scalar")));
        }
        let keys: Vec<String> = match kind {
            1 => {
                let Some(i) = int_arg(c, 1)? else {
                    return Ok(None);
                };
                return match j {
                    J::Array(mut a) => {
                        let n = a.len() as i64;
                        let idx = if i < 0 { n + i } else { i };
                        if idx >= 0 && idx < n {
                            a.remove(idx as usize);
                        }
                        Ok(Some(jsonb_text(&J::Array(a))))
                    }
                    _ => Err(udf_err(param_err(
                        "cannot delete from object using integer index",
                    ))),
                };
            }
            2 => match text_array(c, 1)? {
                None => return Ok(None),
                Some(k) => k.into_iter().flatten().collect(),
            },
            _ => match text_arg(c, 1) {
                None => return Ok(None),
                Some(k) => vec![k],
            },
        };
        Ok(Some(jsonb_text(&match j {
            J::Object(mut m) => {
                for k in &keys {
                    m.remove(k);
                }
                J::Object(m)
            }
            J::Array(a) => J::Array(
                a.into_iter()
                    .filter(|e| !matches!(e, J::String(s) if keys.contains(s)))
                    .collect(),
            ),
            other => other,
        })))
    })?;
    // pg_jsonb_delete_path(jsonb, text[]): #-
    conn.create_scalar_function("pg_jsonb_delete_path", 2, DET, |c| {
        let (Some(mut j), Some(path)) = (serde_arg(c, 0)?, text_array(c, 1)?) else {
            return Ok(None);
        };
        if !is_container(&j) {
            return Err(udf_err(param_err("cannot delete path in scalar")));
        }
        let path = path_strings(path).map_err(udf_err)?;
        if !path.is_empty() {
            delete_path(&mut j, &path, 0).map_err(udf_err)?;
        }
        Ok(Some(jsonb_text(&j)))
    })?;
    // pg_json_build_object(k1, frag1, ...) / pg_json_build_array(frag, ...)
    conn.create_scalar_function("pg_json_build_object", -1, DET, |c| {
        let parts: Vec<Option<String>> = (0..c.len()).map(|i| text_arg(c, i)).collect();
        build_object(&parts).map_err(udf_err)
    })?;
    conn.create_scalar_function("pg_json_build_array", -1, DET, |c| {
        let parts: Vec<Option<String>> = (0..c.len()).map(|i| text_arg(c, i)).collect();
        Ok(build_array(&parts))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> J {
        to_serde(s).unwrap()
    }

    #[test]
    fn containment() {
        assert!(contains(&j(r#"{"a":1,"b":[1,2]}"#), &j(r#"{"b":[2]}"#)));
        assert!(contains(&j(r#"{"a":1}"#), &j(r#"{"a":1.0}"#)));
        assert!(!contains(&j(r#"{"a":[1,2]}"#), &j(r#"{"a":1}"#)));
        assert!(contains(&j("[1,2]"), &j("1")));
        assert!(!contains(&j("1"), &j("[1]")));
        assert!(!contains(&j("[[1,2]]"), &j("[1]")));
        assert!(contains(&j("[[1,2]]"), &j("[[1]]")));
        assert!(contains(&j(r#"{"a":1}"#), &j("{}")));
    }

    #[test]
    fn concat_set_delete() {
        assert_eq!(
            jsonb_text(&concat(j(r#"{"a":1}"#), j("[2]"))),
            r#"[{"a": 1}, 2]"#
        );
        assert_eq!(jsonb_text(&concat(j("1"), j("2"))), "[1, 2]");
        let mut v = j("[1,2,3]");
        set_path(
            &mut v,
            &["-5".into()],
            0,
            &j("9"),
            SetOp::Replace { create: true },
        )
        .unwrap();
        assert_eq!(jsonb_text(&v), "[9, 1, 2, 3]");
        let mut v = j("[1,2]");
        set_path(&mut v, &["-1".into()], 0, &j("9"), SetOp::InsertBefore).unwrap();
        assert_eq!(jsonb_text(&v), "[1, 9, 2]");
        let mut v = j("[1]");
        assert!(
            set_path(
                &mut v,
                &["a".into()],
                0,
                &j("9"),
                SetOp::Replace { create: true }
            )
            .is_err()
        );
        let mut v = j(r#"{"a":[1,2]}"#);
        delete_path(&mut v, &["a".into(), "0".into()], 0).unwrap();
        assert_eq!(jsonb_text(&v), r#"{"a": [2]}"#);
    }

    #[test]
    fn pretty_and_builders() {
        assert_eq!(pretty(&j("[]")), "[\n]");
        assert_eq!(
            pretty(&j(r#"{"a":[1,{}]}"#)),
            "{\n    \"a\": [\n        1,\n        {\n        }\n    ]\n}"
        );
        assert_eq!(
            build_object(&[Some("a".into()), Some("1".into()), Some("b".into()), None]).unwrap(),
            r#"{"a" : 1, "b" : null}"#
        );
        assert!(build_object(&[None, Some("1".into())]).is_err());
        assert_eq!(build_array(&[Some("1".into()), None]), "[1, null]");
    }

    #[test]
    fn items_and_errors() {
        let src = r#"{"a": [1,  2], "b": "x"}"#;
        let n = jsonparse::parse(src).unwrap();
        assert_eq!(
            items(src, &n, "json_each").unwrap(),
            r#"{"a":"[1,  2]","b":"\"x\""}"#
        );
        assert!(items(src, &n, "json_array_elements").is_err());
        let e = items("1", &jsonparse::parse("1").unwrap(), "jsonb_each").unwrap_err();
        assert_eq!(e.message, "cannot call jsonb_each on a non-object");
    }
}
