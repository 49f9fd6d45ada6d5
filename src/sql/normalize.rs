//! Literal normalisation for simple-protocol statements: `SELECT … WHERE aid = 123` and
//! `… WHERE aid = 456` become the same text with `$1`, so a session translates it once and binds
//! each statement's literals as parameters. Only literals whose meaning is the same as a
//! parameter's are lifted (numbers get their literal type; strings stay untyped as PostgreSQL's
//! unknown literals are); anything doubtful keeps its literal and the statement simply gets its
//! own cache entry or the normal path.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::types::PgType;

/// A lifted literal and the type its parameter is declared with (None = unknown, like a
/// quoted literal).
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub text: String,
    pub declared: Option<PgType>,
}

/// A statement with its literals replaced by `$1..$n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    pub sql: String,
    pub literals: Vec<Literal>,
}

/// Keywords that introduce a parenthesised list of values rather than a function call.
fn opens_list(k: Keyword) -> bool {
    matches!(
        k,
        Keyword::IN
            | Keyword::VALUES
            | Keyword::ANY
            | Keyword::ALL
            | Keyword::SOME
            | Keyword::ARRAY
            | Keyword::WHERE
            | Keyword::AND
            | Keyword::OR
            | Keyword::NOT
            | Keyword::ON
            | Keyword::SELECT
            | Keyword::SET
            | Keyword::THEN
            | Keyword::ELSE
            | Keyword::WHEN
            | Keyword::RETURNING
            | Keyword::EXISTS
            | Keyword::HAVING
            | Keyword::FROM
            | Keyword::JOIN
            | Keyword::AS
    )
}

/// Keywords after which a string is a typed literal (`DATE '…'`, `INTERVAL '…'`).
fn types_a_string(k: Keyword) -> bool {
    matches!(
        k,
        Keyword::DATE
            | Keyword::TIME
            | Keyword::TIMESTAMP
            | Keyword::TIMESTAMPTZ
            | Keyword::INTERVAL
            | Keyword::NoKeyword
    )
}

/// Whether a minus after `prev` is certainly a sign rather than a subtraction: only after an
/// opening parenthesis, a comma, a comparison or arithmetic operator, or a keyword that cannot
/// end an expression. Anything else (a type name, NULL, END, an identifier) keeps the minus.
fn unary(prev: Option<&Token>) -> bool {
    match prev {
        None => true,
        Some(Token::Word(w)) => {
            w.quote_style.is_none()
                && matches!(
                    w.keyword,
                    Keyword::SELECT
                        | Keyword::WHERE
                        | Keyword::AND
                        | Keyword::OR
                        | Keyword::NOT
                        | Keyword::THEN
                        | Keyword::ELSE
                        | Keyword::WHEN
                        | Keyword::BETWEEN
                        | Keyword::LIMIT
                        | Keyword::OFFSET
                        | Keyword::RETURNING
                        | Keyword::ON
                        | Keyword::HAVING
                        | Keyword::SET
                )
        }
        Some(
            Token::LParen
            | Token::Comma
            | Token::Eq
            | Token::DoubleEq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod,
        ) => true,
        _ => false,
    }
}

/// Normalise a statement, or None when it is not worth it or not safe (not a query/DML, no
/// liftable literal, or parameters already present).
pub fn normalize(text: &str) -> Option<Normalized> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize()
        .ok()?;
    let first = tokens.iter().find(|t| !matches!(t, Token::Whitespace(_)))?;
    match first {
        Token::Word(w)
            if matches!(
                w.keyword,
                Keyword::SELECT
                    | Keyword::INSERT
                    | Keyword::UPDATE
                    | Keyword::DELETE
                    | Keyword::WITH
            ) => {}
        _ => return None,
    }
    // Numbers are positions in ORDER BY / GROUP BY and constants in window frames: keep them
    // all literal when those appear.
    let numbers_ok = !tokens.iter().any(|t| {
        matches!(t, Token::Word(w) if matches!(w.keyword, Keyword::ORDER | Keyword::GROUP | Keyword::ROWS | Keyword::RANGE | Keyword::GROUPS | Keyword::PRECEDING | Keyword::FOLLOWING | Keyword::DISTINCT))
    });
    let mut out = String::with_capacity(text.len() + 8);
    let mut literals = Vec::new();
    // For each open parenthesis: is it a function call's argument list?
    let mut calls: Vec<bool> = Vec::new();
    let mut prev: Option<&Token> = None;
    // A unary minus directly before a number belongs to the literal (`-2147483648` is int4).
    let mut negate = false;
    for (i, t) in tokens.iter().enumerate() {
        let in_call = calls.last().copied().unwrap_or(false);
        // …unless a cast or subscript binds tighter than the sign (`-7.5::int` is `-(7.5::int)`).
        let after = tokens
            .get(i + 2..)
            .and_then(|r| r.iter().find(|t| !matches!(t, Token::Whitespace(_))));
        let binds_tighter = matches!(
            after,
            Some(Token::DoubleColon | Token::LBracket | Token::Period)
        );
        if numbers_ok
            && *t == Token::Minus
            && unary(prev)
            && !binds_tighter
            && matches!(tokens.get(i + 1), Some(Token::Number(_, false)))
        {
            negate = true;
            continue;
        }
        let lifted = match t {
            Token::Placeholder(_) => return None,
            Token::Number(n, false) if numbers_ok => {
                let n = &if std::mem::take(&mut negate) {
                    format!("-{n}")
                } else {
                    n.clone()
                };
                let declared = if n.contains(['.', 'e', 'E']) {
                    PgType::NUMERIC
                } else if n.parse::<i32>().is_ok() {
                    PgType::INT4
                } else if n.parse::<i64>().is_ok() {
                    PgType::INT8
                } else {
                    PgType::NUMERIC
                };
                Some(Literal {
                    text: n.clone(),
                    declared: Some(declared),
                })
            }
            Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s) if !in_call => {
                let typed = matches!(prev, Some(Token::Word(w)) if types_a_string(w.keyword));
                if typed || s.contains('\0') {
                    None
                } else {
                    Some(Literal {
                        text: s.clone(),
                        declared: None,
                    })
                }
            }
            _ => None,
        };
        match lifted {
            Some(l) => {
                literals.push(l);
                out.push_str(&format!("${}", literals.len()));
            }
            None => out.push_str(&t.to_string()),
        }
        match t {
            Token::LParen => {
                let call = matches!(prev, Some(Token::Word(w)) if !opens_list(w.keyword));
                calls.push(call);
            }
            Token::RParen => {
                calls.pop();
            }
            _ => {}
        }
        if !matches!(t, Token::Whitespace(_)) {
            prev = Some(t);
        }
    }
    if literals.is_empty() {
        return None;
    }
    Some(Normalized { sql: out, literals })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifts_safe_literals_only() {
        let n = normalize("SELECT abalance FROM pgbench_accounts WHERE aid = 34707;").unwrap();
        assert_eq!(
            n.sql,
            "SELECT abalance FROM pgbench_accounts WHERE aid = $1;"
        );
        assert_eq!(
            n.literals,
            vec![Literal {
                text: "34707".into(),
                declared: Some(PgType::INT4)
            }]
        );
        let n = normalize("select * from t where name in ('a', 'b') and d > DATE '2024-01-01' and f(x, 'k') = 1.5").unwrap();
        assert_eq!(
            n.sql,
            "select * from t where name in ($1, $2) and d > DATE '2024-01-01' and f(x, 'k') = $3"
        );
        assert_eq!(n.literals[2].declared, Some(PgType::NUMERIC));
        // Positions stay literal; statements that are not queries are left alone.
        let n = normalize("select a, 'x' from t order by 1").unwrap();
        assert_eq!(n.sql, "select a, $1 from t order by 1");
        assert!(normalize("SET x = 1").is_none());
        assert!(normalize("select 1 from t where a = $1").is_none());
        assert!(normalize("select a from t").is_none());
        let n = normalize("select -2147483648, x - 1, '{}'::jsonb - 1 from t").unwrap();
        assert_eq!(n.sql, "select $1, x - $2, $3::jsonb - $4 from t");
        assert_eq!(
            n.literals[0],
            Literal {
                text: "-2147483648".into(),
                declared: Some(PgType::INT4)
            }
        );
    }
}
