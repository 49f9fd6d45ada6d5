//! `format(fmt, ...)`: PostgreSQL's `%s`, `%I`, `%L` and `%%` with positional arguments
//! (`%2$s`), widths (`%10s`, `%-10s`, `%*s`, `%*2$s`) and its error messages. The translator
//! passes every argument as its text output, as PostgreSQL's `format` does.

use rusqlite::Connection;

use super::text::{quote_ident, quote_literal};
use super::{DET, text_arg, udf_err, xcode};
use crate::error::{PgError, PgResult, code};

fn err(msg: &str) -> PgError {
    PgError::new(code::INVALID_PARAMETER_VALUE, msg.to_string())
}

fn unterminated() -> PgError {
    err("unterminated format() type specifier").with_hint("For a single \"%\" use \"%%\".")
}

fn too_few() -> PgError {
    err("too few arguments for format()")
}

/// Digits at `*i` as a number (PostgreSQL errors on int overflow).
fn digits(c: &[char], i: &mut usize) -> PgResult<Option<i64>> {
    if !c.get(*i).is_some_and(|d| d.is_ascii_digit()) {
        return Ok(None);
    }
    let mut n: i64 = 0;
    while let Some(d) = c.get(*i).and_then(|d| d.to_digit(10)) {
        n = n * 10 + d as i64;
        if n > i32::MAX as i64 {
            return Err(err("number is out of range"));
        }
        *i += 1;
        if *i >= c.len() {
            return Err(unterminated());
        }
    }
    Ok(Some(n))
}

/// `format`: `args[0]` is the format string; NULL arguments are `None`.
pub fn format(fmt: &str, args: &[Option<String>]) -> PgResult<String> {
    let c: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len());
    let mut arg = 0usize; // index into args of the next implicit argument
    let mut i = 0;
    let advance = |i: &mut usize| -> PgResult<()> {
        *i += 1;
        if *i >= c.len() {
            return Err(unterminated());
        }
        Ok(())
    };
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        advance(&mut i)?;
        if c[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut argpos: Option<usize> = None;
        let mut widthpos: Option<usize> = None; // Some(0) = next argument
        let mut width: i64 = 0;
        let mut minus = false;
        let mut done = false;
        if let Some(n) = digits(&c, &mut i)? {
            if c[i] == '$' {
                if n == 0 {
                    return Err(err(
                        "format specifies argument 0, but arguments are numbered from 1",
                    ));
                }
                argpos = Some(n as usize);
                advance(&mut i)?;
            } else {
                width = n;
                done = true;
            }
        }
        if !done {
            while c[i] == '-' {
                minus = true;
                advance(&mut i)?;
            }
            if c[i] == '*' {
                advance(&mut i)?;
                match digits(&c, &mut i)? {
                    Some(n) => {
                        if c[i] != '$' {
                            return Err(err("width argument position must be ended by \"$\""));
                        }
                        if n == 0 {
                            return Err(err(
                                "format specifies argument 0, but arguments are numbered from 1",
                            ));
                        }
                        widthpos = Some(n as usize);
                        advance(&mut i)?;
                    }
                    None => widthpos = Some(0),
                }
            } else if let Some(n) = digits(&c, &mut i)? {
                width = n;
            }
        }
        let kind = c[i];
        if !matches!(kind, 's' | 'I' | 'L') {
            return Err(
                err(&format!("unrecognized format() type specifier \"{kind}\""))
                    .with_hint("For a single \"%\" use \"%%\"."),
            );
        }
        i += 1;
        if let Some(wp) = widthpos {
            if wp > 0 {
                arg = wp - 1;
            }
            let w = args.get(arg).ok_or_else(too_few)?;
            width = match w {
                None => 0,
                Some(s) => s.trim().parse::<i64>().map_err(|_| {
                    PgError::new(
                        code::INVALID_TEXT_REPRESENTATION,
                        format!("invalid input syntax for type integer: \"{s}\""),
                    )
                })?,
            };
            if width < 0 {
                minus = true;
                if width <= i32::MIN as i64 {
                    return Err(err("number is out of range"));
                }
                width = -width;
            }
            arg += 1;
        }
        if let Some(p) = argpos {
            arg = p - 1;
        }
        let v = args.get(arg).ok_or_else(too_few)?;
        arg += 1;
        let s = match (kind, v) {
            ('s', None) => String::new(),
            ('s', Some(s)) => s.clone(),
            ('I', None) => {
                return Err(PgError::new(
                    xcode::NULL_VALUE_NOT_ALLOWED,
                    "null values cannot be formatted as an SQL identifier",
                ));
            }
            ('I', Some(s)) => quote_ident(s),
            (_, None) => "NULL".to_string(),
            (_, Some(s)) => quote_literal(s),
        };
        let len = s.chars().count() as i64;
        if width > len {
            let pad = " ".repeat((width - len) as usize);
            if minus {
                out.push_str(&s);
                out.push_str(&pad);
            } else {
                out.push_str(&pad);
                out.push_str(&s);
            }
        } else {
            out.push_str(&s);
        }
    }
    Ok(out)
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_format", -1, DET, |c| {
        if c.is_empty() {
            return Ok(None);
        }
        let Some(fmt) = text_arg(c, 0) else {
            return Ok(None);
        };
        let args: Vec<Option<String>> = (1..c.len()).map(|i| text_arg(c, i)).collect();
        format(&fmt, &args).map(Some).map_err(udf_err)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Option<&str>]) -> PgResult<String> {
        let a: Vec<Option<String>> = args.iter().map(|x| x.map(String::from)).collect();
        format(fmt, &a)
    }

    #[test]
    fn specifiers() {
        assert_eq!(
            f(
                "Hello %s, %I, %L",
                &[Some("World"), Some("Foo"), Some("O'x")]
            )
            .unwrap(),
            "Hello World, \"Foo\", 'O''x'"
        );
        assert_eq!(f("%2$s %1$s %s", &[Some("a"), Some("b")]).unwrap(), "b a b");
        assert_eq!(
            f("|%5s|%-5s|", &[Some("ab"), Some("cd")]).unwrap(),
            "|   ab|cd   |"
        );
        assert_eq!(f("|%*s|", &[Some("-4"), Some("x")]).unwrap(), "|x   |");
        assert_eq!(f("%s|%L", &[None, None]).unwrap(), "|NULL");
        assert_eq!(f("100%%", &[]).unwrap(), "100%");
        assert!(f("%", &[]).is_err());
        assert!(f("%5", &[]).is_err());
        assert!(f("%s %s", &[Some("a")]).is_err());
        assert!(f("%0$s", &[Some("a")]).is_err());
        assert!(f("%x", &[Some("a")]).is_err());
        assert!(f("%I", &[None]).is_err());
        assert!(f("%99999999999s", &[Some("a")]).is_err());
        assert!(f("%*", &[Some("1")]).is_err());
    }
}
