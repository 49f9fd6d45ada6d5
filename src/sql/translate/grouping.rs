//! PostgreSQL's grouping rule (SQLSTATE 42803): in a grouped query every column reference
//! outside an aggregate must be grouped, or belong to a table whose primary key is grouped.
//! SQLite would silently pick a value from an arbitrary row instead.

use std::collections::HashSet;

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem};

use super::Tr;
use super::quote;
use super::scope::{Col, Scope, ident};
use crate::error::{PgError, PgResult, code};

/// Aggregate functions: their arguments are evaluated per row, not per group.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "string_agg",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "bit_and",
    "bit_or",
    "bit_xor",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
];

fn function_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Function(f) => f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.to_lowercase()),
        _ => None,
    }
}

fn is_aggregate_call(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if f.over.is_none())
        && function_name(e).is_some_and(|n| AGGREGATES.contains(&n.as_str()))
}

fn is_window_call(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if f.over.is_some())
}

/// The direct sub-expressions evaluated at this query level (subqueries are not entered).
fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp { left, right, .. } => vec![left, right],
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::Cast { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsNotTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::IsNotFalse(expr)
        | Expr::IsUnknown(expr)
        | Expr::IsNotUnknown(expr)
        | Expr::Collate { expr, .. }
        | Expr::Extract { expr, .. }
        | Expr::Ceil { expr, .. }
        | Expr::Floor { expr, .. } => vec![expr],
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => vec![a, b],
        Expr::InList { expr, list, .. } => {
            let mut v: Vec<&Expr> = vec![expr];
            v.extend(list.iter());
            v
        }
        Expr::InSubquery { expr, .. } => vec![expr],
        Expr::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        Expr::Like {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            expr,
            pattern,
            escape_char,
            ..
        } => {
            let mut v: Vec<&Expr> = vec![expr, pattern];
            v.extend(escape_char.iter().map(|b| b.as_ref()));
            v
        }
        Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => vec![left, right],
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            let mut v: Vec<&Expr> = Vec::new();
            v.extend(operand.iter().map(|b| b.as_ref()));
            for c in conditions {
                v.push(&c.condition);
                v.push(&c.result);
            }
            v.extend(else_result.iter().map(|b| b.as_ref()));
            v
        }
        Expr::Function(f) => match &f.args {
            FunctionArguments::List(l) => l
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => Some(e),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
        Expr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            let mut v: Vec<&Expr> = vec![expr];
            v.extend(substring_from.iter().map(|b| b.as_ref()));
            v.extend(substring_for.iter().map(|b| b.as_ref()));
            v
        }
        Expr::Position { expr, r#in } => vec![expr, r#in],
        Expr::Trim {
            expr, trim_what, ..
        } => {
            let mut v: Vec<&Expr> = vec![expr];
            v.extend(trim_what.iter().map(|b| b.as_ref()));
            v
        }
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => vec![timestamp, time_zone],
        Expr::Tuple(items) => items.iter().collect(),
        Expr::Array(a) => a.elem.iter().collect(),
        _ => Vec::new(),
    }
}

pub fn contains_aggregate(e: &Expr) -> bool {
    is_aggregate_call(e) || (!is_window_call(e) && children(e).into_iter().any(contains_aggregate))
}

/// An expression with identifiers normalised (unquoted names lower-cased, quotes dropped), so
/// `lower("name")` in GROUP BY matches `lower(name)` in the select list.
fn normalized(e: &Expr) -> Expr {
    use sqlparser::ast::visit_expressions_mut;
    let fix = |i: &mut sqlparser::ast::Ident| {
        if i.quote_style.is_none() {
            i.value = i.value.to_lowercase();
        }
        i.quote_style = None;
    };
    let mut e = e.clone();
    let _ = visit_expressions_mut(&mut e, |x| {
        match x {
            Expr::Identifier(i) => fix(i),
            Expr::CompoundIdentifier(parts) => parts.iter_mut().for_each(fix),
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    e
}

/// What the grouping check needs to know about a SELECT.
pub struct Grouping<'a> {
    pub projection: &'a [SelectItem],
    pub group_by: &'a [Expr],
    pub having: Option<&'a Expr>,
    pub order_by: Vec<&'a Expr>,
}

struct Checker<'a, 's> {
    sc: &'a Scope<'s>,
    /// GROUP BY expressions (select-list positions and aliases resolved), normalised.
    groups: Vec<Expr>,
    /// SQL of the grouped columns and of the columns functionally dependent on them.
    allowed: HashSet<String>,
}

impl Checker<'_, '_> {
    fn check(&self, e: &Expr) -> PgResult<()> {
        if is_aggregate_call(e) || is_window_call(e) {
            return Ok(());
        }
        if !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
            && self.groups.contains(&normalized(e))
        {
            return Ok(());
        }
        let col = match e {
            Expr::Identifier(i) => Some((None, ident(i))),
            Expr::CompoundIdentifier(parts) => {
                let names: Vec<String> = parts.iter().map(ident).collect();
                match names.as_slice() {
                    [.., q, c] => Some((Some(q.clone()), c.clone())),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((qual, name)) = col {
            // Only columns of this query level are checked; outer references are constants.
            if let Ok(Some(c)) = self.sc.lookup(qual.as_deref(), &name) {
                return self.check_column(&c);
            }
            return Ok(());
        }
        for c in children(e) {
            self.check(c)?;
        }
        Ok(())
    }

    fn check_column(&self, col: &Col) -> PgResult<()> {
        let Some(rel) = self
            .sc
            .rels
            .iter()
            .find(|r| r.cols.iter().any(|c| c.sql == col.sql))
        else {
            return Ok(());
        };
        if self.allowed.contains(&col.sql) {
            return Ok(());
        }
        let shown = match &rel.name {
            Some(r) => format!("{r}.{}", col.name),
            None => col.name.clone(),
        };
        Err(PgError::new(
            code::GROUPING_ERROR,
            format!(
                "column \"{shown}\" must appear in the GROUP BY clause or be used in an aggregate function"
            ),
        ))
    }
}

impl Tr<'_> {
    /// Refuse ungrouped column references in a grouped SELECT, as PostgreSQL does.
    pub fn check_grouping(&self, g: &Grouping, sc: &Scope) -> PgResult<()> {
        let item_exprs: Vec<(Option<String>, &Expr)> = g
            .projection
            .iter()
            .filter_map(|i| match i {
                SelectItem::UnnamedExpr(e) => Some((None, e)),
                SelectItem::ExprWithAlias { expr, alias } => Some((Some(ident(alias)), expr)),
                _ => None,
            })
            .collect();
        let grouped = !g.group_by.is_empty()
            || item_exprs.iter().any(|(_, e)| contains_aggregate(e))
            || g.having.is_some();
        if !grouped {
            return Ok(());
        }
        // Resolve GROUP BY positions and output-column aliases to their expressions.
        let mut groups: Vec<&Expr> = Vec::new();
        for e in g.group_by {
            let resolved = match e {
                Expr::Value(v) => match &v.value {
                    sqlparser::ast::Value::Number(n, _) => n
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| i.checked_sub(1))
                        .and_then(|i| g.projection.get(i))
                        .and_then(|item| match item {
                            SelectItem::UnnamedExpr(e)
                            | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
                            _ => None,
                        }),
                    _ => None,
                },
                Expr::Identifier(i) if sc.lookup(None, &ident(i)).ok().flatten().is_none() => {
                    let name = ident(i);
                    item_exprs
                        .iter()
                        .find(|(a, _)| a.as_deref() == Some(name.as_str()))
                        .map(|(_, e)| *e)
                }
                _ => None,
            };
            groups.push(resolved.unwrap_or(e));
        }
        let mut allowed = HashSet::new();
        for e in &groups {
            let col = match e {
                Expr::Identifier(i) => sc.lookup(None, &ident(i)).ok().flatten(),
                Expr::CompoundIdentifier(parts) => {
                    let names: Vec<String> = parts.iter().map(ident).collect();
                    match names.as_slice() {
                        [.., q, c] => sc.lookup(Some(q), c).ok().flatten(),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(c) = col {
                allowed.insert(c.sql);
            }
        }
        // Functional dependency: a grouped primary key makes every column of its table valid.
        for rel in &sc.rels {
            let (Some(alias), Some(tname)) = (&rel.name, &rel.table) else {
                continue;
            };
            let Some(pk) = self.cat.table(tname).and_then(|t| t.primary_key()) else {
                continue;
            };
            let all = pk
                .columns
                .iter()
                .all(|c| allowed.contains(&format!("{}.{}", quote(alias), quote(c))));
            if all {
                allowed.extend(rel.cols.iter().map(|c| c.sql.clone()));
            }
        }
        let ck = Checker {
            sc,
            groups: groups.iter().map(|g| normalized(g)).collect(),
            allowed,
        };
        for item in g.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    ck.check(e)?
                }
                SelectItem::Wildcard(_) => {
                    for c in sc.star(None)? {
                        ck.check_column(&c)?;
                    }
                }
                SelectItem::QualifiedWildcard(..) | SelectItem::ExprWithAliases { .. } => {}
            }
        }
        if let Some(h) = g.having {
            ck.check(h)?;
        }
        for e in &g.order_by {
            // Output-column references (names, positions) were checked with the select list.
            let output_ref = match e {
                Expr::Value(_) => true,
                Expr::Identifier(i) => {
                    let n = ident(i);
                    item_exprs.iter().any(|(a, x)| {
                        a.as_deref() == Some(n.as_str())
                            || matches!(x, Expr::Identifier(j) if ident(j) == n)
                    })
                }
                _ => false,
            };
            if !output_ref {
                ck.check(e)?;
            }
        }
        Ok(())
    }
}

/// Whether a scalar subquery can return at most one row by its shape (a LIMIT 0/1, or an
/// aggregate without GROUP BY), so it needs no run-time cardinality check.
pub fn at_most_one_row(q: &sqlparser::ast::Query) -> bool {
    use sqlparser::ast::{GroupByExpr, LimitClause, SetExpr, Value};
    let one = |e: &Expr| matches!(e, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n == "1" || n == "0"));
    if let Some(LimitClause::LimitOffset { limit: Some(l), .. }) = &q.limit_clause
        && one(l)
    {
        return true;
    }
    if let Some(f) = &q.fetch
        && f.quantity.as_ref().is_none_or(one)
    {
        return true;
    }
    match q.body.as_ref() {
        SetExpr::Select(s) => {
            let ungrouped = matches!(&s.group_by, GroupByExpr::Expressions(g, _) if g.is_empty());
            ungrouped
                && s.having.is_none()
                && s.projection.iter().all(|i| match i {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        contains_aggregate(e)
                    }
                    _ => false,
                })
        }
        _ => false,
    }
}
