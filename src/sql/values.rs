//! Values crossing the boundary between PostgreSQL and SQLite: text and binary input from clients
//! into the canonical SQLite value of a type, and stored values back out as the announced type in
//! text or binary. One function per direction; every type we announce has both formats.

use rusqlite::types::{Value, ValueRef};

use super::datetime::{self, Interval, Zone};
use super::numeric;
use super::types::{PgType, Scalar};
use crate::error::{PgError, PgResult, code};

/// How the session wants values printed.
#[derive(Debug, Clone)]
pub struct OutputStyle {
    pub zone: Zone,
    pub interval_iso: bool,
    pub bytea_escape: bool,
}

impl Default for OutputStyle {
    fn default() -> Self {
        OutputStyle {
            zone: Zone::UTC,
            interval_iso: false,
            bytea_escape: false,
        }
    }
}

fn invalid(ty: &str, s: &str) -> PgError {
    PgError::new(
        code::INVALID_TEXT_REPRESENTATION,
        format!("invalid input syntax for type {ty}: \"{s}\""),
    )
}

fn out_of_range(ty: &str) -> PgError {
    PgError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{ty} out of range"),
    )
}

fn int_range(s: Scalar) -> (i64, i64, &'static str, &'static str) {
    match s {
        Scalar::Int2 => (i16::MIN as i64, i16::MAX as i64, "smallint", "smallint"),
        Scalar::Int4 => (i32::MIN as i64, i32::MAX as i64, "integer", "integer"),
        Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc => {
            (0, u32::MAX as i64, "oid", "OID")
        }
        _ => (i64::MIN, i64::MAX, "bigint", "bigint"),
    }
}

/// Check an integer fits the type, with PostgreSQL's message.
pub fn check_int(s: Scalar, v: i64) -> PgResult<i64> {
    let (lo, hi, _, label) = int_range(s);
    if v < lo || v > hi {
        return Err(out_of_range(label));
    }
    Ok(v)
}

fn parse_int(s: Scalar, input: &str) -> PgResult<i64> {
    let (lo, hi, tyname, _) = int_range(s);
    let t = input.trim();
    let v: i128 = t.parse().map_err(|_| invalid(tyname, input))?;
    if v < lo as i128 || v > hi as i128 {
        return Err(PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{input}\" is out of range for type {tyname}"),
        ));
    }
    Ok(v as i64)
}

pub fn parse_bool(input: &str) -> PgResult<bool> {
    let t = input.trim().to_ascii_lowercase();
    let prefix_of = |w: &str| !t.is_empty() && w.starts_with(t.as_str());
    if t == "1" || prefix_of("true") || prefix_of("yes") || (t.len() >= 2 && "on".starts_with(&t)) {
        Ok(true)
    } else if t == "0"
        || prefix_of("false")
        || prefix_of("no")
        || (t.len() >= 2 && "off".starts_with(&t))
    {
        Ok(false)
    } else {
        Err(invalid("boolean", input))
    }
}

pub(crate) fn parse_float(input: &str, ty: &str) -> PgResult<f64> {
    let t = input.trim();
    let v = match t.to_ascii_lowercase().as_str() {
        "nan" => f64::NAN,
        "infinity" | "+infinity" | "inf" | "+inf" => f64::INFINITY,
        "-infinity" | "-inf" => f64::NEG_INFINITY,
        _ => t.parse::<f64>().map_err(|_| invalid(ty, input))?,
    };
    if v.is_infinite() && !t.to_ascii_lowercase().contains("inf") {
        return Err(PgError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("\"{input}\" is out of range for type {ty}"),
        ));
    }
    Ok(v)
}

pub fn parse_uuid(input: &str) -> PgResult<String> {
    let t = input.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid("uuid", input));
    }
    let h = hex.to_ascii_lowercase();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

pub fn parse_bytea(input: &str) -> PgResult<Vec<u8>> {
    if let Some(hex) = input.strip_prefix("\\x") {
        // PostgreSQL reports hex errors as invalid_parameter_value (22023).
        let bad = |msg: String| PgError::new(code::INVALID_PARAMETER_VALUE, msg);
        let mut out = Vec::with_capacity(hex.len() / 2);
        let mut chars = hex.chars().filter(|c| !c.is_ascii_whitespace());
        while let Some(hi) = chars.next() {
            let h = hi
                .to_digit(16)
                .ok_or_else(|| bad(format!("invalid hexadecimal digit: \"{hi}\"")))?;
            let lo = chars
                .next()
                .ok_or_else(|| bad("invalid hexadecimal data: odd number of digits".into()))?;
            let l = lo
                .to_digit(16)
                .ok_or_else(|| bad(format!("invalid hexadecimal digit: \"{lo}\"")))?;
            out.push((h * 16 + l) as u8);
        }
        return Ok(out);
    }
    // Escape format: backslash-octal and doubled backslashes.
    let b = input.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
            } else if i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = (b[i + 1] - b'0') as u32 * 64
                    + (b[i + 2] - b'0') as u32 * 8
                    + (b[i + 3] - b'0') as u32;
                if v > 255 {
                    return Err(invalid("bytea", input));
                }
                out.push(v as u8);
                i += 4;
            } else {
                return Err(invalid("bytea", input));
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn hex_encode(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + b.len() * 2);
    s.push_str("\\x");
    for x in b {
        s.push(HEX[(x >> 4) as usize] as char);
        s.push(HEX[(x & 15) as usize] as char);
    }
    s
}

/// Validate JSON text; `json` keeps the text as written.
pub fn parse_json(input: &str) -> PgResult<String> {
    serde_json::from_str::<serde_json::Value>(input)
        .map_err(|e| invalid("json", input).with_detail(format!("{e}")))?;
    Ok(input.to_string())
}

/// Normalise JSON as `jsonb` prints it: keys sorted (shorter first), last duplicate wins,
/// `", "` and `": "` separators, numbers as numeric.
pub fn parse_jsonb(input: &str) -> PgResult<String> {
    let v: serde_json::Value = serde_json::from_str(input)
        .map_err(|e| invalid("json", input).with_detail(format!("{e}")))?;
    let mut out = String::new();
    write_jsonb(&v, &mut out);
    Ok(out)
}

pub fn write_jsonb(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => {
            let s = n.to_string();
            match numeric::parse(&s) {
                Ok(c) => out.push_str(&c),
                Err(_) => out.push_str(&s),
            }
        }
        J::String(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
        J::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_jsonb(x, out);
            }
            out.push(']');
        }
        J::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_jsonb(&m[*k], out);
            }
            out.push('}');
        }
    }
}

/// Text input for one value of `ty`, producing the canonical stored value.
pub fn from_text(ty: PgType, input: &str, zone: &Zone) -> PgResult<Value> {
    if ty.array {
        return array_from_text(ty.scalar, input, zone);
    }
    Ok(match ty.scalar {
        Scalar::Bool => Value::Integer(parse_bool(input)? as i64),
        s @ (Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Oid) => {
            Value::Integer(parse_int(s, input)?)
        }
        Scalar::Regclass | Scalar::Regtype | Scalar::Regproc => match parse_int(Scalar::Oid, input)
        {
            Ok(o) => Value::Integer(o),
            Err(e) => reg_from_name(ty.scalar, input).ok_or(e)?,
        },
        Scalar::Float4 => {
            let v = parse_float(input, "real")?;
            let f = v as f32;
            if f.is_infinite() && !v.is_infinite() {
                return Err(PgError::new(
                    code::NUMERIC_VALUE_OUT_OF_RANGE,
                    format!("\"{input}\" is out of range for type real"),
                ));
            }
            Value::Real(f as f64)
        }
        Scalar::Float8 => Value::Real(parse_float(input, "double precision")?),
        Scalar::Numeric => Value::Text(numeric::parse(input)?),
        Scalar::Text | Scalar::Varchar | Scalar::Bpchar | Scalar::Name | Scalar::PgNodeTree => {
            Value::Text(input.to_string())
        }
        Scalar::Int2Vector | Scalar::OidVector => vector_from_text(ty.scalar, input)?,
        Scalar::Char => Value::Text(input.chars().take(1).collect()),
        Scalar::Bytea => Value::Blob(parse_bytea(input)?),
        Scalar::Date => Value::Text(datetime::parse_date(input)?),
        Scalar::Time => Value::Text(datetime::parse_time(input)?),
        Scalar::Timestamp => Value::Text(datetime::parse_timestamp(input)?),
        Scalar::Timestamptz => Value::Text(datetime::parse_timestamptz(input, zone)?),
        Scalar::Interval => Value::Text(datetime::parse_interval(input)?.format_postgres()),
        Scalar::Uuid => Value::Text(parse_uuid(input)?),
        Scalar::Json => Value::Text(parse_json(input)?),
        Scalar::Jsonb => Value::Text(parse_jsonb(input)?),
    })
}

fn bin_err(ty: PgType) -> PgError {
    PgError::new(
        code::INVALID_BINARY_REPRESENTATION,
        format!("incorrect binary data format for type {}", ty.name()),
    )
}

fn fixed<const N: usize>(b: &[u8], ty: PgType) -> PgResult<[u8; N]> {
    b.try_into().map_err(|_| bin_err(ty))
}

/// Binary input for one value of `ty`.
pub fn from_binary(ty: PgType, b: &[u8]) -> PgResult<Value> {
    if ty.array {
        return array_from_binary(ty, b);
    }
    let utf8 = |b: &[u8]| -> PgResult<String> {
        String::from_utf8(b.to_vec()).map_err(|_| {
            PgError::new(
                code::CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\"",
            )
        })
    };
    Ok(match ty.scalar {
        Scalar::Bool => Value::Integer((fixed::<1>(b, ty)?[0] != 0) as i64),
        Scalar::Int2 => Value::Integer(i16::from_be_bytes(fixed(b, ty)?) as i64),
        Scalar::Int4 => Value::Integer(i32::from_be_bytes(fixed(b, ty)?) as i64),
        Scalar::Int8 => Value::Integer(i64::from_be_bytes(fixed(b, ty)?)),
        Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc => {
            Value::Integer(u32::from_be_bytes(fixed(b, ty)?) as i64)
        }
        Scalar::Float4 => Value::Real(f32::from_be_bytes(fixed(b, ty)?) as f64),
        Scalar::Float8 => Value::Real(f64::from_be_bytes(fixed(b, ty)?)),
        Scalar::Numeric => Value::Text(numeric::from_binary(b)?),
        Scalar::Text
        | Scalar::Varchar
        | Scalar::Bpchar
        | Scalar::Name
        | Scalar::PgNodeTree
        | Scalar::Int2Vector
        | Scalar::OidVector
        | Scalar::Char => Value::Text(utf8(b)?),
        Scalar::Json => Value::Text(parse_json(&utf8(b)?)?),
        Scalar::Jsonb => {
            if b.first() != Some(&1) {
                return Err(bin_err(ty));
            }
            Value::Text(parse_jsonb(&utf8(&b[1..])?)?)
        }
        Scalar::Bytea => Value::Blob(b.to_vec()),
        Scalar::Date => {
            let days = i32::from_be_bytes(fixed(b, ty)?);
            let d = datetime::pg_epoch().date() + chrono::Duration::days(days as i64);
            Value::Text(datetime::format_date(&d))
        }
        Scalar::Time => {
            let us = i64::from_be_bytes(fixed(b, ty)?);
            let t = chrono::NaiveTime::MIN + chrono::Duration::microseconds(us);
            Value::Text(datetime::format_time(&t))
        }
        Scalar::Timestamp | Scalar::Timestamptz => {
            let us = i64::from_be_bytes(fixed(b, ty)?);
            let text = match us {
                i64::MAX => "infinity".to_string(),
                i64::MIN => "-infinity".to_string(),
                _ => {
                    let t = datetime::from_micros_since_pg_epoch(us).ok_or_else(|| bin_err(ty))?;
                    if ty.scalar == Scalar::Timestamptz {
                        datetime::format_timestamptz_utc(&t)
                    } else {
                        datetime::format_timestamp(&t)
                    }
                }
            };
            Value::Text(text)
        }
        Scalar::Interval => {
            let raw: [u8; 16] = fixed(b, ty)?;
            let mut us = [0u8; 8];
            us.copy_from_slice(&raw[0..8]);
            let mut d = [0u8; 4];
            d.copy_from_slice(&raw[8..12]);
            let mut m = [0u8; 4];
            m.copy_from_slice(&raw[12..16]);
            let iv = Interval {
                micros: i64::from_be_bytes(us),
                days: i32::from_be_bytes(d),
                months: i32::from_be_bytes(m),
            };
            Value::Text(iv.format_postgres())
        }
        Scalar::Uuid => {
            let raw: [u8; 16] = fixed(b, ty)?;
            let hex: String = raw.iter().map(|x| format!("{x:02x}")).collect();
            Value::Text(parse_uuid(&hex)?)
        }
    })
}

/// PostgreSQL's float output: shortest round-trip digits, `%g`-style exponent switch.
pub fn format_float(v: f64, float4: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = if float4 {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    // sci looks like "-1.2345e-7"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let limit = if float4 { 6 } else { 15 };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= limit {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// The value as text, whatever SQLite storage class it has (for untyped expression results).
fn raw_text(v: ValueRef) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => format_float(f, false),
        ValueRef::Text(t) => crate::store::utf8_owned(t),
        ValueRef::Blob(b) => hex_encode(b),
    }
}

fn as_i64(ty: PgType, v: ValueRef) -> PgResult<i64> {
    match v {
        ValueRef::Integer(i) => Ok(i),
        ValueRef::Real(f) => {
            if f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64 {
                Ok(f as i64)
            } else {
                Err(out_of_range(int_range(ty.scalar).3))
            }
        }
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            if ty.scalar == Scalar::Bool {
                return parse_bool(&s).map(|b| b as i64);
            }
            s.trim()
                .parse::<i64>()
                .map_err(|_| invalid(int_range(ty.scalar).2, &s))
        }
        _ => Err(bin_err(ty)),
    }
}

fn as_f64(v: ValueRef) -> Option<f64> {
    match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn as_str(v: ValueRef) -> String {
    raw_text(v)
}

/// Output one value of `ty` in text format (`None` for NULL).
pub fn to_text(ty: PgType, v: ValueRef, style: &OutputStyle) -> PgResult<Option<String>> {
    if matches!(v, ValueRef::Null) {
        return Ok(None);
    }
    if ty.array {
        return array_to_text(ty.scalar, v, style).map(Some);
    }
    let s = match ty.scalar {
        Scalar::Bool => {
            if as_i64(ty, v)? != 0 {
                "t".into()
            } else {
                "f".into()
            }
        }
        // regtype prints the type's name, as format_type() does.
        Scalar::Regtype => {
            let oid = as_i64(ty, v)?;
            match PgType::from_oid(oid as u32) {
                Some(t) => t.format(-1),
                None => oid.to_string(),
            }
        }
        s @ (Scalar::Int2
        | Scalar::Int4
        | Scalar::Int8
        | Scalar::Oid
        | Scalar::Regclass
        | Scalar::Regproc) => check_int(s, as_i64(ty, v)?)?.to_string(),
        Scalar::Float4 | Scalar::Float8 => match as_f64(v) {
            Some(f) => format_float(f, ty.scalar == Scalar::Float4),
            None => as_str(v),
        },
        Scalar::Numeric => match v {
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => numeric_from_f64(f),
            _ => as_str(v),
        },
        Scalar::Bytea => match v {
            ValueRef::Blob(b) if style.bytea_escape => bytea_escape(b),
            ValueRef::Blob(b) => hex_encode(b),
            ValueRef::Text(t) => hex_encode(t),
            _ => as_str(v),
        },
        Scalar::Timestamptz => {
            let s = as_str(v);
            datetime::timestamptz_out(&s, &style.zone)
        }
        Scalar::Interval => {
            let s = as_str(v);
            match (style.interval_iso, datetime::stored_interval(&s)) {
                (true, Some(iv)) => iv.format_iso(),
                _ => s,
            }
        }
        Scalar::Int2Vector | Scalar::OidVector => vector_to_text(v),
        _ => as_str(v),
    };
    Ok(Some(s))
}

/// A `regclass` / `regtype` / `regproc` given by name. Types and functions resolve here;
/// a relation name is kept as text for `pg_regclass()` to resolve against the catalog.
fn reg_from_name(scalar: Scalar, input: &str) -> Option<Value> {
    let oid = match scalar {
        Scalar::Regtype => crate::sql::types::type_by_name(input).map(|d| d.ty.oid()),
        Scalar::Regproc => crate::sql::pg_catalog::regproc_oid(input),
        _ => match crate::sql::pg_catalog::system_relation_oid(input.trim()) {
            Some(o) => Some(o),
            None => return Some(Value::Text(input.trim().to_string())),
        },
    };
    oid.map(|o| Value::Integer(o as i64))
}

/// int2vector / oidvector are stored like arrays (a JSON array) and print space-separated.
fn vector_to_text(v: ValueRef) -> String {
    let s = as_str(v);
    match serde_json::from_str::<Vec<serde_json::Value>>(&s) {
        Ok(items) => items
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => s,
    }
}

fn vector_from_text(scalar: Scalar, input: &str) -> PgResult<Value> {
    let elem = if scalar == Scalar::Int2Vector {
        Scalar::Int2
    } else {
        Scalar::Oid
    };
    let mut out = Vec::new();
    for part in input.split_whitespace() {
        out.push(Value::Integer(parse_int(elem, part)?));
    }
    Ok(array_store(&out))
}

/// Numeric text for a float that SQLite computed (avg of a numeric column and such).
pub fn numeric_from_f64(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    let s = format!("{f}");
    numeric::parse(&s).unwrap_or(s)
}

fn bytea_escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &x in b {
        match x {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(x as char),
            _ => s.push_str(&format!("\\{x:03o}")),
        }
    }
    s
}

/// Output one value of `ty` in binary format (`None` for NULL).
pub fn to_binary(ty: PgType, v: ValueRef) -> PgResult<Option<Vec<u8>>> {
    if matches!(v, ValueRef::Null) {
        return Ok(None);
    }
    if ty.array {
        return array_to_binary(ty, v).map(Some);
    }
    let bytes = match ty.scalar {
        Scalar::Bool => vec![(as_i64(ty, v)? != 0) as u8],
        Scalar::Int2 => (check_int(Scalar::Int2, as_i64(ty, v)?)? as i16)
            .to_be_bytes()
            .to_vec(),
        Scalar::Int4 => (check_int(Scalar::Int4, as_i64(ty, v)?)? as i32)
            .to_be_bytes()
            .to_vec(),
        Scalar::Int8 => as_i64(ty, v)?.to_be_bytes().to_vec(),
        Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc => {
            (check_int(Scalar::Oid, as_i64(ty, v)?)? as u32)
                .to_be_bytes()
                .to_vec()
        }
        Scalar::Float4 => (as_f64(v).ok_or_else(|| bin_err(ty))? as f32)
            .to_be_bytes()
            .to_vec(),
        Scalar::Float8 => as_f64(v).ok_or_else(|| bin_err(ty))?.to_be_bytes().to_vec(),
        Scalar::Numeric => {
            let text = match v {
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(f) => numeric_from_f64(f),
                _ => numeric::parse(&as_str(v))?,
            };
            numeric::to_binary(&text)
        }
        Scalar::Bytea => match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
            _ => as_str(v).into_bytes(),
        },
        Scalar::Jsonb => {
            let mut b = vec![1u8];
            b.extend_from_slice(as_str(v).as_bytes());
            b
        }
        Scalar::Date => {
            let s = as_str(v);
            let d = datetime::stored_date(&s).ok_or_else(|| bin_err(ty))?;
            ((d - datetime::pg_epoch().date()).num_days() as i32)
                .to_be_bytes()
                .to_vec()
        }
        Scalar::Time => {
            let s = as_str(v);
            let t = datetime::stored_time(&s).ok_or_else(|| bin_err(ty))?;
            (t - chrono::NaiveTime::MIN)
                .num_microseconds()
                .unwrap_or(0)
                .to_be_bytes()
                .to_vec()
        }
        Scalar::Timestamp | Scalar::Timestamptz => {
            let s = as_str(v);
            let us = match s.as_str() {
                "infinity" => i64::MAX,
                "-infinity" => i64::MIN,
                _ => datetime::micros_since_pg_epoch(
                    &datetime::stored_timestamp(&s).ok_or_else(|| bin_err(ty))?,
                ),
            };
            us.to_be_bytes().to_vec()
        }
        Scalar::Interval => {
            let iv = datetime::stored_interval(&as_str(v)).ok_or_else(|| bin_err(ty))?;
            let mut b = iv.micros.to_be_bytes().to_vec();
            b.extend_from_slice(&iv.days.to_be_bytes());
            b.extend_from_slice(&iv.months.to_be_bytes());
            b
        }
        Scalar::Uuid => {
            let s = as_str(v);
            let hex: String = s.chars().filter(|c| *c != '-').collect();
            if hex.len() != 32 {
                return Err(bin_err(ty));
            }
            (0..16)
                .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| bin_err(ty)))
                .collect::<PgResult<Vec<u8>>>()?
        }
        Scalar::Char => as_str(v).into_bytes().into_iter().take(1).collect(),
        Scalar::Int2Vector => array_to_binary(PgType::array_of(Scalar::Int2), v)?,
        Scalar::OidVector => array_to_binary(PgType::array_of(Scalar::Oid), v)?,
        _ => as_str(v).into_bytes(),
    };
    Ok(Some(bytes))
}

// ---- arrays: stored as a JSON array of canonical element values ----

fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Real(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(t) => serde_json::Value::String(t.clone()),
        Value::Blob(b) => serde_json::Value::String(hex_encode(b)),
    }
}

fn value_of_json(scalar: Scalar, j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(*b as i64),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Integer(i)
            } else if scalar == Scalar::Numeric {
                Value::Text(n.to_string())
            } else {
                Value::Real(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => {
            if scalar == Scalar::Bytea {
                Value::Blob(parse_bytea(s).unwrap_or_default())
            } else {
                Value::Text(s.clone())
            }
        }
        other => Value::Text(other.to_string()),
    }
}

/// Build the stored form of an array from its element values.
pub fn array_store(elems: &[Value]) -> Value {
    let arr: Vec<serde_json::Value> = elems.iter().map(json_of).collect();
    Value::Text(serde_json::Value::Array(arr).to_string())
}

/// Elements of a stored array.
pub fn array_elements(scalar: Scalar, v: ValueRef) -> PgResult<Vec<Value>> {
    let s = as_str(v);
    let j: serde_json::Value = serde_json::from_str(&s)
        .map_err(|_| PgError::new(code::DATA_CORRUPTED, format!("malformed stored array: {s}")))?;
    match j {
        serde_json::Value::Array(a) => Ok(a.iter().map(|x| value_of_json(scalar, x)).collect()),
        _ => Err(PgError::new(
            code::DATA_CORRUPTED,
            format!("malformed stored array: {s}"),
        )),
    }
}

fn malformed_array(input: &str, detail: &str) -> PgError {
    PgError::new(
        code::INVALID_TEXT_REPRESENTATION,
        format!("malformed array literal: \"{input}\""),
    )
    .with_detail(detail.to_string())
}

/// Parse `{a,"b c",NULL}` into element strings (None = NULL).
pub fn split_array_literal(input: &str) -> PgResult<Vec<Option<String>>> {
    let t = input.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .ok_or_else(|| {
            malformed_array(
                input,
                "Array value must start with \"{\" or dimension information.",
            )
        })?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '{' {
            return Err(PgError::unsupported("multi-dimensional arrays"));
        }
        let mut cur = String::new();
        let mut quoted = false;
        if i < chars.len() && chars[i] == '"' {
            quoted = true;
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(malformed_array(input, "Unexpected end of input.")),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(c) = chars.get(i + 1) {
                            cur.push(*c);
                        }
                        i += 2;
                    }
                    Some(c) => {
                        cur.push(*c);
                        i += 1;
                    }
                }
            }
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != ',' {
                if chars[i] == '\\' {
                    if let Some(c) = chars.get(i + 1) {
                        cur.push(*c);
                    }
                    i += 2;
                    continue;
                }
                if chars[i] == '"' || chars[i] == '{' || chars[i] == '}' {
                    return Err(malformed_array(input, "Unexpected array element."));
                }
                cur.push(chars[i]);
                i += 1;
            }
            cur = cur.trim_end().to_string();
        }
        if !quoted && cur.eq_ignore_ascii_case("null") {
            out.push(None);
        } else {
            out.push(Some(cur));
        }
        match chars.get(i) {
            None => break,
            Some(',') => i += 1,
            Some(_) => return Err(malformed_array(input, "Unexpected array element.")),
        }
    }
    Ok(out)
}

fn array_from_text(scalar: Scalar, input: &str, zone: &Zone) -> PgResult<Value> {
    let elems = split_array_literal(input)?
        .into_iter()
        .map(|e| match e {
            None => Ok(Value::Null),
            Some(s) => from_text(PgType::scalar(scalar), &s, zone),
        })
        .collect::<PgResult<Vec<_>>>()?;
    Ok(array_store(&elems))
}

fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace())
}

fn array_to_text(scalar: Scalar, v: ValueRef, style: &OutputStyle) -> PgResult<String> {
    let elems = array_elements(scalar, v)?;
    let mut out = String::from("{");
    for (i, e) in elems.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match to_text(PgType::scalar(scalar), ValueRef::from(e), style)? {
            None => out.push_str("NULL"),
            Some(s) if needs_quotes(&s) => {
                out.push('"');
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            Some(s) => out.push_str(&s),
        }
    }
    out.push('}');
    Ok(out)
}

fn array_to_binary(ty: PgType, v: ValueRef) -> PgResult<Vec<u8>> {
    let elems = array_elements(ty.scalar, v)?;
    let mut b = Vec::new();
    let has_null = elems.iter().any(|e| matches!(e, Value::Null));
    if elems.is_empty() {
        b.extend_from_slice(&0i32.to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes());
        b.extend_from_slice(&ty.scalar.oid().to_be_bytes());
        return Ok(b);
    }
    b.extend_from_slice(&1i32.to_be_bytes());
    b.extend_from_slice(&(has_null as i32).to_be_bytes());
    b.extend_from_slice(&ty.scalar.oid().to_be_bytes());
    b.extend_from_slice(&(elems.len() as i32).to_be_bytes());
    b.extend_from_slice(&1i32.to_be_bytes());
    for e in &elems {
        match to_binary(PgType::scalar(ty.scalar), ValueRef::from(e))? {
            None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(x) => {
                b.extend_from_slice(&(x.len() as i32).to_be_bytes());
                b.extend_from_slice(&x);
            }
        }
    }
    Ok(b)
}

fn array_from_binary(ty: PgType, b: &[u8]) -> PgResult<Value> {
    let err = || bin_err(ty);
    let rd32 = |i: usize| -> PgResult<i32> {
        b.get(i..i + 4)
            .map(|x| i32::from_be_bytes([x[0], x[1], x[2], x[3]]))
            .ok_or_else(err)
    };
    let ndim = rd32(0)?;
    if ndim == 0 {
        return Ok(array_store(&[]));
    }
    if ndim != 1 {
        return Err(PgError::unsupported("multi-dimensional arrays"));
    }
    let n = rd32(12)?;
    if n < 0 {
        return Err(err());
    }
    let mut pos = 20;
    let mut elems = Vec::with_capacity((n as usize).min(1 << 16));
    for _ in 0..n {
        let len = rd32(pos)?;
        pos += 4;
        if len < 0 {
            elems.push(Value::Null);
            continue;
        }
        let end = pos.checked_add(len as usize).ok_or_else(err)?;
        let slice = b.get(pos..end).ok_or_else(err)?;
        elems.push(from_binary(PgType::scalar(ty.scalar), slice)?);
        pos = end;
    }
    Ok(array_store(&elems))
}

/// Enforce a column's type modifier on a canonical value (varchar/char length, numeric scale,
/// timestamp precision). Returns the value to store.
pub fn apply_typmod(ty: PgType, typmod: i32, v: Value) -> PgResult<Value> {
    if typmod < 0 || ty.array {
        return Ok(v);
    }
    match (ty.scalar, v) {
        (Scalar::Varchar, Value::Text(s)) => {
            let max = (typmod - 4) as usize;
            if s.chars().count() > max {
                // PostgreSQL silently drops trailing spaces beyond the limit.
                let trimmed: String = s.trim_end_matches(' ').to_string();
                if trimmed.chars().count() <= max {
                    return Ok(Value::Text(s.chars().take(max).collect()));
                }
                return Err(PgError::new(
                    code::STRING_DATA_RIGHT_TRUNCATION,
                    format!("value too long for type character varying({max})"),
                ));
            }
            Ok(Value::Text(s))
        }
        (Scalar::Bpchar, Value::Text(s)) => {
            let max = (typmod - 4) as usize;
            let n = s.chars().count();
            if n > max {
                let trimmed = s.trim_end_matches(' ');
                if trimmed.chars().count() <= max {
                    return Ok(Value::Text(s.chars().take(max).collect()));
                }
                return Err(PgError::new(
                    code::STRING_DATA_RIGHT_TRUNCATION,
                    format!("value too long for type character({max})"),
                ));
            }
            let mut s = s;
            s.extend(std::iter::repeat_n(' ', max - n));
            Ok(Value::Text(s))
        }
        (Scalar::Numeric, Value::Text(s)) => {
            let (p, sc) = super::types::numeric_precision_scale(typmod).unwrap_or((1000, 0));
            Ok(Value::Text(numeric::apply_typmod(&s, p, sc)?))
        }
        (Scalar::Numeric, Value::Integer(i)) => {
            let (p, sc) = super::types::numeric_precision_scale(typmod).unwrap_or((1000, 0));
            Ok(Value::Text(numeric::apply_typmod(&i.to_string(), p, sc)?))
        }
        (Scalar::Timestamp | Scalar::Timestamptz, Value::Text(s)) if typmod < 6 => {
            Ok(Value::Text(round_fraction(&s, typmod as usize)))
        }
        (_, v) => Ok(v),
    }
}

/// Round the fractional seconds of a stored timestamp to `digits`.
fn round_fraction(s: &str, digits: usize) -> String {
    let suffix = if s.ends_with("+00") { "+00" } else { "" };
    let Some(t) = datetime::stored_timestamp(s) else {
        return s.to_string();
    };
    let unit = 10i64.pow(6 - digits as u32);
    let us = datetime::micros_since_pg_epoch(&t);
    let rounded = (us as f64 / unit as f64).round() as i64 * unit;
    match datetime::from_micros_since_pg_epoch(rounded) {
        Some(r) => format!("{}{suffix}", datetime::format_timestamp(&r)),
        None => s.to_string(),
    }
}

/// Convert a stored value of one type into the canonical value of another (explicit casts done
/// at run time by the `pg_cast` SQL function, and assignment of computed values).
pub fn cast_value(
    from: Option<PgType>,
    to: PgType,
    typmod: i32,
    v: Value,
    style: &OutputStyle,
) -> PgResult<Value> {
    if matches!(v, Value::Null) {
        return Ok(Value::Null);
    }
    let same = from == Some(to);
    let converted = if same {
        v
    } else {
        match (to.array, to.scalar, &v) {
            (false, Scalar::Bool, Value::Integer(i))
                if from.is_none_or(|f| f.scalar.is_integer()) =>
            {
                Value::Integer((*i != 0) as i64)
            }
            (false, s, Value::Integer(i)) if s.is_integer() => Value::Integer(check_int(s, *i)?),
            (false, s, Value::Real(f)) if s.is_integer() => {
                // PostgreSQL rounds half away from zero... actually to nearest even for float->int.
                let r = f.round_ties_even();
                if !r.is_finite() || r < i64::MIN as f64 || r > i64::MAX as f64 {
                    return Err(out_of_range(int_range(s).3));
                }
                Value::Integer(check_int(s, r as i64)?)
            }
            (false, Scalar::Float4 | Scalar::Float8, Value::Integer(i)) => Value::Real(*i as f64),
            (false, Scalar::Float4, Value::Real(f)) => Value::Real(*f as f32 as f64),
            (false, Scalar::Float8, Value::Real(f)) => Value::Real(*f),
            (false, Scalar::Numeric, Value::Integer(i)) => Value::Text(i.to_string()),
            (false, Scalar::Numeric, Value::Real(f)) => Value::Text(numeric_from_f64(*f)),
            (false, s, Value::Text(t))
                if s.is_integer() && from.is_some_and(|f| f.scalar == Scalar::Numeric) =>
            {
                let d = numeric::to_decimal(t).ok_or_else(|| invalid("numeric", t))?;
                let r = d.with_scale_round(0, bigdecimal::RoundingMode::HalfUp);
                let i: i64 = r
                    .to_string()
                    .parse()
                    .map_err(|_| out_of_range(int_range(s).3))?;
                Value::Integer(check_int(s, i)?)
            }
            (false, Scalar::Float4 | Scalar::Float8, Value::Text(t))
                if from.is_some_and(|f| f.scalar == Scalar::Numeric) =>
            {
                Value::Real(t.parse::<f64>().map_err(|_| invalid("numeric", t))?)
            }
            (false, Scalar::Text | Scalar::Varchar | Scalar::Bpchar | Scalar::Name, _)
                if from.is_some_and(|f| f == PgType::BOOL) =>
            {
                // boolean's cast to text spells the words out (its output function does not).
                let b = matches!(v, Value::Integer(i) if i != 0);
                Value::Text(if b { "true" } else { "false" }.into())
            }
            (false, Scalar::Text | Scalar::Varchar | Scalar::Name, Value::Text(t))
                if from.is_some_and(|f| f == PgType::BPCHAR) =>
            {
                Value::Text(t.trim_end_matches(' ').to_string())
            }
            (false, Scalar::Text | Scalar::Varchar | Scalar::Bpchar | Scalar::Name, _) => {
                let text = match from {
                    Some(f) => to_text(f, ValueRef::from(&v), style)?.unwrap_or_default(),
                    None => raw_text(ValueRef::from(&v)),
                };
                Value::Text(text)
            }
            // Arrays are stored as JSON: go through the text form element by element.
            (true, _, Value::Text(_)) if from.is_some_and(|f| f.array) => {
                let text = match from {
                    Some(f) => to_text(f, ValueRef::from(&v), style)?.unwrap_or_default(),
                    None => raw_text(ValueRef::from(&v)),
                };
                from_text(to, &text, &style.zone)?
            }
            // timestamptz to a zone-less type: the wall-clock time in the session zone.
            (false, Scalar::Timestamp | Scalar::Time | Scalar::Date, Value::Text(_))
                if from.is_some_and(|f| f == PgType::TIMESTAMPTZ) =>
            {
                let local =
                    to_text(PgType::TIMESTAMPTZ, ValueRef::from(&v), style)?.unwrap_or_default();
                from_text(to, &local, &style.zone)?
            }
            (_, _, Value::Text(t)) => from_text(to, t, &style.zone)?,
            (_, _, Value::Blob(b)) if to.scalar == Scalar::Bytea && !to.array => {
                Value::Blob(b.clone())
            }
            (_, _, other) => {
                let text = match from {
                    Some(f) => to_text(f, ValueRef::from(other), style)?.unwrap_or_default(),
                    None => raw_text(ValueRef::from(other)),
                };
                from_text(to, &text, &style.zone)?
            }
        }
    };
    apply_typmod(to, typmod, converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(format_float(0.1, false), "0.1");
        assert_eq!(format_float(1e15, false), "1e+15");
        assert_eq!(format_float(123456789012345.0, false), "123456789012345");
        assert_eq!(format_float(0.0001, false), "0.0001");
        assert_eq!(format_float(0.00001, false), "1e-05");
        assert_eq!(format_float(1.5, false), "1.5");
        assert_eq!(format_float(-2.0, false), "-2");
        assert_eq!(format_float(1000000.0, true), "1e+06");
        assert_eq!(format_float(100000.0, true), "100000");
        assert_eq!(format_float(1.23456, true), "1.23456");
    }

    #[test]
    fn arrays() {
        let z = Zone::UTC;
        let v = from_text(PgType::array_of(Scalar::Int4), "{1, 2,NULL}", &z).unwrap();
        assert_eq!(v, Value::Text("[1,2,null]".into()));
        let st = OutputStyle::default();
        let out = to_text(PgType::array_of(Scalar::Int4), ValueRef::from(&v), &st)
            .unwrap()
            .unwrap();
        assert_eq!(out, "{1,2,NULL}");
        let t = from_text(PgType::array_of(Scalar::Text), r#"{a,"b c","d\"e",""}"#, &z).unwrap();
        let out = to_text(PgType::array_of(Scalar::Text), ValueRef::from(&t), &st)
            .unwrap()
            .unwrap();
        assert_eq!(out, r#"{a,"b c","d\"e",""}"#);
        let bin = to_binary(PgType::array_of(Scalar::Int4), ValueRef::from(&v))
            .unwrap()
            .unwrap();
        assert_eq!(
            from_binary(PgType::array_of(Scalar::Int4), &bin).unwrap(),
            v
        );
    }

    #[test]
    fn bools_and_text() {
        assert!(parse_bool("yes").unwrap());
        assert!(!parse_bool(" F ").unwrap());
        assert!(parse_bool("maybe").is_err());
        assert_eq!(
            parse_jsonb(r#"{"b":1, "a" : [1,2], "aa": 1.50}"#).unwrap(),
            r#"{"a": [1, 2], "b": 1, "aa": 1.50}"#
        );
        let v = apply_typmod(PgType::VARCHAR, 7, Value::Text("abcd".into()));
        assert_eq!(v.unwrap_err().code, code::STRING_DATA_RIGHT_TRUNCATION);
        let v = apply_typmod(PgType::BPCHAR, 8, Value::Text("ab".into())).unwrap();
        assert_eq!(v, Value::Text("ab  ".into()));
    }

    #[test]
    fn binary_round_trips() {
        let z = Zone::UTC;
        for (ty, s) in [
            (PgType::INT4, "42"),
            (PgType::FLOAT8, "1.5"),
            (PgType::NUMERIC, "-12.340"),
            (PgType::DATE, "2024-02-29"),
            (PgType::TIMESTAMP, "2024-01-01 10:11:12.5"),
            (PgType::TIMESTAMPTZ, "2024-01-01 10:11:12+00"),
            (PgType::INTERVAL, "1 year 2 mons 3 days 04:05:06"),
            (PgType::UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            (PgType::BOOL, "t"),
        ] {
            let v = from_text(ty, s, &z).unwrap();
            let b = to_binary(ty, ValueRef::from(&v)).unwrap().unwrap();
            let back = from_binary(ty, &b).unwrap();
            assert_eq!(back, v, "{ty:?}");
        }
    }
}
