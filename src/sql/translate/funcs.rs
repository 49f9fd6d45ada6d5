//! Function calls: aggregates, window functions and scalar functions, each mapped to SQLite
//! built-ins or to our registered `pg_*` functions with PostgreSQL's argument and result types.

use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, WindowFrameBound, WindowType,
};

use super::scope::{Scope, ident};
use super::{Ex, Tr, Ty, sql_str};
use crate::error::{PgError, PgResult, code};
use crate::sql::types::{PgType, Scalar};

/// Arguments of a call, translated lazily so each can be coerced to its parameter type.
struct Args<'e> {
    exprs: Vec<&'e Expr>,
    /// `name => value` arguments (only `make_interval` accepts them).
    named: Vec<(String, &'e Expr)>,
    star: bool,
    distinct: bool,
    order_by: Vec<sqlparser::ast::OrderByExpr>,
}

fn args_of(f: &Function) -> PgResult<Args<'_>> {
    let mut out = Args {
        exprs: Vec::new(),
        named: Vec::new(),
        star: false,
        distinct: false,
        order_by: Vec::new(),
    };
    match &f.args {
        FunctionArguments::None => {}
        FunctionArguments::Subquery(_) => {
            return Err(PgError::unsupported(format!("the call {f}")));
        }
        FunctionArguments::List(list) => {
            out.distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
            for a in &list.args {
                match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => out.exprs.push(e),
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => out.star = true,
                    FunctionArg::Named {
                        name,
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => out.named.push((ident(name), e)),
                    FunctionArg::ExprNamed {
                        name: Expr::Identifier(name),
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => out.named.push((ident(name), e)),
                    _ => {
                        return Err(PgError::unsupported(format!(
                            "the argument {a} in {}",
                            f.name
                        )));
                    }
                }
            }
            for c in &list.clauses {
                match c {
                    FunctionArgumentClause::OrderBy(o) => out.order_by = o.clone(),
                    other => {
                        return Err(PgError::unsupported(format!(
                            "the clause {other} in {}",
                            f.name
                        )));
                    }
                }
            }
        }
    }
    Ok(out)
}

pub(super) fn no_such_function(name: &str, types: &[String]) -> PgError {
    PgError::new(
        code::UNDEFINED_FUNCTION,
        format!("function {name}({}) does not exist", types.join(", ")),
    )
    .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

impl Tr<'_> {
    fn arg_exprs(&mut self, a: &Args, sc: &Scope) -> PgResult<Vec<Ex>> {
        a.exprs.iter().map(|e| self.expr(e, sc)).collect()
    }

    /// Coerce args to the given types (None = leave as is, settle unknowns to text).
    pub(super) fn coerce_args(&mut self, xs: Vec<Ex>, tys: &[PgType]) -> PgResult<Vec<String>> {
        xs.into_iter()
            .enumerate()
            .map(|(i, x)| {
                let t = tys.get(i).or(tys.last()).copied().unwrap_or(PgType::TEXT);
                self.coerce(x, t, -1)
            })
            .collect()
    }

    pub(super) fn check_arity(
        &self,
        name: &str,
        xs: &[Ex],
        min: usize,
        max: usize,
    ) -> PgResult<()> {
        if xs.len() < min || xs.len() > max {
            let types: Vec<String> = xs
                .iter()
                .map(|x| match x.ty {
                    Ty::Known(t) => t.format(-1),
                    _ => "unknown".into(),
                })
                .collect();
            return Err(no_such_function(name, &types));
        }
        Ok(())
    }

    pub fn function(&mut self, f: &Function, sc: &Scope) -> PgResult<Ex> {
        let parts: Vec<String> = f
            .name
            .0
            .iter()
            .map(|p| p.as_ident().map(ident).unwrap_or_else(|| p.to_string()))
            .collect();
        let name = match parts.as_slice() {
            [n] => n.clone(),
            [schema, n]
                if schema == "pg_catalog"
                    || schema == "public"
                    || schema == "information_schema" =>
            {
                n.clone()
            }
            _ => return Err(PgError::unsupported(format!("the function {}", f.name))),
        };
        if name == "array"
            && parts.len() == 1
            && let FunctionArguments::Subquery(q) = &f.args
        {
            return self.array_subquery(q, sc);
        }
        if f.filter.is_some() && f.over.is_some() {
            return Err(PgError::unsupported("FILTER with OVER"));
        }
        let args = args_of(f)?;
        if !f.within_group.is_empty() {
            let mut ex = self.ordered_set(&name, &args, &f.within_group, sc)?;
            if f.over.is_some() {
                return Err(PgError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!("OVER is not supported for ordered-set aggregate {name}"),
                ));
            }
            if let Some(filter) = &f.filter {
                let c = self.expr(filter, sc)?;
                let c = self.coerce(c, PgType::BOOL, -1)?;
                ex.sql = format!("{} FILTER (WHERE {c})", ex.sql);
            }
            ex.name = Some(name);
            return Ok(ex);
        }
        let mut ex = if let Some(x) = self.aggregate(&name, &args, sc)? {
            x
        } else if let Some(x) = self.window_only(&name, &args, sc)? {
            x
        } else {
            if args.distinct || !args.order_by.is_empty() {
                return Err(PgError::syntax(format!(
                    "DISTINCT specified, but {name} is not an aggregate function"
                )));
            }
            if f.over.is_some() {
                return Err(PgError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!(
                        "OVER specified, but {name} is not a window function nor an aggregate function"
                    ),
                ));
            }
            if args.star {
                return Err(PgError::syntax(format!(
                    "{name}(*) specified, but {name} is not an aggregate function"
                )));
            }
            self.scalar_function(&name, &args, sc)?
        };
        if let Some(filter) = &f.filter {
            let c = self.expr(filter, sc)?;
            let c = self.coerce(c, PgType::BOOL, -1)?;
            ex.sql = format!("{} FILTER (WHERE {c})", ex.sql);
        }
        if let Some(over) = &f.over {
            ex.sql = format!("{} OVER {}", ex.sql, self.window_spec(over, sc)?);
        }
        ex.name = Some(name);
        Ok(ex)
    }

    fn window_spec(&mut self, w: &WindowType, sc: &Scope) -> PgResult<String> {
        let spec = match w {
            WindowType::NamedWindow(n) => return Ok(super::quote(&ident(n))),
            WindowType::WindowSpec(s) => s,
        };
        let mut parts = Vec::new();
        if let Some(n) = &spec.window_name {
            parts.push(super::quote(&ident(n)));
        }
        if !spec.partition_by.is_empty() {
            let mut ps = Vec::new();
            for p in &spec.partition_by {
                let x = self.expr(p, sc)?;
                ps.push(self.settle(x)?.sql);
            }
            parts.push(format!("PARTITION BY {}", ps.join(", ")));
        }
        if !spec.order_by.is_empty() {
            parts.push(format!(
                "ORDER BY {}",
                self.order_items(&spec.order_by, sc)?
            ));
        }
        if let Some(fr) = &spec.window_frame {
            let bound = |b: &WindowFrameBound, tr: &mut Self| -> PgResult<String> {
                Ok(match b {
                    WindowFrameBound::CurrentRow => "CURRENT ROW".into(),
                    WindowFrameBound::Preceding(None) => "UNBOUNDED PRECEDING".into(),
                    WindowFrameBound::Following(None) => "UNBOUNDED FOLLOWING".into(),
                    WindowFrameBound::Preceding(Some(e)) => {
                        let x = tr.expr(e, sc)?;
                        format!("{} PRECEDING", tr.settle_as(x, PgType::INT8)?.sql)
                    }
                    WindowFrameBound::Following(Some(e)) => {
                        let x = tr.expr(e, sc)?;
                        format!("{} FOLLOWING", tr.settle_as(x, PgType::INT8)?.sql)
                    }
                })
            };
            let units = fr.units.to_string();
            // Frame offsets must be constants in SQLite: keep literals inline here.
            let lifted = std::mem::replace(&mut self.auto_params, false);
            let start = bound(&fr.start_bound, self);
            self.auto_params = lifted;
            let start = start?;
            match &fr.end_bound {
                Some(e) => {
                    let lifted = std::mem::replace(&mut self.auto_params, false);
                    let end = bound(e, self);
                    self.auto_params = lifted;
                    let end = end?;
                    parts.push(format!("{units} BETWEEN {start} AND {end}"));
                }
                None => parts.push(format!("{units} {start}")),
            }
        }
        Ok(format!("({})", parts.join(" ")))
    }

    /// Translate ORDER BY items inside aggregates and windows (no output-name resolution).
    pub fn order_items(
        &mut self,
        items: &[sqlparser::ast::OrderByExpr],
        sc: &Scope,
    ) -> PgResult<String> {
        let mut out = Vec::new();
        for o in items {
            let x = self.expr(&o.expr, sc)?;
            let x = self.settle(x)?;
            out.push(order_sql(&x, asc_of(&o.options), o.options.nulls_first));
        }
        Ok(out.join(", "))
    }

    fn aggregate(&mut self, name: &str, a: &Args, sc: &Scope) -> PgResult<Option<Ex>> {
        let d = if a.distinct { "DISTINCT " } else { "" };
        let ob = if a.order_by.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", self.order_items(&a.order_by, sc)?)
        };
        let one = |tr: &mut Self| -> PgResult<Ex> {
            if a.exprs.len() != 1 {
                return Err(no_such_function(name, &[]));
            }
            let x = tr.expr(a.exprs[0], sc)?;
            tr.settle(x)
        };
        Ok(Some(match name {
            "count" => {
                if a.star {
                    Ex::new("count(*)", PgType::INT8)
                } else {
                    let x = one(self)?;
                    Ex::new(format!("count({d}{}{ob})", x.sql), PgType::INT8)
                }
            }
            "sum" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::NUMERIC);
                match t.scalar {
                    Scalar::Int2 | Scalar::Int4 => {
                        Ex::new(format!("sum({d}{})", x.sql), PgType::INT8)
                    }
                    Scalar::Int8 | Scalar::Numeric => {
                        Ex::new(format!("pg_num_sum({d}{})", x.sql), PgType::NUMERIC)
                    }
                    Scalar::Float4 | Scalar::Float8 => Ex::new(format!("sum({d}{})", x.sql), t),
                    Scalar::Interval => Ex::new(format!("pg_interval_sum({d}{})", x.sql), t),
                    _ => return Err(no_such_function("sum", &[t.format(-1)])),
                }
            }
            "avg" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::NUMERIC);
                match t.scalar {
                    s if s.is_integer() || s == Scalar::Numeric => {
                        Ex::new(format!("pg_num_avg({d}{})", x.sql), PgType::NUMERIC)
                    }
                    Scalar::Float4 | Scalar::Float8 => {
                        Ex::new(format!("avg({d}{})", x.sql), PgType::FLOAT8)
                    }
                    Scalar::Interval if !t.array => {
                        Ex::new(format!("pg_interval_avg({d}{})", x.sql), t)
                    }
                    _ => return Err(no_such_function("avg", &[t.format(-1)])),
                }
            }
            "min" | "max" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::TEXT);
                if t == PgType::BOOL {
                    return Err(no_such_function(name, &["boolean".to_string()]));
                }
                let arg = match (t.scalar, x.collate) {
                    (Scalar::Numeric, None) => format!("{} COLLATE pg_numeric", x.sql),
                    (Scalar::Interval, None) => format!("{} COLLATE pg_interval", x.sql),
                    _ => x.sql.clone(),
                };
                // Aggregates return no typmod; min/max over varchar are text's.
                let t = if t == PgType::VARCHAR {
                    PgType::TEXT
                } else {
                    t
                };
                Ex::new(format!("{name}({d}{arg})"), t)
            }
            "bool_and" | "every" | "bool_or" => {
                let x = one(self)?;
                let s = self.coerce(x, PgType::BOOL, -1)?;
                let f = if name == "bool_or" { "max" } else { "min" };
                Ex::new(format!("{f}({s})"), PgType::BOOL)
            }
            "string_agg" => {
                if a.exprs.len() != 2 {
                    return Err(no_such_function(name, &[]));
                }
                let x = self.expr(a.exprs[0], sc)?;
                let x = self.settle(x)?;
                if x.known() == Some(PgType::BYTEA) {
                    let sep = self.expr(a.exprs[1], sc)?;
                    let sep = self.coerce(sep, PgType::BYTEA, -1)?;
                    return Ok(Some(Ex::new(
                        format!("pg_string_agg_bytea({d}{}, {sep}{ob})", x.sql),
                        PgType::BYTEA,
                    )));
                }
                let order = if ob.is_empty() {
                    format!(" ORDER BY {}", order_sql(&x, None, None))
                } else {
                    ob.clone()
                };
                let s = self.text_of(x)?;
                let sep = self.expr(a.exprs[1], sc)?;
                let sep = self.coerce(sep, PgType::TEXT, -1)?;
                if a.distinct {
                    // SQLite's DISTINCT takes one argument: aggregate (value, delimiter) pairs,
                    // sorted as PostgreSQL's DISTINCT sorts them.
                    Ex::new(
                        format!("pg_string_agg_pairs(DISTINCT json_array({s}, {sep}){order})"),
                        PgType::TEXT,
                    )
                } else {
                    Ex::new(format!("string_agg({s}, {sep}{ob})"), PgType::TEXT)
                }
            }
            "bit_and" | "bit_or" | "bit_xor" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::INT4);
                if t.array || !t.scalar.is_integer() {
                    return Err(no_such_function(name, &[t.format(-1)]));
                }
                Ex::new(format!("pg_{name}({d}{})", x.sql), t)
            }
            "array_agg" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::TEXT);
                if t.array {
                    return Err(PgError::unsupported("array_agg of arrays"));
                }
                // PostgreSQL's DISTINCT sorts; SQLite keeps first-seen order.
                let ob = if a.distinct && ob.is_empty() {
                    format!(" ORDER BY {}", order_sql(&x, None, None))
                } else {
                    ob
                };
                Ex::new(
                    format!("pg_array_agg({d}{}{ob})", x.sql),
                    PgType::array_of(t.scalar),
                )
            }
            "json_agg" | "jsonb_agg" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::TEXT);
                let f = if t.array {
                    "pg_json_agg_structured"
                } else {
                    "pg_json_agg"
                };
                let sql = format!("{f}({d}pg_json_frag({}, {}){ob})", x.sql, t.oid());
                if name == "json_agg" {
                    Ex::new(sql, PgType::JSON)
                } else {
                    Ex::new(format!("pg_jsonb({sql})"), PgType::JSONB)
                }
            }
            "json_object_agg" | "jsonb_object_agg" => {
                if a.exprs.len() != 2 {
                    return Err(no_such_function(name, &[]));
                }
                let k = self.expr(a.exprs[0], sc)?;
                let k = self.text_of(k)?;
                let v = self.expr(a.exprs[1], sc)?;
                let v = self.settle(v)?;
                let t = v.known().unwrap_or(PgType::TEXT);
                let sql = format!(
                    "pg_json_object_agg({k}, pg_json_frag({}, {}){ob})",
                    v.sql,
                    t.oid()
                );
                if name == "json_object_agg" {
                    Ex::new(sql, PgType::JSON)
                } else {
                    Ex::new(format!("pg_jsonb({sql})"), PgType::JSONB)
                }
            }
            "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
                let x = one(self)?;
                let t = x.known().unwrap_or(PgType::NUMERIC);
                let f = match name {
                    "stddev" => "stddev_samp",
                    "variance" => "var_samp",
                    other => other,
                };
                if t.array
                    || !(t.scalar.is_integer()
                        || t.scalar.is_float()
                        || t.scalar == Scalar::Numeric)
                {
                    return Err(no_such_function(name, &[t.format(-1)]));
                }
                if t.scalar.is_float() {
                    Ex::new(format!("pg_{f}({d}{})", x.sql), PgType::FLOAT8)
                } else {
                    Ex::new(format!("pg_num_{f}({d}{})", x.sql), PgType::NUMERIC)
                }
            }
            _ => return Ok(None),
        }))
    }

    /// Ordered-set aggregates: `percentile_cont`, `percentile_disc` and `mode` with
    /// `WITHIN GROUP (ORDER BY …)`; the aggregate receives its values in that order.
    fn ordered_set(
        &mut self,
        name: &str,
        a: &Args,
        within: &[sqlparser::ast::OrderByExpr],
        sc: &Scope,
    ) -> PgResult<Ex> {
        if within.len() != 1 || a.distinct || !a.order_by.is_empty() {
            return Err(PgError::unsupported(format!(
                "this form of {name} WITHIN GROUP"
            )));
        }
        let v = self.expr(&within[0].expr, sc)?;
        let v = self.settle(v)?;
        let vt = v.known().unwrap_or(PgType::TEXT);
        let ob = order_sql(
            &v,
            asc_of(&within[0].options),
            within[0].options.nulls_first,
        );
        match name {
            "percentile_cont" | "percentile_disc" => {
                if a.exprs.len() != 1 {
                    return Err(no_such_function(name, &[]));
                }
                let frac = self.expr(a.exprs[0], sc)?;
                let array = frac.known().is_some_and(|t| t.array);
                let ft = if array {
                    PgType::array_of(Scalar::Float8)
                } else {
                    PgType::FLOAT8
                };
                let f = self.cast(frac, ft, -1)?.sql;
                let (value, out) = if name == "percentile_cont" {
                    if vt.array
                        || !(vt.scalar.is_integer()
                            || vt.scalar.is_float()
                            || vt.scalar == Scalar::Numeric)
                    {
                        return Err(PgError::unsupported(format!(
                            "percentile_cont over {}",
                            vt.format(-1)
                        )));
                    }
                    (self.coerce(v.clone(), PgType::FLOAT8, -1)?, PgType::FLOAT8)
                } else {
                    (v.sql.clone(), vt)
                };
                let out = if array {
                    PgType::array_of(out.scalar)
                } else {
                    out
                };
                Ok(Ex::new(
                    format!("pg_{name}({f}, {value} ORDER BY {ob})"),
                    out,
                ))
            }
            "mode" => {
                if !a.exprs.is_empty() {
                    return Err(no_such_function(name, &[]));
                }
                let mut ex = Ex::new(format!("pg_mode({} ORDER BY {ob})", v.sql), vt);
                ex.typmod = v.typmod;
                Ok(ex)
            }
            _ => Err(PgError::unsupported(format!("WITHIN GROUP in {name}"))),
        }
    }

    fn window_only(&mut self, name: &str, a: &Args, sc: &Scope) -> PgResult<Option<Ex>> {
        Ok(Some(match name {
            "row_number" | "rank" | "dense_rank" => Ex::new(format!("{name}()"), PgType::INT8),
            "percent_rank" | "cume_dist" => Ex::new(format!("{name}()"), PgType::FLOAT8),
            "ntile" => {
                let xs = self.arg_exprs(a, sc)?;
                let s = self.coerce_args(xs, &[PgType::INT4])?;
                Ex::new(format!("ntile({})", s.join(", ")), PgType::INT4)
            }
            "lag" | "lead" => {
                let mut xs = self.arg_exprs(a, sc)?;
                self.check_arity(name, &xs, 1, 3)?;
                let v = self.settle(xs.remove(0))?;
                let t = v.known().unwrap_or(PgType::TEXT);
                let mut parts = vec![v.sql.clone()];
                if !xs.is_empty() {
                    let off = xs.remove(0);
                    parts.push(self.coerce(off, PgType::INT4, -1)?);
                }
                if !xs.is_empty() {
                    let def = xs.remove(0);
                    parts.push(self.coerce(def, t, -1)?);
                }
                let mut out = Ex::new(format!("{name}({})", parts.join(", ")), t);
                out.collate = v.collate;
                out
            }
            "first_value" | "last_value" | "nth_value" => {
                let mut xs = self.arg_exprs(a, sc)?;
                self.check_arity(name, &xs, 1, 2)?;
                let v = self.settle(xs.remove(0))?;
                let t = v.known().unwrap_or(PgType::TEXT);
                let mut parts = vec![v.sql];
                if let Some(n) = xs.pop() {
                    parts.push(self.coerce(n, PgType::INT4, -1)?);
                }
                Ex::new(format!("{name}({})", parts.join(", ")), t)
            }
            _ => return Ok(None),
        }))
    }

    fn scalar_function(&mut self, name: &str, a: &Args, sc: &Scope) -> PgResult<Ex> {
        let mut xs = self.arg_exprs(a, sc)?;
        if !a.named.is_empty() {
            if name != "make_interval" {
                return Err(PgError::unsupported(format!("named arguments in {name}()")));
            }
            let mut named = Vec::new();
            for (k, e) in &a.named {
                named.push((k.clone(), self.expr(e, sc)?));
            }
            return self.make_interval(xs, named);
        }
        if let Some(x) = self.library_function(name, &mut xs)? {
            return Ok(x);
        }
        macro_rules! fixed {
            ($sql:expr, $ret:expr, $($t:expr),*) => {{
                let tys = [$($t),*];
                self.check_arity(name, &xs, tys.len(), tys.len())?;
                let s = self.coerce_args(xs, &tys)?;
                let sql: String = $sql(s);
                Ex::new(sql, $ret)
            }};
        }
        Ok(match name {
            // -- clock --
            "now" | "transaction_timestamp" | "current_timestamp" => {
                self.check_arity(name, &xs, 0, 0)?;
                Ex::new("pg_now()", PgType::TIMESTAMPTZ)
            }
            "statement_timestamp" | "clock_timestamp" => {
                self.check_arity(name, &xs, 0, 0)?;
                Ex::new("pg_statement_timestamp()", PgType::TIMESTAMPTZ)
            }
            "current_date" => Ex::new("pg_current_date()", PgType::DATE),
            "localtimestamp" => Ex::new("pg_localtimestamp()", PgType::TIMESTAMP),
            "localtime" => Ex::new("pg_localtime()", PgType::TIME),
            "timeofday" => Ex::new(
                "pg_cast(pg_statement_timestamp(), 1184, 25, -1)",
                PgType::TEXT,
            ),
            // -- non-deterministic, replayed from the recorded seed --
            "random" => {
                self.check_arity(name, &xs, 0, 0)?;
                Ex::new("pg_random()", PgType::FLOAT8)
            }
            "gen_random_uuid" | "uuid_generate_v4" => {
                self.check_arity(name, &xs, 0, 0)?;
                Ex::new("pg_gen_random_uuid()", PgType::UUID)
            }
            // -- sequences --
            "nextval" | "currval" | "setval" => {
                self.check_arity(
                    name,
                    &xs,
                    if name == "setval" { 2 } else { 1 },
                    if name == "setval" { 3 } else { 1 },
                )?;
                if name != "currval" {
                    self.writes = true;
                }
                let seq = xs.remove(0);
                let oid = self.sequence_oid(seq)?;
                let mut parts = vec![oid];
                if name == "setval" {
                    let v = xs.remove(0);
                    parts.push(self.coerce(v, PgType::INT8, -1)?);
                    if let Some(c) = xs.pop() {
                        parts.push(self.coerce(c, PgType::BOOL, -1)?);
                    }
                }
                Ex::new(format!("pg_{name}({})", parts.join(", ")), PgType::INT8)
            }
            "lastval" => Ex::new("pg_lastval()", PgType::INT8),
            // -- conditional --
            "coalesce" | "greatest" | "least" => {
                if xs.is_empty() {
                    return Err(PgError::syntax(format!(
                        "syntax error at or near \")\" in {name}"
                    )));
                }
                let t = self
                    .unify(&xs, &name.to_uppercase())?
                    .unwrap_or(PgType::TEXT);
                let collate = xs.iter().find_map(|x| x.collate);
                let s = self.coerce_args(xs, &[t])?;
                let sql = match name {
                    "coalesce" => {
                        if s.len() == 1 {
                            s[0].clone()
                        } else {
                            format!("coalesce({})", s.join(", "))
                        }
                    }
                    f => {
                        let flag = match t.scalar {
                            _ if t.array => 0,
                            Scalar::Numeric => 1,
                            Scalar::Interval => 2,
                            _ => 0,
                        };
                        format!("pg_{f}({flag}, {})", s.join(", "))
                    }
                };
                let mut out = Ex::new(sql, t);
                if name == "coalesce" {
                    out.collate = collate;
                }
                out
            }
            "nullif" => {
                self.check_arity(name, &xs, 2, 2)?;
                let b = xs.pop().ok_or_else(|| no_such_function(name, &[]))?;
                let a = xs.pop().ok_or_else(|| no_such_function(name, &[]))?;
                let t = self
                    .unify(&[a.clone(), b.clone()], "NULLIF")?
                    .unwrap_or(PgType::TEXT);
                let a2 = self.coerce_ex(a, t, -1)?;
                let b2 = self.coerce_ex(b, t, -1)?;
                let eq = self.compare_ex(a2.clone(), sqlparser::ast::BinaryOperator::Eq, b2)?;
                Ex::new(
                    format!("CASE WHEN {} THEN NULL ELSE {} END", eq.sql, a2.sql),
                    t,
                )
            }
            // -- strings --
            "octet_length" => fixed!(
                |s: Vec<String>| format!("length(CAST({} AS BLOB))", s[0]),
                PgType::INT4,
                PgType::TEXT
            ),
            "substr" | "substring" => {
                self.check_arity(name, &xs, 2, 3)?;
                let s = self.coerce_args(xs, &[PgType::TEXT, PgType::INT4, PgType::INT4])?;
                Ex::new(format!("pg_substr({})", s.join(", ")), PgType::TEXT)
            }
            "replace" => fixed!(
                |s: Vec<String>| format!("replace({}, {}, {})", s[0], s[1], s[2]),
                PgType::TEXT,
                PgType::TEXT,
                PgType::TEXT,
                PgType::TEXT
            ),
            "strpos" => fixed!(
                |s: Vec<String>| format!("instr({}, {})", s[0], s[1]),
                PgType::INT4,
                PgType::TEXT,
                PgType::TEXT
            ),
            "left" | "right" => fixed!(
                |s: Vec<String>| format!("pg_{name}({}, {})", s[0], s[1]),
                PgType::TEXT,
                PgType::TEXT,
                PgType::INT4
            ),
            "lpad" | "rpad" => {
                self.check_arity(name, &xs, 2, 3)?;
                let s = self.coerce_args(xs, &[PgType::TEXT, PgType::INT4, PgType::TEXT])?;
                let fill = s.get(2).cloned().unwrap_or_else(|| "' '".into());
                Ex::new(
                    format!("pg_{name}({}, {}, {fill})", s[0], s[1]),
                    PgType::TEXT,
                )
            }
            "repeat" => fixed!(
                |s: Vec<String>| format!("pg_repeat({}, {})", s[0], s[1]),
                PgType::TEXT,
                PgType::TEXT,
                PgType::INT4
            ),
            "split_part" => fixed!(
                |s: Vec<String>| format!("pg_split_part({}, {}, {})", s[0], s[1], s[2]),
                PgType::TEXT,
                PgType::TEXT,
                PgType::TEXT,
                PgType::INT4
            ),
            "btrim" | "ltrim" | "rtrim" | "trim" => {
                self.check_arity(name, &xs, 1, 2)?;
                let s = self.coerce_args(xs, &[PgType::TEXT])?;
                let f = if name == "btrim" { "trim" } else { name };
                let chars = s.get(1).cloned().unwrap_or_else(|| "' '".into());
                Ex::new(format!("{f}({}, {chars})", s[0]), PgType::TEXT)
            }
            "quote_ident" => fixed!(
                |s: Vec<String>| format!("pg_quote_ident({})", s[0]),
                PgType::TEXT,
                PgType::TEXT
            ),
            "starts_with" => fixed!(
                |s: Vec<String>| format!("(substr({0}, 1, length({1})) = {1})", s[0], s[1]),
                PgType::BOOL,
                PgType::TEXT,
                PgType::TEXT
            ),
            // -- math --
            "abs" => {
                self.check_arity(name, &xs, 1, 1)?;
                let x = self.settle_as(xs.remove(0), PgType::NUMERIC)?;
                let t = x.known().unwrap_or(PgType::NUMERIC);
                if t.scalar == Scalar::Numeric {
                    Ex::new(format!("pg_num_abs({})", x.sql), t)
                } else {
                    Ex::new(format!("abs({})", x.sql), t)
                }
            }
            "ceil" | "ceiling" | "floor" => {
                self.check_arity(name, &xs, 1, 1)?;
                let x = self.settle_as(xs.remove(0), PgType::FLOAT8)?;
                let t = x.known().unwrap_or(PgType::FLOAT8);
                let f = if name == "floor" { "floor" } else { "ceil" };
                if t.scalar == Scalar::Numeric {
                    Ex::new(format!("pg_num_{f}({})", x.sql), t)
                } else if t.scalar.is_integer() {
                    Ex::new(x.sql, PgType::FLOAT8)
                } else {
                    Ex::new(format!("{f}({})", x.sql), PgType::FLOAT8)
                }
            }
            "mod" => {
                self.check_arity(name, &xs, 2, 2)?;
                let b = xs.pop().ok_or_else(|| no_such_function(name, &[]))?;
                let a = xs.pop().ok_or_else(|| no_such_function(name, &[]))?;
                self.arith(a, &sqlparser::ast::BinaryOperator::Modulo, b)?
            }
            "div" => fixed!(
                |s: Vec<String>| format!("pg_num_trunc(pg_num_div({}, {}), 0)", s[0], s[1]),
                PgType::NUMERIC,
                PgType::NUMERIC,
                PgType::NUMERIC
            ),
            // -- date/time --
            "date_trunc" => {
                self.check_arity(name, &xs, 2, 3)?;
                let field = self.coerce(xs.remove(0), PgType::TEXT, -1)?;
                let v = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                let t = v.known().unwrap_or(PgType::TIMESTAMPTZ);
                let out = if t.scalar == Scalar::Date {
                    PgType::TIMESTAMPTZ
                } else {
                    t
                };
                if let Some(z) = xs.pop() {
                    // date_trunc(field, timestamptz, zone): truncate in that zone.
                    if !matches!(
                        t.scalar,
                        Scalar::Timestamptz | Scalar::Timestamp | Scalar::Date
                    ) || t.array
                    {
                        return Err(no_such_function(
                            name,
                            &["text".into(), t.format(-1), "text".into()],
                        ));
                    }
                    let v = self.coerce(v, PgType::TIMESTAMPTZ, -1)?;
                    let z = self.coerce(z, PgType::TEXT, -1)?;
                    return Ok(Ex::new(
                        format!("pg_date_trunc_zone({field}, {v}, {z})"),
                        PgType::TIMESTAMPTZ,
                    ));
                }
                Ex::new(
                    format!("pg_date_trunc({field}, {}, {})", v.sql, t.oid()),
                    out,
                )
            }
            "date_part" => {
                self.check_arity(name, &xs, 2, 2)?;
                let field = self.coerce(xs.remove(0), PgType::TEXT, -1)?;
                let v = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                let t = v.known().unwrap_or(PgType::TIMESTAMPTZ);
                Ex::new(
                    format!("CAST(pg_extract({field}, {}, {}) AS REAL)", v.sql, t.oid()),
                    PgType::FLOAT8,
                )
            }
            "to_char" => {
                self.check_arity(name, &xs, 2, 2)?;
                let v = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                let t = v.known().unwrap_or(PgType::TIMESTAMPTZ);
                let f = self.coerce(xs.remove(0), PgType::TEXT, -1)?;
                Ex::new(
                    format!("pg_to_char({}, {f}, {})", v.sql, t.oid()),
                    PgType::TEXT,
                )
            }
            "to_timestamp" => {
                self.check_arity(name, &xs, 1, 2)?;
                if xs.len() == 1 {
                    let s = self.coerce_args(xs, &[PgType::FLOAT8])?;
                    Ex::new(
                        format!("pg_to_timestamp_epoch({})", s[0]),
                        PgType::TIMESTAMPTZ,
                    )
                } else {
                    let s = self.coerce_args(xs, &[PgType::TEXT, PgType::TEXT])?;
                    Ex::new(
                        format!("pg_to_timestamp({}, {})", s[0], s[1]),
                        PgType::TIMESTAMPTZ,
                    )
                }
            }
            "to_date" => fixed!(
                |s: Vec<String>| format!("pg_to_date({}, {})", s[0], s[1]),
                PgType::DATE,
                PgType::TEXT,
                PgType::TEXT
            ),
            "make_date" => fixed!(
                |s: Vec<String>| format!("pg_make_date({}, {}, {})", s[0], s[1], s[2]),
                PgType::DATE,
                PgType::INT4,
                PgType::INT4,
                PgType::INT4
            ),
            // -- arrays --
            "array_length" => fixed!(
                |s: Vec<String>| format!("pg_array_length({}, {})", s[0], s[1]),
                PgType::INT4,
                self.array_arg_type(&xs),
                PgType::INT4
            ),
            "array_upper" => fixed!(
                |s: Vec<String>| format!("pg_array_length({}, {})", s[0], s[1]),
                PgType::INT4,
                self.array_arg_type(&xs),
                PgType::INT4
            ),
            "array_lower" => fixed!(
                |s: Vec<String>| format!(
                    "CASE WHEN pg_array_length({0}, {1}) IS NULL THEN NULL ELSE 1 END",
                    s[0], s[1]
                ),
                PgType::INT4,
                self.array_arg_type(&xs),
                PgType::INT4
            ),
            "cardinality" => fixed!(
                |s: Vec<String>| format!("json_array_length({})", s[0]),
                PgType::INT4,
                self.array_arg_type(&xs)
            ),
            "array_to_string" => {
                self.check_arity(name, &xs, 2, 3)?;
                let at = self.array_arg_type(&xs);
                let mut tys = vec![at, PgType::TEXT, PgType::TEXT];
                tys.truncate(xs.len());
                let s = self.coerce_args(xs, &tys)?;
                let null_str = s.get(2).cloned().unwrap_or_else(|| "NULL".into());
                Ex::new(
                    format!(
                        "pg_array_to_string({}, {}, {null_str}, {})",
                        s[0],
                        s[1],
                        at.oid()
                    ),
                    PgType::TEXT,
                )
            }
            "string_to_array" => {
                self.check_arity(name, &xs, 2, 3)?;
                let s = self.coerce_args(xs, &[PgType::TEXT])?;
                let null_str = s.get(2).cloned().unwrap_or_else(|| "NULL".into());
                Ex::new(
                    format!("pg_string_to_array({}, {}, {null_str})", s[0], s[1]),
                    PgType::array_of(Scalar::Text),
                )
            }
            "array_append" | "array_prepend" | "array_cat" => {
                self.check_arity(name, &xs, 2, 2)?;
                let at = if name == "array_prepend" {
                    xs[1]
                        .known()
                        .filter(|t| t.array)
                        .unwrap_or(PgType::array_of(
                            xs[0].known().map(|t| t.scalar).unwrap_or(Scalar::Text),
                        ))
                } else {
                    self.array_arg_type(&xs)
                };
                let tys = match name {
                    "array_append" => [at, at.element()],
                    "array_prepend" => [at.element(), at],
                    _ => [at, at],
                };
                let s = self.coerce_args(xs, &tys)?;
                let sql = match name {
                    "array_append" => format!("pg_array_cat({}, json_array({}))", s[0], s[1]),
                    "array_prepend" => format!("pg_array_cat(json_array({}), {})", s[0], s[1]),
                    _ => format!("pg_array_cat({}, {})", s[0], s[1]),
                };
                Ex::new(sql, at)
            }
            "unnest"
            | "generate_series"
            | "json_each"
            | "jsonb_each"
            | "json_array_elements"
            | "jsonb_array_elements"
            | "regexp_split_to_table" => {
                return Err(PgError::unsupported(format!(
                    "set-returning function {name}() in the select list (use it in FROM)"
                )));
            }
            // -- json --
            "jsonb_pretty" => fixed!(
                |s: Vec<String>| format!("pg_jsonb_pretty({})", s[0]),
                PgType::TEXT,
                PgType::JSONB
            ),
            // -- session and system information --
            "version" => Ex::new(sql_str(&crate::version_string()), PgType::TEXT),
            "current_database" => Ex::new(sql_str(&self.env.database), PgType::NAME),
            "current_schema" => Ex::new("'public'", PgType::NAME),
            "current_user" | "session_user" | "user" => {
                Ex::new(sql_str(&self.env.user), PgType::NAME)
            }
            "current_schemas" => {
                self.check_arity(name, &xs, 1, 1)?;
                let inc = self.coerce(xs.remove(0), PgType::BOOL, -1)?;
                Ex::new(
                    format!(
                        "CASE WHEN {inc} THEN '[\"pg_catalog\",\"public\"]' ELSE '[\"public\"]' END"
                    ),
                    PgType::array_of(Scalar::Name),
                )
            }
            "current_setting" => {
                self.session_dependent = Some("current_setting()");
                self.check_arity(name, &xs, 1, 2)?;
                let s = self.coerce_args(xs, &[PgType::TEXT, PgType::BOOL])?;
                Ex::new(
                    format!("pg_current_setting({})", s.join(", ")),
                    PgType::TEXT,
                )
            }
            "set_config" => {
                self.session_dependent = Some("set_config()");
                fixed!(
                    |s: Vec<String>| format!("pg_set_config({}, {}, {})", s[0], s[1], s[2]),
                    PgType::TEXT,
                    PgType::TEXT,
                    PgType::TEXT,
                    PgType::BOOL
                )
            }
            "pg_typeof" => {
                self.check_arity(name, &xs, 1, 1)?;
                let x = self.settle(xs.remove(0))?;
                let t = x.known().unwrap_or(PgType::TEXT);
                Ex::new(t.oid().to_string(), PgType::REGTYPE)
            }
            "pg_sleep" => {
                return Err(PgError::unsupported("pg_sleep"));
            }
            other => {
                if let Some(x) = self.catalog_function(other, xs.clone())? {
                    x
                } else {
                    let types: Vec<String> = xs
                        .iter()
                        .map(|x| match x.ty {
                            Ty::Known(t) => t.format(-1),
                            _ => "unknown".into(),
                        })
                        .collect();
                    return Err(no_such_function(other, &types));
                }
            }
        })
    }

    /// `ARRAY(SELECT x …)`: the subquery's values as an array, in the subquery's order.
    fn array_subquery(&mut self, q: &sqlparser::ast::Query, sc: &Scope) -> PgResult<Ex> {
        let out = self.subquery(q, sc)?;
        if out.cols.len() != 1 {
            return Err(PgError::syntax("subquery must return only one column"));
        }
        let t = out.cols[0].ty;
        if t.array {
            return Err(PgError::unsupported("ARRAY(subquery) of arrays"));
        }
        let a = self.alias("arr");
        Ok(Ex::new(
            format!(
                "(SELECT json_group_array({a}.{}) FROM ({}) AS {a})",
                super::quote(&out.cols[0].name),
                out.sql
            ),
            PgType::array_of(t.scalar),
        )
        .named("array"))
    }

    fn array_arg_type(&self, xs: &[Ex]) -> PgType {
        xs.first()
            .and_then(|x| x.known())
            .filter(|t| t.array)
            .unwrap_or(PgType::array_of(Scalar::Text))
    }

    /// `nextval('name')` and friends: resolve the sequence at translation time.
    fn sequence_oid(&mut self, x: Ex) -> PgResult<String> {
        match (&x.lit, x.ty) {
            (Some(super::Lit::Str(s)), _) => {
                let name = s.trim();
                let name = name.strip_prefix("public.").unwrap_or(name);
                let name = if name.starts_with('"') {
                    name.trim_matches('"').to_string()
                } else {
                    name.to_lowercase()
                };
                match self.cat.sequence(&name) {
                    Some(seq) => Ok(seq.oid.to_string()),
                    None => Err(PgError::new(
                        code::UNDEFINED_TABLE,
                        format!("relation \"{name}\" does not exist"),
                    )),
                }
            }
            (_, Ty::Known(t))
                if matches!(t.scalar, Scalar::Regclass | Scalar::Oid) || t.scalar.is_integer() =>
            {
                Ok(x.sql)
            }
            (_, Ty::Known(t)) if t.scalar.is_string() => Ok(format!("pg_regclass({})", x.sql)),
            _ => {
                let s = self.coerce(x, PgType::REGCLASS, -1)?;
                Ok(s)
            }
        }
    }
}

/// An ORDER BY item with PostgreSQL's NULL placement and numeric/interval ordering.
pub fn order_sql(x: &Ex, asc: Option<bool>, nulls_first: Option<bool>) -> String {
    let desc = asc == Some(false);
    let collate = match (x.known(), x.collate) {
        (Some(t), None) if t.scalar == Scalar::Numeric && !t.array => " COLLATE pg_numeric",
        (Some(t), None) if t.scalar == Scalar::Interval && !t.array => " COLLATE pg_interval",
        _ => "",
    };
    // PostgreSQL sorts NULLs last ascending and first descending; SQLite the opposite.
    let nf = nulls_first.unwrap_or(desc);
    format!(
        "{}{collate}{}{}",
        x.sql,
        if desc { " DESC" } else { "" },
        if nf { " NULLS FIRST" } else { " NULLS LAST" }
    )
}

/// ASC / DESC of an ORDER BY item (None when unspecified).
pub fn asc_of(o: &sqlparser::ast::OrderByOptions) -> Option<bool> {
    match o.sort {
        Some(sqlparser::ast::OrderBySort::Asc) => Some(true),
        Some(sqlparser::ast::OrderBySort::Desc) => Some(false),
        _ => None,
    }
}
