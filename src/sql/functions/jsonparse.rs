//! A small JSON reader that keeps each value's exact source span, so that `json` operators can
//! return elements as they were written (PostgreSQL's `json` type preserves whitespace, key
//! order and duplicate keys), plus PostgreSQL's string escaping for output.

use crate::error::{PgError, PgResult, code};

/// Nesting deeper than this is refused (PostgreSQL stops at its stack depth limit).
const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    /// The number exactly as written.
    Num,
    /// The unescaped string.
    Str(String),
    Arr(Vec<Node>),
    /// Members in source order, duplicates kept.
    Obj(Vec<(String, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Node {
    /// The exact source text of this value.
    pub fn raw<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "boolean",
            Kind::Num => "number",
            Kind::Str(_) => "string",
            Kind::Arr(_) => "array",
            Kind::Obj(_) => "object",
        }
    }

    /// Member `key` of an object (the last one when duplicated, as PostgreSQL's `->`).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Element `i` of an array; negative counts from the end.
    pub fn index(&self, i: i64) -> Option<&Node> {
        match &self.kind {
            Kind::Arr(a) => {
                let idx = if i < 0 { a.len() as i64 + i } else { i };
                if idx < 0 { None } else { a.get(idx as usize) }
            }
            _ => None,
        }
    }

    /// The value as `->>` returns it: strings unescaped, JSON null as SQL NULL.
    pub fn as_text(&self, src: &str) -> Option<String> {
        match &self.kind {
            Kind::Null => None,
            Kind::Str(s) => Some(s.clone()),
            _ => Some(self.raw(src).to_string()),
        }
    }
}

fn invalid(_src: &str, detail: String) -> PgError {
    PgError::new(
        code::INVALID_TEXT_REPRESENTATION,
        "invalid input syntax for type json",
    )
    .with_detail(detail)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn token_err(&self) -> PgError {
        if self.i >= self.b.len() {
            return invalid(self.s, "The input string ended unexpectedly.".into());
        }
        let rest = &self.s[self.i..];
        let tok: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let tok = if tok.is_empty() {
            rest.chars().next().map(String::from).unwrap_or_default()
        } else {
            tok
        };
        invalid(self.s, format!("Token \"{tok}\" is invalid."))
    }

    fn value(&mut self, depth: usize) -> PgResult<Node> {
        if depth > MAX_DEPTH {
            return Err(PgError::new(
                super::xcode::STATEMENT_TOO_COMPLEX,
                "stack depth limit exceeded",
            ));
        }
        self.ws();
        let start = self.i;
        let Some(&c) = self.b.get(self.i) else {
            return Err(self.token_err());
        };
        let kind = match c {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.b.get(self.i) != Some(&b'"') {
                            return Err(self.token_err());
                        }
                        let k = self.string()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return Err(self.token_err());
                        }
                        self.i += 1;
                        let v = self.value(depth + 1)?;
                        members.push((k, v));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.token_err()),
                        }
                    }
                }
                Kind::Obj(members)
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.token_err()),
                        }
                    }
                }
                Kind::Arr(items)
            }
            b'"' => Kind::Str(self.string()?),
            b't' if self.s[self.i..].starts_with("true") => {
                self.i += 4;
                Kind::Bool(true)
            }
            b'f' if self.s[self.i..].starts_with("false") => {
                self.i += 5;
                Kind::Bool(false)
            }
            b'n' if self.s[self.i..].starts_with("null") => {
                self.i += 4;
                Kind::Null
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Kind::Num
            }
            _ => return Err(self.token_err()),
        };
        // A literal must not run into letters ("truex").
        if matches!(kind, Kind::Bool(_) | Kind::Null | Kind::Num)
            && self
                .b
                .get(self.i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i = start;
            return Err(self.token_err());
        }
        Ok(Node {
            kind,
            start,
            end: self.i,
        })
    }

    fn number(&mut self) -> PgResult<()> {
        let start = self.i;
        let digits = |p: &mut Self| -> usize {
            let s = p.i;
            while p.i < p.b.len() && p.b[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        let n = digits(self);
        let bad = |p: &mut Self| {
            p.i = start;
            p.token_err()
        };
        if n == 0 || (n > 1 && self.b[self.i - n] == b'0') {
            return Err(bad(self));
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(bad(self));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(bad(self));
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> PgResult<u32> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| {
            invalid(
                self.s,
                "\"\\u\" must be followed by four hexadecimal digits.".into(),
            )
        })?;
        let v = u32::from_str_radix(h, 16).map_err(|_| {
            invalid(
                self.s,
                "\"\\u\" must be followed by four hexadecimal digits.".into(),
            )
        })?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> PgResult<String> {
        // at the opening quote
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(self.token_err());
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let Some(&e) = self.b.get(self.i) else {
                        return Err(self.token_err());
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut v = self.hex4()?;
                            if (0xD800..0xDC00).contains(&v) {
                                if self.s[self.i..].starts_with("\\u") {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(invalid(
                                            self.s,
                                            "Unicode low surrogate must follow a high surrogate."
                                                .into(),
                                        ));
                                    }
                                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    return Err(invalid(
                                        self.s,
                                        "Unicode low surrogate must follow a high surrogate."
                                            .into(),
                                    ));
                                }
                            } else if (0xDC00..0xE000).contains(&v) {
                                return Err(invalid(
                                    self.s,
                                    "Unicode low surrogate must follow a high surrogate.".into(),
                                ));
                            }
                            if v == 0 {
                                return Err(PgError::new(
                                    code::UNTRANSLATABLE_CHARACTER,
                                    "unsupported Unicode escape sequence",
                                )
                                .with_detail("\\u0000 cannot be converted to text."));
                            }
                            out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            return Err(invalid(
                                self.s,
                                format!(
                                    "Escape sequence \"\\{}\" is invalid.",
                                    self.s[self.i - 1..].chars().next().unwrap_or(' ')
                                ),
                            ));
                        }
                    }
                }
                0..=0x1f => {
                    return Err(invalid(
                        self.s,
                        "Character with value 0x".to_string()
                            + &format!("{c:02x}")
                            + " must be escaped.",
                    ));
                }
                _ => {
                    // Copy one UTF-8 character.
                    let ch = self.s[self.i..].chars().next().unwrap_or('\u{fffd}');
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }
}

/// Parse a JSON document, keeping spans.
pub fn parse(src: &str) -> PgResult<Node> {
    let mut p = Parser {
        s: src,
        b: src.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.token_err());
    }
    Ok(v)
}

/// Append `s` as a JSON string literal, escaped as PostgreSQL escapes.
pub fn quote_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(s, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_lookup() {
        let src = r#" {"a": [1,  2], "a": {"b" : "x\u00e9"}, "n": null, "f": -1.5e3} "#;
        let v = parse(src).unwrap();
        assert_eq!(v.get("a").unwrap().raw(src), r#"{"b" : "x\u00e9"}"#);
        let b = v.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.as_text(src).unwrap(), "xé");
        assert_eq!(v.get("n").unwrap().as_text(src), None);
        assert_eq!(v.get("f").unwrap().raw(src), "-1.5e3");
        let arr = parse("[1,2,3]").unwrap();
        assert_eq!(arr.index(-1).unwrap().raw("[1,2,3]"), "3");
        assert!(arr.index(-4).is_none());
        assert!(arr.index(i64::MIN).is_none());
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "{",
            "[1,",
            "01",
            "1.",
            "-",
            "tru",
            "truex",
            "\"abc",
            "{\"a\" 1}",
            "[1 2]",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\u00\"",
            "{}}",
            "\u{1}",
            "\"é\\",
            "1e",
            "[-]",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_err());
        assert!(parse("\"\\ud83d\\ude00\"").is_ok());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\u0001é""#);
    }
}
