//! Exact `numeric` arithmetic and aggregates over canonical decimal text, with PostgreSQL's
//! result scales (`select_div_scale` for division and `avg`).

use std::str::FromStr;

use bigdecimal::{BigDecimal, RoundingMode, Zero};
use rusqlite::functions::{Aggregate, Context, WindowAggregate};
use rusqlite::types::{Value, ValueRef};

use super::{DET, udf_err};
use crate::error::{PgError, code};
use crate::sql::numeric::canonical;

/// A numeric operand: a decimal, or one of PostgreSQL's special values.
#[derive(Debug, Clone)]
enum Num {
    Dec(BigDecimal),
    NaN,
    Inf(bool),
}

fn arg(v: ValueRef<'_>) -> rusqlite::Result<Option<Num>> {
    let bad = |s: &str| {
        udf_err(PgError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type numeric: \"{s}\""),
        ))
    };
    Ok(Some(match v {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(i) => Num::Dec(BigDecimal::from(i)),
        ValueRef::Real(f) => {
            if f.is_nan() {
                Num::NaN
            } else if f.is_infinite() {
                Num::Inf(f < 0.0)
            } else {
                Num::Dec(BigDecimal::from_str(&format!("{f}")).map_err(|_| bad(&f.to_string()))?)
            }
        }
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = std::str::from_utf8(t).map_err(|_| bad("?"))?.trim();
            match s {
                "NaN" => Num::NaN,
                "Infinity" => Num::Inf(false),
                "-Infinity" => Num::Inf(true),
                _ => Num::Dec(BigDecimal::from_str(s).map_err(|_| bad(s))?),
            }
        }
    }))
}

fn out(n: Num) -> String {
    match n {
        Num::Dec(d) => canonical(&d),
        Num::NaN => "NaN".into(),
        Num::Inf(false) => "Infinity".into(),
        Num::Inf(true) => "-Infinity".into(),
    }
}

fn scale(d: &BigDecimal) -> i64 {
    d.fractional_digit_count().max(0)
}

/// Base-10000 weight and first digit group of a decimal (PostgreSQL's NumericVar view).
fn weight_and_first(d: &BigDecimal) -> (i64, i64) {
    if d.is_zero() {
        return (0, 0);
    }
    let plain = d.abs().to_plain_string();
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let int = int.trim_start_matches('0');
    if !int.is_empty() {
        let groups = (int.len() as i64 + 3) / 4;
        let lead = int.len() % 4;
        let first_len = if lead == 0 { 4 } else { lead };
        (groups - 1, int[..first_len].parse().unwrap_or(0))
    } else {
        let zeros = frac.len() - frac.trim_start_matches('0').len();
        let group = zeros / 4;
        let mut g: String = frac.chars().skip(group * 4).take(4).collect();
        while g.len() < 4 {
            g.push('0');
        }
        (-(group as i64) - 1, g.parse().unwrap_or(0))
    }
}

/// PostgreSQL's `select_div_scale`.
fn div_scale(a: &BigDecimal, b: &BigDecimal) -> i64 {
    let (w1, f1) = weight_and_first(a);
    let (w2, f2) = weight_and_first(b);
    let mut qweight = w1 - w2;
    if f1 < f2 {
        qweight -= 1;
    }
    let rscale = 16 - qweight * 4;
    rscale.max(scale(a)).max(scale(b)).clamp(0, 1000)
}

fn div(a: &BigDecimal, b: &BigDecimal) -> rusqlite::Result<BigDecimal> {
    if b.is_zero() {
        return Err(udf_err(PgError::new(
            code::DIVISION_BY_ZERO,
            "division by zero",
        )));
    }
    let s = div_scale(a, b);
    Ok((a / b).with_scale_round(s, RoundingMode::HalfUp))
}

fn binop(f: &Context<'_>, op: char) -> rusqlite::Result<Option<String>> {
    let (Some(a), Some(b)) = (arg(f.get_raw(0))?, arg(f.get_raw(1))?) else {
        return Ok(None);
    };
    let r = match (a, b) {
        (Num::NaN, _) | (_, Num::NaN) => Num::NaN,
        (Num::Dec(x), Num::Dec(y)) => Num::Dec(match op {
            '+' => x + y,
            '-' => x - y,
            '*' => {
                let s = scale(&x) + scale(&y);
                (x * y).with_scale(s)
            }
            '/' => div(&x, &y)?,
            '%' => {
                if y.is_zero() {
                    return Err(udf_err(PgError::new(
                        code::DIVISION_BY_ZERO,
                        "division by zero",
                    )));
                }
                let s = scale(&x).max(scale(&y));
                let q = (&x / &y).with_scale_round(0, RoundingMode::Down);
                (x - q * y).with_scale(s)
            }
            _ => return Ok(None),
        }),
        (Num::Inf(n), Num::Dec(y)) => match op {
            '+' | '-' => Num::Inf(n),
            '*' if y.is_zero() => Num::NaN,
            '*' | '/' => Num::Inf(n ^ (y < BigDecimal::zero())),
            _ => Num::NaN,
        },
        (Num::Dec(x), Num::Inf(n)) => match op {
            '+' => Num::Inf(n),
            '-' => Num::Inf(!n),
            '*' if x.is_zero() => Num::NaN,
            '*' => Num::Inf(n ^ (x < BigDecimal::zero())),
            '/' => Num::Dec(BigDecimal::zero()),
            _ => Num::Dec(x),
        },
        (Num::Inf(a), Num::Inf(b)) => match op {
            '+' if a == b => Num::Inf(a),
            '-' if a != b => Num::Inf(a),
            '*' => Num::Inf(a ^ b),
            _ => Num::NaN,
        },
    };
    Ok(Some(out(r)))
}

/// Three-way comparison of two numeric values (for expressions without the column collation).
fn cmp(f: &Context<'_>) -> rusqlite::Result<Option<i64>> {
    let (Some(a), Some(b)) = (arg(f.get_raw(0))?, arg(f.get_raw(1))?) else {
        return Ok(None);
    };
    let ord = crate::sql::numeric::compare(&out(a), &out(b));
    Ok(Some(ord as i64))
}

/// Running state of `sum(numeric)` / `avg(numeric)`.
#[derive(Default)]
pub(super) struct Acc {
    sum: BigDecimal,
    count: i64,
    nan: bool,
    pinf: i64,
    ninf: i64,
}

impl Acc {
    fn add(&mut self, n: Num, sign: i64) {
        match n {
            Num::Dec(d) => {
                if sign > 0 {
                    self.sum += d
                } else {
                    self.sum -= d
                }
            }
            Num::NaN => self.nan = sign > 0,
            Num::Inf(false) => self.pinf += sign,
            Num::Inf(true) => self.ninf += sign,
        }
        self.count += sign;
    }

    fn special(&self) -> Option<Num> {
        if self.nan || (self.pinf > 0 && self.ninf > 0) {
            Some(Num::NaN)
        } else if self.pinf > 0 {
            Some(Num::Inf(false))
        } else if self.ninf > 0 {
            Some(Num::Inf(true))
        } else {
            None
        }
    }
}

struct Sum;
struct Avg;

impl Aggregate<Acc, Option<String>> for Sum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Acc> {
        Ok(Acc::default())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut Acc) -> rusqlite::Result<()> {
        if let Some(n) = arg(c.get_raw(0))? {
            acc.add(n, 1);
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<Acc>) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| Sum::value_of(&a)))
    }
}

impl Sum {
    fn value_of(a: &Acc) -> Option<String> {
        if a.count == 0 {
            return None;
        }
        Some(out(a.special().unwrap_or_else(|| Num::Dec(a.sum.clone()))))
    }
}

impl WindowAggregate<Acc, Option<String>> for Sum {
    fn value(&self, acc: Option<&mut Acc>) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| Sum::value_of(a)))
    }
    fn inverse(&self, c: &mut Context<'_>, acc: &mut Acc) -> rusqlite::Result<()> {
        if let Some(n) = arg(c.get_raw(0))? {
            acc.add(n, -1);
        }
        Ok(())
    }
}

impl Avg {
    fn value_of(a: &Acc) -> rusqlite::Result<Option<String>> {
        if a.count == 0 {
            return Ok(None);
        }
        if let Some(s) = a.special() {
            return Ok(Some(out(s)));
        }
        Ok(Some(canonical(&div(&a.sum, &BigDecimal::from(a.count))?)))
    }
}

impl Aggregate<Acc, Option<String>> for Avg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Acc> {
        Ok(Acc::default())
    }
    fn step(&self, c: &mut Context<'_>, acc: &mut Acc) -> rusqlite::Result<()> {
        if let Some(n) = arg(c.get_raw(0))? {
            acc.add(n, 1);
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<Acc>) -> rusqlite::Result<Option<String>> {
        match acc {
            Some(a) => Avg::value_of(&a),
            None => Ok(None),
        }
    }
}

impl WindowAggregate<Acc, Option<String>> for Avg {
    fn value(&self, acc: Option<&mut Acc>) -> rusqlite::Result<Option<String>> {
        match acc {
            Some(a) => Avg::value_of(a),
            None => Ok(None),
        }
    }
    fn inverse(&self, c: &mut Context<'_>, acc: &mut Acc) -> rusqlite::Result<()> {
        if let Some(n) = arg(c.get_raw(0))? {
            acc.add(n, -1);
        }
        Ok(())
    }
}

pub(super) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    for (name, op) in [
        ("pg_num_add", '+'),
        ("pg_num_sub", '-'),
        ("pg_num_mul", '*'),
        ("pg_num_div", '/'),
        ("pg_num_mod", '%'),
    ] {
        conn.create_scalar_function(name, 2, DET, move |f| binop(f, op))?;
    }
    conn.create_scalar_function("pg_num_cmp", 2, DET, cmp)?;
    // pg_num(x): any number or numeric text as canonical numeric text.
    conn.create_scalar_function("pg_num", 1, DET, |f| Ok(arg(f.get_raw(0))?.map(out)))?;
    // pg_num_round(x, scale): round half away from zero, as PostgreSQL's round(numeric, int).
    conn.create_scalar_function("pg_num_round", 2, DET, |f| {
        let Some(n) = arg(f.get_raw(0))? else {
            return Ok(None);
        };
        let s: i64 = f.get(1)?;
        Ok(Some(match n {
            Num::Dec(d) => canonical(&d.with_scale_round(s, RoundingMode::HalfUp)),
            other => out(other),
        }))
    })?;
    conn.create_scalar_function("pg_num_trunc", 2, DET, |f| {
        let Some(n) = arg(f.get_raw(0))? else {
            return Ok(None);
        };
        let s: i64 = f.get(1)?;
        Ok(Some(match n {
            Num::Dec(d) => canonical(&d.with_scale_round(s, RoundingMode::Down)),
            other => out(other),
        }))
    })?;
    conn.create_scalar_function("pg_num_neg", 1, DET, |f| {
        Ok(arg(f.get_raw(0))?.map(|n| {
            out(match n {
                Num::Dec(d) => Num::Dec(-d),
                Num::Inf(s) => Num::Inf(!s),
                Num::NaN => Num::NaN,
            })
        }))
    })?;
    conn.create_scalar_function("pg_num_abs", 1, DET, |f| {
        Ok(arg(f.get_raw(0))?.map(|n| {
            out(match n {
                Num::Dec(d) => Num::Dec(d.abs()),
                Num::Inf(_) => Num::Inf(false),
                Num::NaN => Num::NaN,
            })
        }))
    })?;
    conn.create_window_function("pg_num_sum", 1, DET, Sum)?;
    conn.create_window_function("pg_num_avg", 1, DET, Avg)?;
    let _ = Value::Null;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_scale() {
        let d = |s: &str| BigDecimal::from_str(s).unwrap();
        assert_eq!(
            canonical(&div(&d("1"), &d("3")).unwrap()),
            "0.33333333333333333333"
        );
        assert_eq!(
            canonical(&div(&d("3"), &d("2")).unwrap()),
            "1.5000000000000000"
        );
        assert_eq!(
            canonical(&div(&d("10"), &d("4")).unwrap()),
            "2.5000000000000000"
        );
    }
}
