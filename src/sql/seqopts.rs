//! Sequence options in any order. PostgreSQL accepts `CREATE SEQUENCE s START 10 INCREMENT 5`
//! and `GENERATED … AS IDENTITY (START WITH 1 INCREMENT BY 1)` with the options in any order;
//! sqlparser only in the order INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE. Before
//! parsing, such a run of options is rewritten into sqlparser's order (same text otherwise).

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

fn word(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Byte offset of a 1-based line/column location.
fn offset(sql: &str, loc: Location) -> Option<usize> {
    let mut line = 1u64;
    let mut col = 1u64;
    for (i, c) in sql.char_indices() {
        if line == loc.line && col == loc.column {
            return Some(i);
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line == loc.line && col == loc.column).then_some(sql.len())
}

/// If an option group starts at significant token `i`, its rank and length in tokens.
fn group_at(toks: &[&TokenWithSpan], i: usize) -> Option<(u8, usize)> {
    let w = |k: usize| toks.get(k).and_then(|t| word(&t.token));
    let number_at = |k: usize| -> Option<usize> {
        match toks.get(k).map(|t| &t.token) {
            Some(Token::Number(..)) => Some(1),
            Some(Token::Minus) | Some(Token::Plus)
                if matches!(toks.get(k + 1).map(|t| &t.token), Some(Token::Number(..))) =>
            {
                Some(2)
            }
            _ => None,
        }
    };
    let with_opt_kw = |kw: &str, rank: u8| -> Option<(u8, usize)> {
        let skip = usize::from(w(i + 1).as_deref() == Some(kw));
        number_at(i + 1 + skip).map(|n| (rank, 1 + skip + n))
    };
    match w(i)?.as_str() {
        "INCREMENT" => with_opt_kw("BY", 0),
        "MINVALUE" => number_at(i + 1).map(|n| (1, 1 + n)),
        "MAXVALUE" => number_at(i + 1).map(|n| (2, 1 + n)),
        "START" => with_opt_kw("WITH", 3),
        "CACHE" => number_at(i + 1).map(|n| (4, 1 + n)),
        "CYCLE" => Some((5, 1)),
        "NO" => match w(i + 1)?.as_str() {
            "MINVALUE" => Some((1, 2)),
            "MAXVALUE" => Some((2, 2)),
            "CYCLE" => Some((5, 2)),
            _ => None,
        },
        _ => None,
    }
}

/// The statement with its sequence options reordered, or None when nothing needs to change.
pub fn reorder(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    if !upper.contains("SEQUENCE") && !upper.contains("IDENTITY") {
        return None;
    }
    let all = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let toks: Vec<&TokenWithSpan> = all
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    // Where option runs may start: after `CREATE … SEQUENCE [IF NOT EXISTS] name` and after
    // `IDENTITY (`.
    let mut starts = Vec::new();
    if word(&toks.first()?.token).as_deref() == Some("CREATE")
        && let Some(s) = toks
            .iter()
            .take(4)
            .position(|t| word(&t.token).as_deref() == Some("SEQUENCE"))
    {
        let mut k = s + 1;
        if word(&toks.get(k)?.token).as_deref() == Some("IF") {
            k += 3;
        }
        k += 1; // the name
        while matches!(toks.get(k).map(|t| &t.token), Some(Token::Period)) {
            k += 2;
        }
        // `AS type` comes first in sqlparser's grammar as in PostgreSQL's documentation.
        if word(&toks.get(k).map(|t| t.token.clone()).unwrap_or(Token::EOF)).as_deref()
            == Some("AS")
        {
            k += 2;
        }
        starts.push(k);
    }
    for (k, t) in toks.iter().enumerate() {
        if word(&t.token).as_deref() == Some("IDENTITY")
            && matches!(toks.get(k + 1).map(|t| &t.token), Some(Token::LParen))
        {
            starts.push(k + 2);
        }
    }
    let mut out = String::new();
    let mut copied = 0usize;
    let mut changed = false;
    for start in starts {
        let mut groups: Vec<(u8, usize, usize)> = Vec::new(); // rank, first token, length
        let mut k = start;
        while let Some((rank, len)) = group_at(&toks, k) {
            groups.push((rank, k, len));
            k += len;
        }
        if groups.windows(2).all(|g| g[0].0 <= g[1].0) {
            continue;
        }
        let text_of = |first: usize, len: usize| -> Option<&str> {
            let a = offset(sql, toks[first].span.start)?;
            let b = offset(sql, toks[first + len - 1].span.end)?;
            sql.get(a..b)
        };
        let region_start = offset(sql, toks[groups[0].1].span.start)?;
        let (_, lf, ll) = *groups.last()?;
        let region_end = offset(sql, toks[lf + ll - 1].span.end)?;
        let mut sorted = groups.clone();
        sorted.sort_by_key(|g| g.0);
        let parts: Vec<&str> = sorted
            .iter()
            .map(|(_, f, l)| text_of(*f, *l))
            .collect::<Option<_>>()?;
        out.push_str(sql.get(copied..region_start)?);
        out.push_str(&parts.join(" "));
        copied = region_end;
        changed = true;
    }
    if !changed {
        return None;
    }
    out.push_str(sql.get(copied..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::reorder;

    #[test]
    fn reorders_options() {
        assert_eq!(
            reorder("CREATE SEQUENCE s2 START 10 INCREMENT 5 MINVALUE 10 MAXVALUE 20").as_deref(),
            Some("CREATE SEQUENCE s2 INCREMENT 5 MINVALUE 10 MAXVALUE 20 START 10")
        );
        assert_eq!(
            reorder(
                "CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY -10), v text)"
            )
            .as_deref(),
            Some(
                "CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY -10 START WITH 100), v text)"
            )
        );
        assert_eq!(reorder("CREATE SEQUENCE s INCREMENT 2 START 5"), None);
        assert_eq!(reorder("SELECT 1"), None);
        assert_eq!(reorder("CREATE TABLE cycle (cycle int)"), None);
    }
}
