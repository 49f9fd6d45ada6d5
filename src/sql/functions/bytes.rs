//! Binary-string functions: `md5`, the `sha2` family, `encode` / `decode` (hex, base64,
//! escape) with PostgreSQL's exact line wrapping and error messages, `convert_to/from`.

use rusqlite::Connection;
use rusqlite::types::Value;
use sha2::Digest;

use super::text::bytes_arg;
use super::{DET, text_arg, udf_err};
use crate::error::{PgError, PgResult, code};

/// MD5 (RFC 1321), for `md5()`; small enough not to need a dependency.
pub fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) =
        (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// PostgreSQL's base64 encoder: a newline after every 76 output characters.
pub fn base64_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len() * 4 / 3 + src.len() / 57 + 4);
    let mut line = 0;
    for chunk in src.chunks(3) {
        let buf = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        out.push(B64[(buf >> 18) as usize & 63] as char);
        out.push(B64[(buf >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(buf >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[buf as usize & 63] as char
        } else {
            '='
        });
        line += 4;
        if line >= 76 && chunk.len() == 3 {
            out.push('\n');
            line = 0;
        }
    }
    out
}

fn bad_param(msg: String) -> PgError {
    PgError::new(code::INVALID_PARAMETER_VALUE, msg)
}

/// PostgreSQL's base64 decoder, including its tolerance of data after the `=` padding.
pub fn base64_decode(src: &str) -> PgResult<Vec<u8>> {
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let (mut buf, mut pos, mut end) = (0u32, 0, 0);
    for c in src.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        let b = if c == '=' {
            if end == 0 {
                end = match pos {
                    2 => 1,
                    3 => 2,
                    _ => {
                        return Err(bad_param(
                            "unexpected \"=\" while decoding base64 sequence".into(),
                        ));
                    }
                };
            }
            0
        } else {
            match B64.iter().position(|x| *x as char == c) {
                Some(i) => i as u32,
                None => {
                    return Err(bad_param(format!(
                        "invalid symbol \"{c}\" found while decoding base64 sequence"
                    )));
                }
            }
        };
        buf = (buf << 6) + b;
        pos += 1;
        if pos == 4 {
            out.push((buf >> 16) as u8);
            if end == 0 || end > 1 {
                out.push((buf >> 8) as u8);
            }
            if end == 0 || end > 2 {
                out.push(buf as u8);
            }
            buf = 0;
            pos = 0;
        }
    }
    if pos != 0 {
        return Err(bad_param("invalid base64 end sequence".into())
            .with_hint("Input data is missing padding, is truncated, or is otherwise corrupted."));
    }
    Ok(out)
}

fn hex_digit(c: char) -> PgResult<u8> {
    c.to_digit(16)
        .map(|d| d as u8)
        .ok_or_else(|| bad_param(format!("invalid hexadecimal digit: \"{c}\"")))
}

pub fn hex_decode(src: &str) -> PgResult<Vec<u8>> {
    let mut out = Vec::with_capacity(src.len() / 2);
    let mut it = src.chars();
    while let Some(c) = it.next() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        let hi = hex_digit(c)?;
        let Some(c2) = it.next() else {
            return Err(bad_param(
                "invalid hexadecimal data: odd number of digits".into(),
            ));
        };
        out.push(hi << 4 | hex_digit(c2)?);
    }
    Ok(out)
}

pub fn escape_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len());
    for &b in src {
        match b {
            0 => out.push_str("\\000"),
            b'\\' => out.push_str("\\\\"),
            0x80.. => out.push_str(&format!("\\{b:03o}")),
            _ => out.push(b as char),
        }
    }
    out
}

pub fn escape_decode(src: &str) -> PgResult<Vec<u8>> {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if i + 3 < b.len()
            && (b'0'..=b'3').contains(&b[i + 1])
            && (b'0'..=b'7').contains(&b[i + 2])
            && (b'0'..=b'7').contains(&b[i + 3])
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            return Err(PgError::new(
                code::INVALID_TEXT_REPRESENTATION,
                "invalid input syntax for type bytea",
            ));
        }
    }
    Ok(out)
}

fn unknown_encoding(name: &str) -> PgError {
    bad_param(format!("unrecognized encoding: \"{name}\""))
}

pub fn encode(data: &[u8], format: &str) -> PgResult<String> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => Ok(hex(data)),
        "base64" => Ok(base64_encode(data)),
        "escape" => Ok(escape_encode(data)),
        _ => Err(unknown_encoding(format)),
    }
}

pub fn decode(data: &str, format: &str) -> PgResult<Vec<u8>> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => hex_decode(data),
        "base64" => base64_decode(data),
        "escape" => escape_decode(data),
        _ => Err(unknown_encoding(format)),
    }
}

fn check_utf8_name(name: &str) -> PgResult<()> {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    if n == "utf8" || n == "unicode" {
        Ok(())
    } else {
        Err(bad_param(format!(
            "invalid destination encoding name \"{name}\""
        )))
    }
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_md5", 1, DET, |c| {
        Ok(bytes_arg(c, 0).map(|b| hex(&md5(&b))))
    })?;
    for (name, bits) in [
        ("pg_sha224", 224),
        ("pg_sha256", 256),
        ("pg_sha384", 384),
        ("pg_sha512", 512),
    ] {
        conn.create_scalar_function(name, 1, DET, move |c| {
            Ok(bytes_arg(c, 0).map(|b| match bits {
                224 => sha2::Sha224::digest(&b).to_vec(),
                256 => sha2::Sha256::digest(&b).to_vec(),
                384 => sha2::Sha384::digest(&b).to_vec(),
                _ => sha2::Sha512::digest(&b).to_vec(),
            }))
        })?;
    }
    conn.create_scalar_function("pg_encode", 2, DET, |c| {
        match (bytes_arg(c, 0), text_arg(c, 1)) {
            (Some(b), Some(f)) => encode(&b, &f).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_decode", 2, DET, |c| {
        match (text_arg(c, 0), text_arg(c, 1)) {
            (Some(s), Some(f)) => decode(&s, &f).map(Some).map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    // convert_to(text, 'UTF8') / convert_from(bytea, 'UTF8'): only UTF-8 exists here.
    conn.create_scalar_function("pg_convert_to", 2, DET, |c| {
        match (text_arg(c, 0), text_arg(c, 1)) {
            (Some(s), Some(e)) => {
                check_utf8_name(&e).map_err(udf_err)?;
                Ok(Value::Blob(s.into_bytes()))
            }
            _ => Ok(Value::Null),
        }
    })?;
    conn.create_scalar_function("pg_convert_from", 2, DET, |c| {
        match (bytes_arg(c, 0), text_arg(c, 1)) {
            (Some(b), Some(e)) => {
                check_utf8_name(&e).map_err(udf_err)?;
                match std::str::from_utf8(&b) {
                    Ok(s) => Ok(Some(s.to_string())),
                    Err(e) => {
                        let at = e.valid_up_to();
                        let n = e.error_len().unwrap_or(b.len() - at).max(1);
                        let shown: Vec<String> =
                            b[at..at + n].iter().map(|x| format!("0x{x:02x}")).collect();
                        Err(udf_err(PgError::new(
                            code::CHARACTER_NOT_IN_REPERTOIRE,
                            format!(
                                "invalid byte sequence for encoding \"UTF8\": {}",
                                shown.join(" ")
                            ),
                        )))
                    }
                }
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
    fn md5_vectors() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        let long = vec![b'a'; 1000];
        assert_eq!(hex(&md5(&long)), "cabe45dcc9ae5b66ba86600cca6b8ba8");
    }

    #[test]
    fn base64_round_trip_and_pg_quirks() {
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        let s = base64_encode(&[b'x'; 57]);
        assert!(s.ends_with('\n') && s.len() == 77);
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aG=VsbG8").unwrap(), vec![0x68, 0xb1]);
        assert!(base64_decode("aGVsbG8").is_err());
        assert!(base64_decode("=").is_err());
        assert!(base64_decode("a%").is_err());
        for n in 0..70 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
    }

    #[test]
    fn hex_and_escape() {
        assert_eq!(hex_decode(" 61 62 ").unwrap(), b"ab");
        assert!(hex_decode("abc").is_err());
        assert!(hex_decode("zz").is_err());
        assert!(hex_decode("é").is_err());
        assert_eq!(
            escape_encode(&[0, 0x80, 0xff, b'\\', b'a']),
            "\\000\\200\\377\\\\a"
        );
        assert_eq!(escape_decode("a\\000b\\\\c").unwrap(), b"a\0b\\c");
        assert!(escape_decode("a\\9").is_err());
        assert!(escape_decode("\\").is_err());
    }
}
