//! Definitions as PostgreSQL's `pg_get_constraintdef`, `pg_get_indexdef` and `quote_ident`
//! print them, rebuilt from the shadow catalog (which keeps each expression as the user wrote it).

use crate::sql::catalog::{Catalog, ConstraintKind, FkAction, Index, Table};

/// PostgreSQL's `quote_ident` (one implementation, shared with the SQL function).
pub use crate::sql::functions::quote_ident;

fn col_list(cols: &[String]) -> String {
    cols.iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pg_get_constraintdef(oid, pretty)`.
pub fn constraint_def(t: &Table, con: &crate::sql::catalog::Constraint, pretty: bool) -> String {
    let _ = t;
    match &con.kind {
        ConstraintKind::PrimaryKey => format!("PRIMARY KEY ({})", col_list(&con.columns)),
        ConstraintKind::Unique => format!("UNIQUE ({})", col_list(&con.columns)),
        ConstraintKind::Check(e) => {
            if pretty {
                format!("CHECK ({})", e.pg)
            } else {
                format!("CHECK (({}))", e.pg)
            }
        }
        ConstraintKind::ForeignKey {
            ref_table,
            ref_columns,
            on_delete,
            on_update,
        } => {
            let mut s = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                col_list(&con.columns),
                quote_ident(ref_table),
                col_list(ref_columns)
            );
            if *on_update != FkAction::NoAction {
                s.push_str(&format!(" ON UPDATE {}", on_update.sql()));
            }
            if *on_delete != FkAction::NoAction {
                s.push_str(&format!(" ON DELETE {}", on_delete.sql()));
            }
            s
        }
    }
}

/// A column default as `pg_get_expr(adbin, …)` prints it: PostgreSQL shows a string literal
/// with a cast to the column's type and a negative number with a cast to its own type.
pub fn default_def(c: &crate::sql::catalog::Column) -> Option<String> {
    let d = c.default.as_ref()?;
    let e = d.pg.trim();
    let quoted = e.len() >= 2
        && e.starts_with('\'')
        && e.ends_with('\'')
        && !e[1..e.len() - 1].replace("''", "").contains('\'');
    let negative = e.starts_with('-') && e[1..].trim().parse::<f64>().is_ok();
    if quoted {
        Some(format!("{e}::{}", c.ty.format(-1)))
    } else if negative {
        // The constant keeps its own type; the cast to the column's type is implicit.
        let ty = if e.parse::<i32>().is_ok() {
            "integer"
        } else if e.parse::<i64>().is_ok() {
            "bigint"
        } else {
            "numeric"
        };
        Some(format!("'{e}'::{ty}"))
    } else {
        Some(e.to_string())
    }
}

/// One key of an index as stored in its definition: the expression or column, and what follows
/// it (operator class, DESC).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexKey {
    /// The column name, or the expression text (without the parentheses PostgreSQL requires
    /// around expressions in CREATE INDEX).
    pub expr: String,
    pub is_column: bool,
    /// ` varchar_pattern_ops`, ` DESC`, … (with its leading space).
    pub options: String,
}

/// Split `a, (b + c) DESC, lower(x) text_pattern_ops` at top-level commas.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut cur = String::new();
    for ch in s.chars() {
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
                cur.push(ch);
            }
            None => match ch {
                '\'' | '"' => {
                    quote = Some(ch);
                    cur.push(ch);
                }
                '(' => {
                    depth += 1;
                    cur.push(ch);
                }
                ')' => {
                    depth -= 1;
                    cur.push(ch);
                }
                ',' if depth == 0 => {
                    out.push(cur.trim().to_string());
                    cur.clear();
                }
                _ => cur.push(ch),
            },
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Index of the parenthesis closing the one at `open` (which must be '(').
fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, ch) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
            }
            None => match ch {
                '\'' | '"' => quote = Some(ch),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// The keys of an index, recovered from its stored definition.
pub fn index_keys(idx: &Index) -> Vec<IndexKey> {
    let list = idx
        .pg_def
        .find(" USING ")
        .and_then(|u| {
            let open = u + idx.pg_def[u..].find('(')?;
            let close = matching_paren(&idx.pg_def, open)?;
            Some(idx.pg_def[open + 1..close].to_string())
        })
        .unwrap_or_default();
    let parts = split_top(&list);
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        match idx.key_columns.get(i).cloned().flatten() {
            Some(col) => {
                let rest = p
                    .strip_prefix(col.as_str())
                    .or_else(|| p.strip_prefix(&quote_ident(&col)))
                    .unwrap_or("");
                out.push(IndexKey {
                    expr: col,
                    is_column: true,
                    options: rest.to_string(),
                });
            }
            None => {
                let (expr, rest) = if p.starts_with('(') {
                    match matching_paren(p, 0) {
                        Some(c) => (p[1..c].to_string(), p[c + 1..].to_string()),
                        None => (p.clone(), String::new()),
                    }
                } else {
                    (p.clone(), String::new())
                };
                out.push(IndexKey {
                    expr,
                    is_column: false,
                    options: rest,
                });
            }
        }
    }
    // Fall back on the key columns if the stored definition could not be read.
    if out.is_empty() {
        for c in idx.key_columns.iter().flatten() {
            out.push(IndexKey {
                expr: c.clone(),
                is_column: true,
                options: String::new(),
            });
        }
    }
    out
}

/// Whether an expression is a single function call (`lower(x)`), which PostgreSQL prints
/// without extra parentheses in an index definition.
fn is_call(e: &str) -> bool {
    let Some(open) = e.find('(') else {
        return false;
    };
    let head = &e[..open];
    !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && matching_paren(e, open) == Some(e.len() - 1)
}

/// The text of key `k` as `pg_get_indexdef(oid, k, …)` returns it.
pub fn index_key_def(key: &IndexKey) -> String {
    if key.is_column {
        quote_ident(&key.expr)
    } else {
        key.expr.clone()
    }
}

/// `pg_get_indexdef(oid, 0, pretty)`.
pub fn index_def(idx: &Index, method: &str, pretty: bool) -> String {
    let keys: Vec<String> = index_keys(idx)
        .iter()
        .map(|k| {
            let e = if k.is_column || is_call(&k.expr) {
                index_key_def(k)
            } else {
                format!("({})", k.expr)
            };
            format!("{e}{}", k.options)
        })
        .collect();
    let mut s = format!(
        "CREATE {}INDEX {} ON public.{} USING {method} ({})",
        if idx.unique { "UNIQUE " } else { "" },
        quote_ident(&idx.name),
        quote_ident(&idx.table),
        keys.join(", ")
    );
    if let Some(p) = &idx.predicate {
        if pretty {
            s.push_str(&format!(" WHERE {}", p.pg));
        } else {
            s.push_str(&format!(" WHERE ({})", p.pg));
        }
    }
    s
}

/// The access method of an index as recorded in its definition.
pub fn index_method(idx: &Index) -> &'static str {
    if idx.pg_def.contains(" USING hash ") {
        "hash"
    } else {
        "btree"
    }
}

/// The constraint an index backs, if any.
pub fn index_constraint<'a>(
    cat: &'a Catalog,
    idx: &Index,
) -> Option<&'a crate::sql::catalog::Constraint> {
    let name = idx.constraint.as_ref()?;
    cat.table(&idx.table)?
        .constraints
        .iter()
        .find(|c| &c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(def: &str, cols: Vec<Option<&str>>) -> Index {
        Index {
            oid: 1,
            name: "i".into(),
            table: "t".into(),
            unique: false,
            keys_sqlite: vec![],
            key_columns: cols.into_iter().map(|c| c.map(str::to_string)).collect(),
            pg_def: def.into(),
            predicate: None,
            constraint: None,
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a b"), "\"a b\"");
    }

    #[test]
    fn keys() {
        let i = idx(
            "CREATE INDEX i ON public.t USING btree (a, (lower(b)) text_pattern_ops, c DESC)",
            vec![Some("a"), None, Some("c")],
        );
        let k = index_keys(&i);
        assert_eq!(k.len(), 3);
        assert_eq!(k[1].expr, "lower(b)");
        assert_eq!(k[1].options, " text_pattern_ops");
        assert_eq!(k[2].options, " DESC");
        assert_eq!(
            index_def(&i, "btree", true),
            "CREATE INDEX i ON public.t USING btree (a, lower(b) text_pattern_ops, c DESC)"
        );
    }
}
