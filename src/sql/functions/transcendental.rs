//! `numeric` logarithms, exponentials and powers: `ln`, `log(x)`, `log(b, x)`, `exp`, `power`
//! and `sqrt` on numeric arguments, computed in decimal with guard digits and rounded to the
//! result scale PostgreSQL chooses (`estimate_ln_dweight`, `log_var`, `exp_var`,
//! `power_var`), so the printed digits match PostgreSQL's.

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, One, RoundingMode, Signed, ToPrimitive, Zero};
use rusqlite::Connection;

use super::numeric::{Num, arg, div_scaled, out, scale, sqrt_scaled};
use super::{DET, udf_err, xcode};
use crate::error::{PgError, PgResult, code};

const MIN_SIG_DIGITS: i64 = 16;
/// log10(e) as PostgreSQL spells it (its truncation decides result scales).
#[allow(clippy::approx_constant)]
const LOG10_E: f64 = 0.434294481903252;
const MAX_DISPLAY_SCALE: i64 = 1000;
const MAX_RESULT_SCALE: i64 = 2000;

fn rnd(d: BigDecimal, s: i64) -> BigDecimal {
    d.with_scale_round(s, RoundingMode::HalfEven)
}

fn dv(a: &BigDecimal, b: &BigDecimal, s: i64) -> BigDecimal {
    div_scaled(a, b, s, RoundingMode::HalfUp)
}

fn round_result(d: BigDecimal, s: i64) -> BigDecimal {
    d.with_scale_round(s, RoundingMode::HalfUp)
}

fn pow10(n: i64) -> BigDecimal {
    BigDecimal::new(BigInt::one(), -n)
}

/// Decimal digits of the integer part plus position: x ~ 10^(e10 - 1) .. 10^e10.
fn decimal_exponent(x: &BigDecimal) -> i64 {
    let (int, sc) = x.as_bigint_and_exponent();
    let digits = int.abs().to_string().len() as i64;
    digits - sc
}

fn to_f64(x: &BigDecimal) -> f64 {
    x.to_f64().unwrap_or(0.0)
}

/// ln(m) for m in [0.01, 100] with absolute error below 10^-scale.
fn ln_near(m: &BigDecimal, scale: i64) -> BigDecimal {
    let s = scale + 12;
    let one = BigDecimal::one();
    let limit = BigDecimal::new(BigInt::one(), 2); // 0.01
    let mut y = m.clone();
    let mut k: u32 = 0;
    while (&y - &one).abs() > limit && k < 64 {
        y = sqrt_scaled(&y, s);
        k += 1;
    }
    let z = dv(&(&y - &one), &(&y + &one), s);
    let z2 = rnd(&z * &z, s);
    let mut sum = z.clone();
    let mut term = z;
    let mut n: i64 = 1;
    loop {
        term = rnd(&term * &z2, s);
        n += 2;
        let t = dv(&term, &BigDecimal::from(n), s);
        if t.is_zero() {
            break;
        }
        sum += t;
    }
    sum * BigDecimal::from(2u64 << k.min(62))
}

/// ln(x), x > 0, with absolute error below 10^-scale.
pub fn ln_dec(x: &BigDecimal, scale: i64) -> BigDecimal {
    let e10 = decimal_exponent(x);
    let j = e10.div_euclid(2);
    let extra = (j.abs().max(1) as f64).log10().ceil() as i64 + 2;
    let m = x * pow10(-2 * j);
    let mut r = ln_near(&m, scale + extra);
    if j != 0 {
        let ln10 = ln_near(&BigDecimal::from(10), scale + extra + 2);
        r += ln10 * BigDecimal::from(2 * j);
    }
    rnd(r, scale + 2)
}

/// exp(x) with `sig` significant digits.
pub fn exp_dec(x: &BigDecimal, sig: u64) -> BigDecimal {
    let xf = to_f64(x).abs();
    let k: u32 = if xf > 0.01 {
        ((xf / 0.01).log2().ceil() as u32).min(64)
    } else {
        0
    };
    let p = sig as i64 + (k as i64 * 31) / 100 + 12;
    // r = x / 2^k, exactly (1/2^k = 5^k / 10^k).
    let r = x * BigDecimal::new(BigInt::from(5u32).pow(k), k as i64);
    let r = rnd(r, p);
    let mut sum = BigDecimal::one();
    let mut term = BigDecimal::one();
    let mut n: i64 = 0;
    loop {
        n += 1;
        term = dv(&(&term * &r), &BigDecimal::from(n), p);
        if term.is_zero() {
            break;
        }
        sum += &term;
    }
    let mut y = sum;
    for _ in 0..k {
        y = (&y * &y).with_prec(p as u64);
    }
    y
}

/// PostgreSQL's estimate_ln_dweight.
fn estimate_ln_dweight(x: &BigDecimal) -> i64 {
    if *x <= BigDecimal::zero() {
        return 0;
    }
    let lo = BigDecimal::new(BigInt::from(9), 1);
    let hi = BigDecimal::new(BigInt::from(11), 1);
    if *x >= lo && *x <= hi {
        let d = x - BigDecimal::one();
        if d.is_zero() {
            return 0;
        }
        // weight of the most significant decimal digit of x - 1
        return decimal_exponent(&d.abs()) - 1;
    }
    // ln(x) ~ ln(digits) + dweight * ln(10), from the first two base-10000 digits
    let (w, groups) = nbase_digits(x);
    let Some(&first) = groups.first() else {
        return 0;
    };
    let mut digits = first as f64;
    let mut dweight = w * 4;
    if let Some(&second) = groups.get(1) {
        digits = digits * 10000.0 + second as f64;
        dweight -= 4;
    }
    let ln_var = digits.ln() + dweight as f64 * std::f64::consts::LN_10;
    ln_var.abs().log10() as i64
}

/// PostgreSQL's NumericVar view of |x|: base-10000 digits without leading or trailing zero
/// groups, and the weight of the first.
fn nbase_digits(x: &BigDecimal) -> (i64, Vec<u16>) {
    let plain = x.abs().to_plain_string();
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let int_pad = (4 - int.len() % 4) % 4;
    let int_s = format!("{}{int}", "0".repeat(int_pad));
    let frac_pad = (4 - frac.len() % 4) % 4;
    let frac_s = format!("{frac}{}", "0".repeat(frac_pad));
    let mut groups: Vec<u16> = Vec::new();
    for chunk in int_s
        .as_bytes()
        .chunks(4)
        .chain(frac_s.as_bytes().chunks(4))
    {
        let v = std::str::from_utf8(chunk)
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        groups.push(v);
    }
    let mut weight = (int_s.len() / 4) as i64 - 1;
    let lead = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..lead);
    weight -= lead as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    (weight, groups)
}

fn clamp_scale(r: i64) -> i64 {
    r.clamp(0, MAX_DISPLAY_SCALE)
}

fn log_err(x: &BigDecimal) -> Option<PgError> {
    if x.is_zero() {
        Some(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_LOG,
            "cannot take logarithm of zero",
        ))
    } else if x.is_negative() {
        Some(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_LOG,
            "cannot take logarithm of a negative number",
        ))
    } else {
        None
    }
}

/// `ln(numeric)`.
pub fn num_ln(x: Num) -> PgResult<Num> {
    match x {
        Num::NaN => Ok(Num::NaN),
        Num::Inf(false) => Ok(Num::Inf(false)),
        Num::Inf(true) => Err(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_LOG,
            "cannot take logarithm of a negative number",
        )),
        Num::Dec(d) => {
            if let Some(e) = log_err(&d) {
                return Err(e);
            }
            let rscale = clamp_scale((MIN_SIG_DIGITS - estimate_ln_dweight(&d)).max(scale(&d)));
            Ok(Num::Dec(round_result(ln_dec(&d, rscale + 8), rscale)))
        }
    }
}

/// `log(base, x)` on numerics (also `log(x)` = `log(10, x)`).
pub fn num_log(base: Num, x: Num) -> PgResult<Num> {
    let (b, n) = match (base, x) {
        (Num::NaN, _) | (_, Num::NaN) => return Ok(Num::NaN),
        (Num::Dec(b), Num::Dec(n)) => (b, n),
        (Num::Inf(true), _) | (_, Num::Inf(true)) => {
            return Err(PgError::new(
                xcode::INVALID_ARGUMENT_FOR_LOG,
                "cannot take logarithm of a negative number",
            ));
        }
        (Num::Inf(false), Num::Inf(false)) => return Ok(Num::NaN),
        (Num::Dec(b), Num::Inf(false)) => {
            if let Some(e) = log_err(&b) {
                return Err(e);
            }
            return Ok(if b < BigDecimal::one() {
                Num::Inf(true)
            } else {
                Num::Inf(false)
            });
        }
        (Num::Inf(false), Num::Dec(n)) => {
            if let Some(e) = log_err(&n) {
                return Err(e);
            }
            return Ok(Num::Dec(BigDecimal::zero()));
        }
    };
    if let Some(e) = log_err(&b).or_else(|| log_err(&n)) {
        return Err(e);
    }
    let result_dweight = estimate_ln_dweight(&n) - estimate_ln_dweight(&b);
    let rscale = clamp_scale(
        (MIN_SIG_DIGITS - result_dweight)
            .max(scale(&b))
            .max(scale(&n)),
    );
    let lb = ln_dec(&b, rscale + 12 + result_dweight.max(0));
    if lb.is_zero() {
        return Err(PgError::new(code::DIVISION_BY_ZERO, "division by zero"));
    }
    let ln = ln_dec(&n, rscale + 12 + result_dweight.max(0));
    let q = dv(&ln, &lb, rscale + 6);
    Ok(Num::Dec(round_result(q, rscale)))
}

/// Results are computed in decimal; beyond this many significant digits the work would
/// take too long inside one SQL function call, so such calls are refused.
const MAX_SIG_DIGITS: i64 = 4000;

fn too_precise(sig: i64) -> PgResult<()> {
    if sig > MAX_SIG_DIGITS {
        return Err(PgError::unsupported(format!(
            "a numeric exp/power result of {sig} significant digits (limit {MAX_SIG_DIGITS})"
        )));
    }
    Ok(())
}

fn overflow() -> PgError {
    PgError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        "value overflows numeric format",
    )
}

/// `exp(numeric)`.
pub fn num_exp(x: Num) -> PgResult<Num> {
    match x {
        Num::NaN => Ok(Num::NaN),
        Num::Inf(false) => Ok(Num::Inf(false)),
        Num::Inf(true) => Ok(Num::Dec(BigDecimal::zero())),
        Num::Dec(d) => {
            let weight = to_f64(&d) * LOG10_E;
            let val = weight.clamp(-(MAX_RESULT_SCALE as f64), MAX_RESULT_SCALE as f64);
            let rscale = clamp_scale((MIN_SIG_DIGITS - val as i64).max(scale(&d)));
            let xf = to_f64(&d);
            if xf.abs() >= (MAX_RESULT_SCALE * 3) as f64 {
                if xf > 0.0 {
                    return Err(overflow());
                }
                return Ok(Num::Dec(BigDecimal::zero().with_scale(rscale)));
            }
            let sig = (rscale + weight.floor() as i64 + 1).max(1) + 4;
            too_precise(sig)?;
            Ok(Num::Dec(round_result(exp_dec(&d, sig as u64), rscale)))
        }
    }
}

/// `power(numeric, numeric)`.
pub fn num_power(base: Num, exp: Num) -> PgResult<Num> {
    let (b, e) = match (base, exp) {
        (Num::Dec(b), Num::Dec(e)) => (b, e),
        (b, e) => return Ok(power_special(b, e)),
    };
    if b.is_zero() && e.is_negative() {
        return Err(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_POWER,
            "zero raised to a negative power is undefined",
        ));
    }
    let e_int = e.with_scale_round(0, RoundingMode::Down);
    if b.is_negative() && e_int != e {
        return Err(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_POWER,
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    if e_int == e
        && let Some(n) = e_int.to_i64().filter(|n| i32::try_from(*n).is_ok())
    {
        let rscale = clamp_scale(MIN_SIG_DIGITS.max(scale(&b)));
        return power_int(&b, n, rscale).map(Num::Dec);
    }
    if b.is_zero() {
        return Ok(Num::Dec(BigDecimal::zero().with_scale(MIN_SIG_DIGITS)));
    }
    // A negative base has an integer exponent here: work with |base|, sign by parity.
    let negate = b.is_negative() && {
        let two = BigDecimal::from(2);
        let half = div_scaled(&e_int, &two, 0, RoundingMode::Down);
        half * two != e_int
    };
    let b = b.abs();
    // e^(exp * ln(base))
    let ln_dweight = estimate_ln_dweight(&b);
    let local = (8 - ln_dweight).max(0);
    let approx = to_f64(&(ln_dec(&b, local) * &e));
    if approx.abs() > MAX_RESULT_SCALE as f64 * 3.01 {
        if approx > 0.0 {
            return Err(overflow());
        }
        return Ok(Num::Dec(BigDecimal::zero().with_scale(MAX_DISPLAY_SCALE)));
    }
    let val = approx * LOG10_E;
    let rscale = clamp_scale((MIN_SIG_DIGITS - val as i64).max(scale(&b)).max(scale(&e)));
    let sig = (rscale + val.floor() as i64 + 1).max(1) + 4;
    too_precise(sig)?;
    let mag = to_f64(&e).abs().log10().max(0.0) as i64;
    let lnb = ln_dec(&b, sig + mag + 10);
    let y = exp_dec(&(lnb * e), sig as u64);
    let y = round_result(y, rscale);
    Ok(Num::Dec(if negate { -y } else { y }))
}

/// Integer powers, exactly where the result stays reasonably small.
fn power_int(b: &BigDecimal, n: i64, rscale: i64) -> PgResult<BigDecimal> {
    if n == 0 {
        return Ok(BigDecimal::one().with_scale(rscale));
    }
    if b.is_zero() {
        return Ok(BigDecimal::zero().with_scale(rscale));
    }
    let digits = decimal_exponent(&b.abs()).abs() + scale(b) + 1;
    let est = (to_f64(&b.abs()).log10() * n as f64).abs();
    if est > 131_072.0 * 1.01 && (to_f64(&b.abs()) > 1.0) == (n > 0) {
        return Err(overflow());
    }
    if (n.unsigned_abs() as i64).saturating_mul(digits) <= 20_000 {
        let mut r = BigDecimal::one();
        let mut base = b.clone();
        let mut k = n.unsigned_abs();
        while k > 0 {
            if k & 1 == 1 {
                r *= &base;
            }
            base = &base * &base;
            k >>= 1;
        }
        let r = if n < 0 {
            dv(&BigDecimal::one(), &r, rscale + 4)
        } else {
            r
        };
        return Ok(round_result(r, rscale));
    }
    // Large exponents: through logarithms with enough digits.
    let val = to_f64(&b.abs()).log10() * n as f64;
    let sig = (rscale + val.floor() as i64 + 1).max(1) + 4;
    too_precise(sig)?;
    let mag = (n.unsigned_abs() as f64).log10() as i64;
    let lnb = ln_dec(&b.abs(), sig + mag + 10);
    let mut y = exp_dec(&(lnb * BigDecimal::from(n)), sig as u64);
    if b.is_negative() && n % 2 != 0 {
        y = -y;
    }
    Ok(round_result(y, rscale))
}

/// power() when an argument is NaN or infinite (PostgreSQL follows POSIX pow()).
fn power_special(b: Num, e: Num) -> Num {
    let f = |n: &Num| match n {
        Num::NaN => f64::NAN,
        Num::Inf(neg) => {
            if *neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        Num::Dec(d) => to_f64(d),
    };
    let r = f(&b).powf(f(&e));
    if r.is_nan() {
        Num::NaN
    } else if r.is_infinite() {
        Num::Inf(r < 0.0)
    } else {
        Num::Dec(BigDecimal::try_from(r).unwrap_or_default())
    }
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_num_ln", 1, DET, |c| match arg(c.get_raw(0))? {
        None => Ok(None),
        Some(x) => num_ln(x).map(|r| Some(out(r))).map_err(udf_err),
    })?;
    conn.create_scalar_function("pg_num_exp", 1, DET, |c| match arg(c.get_raw(0))? {
        None => Ok(None),
        Some(x) => num_exp(x).map(|r| Some(out(r))).map_err(udf_err),
    })?;
    conn.create_scalar_function("pg_num_log", 2, DET, |c| {
        match (arg(c.get_raw(0))?, arg(c.get_raw(1))?) {
            (Some(b), Some(x)) => num_log(b, x).map(|r| Some(out(r))).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_num_power", 2, DET, |c| {
        match (arg(c.get_raw(0))?, arg(c.get_raw(1))?) {
            (Some(b), Some(e)) => num_power(b, e).map(|r| Some(out(r))).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Num {
        Num::Dec(BigDecimal::from_str(s).unwrap())
    }

    #[test]
    fn nbase() {
        let b = |s: &str| nbase_digits(&BigDecimal::from_str(s).unwrap());
        assert_eq!(b("12345.678"), (1, vec![1, 2345, 6780]));
        assert_eq!(b("0.00012"), (-1, vec![1, 2000]));
        assert_eq!(b("10000"), (1, vec![1]));
        assert_eq!(b("0"), (-1, vec![]));
    }

    #[test]
    fn like_postgres() {
        assert_eq!(out(num_log(d("2"), d("8")).unwrap()), "3.0000000000000000");
        assert_eq!(
            out(num_log(d("10"), d("100.0")).unwrap()),
            "2.0000000000000000"
        );
        assert_eq!(out(num_exp(d("1.0")).unwrap()), "2.7182818284590452");
        assert_eq!(
            out(num_power(d("2"), d("0.5")).unwrap()),
            "1.4142135623730950"
        );
        assert_eq!(
            out(num_power(d("2.0"), d("10")).unwrap()),
            "1024.0000000000000000"
        );
        assert_eq!(out(num_ln(d("2.0")).unwrap()), "0.6931471805599453");
        assert_eq!(
            out(num_power(d("9.99"), d("99.9")).unwrap()),
            "7187738587604245208207266188419839605527402643558177036417416345605899119523687610957394934143335556.06"
        );
        assert!(num_ln(d("0")).is_err());
        assert!(num_log(d("1"), d("5")).is_err());
        assert!(num_power(d("0"), d("-1")).is_err());
        assert!(num_power(d("-8"), d("0.5")).is_err());
        assert!(num_exp(d("100000")).is_err());
        let big = out(num_exp(d("5999.0")).unwrap());
        assert_eq!(&big[2010..2030], "65924127643030178465");
        assert_eq!(
            out(num_exp(d("-100000")).unwrap()).trim_end_matches('0'),
            "0."
        );
    }
}
