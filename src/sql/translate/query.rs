//! Queries: SELECT, set operations, VALUES, CTEs, FROM items and joins, ORDER BY / LIMIT,
//! DISTINCT ON. Every output column gets an explicit alias so its name is PostgreSQL's.

use std::collections::HashMap;

use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Join, JoinConstraint, JoinOperator, LimitClause, OrderBy,
    OrderByKind, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator,
    SetQuantifier, TableAlias, TableFactor, TableWithJoins, Value as AstValue, Values,
};

use super::funcs::order_sql;
use super::scope::{Col, Rel, Scope, ident};
use super::{Ex, OutCol, Tr, Ty, is_internal_name, object_name, quote, sql_str};
use crate::error::{PgError, PgResult, code};
use crate::sql::types::{PgType, Scalar};

/// A translated query: SQL and its typed output columns.
#[derive(Debug, Clone, Default)]
pub struct QueryOut {
    pub sql: String,
    pub cols: Vec<OutCol>,
    /// Output columns that are untyped literals (`NULL`, `'5'`): in a set operation they take
    /// the other branches' type, as PostgreSQL resolves them.
    pub untyped: Vec<bool>,
}

/// The collation SQLite should compare a stored column of this type with.
pub fn collation_for(t: PgType) -> Option<&'static str> {
    if t.array {
        return None;
    }
    match t.scalar {
        Scalar::Numeric => Some("pg_numeric"),
        Scalar::Interval => Some("pg_interval"),
        _ => None,
    }
}

fn out_col(name: String, x: &Ex) -> OutCol {
    let (table_oid, attnum) = x.origin.unwrap_or((0, 0));
    OutCol {
        name,
        ty: x.known().unwrap_or(PgType::TEXT),
        typmod: x.typmod,
        table_oid,
        attnum,
        collate: x.collate,
    }
}

/// Columns of a relation made from query output, referenced through `alias`.
fn rel_from_out(alias: &str, cols: &[OutCol], names: Option<&[String]>) -> Rel {
    Rel {
        name: Some(alias.to_string()),
        cols: cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = names
                    .and_then(|n| n.get(i).cloned())
                    .unwrap_or_else(|| c.name.clone());
                Col {
                    sql: format!("{}.{}", quote(alias), quote(&name)),
                    name,
                    ty: c.ty,
                    typmod: c.typmod,
                    table_oid: c.table_oid,
                    attnum: c.attnum,
                    collate: c.collate,
                    hidden: false,
                }
            })
            .collect(),
        table: None,
    }
}

fn alias_names(a: &TableAlias) -> Vec<String> {
    a.columns.iter().map(|c| ident(&c.name)).collect()
}

/// Rename output columns in SQL: `SELECT "a" AS "x", … FROM (sql)`.
fn rename(sql: &str, cols: &[OutCol], names: &[String], inner_alias: &str) -> String {
    let list: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let to = names.get(i).cloned().unwrap_or_else(|| c.name.clone());
            format!(
                "{}.{} AS {}",
                quote(inner_alias),
                quote(&c.name),
                quote(&to)
            )
        })
        .collect();
    format!(
        "SELECT {} FROM ({sql}) AS {}",
        list.join(", "),
        quote(inner_alias)
    )
}

impl Tr<'_> {
    /// SQL for `out` whose output columns can be referenced by name, with those names: query
    /// output may repeat a name (`?column?`), which SQLite would resolve to the first one, so
    /// such output is renamed positionally through a CTE column list.
    pub fn uniquely_named(&mut self, out: &QueryOut) -> (String, Vec<String>) {
        let names: Vec<String> = out.cols.iter().map(|c| c.name.clone()).collect();
        let unique = names
            .iter()
            .enumerate()
            .all(|(i, n)| !names[..i].contains(n));
        if unique {
            return (out.sql.clone(), names);
        }
        let p = self.alias("p");
        let pos: Vec<String> = (1..=names.len()).map(|i| format!("c{i}")).collect();
        let list: Vec<String> = pos.iter().map(|n| quote(n)).collect();
        (
            format!(
                "WITH {}({}) AS ({}) SELECT * FROM {}",
                quote(&p),
                list.join(", "),
                out.sql,
                quote(&p)
            ),
            pos,
        )
    }

    pub fn query_top(&mut self, q: &Query) -> PgResult<QueryOut> {
        let root = Scope::default();
        if !q.locks.is_empty() {
            if !matches!(q.body.as_ref(), SetExpr::Select(_)) || q.with.is_some() {
                return Err(PgError::unsupported(
                    "FOR UPDATE/FOR SHARE with WITH, UNION, INTERSECT, EXCEPT or VALUES",
                ));
            }
            // Its SELECT takes the clause; any other locking clause is in a subquery.
            self.writes = true;
            self.pending_lock = Some(q.locks.clone());
            let mut top = q.clone();
            top.locks.clear();
            let out = self.query(&top, &root)?;
            if self.pending_lock.take().is_some() {
                return Err(PgError::unsupported("this locking clause"));
            }
            return Ok(out);
        }
        let out = self.query(q, &root)?;
        if self.pending_lock.take().is_some() {
            return Err(PgError::unsupported("this locking clause"));
        }
        Ok(out)
    }

    pub fn subquery(&mut self, q: &Query, outer: &Scope) -> PgResult<QueryOut> {
        self.query(q, outer)
    }

    pub fn query(&mut self, q: &Query, outer: &Scope) -> PgResult<QueryOut> {
        let has_limit = matches!(
            &q.limit_clause,
            Some(LimitClause::LimitOffset { limit: Some(_), .. })
                | Some(LimitClause::OffsetCommaLimit { .. })
        );
        if q.fetch.is_some() && has_limit {
            return Err(PgError::syntax("multiple LIMIT clauses not allowed"));
        }
        if q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return Err(PgError::unsupported(format!("the query clause in {q}")));
        }
        if !q.locks.is_empty() {
            // Only the top-level query's locking clause is understood (query_top hands it to
            // its SELECT, which runs on the writer and takes the rows' locks).
            return Err(PgError::unsupported(
                "FOR UPDATE/FOR SHARE in a subquery or WITH query",
            ));
        }
        let mut with_sql = String::new();
        let pushed = if let Some(w) = &q.with {
            let mut map = HashMap::new();
            let mut parts = Vec::new();
            self.ctes.push(HashMap::new());
            for cte in &w.cte_tables {
                if cte.from.is_some() {
                    return Err(PgError::unsupported("CTE FROM"));
                }
                let name = ident(&cte.alias.name);
                let names = alias_names(&cte.alias);
                if w.recursive
                    && let SetExpr::SetOperation { left, .. } = cte.query.body.as_ref()
                {
                    // Type the recursive CTE from its non-recursive term first.
                    let seed = Query {
                        body: left.clone(),
                        ..(*cte.query).clone()
                    };
                    let seed = Query {
                        order_by: None,
                        limit_clause: None,
                        with: None,
                        ..seed
                    };
                    let seed_out = self.query(&seed, outer)?;
                    let rel = rel_from_out(
                        &name,
                        &seed_out.cols,
                        if names.is_empty() { None } else { Some(&names) },
                    );
                    if let Some(top) = self.ctes.last_mut() {
                        top.insert(name.clone(), rel);
                    }
                }
                if !matches!(
                    cte.query.body.as_ref(),
                    SetExpr::Select(_)
                        | SetExpr::SetOperation { .. }
                        | SetExpr::Values(_)
                        | SetExpr::Query(_)
                ) {
                    return Err(PgError::unsupported("data-modifying statements in WITH"));
                }
                let out = self.query(&cte.query, outer)?;
                let final_names: Vec<String> = if names.is_empty() {
                    out.cols.iter().map(|c| c.name.clone()).collect()
                } else {
                    if names.len() > out.cols.len() {
                        return Err(PgError::syntax(format!(
                            "WITH query \"{name}\" has {} columns available but {} columns specified",
                            out.cols.len(),
                            names.len()
                        )));
                    }
                    let mut n = names.clone();
                    n.extend(out.cols.iter().skip(names.len()).map(|c| c.name.clone()));
                    n
                };
                let rel = rel_from_out(&name, &out.cols, Some(&final_names));
                if let Some(top) = self.ctes.last_mut() {
                    top.insert(name.clone(), rel.clone());
                }
                map.insert(name.clone(), rel);
                let cols: Vec<String> = final_names.iter().map(|n| quote(n)).collect();
                parts.push(format!(
                    "{}({}) AS ({})",
                    quote(&name),
                    cols.join(", "),
                    out.sql
                ));
            }
            with_sql = format!(
                "WITH {}{} ",
                if w.recursive { "RECURSIVE " } else { "" },
                parts.join(", ")
            );
            true
        } else {
            false
        };
        let result = self.query_body(q, outer);
        if pushed {
            self.ctes.pop();
        }
        let mut out = result?;
        out.sql = format!("{with_sql}{}", out.sql);
        Ok(out)
    }

    fn limit_sql(&mut self, q: &Query, outer: &Scope) -> PgResult<String> {
        let mut limit: Option<String> = None;
        let mut offset: Option<String> = None;
        // SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses it (2201W / 2201X).
        let tr_int = |tr: &mut Self, e: &Expr, what: &str| -> PgResult<Option<String>> {
            if let Expr::Value(v) = e
                && matches!(v.value, AstValue::Null)
            {
                return Ok(None);
            }
            let x = tr.expr(e, outer)?;
            let (sqlstate, msg) = if what == "LIMIT" {
                ("2201W", "LIMIT must not be negative")
            } else {
                ("2201X", "OFFSET must not be negative")
            };
            let sql = tr.coerce(x, PgType::INT8, -1)?;
            if let Ok(n) = sql.parse::<i64>() {
                if n < 0 {
                    return Err(PgError::new(sqlstate, msg));
                }
                return Ok(Some(sql));
            }
            Ok(Some(format!(
                "(CASE WHEN {sql} < 0 THEN pg_raise('{sqlstate}', '{msg}') ELSE coalesce({sql}, -1) END)"
            )))
        };
        match &q.limit_clause {
            None => {}
            Some(LimitClause::LimitOffset {
                limit: l,
                offset: o,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(PgError::unsupported("LIMIT BY"));
                }
                if let Some(l) = l {
                    limit = tr_int(self, l, "LIMIT")?;
                }
                if let Some(o) = o {
                    offset = tr_int(self, &o.value, "OFFSET")?;
                }
            }
            Some(LimitClause::OffsetCommaLimit { .. }) => {
                return Err(PgError::syntax("LIMIT #,# syntax is not supported"));
            }
        }
        if let Some(f) = &q.fetch {
            if f.percent || f.with_ties {
                return Err(PgError::unsupported("FETCH … PERCENT / WITH TIES"));
            }
            limit = match &f.quantity {
                Some(e) => tr_int(self, e, "LIMIT")?,
                None => Some("1".into()),
            };
        }
        Ok(match (limit, offset) {
            (None, None) => String::new(),
            (Some(l), None) => format!(" LIMIT {l}"),
            (None, Some(o)) => format!(" LIMIT -1 OFFSET {o}"),
            (Some(l), Some(o)) => format!(" LIMIT {l} OFFSET {o}"),
        })
    }

    fn query_body(&mut self, q: &Query, outer: &Scope) -> PgResult<QueryOut> {
        let limit = self.limit_sql(q, outer)?;
        match q.body.as_ref() {
            SetExpr::Select(s) => self.select(s, outer, q.order_by.as_ref(), &limit),
            SetExpr::Query(inner) => {
                let o = self.query(inner, outer)?;
                if q.order_by.is_none() && limit.is_empty() {
                    return Ok(o);
                }
                let a = self.alias("s");
                let rel = rel_from_out(&a, &o.cols, None);
                self.wrap_ordered(o, rel, &a, q.order_by.as_ref(), &limit, outer)
            }
            body => {
                let o = self.set_expr(body, outer)?;
                if q.order_by.is_none() && limit.is_empty() {
                    return Ok(o);
                }
                let a = self.alias("s");
                let rel = rel_from_out(&a, &o.cols, None);
                self.wrap_ordered(o, rel, &a, q.order_by.as_ref(), &limit, outer)
            }
        }
    }

    /// `SELECT * FROM (inner) ORDER BY … LIMIT …` where ORDER BY sees only output columns.
    fn wrap_ordered(
        &mut self,
        o: QueryOut,
        rel: Rel,
        alias: &str,
        ob: Option<&OrderBy>,
        limit: &str,
        outer: &Scope,
    ) -> PgResult<QueryOut> {
        let mut sc = Scope::child(outer);
        sc.rels.push(rel);
        let order = match ob {
            Some(ob) => self.order_by(ob, &sc, &o.cols, true)?,
            None => String::new(),
        };
        let (inner, names) = self.uniquely_named(&o);
        let list: Vec<String> = o
            .cols
            .iter()
            .zip(&names)
            .map(|(c, n)| format!("{}.{} AS {}", quote(alias), quote(n), quote(&c.name)))
            .collect();
        Ok(QueryOut {
            sql: format!(
                "SELECT {} FROM ({inner}) AS {}{order}{limit}",
                list.join(", "),
                quote(alias)
            ),
            untyped: o.untyped,
            cols: o.cols,
        })
    }

    /// A set operation tree, VALUES, or a plain SELECT used as an operand.
    fn set_expr(&mut self, body: &SetExpr, outer: &Scope) -> PgResult<QueryOut> {
        match body {
            SetExpr::Select(s) => self.select(s, outer, None, ""),
            SetExpr::Query(q) => {
                let o = self.query(q, outer)?;
                let simple = q.order_by.is_none()
                    && q.limit_clause.is_none()
                    && q.with.is_none()
                    && matches!(q.body.as_ref(), SetExpr::Select(_));
                if simple {
                    Ok(o)
                } else {
                    let a = self.alias("s");
                    let list: Vec<String> = o
                        .cols
                        .iter()
                        .map(|c| format!("{}.{}", quote(&a), quote(&c.name)))
                        .collect();
                    Ok(QueryOut {
                        untyped: o.untyped.clone(),
                        sql: format!(
                            "SELECT {} FROM ({}) AS {}",
                            list.join(", "),
                            o.sql,
                            quote(&a)
                        ),
                        cols: o.cols,
                    })
                }
            }
            SetExpr::Values(v) => self.values(v, outer, None),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let l = self.set_expr(left, outer)?;
                let r = self.set_expr(right, outer)?;
                if l.cols.len() != r.cols.len() {
                    let what = match op {
                        SetOperator::Union => "UNION",
                        SetOperator::Intersect => "INTERSECT",
                        _ => "EXCEPT",
                    };
                    return Err(PgError::syntax(format!(
                        "each {what} query must have the same number of columns"
                    )));
                }
                let all = match set_quantifier {
                    SetQuantifier::All => true,
                    SetQuantifier::Distinct | SetQuantifier::None => false,
                    other => return Err(PgError::unsupported(format!("set quantifier {other}"))),
                };
                let kw = match (op, all) {
                    (SetOperator::Union, true) => "UNION ALL",
                    (SetOperator::Union, false) => "UNION",
                    (SetOperator::Intersect, false) => "INTERSECT",
                    (SetOperator::Except, false) | (SetOperator::Minus, false) => "EXCEPT",
                    _ => return Err(PgError::unsupported(format!("{op} ALL"))),
                };
                // Unify column types (an untyped literal column takes the other side's type).
                let mut cols = Vec::new();
                let mut untyped = Vec::new();
                let mut conv_l = false;
                let mut conv_r = false;
                let lu = |i: usize| l.untyped.get(i).copied().unwrap_or(false);
                let ru = |i: usize| r.untyped.get(i).copied().unwrap_or(false);
                for (i, (a, b)) in l.cols.iter().zip(&r.cols).enumerate() {
                    untyped.push(lu(i) && ru(i));
                    let t = if a.ty == b.ty || ru(i) {
                        a.ty
                    } else if lu(i) {
                        b.ty
                    } else {
                        super::expr::select_common_type(a.ty, b.ty).ok_or_else(|| {
                            PgError::new(
                                code::DATATYPE_MISMATCH,
                                format!(
                                    "UNION types {} and {} cannot be matched",
                                    a.ty.format(-1),
                                    b.ty.format(-1)
                                ),
                            )
                        })?
                    };
                    conv_l |= a.ty != t;
                    conv_r |= b.ty != t;
                    cols.push(OutCol {
                        ty: t,
                        typmod: if a.typmod == b.typmod { a.typmod } else { -1 },
                        collate: if a.collate == b.collate {
                            a.collate
                        } else {
                            None
                        },
                        ..a.clone()
                    });
                }
                let ls = if conv_l {
                    self.convert_side(&l, &cols)?
                } else {
                    l.sql.clone()
                };
                let rs = if conv_r {
                    self.convert_side(&r, &cols)?
                } else {
                    r.sql.clone()
                };
                let _ = (&lu, &ru);
                let cols: Vec<OutCol> = cols
                    .into_iter()
                    .map(|c| OutCol {
                        table_oid: 0,
                        attnum: 0,
                        ..c
                    })
                    .collect();
                Ok(QueryOut {
                    sql: format!("{ls} {kw} {rs}"),
                    cols,
                    untyped,
                })
            }
            SetExpr::Table(t) => {
                let name = t.table_name.clone().unwrap_or_default();
                let q = format!("SELECT * FROM {name}");
                let parsed = crate::sql::parse(&q)?;
                match parsed.first() {
                    Some(sqlparser::ast::Statement::Query(q)) => self.query(q, outer),
                    _ => Err(PgError::unsupported("TABLE")),
                }
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(PgError::unsupported(
                    "data-modifying statements in a subquery",
                ))
            }
        }
    }

    /// Convert one operand of a set operation to the unified column types.
    fn convert_side(&mut self, side: &QueryOut, cols: &[OutCol]) -> PgResult<String> {
        let a = self.alias("u");
        let mut list = Vec::new();
        for (i, (c, target)) in side.cols.iter().zip(cols).enumerate() {
            let col = format!("{}.{}", quote(&a), quote(&c.name));
            let s = if side.untyped.get(i).copied().unwrap_or(false) && c.ty != target.ty {
                // An untyped literal is read as a value of the resolved type.
                format!("pg_cast({col}, {}, {}, -1)", c.ty.oid(), target.ty.oid())
            } else {
                self.coerce(Ex::new(col, c.ty), target.ty, -1)?
            };
            list.push(format!("{s} AS {}", quote(&c.name)));
        }
        Ok(format!(
            "SELECT {} FROM ({}) AS {}",
            list.join(", "),
            side.sql,
            quote(&a)
        ))
    }

    fn values(
        &mut self,
        v: &Values,
        outer: &Scope,
        names: Option<&[String]>,
    ) -> PgResult<QueryOut> {
        if v.rows.is_empty() {
            return Err(PgError::syntax("VALUES must have at least one row"));
        }
        let width = v.rows[0].len();
        let mut rows: Vec<Vec<Ex>> = Vec::new();
        for r in &v.rows {
            if r.len() != width {
                return Err(PgError::syntax("VALUES lists must all be the same length"));
            }
            let mut xs = Vec::new();
            for e in r.iter() {
                if matches!(e, Expr::Identifier(i) if i.value.eq_ignore_ascii_case("default")) {
                    return Err(PgError::syntax("DEFAULT is not allowed in this context"));
                }
                xs.push(self.expr(e, outer)?);
            }
            rows.push(xs);
        }
        let mut types = Vec::new();
        for c in 0..width {
            let column: Vec<Ex> = rows.iter().map(|r| r[c].clone()).collect();
            types.push(self.unify(&column, "VALUES")?.unwrap_or(PgType::TEXT));
        }
        let mut out_rows = Vec::new();
        for r in rows {
            let mut parts = Vec::new();
            for (c, x) in r.into_iter().enumerate() {
                parts.push(self.coerce(x, types[c], -1)?);
            }
            out_rows.push(format!("({})", parts.join(", ")));
        }
        let cols: Vec<OutCol> = types
            .iter()
            .enumerate()
            .map(|(i, t)| OutCol {
                name: names
                    .and_then(|n| n.get(i).cloned())
                    .unwrap_or_else(|| format!("column{}", i + 1)),
                ty: *t,
                typmod: -1,
                table_oid: 0,
                attnum: 0,
                collate: None,
            })
            .collect();
        // SQLite names VALUES columns column1..N; give them our names.
        let a = self.alias("v");
        let list: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}.column{} AS {}", quote(&a), i + 1, quote(&c.name)))
            .collect();
        Ok(QueryOut {
            untyped: Vec::new(),
            sql: format!(
                "SELECT {} FROM (VALUES {}) AS {}",
                list.join(", "),
                out_rows.join(", "),
                quote(&a)
            ),
            cols,
        })
    }

    fn select(
        &mut self,
        s: &Select,
        outer: &Scope,
        order_by: Option<&OrderBy>,
        limit: &str,
    ) -> PgResult<QueryOut> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.qualify.is_some()
            || s.value_table_mode.is_some()
            || s.exclude.is_some()
        {
            if s.into.is_some() {
                return Err(PgError::unsupported("SELECT INTO"));
            }
            return Err(PgError::unsupported(format!("the SELECT clause in {s}")));
        }
        // This SELECT's locking clause, taken before its FROM list (whose subqueries are
        // SELECTs too).
        let lock_clauses = self.pending_lock.take();
        let mut sc = Scope::child(outer);
        let mut from_parts = Vec::new();
        for twj in &s.from {
            from_parts.push(self.table_with_joins(twj, &mut sc, outer)?);
        }
        let from_sql = if from_parts.is_empty() {
            String::new()
        } else {
            format!(" FROM {}", from_parts.join(", "))
        };
        let mut where_sql = match &s.selection {
            Some(w) => {
                let x = self.expr(w, &sc)?;
                let c = self.coerce(x, PgType::BOOL, -1)?;
                format!(" WHERE {c}")
            }
            None => String::new(),
        };
        let lock_items = match lock_clauses {
            Some(clauses) => self.lock_rows(&clauses, s, &sc, &mut where_sql)?,
            None => Vec::new(),
        };
        // Projection.
        let mut items: Vec<(String, Ex)> = Vec::new();
        let mut untyped: Vec<bool> = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let x = self.expr(e, &sc)?;
                    untyped.push(matches!(x.ty, Ty::Unknown) && x.lit.is_some());
                    let x = self.settle(x)?;
                    let name = x.name.clone().unwrap_or_else(|| "?column?".into());
                    items.push((name, x));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let x = self.expr(expr, &sc)?;
                    untyped.push(matches!(x.ty, Ty::Unknown) && x.lit.is_some());
                    let x = self.settle(x)?;
                    items.push((ident(alias), x));
                }
                SelectItem::Wildcard(opts) => {
                    if opts.opt_exclude.is_some()
                        || opts.opt_except.is_some()
                        || opts.opt_replace.is_some()
                        || opts.opt_rename.is_some()
                        || opts.opt_ilike.is_some()
                    {
                        return Err(PgError::unsupported("wildcard options"));
                    }
                    for c in sc.star(None)? {
                        items.push((c.name.clone(), col_ex(&c)));
                        untyped.push(false);
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => object_name(n)?.1,
                        SelectItemQualifiedWildcardKind::Expr(e) => {
                            return Err(PgError::unsupported(format!("{e}.*")));
                        }
                    };
                    for c in sc.star(Some(&q))? {
                        items.push((c.name.clone(), col_ex(&c)));
                        untyped.push(false);
                    }
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(PgError::unsupported("multiple aliases"));
                }
            }
        }
        let cols: Vec<OutCol> = items.iter().map(|(n, x)| out_col(n.clone(), x)).collect();
        let group_exprs: &[Expr] = match &s.group_by {
            GroupByExpr::Expressions(exprs, _) => exprs,
            GroupByExpr::All(_) => &[],
        };
        let order_exprs: Vec<&Expr> = match order_by.map(|o| &o.kind) {
            Some(OrderByKind::Expressions(list)) => list.iter().map(|o| &o.expr).collect(),
            _ => Vec::new(),
        };
        self.check_grouping(
            &super::grouping::Grouping {
                projection: &s.projection,
                group_by: group_exprs,
                having: s.having.as_ref(),
                order_by: order_exprs,
            },
            &sc,
        )?;
        // GROUP BY and HAVING.
        let group_sql = match &s.group_by {
            GroupByExpr::All(_) => return Err(PgError::unsupported("GROUP BY ALL")),
            GroupByExpr::Expressions(exprs, mods) => {
                if !mods.is_empty() {
                    return Err(PgError::unsupported("GROUP BY modifiers"));
                }
                if exprs.is_empty() {
                    String::new()
                } else {
                    let mut parts = Vec::new();
                    for e in exprs {
                        parts.push(self.group_item(e, &sc, &items)?);
                    }
                    format!(" GROUP BY {}", parts.join(", "))
                }
            }
        };
        let having_sql = match &s.having {
            Some(h) => {
                let x = self.expr(h, &sc)?;
                format!(" HAVING {}", self.coerce(x, PgType::BOOL, -1)?)
            }
            None => String::new(),
        };
        let window_sql = if s.named_window.is_empty() {
            String::new()
        } else {
            let mut parts = Vec::new();
            for w in &s.named_window {
                let spec = match &w.1 {
                    sqlparser::ast::NamedWindowExpr::WindowSpec(spec) => {
                        let f = sqlparser::ast::WindowType::WindowSpec(spec.clone());
                        self.window_spec_pub(&f, &sc)?
                    }
                    sqlparser::ast::NamedWindowExpr::NamedWindow(n) => quote(&ident(n)),
                };
                parts.push(format!("{} AS {spec}", quote(&ident(&w.0))));
            }
            format!(" WINDOW {}", parts.join(", "))
        };
        let mut proj: Vec<String> = items
            .iter()
            .map(|(n, x)| format!("{} AS {}", x.sql, quote(n)))
            .collect();
        if !lock_items.is_empty() {
            if let Some(l) = self.locking.as_mut() {
                for (i, t) in l.targets.iter_mut().enumerate() {
                    t.1 = items.len() + i;
                }
            }
            proj.extend(lock_items);
        }
        // DISTINCT ON: keep the first row of each group in ORDER BY order.
        if let Some(Distinct::On(on)) = &s.distinct {
            let mut keys = Vec::new();
            for e in on {
                let x = self.expr(e, &sc)?;
                keys.push(self.settle(x)?.sql);
            }
            // Inside the window, an output-column reference must be its expression (a bare
            // position would be a constant there).
            let mut keyed = Vec::new();
            if let Some(ob) = order_by
                && let OrderByKind::Expressions(list) = &ob.kind
            {
                for o in list {
                    let x = self.order_expr(&o.expr, &sc, &cols)?;
                    // order_expr renders output-column references as their position.
                    let x = match x.sql.parse::<usize>() {
                        Ok(i) if i >= 1 && i <= items.len() => {
                            let mut y = items[i - 1].1.clone();
                            y.collate = y.collate.or(x.collate);
                            y
                        }
                        _ => x,
                    };
                    keyed.push((x, super::funcs::asc_of(&o.options), o.options.nulls_first));
                }
            }
            let inner_order = keyed
                .iter()
                .map(|(x, asc, nf)| order_sql(x, *asc, *nf))
                .collect::<Vec<_>>()
                .join(", ");
            let rn = self.alias("rn");
            let a = self.alias("d");
            let over = if inner_order.is_empty() {
                format!("PARTITION BY {}", keys.join(", "))
            } else {
                format!("PARTITION BY {} ORDER BY {inner_order}", keys.join(", "))
            };
            // Carry the ORDER BY keys out as hidden columns so the outer query can sort.
            let mut hidden = Vec::new();
            for (i, (x, asc, nf)) in keyed.iter().enumerate() {
                let h = format!("__ob{i}");
                hidden.push((
                    h.clone(),
                    order_sql(
                        &Ex {
                            sql: format!("{}.{}", quote(&a), quote(&h)),
                            ..x.clone()
                        },
                        *asc,
                        *nf,
                    ),
                    x.sql.clone(),
                ));
            }
            let mut inner_proj = proj.clone();
            for (h, _, sql) in &hidden {
                inner_proj.push(format!("{sql} AS {}", quote(h)));
            }
            let inner = format!(
                "SELECT {}, row_number() OVER ({over}) AS {}{from_sql}{where_sql}{group_sql}{having_sql}{window_sql}",
                inner_proj.join(", "),
                quote(&rn)
            );
            let outer_list: Vec<String> = cols
                .iter()
                .map(|c| format!("{}.{}", quote(&a), quote(&c.name)))
                .collect();
            let outer_order = if hidden.is_empty() {
                String::new()
            } else {
                format!(
                    " ORDER BY {}",
                    hidden
                        .iter()
                        .map(|h| h.1.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Ok(QueryOut {
                untyped,
                sql: format!(
                    "SELECT {} FROM ({inner}) AS {} WHERE {}.{} = 1{outer_order}{limit}",
                    outer_list.join(", "),
                    quote(&a),
                    quote(&a),
                    quote(&rn)
                ),
                cols,
            });
        }
        let distinct = match &s.distinct {
            Some(Distinct::Distinct) => "DISTINCT ",
            _ => "",
        };
        let order = match order_by {
            Some(ob) => self.order_by(ob, &sc, &cols, false)?,
            None => String::new(),
        };
        Ok(QueryOut {
            sql: format!(
                "SELECT {distinct}{}{from_sql}{where_sql}{group_sql}{having_sql}{window_sql}{order}{limit}",
                proj.join(", ")
            ),
            cols,
            untyped,
        })
    }

    /// `FOR UPDATE / FOR SHARE` of this SELECT: the hidden rowid columns of the locked
    /// tables (their positions are fixed once the projection is known), and for SKIP LOCKED
    /// a condition that leaves out rows other transactions hold.
    fn lock_rows(
        &mut self,
        clauses: &[sqlparser::ast::LockClause],
        s: &Select,
        sc: &Scope,
        where_sql: &mut String,
    ) -> PgResult<Vec<String>> {
        use sqlparser::ast::{LockType, NonBlock};
        let refuse = |what: &str| {
            Err(PgError::unsupported(format!(
                "FOR UPDATE is not allowed with {what}"
            )))
        };
        if s.distinct.is_some() {
            return refuse("DISTINCT clause");
        }
        if matches!(&s.group_by, GroupByExpr::Expressions(e, _) if !e.is_empty()) {
            return refuse("GROUP BY clause");
        }
        if s.having.is_some() {
            return refuse("HAVING clause");
        }
        let has_aggregate = s.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                super::grouping::contains_aggregate(e)
            }
            _ => false,
        });
        if has_aggregate {
            return refuse("aggregate functions");
        }
        let mut exclusive = false;
        let mut wait = super::LockWait::Block;
        let mut of: Vec<String> = Vec::new();
        for c in clauses {
            exclusive |= matches!(c.lock_type, LockType::Update);
            match c.nonblock {
                Some(NonBlock::Nowait) => wait = super::LockWait::Nowait,
                Some(NonBlock::SkipLocked) => wait = super::LockWait::SkipLocked,
                None => {}
            }
            if let Some(n) = &c.of {
                of.push(object_name(n)?.1);
            }
        }
        let mut items = Vec::new();
        let mut targets = Vec::new();
        for rel in &sc.rels {
            let (Some(alias), Some(table)) = (&rel.name, &rel.table) else {
                continue;
            };
            if !of.is_empty() && !of.contains(alias) {
                continue;
            }
            let q = quote(alias);
            items.push(format!("{q}.rowid"));
            targets.push((table.clone(), 0));
            if wait == super::LockWait::SkipLocked {
                let cond = format!(
                    "NOT pg_row_locked({}, {q}.rowid, {})",
                    super::sql_str(table),
                    exclusive as i32
                );
                if where_sql.is_empty() {
                    *where_sql = format!(" WHERE {cond}");
                } else {
                    *where_sql = format!("{where_sql} AND {cond}");
                }
            }
        }
        for n in &of {
            if !sc.rels.iter().any(|r| r.name.as_deref() == Some(n)) {
                return Err(PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{n}\" in FOR UPDATE clause not found in FROM clause"),
                ));
            }
        }
        self.locking = Some(super::Locking {
            targets,
            exclusive,
            wait,
        });
        Ok(items)
    }

    pub fn window_spec_pub(
        &mut self,
        w: &sqlparser::ast::WindowType,
        sc: &Scope,
    ) -> PgResult<String> {
        let f = sqlparser::ast::Function {
            name: sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new("row_number")]),
            uses_odbc_syntax: false,
            parameters: sqlparser::ast::FunctionArguments::None,
            args: sqlparser::ast::FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
                duplicate_treatment: None,
                args: vec![],
                clauses: vec![],
            }),
            within_group: vec![],
            filter: None,
            null_treatment: None,
            over: Some(w.clone()),
        };
        let x = self.function(&f, sc)?;
        Ok(x.sql.trim_start_matches("row_number() OVER ").to_string())
    }

    fn group_item(&mut self, e: &Expr, sc: &Scope, items: &[(String, Ex)]) -> PgResult<String> {
        if let Expr::Value(v) = e
            && let AstValue::Number(n, _) = &v.value
        {
            let i: usize = n
                .parse()
                .map_err(|_| PgError::syntax("non-integer constant in GROUP BY"))?;
            if i == 0 || i > items.len() {
                return Err(PgError::new(
                    code::INVALID_COLUMN_REFERENCE,
                    format!("GROUP BY position {i} is not in select list"),
                ));
            }
            return Ok(items[i - 1].1.sql.clone());
        }
        if let Expr::Identifier(id) = e {
            let name = ident(id);
            if sc.lookup(None, &name).ok().flatten().is_none()
                && let Some((_, x)) = items.iter().find(|(n, _)| *n == name)
            {
                return Ok(x.sql.clone());
            }
        }
        let x = self.expr(e, sc)?;
        Ok(self.settle(x)?.sql)
    }

    /// Resolve an ORDER BY expression: output column name or position, else an input expression.
    fn order_expr(&mut self, e: &Expr, sc: &Scope, cols: &[OutCol]) -> PgResult<Ex> {
        let by_output = |i: usize| -> Ex {
            let c = &cols[i];
            let mut x = Ex::new((i + 1).to_string(), c.ty);
            x.collate = c.collate;
            x
        };
        if let Expr::Value(v) = e
            && let AstValue::Number(n, _) = &v.value
        {
            let i: usize = n
                .parse()
                .map_err(|_| PgError::syntax("non-integer constant in ORDER BY"))?;
            if i == 0 || i > cols.len() {
                return Err(PgError::new(
                    code::INVALID_COLUMN_REFERENCE,
                    format!("ORDER BY position {i} is not in select list"),
                ));
            }
            return Ok(by_output(i - 1));
        }
        if let Expr::Identifier(id) = e {
            let name = ident(id);
            let matches: Vec<usize> = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| c.name == name)
                .map(|(i, _)| i)
                .collect();
            if matches.len() > 1 {
                return Err(PgError::new(
                    code::AMBIGUOUS_COLUMN,
                    format!("ORDER BY \"{name}\" is ambiguous"),
                ));
            }
            if let Some(i) = matches.first() {
                return Ok(by_output(*i));
            }
        }
        let x = self.expr(e, sc)?;
        self.settle(x)
    }

    fn order_by(
        &mut self,
        ob: &OrderBy,
        sc: &Scope,
        cols: &[OutCol],
        outputs_only: bool,
    ) -> PgResult<String> {
        let list = match &ob.kind {
            OrderByKind::Expressions(l) => l,
            OrderByKind::All(_) => return Err(PgError::unsupported("ORDER BY ALL")),
        };
        if ob.interpolate.is_some() {
            return Err(PgError::unsupported("ORDER BY … INTERPOLATE"));
        }
        let mut parts = Vec::new();
        for o in list {
            if o.with_fill.is_some() {
                return Err(PgError::unsupported("WITH FILL"));
            }
            let x = self.order_expr(&o.expr, sc, cols)?;
            let _ = outputs_only;
            parts.push(order_sql(
                &x,
                super::funcs::asc_of(&o.options),
                o.options.nulls_first,
            ));
        }
        Ok(format!(" ORDER BY {}", parts.join(", ")))
    }

    /// A FROM item (with its joins) for UPDATE … FROM and DELETE … USING.
    pub fn from_item_pub(
        &mut self,
        twj: &TableWithJoins,
        sc: &mut Scope,
        outer: &Scope,
    ) -> PgResult<String> {
        self.table_with_joins(twj, sc, outer)
    }

    fn table_with_joins(
        &mut self,
        twj: &TableWithJoins,
        sc: &mut Scope,
        outer: &Scope,
    ) -> PgResult<String> {
        let start = sc.rels.len();
        let mut sql = self.table_factor(&twj.relation, sc, outer)?;
        for j in &twj.joins {
            sql = self.join(sql, j, sc, outer, start)?;
        }
        Ok(sql)
    }

    fn join(
        &mut self,
        left_sql: String,
        j: &Join,
        sc: &mut Scope,
        outer: &Scope,
        start: usize,
    ) -> PgResult<String> {
        let before = sc.rels.len();
        let right_sql = self.table_factor(&j.relation, sc, outer)?;
        let (kw, constraint) = match &j.join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT JOIN", c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT JOIN", c),
            JoinOperator::FullOuter(c) => ("FULL JOIN", c),
            JoinOperator::CrossJoin(c) => ("CROSS JOIN", c),
            other => {
                return Err(PgError::unsupported(
                    format!("the join {other:?}")
                        .chars()
                        .take(60)
                        .collect::<String>(),
                ));
            }
        };
        let cond = match constraint {
            JoinConstraint::None => String::new(),
            JoinConstraint::On(e) => {
                let x = self.expr(e, sc)?;
                format!(" ON {}", self.coerce(x, PgType::BOOL, -1)?)
            }
            JoinConstraint::Using(names) => {
                let names: Vec<String> = names
                    .iter()
                    .map(|n| object_name(n).map(|(_, n)| n))
                    .collect::<PgResult<_>>()?;
                let mut conds = Vec::new();
                let mut pairs = Vec::new();
                for n in &names {
                    let left = sc.rels[..before]
                        .iter()
                        .flat_map(|r| r.cols.iter())
                        .find(|c| c.name == *n && !c.hidden)
                        .cloned();
                    let Some(lc) = left else {
                        return Err(PgError::new(
                            code::UNDEFINED_COLUMN,
                            format!(
                                "column \"{n}\" specified in USING clause does not exist in left table"
                            ),
                        ));
                    };
                    let mut found = false;
                    for r in sc.rels[before..].iter_mut() {
                        for c in r.cols.iter_mut() {
                            if c.name == *n {
                                conds.push(format!("{} = {}", lc.sql, c.sql));
                                pairs.push((lc.clone(), c.clone()));
                                c.hidden = true;
                                found = true;
                            }
                        }
                    }
                    if !found {
                        return Err(PgError::new(
                            code::UNDEFINED_COLUMN,
                            format!(
                                "column \"{n}\" specified in USING clause does not exist in right table"
                            ),
                        ));
                    }
                }
                self.merge_join_columns(sc, start, kw, &pairs);
                format!(" ON {}", conds.join(" AND "))
            }
            JoinConstraint::Natural => {
                let left_names: Vec<Col> = sc.rels[..before]
                    .iter()
                    .flat_map(|r| r.cols.iter())
                    .filter(|c| !c.hidden)
                    .cloned()
                    .collect();
                let mut conds = Vec::new();
                let mut pairs = Vec::new();
                for r in sc.rels[before..].iter_mut() {
                    for c in r.cols.iter_mut() {
                        if let Some(lc) = left_names.iter().find(|l| l.name == c.name) {
                            conds.push(format!("{} = {}", lc.sql, c.sql));
                            pairs.push((lc.clone(), c.clone()));
                            c.hidden = true;
                        }
                    }
                }
                self.merge_join_columns(sc, start, kw, &pairs);
                if conds.is_empty() {
                    String::new()
                } else {
                    format!(" ON {}", conds.join(" AND "))
                }
            }
        };
        let kw = if kw == "JOIN" && cond.is_empty() {
            "CROSS JOIN"
        } else {
            kw
        };
        Ok(format!("{left_sql} {kw} {right_sql}{cond}"))
    }

    /// The merged columns of `USING` / `NATURAL` for RIGHT and FULL joins: unqualified names
    /// read `COALESCE(left, right)` (the right side alone for RIGHT), listed first by `*`;
    /// the qualified columns keep their own, possibly NULL, values. For inner and left joins
    /// the left column already is the merged value.
    fn merge_join_columns(&mut self, sc: &mut Scope, start: usize, kw: &str, pairs: &[(Col, Col)]) {
        if pairs.is_empty() || !(kw == "FULL JOIN" || kw == "RIGHT JOIN") {
            return;
        }
        let mut merged = Rel {
            name: None,
            cols: Vec::new(),
            table: None,
        };
        for (l, r) in pairs {
            for rel in sc.rels[..].iter_mut() {
                for c in rel.cols.iter_mut() {
                    if c.sql == l.sql {
                        c.hidden = true;
                    }
                }
            }
            merged.cols.push(Col {
                sql: if kw == "FULL JOIN" {
                    format!("coalesce({}, {})", l.sql, r.sql)
                } else {
                    r.sql.clone()
                },
                hidden: false,
                table_oid: 0,
                attnum: 0,
                ..l.clone()
            });
        }
        sc.rels.insert(start.min(sc.rels.len()), merged);
    }

    fn table_factor(
        &mut self,
        tf: &TableFactor,
        sc: &mut Scope,
        outer: &Scope,
    ) -> PgResult<String> {
        match tf {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_hints,
            } => {
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_hints.is_empty()
                {
                    return Err(PgError::unsupported(format!("table options on {name}")));
                }
                if let Some(a) = args {
                    let fname = object_name(name)?.1;
                    let exprs: Vec<Expr> = a
                        .args
                        .iter()
                        .map(|x| match x {
                            sqlparser::ast::FunctionArg::Unnamed(
                                sqlparser::ast::FunctionArgExpr::Expr(e),
                            ) => Ok(e.clone()),
                            other => Err(PgError::unsupported(format!("argument {other}"))),
                        })
                        .collect::<PgResult<_>>()?;
                    return self.table_function(
                        &fname,
                        &exprs,
                        alias.as_ref(),
                        *with_ordinality,
                        sc,
                        outer,
                    );
                }
                let (schema, tname) = object_name(name)?;
                let alias_name = alias
                    .as_ref()
                    .map(|a| ident(&a.name))
                    .unwrap_or_else(|| tname.clone());
                let col_names = alias.as_ref().map(alias_names).unwrap_or_default();
                if schema.is_none()
                    && let Some(rel) = self.lookup_cte(&tname).cloned()
                {
                    let mut rel = rel;
                    rel.name = Some(alias_name.clone());
                    for (i, c) in rel.cols.iter_mut().enumerate() {
                        if let Some(n) = col_names.get(i) {
                            c.name = n.clone();
                        }
                    }
                    let inner_names: Vec<String> = self
                        .lookup_cte(&tname)
                        .map(|r| r.cols.iter().map(|c| c.name.clone()).collect())
                        .unwrap_or_default();
                    for (c, inner) in rel.cols.iter_mut().zip(inner_names) {
                        c.sql = format!("{}.{}", quote(&alias_name), quote(&inner));
                    }
                    sc.push(rel)?;
                    return Ok(format!("{} AS {}", quote(&tname), quote(&alias_name)));
                }
                let user_schema = matches!(schema.as_deref(), None | Some("public"));
                if user_schema && let Some(t) = self.cat.table(&tname) {
                    let mut rel = Rel {
                        name: Some(alias_name.clone()),
                        cols: Vec::new(),
                        table: Some(tname.clone()),
                    };
                    for (i, c) in t.columns.iter().enumerate() {
                        rel.cols.push(Col {
                            name: col_names.get(i).cloned().unwrap_or_else(|| c.name.clone()),
                            sql: format!("{}.{}", quote(&alias_name), quote(&c.name)),
                            ty: c.ty,
                            typmod: c.typmod,
                            table_oid: t.oid,
                            attnum: c.attnum,
                            collate: collation_for(c.ty),
                            hidden: false,
                        });
                    }
                    sc.push(rel)?;
                    return Ok(format!("{} AS {}", quote(&tname), quote(&alias_name)));
                }
                if let Some((sql, cols)) =
                    crate::sql::pg_catalog::system_relation(schema.as_deref(), &tname, self)?
                {
                    self.reads_catalog = true;
                    let mut rel = Rel {
                        name: Some(alias_name.clone()),
                        cols: Vec::new(),
                        table: None,
                    };
                    for (i, (cname, ty)) in cols.iter().enumerate() {
                        rel.cols.push(Col {
                            name: col_names.get(i).cloned().unwrap_or_else(|| cname.clone()),
                            sql: format!("{}.{}", quote(&alias_name), quote(cname)),
                            ty: *ty,
                            typmod: -1,
                            table_oid: 0,
                            attnum: 0,
                            collate: None,
                            hidden: false,
                        });
                    }
                    sc.push(rel)?;
                    return Ok(format!("{sql} AS {}", quote(&alias_name)));
                }
                let shown = match &schema {
                    Some(s) if !user_schema => format!("{s}.{tname}"),
                    _ => tname.clone(),
                };
                let _ = is_internal_name(&tname);
                let mut e = PgError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation \"{shown}\" does not exist"),
                );
                if let Some(sqlparser::ast::ObjectNamePart::Identifier(first)) = name.0.first() {
                    e = e.at(first.span);
                }
                Err(e)
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if *lateral {
                    return Err(PgError::unsupported("LATERAL"));
                }
                if sample.is_some() {
                    return Err(PgError::unsupported("TABLESAMPLE"));
                }
                let Some(alias) = alias else {
                    // PostgreSQL 16 allows an unaliased subquery; give it an internal name.
                    let a = self.alias("sub");
                    let out = self.subquery(subquery, outer)?;
                    sc.push(rel_from_out(&a, &out.cols, None))?;
                    return Ok(format!("({}) AS {}", out.sql, quote(&a)));
                };
                let a = ident(&alias.name);
                let names = alias_names(alias);
                let out = if let SetExpr::Values(v) = subquery.body.as_ref() {
                    self.values(v, outer, Some(&names))?
                } else {
                    self.subquery(subquery, outer)?
                };
                if names.is_empty() {
                    sc.push(rel_from_out(&a, &out.cols, None))?;
                    Ok(format!("({}) AS {}", out.sql, quote(&a)))
                } else {
                    let mut all_names = names.clone();
                    all_names.extend(out.cols.iter().skip(names.len()).map(|c| c.name.clone()));
                    let inner = self.alias("r");
                    let sql = rename(&out.sql, &out.cols, &all_names, &inner);
                    sc.push(rel_from_out(&a, &out.cols, Some(&all_names)))?;
                    Ok(format!("({sql}) AS {}", quote(&a)))
                }
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                if alias.is_some() {
                    return Err(PgError::unsupported("an alias on a parenthesized join"));
                }
                let inner = self.table_with_joins(table_with_joins, sc, outer)?;
                Ok(format!("({inner})"))
            }
            TableFactor::Function {
                lateral,
                name,
                args,
                with_ordinality,
                alias,
            } => {
                if *lateral {
                    return Err(PgError::unsupported("LATERAL"));
                }
                let fname = object_name(name)?.1;
                let exprs: Vec<Expr> = args
                    .iter()
                    .map(|x| match x {
                        sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(e),
                        ) => Ok(e.clone()),
                        other => Err(PgError::unsupported(format!("argument {other}"))),
                    })
                    .collect::<PgResult<_>>()?;
                self.table_function(&fname, &exprs, alias.as_ref(), *with_ordinality, sc, outer)
            }
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset,
                with_ordinality,
                ..
            } => {
                if *with_offset || array_exprs.len() != 1 {
                    return Err(PgError::unsupported("this form of UNNEST"));
                }
                self.table_function(
                    "unnest",
                    array_exprs,
                    alias.as_ref(),
                    *with_ordinality,
                    sc,
                    outer,
                )
            }
            other => Err(PgError::unsupported(format!("the FROM item {other}"))),
        }
    }

    /// Set-returning functions in FROM.
    fn table_function(
        &mut self,
        name: &str,
        args: &[Expr],
        alias: Option<&TableAlias>,
        ordinality: bool,
        sc: &mut Scope,
        outer: &Scope,
    ) -> PgResult<String> {
        let a = alias
            .map(|x| ident(&x.name))
            .unwrap_or_else(|| name.to_string());
        let names = alias.map(alias_names).unwrap_or_default();
        let arg_scope = Scope {
            rels: Vec::new(),
            parent: Some(outer),
        };
        let mut xs = Vec::new();
        for e in args {
            xs.push(self.expr(e, &arg_scope)?);
        }
        let (body, cols): (String, Vec<(String, PgType)>) = match name {
            "generate_series" => {
                if xs.len() < 2 || xs.len() > 3 {
                    return Err(PgError::new(
                        code::UNDEFINED_FUNCTION,
                        "function generate_series has 2 or 3 arguments",
                    ));
                }
                let t = self.unify(&xs, "generate_series")?.unwrap_or(PgType::INT4);
                let col = names.first().cloned().unwrap_or_else(|| {
                    if alias.is_some() && names.is_empty() {
                        a.clone()
                    } else {
                        "generate_series".into()
                    }
                });
                if t.scalar.is_integer() {
                    let s: Vec<String> = xs
                        .into_iter()
                        .map(|x| self.coerce(x, PgType::INT8, -1))
                        .collect::<PgResult<_>>()?;
                    let step = s.get(2).cloned().unwrap_or_else(|| "1".into());
                    let ord = if ordinality {
                        format!(
                            ", row_number() OVER () AS {}",
                            quote(names.get(1).map(String::as_str).unwrap_or("ordinality"))
                        )
                    } else {
                        String::new()
                    };
                    // pg_generate_series (src/sql/functions/series.rs): PostgreSQL's semantics
                    // for the step's sign, a zero step and the ends of the bigint range.
                    let out_t = if t == PgType::INT2 { PgType::INT4 } else { t };
                    (
                        format!(
                            "SELECT value AS {}{ord} FROM pg_generate_series({}, {}, {step})",
                            quote(&col),
                            s[0],
                            s[1]
                        ),
                        vec![(col, out_t)],
                    )
                } else if matches!(
                    t.scalar,
                    Scalar::Timestamp | Scalar::Timestamptz | Scalar::Date
                ) && xs.len() == 3
                {
                    let t = if t.scalar == Scalar::Date {
                        PgType::TIMESTAMPTZ
                    } else {
                        t
                    };
                    let mut it = xs.into_iter();
                    let (s0, s1, s2) = (it.next(), it.next(), it.next());
                    let (Some(s0), Some(s1), Some(s2)) = (s0, s1, s2) else {
                        return Err(PgError::internal("generate_series args"));
                    };
                    let start = self.coerce(s0, t, -1)?;
                    let stop = self.coerce(s1, t, -1)?;
                    let step = self.coerce(s2, PgType::INTERVAL, -1)?;
                    let r = self.alias("gs");
                    (
                        format!(
                            "WITH RECURSIVE {r}(v) AS (SELECT {start} UNION ALL SELECT pg_ts_add(v, {step}, {oid}) FROM {r} WHERE pg_ts_add(v, {step}, {oid}) <= {stop} LIMIT 10000000) SELECT v AS {} FROM {r}",
                            quote(&col),
                            oid = t.oid()
                        ),
                        vec![(col, t)],
                    )
                } else if t.scalar == Scalar::Numeric {
                    return Err(PgError::unsupported("generate_series over numeric"));
                } else {
                    return Err(PgError::new(
                        code::UNDEFINED_FUNCTION,
                        format!("function generate_series({}) does not exist", t.format(-1)),
                    ));
                }
            }
            "unnest" => {
                if xs.len() != 1 {
                    return Err(PgError::unsupported("unnest with several arrays"));
                }
                let x = xs.remove(0);
                let x = self.settle_as(x, PgType::array_of(Scalar::Text))?;
                let t = x.known().filter(|t| t.array).ok_or_else(|| {
                    PgError::new(
                        code::UNDEFINED_FUNCTION,
                        "function unnest(non-array) does not exist",
                    )
                })?;
                let col = names.first().cloned().unwrap_or_else(|| {
                    if alias.is_some() {
                        a.clone()
                    } else {
                        "unnest".into()
                    }
                });
                let mut cols = vec![(col.clone(), t.element())];
                let ord = if ordinality {
                    let o = names.get(1).cloned().unwrap_or_else(|| "ordinality".into());
                    cols.push((o.clone(), PgType::INT8));
                    format!(", key + 1 AS {}", quote(&o))
                } else {
                    String::new()
                };
                (
                    format!(
                        "SELECT value AS {}{ord} FROM json_each({}) ORDER BY key",
                        quote(&col),
                        x.sql
                    ),
                    cols,
                )
            }
            "jsonb_array_elements"
            | "json_array_elements"
            | "jsonb_array_elements_text"
            | "json_array_elements_text"
            | "jsonb_each"
            | "json_each"
            | "jsonb_each_text"
            | "json_each_text"
            | "jsonb_object_keys"
            | "json_object_keys" => {
                // pg_json_items (src/sql/functions/json.rs) splits the document into the exact
                // source text of each element, and raises PostgreSQL's errors for wrong kinds.
                if xs.len() != 1 {
                    return Err(PgError::new(
                        code::UNDEFINED_FUNCTION,
                        format!("function {name} takes one argument"),
                    ));
                }
                let x = xs.remove(0);
                let jt = if name.starts_with("jsonb") {
                    PgType::JSONB
                } else {
                    PgType::JSON
                };
                let j = self.coerce(x, jt, -1)?;
                let items = format!("pg_json_items({j}, {})", sql_str(name));
                let text = name.ends_with("_text");
                let v = format!("pg_json_elem(value, {})", text as i32);
                let vt = if text { PgType::TEXT } else { jt };
                if name.ends_with("object_keys") {
                    let col = names.first().cloned().unwrap_or_else(|| name.into());
                    (
                        format!(
                            "SELECT value AS {} FROM json_each({items}) ORDER BY key",
                            quote(&col)
                        ),
                        vec![(col, PgType::TEXT)],
                    )
                } else if name.contains("array_elements") {
                    let col = names.first().cloned().unwrap_or_else(|| "value".into());
                    (
                        format!(
                            "SELECT {v} AS {} FROM json_each({items}) ORDER BY key",
                            quote(&col)
                        ),
                        vec![(col, vt)],
                    )
                } else {
                    let k = names.first().cloned().unwrap_or_else(|| "key".into());
                    let vcol = names.get(1).cloned().unwrap_or_else(|| "value".into());
                    (
                        format!(
                            "SELECT key AS {}, {v} AS {} FROM json_each({items})",
                            quote(&k),
                            quote(&vcol)
                        ),
                        vec![(k, PgType::TEXT), (vcol, vt)],
                    )
                }
            }
            "regexp_split_to_table" | "string_to_table" | "regexp_matches" => {
                let s: Vec<String> = xs
                    .into_iter()
                    .map(|x| self.coerce(x, PgType::TEXT, -1))
                    .collect::<PgResult<_>>()?;
                if s.len() < 2 || s.len() > 3 {
                    return Err(PgError::new(
                        code::UNDEFINED_FUNCTION,
                        format!("function {name} takes 2 or 3 arguments"),
                    ));
                }
                let col = names.first().cloned().unwrap_or_else(|| name.into());
                let third = s.get(2).cloned();
                let (call, ty) = match name {
                    "string_to_table" => (
                        format!(
                            "pg_string_to_array({}, {}, {})",
                            s[0],
                            s[1],
                            third.unwrap_or_else(|| "NULL".into())
                        ),
                        PgType::TEXT,
                    ),
                    "regexp_matches" => (
                        format!(
                            "pg_regexp_matches({}, {}, {})",
                            s[0],
                            s[1],
                            third.unwrap_or_else(|| "''".into())
                        ),
                        PgType::array_of(Scalar::Text),
                    ),
                    _ => (
                        format!(
                            "pg_regexp_split({}, {}, {}, 'regexp_split_to_table')",
                            s[0],
                            s[1],
                            third.unwrap_or_else(|| "''".into())
                        ),
                        PgType::TEXT,
                    ),
                };
                (
                    format!(
                        "SELECT value AS {} FROM json_each({call}) ORDER BY key",
                        quote(&col)
                    ),
                    vec![(col, ty)],
                )
            }
            other => {
                let default_col = if alias.is_some() {
                    a.clone()
                } else {
                    other.to_string()
                };
                match self.catalog_table_function(other, xs, &names, &default_col, ordinality)? {
                    Some(r) => r,
                    None => {
                        return Err(PgError::new(
                            code::UNDEFINED_FUNCTION,
                            format!(
                                "function {other}() does not exist or is not a set-returning function"
                            ),
                        ));
                    }
                }
            }
        };
        let rel = Rel {
            name: Some(a.clone()),
            cols: cols
                .iter()
                .map(|(n, t)| Col {
                    name: n.clone(),
                    sql: format!("{}.{}", quote(&a), quote(n)),
                    ty: *t,
                    typmod: -1,
                    table_oid: 0,
                    attnum: 0,
                    collate: collation_for(*t),
                    hidden: false,
                })
                .collect(),
            table: None,
        };
        sc.push(rel)?;
        let _ = Ty::Unknown;
        Ok(format!("({body}) AS {}", quote(&a)))
    }
}

/// An expression reading a column.
pub fn col_ex(c: &Col) -> Ex {
    Ex {
        sql: c.sql.clone(),
        ty: Ty::Known(c.ty),
        typmod: c.typmod,
        lit: None,
        collate: c.collate,
        name: Some(c.name.clone()),
        origin: if c.table_oid != 0 {
            Some((c.table_oid, c.attnum))
        } else {
            None
        },
    }
}
