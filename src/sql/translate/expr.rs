//! Expressions: name resolution, PostgreSQL typing and coercion, and SQLite emission.

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, DateTimeField, Expr, UnaryOperator, Value as AstValue,
};

use super::scope::{Scope, ident};
use super::{Ex, Lit, Tr, Ty, sql_str};
use crate::error::{PgError, PgResult, code};
use crate::sql::types::{self, Category, PgType, Scalar};
use crate::sql::values;

/// Numeric types in PostgreSQL's implicit-promotion order.
fn numeric_rank(s: Scalar) -> Option<u8> {
    Some(match s {
        Scalar::Int2 => 1,
        Scalar::Int4 => 2,
        Scalar::Int8 | Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc => 3,
        Scalar::Numeric => 4,
        Scalar::Float4 => 5,
        Scalar::Float8 => 6,
        _ => return None,
    })
}

fn datetime_rank(s: Scalar) -> Option<u8> {
    Some(match s {
        Scalar::Date => 1,
        Scalar::Timestamp => 2,
        Scalar::Timestamptz => 3,
        _ => return None,
    })
}

/// The type two known types meet at for an operator, PostgreSQL-style; None if there is none.
pub fn common_type(a: PgType, b: PgType) -> Option<PgType> {
    if a == b {
        return Some(a);
    }
    if a.array || b.array {
        return None;
    }
    let (x, y) = (a.scalar, b.scalar);
    if let (Some(rx), Some(ry)) = (numeric_rank(x), numeric_rank(y)) {
        return Some(if rx >= ry { a } else { b });
    }
    if x.is_string() && y.is_string() {
        // Mixed string types compare as text.
        return Some(PgType::TEXT);
    }
    if let (Some(rx), Some(ry)) = (datetime_rank(x), datetime_rank(y)) {
        return Some(if rx >= ry { a } else { b });
    }
    if matches!(
        (x, y),
        (Scalar::Json, Scalar::Jsonb) | (Scalar::Jsonb, Scalar::Json)
    ) {
        return Some(PgType::JSONB);
    }
    None
}

/// PostgreSQL's select_common_type for two known types (CASE, COALESCE, UNION, VALUES, IN,
/// ARRAY): like `common_type`, except that among string types the first one wins, since they
/// all convert implicitly into each other and only text is "preferred" (it never gives way).
pub fn select_common_type(a: PgType, b: PgType) -> Option<PgType> {
    if !a.array && !b.array && a.scalar.is_string() && b.scalar.is_string() {
        return Some(a);
    }
    common_type(a, b)
}

/// The type an untyped operand takes opposite a value of type `t`: varchar has no operators
/// of its own, so PostgreSQL resolves `varchar_col = $1` with text's (and reports `$1` as text).
fn operand_type(t: PgType) -> PgType {
    if !t.array && t.scalar == Scalar::Varchar {
        PgType::TEXT
    } else {
        t
    }
}

/// Whether an assignment (INSERT/UPDATE target) from `from` to `to` is allowed implicitly.
fn assignable(from: PgType, to: PgType) -> bool {
    if from == to {
        return true;
    }
    if to.array || from.array {
        return false;
    }
    let (f, t) = (from.scalar, to.scalar);
    (numeric_rank(f).is_some() && numeric_rank(t).is_some())
        || (t.is_string())
        || (datetime_rank(f).is_some() && datetime_rank(t).is_some())
        || matches!(
            (f, t),
            (Scalar::Json, Scalar::Jsonb) | (Scalar::Jsonb, Scalar::Json)
        )
}

fn type_label(t: PgType) -> String {
    t.format(-1)
}

fn ty_label(t: &Ty) -> String {
    match t {
        Ty::Known(k) => type_label(*k),
        _ => "unknown".into(),
    }
}

/// Output column name for an expression (PostgreSQL's FigureColname).
pub fn figure_name(e: &Expr) -> Option<String> {
    figure(e).map(|(n, _)| n)
}

/// The name of a cast's target type as FigureColname reports it (`int4`, `varchar`, …).
fn cast_type_name(d: &DataType) -> Option<String> {
    types::declared_type(d)
        .ok()
        .map(|d| d.ty.scalar.name().to_string())
}

/// FigureColname with its strength: 2 for a name taken from the expression itself (column,
/// function, CASE …), 1 for a cast's type name, which an enclosing cast overrides.
fn figure(e: &Expr) -> Option<(String, u8)> {
    let strong = |s: &str| Some((s.to_string(), 2));
    match e {
        Expr::Identifier(i) => Some((ident(i), 2)),
        Expr::CompoundIdentifier(v) => v.last().map(|i| (ident(i), 2)),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| (ident(i), 2)),
        Expr::Cast {
            expr, data_type, ..
        } => match figure(expr) {
            Some((n, 2)) => Some((n, 2)),
            _ => cast_type_name(data_type).map(|n| (n, 1)),
        },
        Expr::Nested(inner) => figure(inner),
        Expr::Collate { expr, .. } => figure(expr),
        // `a[1]` is named after the array.
        Expr::CompoundFieldAccess { root, .. } => figure(root),
        // CASE is named after its ELSE result when that has a real name.
        Expr::Case { else_result, .. } => match else_result.as_deref().and_then(figure) {
            Some((n, 2)) => Some((n, 2)),
            _ => Some(("case".into(), 1)),
        },
        Expr::Exists { .. } => strong("exists"),
        Expr::Array(_) => strong("array"),
        Expr::Extract { .. } => strong("extract"),
        Expr::Overlay { .. } => strong("overlay"),
        Expr::Substring { shorthand, .. } => {
            strong(if *shorthand { "substr" } else { "substring" })
        }
        Expr::Position { .. } => strong("position"),
        Expr::Trim { .. } => strong("btrim"),
        Expr::Ceil { .. } => strong("ceil"),
        Expr::Floor { .. } => strong("floor"),
        Expr::TypedString(t) => Some((
            cast_type_name(&t.data_type).unwrap_or_else(|| "?column?".into()),
            1,
        )),
        Expr::Interval(_) => Some(("interval".into(), 1)),
        Expr::Subquery(q) => match q.body.as_ref() {
            sqlparser::ast::SetExpr::Select(s) => match s.projection.first() {
                Some(sqlparser::ast::SelectItem::ExprWithAlias { alias, .. }) => {
                    Some((ident(alias), 2))
                }
                Some(sqlparser::ast::SelectItem::UnnamedExpr(e)) => figure(e),
                _ => None,
            },
            _ => None,
        },
        Expr::AtTimeZone { .. } => strong("timezone"),
        _ => None,
    }
}

impl Tr<'_> {
    /// Translate an expression.
    pub fn expr(&mut self, e: &Expr, sc: &Scope) -> PgResult<Ex> {
        let mut ex = self.expr_inner(e, sc)?;
        if matches!(e, Expr::Cast { .. } | Expr::TypedString(_)) {
            // A cast names its column after the type unless the operand has a real name.
            if let Some(n) = figure_name(e) {
                ex.name = Some(n);
            }
        } else if ex.name.is_none() {
            ex.name = figure_name(e);
        }
        Ok(ex)
    }

    fn expr_inner(&mut self, e: &Expr, sc: &Scope) -> PgResult<Ex> {
        match e {
            Expr::Identifier(i) => self.column(None, &ident(i), sc).map_err(|e| e.at(i.span)),
            Expr::CompoundIdentifier(parts) => {
                let names: Vec<String> = parts.iter().map(ident).collect();
                match names.as_slice() {
                    [q, c] => self.column(Some(q), c, sc).map_err(|e| e.at(parts[0].span)),
                    [schema, q, c] if schema == "public" || schema == "pg_catalog" => {
                        self.column(Some(q), c, sc)
                    }
                    _ => Err(PgError::unsupported(format!("the column reference {e}"))),
                }
            }
            Expr::Value(v) => self.value(&v.value),
            Expr::Nested(inner) => {
                let mut x = self.expr(inner, sc)?;
                x.sql = format!("({})", x.sql);
                Ok(x)
            }
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right, sc),
            Expr::UnaryOp { op, expr } => self.unary(op, expr, sc),
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                let v = self.expr(x, sc)?;
                let v = self.settle(v)?;
                let not = if matches!(e, Expr::IsNotNull(_)) {
                    " NOT"
                } else {
                    ""
                };
                Ok(Ex::new(format!("({} IS{not} NULL)", v.sql), PgType::BOOL))
            }
            Expr::IsTrue(x) | Expr::IsNotTrue(x) | Expr::IsFalse(x) | Expr::IsNotFalse(x) => {
                let v = self.expr(x, sc)?;
                let s = self.coerce(v, PgType::BOOL, -1)?;
                let test = match e {
                    Expr::IsTrue(_) => "IS TRUE",
                    Expr::IsNotTrue(_) => "IS NOT TRUE",
                    Expr::IsFalse(_) => "IS FALSE",
                    _ => "IS NOT FALSE",
                };
                Ok(Ex::new(format!("({s} {test})"), PgType::BOOL))
            }
            Expr::IsUnknown(x) | Expr::IsNotUnknown(x) => {
                let v = self.expr(x, sc)?;
                let s = self.coerce(v, PgType::BOOL, -1)?;
                let not = if matches!(e, Expr::IsNotUnknown(_)) {
                    " NOT"
                } else {
                    ""
                };
                Ok(Ex::new(format!("({s} IS{not} NULL)"), PgType::BOOL))
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                let (l, r) = self.pair(a, b, sc)?;
                let op = if matches!(e, Expr::IsDistinctFrom(..)) {
                    "IS NOT"
                } else {
                    "IS"
                };
                Ok(Ex::new(format!("({} {op} {})", l.sql, r.sql), PgType::BOOL))
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated, sc),
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let left = self.expr(expr, sc)?;
                let q = self.subquery(subquery, sc)?;
                if q.cols.len() != 1 {
                    return Err(PgError::syntax("subquery has too many columns"));
                }
                let l = self.coerce(left, q.cols[0].ty, -1)?;
                let not = if *negated { "NOT " } else { "" };
                Ok(Ex::new(format!("({l} {not}IN ({}))", q.sql), PgType::BOOL))
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr, sc)?;
                let lo = self.expr(low, sc)?;
                let hi = self.expr(high, sc)?;
                let a = self.compare_ex(x.clone(), BinaryOperator::GtEq, lo)?;
                let b = self.compare_ex(x, BinaryOperator::LtEq, hi)?;
                let body = format!("({} AND {})", a.sql, b.sql);
                Ok(Ex::new(
                    if *negated {
                        format!("(NOT {body})")
                    } else {
                        body
                    },
                    PgType::BOOL,
                ))
            }
            Expr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => self.like(
                *negated,
                *any,
                expr,
                pattern,
                escape_char.as_deref(),
                false,
                sc,
            ),
            Expr::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => self.like(
                *negated,
                *any,
                expr,
                pattern,
                escape_char.as_deref(),
                true,
                sc,
            ),
            Expr::SimilarTo { .. } => Err(PgError::unsupported("SIMILAR TO")),
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => self.any_all(left, compare_op, right, false, sc),
            Expr::AllOp {
                left,
                compare_op,
                right,
            } => self.any_all(left, compare_op, right, true, sc),
            Expr::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if format.is_some() || matches!(kind, CastKind::TryCast | CastKind::SafeCast) {
                    return Err(PgError::unsupported(format!("the cast {e}")));
                }
                let d = types::declared_type(data_type)?;
                if d.serial {
                    return Err(PgError::new(
                        code::UNDEFINED_OBJECT,
                        "type \"serial\" does not exist",
                    ));
                }
                let x = self.expr(expr, sc)?;
                self.cast(x, d.ty, d.typmod)
            }
            Expr::TypedString(ts) => {
                let d = types::declared_type(&ts.data_type)?;
                let lit = match &ts.value.value {
                    AstValue::SingleQuotedString(s) | AstValue::EscapedStringLiteral(s) => {
                        s.clone()
                    }
                    other => other.to_string(),
                };
                let x = Ex {
                    lit: Some(Lit::Str(lit)),
                    ..Ex::new("", PgType::TEXT)
                };
                let x = Ex {
                    ty: Ty::Unknown,
                    ..x
                };
                self.cast(x, d.ty, d.typmod)
            }
            Expr::Interval(iv) => {
                let v = match iv.value.as_ref() {
                    Expr::Value(v) => match &v.value {
                        AstValue::SingleQuotedString(s) => s.clone(),
                        AstValue::Number(n, _) => n.clone(),
                        _ => return Err(PgError::unsupported("this INTERVAL literal")),
                    },
                    _ => return Err(PgError::unsupported("this INTERVAL literal")),
                };
                let text = match &iv.leading_field {
                    None => v,
                    Some(f) if iv.last_field.is_none() && v.trim().parse::<f64>().is_ok() => {
                        format!("{v} {}", field_name(f))
                    }
                    Some(_) => v,
                };
                let parsed = crate::sql::datetime::parse_interval(&text)?;
                Ok(Ex::new(
                    sql_str(&parsed.format_postgres()),
                    PgType::INTERVAL,
                ))
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref(), sc),
            Expr::Exists { subquery, negated } => {
                let q = self.subquery(subquery, sc)?;
                let not = if *negated { "NOT " } else { "" };
                Ok(Ex::new(format!("({not}EXISTS ({}))", q.sql), PgType::BOOL))
            }
            Expr::Subquery(q) => {
                let out = self.subquery(q, sc)?;
                if out.cols.len() != 1 {
                    return Err(PgError::syntax("subquery must return only one column"));
                }
                let c = &out.cols[0];
                // SQLite would take the first row; PostgreSQL refuses a second one (21000).
                let sql = if super::grouping::at_most_one_row(q) {
                    format!("({})", out.sql)
                } else {
                    let a = self.alias("one");
                    format!(
                        "(SELECT CASE WHEN count(*) > 1 THEN pg_raise('21000', \
                         'more than one row returned by a subquery used as an expression') \
                         ELSE min({a}.{col}) END FROM (SELECT * FROM ({sub}) LIMIT 2) AS {a})",
                        col = super::quote(&c.name),
                        sub = out.sql
                    )
                };
                let mut x = Ex::new(sql, c.ty);
                x.typmod = c.typmod;
                x.collate = c.collate;
                x.name = Some(c.name.clone());
                Ok(x)
            }
            Expr::Function(f) => self.function(f, sc),
            Expr::Extract { field, expr, .. } => {
                let x = self.expr(expr, sc)?;
                let x = self.settle_as(x, PgType::TIMESTAMPTZ)?;
                let t = x.known().unwrap_or(PgType::TIMESTAMPTZ);
                Ok(Ex::new(
                    format!(
                        "pg_extract({}, {}, {})",
                        sql_str(&field_name(field)),
                        x.sql,
                        t.oid()
                    ),
                    PgType::NUMERIC,
                ))
            }
            Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } => {
                let x = self.expr(expr, sc)?;
                let x = self.settle_as(x, PgType::FLOAT8)?;
                let f = if matches!(e, Expr::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let t = x.known().unwrap_or(PgType::FLOAT8);
                if t.scalar == Scalar::Numeric {
                    let rounding = if f == "ceil" {
                        "pg_num_ceil"
                    } else {
                        "pg_num_floor"
                    };
                    return Ok(Ex::new(format!("{rounding}({})", x.sql), PgType::NUMERIC));
                }
                // Integers resolve to ceil/floor(double precision), as in PostgreSQL.
                Ok(Ex::new(format!("{f}({})", x.sql), PgType::FLOAT8))
            }
            Expr::Position { expr, r#in } => {
                let needle = self.expr(expr, sc)?;
                let hay = self.expr(r#in, sc)?;
                let n = self.coerce(needle, PgType::TEXT, -1)?;
                let h = self.coerce(hay, PgType::TEXT, -1)?;
                Ok(Ex::new(format!("instr({h}, {n})"), PgType::INT4))
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let s = self.expr(expr, sc)?;
                let s = self.coerce(s, PgType::TEXT, -1)?;
                let from = match substring_from {
                    Some(f) => {
                        let x = self.expr(f, sc)?;
                        self.coerce(x, PgType::INT4, -1)?
                    }
                    None => "1".into(),
                };
                Ok(Ex::new(
                    match substring_for {
                        Some(n) => {
                            let x = self.expr(n, sc)?;
                            let n = self.coerce(x, PgType::INT4, -1)?;
                            format!("pg_substr({s}, {from}, {n})")
                        }
                        None => format!("pg_substr({s}, {from})"),
                    },
                    PgType::TEXT,
                ))
            }
            Expr::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err(PgError::unsupported("TRIM with a character list"));
                }
                let s = self.expr(expr, sc)?;
                let s = self.coerce(s, PgType::TEXT, -1)?;
                let f = match trim_where {
                    Some(sqlparser::ast::TrimWhereField::Leading) => "ltrim",
                    Some(sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "trim",
                };
                Ok(Ex::new(
                    match trim_what {
                        Some(w) => {
                            let x = self.expr(w, sc)?;
                            let w = self.coerce(x, PgType::TEXT, -1)?;
                            format!("{f}({s}, {w})")
                        }
                        None => format!("{f}({s}, ' ')"),
                    },
                    PgType::TEXT,
                ))
            }
            Expr::Collate { expr, collation } => {
                let name = collation.to_string().to_lowercase().replace('"', "");
                let ok = matches!(
                    name.as_str(),
                    "c" | "posix"
                        | "default"
                        | "pg_catalog.default"
                        | "pg_catalog.\"c\""
                        | "pg_catalog.c"
                        | "ucs_basic"
                );
                if !ok {
                    return Err(PgError::unsupported(format!("collation {collation}")));
                }
                self.expr(expr, sc)
            }
            Expr::Tuple(items) => {
                let mut parts = Vec::new();
                for i in items {
                    let x = self.expr(i, sc)?;
                    parts.push(self.settle(x)?.sql);
                }
                Ok(Ex::new(format!("({})", parts.join(", ")), PgType::TEXT))
            }
            Expr::Array(arr) => {
                let mut elems = Vec::new();
                for el in &arr.elem {
                    if matches!(el, Expr::Array(_)) {
                        return Err(PgError::unsupported("multi-dimensional arrays"));
                    }
                    elems.push(self.expr(el, sc)?);
                }
                let t = self.unify(&elems, "ARRAY")?;
                let t = t.unwrap_or(PgType::TEXT);
                let mut parts = Vec::new();
                for x in elems {
                    parts.push(self.coerce(x, t, -1)?);
                }
                Ok(Ex::new(
                    format!("json_array({})", parts.join(", ")),
                    PgType::array_of(t.scalar),
                )
                .named("array"))
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                let base = self.expr(root, sc)?;
                let base = self.settle(base)?;
                // int2vector / oidvector subscripts start at 0.
                let (t, first) = match base.known() {
                    Some(t) if t.array => (t, 1),
                    Some(t) if t.scalar == Scalar::Int2Vector => {
                        (PgType::array_of(Scalar::Int2), 0)
                    }
                    Some(t) if t.scalar == Scalar::OidVector => (PgType::array_of(Scalar::Oid), 0),
                    _ => return Err(PgError::unsupported(format!("field access {e}"))),
                };
                if access_chain.len() != 1 {
                    return Err(PgError::unsupported("multi-dimensional subscripts"));
                }
                match &access_chain[0] {
                    sqlparser::ast::AccessExpr::Subscript(sqlparser::ast::Subscript::Index {
                        index,
                    }) => {
                        let i = self.expr(index, sc)?;
                        let i = self.coerce(i, PgType::INT4, -1)?;
                        Ok(Ex::new(
                            format!(
                                "json_extract({}, '$[' || (({i}) - {first}) || ']')",
                                base.sql
                            ),
                            t.element(),
                        ))
                    }
                    _ => Err(PgError::unsupported("array slices")),
                }
            }
            Expr::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                let ts = self.expr(timestamp, sc)?;
                let ts = self.settle_as(ts, PgType::TIMESTAMPTZ)?;
                let z = self.expr(time_zone, sc)?;
                let z = self.coerce(z, PgType::TEXT, -1)?;
                let t = ts.known().unwrap_or(PgType::TIMESTAMPTZ);
                let out = match t.scalar {
                    Scalar::Timestamptz => PgType::TIMESTAMP,
                    Scalar::Timestamp => PgType::TIMESTAMPTZ,
                    // date is read as timestamptz, so the result is a local timestamp.
                    Scalar::Date => PgType::TIMESTAMP,
                    _ => {
                        return Err(PgError::unsupported(format!(
                            "AT TIME ZONE on {}",
                            type_label(t)
                        )));
                    }
                };
                Ok(Ex::new(
                    format!("pg_at_time_zone({}, {z}, {})", ts.sql, t.oid()),
                    out,
                ))
            }
            Expr::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                // Function library: pg_overlay (src/sql/functions/text.rs).
                let mut parts = Vec::new();
                for (e, t) in [
                    (expr, PgType::TEXT),
                    (overlay_what, PgType::TEXT),
                    (overlay_from, PgType::INT4),
                ] {
                    let x = self.expr(e, sc)?;
                    parts.push(self.coerce(x, t, -1)?);
                }
                if let Some(n) = overlay_for {
                    let x = self.expr(n, sc)?;
                    parts.push(self.coerce(x, PgType::INT4, -1)?);
                }
                Ok(Ex::new(
                    format!("pg_overlay({})", parts.join(", ")),
                    PgType::TEXT,
                ))
            }
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => {
                Err(PgError::syntax("* is not allowed here"))
            }
            other => Err(PgError::unsupported(format!("the expression {other}"))),
        }
    }

    fn column(&mut self, qual: Option<&str>, name: &str, sc: &Scope) -> PgResult<Ex> {
        match sc.lookup(qual, name)? {
            Some(c) => Ok(Ex {
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
            }),
            None => {
                // A few SQL-standard value functions parse as bare identifiers.
                if qual.is_none()
                    && let Some(x) = self.keyword_value(name)?
                {
                    return Ok(x);
                }
                let full = match qual {
                    Some(q) => format!("{q}.{name}"),
                    None => format!("\"{name}\""),
                };
                Err(PgError::new(
                    code::UNDEFINED_COLUMN,
                    format!("column {full} does not exist"),
                ))
            }
        }
    }

    fn value(&mut self, v: &AstValue) -> PgResult<Ex> {
        Ok(match v {
            AstValue::Number(n, _) => {
                if !n.contains(['.', 'e', 'E']) {
                    if let Ok(i) = n.parse::<i32>() {
                        let sql = self.const_sql(rusqlite::types::Value::Integer(i as i64));
                        return Ok(Ex {
                            lit: Some(Lit::Num(n.clone())),
                            ..Ex::new(sql, PgType::INT4)
                        });
                    }
                    if let Ok(i) = n.parse::<i64>() {
                        let sql = self.const_sql(rusqlite::types::Value::Integer(i));
                        return Ok(Ex {
                            lit: Some(Lit::Num(n.clone())),
                            ..Ex::new(sql, PgType::INT8)
                        });
                    }
                }
                let canon = crate::sql::numeric::parse(n)?;
                let sql = self.const_sql(rusqlite::types::Value::Text(canon.clone()));
                Ex {
                    lit: Some(Lit::Num(canon)),
                    ..Ex::new(sql, PgType::NUMERIC)
                }
            }
            AstValue::SingleQuotedString(s)
            | AstValue::EscapedStringLiteral(s)
            | AstValue::UnicodeStringLiteral(s)
            | AstValue::NationalStringLiteral(s) => {
                if s.contains('\0') {
                    return Err(PgError::new(
                        code::CHARACTER_NOT_IN_REPERTOIRE,
                        "invalid byte sequence for encoding \"UTF8\": 0x00",
                    ));
                }
                Ex {
                    ty: Ty::Unknown,
                    lit: Some(Lit::Str(s.clone())),
                    ..Ex::new(sql_str(s), PgType::TEXT)
                }
            }
            AstValue::DollarQuotedString(d) => Ex {
                ty: Ty::Unknown,
                lit: Some(Lit::Str(d.value.clone())),
                ..Ex::new(sql_str(&d.value), PgType::TEXT)
            },
            AstValue::Boolean(b) => Ex::new(if *b { "1" } else { "0" }, PgType::BOOL),
            AstValue::Null => Ex {
                ty: Ty::Unknown,
                lit: Some(Lit::Null),
                ..Ex::new("NULL", PgType::TEXT)
            },
            AstValue::Placeholder(p) => {
                let n: usize = p
                    .strip_prefix('$')
                    .and_then(|d| d.parse().ok())
                    .filter(|n| *n >= 1 && *n <= 65535)
                    .ok_or_else(|| PgError::syntax(format!("syntax error at or near \"{p}\"")))?;
                let i = n - 1;
                if self.params.len() <= i {
                    self.params.resize(i + 1, None);
                }
                let sql = format!("?{n}");
                match self.param_type(i) {
                    Some(t) => {
                        let mut x = Ex::new(sql, t);
                        x.typmod = self.params[i].map(|p| p.1).unwrap_or(-1);
                        x
                    }
                    None => Ex {
                        ty: Ty::Param(i),
                        ..Ex::new(sql, PgType::TEXT)
                    },
                }
            }
            other => return Err(PgError::unsupported(format!("the literal {other}"))),
        })
    }

    /// SQL-standard niladic functions that sqlparser may hand over as identifiers.
    fn keyword_value(&mut self, name: &str) -> PgResult<Option<Ex>> {
        Ok(Some(
            match name {
                "current_timestamp" => Ex::new("pg_now()", PgType::TIMESTAMPTZ),
                "current_date" => Ex::new("pg_current_date()", PgType::DATE),
                "current_time" => {
                    return Err(PgError::unsupported("CURRENT_TIME (time with time zone)"));
                }
                "localtimestamp" => Ex::new("pg_localtimestamp()", PgType::TIMESTAMP),
                "localtime" => Ex::new("pg_localtime()", PgType::TIME),
                "current_user" | "session_user" | "user" | "current_role" => {
                    Ex::new(sql_str(&self.env.user), PgType::NAME)
                }
                "current_catalog" => Ex::new(sql_str(&self.env.database), PgType::NAME),
                "current_schema" => Ex::new("'public'", PgType::NAME),
                _ => return Ok(None),
            }
            .named(name),
        ))
    }

    /// Give an untyped literal or parameter its default type (text) and return it.
    pub fn settle(&mut self, x: Ex) -> PgResult<Ex> {
        self.settle_as(x, PgType::TEXT)
    }

    /// Give an untyped literal or parameter the type `t`.
    pub fn settle_as(&mut self, x: Ex, t: PgType) -> PgResult<Ex> {
        match x.ty {
            Ty::Known(_) => Ok(x),
            _ => {
                let name = x.name.clone();
                let sql = self.coerce(x, t, -1)?;
                let mut out = Ex::new(sql, t);
                out.name = name;
                Ok(out)
            }
        }
    }

    /// Render a literal as a value of `t` (input conversion at translation time).
    fn literal_as(&mut self, lit: &Lit, t: PgType, typmod: i32) -> PgResult<String> {
        let v = match lit {
            Lit::Null => return Ok("NULL".into()),
            Lit::Str(s) | Lit::Num(s) => {
                if t.scalar == Scalar::Regclass && !t.array {
                    return self.regclass_literal(s);
                }
                if t.scalar == Scalar::Regtype && !t.array {
                    return self.regtype_literal(s);
                }
                if t.scalar == Scalar::Regproc && !t.array {
                    return crate::sql::pg_catalog::regproc_oid(s)
                        .map(|o| o.to_string())
                        .ok_or_else(|| {
                            PgError::new(
                                code::UNDEFINED_FUNCTION,
                                format!("function \"{s}\" does not exist"),
                            )
                        });
                }
                values::from_text(t, s, &self.env.zone)?
            }
        };
        let v = values::apply_typmod(t, typmod, v)?;
        Ok(self.const_sql(v))
    }

    fn regclass_literal(&self, s: &str) -> PgResult<String> {
        if let Ok(oid) = s.trim().parse::<u32>() {
            return Ok(oid.to_string());
        }
        let name = s
            .trim()
            .trim_start_matches("public.")
            .trim_start_matches("pg_catalog.");
        let name = if name.starts_with('"') {
            name.trim_matches('"').to_string()
        } else {
            name.to_lowercase()
        };
        if let Some(o) = self.cat.get(&name) {
            return Ok(o.oid().to_string());
        }
        if let Some(oid) = crate::sql::pg_catalog::system_relation_oid(&name) {
            return Ok(oid.to_string());
        }
        Err(PgError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{name}\" does not exist"),
        ))
    }

    /// `'integer'::regtype`: a type name resolved to its OID at translation time.
    fn regtype_literal(&self, s: &str) -> PgResult<String> {
        if let Ok(oid) = s.trim().parse::<u32>() {
            return Ok(oid.to_string());
        }
        let base: String = {
            let mut depth = 0;
            s.chars()
                .filter(|c| {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            return false;
                        }
                        _ => {}
                    }
                    depth == 0
                })
                .collect()
        };
        let base = base.trim();
        if let Some(d) = types::type_by_name(base) {
            return Ok(d.ty.oid().to_string());
        }
        let name = base.trim_start_matches("pg_catalog.").trim_matches('"');
        if let Some((o, _)) = crate::sql::pg_catalog::static_type_names()
            .iter()
            .find(|(_, n)| n == name)
        {
            return Ok(o.to_string());
        }
        let name = name.trim_start_matches("public.");
        if let Some(t) = self.cat.table(name) {
            return Ok(t.row_type_oid.to_string());
        }
        Err(PgError::new(
            code::UNDEFINED_OBJECT,
            format!("type \"{}\" does not exist", s.trim()),
        ))
    }

    /// Implicit (assignment-strength) coercion of `x` to `t`, returning SQL producing the
    /// canonical stored value of `t` (with the type modifier enforced).
    pub fn coerce(&mut self, x: Ex, t: PgType, typmod: i32) -> PgResult<String> {
        match x.ty {
            Ty::Unknown => match &x.lit {
                Some(l) => self.literal_as(l, t, typmod),
                None => Ok(x.sql),
            },
            Ty::Param(i) => {
                self.set_param(i, t, typmod);
                // A regclass parameter may arrive as a relation name: resolve it when run.
                if t == PgType::REGCLASS {
                    self.reads_catalog = true;
                    return Ok(format!("pg_regclass({})", x.sql));
                }
                Ok(x.sql)
            }
            Ty::Known(from) => {
                if from == t {
                    if typmod >= 0 && typmod != x.typmod {
                        return Ok(format!(
                            "pg_cast({}, {}, {}, {typmod})",
                            x.sql,
                            from.oid(),
                            t.oid()
                        ));
                    }
                    return Ok(x.sql);
                }
                if !assignable(from, t) {
                    return Err(PgError::new(
                        code::DATATYPE_MISMATCH,
                        format!(
                            "cannot convert expression of type {} to {}",
                            type_label(from),
                            type_label(t)
                        ),
                    )
                    .with_hint("You will need to rewrite or cast the expression."));
                }
                self.convert(x, from, t, typmod)
            }
        }
    }

    /// Like `coerce`, keeping type information.
    pub fn coerce_ex(&mut self, x: Ex, t: PgType, typmod: i32) -> PgResult<Ex> {
        let name = x.name.clone();
        let collate = if x.known() == Some(t) {
            x.collate
        } else {
            None
        };
        let sql = self.coerce(x, t, typmod)?;
        let mut out = Ex::new(sql, t);
        out.typmod = typmod;
        out.name = name;
        out.collate = collate;
        Ok(out)
    }

    /// SQL converting a known value from one type to another (both directions allowed).
    fn convert(&mut self, x: Ex, from: PgType, t: PgType, typmod: i32) -> PgResult<String> {
        let (f, s) = (from.scalar, t.scalar);
        let plain = !from.array && !t.array && typmod < 0;
        if plain {
            // Representation-preserving conversions need no SQL, except that character(n)
            // loses its padding when it becomes another string type.
            if f.is_string() && s.is_string() {
                if f == Scalar::Bpchar && s != Scalar::Bpchar {
                    return Ok(format!("rtrim({}, ' ')", x.sql));
                }
                return Ok(x.sql);
            }
            if f.is_integer() && s.is_integer() {
                let widening = numeric_rank(s) >= numeric_rank(f);
                return Ok(if widening {
                    x.sql
                } else {
                    format!("pg_check_int({}, {})", x.sql, t.oid())
                });
            }
            if (f.is_integer() || f.is_float()) && s.is_float() {
                return Ok(if f.is_float() && s == Scalar::Float8 {
                    x.sql
                } else {
                    format!("CAST({} AS REAL)", x.sql)
                });
            }
            if f.is_integer() && s == Scalar::Numeric {
                // numeric is stored as decimal text: an INTEGER would sort and compare apart
                // from the text values (SQLite orders storage classes before collations).
                return Ok(format!("CAST({} AS TEXT)", x.sql));
            }
            if matches!(
                f,
                Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc
            ) && (s.is_integer()
                || matches!(
                    s,
                    Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc
                ))
            {
                return Ok(x.sql);
            }
            if s.is_integer()
                && matches!(
                    f,
                    Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc
                )
            {
                return Ok(x.sql);
            }
        }
        // int2vector / oidvector are stored as the JSON array of their elements.
        let vector_of = |v: PgType, a: PgType| {
            !v.array
                && a.array
                && matches!(
                    (v.scalar, a.scalar),
                    (Scalar::Int2Vector, Scalar::Int2) | (Scalar::OidVector, Scalar::Oid)
                )
        };
        if typmod < 0 && (vector_of(from, t) || vector_of(t, from)) {
            return Ok(x.sql);
        }
        Ok(format!(
            "pg_cast({}, {}, {}, {typmod})",
            x.sql,
            from.oid(),
            t.oid()
        ))
    }

    /// Explicit cast (`x::t`, `CAST(x AS t)`).
    pub fn cast(&mut self, x: Ex, t: PgType, typmod: i32) -> PgResult<Ex> {
        let name = x.name.clone().or_else(|| Some(t.scalar.name().to_string()));
        if !t.array && typmod >= 4 && matches!(t.scalar, Scalar::Varchar | Scalar::Bpchar) {
            let mut out = Ex::new(self.cast_truncating(x, t, typmod)?, t);
            out.typmod = typmod;
            out.name = name;
            return Ok(out);
        }
        let sql = match x.ty {
            Ty::Unknown | Ty::Param(_) => self.coerce(x, t, typmod)?,
            Ty::Known(from) => {
                if from == t && (typmod < 0 || typmod == x.typmod) {
                    x.sql
                } else if t.scalar == Scalar::Regclass && from.scalar.is_string() {
                    self.reads_catalog = true;
                    format!("pg_regclass({})", x.sql)
                } else if t.scalar == Scalar::Regtype && from.scalar.is_string() {
                    format!("pg_regtype({})", x.sql)
                } else if t.scalar.is_string() && matches!(from.scalar, Scalar::Regclass) {
                    self.reads_catalog = true;
                    format!("pg_regclass_name({})", x.sql)
                } else if t.scalar.is_string() && matches!(from.scalar, Scalar::Regtype) {
                    format!("pg_regtype_name({})", x.sql)
                } else {
                    self.convert(x, from, t, typmod)?
                }
            }
        };
        let mut out = Ex::new(sql, t);
        out.typmod = typmod;
        out.name = name;
        Ok(out)
    }

    /// An explicit cast to `varchar(n)` / `char(n)`: unlike assignment, it truncates silently.
    fn cast_truncating(&mut self, x: Ex, t: PgType, typmod: i32) -> PgResult<String> {
        let n = (typmod - 4) as usize;
        match (&x.ty, &x.lit) {
            (Ty::Unknown, Some(Lit::Str(s))) => {
                let cut: String = s.chars().take(n).collect();
                return self.literal_as(&Lit::Str(cut), t, typmod);
            }
            (Ty::Unknown, _) => return self.coerce(x, t, typmod),
            _ => {}
        }
        let text = match x.ty {
            Ty::Param(i) => {
                self.set_param(i, t, -1);
                x.sql
            }
            Ty::Known(from) if !from.array && from.scalar.is_string() => x.sql,
            Ty::Known(from) => self.convert(x, from, PgType::TEXT, -1)?,
            Ty::Unknown => x.sql,
        };
        let cut = format!("substr({text}, 1, {n})");
        Ok(if t.scalar == Scalar::Bpchar {
            // Padding to the declared length happens in the cast.
            format!("pg_cast({cut}, 25, {}, {typmod})", t.oid())
        } else {
            cut
        })
    }

    /// A common type for a list (CASE branches, IN lists, ARRAY elements, UNION columns).
    pub fn unify(&mut self, xs: &[Ex], what: &str) -> PgResult<Option<PgType>> {
        let mut t: Option<PgType> = None;
        for x in xs {
            if let Ty::Known(k) = x.ty {
                t = Some(match t {
                    None => k,
                    Some(prev) => select_common_type(prev, k).ok_or_else(|| {
                        PgError::new(
                            code::DATATYPE_MISMATCH,
                            format!(
                                "{what} types {} and {} cannot be matched",
                                type_label(prev),
                                type_label(k)
                            ),
                        )
                    })?,
                });
            }
        }
        Ok(t)
    }

    /// Translate two operands and bring them to a common type.
    fn pair(&mut self, a: &Expr, b: &Expr, sc: &Scope) -> PgResult<(Ex, Ex)> {
        let l = self.expr(a, sc)?;
        let r = self.expr(b, sc)?;
        self.pair_ex(l, r, "=")
    }

    fn pair_ex(&mut self, l: Ex, r: Ex, op: &str) -> PgResult<(Ex, Ex)> {
        match (l.ty, r.ty) {
            (Ty::Known(a), Ty::Known(b)) => {
                let t = common_type(a, b).ok_or_else(|| operator_missing(op, &l.ty, &r.ty))?;
                Ok((self.coerce_keep(l, t)?, self.coerce_keep(r, t)?))
            }
            (Ty::Known(a), _) => {
                let r2 = self.coerce_ex(r, operand_type(a), -1)?;
                Ok((l, r2))
            }
            (_, Ty::Known(b)) => {
                let l2 = self.coerce_ex(l, operand_type(b), -1)?;
                Ok((l2, r))
            }
            _ => {
                let l2 = self.coerce_ex(l, PgType::TEXT, -1)?;
                let r2 = self.coerce_ex(r, PgType::TEXT, -1)?;
                Ok((l2, r2))
            }
        }
    }

    /// Coerce for an operator: keeps collation/literal info when the type does not change.
    fn coerce_keep(&mut self, x: Ex, t: PgType) -> PgResult<Ex> {
        if x.known() == Some(t) {
            return Ok(x);
        }
        let lit = x.lit.clone();
        let mut out = self.coerce_ex(x, t, -1)?;
        out.lit = lit;
        Ok(out)
    }

    fn binary(&mut self, a: &Expr, op: &BinaryOperator, b: &Expr, sc: &Scope) -> PgResult<Ex> {
        use BinaryOperator as B;
        let op = match op {
            B::PGCustomBinaryOperator(parts) => match parts.last().map(String::as_str) {
                Some("~") => B::PGRegexMatch,
                Some("~*") => B::PGRegexIMatch,
                Some("!~") => B::PGRegexNotMatch,
                Some("!~*") => B::PGRegexNotIMatch,
                Some("~~") => B::PGLikeMatch,
                Some("!~~") => B::PGNotLikeMatch,
                Some("=") => B::Eq,
                Some("<>") => B::NotEq,
                Some("<") => B::Lt,
                Some(">") => B::Gt,
                Some("<=") => B::LtEq,
                Some(">=") => B::GtEq,
                Some("+") => B::Plus,
                Some("-") => B::Minus,
                _ => {
                    return Err(PgError::unsupported(format!(
                        "the operator {}",
                        parts.join(".")
                    )));
                }
            },
            other => other.clone(),
        };
        match op {
            B::And | B::Or => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                let l = self.coerce(l, PgType::BOOL, -1)?;
                let r = self.coerce(r, PgType::BOOL, -1)?;
                let k = if op == B::And { "AND" } else { "OR" };
                Ok(Ex::new(format!("({l} {k} {r})"), PgType::BOOL))
            }
            B::Eq | B::NotEq | B::Lt | B::Gt | B::LtEq | B::GtEq => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                self.compare_ex(l, op, r)
            }
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                self.arith(l, &op, r)
            }
            B::PGExp => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                // numeric ^ numeric stays numeric (function library: transcendental.rs).
                let is = |x: &Ex, f: fn(Scalar) -> bool| {
                    x.known().is_some_and(|t| !t.array && f(t.scalar))
                };
                let numeric = (is(&l, |s| s == Scalar::Numeric)
                    || is(&r, |s| s == Scalar::Numeric))
                    && !is(&l, Scalar::is_float)
                    && !is(&r, Scalar::is_float);
                if numeric {
                    let l = self.coerce(l, PgType::NUMERIC, -1)?;
                    let r = self.coerce(r, PgType::NUMERIC, -1)?;
                    return Ok(Ex::new(format!("pg_num_power({l}, {r})"), PgType::NUMERIC));
                }
                let l = self.coerce(l, PgType::FLOAT8, -1)?;
                let r = self.coerce(r, PgType::FLOAT8, -1)?;
                Ok(Ex::new(format!("pow({l}, {r})"), PgType::FLOAT8))
            }
            B::StringConcat => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                self.concat(l, r)
            }
            B::BitwiseAnd
            | B::BitwiseOr
            | B::PGBitwiseXor
            | B::PGBitwiseShiftLeft
            | B::PGBitwiseShiftRight => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                let (l, r) = self.pair_ex(l, r, &op.to_string())?;
                let t = l.known().unwrap_or(PgType::INT8);
                if !t.scalar.is_integer() {
                    return Err(operator_missing(&op.to_string(), &l.ty, &r.ty));
                }
                let sql = match op {
                    B::BitwiseAnd => format!("({} & {})", l.sql, r.sql),
                    B::BitwiseOr => format!("({} | {})", l.sql, r.sql),
                    B::PGBitwiseXor => format!("(({0} | {1}) - ({0} & {1}))", l.sql, r.sql),
                    B::PGBitwiseShiftLeft => format!("({} << {})", l.sql, r.sql),
                    _ => format!("({} >> {})", l.sql, r.sql),
                };
                Ok(Ex::new(sql, t))
            }
            B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                let s = self.coerce(l, PgType::TEXT, -1)?;
                let p = self.coerce(r, PgType::TEXT, -1)?;
                let m = match op {
                    B::PGRegexMatch | B::PGRegexNotMatch => format!("regexp({p}, {s})"),
                    _ => format!("pg_regexp_i({p}, {s})"),
                };
                let not = matches!(op, B::PGRegexNotMatch | B::PGRegexNotIMatch);
                Ok(Ex::new(
                    if not { format!("(NOT {m})") } else { m },
                    PgType::BOOL,
                ))
            }
            B::PGLikeMatch | B::PGNotLikeMatch => {
                self.like(op == B::PGNotLikeMatch, false, a, b, None, false, sc)
            }
            B::PGILikeMatch | B::PGNotILikeMatch => {
                self.like(op == B::PGNotILikeMatch, false, a, b, None, true, sc)
            }
            B::PGStartsWith => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                let s = self.coerce(l, PgType::TEXT, -1)?;
                let p = self.coerce(r, PgType::TEXT, -1)?;
                Ok(Ex::new(
                    format!("(substr({s}, 1, length({p})) = {p})"),
                    PgType::BOOL,
                ))
            }
            B::Arrow | B::LongArrow | B::HashArrow | B::HashLongArrow => {
                let l = self.expr(a, sc)?;
                let l = self.settle_as(l, PgType::JSONB)?;
                let lt = l.known().unwrap_or(PgType::JSONB);
                if !matches!(lt.scalar, Scalar::Json | Scalar::Jsonb) || lt.array {
                    let r = self.expr(b, sc)?;
                    return Err(operator_missing(&op.to_string(), &l.ty, &r.ty));
                }
                let r = self.expr(b, sc)?;
                let as_text = matches!(op, B::LongArrow | B::HashLongArrow);
                let path = matches!(op, B::HashArrow | B::HashLongArrow);
                let key = if path {
                    self.coerce(r, PgType::array_of(Scalar::Text), -1)?
                } else {
                    match r.ty {
                        Ty::Known(t) if t.scalar.is_integer() => r.sql,
                        _ => self.coerce(r, PgType::TEXT, -1)?,
                    }
                };
                let f = if path { "pg_json_path" } else { "pg_json_get" };
                let out = if as_text { PgType::TEXT } else { lt };
                Ok(Ex::new(
                    format!("{f}({}, {key}, {})", l.sql, as_text as i32),
                    out,
                ))
            }
            B::AtArrow | B::ArrowAt => {
                let l = self.expr(a, sc)?;
                let r = self.expr(b, sc)?;
                let (l, r) = if op == B::AtArrow { (l, r) } else { (r, l) };
                let hint = r.known().filter(|t| t.array).unwrap_or(PgType::JSONB);
                let l = self.settle_as(l, hint)?;
                let lt = l.known().unwrap_or(PgType::JSONB);
                let r = self.coerce(r, lt, -1)?;
                if lt.array {
                    return Ok(Ex::new(
                        format!("pg_array_contains({}, {r}, {})", l.sql, lt.oid()),
                        PgType::BOOL,
                    ));
                }
                Ok(Ex::new(
                    format!("pg_jsonb_contains({}, {r})", l.sql),
                    PgType::BOOL,
                ))
            }
            B::PGOverlap => {
                // Array overlap (function library: src/sql/functions/arrays.rs).
                let l = self.expr(a, sc)?;
                let l = self.settle_as(l, PgType::array_of(Scalar::Text))?;
                let lt = l.known().unwrap_or(PgType::array_of(Scalar::Text));
                let r = self.expr(b, sc)?;
                if !lt.array {
                    return Err(operator_missing("&&", &l.ty, &r.ty));
                }
                let r = self.coerce(r, lt, -1)?;
                Ok(Ex::new(
                    format!("pg_array_overlap({}, {r}, {})", l.sql, lt.oid()),
                    PgType::BOOL,
                ))
            }
            B::HashMinus => {
                // jsonb #- text[] (function library: src/sql/functions/json.rs).
                let l = self.expr(a, sc)?;
                let l = self.coerce(l, PgType::JSONB, -1)?;
                let r = self.expr(b, sc)?;
                let r = self.coerce(r, PgType::array_of(Scalar::Text), -1)?;
                Ok(Ex::new(
                    format!("pg_jsonb_delete_path({l}, {r})"),
                    PgType::JSONB,
                ))
            }
            B::Question | B::QuestionAnd | B::QuestionPipe => {
                let l = self.expr(a, sc)?;
                let l = self.coerce(l, PgType::JSONB, -1)?;
                let r = self.expr(b, sc)?;
                let (r, mode) = match op {
                    B::Question => (self.coerce(r, PgType::TEXT, -1)?, 0),
                    B::QuestionAnd => (self.coerce(r, PgType::array_of(Scalar::Text), -1)?, 1),
                    _ => (self.coerce(r, PgType::array_of(Scalar::Text), -1)?, 2),
                };
                Ok(Ex::new(
                    format!("pg_jsonb_exists({l}, {r}, {mode})"),
                    PgType::BOOL,
                ))
            }
            other => Err(PgError::unsupported(format!("the operator {other}"))),
        }
    }

    /// Comparison with PostgreSQL's typing.
    pub fn compare_ex(&mut self, l: Ex, op: BinaryOperator, r: Ex) -> PgResult<Ex> {
        let sym = op.to_string();
        // A numeric literal against an integer/float column compares as float (index-friendly).
        let (l, r) = self.float_literal_fix(l, r);
        let (l, r) = self.pair_ex(l, r, &sym)?;
        let t = l.known().unwrap_or(PgType::TEXT);
        let sql = if t.array {
            if !matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) {
                return Err(PgError::unsupported("ordering comparison of arrays"));
            }
            format!("({} {sym} {})", l.sql, r.sql)
        } else {
            match t.scalar {
                Scalar::Numeric => {
                    if l.collate.is_some() || r.collate.is_some() {
                        format!("({} {sym} {})", l.sql, r.sql)
                    } else {
                        format!("(pg_num_cmp({}, {}) {sym} 0)", l.sql, r.sql)
                    }
                }
                Scalar::Interval => {
                    if l.collate.is_some() || r.collate.is_some() {
                        format!("({} {sym} {})", l.sql, r.sql)
                    } else {
                        format!("(pg_interval_cmp({}, {}) {sym} 0)", l.sql, r.sql)
                    }
                }
                // character(n) compares without its trailing blanks.
                Scalar::Bpchar => format!("(rtrim({}, ' ') {sym} rtrim({}, ' '))", l.sql, r.sql),
                Scalar::Json => {
                    return Err(operator_missing(
                        &sym,
                        &Ty::Known(PgType::JSON),
                        &Ty::Known(PgType::JSON),
                    ));
                }
                _ => format!("({} {sym} {})", l.sql, r.sql),
            }
        };
        Ok(Ex::new(sql, PgType::BOOL))
    }

    fn float_literal_fix(&mut self, l: Ex, r: Ex) -> (Ex, Ex) {
        let fix = |lit_side: &Ex, other: &Ex| -> bool {
            matches!(lit_side.lit, Some(Lit::Num(_)))
                && lit_side.known() == Some(PgType::NUMERIC)
                && other
                    .known()
                    .is_some_and(|t| !t.array && (t.scalar.is_integer() || t.scalar.is_float()))
        };
        let relabel = |tr: &mut Self, x: Ex| -> Ex {
            let Some(Lit::Num(n)) = &x.lit else { return x };
            let v: f64 = n.parse().unwrap_or(0.0);
            Ex {
                sql: tr.const_sql(rusqlite::types::Value::Real(v)),
                ty: Ty::Known(PgType::FLOAT8),
                ..x
            }
        };
        if fix(&l, &r) {
            (relabel(self, l), r)
        } else if fix(&r, &l) {
            let r = relabel(self, r);
            (l, r)
        } else {
            (l, r)
        }
    }

    /// + - * / % with PostgreSQL's type rules.
    pub fn arith(&mut self, l: Ex, op: &BinaryOperator, r: Ex) -> PgResult<Ex> {
        use BinaryOperator as B;
        let sym = op.to_string();
        // Date/time arithmetic first: the operand types decide the operator.
        let lt = l.known();
        let rt = r.known();
        if let Some(x) = self.datetime_arith(l.clone(), op, r.clone(), lt, rt)? {
            return Ok(x);
        }
        // jsonb - text | int | text[] (function library: src/sql/functions/json.rs).
        if *op == B::Minus && lt == Some(PgType::JSONB) {
            let (r, kind) = match rt {
                Some(t) if t.array => (self.coerce(r, PgType::array_of(Scalar::Text), -1)?, 2),
                Some(t) if t.scalar.is_integer() => (r.sql, 1),
                _ => (self.coerce(r, PgType::TEXT, -1)?, 0),
            };
            return Ok(Ex::new(
                format!("pg_jsonb_delete({}, {r}, {kind})", l.sql),
                PgType::JSONB,
            ));
        }
        let (l, r) = match (lt, rt) {
            (Some(a), None) if a.category() == Category::Numeric => {
                (l.clone(), self.coerce_ex(r, a, -1)?)
            }
            (None, Some(b)) if b.category() == Category::Numeric => (self.coerce_ex(l, b, -1)?, r),
            (None, None) => {
                return Err(PgError::new(
                    code::UNDEFINED_FUNCTION,
                    format!("operator is not unique: unknown {sym} unknown"),
                )
                .with_hint("Could not choose a best candidate operator. You might need to add explicit type casts."));
            }
            _ => (l, r),
        };
        let (a, b) = (
            l.known().unwrap_or(PgType::INT8),
            r.known().unwrap_or(PgType::INT8),
        );
        if a.array
            || b.array
            || a.category() != Category::Numeric
            || b.category() != Category::Numeric
        {
            return Err(operator_missing(&sym, &l.ty, &r.ty));
        }
        let t = common_type(a, b).unwrap_or(PgType::FLOAT8);
        // real with anything but real resolves to the float8 operators (float8 is preferred).
        let t = if t == PgType::FLOAT4 && a != b {
            PgType::FLOAT8
        } else {
            t
        };
        let t = if matches!(
            t.scalar,
            Scalar::Oid | Scalar::Regclass | Scalar::Regtype | Scalar::Regproc
        ) {
            PgType::INT8
        } else {
            t
        };
        let sql = match t.scalar {
            Scalar::Numeric => {
                let f = match op {
                    B::Plus => "pg_num_add",
                    B::Minus => "pg_num_sub",
                    B::Multiply => "pg_num_mul",
                    B::Divide => "pg_num_div",
                    _ => "pg_num_mod",
                };
                format!("{f}({}, {})", l.sql, r.sql)
            }
            s => match op {
                B::Divide => {
                    if s.is_float() {
                        format!("pg_div(CAST({} AS REAL), {})", l.sql, r.sql)
                    } else {
                        format!("pg_div({}, {})", l.sql, r.sql)
                    }
                }
                B::Modulo => {
                    if s.is_float() {
                        return Err(operator_missing("%", &l.ty, &r.ty));
                    }
                    format!("pg_mod({}, {})", l.sql, r.sql)
                }
                _ => {
                    let e = format!("({} {sym} {})", l.sql, r.sql);
                    // SQLite turns an int64 overflow into a REAL; pg_check_int reports it.
                    if matches!(s, Scalar::Int2 | Scalar::Int4 | Scalar::Int8) {
                        format!("pg_check_int({e}, {})", t.oid())
                    } else {
                        e
                    }
                }
            },
        };
        Ok(Ex::new(sql, t))
    }

    fn datetime_arith(
        &mut self,
        l: Ex,
        op: &BinaryOperator,
        r: Ex,
        lt: Option<PgType>,
        rt: Option<PgType>,
    ) -> PgResult<Option<Ex>> {
        use BinaryOperator as B;
        let is = |t: Option<PgType>, s: Scalar| t.is_some_and(|t| !t.array && t.scalar == s);
        let dtime = |t: Option<PgType>| {
            t.is_some_and(|t| {
                !t.array
                    && matches!(
                        t.scalar,
                        Scalar::Timestamp | Scalar::Timestamptz | Scalar::Date
                    )
            })
        };
        let plus = *op == B::Plus;
        let minus = *op == B::Minus;
        // timestamp/date ± interval (unknown right side is read as interval)
        if dtime(lt)
            && (plus || minus)
            && (is(rt, Scalar::Interval) || rt.is_none())
            && !(is(lt, Scalar::Date) && rt.is_none())
        {
            let t = lt.unwrap_or(PgType::TIMESTAMP);
            let iv = self.coerce(r, PgType::INTERVAL, -1)?;
            let f = if plus { "pg_ts_add" } else { "pg_ts_sub" };
            let out = if t.scalar == Scalar::Date {
                PgType::TIMESTAMP
            } else {
                t
            };
            return Ok(Some(Ex::new(
                format!("{f}({}, {iv}, {})", l.sql, t.oid()),
                out,
            )));
        }
        if is(lt, Scalar::Interval) && plus && (dtime(rt) || is(rt, Scalar::Time)) {
            return self.datetime_arith(r, op, l, rt, lt);
        }
        // time ± interval wraps around midnight: add on a fixed day and keep the time part.
        if is(lt, Scalar::Time) && (plus || minus) && (is(rt, Scalar::Interval) || rt.is_none()) {
            let iv = self.coerce(r, PgType::INTERVAL, -1)?;
            let f = if plus { "pg_ts_add" } else { "pg_ts_sub" };
            return Ok(Some(Ex::new(
                format!(
                    "substr({f}('2000-01-03 ' || {}, {iv}, {}), 12)",
                    l.sql,
                    PgType::TIMESTAMP.oid()
                ),
                PgType::TIME,
            )));
        }
        // time - time = interval
        if is(lt, Scalar::Time) && minus && is(rt, Scalar::Time) {
            let ts = |x: &str| format!("('2000-01-03 ' || {x})");
            return Ok(Some(Ex::new(
                format!(
                    "pg_ts_diff({}, {}, {})",
                    ts(&l.sql),
                    ts(&r.sql),
                    PgType::TIMESTAMP.oid()
                ),
                PgType::INTERVAL,
            )));
        }
        // date ± an untyped value: date ± integer, ± interval and + time all fit.
        if is(lt, Scalar::Date) && (plus || minus) && rt.is_none() {
            return Err(PgError::new(
                "42725", // ambiguous_function
                format!("operator is not unique: date {} unknown", if plus { "+" } else { "-" }),
            )
            .with_hint("Could not choose a best candidate operator. You might need to add explicit type casts."));
        }
        // date ± integer
        if is(lt, Scalar::Date) && (plus || minus) && (rt.is_none_or(|t| t.scalar.is_integer())) {
            let n = self.coerce(r, PgType::INT4, -1)?;
            let n = if minus { format!("-({n})") } else { n };
            return Ok(Some(Ex::new(
                format!("pg_date_add_days({}, {n})", l.sql),
                PgType::DATE,
            )));
        }
        if plus
            && rt.is_some_and(|t| t.scalar == Scalar::Date)
            && lt.is_some_and(|t| t.scalar.is_integer())
        {
            return Ok(Some(Ex::new(
                format!("pg_date_add_days({}, {})", r.sql, l.sql),
                PgType::DATE,
            )));
        }
        // date - date = integer; timestamp - timestamp = interval
        if minus && dtime(lt) && (dtime(rt) || rt.is_none()) {
            let t = lt.unwrap_or(PgType::TIMESTAMP);
            let rt2 = rt.unwrap_or(t);
            if t.scalar == Scalar::Date && rt2.scalar == Scalar::Date {
                let rs = self.coerce(r, PgType::DATE, -1)?;
                return Ok(Some(Ex::new(
                    format!("pg_date_diff({}, {rs})", l.sql),
                    PgType::INT4,
                )));
            }
            let common = common_type(t, rt2).unwrap_or(t);
            let ls = self.coerce(l, common, -1)?;
            let rs = self.coerce(r, common, -1)?;
            return Ok(Some(Ex::new(
                format!("pg_ts_diff({ls}, {rs}, {})", common.oid()),
                PgType::INTERVAL,
            )));
        }
        // interval arithmetic
        if is(lt, Scalar::Interval) {
            match op {
                B::Plus | B::Minus => {
                    let rs = self.coerce(r, PgType::INTERVAL, -1)?;
                    let f = if plus {
                        "pg_interval_add"
                    } else {
                        "pg_interval_sub"
                    };
                    return Ok(Some(Ex::new(
                        format!("{f}({}, {rs})", l.sql),
                        PgType::INTERVAL,
                    )));
                }
                B::Multiply => {
                    let rs = self.coerce(r, PgType::FLOAT8, -1)?;
                    return Ok(Some(Ex::new(
                        format!("pg_interval_mul({}, {rs})", l.sql),
                        PgType::INTERVAL,
                    )));
                }
                B::Divide => {
                    let rs = self.coerce(r, PgType::FLOAT8, -1)?;
                    return Ok(Some(Ex::new(
                        format!("pg_interval_mul({}, 1.0 / pg_div(1.0, 1.0 / {rs}))", l.sql),
                        PgType::INTERVAL,
                    )));
                }
                _ => {}
            }
        }
        if is(rt, Scalar::Interval)
            && *op == B::Multiply
            && lt.is_some_and(|t| t.category() == Category::Numeric)
        {
            let ls = self.coerce(l, PgType::FLOAT8, -1)?;
            return Ok(Some(Ex::new(
                format!("pg_interval_mul({}, {ls})", r.sql),
                PgType::INTERVAL,
            )));
        }
        Ok(None)
    }

    fn concat(&mut self, l: Ex, r: Ex) -> PgResult<Ex> {
        let arr = |x: &Ex| x.known().is_some_and(|t| t.array);
        if arr(&l) || arr(&r) {
            let t = l
                .known()
                .filter(|t| t.array)
                .or(r.known().filter(|t| t.array))
                .unwrap_or(PgType::array_of(Scalar::Text));
            let ls = if arr(&l) {
                l.sql
            } else {
                let e = self.coerce(l, t.element(), -1)?;
                format!("json_array({e})")
            };
            let rs = if arr(&r) {
                r.sql
            } else {
                let e = self.coerce(r, t.element(), -1)?;
                format!("json_array({e})")
            };
            return Ok(Ex::new(format!("pg_array_cat({ls}, {rs})"), t));
        }
        if l.known() == Some(PgType::JSONB) && r.known().is_none_or(|t| t == PgType::JSONB) {
            let rs = self.coerce(r, PgType::JSONB, -1)?;
            return Ok(Ex::new(
                format!("pg_jsonb_concat({}, {rs})", l.sql),
                PgType::JSONB,
            ));
        }
        let ls = self.text_of(l)?;
        let rs = self.text_of(r)?;
        Ok(Ex::new(format!("({ls} || {rs})"), PgType::TEXT))
    }

    /// SQL giving the text form of a value (for concatenation and text functions).
    pub fn text_of(&mut self, x: Ex) -> PgResult<String> {
        match x.ty {
            Ty::Known(t) if !t.array && t.scalar == Scalar::Bpchar => {
                Ok(format!("rtrim({}, ' ')", x.sql))
            }
            Ty::Known(t) if !t.array && (t.scalar.is_string() || t.scalar.is_integer()) => {
                Ok(x.sql)
            }
            Ty::Known(t) => Ok(format!("pg_cast({}, {}, 25, -1)", x.sql, t.oid())),
            _ => self.coerce(x, PgType::TEXT, -1),
        }
    }

    fn unary(&mut self, op: &UnaryOperator, e: &Expr, sc: &Scope) -> PgResult<Ex> {
        // Fold a negative numeric literal so `-1` stays a literal.
        if *op == UnaryOperator::Minus
            && let Expr::Value(v) = e
            && let AstValue::Number(n, l) = &v.value
        {
            return self.value(&AstValue::Number(format!("-{n}"), *l));
        }
        let x = self.expr(e, sc)?;
        match op {
            UnaryOperator::Not => {
                let s = self.coerce(x, PgType::BOOL, -1)?;
                Ok(Ex::new(format!("(NOT {s})"), PgType::BOOL))
            }
            UnaryOperator::Plus => Ok(x),
            UnaryOperator::Minus => {
                let x = self.settle_as(x, PgType::NUMERIC)?;
                let t = x.known().unwrap_or(PgType::NUMERIC);
                let sql = match t.scalar {
                    Scalar::Numeric => format!("pg_num_neg({})", x.sql),
                    Scalar::Interval => format!("pg_interval_neg({})", x.sql),
                    s if s.is_integer() || s.is_float() => format!("(-{})", x.sql),
                    _ => {
                        return Err(PgError::new(
                            code::UNDEFINED_FUNCTION,
                            format!("operator does not exist: - {}", type_label(t)),
                        ));
                    }
                };
                Ok(Ex::new(sql, t))
            }
            UnaryOperator::PGAbs => {
                let x = self.settle_as(x, PgType::NUMERIC)?;
                let t = x.known().unwrap_or(PgType::NUMERIC);
                let sql = if t.scalar == Scalar::Numeric {
                    format!("pg_num_abs({})", x.sql)
                } else {
                    format!("abs({})", x.sql)
                };
                Ok(Ex::new(sql, t))
            }
            UnaryOperator::PGSquareRoot => {
                let s = self.coerce(x, PgType::FLOAT8, -1)?;
                Ok(Ex::new(format!("sqrt({s})"), PgType::FLOAT8))
            }
            UnaryOperator::BitwiseNot => {
                let x = self.settle_as(x, PgType::INT4)?;
                let t = x.known().unwrap_or(PgType::INT4);
                if t.array || !t.scalar.is_integer() {
                    return Err(PgError::new(
                        code::UNDEFINED_FUNCTION,
                        format!("operator does not exist: ~ {}", type_label(t)),
                    ));
                }
                Ok(Ex::new(format!("(~{})", x.sql), t))
            }
            other => Err(PgError::unsupported(format!("the operator {other}"))),
        }
    }

    fn in_list(&mut self, e: &Expr, list: &[Expr], negated: bool, sc: &Scope) -> PgResult<Ex> {
        let left = self.expr(e, sc)?;
        let mut items = Vec::new();
        for i in list {
            items.push(self.expr(i, sc)?);
        }
        let mut all = vec![left.clone()];
        all.extend(items.iter().cloned());
        let t = self.unify(&all, "IN")?.unwrap_or(PgType::TEXT);
        let numeric_exact = t.scalar == Scalar::Numeric && !t.array && left.collate.is_none();
        let interval = t.scalar == Scalar::Interval && !t.array && left.collate.is_none();
        if numeric_exact || interval {
            // Compare element by element with the exact comparison.
            let mut parts = Vec::new();
            for it in items {
                parts.push(self.compare_ex(left.clone(), BinaryOperator::Eq, it)?.sql);
            }
            let body = format!("({})", parts.join(" OR "));
            return Ok(Ex::new(
                if negated {
                    format!("(NOT {body})")
                } else {
                    body
                },
                PgType::BOOL,
            ));
        }
        let l = self.coerce_keep(left, t)?;
        let mut parts = Vec::new();
        for it in items {
            parts.push(self.coerce(it, t, -1)?);
        }
        let not = if negated { "NOT " } else { "" };
        Ok(Ex::new(
            format!("({} {not}IN ({}))", l.sql, parts.join(", ")),
            PgType::BOOL,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn like(
        &mut self,
        negated: bool,
        any: bool,
        e: &Expr,
        p: &Expr,
        escape: Option<&Expr>,
        ci: bool,
        sc: &Scope,
    ) -> PgResult<Ex> {
        if any {
            return Err(PgError::unsupported("LIKE ANY"));
        }
        let s = self.expr(e, sc)?;
        let s = self.text_of(s)?;
        let pat = self.expr(p, sc)?;
        let pat = self.coerce(pat, PgType::TEXT, -1)?;
        let esc = match escape {
            None => "'\\'".to_string(),
            Some(x) => {
                let x = self.expr(x, sc)?;
                self.coerce(x, PgType::TEXT, -1)?
            }
        };
        let m = if ci {
            if escape.is_some() {
                return Err(PgError::unsupported("ILIKE with ESCAPE"));
            }
            format!("pg_ilike({pat}, {s})")
        } else {
            format!("({s} LIKE {pat} ESCAPE {esc})")
        };
        Ok(Ex::new(
            if negated { format!("(NOT {m})") } else { m },
            PgType::BOOL,
        ))
    }

    fn any_all(
        &mut self,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
        all: bool,
        sc: &Scope,
    ) -> PgResult<Ex> {
        let l = self.expr(left, sc)?;
        // `x op ANY (subquery)`
        if let Expr::Subquery(q) = right {
            let out = self.subquery(q, sc)?;
            if out.cols.len() != 1 {
                return Err(PgError::syntax("subquery has too many columns"));
            }
            let t = out.cols[0].ty;
            let ls = self.coerce(l, t, -1)?;
            return Ok(Ex::new(
                match (op, all) {
                    (BinaryOperator::Eq, false) => format!("({ls} IN ({}))", out.sql),
                    (BinaryOperator::NotEq, true) => format!("({ls} NOT IN ({}))", out.sql),
                    _ => {
                        let a = self.alias("q");
                        let cmp = format!("{ls} {op} {a}.{}", super::quote(&out.cols[0].name));
                        let from = format!("({}) AS {a}", out.sql);
                        quantified(&from, &cmp, all)
                    }
                },
                PgType::BOOL,
            ));
        }
        // `x op ANY (ARRAY[...])` with a literal list
        if let Expr::Array(arr) = right {
            let list: Vec<Expr> = arr.elem.clone();
            if *op == BinaryOperator::Eq && !all {
                return self.in_list(left, &list, false, sc);
            }
            if *op == BinaryOperator::NotEq && all {
                return self.in_list(left, &list, true, sc);
            }
        }
        // `x op ANY (array value)`: an array column, parameter or expression.
        let r = self.expr(right, sc)?;
        // An untyped left side takes the element type of a typed array (`'d' = ANY(stxkind)`).
        let l = match (l.ty, r.known()) {
            (Ty::Unknown | Ty::Param(_), Some(t)) if t.array => self.settle_as(l, t.element())?,
            _ => l,
        };
        let l = self.settle(l)?;
        let lt = l.known().unwrap_or(PgType::TEXT);
        let at = PgType::array_of(lt.scalar);
        let rs = match r.ty {
            Ty::Known(t) if !t.array => {
                return Err(PgError::new(
                    code::DATATYPE_MISMATCH,
                    "op ANY/ALL (array) requires array on right side",
                ));
            }
            _ => self.coerce(r, at, -1)?,
        };
        let v = "value".to_string();
        let val = Ex::new(v, lt);
        let cmp = self.compare_ex(l, op.clone(), val)?;
        Ok(Ex::new(
            quantified(&format!("json_each({rs})"), &cmp.sql, all),
            PgType::BOOL,
        ))
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        conds: &[sqlparser::ast::CaseWhen],
        else_r: Option<&Expr>,
        sc: &Scope,
    ) -> PgResult<Ex> {
        let mut results = Vec::new();
        for c in conds {
            results.push(self.expr(&c.result, sc)?);
        }
        let else_x = match else_r {
            Some(e) => Some(self.expr(e, sc)?),
            None => None,
        };
        // PostgreSQL weighs the ELSE result first when it picks the common type.
        let mut all = Vec::new();
        if let Some(x) = &else_x {
            all.push(x.clone());
        }
        all.extend(results.iter().cloned());
        let t = self.unify(&all, "CASE")?.unwrap_or(PgType::TEXT);
        let mut sql = String::from("CASE");
        let op = match operand {
            Some(o) => Some(self.expr(o, sc)?),
            None => None,
        };
        for (c, r) in conds.iter().zip(results) {
            let cond = self.expr(&c.condition, sc)?;
            let cond_sql = match &op {
                Some(o) => self.compare_ex(o.clone(), BinaryOperator::Eq, cond)?.sql,
                None => self.coerce(cond, PgType::BOOL, -1)?,
            };
            let rs = self.coerce(r, t, -1)?;
            sql.push_str(&format!(" WHEN {cond_sql} THEN {rs}"));
        }
        if let Some(x) = else_x {
            let rs = self.coerce(x, t, -1)?;
            sql.push_str(&format!(" ELSE {rs}"));
        }
        sql.push_str(" END");
        let mut out = Ex::new(sql, t);
        if t.scalar == Scalar::Numeric {
            out.collate = None;
        }
        Ok(out)
    }
}

/// `x op ANY/ALL (set)` with SQL's three-valued logic: ANY is true if some comparison is true,
/// else NULL if some comparison is NULL, else false; ALL is false if some comparison is false,
/// else NULL if some is NULL, else true (also for an empty set).
fn quantified(from: &str, cmp: &str, all: bool) -> String {
    let (decisive, hit, miss) = if all {
        (format!("NOT ({cmp})"), "0", "1")
    } else {
        (format!("({cmp})"), "1", "0")
    };
    format!(
        "(CASE WHEN EXISTS (SELECT 1 FROM {from} WHERE {decisive}) THEN {hit} \
         WHEN EXISTS (SELECT 1 FROM {from} WHERE ({cmp}) IS NULL) THEN NULL ELSE {miss} END)"
    )
}

pub fn operator_missing(op: &str, l: &Ty, r: &Ty) -> PgError {
    PgError::new(
        code::UNDEFINED_FUNCTION,
        format!("operator does not exist: {} {op} {}", ty_label(l), ty_label(r)),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

pub fn field_name(f: &DateTimeField) -> String {
    use DateTimeField as F;
    match f {
        F::Year | F::Years => "year".into(),
        F::Month | F::Months => "month".into(),
        F::Week(_) | F::Weeks => "week".into(),
        F::Day | F::Days => "day".into(),
        F::DayOfWeek | F::Dow => "dow".into(),
        F::DayOfYear | F::Doy => "doy".into(),
        F::Hour | F::Hours => "hour".into(),
        F::Minute | F::Minutes => "minute".into(),
        F::Second | F::Seconds => "second".into(),
        F::Century => "century".into(),
        F::Decade => "decade".into(),
        F::Epoch => "epoch".into(),
        F::Isodow => "isodow".into(),
        F::Isoyear => "isoyear".into(),
        F::Microsecond | F::Microseconds => "microseconds".into(),
        F::Millisecond | F::Milliseconds => "milliseconds".into(),
        F::Millenium | F::Millennium => "millennium".into(),
        F::Quarter => "quarter".into(),
        F::Timezone => "timezone".into(),
        F::Custom(i) => i.value.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// `DataType` for sqlparser cast printing is not used; keep the import referenced.
#[allow(dead_code)]
fn _dt(_: &DataType) {}
