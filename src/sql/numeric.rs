//! Exact `numeric`: canonical decimal text (what SQLite stores), typmod rounding, ordering without
//! allocation (the SQLite collation behind numeric columns), and PostgreSQL's binary form.

use std::cmp::Ordering;
use std::str::FromStr;

use bigdecimal::{BigDecimal, RoundingMode, Zero};

use crate::error::{PgError, PgResult, code};

fn bad(s: &str) -> PgError {
    PgError::new(
        code::INVALID_TEXT_REPRESENTATION,
        format!("invalid input syntax for type numeric: \"{s}\""),
    )
}

/// Special values PostgreSQL's numeric accepts.
fn special(s: &str) -> Option<&'static str> {
    match s.to_ascii_lowercase().as_str() {
        "nan" => Some("NaN"),
        "infinity" | "+infinity" | "inf" | "+inf" => Some("Infinity"),
        "-infinity" | "-inf" => Some("-Infinity"),
        _ => None,
    }
}

/// Parse numeric text input into its canonical text (scale kept as written).
pub fn parse(input: &str) -> PgResult<String> {
    let s = input.trim();
    if let Some(sp) = special(s) {
        return Ok(sp.to_string());
    }
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && s.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return Err(bad(input));
    }
    let d = BigDecimal::from_str(s).map_err(|_| bad(input))?;
    Ok(canonical(&d))
}

pub fn to_decimal(s: &str) -> Option<BigDecimal> {
    BigDecimal::from_str(s.trim()).ok()
}

/// Plain (non-scientific) text with the scale the value carries; negative scales are widened.
pub fn canonical(d: &BigDecimal) -> String {
    let d = if d.fractional_digit_count() < 0 {
        d.with_scale(0)
    } else {
        d.clone()
    };
    let s = d.to_plain_string();
    if s.starts_with('-') && d.is_zero() {
        s[1..].to_string()
    } else {
        s
    }
}

/// Apply a `numeric(p,s)` modifier: round to scale s, and reject values with too many digits.
pub fn apply_typmod(text: &str, precision: u32, scale: u32) -> PgResult<String> {
    if text == "NaN" {
        return Ok(text.to_string());
    }
    if text.ends_with("Infinity") {
        return Err(overflow(precision, scale)
            .with_detail("A field with precision cannot hold an infinite value."));
    }
    let d = to_decimal(text).ok_or_else(|| bad(text))?;
    let r = d.with_scale_round(scale as i64, RoundingMode::HalfUp);
    let int_digits = {
        let plain = r.abs().with_scale(0).to_plain_string();
        if plain == "0" { 0 } else { plain.len() as u32 }
    };
    if int_digits + scale > precision {
        return Err(overflow(precision, scale));
    }
    Ok(canonical(&r))
}

fn overflow(precision: u32, scale: u32) -> PgError {
    let detail = if precision > scale {
        format!(
            "A field with precision {precision}, scale {scale} must round to an absolute value less than 10^{}.",
            precision - scale
        )
    } else {
        format!(
            "A field with precision {precision}, scale {scale} must round to an absolute value less than 1."
        )
    };
    PgError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow").with_detail(detail)
}

/// A borrowed view of a decimal string for comparison: sign, integer digits, fraction digits.
struct Parts<'a> {
    neg: bool,
    int: &'a [u8],
    frac: &'a [u8],
}

/// Rank of special values: -Infinity < numbers < Infinity < NaN (PostgreSQL's order).
fn rank(s: &str) -> i8 {
    match s {
        "-Infinity" => -1,
        "Infinity" => 1,
        "NaN" => 2,
        _ => 0,
    }
}

fn parts(s: &str) -> Option<Parts<'_>> {
    let b = s.as_bytes();
    let (neg, b) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if b.iter().any(|c| !(c.is_ascii_digit() || *c == b'.')) {
        return None;
    }
    let (int, frac) = match b.iter().position(|c| *c == b'.') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    let first_nz = int.iter().position(|c| *c != b'0').unwrap_or(int.len());
    let int = &int[first_nz..];
    let last_nz = frac
        .iter()
        .rposition(|c| *c != b'0')
        .map(|i| i + 1)
        .unwrap_or(0);
    let frac = &frac[..last_nz];
    let zero = int.is_empty() && frac.is_empty();
    Some(Parts {
        neg: neg && !zero,
        int,
        frac,
    })
}

fn cmp_magnitude(a: &Parts, b: &Parts) -> Ordering {
    a.int
        .len()
        .cmp(&b.int.len())
        .then_with(|| a.int.cmp(b.int))
        .then_with(|| a.frac.cmp(b.frac))
}

/// Compare two canonical numeric strings by value. Falls back to exact decimal parsing for
/// anything that is not plain decimal text (e.g. exponents from computed values).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != 0 || rb != 0 {
        return ra.cmp(&rb);
    }
    match (parts(a), parts(b)) {
        (Some(pa), Some(pb)) => match (pa.neg, pb.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_magnitude(&pa, &pb),
            (true, true) => cmp_magnitude(&pb, &pa),
        },
        _ => match (to_decimal(a), to_decimal(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => a.cmp(b),
        },
    }
}

/// PostgreSQL's binary numeric: ndigits, weight, sign, dscale, base-10000 digits.
pub fn to_binary(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let push16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_be_bytes());
    match text {
        "NaN" => {
            for v in [0u16, 0, 0xC000, 0] {
                push16(&mut out, v);
            }
            return out;
        }
        "Infinity" | "-Infinity" => {
            let sign = if text.starts_with('-') {
                0xF000
            } else {
                0xD000
            };
            for v in [0u16, 0, sign, 0] {
                push16(&mut out, v);
            }
            return out;
        }
        _ => {}
    }
    let Some(p) = parts(text) else {
        for v in [0u16, 0, 0xC000, 0] {
            push16(&mut out, v);
        }
        return out;
    };
    let dscale = text.split_once('.').map(|(_, f)| f.len()).unwrap_or(0) as u16;
    // Group integer digits in fours from the decimal point leftwards, fraction rightwards.
    let int: Vec<u8> = p.int.iter().map(|c| c - b'0').collect();
    let frac: Vec<u8> = p.frac.iter().map(|c| c - b'0').collect();
    let int_pad = (4 - int.len() % 4) % 4;
    let mut digits: Vec<i16> = Vec::new();
    let mut all: Vec<u8> = vec![0; int_pad];
    all.extend(&int);
    let int_groups = all.len() / 4;
    let mut f = frac.clone();
    while !f.len().is_multiple_of(4) {
        f.push(0);
    }
    all.extend(&f);
    for chunk in all.chunks(4) {
        digits.push(chunk.iter().fold(0i16, |acc, d| acc * 10 + *d as i16));
    }
    let mut weight = int_groups as i16 - 1;
    // Strip leading and trailing zero groups.
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    push16(&mut out, digits.len() as u16);
    out.extend_from_slice(&weight.to_be_bytes());
    push16(&mut out, if p.neg { 0x4000 } else { 0 });
    push16(&mut out, dscale);
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out
}

/// Decode PostgreSQL's binary numeric into canonical text.
pub fn from_binary(b: &[u8]) -> PgResult<String> {
    let bad = || {
        PgError::new(
            code::INVALID_BINARY_REPRESENTATION,
            "invalid binary numeric",
        )
    };
    if b.len() < 8 {
        return Err(bad());
    }
    let rd = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let ndigits = rd(0) as usize;
    let weight = rd(2) as i16 as i32;
    let sign = rd(4);
    let dscale = rd(6) as usize;
    if b.len() != 8 + ndigits * 2 {
        return Err(bad());
    }
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        0 | 0x4000 => {}
        _ => return Err(bad()),
    }
    let mut s = String::new();
    let digit = |i: i32| -> u16 {
        if i >= 0 && (i as usize) < ndigits {
            rd(8 + i as usize * 2)
        } else {
            0
        }
    };
    // Integer part: groups 0..=weight.
    if weight < 0 {
        s.push('0');
    } else {
        for g in 0..=weight {
            let d = digit(g);
            if g == 0 {
                s.push_str(&d.to_string());
            } else {
                s.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::new();
        let mut g = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(g)));
            g += 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    if sign == 0x4000 {
        s.insert(0, '-');
    }
    parse(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_typmod() {
        assert_eq!(parse("1.50").unwrap(), "1.50");
        assert_eq!(parse(" 1e3 ").unwrap(), "1000");
        assert_eq!(parse("-0.0").unwrap(), "0.0");
        assert!(parse("abc").is_err());
        assert_eq!(apply_typmod("1.005", 10, 2).unwrap(), "1.01");
        assert_eq!(apply_typmod("12", 10, 2).unwrap(), "12.00");
        assert!(apply_typmod("123456", 5, 2).is_err());
        assert_eq!(
            parse("12345678901234567890.12").unwrap(),
            "12345678901234567890.12"
        );
    }

    #[test]
    fn ordering() {
        let mut v = vec![
            "10",
            "9.5",
            "-3",
            "0",
            "-10.25",
            "100.0",
            "NaN",
            "9.50001",
            "-Infinity",
        ];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(
            v,
            vec![
                "-Infinity",
                "-10.25",
                "-3",
                "0",
                "9.5",
                "9.50001",
                "10",
                "100.0",
                "NaN"
            ]
        );
        assert_eq!(compare("1.0", "1"), Ordering::Equal);
    }

    #[test]
    fn binary_round_trip() {
        for s in [
            "0",
            "1.50",
            "-12345678.9",
            "0.0001",
            "10000",
            "123456789012345678901234.5678",
            "NaN",
        ] {
            assert_eq!(from_binary(&to_binary(s)).unwrap(), s, "{s}");
        }
    }
}
