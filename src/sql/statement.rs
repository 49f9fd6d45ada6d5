//! Splitting a query string into statements and recognising the utility statements sqlparser
//! does not parse as PostgreSQL writes them (`COPY … WITH (FREEZE ON)`, `VACUUM ANALYZE t`,
//! `CHECKPOINT`, `DO`). Everything else goes to sqlparser.

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::error::{PgError, PgResult, code};

/// One statement of a query string.
#[derive(Debug, Clone)]
pub enum Parsed {
    Empty,
    Sql(Box<Statement>),
    Copy(CopyStmt),
    /// Accepted and ignored, with its command tag.
    NoOp(String),
    Discard,
    /// `SHOW name` (the name as written, lower-cased; sqlparser loses the dots).
    Show(String),
    /// `ALTER SEQUENCE` (sqlparser does not parse it).
    AlterSequence(AlterSequence),
    /// `LOCK [TABLE] name [, …] [IN mode MODE] [NOWAIT]`.
    Lock(LockStmt),
}

/// `LOCK TABLE`: the tables, whether the mode keeps other writers out entirely (everything
/// from SHARE UPDATE EXCLUSIVE up; SHARE only against writers, not other SHARE holders), and
/// NOWAIT.
#[derive(Debug, Clone, PartialEq)]
pub struct LockStmt {
    pub tables: Vec<String>,
    /// The mode conflicts with other writers (SHARE and above).
    pub blocks_writers: bool,
    /// The mode conflicts with other holders of the same mode (anything but SHARE).
    pub exclusive: bool,
    pub nowait: bool,
}

/// `ALTER SEQUENCE [IF EXISTS] name option …`. None = option not given; for MINVALUE/MAXVALUE
/// `Some(None)` is `NO MINVALUE`; for RESTART `Some(None)` restarts at START.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlterSequence {
    pub name: String,
    pub if_exists: bool,
    pub increment: Option<i64>,
    pub min: Option<Option<i64>>,
    pub max: Option<Option<i64>>,
    pub start: Option<i64>,
    pub restart: Option<Option<i64>>,
    pub cycle: Option<bool>,
    pub cache: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CopySource {
    Table { name: String, columns: Vec<String> },
    Query(String),
}

/// `COPY … FROM STDIN` / `COPY … TO STDOUT` with its options.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyStmt {
    pub source: CopySource,
    pub from_stdin: bool,
    pub format: CopyFormat,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
    pub force_quote_all: bool,
    pub force_quote: Vec<String>,
    pub force_not_null: Vec<String>,
}

/// Split on `;` outside quotes, dollar quotes and comments. Returns (byte offset, text).
pub fn split(sql: &str) -> Vec<(usize, &str)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // E'' strings allow backslash escapes.
                let escaped = i > 0
                    && (b[i - 1] == b'E' || b[i - 1] == b'e')
                    && (i < 2 || !b[i - 2].is_ascii_alphanumeric());
                i += 1;
                while i < b.len() {
                    if escaped && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' => {
                // $tag$ … $tag$ (but not $1 placeholders)
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(e)
                        if b[e] == b'$' && !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) =>
                    {
                        let tag = &sql[i..=e];
                        match sql[e + 1..].find(tag) {
                            Some(p) => i = e + 1 + p + tag.len(),
                            None => i = b.len(),
                        }
                    }
                    _ => i += 1,
                }
            }
            b';' => {
                out.push((start, &sql[start..i]));
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < sql.len() {
        out.push((start, &sql[start..]));
    }
    out
}

/// Whether a piece holds nothing but whitespace and comments.
pub fn is_blank(s: &str) -> bool {
    let t = s.trim_start();
    if t.is_empty() {
        return true;
    }
    // Only text that starts with a comment needs the tokenizer.
    if !t.starts_with("--") && !t.starts_with("/*") {
        return false;
    }
    let toks = Tokenizer::new(&PostgreSqlDialect {}, s).tokenize();
    match toks {
        Ok(t) => t
            .iter()
            .all(|t| matches!(t, Token::Whitespace(_) | Token::SemiColon)),
        Err(_) => s.trim().is_empty(),
    }
}

fn words(s: &str) -> PgResult<Vec<Token>> {
    let toks = Tokenizer::new(&PostgreSqlDialect {}, s)
        .tokenize()
        // Let the parser report it: it gives PostgreSQL's wording and the position.
        .map_err(|e| {
            super::parse(s)
                .err()
                .unwrap_or_else(|| PgError::syntax(format!("syntax error: {}", e.message)))
        })?;
    Ok(toks
        .into_iter()
        .filter(|t| {
            !matches!(
                t,
                Token::Whitespace(
                    Whitespace::Space
                        | Whitespace::Newline
                        | Whitespace::Tab
                        | Whitespace::SingleLineComment { .. }
                        | Whitespace::MultiLineComment(_)
                )
            )
        })
        .collect())
}

fn kw(t: Option<&Token>) -> Option<String> {
    match t {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// The first word of a statement, lower-cased, skipping whitespace and comments (cheap: no
/// tokenizer for the common case).
fn first_word(text: &str) -> Option<String> {
    let mut t = text.trim_start();
    loop {
        if let Some(rest) = t.strip_prefix("--") {
            t = rest
                .split_once('\n')
                .map(|x| x.1)
                .unwrap_or("")
                .trim_start();
        } else if t.starts_with("/*") {
            // Nested comments are rare in a statement head; let the tokenizer decide.
            let toks = words(t).ok()?;
            return kw(toks.first());
        } else {
            break;
        }
    }
    let w: String = t
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
        .collect();
    if w.is_empty() {
        None
    } else {
        Some(w.to_ascii_lowercase())
    }
}

/// Parse one statement (text between semicolons).
pub fn parse(text: &str) -> PgResult<Parsed> {
    if is_blank(text) {
        return Ok(Parsed::Empty);
    }
    let first = first_word(text);
    let special = matches!(
        first.as_deref(),
        Some(
            "copy"
                | "vacuum"
                | "analyze"
                | "analyse"
                | "checkpoint"
                | "discard"
                | "do"
                | "lock"
                | "show"
                | "reset"
                | "alter"
        )
    );
    let toks = if special { words(text)? } else { Vec::new() };
    match if special { kw(toks.first()) } else { None }.as_deref() {
        Some("copy") => return parse_copy(text, &toks).map(Parsed::Copy),
        Some("vacuum") => return Ok(Parsed::NoOp("VACUUM".into())),
        Some("analyze") | Some("analyse") => return Ok(Parsed::NoOp("ANALYZE".into())),
        Some("checkpoint") if toks.len() == 1 => return Ok(Parsed::NoOp("CHECKPOINT".into())),
        Some("discard") if kw(toks.get(1)).as_deref() == Some("all") => return Ok(Parsed::Discard),
        Some("do") => return Err(PgError::unsupported("DO blocks (procedural code)")),
        Some("lock") => return parse_lock(&toks[1..]).map(Parsed::Lock),
        // sqlparser knows `RESET name` only; `RESET TIME ZONE` is `RESET timezone`.
        Some("reset")
            if toks.len() == 3
                && kw(toks.get(1)).as_deref() == Some("time")
                && kw(toks.get(2)).as_deref() == Some("zone") =>
        {
            return parse("RESET timezone");
        }
        Some("alter") if kw(toks.get(1)).as_deref() == Some("sequence") => {
            return parse_alter_sequence(&toks).map(Parsed::AlterSequence);
        }
        Some("show") => return show_name(&toks[1..]).map(Parsed::Show),
        _ => {}
    }
    let mut stmts = super::parse(text)?;
    match stmts.len() {
        0 => Ok(Parsed::Empty),
        1 => Ok(Parsed::Sql(Box::new(stmts.remove(0)))),
        _ => Err(PgError::syntax(
            "cannot insert multiple commands into a prepared statement",
        )),
    }
}

/// The parameter name of `SHOW …` from its tokens (comments are already gone): quoted names
/// keep their case, dotted names (`bedrock.commit_count`) join without spaces, and multi-word
/// names (`TIME ZONE`, `TRANSACTION ISOLATION LEVEL`) join with one space.
fn show_name(toks: &[Token]) -> PgResult<String> {
    let mut name = String::new();
    let mut after_dot = true;
    for t in toks {
        match t {
            Token::SemiColon => break,
            Token::Period => {
                name.push('.');
                after_dot = true;
            }
            Token::Word(w) => {
                if !after_dot {
                    name.push(' ');
                }
                match w.quote_style {
                    Some(_) => name.push_str(&w.value),
                    None => name.push_str(&w.value.to_lowercase()),
                }
                after_dot = false;
            }
            other => {
                return Err(PgError::syntax(format!(
                    "syntax error at or near \"{other}\""
                )));
            }
        }
    }
    if name.is_empty() || name.ends_with('.') {
        return Err(PgError::syntax("syntax error at end of input"));
    }
    Ok(name)
}

/// `LOCK [TABLE] [ONLY] name [*] [, …] [IN mode MODE] [NOWAIT]` from the tokens after LOCK.
fn parse_lock(toks: &[Token]) -> PgResult<LockStmt> {
    let mut i = 0;
    if kw(toks.get(i)).as_deref() == Some("table") {
        i += 1;
    }
    let mut tables = Vec::new();
    loop {
        if kw(toks.get(i)).as_deref() == Some("only") {
            i += 1;
        }
        let mut name = ident_of(
            toks.get(i)
                .ok_or_else(|| PgError::syntax("syntax error at end of input"))?,
        )
        .ok_or_else(|| near(toks.get(i)))?;
        i += 1;
        if matches!(toks.get(i), Some(Token::Period)) {
            // schema.table: only public is known.
            let t = toks
                .get(i + 1)
                .and_then(ident_of)
                .ok_or_else(|| near(toks.get(i + 1)))?;
            if name != "public" {
                return Err(PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{name}.{t}\" does not exist"),
                ));
            }
            name = t;
            i += 2;
        }
        if matches!(toks.get(i), Some(Token::Mul)) {
            i += 1;
        }
        tables.push(name);
        if matches!(toks.get(i), Some(Token::Comma)) {
            i += 1;
            continue;
        }
        break;
    }
    let mut mode = "access exclusive".to_string();
    if kw(toks.get(i)).as_deref() == Some("in") {
        i += 1;
        let mut words = Vec::new();
        while let Some(w) = kw(toks.get(i)) {
            i += 1;
            if w == "mode" {
                break;
            }
            words.push(w);
        }
        mode = words.join(" ");
    }
    let nowait = kw(toks.get(i)).as_deref() == Some("nowait");
    if nowait {
        i += 1;
    }
    if matches!(toks.get(i), Some(Token::SemiColon)) {
        i += 1;
    }
    if i != toks.len() {
        return Err(near(toks.get(i)));
    }
    let (blocks_writers, exclusive) = match mode.as_str() {
        "access share" | "row share" | "row exclusive" => (false, false),
        "share" => (true, false),
        "share update exclusive" | "share row exclusive" | "exclusive" | "access exclusive" => {
            (true, true)
        }
        _ => {
            return Err(PgError::syntax(format!(
                "syntax error at or near \"{mode}\""
            )));
        }
    };
    Ok(LockStmt {
        tables,
        blocks_writers,
        exclusive,
        nowait,
    })
}

fn near(t: Option<&Token>) -> PgError {
    match t {
        Some(t) => PgError::syntax(format!("syntax error at or near \"{t}\"")),
        None => PgError::syntax("syntax error at end of input"),
    }
}

fn ident_of(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_some() => Some(w.value.clone()),
        Token::Word(w) => Some(w.value.to_lowercase()),
        _ => None,
    }
}

fn string_of(t: Option<&Token>) -> PgResult<String> {
    match t {
        Some(Token::SingleQuotedString(s)) | Some(Token::EscapedStringLiteral(s)) => Ok(s.clone()),
        other => Err(PgError::syntax(format!(
            "syntax error at or near \"{}\"",
            other.map(|t| t.to_string()).unwrap_or_default()
        ))),
    }
}

fn one_char(s: &str, what: &str) -> PgResult<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(PgError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("COPY {what} must be a single one-byte character"),
        )),
    }
}

fn parse_copy(text: &str, toks: &[Token]) -> PgResult<CopyStmt> {
    let mut i = 1;
    let source = if toks.get(1) == Some(&Token::LParen) {
        // COPY (query) TO STDOUT: take the text between the matching parentheses.
        let open = text
            .find('(')
            .ok_or_else(|| PgError::syntax("syntax error in COPY"))?;
        let mut depth = 0;
        let mut close = None;
        for (off, piece) in [(0usize, &text[open..])] {
            let mut in_str = false;
            for (k, c) in piece.char_indices() {
                match c {
                    '\'' => in_str = !in_str,
                    '(' if !in_str => depth += 1,
                    ')' if !in_str => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(open + off + k);
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        let close = close.ok_or_else(|| PgError::syntax("syntax error at end of input"))?;
        let q = text[open + 1..close].to_string();
        // Skip tokens up to the matching paren.
        let mut depth = 0;
        while i < toks.len() {
            match toks[i] {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        CopySource::Query(q)
    } else {
        let mut name = toks
            .get(i)
            .and_then(ident_of)
            .ok_or_else(|| PgError::syntax("syntax error in COPY: table name expected"))?;
        i += 1;
        if toks.get(i) == Some(&Token::Period) {
            let schema = name;
            if schema != "public" {
                return Err(PgError::new(
                    code::UNDEFINED_SCHEMA,
                    format!("schema \"{schema}\" does not exist"),
                ));
            }
            name = toks
                .get(i + 1)
                .and_then(ident_of)
                .ok_or_else(|| PgError::syntax("syntax error in COPY"))?;
            i += 2;
        }
        let mut columns = Vec::new();
        if toks.get(i) == Some(&Token::LParen) {
            i += 1;
            loop {
                let c = toks
                    .get(i)
                    .and_then(ident_of)
                    .ok_or_else(|| PgError::syntax("syntax error in COPY column list"))?;
                columns.push(c);
                i += 1;
                match toks.get(i) {
                    Some(Token::Comma) => i += 1,
                    Some(Token::RParen) => {
                        i += 1;
                        break;
                    }
                    _ => return Err(PgError::syntax("syntax error in COPY column list")),
                }
            }
        }
        CopySource::Table { name, columns }
    };
    let dir = kw(toks.get(i))
        .ok_or_else(|| PgError::syntax("syntax error in COPY: FROM or TO expected"))?;
    i += 1;
    let from_stdin = match dir.as_str() {
        "from" => true,
        "to" => false,
        _ => {
            return Err(PgError::syntax(format!(
                "syntax error at or near \"{dir}\""
            )));
        }
    };
    match (kw(toks.get(i)).as_deref(), from_stdin) {
        (Some("stdin"), true) | (Some("stdout"), false) => i += 1,
        (Some("program"), _) => {
            return Err(PgError::new(
                code::INSUFFICIENT_PRIVILEGE,
                "COPY … PROGRAM is not allowed in bedrock-pg",
            ));
        }
        _ => {
            return Err(PgError::new(
                code::INSUFFICIENT_PRIVILEGE,
                "COPY to or from a file is not allowed in bedrock-pg",
            )
            .with_hint("Use COPY … FROM STDIN / TO STDOUT, or psql's \\copy."));
        }
    }
    if matches!(source, CopySource::Query(_)) && from_stdin {
        return Err(PgError::syntax(
            "COPY (query) FROM is not supported; use COPY table FROM",
        ));
    }
    let mut c = CopyStmt {
        source,
        from_stdin,
        format: CopyFormat::Text,
        delimiter: '\t',
        null: "\\N".into(),
        header: false,
        quote: '"',
        escape: '"',
        force_quote_all: false,
        force_quote: Vec::new(),
        force_not_null: Vec::new(),
    };
    let mut delimiter = None;
    let mut null = None;
    let mut escape = None;
    if kw(toks.get(i)).as_deref() == Some("with") {
        i += 1;
    }
    let bool_val = |t: Option<&Token>| -> Option<bool> {
        match t {
            Some(Token::Word(w)) => match w.value.to_ascii_lowercase().as_str() {
                "true" | "on" => Some(true),
                "false" | "off" => Some(false),
                _ => None,
            },
            Some(Token::Number(n, _)) => Some(n != "0"),
            Some(Token::SingleQuotedString(s)) => crate::sql::values::parse_bool(s).ok(),
            _ => None,
        }
    };
    if toks.get(i) == Some(&Token::LParen) {
        i += 1;
        loop {
            let opt =
                kw(toks.get(i)).ok_or_else(|| PgError::syntax("syntax error in COPY options"))?;
            i += 1;
            match opt.as_str() {
                "format" => {
                    let f = toks
                        .get(i)
                        .and_then(ident_of)
                        .or_else(|| string_of(toks.get(i)).ok())
                        .unwrap_or_default();
                    i += 1;
                    c.format = match f.to_ascii_lowercase().as_str() {
                        "text" => CopyFormat::Text,
                        "csv" => CopyFormat::Csv,
                        "binary" => CopyFormat::Binary,
                        other => {
                            return Err(PgError::new(
                                code::INVALID_PARAMETER_VALUE,
                                format!("COPY format \"{other}\" not recognized"),
                            ));
                        }
                    };
                }
                "freeze" | "header" => {
                    let v = bool_val(toks.get(i));
                    if v.is_some() {
                        i += 1;
                    }
                    if opt == "header" {
                        c.header = v.unwrap_or(true);
                    }
                }
                "delimiter" => {
                    delimiter = Some(one_char(&string_of(toks.get(i))?, "delimiter")?);
                    i += 1;
                }
                "null" => {
                    null = Some(string_of(toks.get(i))?);
                    i += 1;
                }
                "quote" => {
                    c.quote = one_char(&string_of(toks.get(i))?, "quote")?;
                    i += 1;
                }
                "escape" => {
                    escape = Some(one_char(&string_of(toks.get(i))?, "escape")?);
                    i += 1;
                }
                "encoding" => {
                    let e = string_of(toks.get(i))?;
                    i += 1;
                    if !matches!(
                        e.to_ascii_uppercase().replace('-', "").as_str(),
                        "UTF8" | "UNICODE"
                    ) {
                        return Err(PgError::unsupported(format!("COPY encoding {e}")));
                    }
                }
                "force_quote" => {
                    if toks.get(i) == Some(&Token::Mul) {
                        c.force_quote_all = true;
                        i += 1;
                    } else {
                        c.force_quote = paren_list(toks, &mut i)?;
                    }
                }
                "force_not_null" => c.force_not_null = paren_list(toks, &mut i)?,
                other => {
                    return Err(PgError::syntax(format!(
                        "option \"{other}\" not recognized"
                    )));
                }
            }
            match toks.get(i) {
                Some(Token::Comma) => i += 1,
                Some(Token::RParen) => {
                    i += 1;
                    break;
                }
                _ => return Err(PgError::syntax("syntax error in COPY options")),
            }
        }
    } else {
        // Legacy option syntax: BINARY, DELIMITER [AS] 'x', NULL [AS] 'x', CSV, HEADER, QUOTE, ESCAPE.
        while let Some(word) = kw(toks.get(i)) {
            i += 1;
            if kw(toks.get(i)).as_deref() == Some("as") {
                i += 1;
            }
            match word.as_str() {
                "binary" => c.format = CopyFormat::Binary,
                "csv" => c.format = CopyFormat::Csv,
                "header" => c.header = true,
                "freeze" => {}
                "delimiter" => {
                    delimiter = Some(one_char(&string_of(toks.get(i))?, "delimiter")?);
                    i += 1;
                }
                "null" => {
                    null = Some(string_of(toks.get(i))?);
                    i += 1;
                }
                "quote" => {
                    c.quote = one_char(&string_of(toks.get(i))?, "quote")?;
                    i += 1;
                }
                "escape" => {
                    escape = Some(one_char(&string_of(toks.get(i))?, "escape")?);
                    i += 1;
                }
                other => {
                    return Err(PgError::syntax(format!(
                        "syntax error at or near \"{other}\""
                    )));
                }
            }
        }
    }
    if i < toks.len() && !matches!(toks[i], Token::SemiColon | Token::EOF) {
        return Err(PgError::syntax(format!(
            "syntax error at or near \"{}\"",
            toks[i]
        )));
    }
    if c.format == CopyFormat::Csv {
        c.delimiter = delimiter.unwrap_or(',');
        c.null = null.unwrap_or_default();
        c.escape = escape.unwrap_or(c.quote);
    } else {
        c.delimiter = delimiter.unwrap_or('\t');
        c.null = null.unwrap_or_else(|| "\\N".into());
        if c.header && c.format == CopyFormat::Text && !c.from_stdin {
            return Err(PgError::unsupported("COPY HEADER in text format"));
        }
    }
    if c.format == CopyFormat::Binary {
        return Err(PgError::unsupported("COPY BINARY"));
    }
    Ok(c)
}

fn parse_alter_sequence(toks: &[Token]) -> PgResult<AlterSequence> {
    let mut a = AlterSequence::default();
    let mut i = 2;
    if kw(toks.get(i)).as_deref() == Some("if") && kw(toks.get(i + 1)).as_deref() == Some("exists")
    {
        a.if_exists = true;
        i += 2;
    }
    let mut name = toks
        .get(i)
        .and_then(ident_of)
        .ok_or_else(|| PgError::syntax("syntax error in ALTER SEQUENCE: name expected"))?;
    i += 1;
    if toks.get(i) == Some(&Token::Period) {
        if name != "public" {
            return Err(PgError::new(
                code::UNDEFINED_SCHEMA,
                format!("schema \"{name}\" does not exist"),
            ));
        }
        name = toks
            .get(i + 1)
            .and_then(ident_of)
            .ok_or_else(|| PgError::syntax("syntax error in ALTER SEQUENCE"))?;
        i += 2;
    }
    a.name = name;
    let number = |t: Option<&Token>, neg: bool| -> PgResult<i64> {
        match t {
            Some(Token::Number(n, _)) => {
                let v: i64 = n
                    .parse()
                    .map_err(|_| PgError::syntax(format!("invalid number {n}")))?;
                Ok(if neg { -v } else { v })
            }
            other => Err(PgError::syntax(format!(
                "syntax error at or near \"{}\"",
                other.map(|t| t.to_string()).unwrap_or_default()
            ))),
        }
    };
    // A number, optionally negative.
    let take_num = |i: &mut usize| -> PgResult<i64> {
        let neg = toks.get(*i) == Some(&Token::Minus);
        if neg {
            *i += 1;
        }
        let v = number(toks.get(*i), neg)?;
        *i += 1;
        Ok(v)
    };
    let mut any = false;
    while i < toks.len() && !matches!(toks[i], Token::SemiColon | Token::EOF) {
        let w = kw(toks.get(i))
            .ok_or_else(|| PgError::syntax(format!("syntax error at or near \"{}\"", toks[i])))?;
        i += 1;
        any = true;
        match w.as_str() {
            "increment" => {
                if kw(toks.get(i)).as_deref() == Some("by") {
                    i += 1;
                }
                a.increment = Some(take_num(&mut i)?);
            }
            "minvalue" => a.min = Some(Some(take_num(&mut i)?)),
            "maxvalue" => a.max = Some(Some(take_num(&mut i)?)),
            "no" => match kw(toks.get(i)).as_deref() {
                Some("minvalue") => {
                    a.min = Some(None);
                    i += 1;
                }
                Some("maxvalue") => {
                    a.max = Some(None);
                    i += 1;
                }
                Some("cycle") => {
                    a.cycle = Some(false);
                    i += 1;
                }
                _ => return Err(PgError::syntax("syntax error after NO in ALTER SEQUENCE")),
            },
            "cycle" => a.cycle = Some(true),
            "start" => {
                if kw(toks.get(i)).as_deref() == Some("with") {
                    i += 1;
                }
                a.start = Some(take_num(&mut i)?);
            }
            "restart" => {
                if kw(toks.get(i)).as_deref() == Some("with") {
                    i += 1;
                }
                if matches!(toks.get(i), Some(Token::Number(..)) | Some(Token::Minus)) {
                    a.restart = Some(Some(take_num(&mut i)?));
                } else {
                    a.restart = Some(None);
                }
            }
            "cache" => a.cache = Some(take_num(&mut i)?),
            "owned" | "as" | "rename" | "set" | "owner" => {
                return Err(PgError::unsupported(format!(
                    "ALTER SEQUENCE … {}",
                    w.to_uppercase()
                )));
            }
            other => {
                return Err(PgError::syntax(format!(
                    "syntax error at or near \"{other}\""
                )));
            }
        }
    }
    if !any {
        return Err(PgError::syntax("syntax error at end of input"));
    }
    Ok(a)
}

fn paren_list(toks: &[Token], i: &mut usize) -> PgResult<Vec<String>> {
    if toks.get(*i) != Some(&Token::LParen) {
        return Err(PgError::syntax("column list expected"));
    }
    *i += 1;
    let mut v = Vec::new();
    loop {
        v.push(
            toks.get(*i)
                .and_then(ident_of)
                .ok_or_else(|| PgError::syntax("column name expected"))?,
        );
        *i += 1;
        match toks.get(*i) {
            Some(Token::Comma) => *i += 1,
            Some(Token::RParen) => {
                *i += 1;
                return Ok(v);
            }
            _ => return Err(PgError::syntax("syntax error in column list")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        let parts: Vec<&str> = split("select 'a;b'; select $$x;y$$; -- c;\nselect \"q;\"")
            .into_iter()
            .map(|p| p.1)
            .collect();
        assert_eq!(
            parts,
            vec!["select 'a;b'", " select $$x;y$$", " -- c;\nselect \"q;\""]
        );
        assert_eq!(split("select $1; select 2").len(), 2);
        assert_eq!(split("select E'a\\';b'").len(), 1);
    }

    #[test]
    fn copy_forms() {
        let c = match parse("copy pgbench_accounts from stdin with (freeze on)").unwrap() {
            Parsed::Copy(c) => c,
            other => panic!("{other:?}"),
        };
        assert!(c.from_stdin);
        assert_eq!(
            c.source,
            CopySource::Table {
                name: "pgbench_accounts".into(),
                columns: vec![]
            }
        );
        let c = match parse("COPY t (a, b) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ';')")
            .unwrap()
        {
            Parsed::Copy(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(c.format, CopyFormat::Csv);
        assert!(c.header);
        assert_eq!(c.delimiter, ';');
        let c = match parse("COPY (select 1, ')') TO STDOUT CSV HEADER").unwrap() {
            Parsed::Copy(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(c.source, CopySource::Query("select 1, ')'".into()));
        assert!(matches!(
            parse("vacuum analyze pgbench_branches").unwrap(),
            Parsed::NoOp(_)
        ));
        assert!(parse("copy t from '/etc/passwd'").is_err());
    }

    #[test]
    fn lock_table_forms() {
        let lock = |t: &str| match parse(t) {
            Ok(Parsed::Lock(l)) => l,
            other => panic!("{t}: {other:?}"),
        };
        let l = lock("LOCK TABLE a, public.b IN SHARE MODE NOWAIT");
        assert_eq!(l.tables, vec!["a".to_string(), "b".into()]);
        assert!(l.blocks_writers && !l.exclusive && l.nowait);
        let l = lock("lock t");
        assert!(l.blocks_writers && l.exclusive && !l.nowait);
        let l = lock("LOCK TABLE ONLY t * IN ROW EXCLUSIVE MODE;");
        assert!(!l.blocks_writers);
        assert!(parse("LOCK TABLE t IN FUNNY MODE").is_err());
        assert!(parse("LOCK TABLE").is_err());
        assert!(parse("LOCK TABLE t garbage").is_err());
    }

    #[test]
    fn show_names_after_comments() {
        let show = |t: &str| match parse(t) {
            Ok(Parsed::Show(n)) => n,
            other => panic!("{t}: {other:?}"),
        };
        // A multi-byte character in a leading comment used to panic (a byte slice of the
        // untrimmed text), and a comment made SHOW read the wrong name.
        assert_eq!(show("/* café */ SHOW search_path"), "search_path");
        assert_eq!(show("-- é\nSHOW TimeZone"), "timezone");
        assert_eq!(show("SHOW bedrock . commit_count;"), "bedrock.commit_count");
        assert_eq!(show("show \"TimeZone\""), "TimeZone");
        assert_eq!(
            show("SHOW TRANSACTION  ISOLATION LEVEL"),
            "transaction isolation level"
        );
        assert_eq!(show("SHOW /* x */ ALL"), "all");
        assert!(parse("SHOW").is_err());
        assert!(parse("/* ü */ SHOW 1").is_err());
    }
}
