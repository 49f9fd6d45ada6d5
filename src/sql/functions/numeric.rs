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
pub(super) enum Num {
    Dec(BigDecimal),
    NaN,
    Inf(bool),
}

pub(super) fn arg(v: ValueRef<'_>) -> rusqlite::Result<Option<Num>> {
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

pub(super) fn out(n: Num) -> String {
    match n {
        Num::Dec(d) => canonical(&d),
        Num::NaN => "NaN".into(),
        Num::Inf(false) => "Infinity".into(),
        Num::Inf(true) => "-Infinity".into(),
    }
}

pub(super) fn scale(d: &BigDecimal) -> i64 {
    d.fractional_digit_count().max(0)
}

/// Base-10000 weight and first digit group of a decimal (PostgreSQL's NumericVar view).
pub(super) fn weight_and_first(d: &BigDecimal) -> (i64, i64) {
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
pub(super) fn div_scale(a: &BigDecimal, b: &BigDecimal) -> i64 {
    let (w1, f1) = weight_and_first(a);
    let (w2, f2) = weight_and_first(b);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    let rscale = 16 - qweight * 4;
    rscale.max(scale(a)).max(scale(b)).clamp(0, 1000)
}

/// a / b rounded to `s` decimal places with exact integer arithmetic (BigDecimal's own
/// division stops at 100 significant digits). `Down` truncates; anything else rounds half
/// away from zero, as PostgreSQL's numeric rounding does. `b` must not be zero.
pub(super) fn div_scaled(a: &BigDecimal, b: &BigDecimal, s: i64, mode: RoundingMode) -> BigDecimal {
    use bigdecimal::num_bigint::{BigInt, Sign};
    let (ai, asc) = a.as_bigint_and_exponent();
    let (bi, bsc) = b.as_bigint_and_exponent();
    if bi.sign() == Sign::NoSign {
        return BigDecimal::zero();
    }
    let e = s - asc + bsc;
    let ten = BigInt::from(10);
    let (num, den) = if e >= 0 {
        (ai * ten.pow(e as u32), bi)
    } else {
        (ai, bi * ten.pow((-e) as u32))
    };
    let q = &num / &den;
    let r = &num % &den;
    let q = if mode == RoundingMode::Down || r.sign() == Sign::NoSign {
        q
    } else {
        let twice: BigInt = r.magnitude().clone().into();
        let twice = twice * 2;
        let den_mag: BigInt = den.magnitude().clone().into();
        if twice >= den_mag {
            if (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus) {
                q - 1
            } else {
                q + 1
            }
        } else {
            q
        }
    };
    BigDecimal::new(q, s)
}

pub(super) fn div(a: &BigDecimal, b: &BigDecimal) -> rusqlite::Result<BigDecimal> {
    if b.is_zero() {
        return Err(udf_err(PgError::new(
            code::DIVISION_BY_ZERO,
            "division by zero",
        )));
    }
    let s = div_scale(a, b);
    Ok(div_scaled(a, b, s, RoundingMode::HalfUp))
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
                let q = div_scaled(&x, &y, 0, RoundingMode::Down);
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
        let s = f.get::<i64>(1)?.clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE);
        Ok(Some(match n {
            Num::Dec(d) => canonical(&d.with_scale_round(s, RoundingMode::HalfUp)),
            other => out(other),
        }))
    })?;
    conn.create_scalar_function("pg_num_trunc", 2, DET, |f| {
        let Some(n) = arg(f.get_raw(0))? else {
            return Ok(None);
        };
        let s = f.get::<i64>(1)?.clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE);
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
    register_more(conn)?;
    conn.create_window_function("pg_num_sum", 1, DET, Sum)?;
    conn.create_window_function("pg_num_avg", 1, DET, Avg)?;
    let _ = Value::Null;
    Ok(())
}

/// PostgreSQL's NUMERIC_MAX_RESULT_SCALE: `round`/`trunc` clamp their scale to it.
const MAX_RESULT_SCALE: i64 = 2000;

/// Square root rounded half-up to `rscale` digits, exactly (integer square root).
pub(super) fn sqrt_scaled(d: &BigDecimal, rscale: i64) -> BigDecimal {
    use bigdecimal::num_bigint::BigInt;
    let r = rscale + 1;
    let (int, sc) = d.as_bigint_and_exponent();
    let shift = 2 * r - sc;
    let scaled = if shift >= 0 {
        int * BigInt::from(10).pow(shift as u32)
    } else {
        int / BigInt::from(10).pow((-shift) as u32)
    };
    BigDecimal::new(scaled.sqrt(), r).with_scale_round(rscale, RoundingMode::HalfUp)
}

/// PostgreSQL's result scale for `sqrt(numeric)`.
pub(super) fn sqrt_rscale(d: &BigDecimal) -> i64 {
    let (weight, _) = weight_and_first(d);
    let sweight = (weight + 1) * 4 / 2 - 1;
    (16 - sweight).max(scale(d)).clamp(0, 1000)
}

fn num_sqrt(n: Num) -> rusqlite::Result<Num> {
    Ok(match n {
        Num::Dec(d) => {
            if d < BigDecimal::zero() {
                return Err(udf_err(PgError::new(
                    super::xcode::INVALID_ARGUMENT_FOR_POWER,
                    "cannot take square root of a negative number",
                )));
            }
            let rs = sqrt_rscale(&d);
            Num::Dec(sqrt_scaled(&d, rs))
        }
        Num::Inf(true) => {
            return Err(udf_err(PgError::new(
                super::xcode::INVALID_ARGUMENT_FOR_POWER,
                "cannot take square root of a negative number",
            )));
        }
        other => other,
    })
}

fn gcd_dec(a: &BigDecimal, b: &BigDecimal) -> BigDecimal {
    let s = scale(a).max(scale(b));
    let (mut x, mut y) = (a.abs().with_scale(s), b.abs().with_scale(s));
    while !y.is_zero() {
        let q = div_scaled(&x, &y, 0, RoundingMode::Down);
        let r = (&x - q * &y).with_scale(s);
        x = y;
        y = r;
    }
    x.with_scale(s)
}

fn num_gcd_lcm(a: Num, b: Num, lcm: bool) -> Num {
    match (a, b) {
        (Num::Dec(x), Num::Dec(y)) => {
            let s = scale(&x).max(scale(&y));
            if !lcm {
                return Num::Dec(gcd_dec(&x, &y));
            }
            if x.is_zero() || y.is_zero() {
                return Num::Dec(BigDecimal::zero().with_scale(s));
            }
            let g = gcd_dec(&x, &y);
            let q = div_scaled(&x, &g, 0, RoundingMode::Down);
            Num::Dec((q * y).abs().with_scale(s))
        }
        _ => Num::NaN,
    }
}

fn num_width_bucket(op: Num, b1: Num, b2: Num, count: i64) -> rusqlite::Result<i64> {
    let e = |m: &str| {
        udf_err(PgError::new(
            super::xcode::INVALID_ARGUMENT_FOR_WIDTH_BUCKET,
            m.to_string(),
        ))
    };
    if count <= 0 {
        return Err(e("count must be greater than zero"));
    }
    if count > i32::MAX as i64 {
        return Err(udf_err(PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            "integer out of range",
        )));
    }
    let (op, b1, b2) = match (op, b1, b2) {
        (Num::Dec(o), Num::Dec(a), Num::Dec(b)) => (o, a, b),
        (Num::NaN, _, _) | (_, Num::NaN, _) | (_, _, Num::NaN) => {
            return Err(e("operand, lower bound, and upper bound cannot be NaN"));
        }
        (_, Num::Inf(_), _) | (_, _, Num::Inf(_)) => {
            return Err(e("lower and upper bounds must be finite"));
        }
        (Num::Inf(neg), a, b) => {
            let asc = matches!((&a, &b), (Num::Dec(x), Num::Dec(y)) if x < y);
            return Ok(if neg == asc { 0 } else { count + 1 });
        }
    };
    let c = BigDecimal::from(count);
    let bucket = |num: BigDecimal, den: BigDecimal| -> i64 {
        let q = div_scaled(&(num * &c), &den, 0, RoundingMode::Down);
        q.to_string().parse::<i64>().unwrap_or(count - 1) + 1
    };
    let r = match b1.cmp(&b2) {
        std::cmp::Ordering::Less => {
            if op < b1 {
                0
            } else if op >= b2 {
                count + 1
            } else {
                bucket(&op - &b1, &b2 - &b1)
            }
        }
        std::cmp::Ordering::Greater => {
            if op > b1 {
                0
            } else if op <= b2 {
                count + 1
            } else {
                bucket(&b1 - &op, &b1 - &b2)
            }
        }
        std::cmp::Ordering::Equal => return Err(e("lower bound cannot equal upper bound")),
    };
    if r > i32::MAX as i64 {
        return Err(udf_err(PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            "integer out of range",
        )));
    }
    Ok(r)
}

/// Digits after the point once trailing zeros are dropped (`min_scale`).
fn min_scale(d: &BigDecimal) -> i64 {
    let plain = canonical(d);
    match plain.split_once('.') {
        Some((_, frac)) => frac.trim_end_matches('0').len() as i64,
        None => 0,
    }
}

fn register_more(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    for (name, mode) in [
        ("pg_num_ceil", RoundingMode::Ceiling),
        ("pg_num_floor", RoundingMode::Floor),
    ] {
        conn.create_scalar_function(name, 1, DET, move |f| {
            Ok(arg(f.get_raw(0))?.map(|n| {
                out(match n {
                    Num::Dec(d) => Num::Dec(d.with_scale_round(0, mode)),
                    other => other,
                })
            }))
        })?;
    }
    conn.create_scalar_function("pg_num_sqrt", 1, DET, |f| match arg(f.get_raw(0))? {
        None => Ok(None),
        Some(n) => Ok(Some(out(num_sqrt(n)?))),
    })?;
    for (name, lcm) in [("pg_num_gcd", false), ("pg_num_lcm", true)] {
        conn.create_scalar_function(name, 2, DET, move |f| {
            match (arg(f.get_raw(0))?, arg(f.get_raw(1))?) {
                (Some(a), Some(b)) => Ok(Some(out(num_gcd_lcm(a, b, lcm)))),
                _ => Ok(None),
            }
        })?;
    }
    conn.create_scalar_function("pg_num_width_bucket", 4, DET, |f| {
        match (
            arg(f.get_raw(0))?,
            arg(f.get_raw(1))?,
            arg(f.get_raw(2))?,
            super::int_arg(f, 3)?,
        ) {
            (Some(o), Some(a), Some(b), Some(n)) => num_width_bucket(o, a, b, n).map(Some),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_num_scale", 1, DET, |f| {
        Ok(match arg(f.get_raw(0))? {
            Some(Num::Dec(d)) => Some(scale(&d)),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_num_min_scale", 1, DET, |f| {
        Ok(match arg(f.get_raw(0))? {
            Some(Num::Dec(d)) => Some(min_scale(&d)),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_num_trim_scale", 1, DET, |f| {
        Ok(arg(f.get_raw(0))?.map(|n| {
            out(match n {
                Num::Dec(d) => {
                    let s = min_scale(&d);
                    Num::Dec(d.with_scale(s))
                }
                other => other,
            })
        }))
    })?;
    // pg_num_sign: -1, 0, 1 as numeric (NaN stays NaN).
    conn.create_scalar_function("pg_num_sign", 1, DET, |f| {
        Ok(arg(f.get_raw(0))?.map(|n| match n {
            Num::Dec(d) => {
                if d.is_zero() {
                    "0".to_string()
                } else if d < BigDecimal::zero() {
                    "-1".to_string()
                } else {
                    "1".to_string()
                }
            }
            Num::Inf(true) => "-1".to_string(),
            Num::Inf(false) => "1".to_string(),
            Num::NaN => "NaN".to_string(),
        }))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_like_postgres() {
        let d = |s: &str| BigDecimal::from_str(s).unwrap();
        let f = |s: &str| {
            let x = d(s);
            canonical(&sqrt_scaled(&x, sqrt_rscale(&x)))
        };
        assert_eq!(f("2.0"), "1.414213562373095");
        assert_eq!(f("100.0"), "10.000000000000000");
        assert_eq!(f("0.0"), "0.000000000000000");
        assert_eq!(f("1e-20"), "0.0000000001000000000000000");
        assert_eq!(f("12345678901234567890.0"), "3513641828.8201443");
        assert_eq!(f("0.0001"), "0.01000000000000000");
        assert_eq!(f("100"), "10.000000000000000");
    }

    #[test]
    fn gcd_width_bucket() {
        let d = |s: &str| Num::Dec(BigDecimal::from_str(s).unwrap());
        assert_eq!(out(num_gcd_lcm(d("12.5"), d("5"), false)), "2.5");
        assert_eq!(out(num_gcd_lcm(d("1.5"), d("2.25"), true)), "4.50");
        assert_eq!(out(num_gcd_lcm(d("0.0"), d("0"), false)), "0.0");
        assert_eq!(
            num_width_bucket(d("5.35"), d("0.024"), d("10.06"), 5).unwrap(),
            3
        );
        assert_eq!(num_width_bucket(d("10.0"), d("0"), d("10"), 3).unwrap(), 4);
        assert!(num_width_bucket(Num::NaN, d("0"), d("10"), 3).is_err());
        assert_eq!(min_scale(&BigDecimal::from_str("1.230").unwrap()), 2);
    }

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
        assert_eq!(
            canonical(&div(&d("6"), &d("6")).unwrap()),
            "1.00000000000000000000"
        );
        assert_eq!(
            canonical(&div(&d("-2"), &d("3")).unwrap()),
            "-0.66666666666666666667"
        );
        let big = d(&"7".repeat(150));
        let q = div_scaled(&big, &d("7"), 0, RoundingMode::Down);
        assert_eq!(canonical(&q), "1".repeat(150));
    }
}
