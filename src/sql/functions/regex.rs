//! Pattern matching with PostgreSQL semantics: POSIX-style regular expressions (`~`, `~*`,
//! `regexp_replace`, `regexp_match(es)`, `regexp_split_to_*`, `regexp_count/like/substr/instr`)
//! through the `regex` crate, and case-insensitive `ILIKE`.
//!
//! PostgreSQL's ARE dialect is translated where the two differ in spelling (`.` matches newline
//! by default, `\m \M \y \Y \Z`, `[[:<:]]`, flags `i c n m p w s x q`), and replacement strings
//! use PostgreSQL's `\1`..`\9` and `\&`. Known differences that remain: back-references and
//! look-around inside patterns are rejected (2201B), and alternation is leftmost-first rather
//! than POSIX leftmost-longest.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;
use rusqlite::Connection;
use rusqlite::functions::Context;

use super::{DET, int_arg, text_arg, udf_err};
use crate::error::{PgError, PgResult, code};

/// Options of one regular expression, from PostgreSQL's flag letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags {
    pub global: bool,
    pub icase: bool,
    /// `.` and `[^...]` stop at newlines (flags n, m, p).
    pub dot_no_newline: bool,
    /// `^` and `$` match at newlines (flags n, m, w).
    pub multiline: bool,
    pub expanded: bool,
    pub literal: bool,
}

/// Parse a flags string as `regexp_replace` and friends do.
pub fn parse_flags(s: &str) -> PgResult<Flags> {
    let mut f = Flags::default();
    for c in s.chars() {
        match c {
            'g' => f.global = true,
            'i' => f.icase = true,
            'c' => f.icase = false,
            'n' | 'm' => {
                f.dot_no_newline = true;
                f.multiline = true;
            }
            'p' => {
                f.dot_no_newline = true;
                f.multiline = false;
            }
            'w' => {
                f.dot_no_newline = false;
                f.multiline = true;
            }
            's' => {
                f.dot_no_newline = false;
                f.multiline = false;
            }
            'x' => f.expanded = true,
            'q' => f.literal = true,
            't' | 'e' => {}
            'b' => return Err(PgError::unsupported("basic regular expressions (flag b)")),
            other => {
                return Err(PgError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("invalid regular expression option: \"{other}\""),
                ));
            }
        }
    }
    Ok(f)
}

/// Rewrite PostgreSQL ARE spellings that the `regex` crate writes differently.
fn translate_pattern(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let c: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut in_bracket = false;
    while i < c.len() {
        let ch = c[i];
        if in_bracket {
            if ch == '[' && c.get(i + 1) == Some(&':') {
                // [:class:] inside a bracket: copy through the closing ":]".
                let rest: String = c[i..].iter().collect();
                if let Some(end) = rest.find(":]") {
                    out.push_str(&rest[..end + 2]);
                    i += rest[..end + 2].chars().count();
                    continue;
                }
            }
            if ch == '\\' {
                out.push(ch);
                if let Some(n) = c.get(i + 1) {
                    out.push(*n);
                }
                i += 2;
                continue;
            }
            if ch == ']' {
                in_bracket = false;
            }
            out.push(ch);
            i += 1;
            continue;
        }
        match ch {
            '\\' => {
                let n = c.get(i + 1).copied();
                match n {
                    Some('m') => out.push_str(r"\b{start}"),
                    Some('M') => out.push_str(r"\b{end}"),
                    Some('y') => out.push_str(r"\b"),
                    Some('Y') => out.push_str(r"\B"),
                    Some('Z') => out.push_str(r"\z"),
                    Some(x) => {
                        out.push('\\');
                        out.push(x);
                    }
                    None => out.push('\\'),
                }
                i += 2;
            }
            '[' => {
                let rest: String = c[i..].iter().take(7).collect();
                if rest == "[[:<:]]" {
                    out.push_str(r"\b{start}");
                    i += 7;
                    continue;
                }
                if rest == "[[:>:]]" {
                    out.push_str(r"\b{end}");
                    i += 7;
                    continue;
                }
                in_bracket = true;
                out.push('[');
                i += 1;
                // A leading ^ and a leading ] are part of the bracket.
                if c.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if c.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

fn invalid_regex(msg: impl std::fmt::Display) -> PgError {
    PgError::new(
        code::INVALID_REGULAR_EXPRESSION,
        format!("invalid regular expression: {msg}"),
    )
}

/// Explain a `regex` crate error in PostgreSQL's words where there is an equivalent.
fn regex_error(e: &regex::Error) -> PgError {
    let s = e.to_string();
    if s.contains("unclosed group") || s.contains("unopened group") {
        return invalid_regex("parentheses () not balanced");
    }
    if s.contains("unclosed character class") {
        return invalid_regex("brackets [] not balanced");
    }
    if s.contains("backreferences are not supported") {
        return PgError::unsupported("back-references in regular expressions");
    }
    if s.contains("look-around") {
        return PgError::unsupported("look-around in regular expressions");
    }
    if s.contains("exceeds size limit") {
        return invalid_regex("regular expression is too complex");
    }
    if s.contains("repetition operator missing expression") {
        return invalid_regex("quantifier operand invalid");
    }
    let last = s.lines().last().unwrap_or("").trim();
    invalid_regex(last.trim_start_matches("error: "))
}

thread_local! {
    static CACHE: RefCell<HashMap<(String, Flags), Arc<Regex>>> = RefCell::new(HashMap::new());
}

/// Compile (cached per thread) a PostgreSQL pattern with the given options.
pub fn compile(pattern: &str, flags: Flags) -> PgResult<Arc<Regex>> {
    let key_flags = Flags {
        global: false,
        ..flags
    };
    let key = (pattern.to_string(), key_flags);
    if let Some(r) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(r);
    }
    let body = if flags.literal {
        regex::escape(pattern)
    } else {
        translate_pattern(pattern)
    };
    let mut prefix = String::from("(?");
    if flags.icase {
        prefix.push('i');
    }
    if !flags.dot_no_newline {
        prefix.push('s');
    }
    if flags.multiline {
        prefix.push('m');
    }
    if flags.expanded {
        prefix.push('x');
    }
    prefix.push(')');
    let full = if prefix == "(?)" {
        body
    } else {
        format!("{prefix}{body}")
    };
    let r = regex::RegexBuilder::new(&full)
        .size_limit(32 << 20)
        .build()
        .map_err(|e| regex_error(&e))?;
    let r = Arc::new(r);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.insert(key, r.clone());
    });
    Ok(r)
}

/// Byte offset of the character at 1-based position `start` (clamped to the end).
fn char_offset(s: &str, start: i64) -> usize {
    if start <= 1 {
        return 0;
    }
    s.char_indices()
        .nth((start - 1) as usize)
        .map(|(i, _)| i)
        .unwrap_or(s.len())
}

/// Expand a PostgreSQL replacement string for one match.
fn expand(repl: &str, caps: &regex::Captures<'_>, out: &mut String) {
    let mut it = repl.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.peek().copied() {
            Some(d @ '1'..='9') => {
                it.next();
                if let Some(m) = caps.get(d as usize - '0' as usize) {
                    out.push_str(m.as_str());
                }
            }
            Some('&') => {
                it.next();
                if let Some(m) = caps.get(0) {
                    out.push_str(m.as_str());
                }
            }
            Some('\\') => {
                it.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
}

/// `regexp_replace(s, pattern, replacement, start, n, flags)`: replace the n-th match at or
/// after character `start` (all of them when n is 0).
pub fn replace(s: &str, re: &Regex, repl: &str, start: i64, n: i64) -> String {
    let from = char_offset(s, start);
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..from]);
    let mut last = from;
    let mut count = 0;
    let mut pos = from;
    while pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else {
            break;
        };
        count += 1;
        if n == 0 || count == n {
            out.push_str(&s[last..m.start()]);
            expand(repl, &caps, &mut out);
            last = m.end();
            if n != 0 {
                break;
            }
        }
        pos = if m.end() == m.start() {
            match s[m.end()..].chars().next() {
                Some(ch) => m.end() + ch.len_utf8(),
                None => break,
            }
        } else {
            m.end()
        };
    }
    out.push_str(&s[last..]);
    out
}

/// All matches with their capture groups, as PostgreSQL's `setup_regexp_matches` finds them.
/// `ignore_degenerate` drops empty matches at the start, the end, or right after a match
/// (what `regexp_split_*` wants).
fn find_all<'s>(
    s: &'s str,
    re: &Regex,
    start: usize,
    global: bool,
    ignore_degenerate: bool,
) -> Vec<regex::Captures<'s>> {
    let mut out = Vec::new();
    let mut pos = start;
    let mut prev_end = 0usize;
    while pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else {
            break;
        };
        let (so, eo) = (m.start(), m.end());
        if !ignore_degenerate || (so < s.len() && eo > prev_end) {
            out.push(caps);
        }
        prev_end = eo;
        if !global {
            break;
        }
        pos = if so == eo {
            match s[eo..].chars().next() {
                Some(ch) => eo + ch.len_utf8(),
                None => break,
            }
        } else {
            eo
        };
    }
    out
}

/// `regexp_split_to_array`.
pub fn split(s: &str, re: &Regex) -> Vec<String> {
    let mut out = Vec::new();
    let mut last = 0;
    for caps in find_all(s, re, 0, true, true) {
        if let Some(m) = caps.get(0) {
            out.push(s[last..m.start()].to_string());
            last = m.end();
        }
    }
    out.push(s[last..].to_string());
    out
}

/// The groups of one match as `regexp_match` returns them (the whole match without groups).
fn groups(caps: &regex::Captures<'_>) -> Vec<Option<String>> {
    if caps.len() == 1 {
        return vec![caps.get(0).map(|m| m.as_str().to_string())];
    }
    (1..caps.len())
        .map(|i| caps.get(i).map(|m| m.as_str().to_string()))
        .collect()
}

fn json_text_array<I: IntoIterator<Item = Option<String>>>(items: I) -> String {
    serde_json::Value::Array(
        items
            .into_iter()
            .map(|x| x.map(serde_json::Value::String).unwrap_or_default())
            .collect(),
    )
    .to_string()
}

fn no_global(fname: &str) -> PgError {
    PgError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("{fname}() does not support the \"global\" option"),
    )
}

fn bad_param(name: &str, v: i64) -> PgError {
    PgError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("invalid value for parameter \"{name}\": {v}"),
    )
}

/// `LIKE` pattern (with `\` escapes) to a regex body.
fn like_to_regex(p: &str) -> String {
    let mut out = String::from("^");
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&regex::escape(&n.to_string()));
                }
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    out
}

fn ilike_compiled(f: &Context<'_>) -> rusqlite::Result<Arc<Regex>> {
    if let Some(r) = f.get_aux::<Regex>(0)? {
        return Ok(r);
    }
    let pat = text_arg(f, 0).unwrap_or_default();
    let r = Regex::new(&format!("(?is){}", like_to_regex(&pat)))
        .map_err(|e| udf_err(PgError::internal(e.to_string())))?;
    f.set_aux(0, r)
}

fn flags_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<Flags>> {
    if i >= c.len() {
        return Ok(Some(Flags::default()));
    }
    match text_arg(c, i) {
        None => Ok(None),
        Some(s) => parse_flags(&s).map(Some).map_err(udf_err),
    }
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // SQLite's `x REGEXP y` calls regexp(y, x).
    conn.create_scalar_function("regexp", 2, DET, |f| {
        let (Some(p), Some(s)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let re = compile(&p, Flags::default()).map_err(udf_err)?;
        Ok(Some(re.is_match(&s)))
    })?;
    conn.create_scalar_function("pg_regexp_i", 2, DET, |f| {
        let (Some(p), Some(s)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let flags = Flags {
            icase: true,
            ..Flags::default()
        };
        let re = compile(&p, flags).map_err(udf_err)?;
        Ok(Some(re.is_match(&s)))
    })?;
    // pg_ilike(pattern, text)
    conn.create_scalar_function("pg_ilike", 2, DET, |f| {
        let Some(s) = text_arg(f, 1) else {
            return Ok(None);
        };
        if text_arg(f, 0).is_none() {
            return Ok(None);
        }
        Ok(Some(ilike_compiled(f)?.is_match(&s)))
    })?;
    // pg_regexp_replace(s, pattern, replacement, flags)
    conn.create_scalar_function("pg_regexp_replace", 4, DET, |c| {
        let (Some(s), Some(p), Some(r)) = (text_arg(c, 0), text_arg(c, 1), text_arg(c, 2)) else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 3)? else {
            return Ok(None);
        };
        let re = compile(&p, flags).map_err(udf_err)?;
        Ok(Some(replace(
            &s,
            &re,
            &r,
            1,
            if flags.global { 0 } else { 1 },
        )))
    })?;
    // pg_regexp_replace_n(s, pattern, replacement, start, n, flags); n NULL = not given.
    conn.create_scalar_function("pg_regexp_replace_n", 6, DET, |c| {
        let (Some(s), Some(p), Some(r)) = (text_arg(c, 0), text_arg(c, 1), text_arg(c, 2)) else {
            return Ok(None);
        };
        let Some(start) = int_arg(c, 3)? else {
            return Ok(None);
        };
        let n = int_arg(c, 4)?;
        let Some(flags) = flags_arg(c, 5)? else {
            return Ok(None);
        };
        if start <= 0 {
            return Err(udf_err(bad_param("start", start)));
        }
        if let Some(n) = n
            && n < 0
        {
            return Err(udf_err(bad_param("n", n)));
        }
        let n = n.unwrap_or(if flags.global { 0 } else { 1 });
        let re = compile(&p, flags).map_err(udf_err)?;
        Ok(Some(replace(&s, &re, &r, start, n)))
    })?;
    // pg_regexp_split(s, pattern[, flags]) -> text[] (our JSON array form)
    // (a 4th argument names the calling function for the error message)
    for n in [2, 3, 4] {
        conn.create_scalar_function("pg_regexp_split", n, DET, move |c| {
            let (Some(s), Some(p)) = (text_arg(c, 0), text_arg(c, 1)) else {
                return Ok(None);
            };
            let Some(flags) = flags_arg(c, 2)? else {
                return Ok(None);
            };
            if flags.global {
                let fname = if n == 4 {
                    text_arg(c, 3).unwrap_or_default()
                } else {
                    "regexp_split_to_array".to_string()
                };
                return Err(udf_err(no_global(&fname)));
            }
            let re = compile(&p, flags).map_err(udf_err)?;
            Ok(Some(json_text_array(split(&s, &re).into_iter().map(Some))))
        })?;
    }
    // pg_regexp_match(s, pattern, flags) -> text[] or NULL
    conn.create_scalar_function("pg_regexp_match", 3, DET, |c| {
        let (Some(s), Some(p)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 2)? else {
            return Ok(None);
        };
        if flags.global {
            return Err(udf_err(
                no_global("regexp_match").with_hint("Use the regexp_matches function instead."),
            ));
        }
        let re = compile(&p, flags).map_err(udf_err)?;
        Ok(re.captures(&s).map(|caps| json_text_array(groups(&caps))))
    })?;
    // pg_regexp_matches(s, pattern, flags) -> JSON array of text[] rows (for FROM).
    conn.create_scalar_function("pg_regexp_matches", 3, DET, |c| {
        let (Some(s), Some(p)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 2)? else {
            return Ok(None);
        };
        let re = compile(&p, flags).map_err(udf_err)?;
        let rows: Vec<String> = find_all(&s, &re, 0, flags.global, false)
            .iter()
            .map(|caps| json_text_array(groups(caps)))
            .collect();
        Ok(Some(json_text_array(rows.into_iter().map(Some))))
    })?;
    // pg_regexp_like(s, pattern, flags)
    conn.create_scalar_function("pg_regexp_like", 3, DET, |c| {
        let (Some(s), Some(p)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 2)? else {
            return Ok(None);
        };
        if flags.global {
            return Err(udf_err(no_global("regexp_like")));
        }
        let re = compile(&p, flags).map_err(udf_err)?;
        Ok(Some(re.is_match(&s)))
    })?;
    // pg_regexp_count(s, pattern, start, flags)
    conn.create_scalar_function("pg_regexp_count", 4, DET, |c| {
        let (Some(s), Some(p), Some(start)) = (text_arg(c, 0), text_arg(c, 1), int_arg(c, 2)?)
        else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 3)? else {
            return Ok(None);
        };
        if flags.global {
            return Err(udf_err(no_global("regexp_count")));
        }
        if start <= 0 {
            return Err(udf_err(bad_param("start", start)));
        }
        let re = compile(&p, flags).map_err(udf_err)?;
        let from = char_offset(&s, start);
        Ok(Some(find_all(&s, &re, from, true, false).len() as i64))
    })?;
    // pg_regexp_substr(s, pattern, start, n, flags, subexpr)
    conn.create_scalar_function("pg_regexp_substr", 6, DET, |c| {
        let (Some(s), Some(p)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let (Some(start), Some(n), Some(sub)) = (int_arg(c, 2)?, int_arg(c, 3)?, int_arg(c, 5)?)
        else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 4)? else {
            return Ok(None);
        };
        if flags.global {
            return Err(udf_err(no_global("regexp_substr")));
        }
        if start <= 0 {
            return Err(udf_err(bad_param("start", start)));
        }
        if n <= 0 {
            return Err(udf_err(bad_param("n", n)));
        }
        if sub < 0 {
            return Err(udf_err(bad_param("subexpr", sub)));
        }
        let re = compile(&p, flags).map_err(udf_err)?;
        let from = char_offset(&s, start);
        let all = find_all(&s, &re, from, true, false);
        Ok(all
            .get((n - 1) as usize)
            .and_then(|caps| caps.get(sub as usize))
            .map(|m| m.as_str().to_string()))
    })?;
    // pg_regexp_instr(s, pattern, start, n, endoption, flags, subexpr)
    conn.create_scalar_function("pg_regexp_instr", 7, DET, |c| {
        let (Some(s), Some(p)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let (Some(start), Some(n), Some(endopt), Some(sub)) = (
            int_arg(c, 2)?,
            int_arg(c, 3)?,
            int_arg(c, 4)?,
            int_arg(c, 6)?,
        ) else {
            return Ok(None);
        };
        let Some(flags) = flags_arg(c, 5)? else {
            return Ok(None);
        };
        if flags.global {
            return Err(udf_err(no_global("regexp_instr")));
        }
        if start <= 0 {
            return Err(udf_err(bad_param("start", start)));
        }
        if n <= 0 {
            return Err(udf_err(bad_param("n", n)));
        }
        if endopt != 0 && endopt != 1 {
            return Err(udf_err(bad_param("endoption", endopt)));
        }
        if sub < 0 {
            return Err(udf_err(bad_param("subexpr", sub)));
        }
        let re = compile(&p, flags).map_err(udf_err)?;
        let from = char_offset(&s, start);
        let all = find_all(&s, &re, from, true, false);
        Ok(Some(
            match all
                .get((n - 1) as usize)
                .and_then(|caps| caps.get(sub as usize))
            {
                None => 0,
                Some(m) => {
                    let b = if endopt == 1 { m.end() } else { m.start() };
                    s[..b].chars().count() as i64 + 1
                }
            },
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str, f: &str) -> Arc<Regex> {
        compile(p, parse_flags(f).unwrap()).unwrap()
    }

    #[test]
    fn replace_like_postgres() {
        assert_eq!(
            replace("Hello World", &re("(o)", "g"), r"[\1\&\\\x]", 1, 0),
            r"Hell[oo\\x] W[oo\\x]rld"
        );
        assert_eq!(replace("aaa", &re("a", ""), "b", 2, 1), "aba");
        assert_eq!(replace("aaaa", &re("a", ""), "b", 1, 3), "aaba");
        assert_eq!(replace("aaaa", &re("a", ""), "b", 1, 0), "bbbb");
        assert_eq!(replace("abc", &re("x*", "g"), "-", 1, 0), "-a-b-c-");
        assert_eq!(replace("a.b", &re(".", "g"), "x", 1, 0), "xxx");
        assert_eq!(replace("a\nb", &re("^b", ""), "X", 1, 1), "a\nb");
        assert_eq!(replace("a\nb", &re("^b", "n"), "X", 1, 1), "a\nX");
        assert_eq!(replace("a\nb", &re("a.b", ""), "X", 1, 1), "X");
        assert_eq!(replace("héé", &re("é", "g"), "e", 3, 0), "hée");
    }

    #[test]
    fn split_like_postgres() {
        assert_eq!(
            split("hello world", &re(r"\s*", "")),
            vec!["h", "e", "l", "l", "o", "w", "o", "r", "l", "d"]
        );
        assert_eq!(split("a,b,,c", &re(",", "")), vec!["a", "b", "", "c"]);
        assert_eq!(split("", &re(",", "")), vec![""]);
        assert_eq!(split("abc", &re("", "")), vec!["a", "b", "c"]);
    }

    #[test]
    fn flags_and_errors() {
        assert!(parse_flags("z").is_err());
        assert!(compile("(", Flags::default()).is_err());
        assert!(compile("[a", Flags::default()).is_err());
        assert!(re(r"\mabc\M", "").is_match("x abc y"));
        assert!(re("[[:<:]]abc[[:>:]]", "").is_match("abc"));
        assert!(re("[]a]", "").is_match("]"));
        assert!(re("ABC", "i").is_match("abc"));
        assert!(re("a.c", "q").is_match("a.c") && !re("a.c", "q").is_match("abc"));
        for garbage in ["\\", "[[:", "(?", "\\m\\", "[^", "*", "a{99999}"] {
            let _ = compile(garbage, Flags::default());
        }
    }
}
