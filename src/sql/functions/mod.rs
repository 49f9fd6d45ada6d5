//! SQL functions registered on every SQLite connection so that translated statements behave like
//! PostgreSQL. Functions that would be non-deterministic (clock, random) read their inputs from
//! the connection's `ExecContext`, which the executor fills from the statement's replicated
//! `StmtCtx`: every node computes the same values.

mod aggregates;
mod arrays;
mod bytes;
mod calendar;
mod catalog;
mod datetime;
mod format;
mod formatting;
#[cfg(test)]
mod fuzz_tests;
mod json;
mod jsonparse;
mod math;
mod numeric;
mod regex;
mod sequence;
mod series;
mod text;

pub use text::quote_ident;
mod transcendental;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error as SqlError};

use super::datetime::Zone;
use super::types::PgType;
use super::values::{self, OutputStyle};
use crate::error::{PgError, PgResult, code};
use crate::log::{SeqRun, StmtCtx};

/// Per-connection inputs of the non-deterministic functions, plus session state that SQL
/// functions read or change (`currval`, settings).
#[derive(Debug)]
pub struct ExecContext {
    pub txn_time: NaiveDateTime,
    pub stmt_time: NaiveDateTime,
    rng: u64,
    pub zone: Zone,
    /// The name `zone` was parsed from.
    zone_name: String,
    /// `currval` per sequence oid, and `lastval`, for the session running on this connection.
    pub currval: HashMap<u32, i64>,
    pub lastval: Option<i64>,
    /// Highest value handed out per sequence in the current write transaction; a rollback
    /// re-applies them so values are never reused (sequences are not transactional).
    pub seq_high: HashMap<u32, i64>,
    /// Values `nextval()` must hand out again (a replayed or followed statement), per sequence.
    seq_replay: HashMap<u32, std::collections::VecDeque<(SeqRun, u32)>>,
    /// Values `nextval()` handed out during the current statement.
    seq_drawn: Vec<SeqRun>,
    /// The statement's transaction id (`txid_current()`).
    pub txid: i64,
    /// Session settings visible to `current_setting()`.
    pub settings: HashMap<String, String>,
    /// Settings changed by `set_config()` during the statement, for the session to apply.
    pub set_config_calls: Vec<(String, String, bool)>,
}

impl Default for ExecContext {
    fn default() -> Self {
        let now = chrono::Utc::now().naive_utc();
        ExecContext {
            txn_time: now,
            stmt_time: now,
            rng: 0x9E37_79B9_7F4A_7C15,
            zone: Zone::UTC,
            zone_name: "UTC".into(),
            currval: HashMap::new(),
            lastval: None,
            seq_high: HashMap::new(),
            seq_replay: HashMap::new(),
            seq_drawn: Vec::new(),
            txid: 0,
            settings: HashMap::new(),
            set_config_calls: Vec::new(),
        }
    }
}

impl ExecContext {
    /// Load the replicated inputs of one statement.
    pub fn load(&mut self, c: &StmtCtx) {
        self.txn_time = micros_to_naive(c.txn_micros);
        self.stmt_time = micros_to_naive(c.stmt_micros);
        self.rng = c.seed;
        // Looking a zone up by name scans the zone table: only do it when the name changes.
        if c.zone != self.zone_name {
            self.zone = Zone::parse(&c.zone).unwrap_or(Zone::UTC);
            self.zone_name = c.zone.clone();
        }
        self.seq_replay.clear();
        self.seq_drawn.clear();
        self.txid = c.txid;
        for r in &c.seq {
            self.seq_replay.entry(r.oid).or_default().push_back((*r, 0));
        }
    }

    /// The value `nextval()` of sequence `oid` must hand out again, if the statement is being
    /// re-executed with recorded values.
    pub fn replayed_value(&mut self, oid: u32) -> Option<i64> {
        let q = self.seq_replay.get_mut(&oid)?;
        let (run, used) = q.front_mut()?;
        let v = run.value(*used);
        *used += 1;
        if *used >= run.count {
            q.pop_front();
        }
        Some(v)
    }

    /// Note a value `nextval()` handed out.
    pub fn drew(&mut self, oid: u32, v: i64) {
        SeqRun::push(&mut self.seq_drawn, oid, v);
    }

    /// The values handed out since the statement started.
    pub fn take_drawn(&mut self) -> Vec<SeqRun> {
        self.seq_replay.clear();
        std::mem::take(&mut self.seq_drawn)
    }

    /// splitmix64: a small, well-distributed deterministic stream.
    pub fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn style(&self) -> OutputStyle {
        OutputStyle {
            zone: self.zone,
            ..OutputStyle::default()
        }
    }
}

pub fn micros_to_naive(m: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(m)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

pub fn naive_to_micros(t: &NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

pub type Shared = Arc<Mutex<ExecContext>>;

/// The error type our functions hand to SQLite: its text carries the SQLSTATE.
#[derive(Debug)]
struct UdfError(String);

impl std::fmt::Display for UdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UdfError {}

pub(crate) fn udf_err(e: PgError) -> SqlError {
    SqlError::UserFunctionError(Box::new(UdfError(e.to_udf_message())))
}

pub(crate) fn lock(ctx: &Shared) -> std::sync::MutexGuard<'_, ExecContext> {
    // A panic while holding the lock cannot leave ExecContext inconsistent in a way that
    // matters (it holds plain values), so recover from poisoning.
    ctx.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn text_arg(c: &Context<'_>, i: usize) -> Option<String> {
    match c.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(v) => Some(values::format_float(v, false)),
        ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

/// An integer argument (NULL as None). Integral reals are accepted; other text is rejected
/// with PostgreSQL's integer input error.
pub(crate) fn int_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    match c.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v)),
        ValueRef::Real(f) => {
            let r = f.round_ties_even();
            if r.is_finite() && r >= i64::MIN as f64 && r <= i64::MAX as f64 {
                Ok(Some(r as i64))
            } else {
                Err(udf_err(PgError::new(
                    code::NUMERIC_VALUE_OUT_OF_RANGE,
                    "integer out of range",
                )))
            }
        }
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            s.trim().parse::<i64>().map(Some).map_err(|_| {
                udf_err(PgError::new(
                    code::INVALID_TEXT_REPRESENTATION,
                    format!("invalid input syntax for type integer: \"{s}\""),
                ))
            })
        }
    }
}

/// A float argument (NULL as None).
pub(crate) fn float_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<f64>> {
    match c.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v as f64)),
        ValueRef::Real(f) => Ok(Some(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            values::parse_float(&s, "double precision")
                .map(Some)
                .map_err(udf_err)
        }
    }
}

/// SQLSTATEs our functions raise that the shared error table does not list.
pub(crate) mod xcode {
    pub const NULL_VALUE_NOT_ALLOWED: &str = "22004";
    pub const SUBSTRING_ERROR: &str = "22011";
    pub const INVALID_ARGUMENT_FOR_LOG: &str = "2201E";
    pub const INVALID_ARGUMENT_FOR_POWER: &str = "2201F";
    pub const INVALID_ARGUMENT_FOR_WIDTH_BUCKET: &str = "2201G";
    pub const ARRAY_SUBSCRIPT_ERROR: &str = "2202E";
    pub const STATEMENT_TOO_COMPLEX: &str = "54001";
}

pub(crate) fn owned(v: ValueRef<'_>) -> Value {
    crate::store::owned(v)
}

const DET: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);
const VOLATILE: FunctionFlags = FunctionFlags::SQLITE_UTF8;

/// Register everything on a new connection.
pub fn register(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    conn.create_collation("pg_numeric", super::numeric::compare)?;
    series::register(conn)?;
    register_core(conn, ctx.clone())?;
    datetime::register(conn, ctx.clone())?;
    numeric::register(conn)?;
    sequence::register(conn, ctx.clone())?;
    regex::register(conn)?;
    text::register(conn)?;
    catalog::register(conn, ctx.clone())?;
    bytes::register(conn)?;
    format::register(conn)?;
    math::register(conn)?;
    transcendental::register(conn)?;
    arrays::register(conn, ctx.clone())?;
    json::register(conn, ctx.clone())?;
    formatting::register(conn, ctx.clone())?;
    calendar::register(conn, ctx.clone())?;
    aggregates::register(conn)?;
    Ok(())
}

fn register_core(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    // pg_row_locked(table, rowid, exclusive): SKIP LOCKED's filter. Only the writer holds
    // locks and registers the real one over this (nothing is locked anywhere else).
    conn.create_scalar_function("pg_row_locked", 3, VOLATILE, |_| Ok(false))?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_txid_current", 0, VOLATILE, move |_| {
        match lock(&c).txid {
            0 => Err(udf_err(PgError::internal(
                "txid_current() without a transaction id",
            ))),
            t => Ok(t),
        }
    })?;
    // pg_cast(value, from_oid, to_oid, typmod): a run-time PostgreSQL cast.
    let c = ctx.clone();
    conn.create_scalar_function("pg_cast", 4, DET, move |f| {
        let from = f
            .get::<i64>(1)
            .ok()
            .and_then(|o| PgType::from_oid(o as u32));
        let to = PgType::from_oid(f.get::<i64>(2)? as u32)
            .ok_or_else(|| udf_err(PgError::internal("pg_cast: unknown target type")))?;
        let typmod = f.get::<i64>(3)? as i32;
        let style = lock(&c).style();
        values::cast_value(from, to, typmod, owned(f.get_raw(0)), &style).map_err(udf_err)
    })?;
    // pg_out(value, oid): the text output of a value (for `::text` and concatenation).
    let c = ctx.clone();
    conn.create_scalar_function("pg_out", 2, DET, move |f| {
        let ty = PgType::from_oid(f.get::<i64>(1)? as u32)
            .ok_or_else(|| udf_err(PgError::internal("pg_out: unknown type")))?;
        let style = lock(&c).style();
        values::to_text(ty, f.get_raw(0), &style).map_err(udf_err)
    })?;
    // generate_series step: zero is an error in PostgreSQL (SQLite would loop forever).
    conn.create_scalar_function("pg_nonzero_step", 1, DET, |f| match f.get_raw(0) {
        ValueRef::Integer(0) => Err(udf_err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            "step size cannot equal zero",
        ))),
        v => Ok(owned(v)),
    })?;
    // Integer division and modulo that raise division_by_zero like PostgreSQL.
    conn.create_scalar_function("pg_div", 2, DET, |f| div_mod(f, false))?;
    conn.create_scalar_function("pg_mod", 2, DET, |f| div_mod(f, true))?;
    // pg_check_int(value, oid): range check for computed integers (int2/int4 overflow).
    conn.create_scalar_function("pg_check_int", 2, DET, |f| {
        let ty = PgType::from_oid(f.get::<i64>(1)? as u32).map(|t| t.scalar);
        match (f.get_raw(0), ty) {
            (ValueRef::Integer(v), Some(s)) => {
                values::check_int(s, v).map(Value::Integer).map_err(udf_err)
            }
            (ValueRef::Real(_), Some(s)) => Err(udf_err(PgError::new(
                code::NUMERIC_VALUE_OUT_OF_RANGE,
                format!(
                    "{} out of range",
                    if s == crate::sql::types::Scalar::Int8 {
                        "bigint"
                    } else {
                        "integer"
                    }
                ),
            ))),
            (v, _) => Ok(owned(v)),
        }
    })?;
    // pg_raise(sqlstate, message): raise an error (used for checks the translator inlines).
    conn.create_scalar_function("pg_raise", 2, VOLATILE, |f| -> rusqlite::Result<Value> {
        let code_s = text_arg(f, 0).unwrap_or_default();
        let msg = text_arg(f, 1).unwrap_or_default();
        let e = PgError::from_udf_message(&format!(
            "{code_s}{}{msg}",
            crate::error::UDF_ERROR_SEPARATOR
        ))
        .unwrap_or_else(|| PgError::internal(msg));
        Err(udf_err(e))
    })?;
    // pg_notnull(value, column, table): NOT NULL for rowid-alias primary keys, which SQLite
    // would otherwise fill in by itself.
    conn.create_scalar_function("pg_notnull", 3, DET, |f| {
        if let ValueRef::Null = f.get_raw(0) {
            let col = text_arg(f, 1).unwrap_or_default();
            let table = text_arg(f, 2).unwrap_or_default();
            return Err(udf_err(
                PgError::new(
                    code::NOT_NULL_VIOLATION,
                    format!("null value in column \"{col}\" of relation \"{table}\" violates not-null constraint"),
                )
                .with_table(table)
                .with_column(col),
            ));
        }
        Ok(owned(f.get_raw(0)))
    })?;
    // random() in [0,1) and gen_random_uuid(), from the replicated seed.
    let c = ctx.clone();
    conn.create_scalar_function("pg_random", 0, VOLATILE, move |_| {
        let v = lock(&c).next_u64();
        Ok((v >> 11) as f64 / (1u64 << 53) as f64)
    })?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_gen_random_uuid", 0, VOLATILE, move |_| {
        let mut g = lock(&c);
        let (a, b) = (g.next_u64(), g.next_u64());
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
        Ok(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    })?;
    // current_setting(name[, missing_ok]) reads the session settings.
    for n in [1, 2] {
        let c = ctx.clone();
        conn.create_scalar_function("pg_current_setting", n, VOLATILE, move |f| {
            let name = text_arg(f, 0).unwrap_or_default().to_ascii_lowercase();
            let missing_ok = n == 2 && f.get::<bool>(1).unwrap_or(false);
            let g = lock(&c);
            match g.settings.get(&name) {
                Some(v) => Ok(Some(v.clone())),
                None if missing_ok => Ok(None),
                None => Err(udf_err(PgError::new(
                    code::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                ))),
            }
        })?;
    }
    // set_config(name, value, is_local): recorded for the session to apply after the statement.
    let c = ctx;
    conn.create_scalar_function("pg_set_config", 3, VOLATILE, move |f| {
        let name = text_arg(f, 0).unwrap_or_default().to_ascii_lowercase();
        let value = text_arg(f, 1).unwrap_or_default();
        let local = f.get::<bool>(2).unwrap_or(false);
        let mut g = lock(&c);
        g.settings.insert(name.clone(), value.clone());
        g.set_config_calls.push((name, value.clone(), local));
        Ok(value)
    })?;
    Ok(())
}

fn div_mod(f: &Context<'_>, modulo: bool) -> rusqlite::Result<Value> {
    let (a, b) = (f.get_raw(0), f.get_raw(1));
    let zero = || udf_err(PgError::new(code::DIVISION_BY_ZERO, "division by zero"));
    Ok(match (a, b) {
        (ValueRef::Null, _) | (_, ValueRef::Null) => Value::Null,
        (ValueRef::Integer(x), ValueRef::Integer(y)) => {
            if y == 0 {
                return Err(zero());
            }
            if modulo {
                Value::Integer(x.wrapping_rem(y))
            } else {
                match x.checked_div(y) {
                    Some(v) => Value::Integer(v),
                    None => {
                        return Err(udf_err(PgError::new(
                            code::NUMERIC_VALUE_OUT_OF_RANGE,
                            "bigint out of range",
                        )));
                    }
                }
            }
        }
        (x, y) => {
            let fx = as_f64(x);
            let fy = as_f64(y);
            match (fx, fy) {
                (Some(_), Some(0.0)) => return Err(zero()),
                (Some(n), Some(d)) => Value::Real(if modulo { n % d } else { n / d }),
                _ => Value::Null,
            }
        }
    })
}

pub(crate) fn as_f64(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// Turn a PgResult into what a registered function returns.
pub(crate) fn sql_result<T>(r: PgResult<T>) -> rusqlite::Result<T> {
    r.map_err(udf_err)
}
