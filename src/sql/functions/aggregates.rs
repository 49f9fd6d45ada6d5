//! Aggregates PostgreSQL has and SQLite lacks: `array_agg`, `sum(interval)`, `json_agg` /
//! `json_object_agg` (PostgreSQL's `json` spacing), and the variance family — float inputs with
//! PostgreSQL's Youngs-Cramer accumulation, integer and numeric inputs exactly, with numeric
//! results at PostgreSQL's scales. Those that can remove rows are also window functions.

use std::collections::VecDeque;

use bigdecimal::{BigDecimal, Zero};
use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, WindowAggregate};
use rusqlite::types::Value;

use super::numeric::{Num, arg as num_arg, div_scale, div_scaled, out as num_out, sqrt_scaled};
use super::{DET, float_arg, owned, text_arg, udf_err};
use crate::error::{PgError, code};
use crate::sql::datetime::{self as dt, Interval};
use crate::sql::values;

// ---- array_agg ----

struct ArrayAgg;

impl Aggregate<VecDeque<Value>, Option<String>> for ArrayAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<VecDeque<Value>> {
        Ok(VecDeque::new())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut VecDeque<Value>) -> rusqlite::Result<()> {
        acc.push_back(owned(c.get_raw(0)));
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<VecDeque<Value>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| array_text(&a)))
    }
}

fn array_text(a: &VecDeque<Value>) -> Option<String> {
    if a.is_empty() {
        return None;
    }
    let v: Vec<Value> = a.iter().cloned().collect();
    match values::array_store(&v) {
        Value::Text(t) => Some(t),
        _ => None,
    }
}

impl WindowAggregate<VecDeque<Value>, Option<String>> for ArrayAgg {
    fn value(&self, acc: Option<&mut VecDeque<Value>>) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| array_text(a)))
    }
    fn inverse(&self, _: &mut Context<'_>, acc: &mut VecDeque<Value>) -> rusqlite::Result<()> {
        acc.pop_front();
        Ok(())
    }
}

// ---- sum(interval) ----

#[derive(Default)]
struct IvAcc {
    months: i64,
    days: i64,
    micros: i128,
    count: i64,
}

impl IvAcc {
    fn add(&mut self, c: &Context<'_>, sign: i64) -> rusqlite::Result<()> {
        let Some(s) = text_arg(c, 0) else {
            return Ok(());
        };
        let iv = dt::parse_interval(&s).map_err(udf_err)?;
        self.months += sign * iv.months as i64;
        self.days += sign * iv.days as i64;
        self.micros += sign as i128 * iv.micros as i128;
        self.count += sign;
        Ok(())
    }

    fn result(&self) -> rusqlite::Result<Option<String>> {
        if self.count == 0 {
            return Ok(None);
        }
        let range = || {
            udf_err(PgError::new(
                code::DATETIME_FIELD_OVERFLOW,
                "interval out of range",
            ))
        };
        let iv = Interval {
            months: i32::try_from(self.months).map_err(|_| range())?,
            days: i32::try_from(self.days).map_err(|_| range())?,
            micros: i64::try_from(self.micros).map_err(|_| range())?,
        };
        Ok(Some(iv.format_postgres()))
    }
}

struct IntervalSum;

impl Aggregate<IvAcc, Option<String>> for IntervalSum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<IvAcc> {
        Ok(IvAcc::default())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut IvAcc) -> rusqlite::Result<()> {
        acc.add(c, 1)
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<IvAcc>,
    ) -> rusqlite::Result<Option<String>> {
        match acc {
            Some(a) => a.result(),
            None => Ok(None),
        }
    }
}

impl WindowAggregate<IvAcc, Option<String>> for IntervalSum {
    fn value(&self, acc: Option<&mut IvAcc>) -> rusqlite::Result<Option<String>> {
        match acc {
            Some(a) => a.result(),
            None => Ok(None),
        }
    }
    fn inverse(&self, c: &mut Context<'_>, acc: &mut IvAcc) -> rusqlite::Result<()> {
        acc.add(c, -1)
    }
}

// ---- json_agg / json_object_agg ----

/// `pg_json_agg(fragment)`; `pg_json_agg_structured` for array-typed elements, which get
/// PostgreSQL's `", \n "` separator.
struct JsonAgg(bool);

#[derive(Default)]
struct JsonAcc {
    items: VecDeque<(Option<String>, Option<String>)>,
    structured: bool,
}

fn json_agg_text(a: &JsonAcc) -> Option<String> {
    if a.items.is_empty() {
        return None;
    }
    let mut out = String::from("[");
    for (i, (_, v)) in a.items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
            if a.structured && v.is_some() {
                out.push_str("\n ");
            }
        }
        out.push_str(v.as_deref().unwrap_or("null"));
    }
    out.push(']');
    Some(out)
}

impl Aggregate<JsonAcc, Option<String>> for JsonAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<JsonAcc> {
        Ok(JsonAcc {
            structured: self.0,
            ..JsonAcc::default()
        })
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut JsonAcc) -> rusqlite::Result<()> {
        acc.items.push_back((None, text_arg(c, 0)));
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<JsonAcc>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| json_agg_text(&a)))
    }
}

impl WindowAggregate<JsonAcc, Option<String>> for JsonAgg {
    fn value(&self, acc: Option<&mut JsonAcc>) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| json_agg_text(a)))
    }
    fn inverse(&self, _: &mut Context<'_>, acc: &mut JsonAcc) -> rusqlite::Result<()> {
        acc.items.pop_front();
        Ok(())
    }
}

/// `pg_json_object_agg(key, fragment)`: `{ "k" : v, ... }`.
struct JsonObjectAgg;

fn json_object_text(a: &JsonAcc) -> Option<String> {
    if a.items.is_empty() {
        return None;
    }
    let mut out = String::from("{ ");
    for (i, (k, v)) in a.items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        super::jsonparse::quote_into(k.as_deref().unwrap_or(""), &mut out);
        out.push_str(" : ");
        out.push_str(v.as_deref().unwrap_or("null"));
    }
    out.push_str(" }");
    Some(out)
}

impl Aggregate<JsonAcc, Option<String>> for JsonObjectAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<JsonAcc> {
        Ok(JsonAcc::default())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut JsonAcc) -> rusqlite::Result<()> {
        let Some(k) = text_arg(c, 0) else {
            return Err(udf_err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                "field name must not be null",
            )));
        };
        acc.items.push_back((Some(k), text_arg(c, 1)));
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<JsonAcc>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| json_object_text(&a)))
    }
}

impl WindowAggregate<JsonAcc, Option<String>> for JsonObjectAgg {
    fn value(&self, acc: Option<&mut JsonAcc>) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| json_object_text(a)))
    }
    fn inverse(&self, _: &mut Context<'_>, acc: &mut JsonAcc) -> rusqlite::Result<()> {
        acc.items.pop_front();
        Ok(())
    }
}

// ---- variance family ----

#[derive(Clone, Copy, PartialEq)]
enum VarKind {
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
}

impl VarKind {
    fn sample(self) -> bool {
        matches!(self, VarKind::VarSamp | VarKind::StddevSamp)
    }
    fn stddev(self) -> bool {
        matches!(self, VarKind::StddevSamp | VarKind::StddevPop)
    }
}

/// PostgreSQL's float8_accum state: N, Sx, Sxx (Youngs-Cramer), plus the inputs when used
/// as a window function: the accumulation is not invertible, so a frame that loses rows is
/// recomputed from its remaining inputs (as PostgreSQL restarts the aggregate).
#[derive(Default)]
struct FloatAcc {
    n: f64,
    sx: f64,
    sxx: f64,
    values: VecDeque<f64>,
    stale: bool,
}

impl FloatAcc {
    fn accum(&mut self, x: f64) -> rusqlite::Result<()> {
        let old_n = self.n;
        let old_sx = self.sx;
        self.n += 1.0;
        self.sx += x;
        if old_n > 0.0 {
            let tmp = x * self.n - self.sx;
            self.sxx += tmp * tmp / (self.n * old_n);
            if self.sx.is_infinite() || self.sxx.is_infinite() {
                if !old_sx.is_infinite() && !x.is_infinite() {
                    return Err(udf_err(PgError::new(
                        code::NUMERIC_VALUE_OUT_OF_RANGE,
                        "value out of range: overflow",
                    )));
                }
                self.sxx = f64::NAN;
            }
        } else if x.is_nan() || x.is_infinite() {
            self.sxx = f64::NAN;
        }
        Ok(())
    }

    fn refresh(&mut self) -> rusqlite::Result<()> {
        if self.stale {
            self.n = 0.0;
            self.sx = 0.0;
            self.sxx = 0.0;
            let vals: Vec<f64> = self.values.iter().copied().collect();
            for x in vals {
                self.accum(x)?;
            }
            self.stale = false;
        }
        Ok(())
    }

    fn result(&mut self, k: VarKind) -> rusqlite::Result<Option<f64>> {
        self.refresh()?;
        if self.n == 0.0 || (k.sample() && self.n <= 1.0) {
            return Ok(None);
        }
        let num = if self.sxx < 0.0 { 0.0 } else { self.sxx };
        let v = num / if k.sample() { self.n - 1.0 } else { self.n };
        Ok(Some(if k.stddev() { v.sqrt() } else { v }))
    }
}

struct FloatVar(VarKind);

impl Aggregate<FloatAcc, Option<f64>> for FloatVar {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<FloatAcc> {
        Ok(FloatAcc::default())
    }
    fn step(&self, c: &mut Context<'_>, a: &mut FloatAcc) -> rusqlite::Result<()> {
        let Some(x) = float_arg(c, 0)? else {
            return Ok(());
        };
        a.values.push_back(x);
        if !a.stale {
            a.accum(x)?;
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, a: Option<FloatAcc>) -> rusqlite::Result<Option<f64>> {
        match a {
            Some(mut a) => a.result(self.0),
            None => Ok(None),
        }
    }
}

impl WindowAggregate<FloatAcc, Option<f64>> for FloatVar {
    fn value(&self, a: Option<&mut FloatAcc>) -> rusqlite::Result<Option<f64>> {
        match a {
            Some(a) => a.result(self.0),
            None => Ok(None),
        }
    }
    fn inverse(&self, c: &mut Context<'_>, a: &mut FloatAcc) -> rusqlite::Result<()> {
        if float_arg(c, 0)?.is_some() {
            a.values.pop_front();
            a.stale = true;
        }
        Ok(())
    }
}

/// Exact N, sum(X), sum(X²) for integer and numeric inputs.
#[derive(Default)]
struct NumAcc {
    n: i64,
    sum: BigDecimal,
    sum2: BigDecimal,
    nan: i64,
    inf: i64,
}

impl NumAcc {
    fn add(&mut self, c: &Context<'_>, sign: i64) -> rusqlite::Result<()> {
        let Some(x) = num_arg(c.get_raw(0))? else {
            return Ok(());
        };
        self.n += sign;
        match x {
            Num::Dec(d) => {
                let sq = &d * &d;
                if sign > 0 {
                    self.sum += d;
                    self.sum2 += sq;
                } else {
                    self.sum -= d;
                    self.sum2 -= sq;
                }
            }
            Num::NaN => self.nan += sign,
            Num::Inf(_) => self.inf += sign,
        }
        Ok(())
    }

    fn result(&self, k: VarKind) -> rusqlite::Result<Option<String>> {
        if self.n == 0 || (k.sample() && self.n <= 1) {
            return Ok(None);
        }
        if self.nan > 0 || self.inf > 0 {
            return Ok(Some("NaN".into()));
        }
        let n = BigDecimal::from(self.n);
        let num = &n * &self.sum2 - &self.sum * &self.sum;
        if num <= BigDecimal::zero() {
            return Ok(Some("0".into()));
        }
        let den = if k.sample() {
            BigDecimal::from(self.n * (self.n - 1))
        } else {
            &n * &n
        };
        let rscale = div_scale(&num, &den);
        let var = div_scaled(&num, &den, rscale, bigdecimal::RoundingMode::HalfUp);
        let r = if k.stddev() {
            sqrt_scaled(&var, rscale)
        } else {
            var
        };
        Ok(Some(num_out(Num::Dec(r))))
    }
}

struct NumVar(VarKind);

impl Aggregate<NumAcc, Option<String>> for NumVar {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<NumAcc> {
        Ok(NumAcc::default())
    }
    fn step(&self, c: &mut Context<'_>, a: &mut NumAcc) -> rusqlite::Result<()> {
        a.add(c, 1)
    }
    fn finalize(&self, _: &mut Context<'_>, a: Option<NumAcc>) -> rusqlite::Result<Option<String>> {
        match a {
            Some(a) => a.result(self.0),
            None => Ok(None),
        }
    }
}

impl WindowAggregate<NumAcc, Option<String>> for NumVar {
    fn value(&self, a: Option<&mut NumAcc>) -> rusqlite::Result<Option<String>> {
        match a {
            Some(a) => a.result(self.0),
            None => Ok(None),
        }
    }
    fn inverse(&self, c: &mut Context<'_>, a: &mut NumAcc) -> rusqlite::Result<()> {
        a.add(c, -1)
    }
}

// ---- avg(interval) ----

/// PostgreSQL's `interval_div` by a count (used by `avg(interval)`).
fn interval_div(months: i64, days: i64, micros: i128, n: f64) -> rusqlite::Result<Interval> {
    let range = || {
        udf_err(PgError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "interval out of range",
        ))
    };
    let tsround = |x: f64| (x * 1e6).round_ties_even() / 1e6;
    let (mf, df) = (months as f64 / n, days as f64 / n);
    let month = mf as i64;
    let mut day = df as i64;
    let month_remainder_days = tsround((mf - month as f64) * 30.0);
    let mut sec_remainder = tsround(
        (df - day as f64 + month_remainder_days - (month_remainder_days as i64) as f64) * 86400.0,
    );
    if sec_remainder.abs() >= 86400.0 {
        let whole = (sec_remainder / 86400.0) as i64;
        day += whole;
        sec_remainder -= whole as f64 * 86400.0;
    }
    day += month_remainder_days as i64;
    let time = (micros as f64 / n + sec_remainder * 1e6).round_ties_even();
    Ok(Interval {
        months: i32::try_from(month).map_err(|_| range())?,
        days: i32::try_from(day).map_err(|_| range())?,
        micros: if time.is_finite() && time.abs() < 9.2e18 {
            time as i64
        } else {
            return Err(range());
        },
    })
}

struct IntervalAvg;

impl IvAcc {
    fn avg(&self) -> rusqlite::Result<Option<String>> {
        if self.count == 0 {
            return Ok(None);
        }
        let iv = interval_div(self.months, self.days, self.micros, self.count as f64)?;
        Ok(Some(iv.format_postgres()))
    }
}

impl Aggregate<IvAcc, Option<String>> for IntervalAvg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<IvAcc> {
        Ok(IvAcc::default())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut IvAcc) -> rusqlite::Result<()> {
        acc.add(c, 1)
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<IvAcc>,
    ) -> rusqlite::Result<Option<String>> {
        match acc {
            Some(a) => a.avg(),
            None => Ok(None),
        }
    }
}

impl WindowAggregate<IvAcc, Option<String>> for IntervalAvg {
    fn value(&self, acc: Option<&mut IvAcc>) -> rusqlite::Result<Option<String>> {
        match acc {
            Some(a) => a.avg(),
            None => Ok(None),
        }
    }
    fn inverse(&self, c: &mut Context<'_>, acc: &mut IvAcc) -> rusqlite::Result<()> {
        acc.add(c, -1)
    }
}

// ---- bit_and / bit_or / bit_xor ----

#[derive(Clone, Copy)]
enum BitOp {
    And,
    Or,
    Xor,
}

struct BitAgg(BitOp);

impl Aggregate<Option<i64>, Option<i64>> for BitAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<i64>> {
        Ok(None)
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut Option<i64>) -> rusqlite::Result<()> {
        let Some(v) = super::int_arg(c, 0)? else {
            return Ok(());
        };
        *acc = Some(match (*acc, self.0) {
            (None, _) => v,
            (Some(a), BitOp::And) => a & v,
            (Some(a), BitOp::Or) => a | v,
            (Some(a), BitOp::Xor) => a ^ v,
        });
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Option<i64>>,
    ) -> rusqlite::Result<Option<i64>> {
        Ok(acc.flatten())
    }
}

// ---- string_agg for bytea and with DISTINCT ----

/// `pg_string_agg_bytea(value, delimiter)`.
struct BytesAgg;

impl Aggregate<Option<Vec<u8>>, Option<Vec<u8>>> for BytesAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut Option<Vec<u8>>) -> rusqlite::Result<()> {
        let Some(v) = super::text::bytes_arg(c, 0) else {
            return Ok(());
        };
        match acc {
            None => *acc = Some(v),
            Some(a) => {
                if let Some(sep) = super::text::bytes_arg(c, 1) {
                    a.extend_from_slice(&sep);
                }
                a.extend_from_slice(&v);
            }
        }
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Option<Vec<u8>>>,
    ) -> rusqlite::Result<Option<Vec<u8>>> {
        Ok(acc.flatten())
    }
}

/// `pg_string_agg_pairs(json_array(value, delimiter))`: string_agg over one argument, so that
/// SQLite's single-argument DISTINCT applies to (value, delimiter) as PostgreSQL's does.
struct PairAgg;

impl Aggregate<Option<String>, Option<String>> for PairAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<String>> {
        Ok(None)
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut Option<String>) -> rusqlite::Result<()> {
        let Some(pair) = text_arg(c, 0) else {
            return Ok(());
        };
        let Ok(serde_json::Value::Array(p)) = serde_json::from_str::<serde_json::Value>(&pair)
        else {
            return Ok(());
        };
        let text = |v: Option<&serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        let Some(v) = text(p.first()) else {
            return Ok(());
        };
        match acc {
            None => *acc = Some(v),
            Some(a) => {
                if let Some(sep) = text(p.get(1)) {
                    a.push_str(&sep);
                }
                a.push_str(&v);
            }
        }
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Option<String>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.flatten())
    }
}

// ---- ordered-set aggregates: percentile_cont / percentile_disc / mode ----

#[derive(Clone, Copy, PartialEq)]
enum OrderedSet {
    Cont,
    Disc,
    Mode,
}

/// Values arrive in the WITHIN GROUP order (SQLite's ORDER BY inside the aggregate); NULL
/// inputs are skipped as PostgreSQL does. Argument 0 is the fraction (percentiles), argument
/// 1 the value (argument 0 for `mode`).
#[derive(Default)]
struct SetAcc {
    values: Vec<Value>,
    fraction: Option<Value>,
}

struct OrderedSetAgg(OrderedSet);

fn fraction_list(v: &Value) -> rusqlite::Result<(Vec<Option<f64>>, bool)> {
    let check = |f: f64| -> rusqlite::Result<f64> {
        if !(0.0..=1.0).contains(&f) || f.is_nan() {
            return Err(udf_err(PgError::new(
                code::NUMERIC_VALUE_OUT_OF_RANGE,
                format!(
                    "percentile value {} is not between 0 and 1",
                    values::format_float(f, false)
                ),
            )));
        }
        Ok(f)
    };
    match v {
        Value::Integer(i) => Ok((vec![Some(check(*i as f64)?)], false)),
        Value::Real(f) => Ok((vec![Some(check(*f)?)], false)),
        Value::Text(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Array(a)) => {
                let mut out = Vec::new();
                for x in a {
                    out.push(match x {
                        serde_json::Value::Null => None,
                        other => Some(check(
                            other
                                .to_string()
                                .trim_matches('"')
                                .parse()
                                .unwrap_or(f64::NAN),
                        )?),
                    });
                }
                Ok((out, true))
            }
            _ => Ok((
                vec![Some(check(t.trim().parse().unwrap_or(f64::NAN))?)],
                false,
            )),
        },
        _ => Ok((vec![None], false)),
    }
}

fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

impl OrderedSetAgg {
    fn result(&self, acc: &SetAcc) -> rusqlite::Result<Value> {
        let n = acc.values.len();
        if self.0 == OrderedSet::Mode {
            let mut best: Option<(&Value, usize)> = None;
            let mut i = 0;
            while i < n {
                let mut j = i + 1;
                while j < n && acc.values[j] == acc.values[i] {
                    j += 1;
                }
                if best.is_none_or(|(_, c)| j - i > c) {
                    best = Some((&acc.values[i], j - i));
                }
                i = j;
            }
            return Ok(best.map(|(v, _)| v.clone()).unwrap_or(Value::Null));
        }
        let Some(fr) = &acc.fraction else {
            return Ok(Value::Null);
        };
        let (fractions, is_array) = fraction_list(fr)?;
        if n == 0 {
            return Ok(Value::Null);
        }
        let pick = |f: Option<f64>| -> Value {
            let Some(f) = f else {
                return Value::Null;
            };
            match self.0 {
                OrderedSet::Disc => {
                    let row = (f * n as f64).ceil() as usize;
                    acc.values[row.clamp(1, n) - 1].clone()
                }
                _ => {
                    let pos = f * (n - 1) as f64;
                    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                    let a = as_float(&acc.values[lo]).unwrap_or(f64::NAN);
                    let b = as_float(&acc.values[hi.min(n - 1)]).unwrap_or(f64::NAN);
                    Value::Real(if lo == hi {
                        a
                    } else {
                        a + (pos - lo as f64) * (b - a)
                    })
                }
            }
        };
        if is_array {
            let vals: Vec<Value> = fractions.into_iter().map(pick).collect();
            return Ok(values::array_store(&vals));
        }
        Ok(pick(fractions.into_iter().next().flatten()))
    }
}

impl Aggregate<SetAcc, Value> for OrderedSetAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<SetAcc> {
        Ok(SetAcc::default())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut SetAcc) -> rusqlite::Result<()> {
        let vi = if self.0 == OrderedSet::Mode { 0 } else { 1 };
        if self.0 != OrderedSet::Mode && acc.fraction.is_none() {
            acc.fraction = Some(owned(c.get_raw(0)));
        }
        let v = owned(c.get_raw(vi));
        if !matches!(v, Value::Null) {
            acc.values.push(v);
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<SetAcc>) -> rusqlite::Result<Value> {
        match acc {
            Some(a) => self.result(&a),
            None => Ok(Value::Null),
        }
    }
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_window_function("pg_interval_avg", 1, DET, IntervalAvg)?;
    for (name, op) in [
        ("pg_bit_and", BitOp::And),
        ("pg_bit_or", BitOp::Or),
        ("pg_bit_xor", BitOp::Xor),
    ] {
        conn.create_aggregate_function(name, 1, DET, BitAgg(op))?;
    }
    conn.create_aggregate_function("pg_string_agg_bytea", 2, DET, BytesAgg)?;
    conn.create_aggregate_function("pg_string_agg_pairs", 1, DET, PairAgg)?;
    conn.create_aggregate_function(
        "pg_percentile_cont",
        2,
        DET,
        OrderedSetAgg(OrderedSet::Cont),
    )?;
    conn.create_aggregate_function(
        "pg_percentile_disc",
        2,
        DET,
        OrderedSetAgg(OrderedSet::Disc),
    )?;
    conn.create_aggregate_function("pg_mode", 1, DET, OrderedSetAgg(OrderedSet::Mode))?;
    conn.create_window_function("pg_array_agg", 1, DET, ArrayAgg)?;
    conn.create_window_function("pg_interval_sum", 1, DET, IntervalSum)?;
    conn.create_window_function("pg_json_agg", 1, DET, JsonAgg(false))?;
    conn.create_window_function("pg_json_agg_structured", 1, DET, JsonAgg(true))?;
    conn.create_window_function("pg_json_object_agg", 2, DET, JsonObjectAgg)?;
    for (suffix, k) in [
        ("var_samp", VarKind::VarSamp),
        ("var_pop", VarKind::VarPop),
        ("stddev_samp", VarKind::StddevSamp),
        ("stddev_pop", VarKind::StddevPop),
    ] {
        conn.create_window_function(format!("pg_{suffix}").as_str(), 1, DET, FloatVar(k))?;
        conn.create_window_function(format!("pg_num_{suffix}").as_str(), 1, DET, NumVar(k))?;
    }
    Ok(())
}
