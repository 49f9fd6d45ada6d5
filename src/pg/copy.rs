//! COPY's text and CSV formats: splitting incoming CopyData into rows (rows may span messages)
//! and rendering rows for COPY TO STDOUT.

use crate::error::{PgError, PgResult, code};
use crate::sql::statement::{CopyFormat, CopyStmt};

/// Incremental row parser for COPY FROM STDIN.
pub struct CopyReader {
    opts: CopyStmt,
    buf: Vec<u8>,
    header_pending: bool,
    ended: bool,
    pub line: u64,
}

fn bad(msg: impl Into<String>) -> PgError {
    PgError::new(code::BAD_COPY_FILE_FORMAT, msg)
}

impl CopyReader {
    pub fn new(opts: CopyStmt) -> CopyReader {
        let header_pending = opts.header;
        CopyReader {
            opts,
            buf: Vec::new(),
            header_pending,
            ended: false,
            line: 0,
        }
    }

    /// Feed a CopyData payload; returns the complete rows it finished.
    pub fn feed(&mut self, data: &[u8]) -> PgResult<Vec<Vec<Option<String>>>> {
        self.buf.extend_from_slice(data);
        self.drain(false)
    }

    /// CopyDone: whatever is left must be a complete last row.
    pub fn finish(&mut self) -> PgResult<Vec<Vec<Option<String>>>> {
        if !self.buf.is_empty() && !self.buf.ends_with(b"\n") {
            self.buf.push(b'\n');
        }
        self.drain(true)
    }

    fn drain(&mut self, _final: bool) -> PgResult<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        let mut start = 0;
        loop {
            if self.ended {
                start = self.buf.len();
                break;
            }
            let end = match self.opts.format {
                CopyFormat::Csv => {
                    csv_record_end(&self.buf[start..], self.opts.quote, self.opts.escape)
                        .map(|e| start + e)
                }
                _ => self.buf[start..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map(|e| start + e),
            };
            let Some(end) = end else { break };
            let mut line = &self.buf[start..end];
            start = end + 1;
            if line.ends_with(b"\r") {
                line = &line[..line.len() - 1];
            }
            self.line += 1;
            if line == b"\\." {
                self.ended = true;
                continue;
            }
            if self.header_pending {
                self.header_pending = false;
                continue;
            }
            let text = crate::pg::protocol::utf8(line)?;
            let fields = match self.opts.format {
                CopyFormat::Csv => parse_csv(&text, &self.opts)?,
                _ => parse_text(&text, &self.opts)?,
            };
            rows.push(fields);
        }
        self.buf.drain(..start);
        Ok(rows)
    }
}

/// End of one CSV record (a newline outside quotes), relative to `b`.
fn csv_record_end(b: &[u8], quote: char, escape: char) -> Option<usize> {
    let (q, e) = (quote as u8, escape as u8);
    let mut in_q = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_q {
            if c == e && e != q && b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            if c == q {
                if e == q && b.get(i + 1) == Some(&q) {
                    i += 2;
                    continue;
                }
                in_q = false;
            }
        } else if c == q {
            in_q = true;
        } else if c == b'\n' {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn parse_text(line: &str, o: &CopyStmt) -> PgResult<Vec<Option<String>>> {
    let mut out = Vec::new();
    for raw in line.split(o.delimiter) {
        if raw == o.null {
            out.push(None);
            continue;
        }
        if !raw.contains('\\') {
            out.push(Some(raw.to_string()));
            continue;
        }
        let mut s = String::with_capacity(raw.len());
        let mut it = raw.chars().peekable();
        while let Some(c) = it.next() {
            if c != '\\' {
                s.push(c);
                continue;
            }
            match it.next() {
                Some('b') => s.push('\u{8}'),
                Some('f') => s.push('\u{c}'),
                Some('n') => s.push('\n'),
                Some('r') => s.push('\r'),
                Some('t') => s.push('\t'),
                Some('v') => s.push('\u{b}'),
                Some('x') => {
                    let mut v = 0u32;
                    let mut n = 0;
                    while n < 2 && it.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                        v = v * 16 + it.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
                        n += 1;
                    }
                    s.push(char::from_u32(v).unwrap_or('?'));
                }
                Some(d @ '0'..='7') => {
                    let mut v = d.to_digit(8).unwrap_or(0);
                    let mut n = 1;
                    while n < 3 && it.peek().is_some_and(|c| ('0'..='7').contains(c)) {
                        v = v * 8 + it.next().and_then(|c| c.to_digit(8)).unwrap_or(0);
                        n += 1;
                    }
                    s.push(char::from_u32(v).unwrap_or('?'));
                }
                Some(other) => s.push(other),
                None => return Err(bad("end-of-copy marker corrupt")),
            }
        }
        out.push(Some(s));
    }
    Ok(out)
}

fn parse_csv(line: &str, o: &CopyStmt) -> PgResult<Vec<Option<String>>> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    loop {
        let mut field = String::new();
        let mut quoted = false;
        let mut any_quote = false;
        while let Some(&c) = chars.get(i) {
            if quoted {
                // An escaped quote (a doubled quote when ESCAPE is QUOTE).
                if c == o.escape && chars.get(i + 1) == Some(&o.quote) {
                    field.push(o.quote);
                    i += 2;
                    continue;
                }
                if c == o.quote {
                    quoted = false;
                    i += 1;
                    continue;
                }
                field.push(c);
                i += 1;
            } else {
                if c == o.delimiter {
                    break;
                }
                if c == o.quote {
                    quoted = true;
                    any_quote = true;
                    i += 1;
                    continue;
                }
                field.push(c);
                i += 1;
            }
        }
        if quoted {
            return Err(bad("unterminated CSV quoted field"));
        }
        if !any_quote && field == o.null {
            out.push(None);
        } else {
            out.push(Some(field));
        }
        if i >= chars.len() {
            break;
        }
        i += 1; // delimiter
    }
    Ok(out)
}

/// Render one row for COPY TO (values already in text output form; None = NULL).
pub fn render(row: &[Option<String>], o: &CopyStmt, force_quote: &[bool]) -> String {
    let mut line = String::new();
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            line.push(o.delimiter);
        }
        match (v, o.format) {
            (None, CopyFormat::Csv) => line.push_str(&o.null),
            (None, _) => line.push_str(&o.null),
            (Some(s), CopyFormat::Csv) => {
                let needs = o.force_quote_all
                    || force_quote.get(i).copied().unwrap_or(false)
                    || s.is_empty() && o.null.is_empty()
                    || *s == o.null
                    || s.contains(o.delimiter)
                    || s.contains(o.quote)
                    || s.contains('\n')
                    || s.contains('\r');
                if needs {
                    line.push(o.quote);
                    for c in s.chars() {
                        if c == o.quote || c == o.escape {
                            line.push(o.escape);
                        }
                        line.push(c);
                    }
                    line.push(o.quote);
                } else {
                    line.push_str(s);
                }
            }
            (Some(s), _) => {
                for c in s.chars() {
                    match c {
                        '\\' => line.push_str("\\\\"),
                        '\n' => line.push_str("\\n"),
                        '\r' => line.push_str("\\r"),
                        '\t' => line.push_str("\\t"),
                        '\u{8}' => line.push_str("\\b"),
                        '\u{c}' => line.push_str("\\f"),
                        '\u{b}' => line.push_str("\\v"),
                        c if c == o.delimiter => {
                            line.push('\\');
                            line.push(c);
                        }
                        c => line.push(c),
                    }
                }
            }
        }
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::statement::{CopySource, Parsed, parse};

    fn opts(sql: &str) -> CopyStmt {
        match parse(sql).expect("test") {
            Parsed::Copy(c) => c,
            _ => panic!("not copy"),
        }
    }

    #[test]
    fn text_rows_across_chunks() {
        let mut r = CopyReader::new(opts("copy t from stdin"));
        let a = r.feed(b"1\tone\n2\t\\N\n3\ttw").expect("test");
        assert_eq!(
            a,
            vec![
                vec![Some("1".into()), Some("one".into())],
                vec![Some("2".into()), None]
            ]
        );
        let b = r.feed(b"o\\tx\n\\.\n").expect("test");
        assert_eq!(b, vec![vec![Some("3".into()), Some("two\tx".into())]]);
        assert!(r.finish().expect("test").is_empty());
    }

    #[test]
    fn csv_rows() {
        let o = opts("copy t from stdin with (format csv, header true)");
        let mut r = CopyReader::new(o.clone());
        let rows = r.feed(b"a,b\n1,\"x,\"\"y\"\"\nz\"\n2,\n").expect("test");
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("x,\"y\"\nz".into())],
                vec![Some("2".into()), None]
            ]
        );
        let line = render(&[Some("x,\"y".into()), None, Some("".into())], &o, &[]);
        assert_eq!(line, "\"x,\"\"y\",,\"\"\n");
        let _ = CopySource::Query(String::new());
    }
}
