//! The SQL layer: PostgreSQL's dialect parsed with sqlparser, classified, typed and translated to
//! SQLite; the shadow catalog; and the functions SQLite needs to behave like PostgreSQL.

pub mod catalog;
pub mod datetime;
pub mod errors;
pub mod extension;
pub mod functions;
pub mod normalize;
pub mod numeric;
pub mod pg_catalog;
mod seqopts;
pub mod statement;
pub mod translate;
pub mod types;
pub mod values;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::error::{PgError, PgResult, code};

/// Parse PostgreSQL SQL into statements (`42601` with a position on syntax errors).
pub fn parse(sql: &str) -> PgResult<Vec<sqlparser::ast::Statement>> {
    let reordered = seqopts::reorder(sql);
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(200)
        .try_with_sql(reordered.as_deref().unwrap_or(sql))
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| syntax_error(sql, &e))
}

/// Turn a sqlparser error into `42601 syntax error at or near "x"` with a character position.
fn syntax_error(sql: &str, e: &sqlparser::parser::ParserError) -> PgError {
    let text = e.to_string();
    if matches!(e, sqlparser::parser::ParserError::RecursionLimitExceeded) {
        return PgError::new(code::PROGRAM_LIMIT_EXCEEDED, "stack depth limit exceeded");
    }
    // sqlparser reports "... at Line: L, Column: C".
    let pos = text.rsplit_once("at Line: ").and_then(|(_, rest)| {
        let (l, c) = rest.split_once(", Column: ")?;
        let line: usize = l.trim().parse().ok()?;
        let col: usize = c
            .trim()
            .trim_end_matches(|ch: char| !ch.is_ascii_digit())
            .parse()
            .ok()?;
        let mut offset = 0;
        for (i, ln) in sql.split('\n').enumerate() {
            if i + 1 == line {
                return Some(offset + col);
            }
            offset += ln.chars().count() + 1;
        }
        None
    });
    let near = pos.and_then(|p| {
        let rest: String = sql.chars().skip(p.saturating_sub(1)).collect();
        let tok: String = rest
            .trim_start()
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ';' && *c != ',' && *c != '(' && *c != ')')
            .collect();
        if tok.is_empty() { None } else { Some(tok) }
    });
    let len = sql.chars().count();
    if text.contains("Unterminated string literal") {
        // PostgreSQL points at the opening quote.
        let at = pos.unwrap_or(1);
        let rest: String = sql.chars().skip(at.saturating_sub(1)).collect();
        return PgError::new(
            code::SYNTAX_ERROR,
            format!(
                "unterminated quoted string at or near \"{}\"",
                rest.trim_end()
            ),
        )
        .with_position(at.clamp(1, len + 1));
    }
    if near
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("overriding"))
    {
        return PgError::unsupported("INSERT … OVERRIDING … VALUE");
    }
    let message = match near {
        Some(t) => format!("syntax error at or near \"{t}\""),
        None if pos.is_some_and(|p| p > sql.chars().count()) || text.contains("EOF") => {
            "syntax error at end of input".to_string()
        }
        None => format!(
            "syntax error: {}",
            text.trim_start_matches("sql parser error: ")
        ),
    };
    let at_end = message == "syntax error at end of input";
    let mut err = PgError::new(code::SYNTAX_ERROR, message);
    match pos {
        Some(p) => err = err.with_position(p.clamp(1, len + 1)),
        // PostgreSQL points just past the input (after trailing blanks are dropped).
        None if at_end => err = err.with_position(sql.trim_end().chars().count() + 1),
        None => {}
    }
    err
}
