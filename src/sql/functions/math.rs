//! Mathematical functions on integers and floats with PostgreSQL's semantics: `greatest` /
//! `least` (NULLs ignored, first of equals kept), float `round` (half to even, like `rint`),
//! `trunc`, `cbrt`, `gcd` / `lcm` with overflow errors, float `width_bucket`, and the checked
//! float functions (`sqrt`, `ln`, `log`, `power`, `exp`) that raise PostgreSQL's errors instead
//! of returning NaN. Exact `numeric` versions live in `numeric.rs`.

use std::cmp::Ordering;

// The C library's functions, as PostgreSQL calls them: results match it to the last bit
// (glibc's `cbrt` is not correctly rounded, for one).
mod libm {
    unsafe extern "C" {
        pub safe fn exp(x: f64) -> f64;
        pub safe fn log(x: f64) -> f64;
        pub safe fn log10(x: f64) -> f64;
        pub safe fn pow(x: f64, y: f64) -> f64;
        pub safe fn sin(x: f64) -> f64;
        pub safe fn cos(x: f64) -> f64;
        pub safe fn tan(x: f64) -> f64;
        pub safe fn asin(x: f64) -> f64;
        pub safe fn acos(x: f64) -> f64;
        pub safe fn atan(x: f64) -> f64;
        pub safe fn atan2(y: f64, x: f64) -> f64;
        pub safe fn sinh(x: f64) -> f64;
        pub safe fn cosh(x: f64) -> f64;
        pub safe fn tanh(x: f64) -> f64;
        pub safe fn asinh(x: f64) -> f64;
        pub safe fn acosh(x: f64) -> f64;
        pub safe fn atanh(x: f64) -> f64;
    }
}

fn out_of_range_input() -> PgError {
    PgError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "input is out of range")
}

/// PostgreSQL's float trigonometric and hyperbolic functions, with their range errors.
fn trig(name: &str, x: f64) -> PgResult<f64> {
    if x.is_nan() {
        return Ok(f64::NAN);
    }
    let inf = x.is_infinite();
    Ok(match name {
        "sin" | "cos" | "tan" | "cot" if inf => return Err(out_of_range_input()),
        "sin" => libm::sin(x),
        "cos" => libm::cos(x),
        "tan" => libm::tan(x),
        "cot" => 1.0 / libm::tan(x),
        "asin" | "acos" if !(-1.0..=1.0).contains(&x) => return Err(out_of_range_input()),
        "asin" => libm::asin(x),
        "acos" => libm::acos(x),
        "atan" => libm::atan(x),
        "sinh" => libm::sinh(x),
        "cosh" => libm::cosh(x),
        "tanh" => libm::tanh(x),
        "asinh" => libm::asinh(x),
        "acosh" if x < 1.0 => return Err(out_of_range_input()),
        "acosh" => libm::acosh(x),
        "atanh" if !(-1.0..=1.0).contains(&x) => return Err(out_of_range_input()),
        "atanh" if x == 1.0 => f64::INFINITY,
        "atanh" if x == -1.0 => f64::NEG_INFINITY,
        "atanh" => libm::atanh(x),
        "degrees" => x / RADIANS_PER_DEGREE,
        _ => x * RADIANS_PER_DEGREE,
    })
}

const RADIANS_PER_DEGREE: f64 = 0.017_453_292_519_943_295;

use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};

use super::{DET, float_arg, int_arg, owned, udf_err, xcode};
use crate::error::{PgError, PgResult, code};
use crate::sql::datetime as dt;

/// How `greatest` / `least` compare their arguments.
#[derive(Clone, Copy)]
enum CmpKind {
    Plain,
    Numeric,
    Interval,
}

fn cmp_values(a: &ValueRef<'_>, b: &ValueRef<'_>, kind: CmpKind) -> Ordering {
    let text = |v: &ValueRef<'_>| -> String {
        match v {
            ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => crate::sql::values::numeric_from_f64(*f),
            ValueRef::Null => String::new(),
        }
    };
    match kind {
        CmpKind::Numeric => crate::sql::numeric::compare(&text(a), &text(b)),
        CmpKind::Interval => match (dt::parse_interval(&text(a)), dt::parse_interval(&text(b))) {
            (Ok(x), Ok(y)) => x.cmp_key().cmp(&y.cmp_key()),
            _ => text(a).cmp(&text(b)),
        },
        CmpKind::Plain => match (a, b) {
            (ValueRef::Integer(x), ValueRef::Integer(y)) => x.cmp(y),
            (ValueRef::Integer(x), ValueRef::Real(y)) => (*x as f64).total_cmp(y),
            (ValueRef::Real(x), ValueRef::Integer(y)) => x.total_cmp(&(*y as f64)),
            // PostgreSQL sorts NaN above every other float.
            (ValueRef::Real(x), ValueRef::Real(y)) => match (x.is_nan(), y.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            },
            (ValueRef::Text(x), ValueRef::Text(y)) | (ValueRef::Blob(x), ValueRef::Blob(y)) => {
                x.cmp(y)
            }
            (x, y) => rank(x).cmp(&rank(y)),
        },
    }
}

fn rank(v: &ValueRef<'_>) -> u8 {
    match v {
        ValueRef::Null => 0,
        ValueRef::Integer(_) | ValueRef::Real(_) => 1,
        ValueRef::Text(_) => 2,
        ValueRef::Blob(_) => 3,
    }
}

fn extreme(c: &rusqlite::functions::Context<'_>, greatest: bool) -> rusqlite::Result<Value> {
    if c.is_empty() {
        return Ok(Value::Null);
    }
    let kind = match c.get_raw(0) {
        ValueRef::Integer(1) => CmpKind::Numeric,
        ValueRef::Integer(2) => CmpKind::Interval,
        _ => CmpKind::Plain,
    };
    let mut best: Option<ValueRef<'_>> = None;
    for i in 1..c.len() {
        let v = c.get_raw(i);
        if matches!(v, ValueRef::Null) {
            continue;
        }
        best = Some(match best {
            None => v,
            Some(b) => {
                let o = cmp_values(&v, &b, kind);
                if (greatest && o == Ordering::Greater) || (!greatest && o == Ordering::Less) {
                    v
                } else {
                    b
                }
            }
        });
    }
    Ok(best.map(owned).unwrap_or(Value::Null))
}

/// glibc's `cbrt` (sysdeps/ieee754/dbl-64/s_cbrt.c), which PostgreSQL calls: it is not
/// correctly rounded (cbrt(27) = 3.0000000000000004), so Rust's own `cbrt` would differ.
/// The constants are glibc's, digit for digit.
#[allow(clippy::excessive_precision)]
pub fn cbrt(x: f64) -> f64 {
    const CBRT2: f64 = 1.259_921_049_894_873_164_8;
    const SQR_CBRT2: f64 = 1.587_401_051_968_199_474_8;
    const FACTOR: [f64; 5] = [1.0 / SQR_CBRT2, 1.0 / CBRT2, 1.0, CBRT2, SQR_CBRT2];
    if x == 0.0 || !x.is_finite() {
        return x + x;
    }
    let (xm, xe) = frexp(x.abs());
    let u = 0.354_895_765_043_919_86
        + (1.508_191_937_815_848_96
            + (-2.114_994_941_673_712_87
                + (2.446_931_225_635_344_3
                    + (-1.834_692_774_836_130_86
                        + (0.784_932_344_976_639_262 - 0.145_263_899_385_486_377 * xm) * xm)
                        * xm)
                    * xm)
                * xm)
            * xm;
    let t2 = u * u * u;
    let ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * FACTOR[(2 + xe % 3) as usize];
    ldexp(ym, xe / 3).copysign(x)
}

/// C's `frexp`: x = m * 2^e with 0.5 <= |m| < 1.
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // subnormal: scale up first
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// C's `ldexp`.
fn ldexp(x: f64, e: i32) -> f64 {
    let mut x = x;
    let mut e = e;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

/// ceil/floor keeping integers as integers.
fn ceil_floor(c: &rusqlite::functions::Context<'_>, up: bool) -> rusqlite::Result<Value> {
    Ok(match c.get_raw(0) {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        _ => match float_arg(c, 0)? {
            Some(x) => Value::Real(if up { x.ceil() } else { x.floor() }),
            None => Value::Null,
        },
    })
}

fn int_out_of_range(bits: i64) -> PgError {
    PgError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        if bits == 64 {
            "bigint out of range"
        } else {
            "integer out of range"
        },
    )
}

/// Integer `gcd` of the given width, with PostgreSQL's overflow cases.
pub fn gcd(a: i64, b: i64, bits: i64) -> PgResult<i64> {
    let min = if bits == 64 {
        i64::MIN
    } else {
        i32::MIN as i64
    };
    let (mut x, mut y) = (a.unsigned_abs() as u128, b.unsigned_abs() as u128);
    while y != 0 {
        let t = x % y;
        x = y;
        y = t;
    }
    if x == min.unsigned_abs() as u128 {
        return Err(int_out_of_range(bits));
    }
    Ok(x as i64)
}

pub fn lcm(a: i64, b: i64, bits: i64) -> PgResult<i64> {
    if a == 0 || b == 0 {
        return Ok(0);
    }
    let g = gcd(a, b, bits)?;
    let r = (a / g) as i128 * b as i128;
    let r = r.abs();
    let max = if bits == 64 {
        i64::MAX as i128
    } else {
        i32::MAX as i128
    };
    if r > max {
        return Err(int_out_of_range(bits));
    }
    Ok(r as i64)
}

fn bucket_error(msg: &str) -> PgError {
    PgError::new(xcode::INVALID_ARGUMENT_FOR_WIDTH_BUCKET, msg.to_string())
}

/// `width_bucket(float8, float8, float8, int)`.
pub fn width_bucket(op: f64, b1: f64, b2: f64, count: i64) -> PgResult<i64> {
    if count <= 0 {
        return Err(bucket_error("count must be greater than zero"));
    }
    if count > i32::MAX as i64 {
        return Err(int_out_of_range(32));
    }
    if op.is_nan() || b1.is_nan() || b2.is_nan() {
        return Err(bucket_error(
            "operand, lower bound, and upper bound cannot be NaN",
        ));
    }
    if b1.is_infinite() || b2.is_infinite() {
        return Err(bucket_error("lower and upper bounds must be finite"));
    }
    let c = count as f64;
    let r = if b1 < b2 {
        if op < b1 {
            0
        } else if op >= b2 {
            count + 1
        } else {
            let q = if (b2 - b1).is_finite() {
                c * ((op - b1) / (b2 - b1))
            } else {
                c * ((op / 2.0 - b1 / 2.0) / (b2 / 2.0 - b1 / 2.0))
            };
            (q as i64).min(count - 1) + 1
        }
    } else if b1 > b2 {
        if op > b1 {
            0
        } else if op <= b2 {
            count + 1
        } else {
            let q = if (b1 - b2).is_finite() {
                c * ((b1 - op) / (b1 - b2))
            } else {
                c * ((b1 / 2.0 - op / 2.0) / (b1 / 2.0 - b2 / 2.0))
            };
            (q as i64).min(count - 1) + 1
        }
    } else {
        return Err(bucket_error("lower bound cannot equal upper bound"));
    };
    if r > i32::MAX as i64 {
        return Err(int_out_of_range(32));
    }
    Ok(r)
}

fn log_error(x: f64) -> Option<PgError> {
    if x == 0.0 {
        Some(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_LOG,
            "cannot take logarithm of zero",
        ))
    } else if x < 0.0 {
        Some(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_LOG,
            "cannot take logarithm of a negative number",
        ))
    } else {
        None
    }
}

fn overflow_check(r: f64, inputs_finite: bool) -> PgResult<f64> {
    if r.is_infinite() && inputs_finite {
        return Err(PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            "value out of range: overflow",
        ));
    }
    Ok(r)
}

/// `power(float8, float8)` with PostgreSQL's checks.
pub fn power(x: f64, y: f64) -> PgResult<f64> {
    if x == 0.0 && y < 0.0 {
        return Err(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_POWER,
            "zero raised to a negative power is undefined",
        ));
    }
    if x < 0.0 && y.is_finite() && y.fract() != 0.0 {
        return Err(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_POWER,
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    let r = libm::pow(x, y);
    let r = overflow_check(r, x.is_finite() && y.is_finite())?;
    if r == 0.0 && x != 0.0 && x.is_finite() && y.is_finite() {
        return Err(PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            "value out of range: underflow",
        ));
    }
    Ok(r)
}

fn float1(
    conn: &Connection,
    name: &str,
    f: impl Fn(f64) -> PgResult<f64> + Send + 'static,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, DET, move |c| match float_arg(c, 0)? {
        None => Ok(None),
        Some(x) => f(x).map(Some).map_err(udf_err),
    })
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_greatest", -1, DET, |c| extreme(c, true))?;
    conn.create_scalar_function("pg_least", -1, DET, |c| extreme(c, false))?;
    for name in [
        "sin", "cos", "tan", "cot", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
        "acosh", "atanh", "degrees", "radians",
    ] {
        float1(conn, &format!("pg_{name}"), move |x| trig(name, x))?;
    }
    conn.create_scalar_function("pg_atan2", 2, DET, |c| {
        match (float_arg(c, 0)?, float_arg(c, 1)?) {
            (Some(y), Some(x)) => Ok(Some(libm::atan2(y, x))),
            _ => Ok(None),
        }
    })?;
    // SQLite's own names, used by expressions the general translator emits (ceil/floor on
    // floats and integers, the ^ operator); the bundled SQLite has no math functions.
    conn.create_scalar_function("ceil", 1, DET, |c| ceil_floor(c, true))?;
    conn.create_scalar_function("floor", 1, DET, |c| ceil_floor(c, false))?;
    conn.create_scalar_function("sqrt", 1, DET, |c| match float_arg(c, 0)? {
        None => Ok(None),
        Some(x) if x < 0.0 => Err(udf_err(PgError::new(
            xcode::INVALID_ARGUMENT_FOR_POWER,
            "cannot take square root of a negative number",
        ))),
        Some(x) => Ok(Some(x.sqrt())),
    })?;
    conn.create_scalar_function("pow", 2, DET, |c| {
        match (float_arg(c, 0)?, float_arg(c, 1)?) {
            (Some(x), Some(y)) => power(x, y).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    float1(conn, "pg_round_even", |x| Ok(x.round_ties_even()))?;
    float1(conn, "pg_trunc_float", |x| Ok(x.trunc()))?;
    float1(conn, "pg_ceil_float", |x| Ok(x.ceil()))?;
    float1(conn, "pg_floor_float", |x| Ok(x.floor()))?;
    float1(conn, "pg_cbrt", |x| Ok(cbrt(x)))?;
    float1(conn, "pg_sqrt", |x| {
        if x < 0.0 {
            return Err(PgError::new(
                xcode::INVALID_ARGUMENT_FOR_POWER,
                "cannot take square root of a negative number",
            ));
        }
        Ok(x.sqrt())
    })?;
    float1(conn, "pg_ln", |x| match log_error(x) {
        Some(e) => Err(e),
        None => Ok(libm::log(x)),
    })?;
    float1(conn, "pg_log10", |x| match log_error(x) {
        Some(e) => Err(e),
        None => Ok(libm::log10(x)),
    })?;
    float1(conn, "pg_exp", |x| {
        let r = libm::exp(x);
        let r = overflow_check(r, x.is_finite())?;
        if r == 0.0 && x.is_finite() {
            return Err(PgError::new(
                code::NUMERIC_VALUE_OUT_OF_RANGE,
                "value out of range: underflow",
            ));
        }
        Ok(r)
    })?;
    conn.create_scalar_function("pg_power", 2, DET, |c| {
        match (float_arg(c, 0)?, float_arg(c, 1)?) {
            (Some(x), Some(y)) => power(x, y).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    // pg_gcd / pg_lcm(a, b, bits)
    conn.create_scalar_function("pg_gcd", 3, DET, |c| {
        match (int_arg(c, 0)?, int_arg(c, 1)?, int_arg(c, 2)?) {
            (Some(a), Some(b), Some(bits)) => gcd(a, b, bits).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_lcm", 3, DET, |c| {
        match (int_arg(c, 0)?, int_arg(c, 1)?, int_arg(c, 2)?) {
            (Some(a), Some(b), Some(bits)) => lcm(a, b, bits).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_width_bucket", 4, DET, |c| {
        match (
            float_arg(c, 0)?,
            float_arg(c, 1)?,
            float_arg(c, 2)?,
            int_arg(c, 3)?,
        ) {
            (Some(o), Some(a), Some(b), Some(n)) => {
                width_bucket(o, a, b, n).map(Some).map_err(udf_err)
            }
            _ => Ok(None),
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_lcm() {
        assert_eq!(gcd(-12, 18, 32).unwrap(), 6);
        assert_eq!(gcd(0, 0, 32).unwrap(), 0);
        assert!(gcd(i32::MIN as i64, 0, 32).is_err());
        assert!(gcd(i64::MIN, i64::MIN, 64).is_err());
        assert_eq!(gcd(i64::MIN, 6, 64).unwrap(), 2);
        assert_eq!(lcm(-4, 6, 32).unwrap(), 12);
        assert!(lcm(2147483647, 2147483646, 32).is_err());
        assert!(lcm(i64::MIN, -1, 64).is_err());
    }

    #[test]
    fn buckets() {
        assert_eq!(width_bucket(5.35, 0.024, 10.06, 5).unwrap(), 3);
        assert_eq!(width_bucket(5.0, 0.0, 10.0, 3).unwrap(), 2);
        assert_eq!(width_bucket(-1.0, 0.0, 10.0, 3).unwrap(), 0);
        assert_eq!(width_bucket(10.0, 0.0, 10.0, 3).unwrap(), 4);
        assert_eq!(width_bucket(5.0, 10.0, 0.0, 3).unwrap(), 2);
        assert!(width_bucket(5.0, 0.0, 10.0, 0).is_err());
        assert!(width_bucket(5.0, 1.0, 1.0, 3).is_err());
        assert!(width_bucket(f64::NAN, 1.0, 2.0, 3).is_err());
        assert!(width_bucket(1.0, f64::MIN, f64::MAX, i32::MAX as i64).is_ok());
    }

    #[test]
    fn glibc_cbrt() {
        assert_eq!(cbrt(27.0), 3.000_000_000_000_000_4);
        assert_eq!(cbrt(-8.0), -2.0);
        assert_eq!(cbrt(0.0), 0.0);
        assert!(cbrt(f64::NAN).is_nan());
        assert_eq!(cbrt(f64::INFINITY), f64::INFINITY);
        assert!((cbrt(1e-310) - 4.641588833612779e-104).abs() < 1e-115);
    }

    #[test]
    fn powers() {
        assert!(power(0.0, -1.0).is_err());
        assert!(power(-8.0, 1.0 / 3.0).is_err());
        assert_eq!(power(2.0, 10.0).unwrap(), 1024.0);
        assert!(power(10.0, 400.0).is_err());
        assert!(power(10.0, -400.0).is_err());
    }
}
