//! The function library's calls: string, regex, binary, math, date/time, array, JSON and
//! session functions, each mapped to a registered `pg_*` SQL function (src/sql/functions) with
//! PostgreSQL's argument types and result type. `library_function` is consulted before the
//! general table in funcs.rs.

use super::funcs::no_such_function;
use super::{Ex, Lit, Tr, Ty};
use crate::error::{PgError, PgResult, code};
use crate::sql::types::{PgType, Scalar};

fn ty_name(x: &Ex) -> String {
    match x.ty {
        Ty::Known(t) => t.format(-1),
        _ => "unknown".into(),
    }
}

fn is_float(x: &Ex) -> bool {
    x.known().is_some_and(|t| !t.array && t.scalar.is_float())
}

fn is_numeric(x: &Ex) -> bool {
    x.known()
        .is_some_and(|t| !t.array && t.scalar == Scalar::Numeric)
}

fn is_int(x: &Ex) -> bool {
    x.known().is_some_and(|t| !t.array && t.scalar.is_integer())
}

/// A numeric literal written without a point or exponent (PostgreSQL types it integer).
fn int_literal(x: &Ex) -> bool {
    matches!(&x.lit, Some(Lit::Num(s)) if s.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
}

impl Tr<'_> {
    /// SQL for a value's output-function text (what `concat` and `format` print: `t` for a
    /// boolean, blank-padded `character(n)`), unlike `text_of`, which casts.
    fn out_text(&mut self, x: Ex) -> PgResult<String> {
        match x.ty {
            Ty::Known(t) if !t.array && (t.scalar.is_string() || t.scalar.is_integer()) => {
                Ok(x.sql)
            }
            Ty::Known(t) => Ok(format!("pg_out({}, {})", x.sql, t.oid())),
            _ => self.coerce(x, PgType::TEXT, -1),
        }
    }

    /// `f(arg, ...)` with each argument coerced to its declared type.
    fn call(
        &mut self,
        name: &str,
        xs: Vec<Ex>,
        f: &str,
        tys: &[PgType],
        ret: PgType,
    ) -> PgResult<Ex> {
        self.check_arity(name, &xs, tys.len(), tys.len())?;
        let s = self.coerce_args(xs, tys)?;
        Ok(Ex::new(format!("{f}({})", s.join(", ")), ret))
    }

    /// Like `call` with optional trailing arguments: `defaults` fill the last ones.
    fn call_opt(
        &mut self,
        name: &str,
        xs: Vec<Ex>,
        f: &str,
        tys: &[PgType],
        defaults: &[&str],
        ret: PgType,
    ) -> PgResult<Ex> {
        let min = tys.len() - defaults.len();
        self.check_arity(name, &xs, min, tys.len())?;
        let n = xs.len();
        let mut s = self.coerce_args(xs, &tys[..n])?;
        for d in &defaults[n - min..] {
            s.push(d.to_string());
        }
        Ok(Ex::new(format!("{f}({})", s.join(", ")), ret))
    }

    /// The element type oid argument our array functions take.
    fn array_type(&self, xs: &[Ex]) -> PgType {
        xs.first()
            .and_then(|x| x.known())
            .filter(|t| t.array)
            .unwrap_or(PgType::array_of(Scalar::Text))
    }

    fn json_or_jsonb(name: &str) -> PgType {
        if name.starts_with("jsonb") {
            PgType::JSONB
        } else {
            PgType::JSON
        }
    }

    /// `make_interval` with positional and `name => value` arguments.
    pub(super) fn make_interval(&mut self, xs: Vec<Ex>, named: Vec<(String, Ex)>) -> PgResult<Ex> {
        const NAMES: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];
        if xs.len() > 7 {
            return Err(no_such_function("make_interval", &[]));
        }
        let mut slots: Vec<Option<Ex>> = vec![None; 7];
        for (i, x) in xs.into_iter().enumerate() {
            slots[i] = Some(x);
        }
        for (k, x) in named {
            let Some(i) = NAMES.iter().position(|n| *n == k) else {
                return Err(no_such_function("make_interval", &[]));
            };
            slots[i] = Some(x);
        }
        let mut parts = Vec::new();
        for (i, x) in slots.into_iter().enumerate() {
            let t = if i == 6 { PgType::FLOAT8 } else { PgType::INT4 };
            parts.push(match x {
                Some(x) => self.coerce(x, t, -1)?,
                None => "0".into(),
            });
        }
        Ok(Ex::new(
            format!("pg_make_interval({})", parts.join(", ")),
            PgType::INTERVAL,
        ))
    }

    /// Functions of the function library; `None` when `name` is not one of them.
    pub(super) fn library_function(
        &mut self,
        name: &str,
        args: &mut Vec<Ex>,
    ) -> PgResult<Option<Ex>> {
        let t = PgType::TEXT;
        let i4 = PgType::INT4;
        let f8 = PgType::FLOAT8;
        let known: &[&str] = &[
            "length",
            "char_length",
            "character_length",
            "octet_length",
            "lower",
            "upper",
            "initcap",
            "reverse",
            "md5",
            "sha224",
            "sha256",
            "sha384",
            "sha512",
            "ascii",
            "chr",
            "translate",
            "quote_literal",
            "quote_nullable",
            "to_hex",
            "format",
            "regexp_replace",
            "regexp_match",
            "regexp_like",
            "regexp_count",
            "regexp_substr",
            "regexp_instr",
            "regexp_split_to_array",
            "encode",
            "decode",
            "convert_to",
            "convert_from",
            "num_nulls",
            "num_nonnulls",
            "round",
            "trunc",
            "sqrt",
            "exp",
            "ln",
            "log",
            "log10",
            "power",
            "pow",
            "cbrt",
            "sign",
            "sin",
            "cos",
            "tan",
            "cot",
            "asin",
            "acos",
            "atan",
            "atan2",
            "sinh",
            "cosh",
            "tanh",
            "asinh",
            "acosh",
            "atanh",
            "degrees",
            "radians",
            "pi",
            "concat",
            "concat_ws",
            "gcd",
            "lcm",
            "width_bucket",
            "scale",
            "min_scale",
            "trim_scale",
            "age",
            "to_number",
            "make_time",
            "make_timestamp",
            "make_timestamptz",
            "make_interval",
            "justify_days",
            "justify_hours",
            "justify_interval",
            "date_bin",
            "isfinite",
            "timezone",
            "array_ndims",
            "array_dims",
            "array_position",
            "array_positions",
            "array_remove",
            "array_replace",
            "trim_array",
            "to_json",
            "to_jsonb",
            "json_build_object",
            "jsonb_build_object",
            "json_build_array",
            "jsonb_build_array",
            "json_typeof",
            "jsonb_typeof",
            "json_array_length",
            "jsonb_array_length",
            "json_extract_path",
            "jsonb_extract_path",
            "json_extract_path_text",
            "jsonb_extract_path_text",
            "jsonb_set",
            "jsonb_insert",
            "jsonb_strip_nulls",
            "json_strip_nulls",
            "pg_backend_pid",
            "txid_current",
            "pg_current_xact_id",
        ];
        // `int4('5')`, `text(1)`: a type name called as a function is a cast.
        const TYPE_FUNCTIONS: &[&str] = &[
            "int2",
            "int4",
            "int8",
            "float4",
            "float8",
            "numeric",
            "text",
            "varchar",
            "bpchar",
            "bool",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "interval",
            "uuid",
            "json",
            "jsonb",
            "bytea",
            "name",
            "oid",
        ];
        if TYPE_FUNCTIONS.contains(&name)
            && args.len() == 1
            && let Some(d) = crate::sql::types::type_by_name(name)
        {
            let x = args.remove(0);
            return Ok(Some(self.cast(x, d.ty, -1)?));
        }
        if !known.contains(&name) {
            return Ok(None);
        }
        let mut xs = std::mem::take(args);
        let n = xs.len();
        let x = match name {
            // -- strings --
            "length" | "char_length" | "character_length" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = xs.remove(0);
                match a.known().map(|t| (t.array, t.scalar)) {
                    Some((false, Scalar::Bytea)) => Ex::new(format!("length({})", a.sql), i4),
                    Some((false, Scalar::Bpchar)) => {
                        Ex::new(format!("pg_bpchar_length({})", a.sql), i4)
                    }
                    _ => {
                        let s = self.text_of(a)?;
                        Ex::new(format!("length({s})"), i4)
                    }
                }
            }
            "octet_length" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = xs.remove(0);
                if a.known()
                    .is_some_and(|t| t.scalar == Scalar::Bytea && !t.array)
                {
                    Ex::new(format!("length({})", a.sql), i4)
                } else {
                    let s = self.text_of(a)?;
                    Ex::new(format!("length(CAST({s} AS BLOB))"), i4)
                }
            }
            "lower" | "upper" | "initcap" | "reverse" => {
                self.call(name, xs, &format!("pg_{name}"), &[t], t)?
            }
            "md5" => {
                let ty = if xs.first().is_some_and(|x| x.known() == Some(PgType::BYTEA)) {
                    PgType::BYTEA
                } else {
                    t
                };
                self.call(name, xs, "pg_md5", &[ty], t)?
            }
            "sha224" | "sha256" | "sha384" | "sha512" => self.call(
                name,
                xs,
                &format!("pg_{name}"),
                &[PgType::BYTEA],
                PgType::BYTEA,
            )?,
            "ascii" => self.call(name, xs, "pg_ascii", &[t], i4)?,
            "chr" => self.call(name, xs, "pg_chr", &[i4], t)?,
            "translate" => self.call(name, xs, "pg_translate", &[t, t, t], t)?,
            "quote_literal" | "quote_nullable" => {
                self.check_arity(name, &xs, 1, 1)?;
                let s = self.text_of(xs.remove(0))?;
                Ex::new(format!("pg_{name}({s})"), t)
            }
            "to_hex" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = self.settle_as(xs.remove(0), i4)?;
                let bits = match a.known().map(|t| t.scalar) {
                    Some(Scalar::Int8) => 64,
                    Some(s) if s.is_integer() => 32,
                    _ => return Err(no_such_function(name, &[ty_name(&a)])),
                };
                Ex::new(format!("pg_to_hex({}, {bits})", a.sql), t)
            }
            "format" => {
                if xs.is_empty() {
                    return Err(no_such_function(name, &[]));
                }
                let f = self.coerce(xs.remove(0), t, -1)?;
                let mut parts = vec![f];
                for a in xs {
                    parts.push(self.out_text(a)?);
                }
                Ex::new(format!("pg_format({})", parts.join(", ")), t)
            }
            // -- regular expressions --
            "regexp_replace" => {
                self.check_arity(name, &xs, 3, 6)?;
                let fourth_is_int = xs.get(3).is_some_and(|x| is_int(x) || int_literal(x));
                if n == 3 || (n == 4 && !fourth_is_int) {
                    self.call_opt(name, xs, "pg_regexp_replace", &[t, t, t, t], &["''"], t)?
                } else {
                    let mut s = self.coerce_args(xs, &[t, t, t, i4, i4, t])?;
                    if s.len() == 4 {
                        s.push("NULL".into());
                    }
                    if s.len() == 5 {
                        s.push("''".into());
                    }
                    Ex::new(format!("pg_regexp_replace_n({})", s.join(", ")), t)
                }
            }
            "regexp_match" => self.call_opt(
                name,
                xs,
                "pg_regexp_match",
                &[t, t, t],
                &["''"],
                PgType::array_of(Scalar::Text),
            )?,
            "regexp_like" => self.call_opt(
                name,
                xs,
                "pg_regexp_like",
                &[t, t, t],
                &["''"],
                PgType::BOOL,
            )?,
            "regexp_count" => self.call_opt(
                name,
                xs,
                "pg_regexp_count",
                &[t, t, i4, t],
                &["1", "''"],
                i4,
            )?,
            "regexp_substr" => self.call_opt(
                name,
                xs,
                "pg_regexp_substr",
                &[t, t, i4, i4, t, i4],
                &["1", "1", "''", "0"],
                t,
            )?,
            "regexp_instr" => self.call_opt(
                name,
                xs,
                "pg_regexp_instr",
                &[t, t, i4, i4, i4, t, i4],
                &["1", "1", "0", "''", "0"],
                i4,
            )?,
            "regexp_split_to_array" => self.call_opt(
                name,
                xs,
                "pg_regexp_split",
                &[t, t, t],
                &["''"],
                PgType::array_of(Scalar::Text),
            )?,
            // -- binary strings --
            "encode" => self.call(name, xs, "pg_encode", &[PgType::BYTEA, t], t)?,
            "decode" => self.call(name, xs, "pg_decode", &[t, t], PgType::BYTEA)?,
            "convert_to" => self.call(name, xs, "pg_convert_to", &[t, t], PgType::BYTEA)?,
            "convert_from" => self.call(name, xs, "pg_convert_from", &[PgType::BYTEA, t], t)?,
            "num_nulls" | "num_nonnulls" => {
                if xs.is_empty() {
                    return Err(no_such_function(name, &[]));
                }
                let (a, b) = if name == "num_nulls" { (1, 0) } else { (0, 1) };
                let mut parts = Vec::new();
                for x in xs {
                    let x = self.settle(x)?;
                    parts.push(format!(
                        "(CASE WHEN {} IS NULL THEN {a} ELSE {b} END)",
                        x.sql
                    ));
                }
                Ex::new(format!("({})", parts.join(" + ")), i4)
            }
            // -- math --
            "round" | "trunc" => {
                self.check_arity(name, &xs, 1, 2)?;
                let a = self.settle_as(xs.remove(0), PgType::NUMERIC)?;
                if is_float(&a) || (is_int(&a) && n == 1) {
                    if n == 2 {
                        return Err(no_such_function(
                            name,
                            &["double precision".into(), "integer".into()],
                        ));
                    }
                    let f = if name == "round" {
                        "pg_round_even"
                    } else {
                        "pg_trunc_float"
                    };
                    Ex::new(format!("{f}({})", a.sql), f8)
                } else {
                    let scale = match xs.pop() {
                        Some(s) => self.coerce(s, i4, -1)?,
                        None => "0".into(),
                    };
                    let v = self.coerce(a, PgType::NUMERIC, -1)?;
                    Ex::new(format!("pg_num_{name}({v}, {scale})"), PgType::NUMERIC)
                }
            }
            "sqrt" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = self.settle_as(xs.remove(0), f8)?;
                if is_numeric(&a) {
                    Ex::new(format!("pg_num_sqrt({})", a.sql), PgType::NUMERIC)
                } else {
                    let s = self.coerce(a, f8, -1)?;
                    Ex::new(format!("pg_sqrt({s})"), f8)
                }
            }
            "cbrt" => self.call(name, xs, "pg_cbrt", &[f8], f8)?,
            "sin" | "cos" | "tan" | "cot" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "tanh"
            | "asinh" | "acosh" | "atanh" | "degrees" | "radians" => {
                self.call(name, xs, &format!("pg_{name}"), &[f8], f8)?
            }
            "atan2" => self.call(name, xs, "pg_atan2", &[f8, f8], f8)?,
            "pi" => {
                self.check_arity(name, &xs, 0, 0)?;
                Ex::new("3.141592653589793", f8)
            }
            "concat" => {
                if xs.is_empty() {
                    return Err(no_such_function(name, &[]));
                }
                let mut parts = Vec::new();
                for x in xs {
                    let s = self.out_text(x)?;
                    parts.push(format!("coalesce({s}, '')"));
                }
                Ex::new(format!("({})", parts.join(" || ")), t)
            }
            "concat_ws" => {
                if xs.is_empty() {
                    return Err(no_such_function(name, &[]));
                }
                let sep = self.coerce(xs.remove(0), t, -1)?;
                let mut parts = vec![sep];
                for x in xs {
                    parts.push(self.out_text(x)?);
                }
                Ex::new(format!("pg_concat_ws({})", parts.join(", ")), t)
            }
            "exp" | "ln" | "log10" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = self.settle_as(xs.remove(0), f8)?;
                if is_numeric(&a) {
                    let sql = match name {
                        "log10" => format!("pg_num_log(10, {})", a.sql),
                        _ => format!("pg_num_{name}({})", a.sql),
                    };
                    Ex::new(sql, PgType::NUMERIC)
                } else {
                    let s = self.coerce(a, f8, -1)?;
                    Ex::new(format!("pg_{name}({s})"), f8)
                }
            }
            "log" => {
                self.check_arity(name, &xs, 1, 2)?;
                if n == 1 {
                    let a = self.settle_as(xs.remove(0), f8)?;
                    if is_numeric(&a) {
                        Ex::new(format!("pg_num_log(10, {})", a.sql), PgType::NUMERIC)
                    } else {
                        let s = self.coerce(a, f8, -1)?;
                        Ex::new(format!("pg_log10({s})"), f8)
                    }
                } else {
                    let nm = PgType::NUMERIC;
                    self.call(name, xs, "pg_num_log", &[nm, nm], nm)?
                }
            }
            "power" | "pow" => {
                self.check_arity(name, &xs, 2, 2)?;
                let numeric = xs.iter().any(is_numeric) && !xs.iter().any(is_float);
                if numeric {
                    let nm = PgType::NUMERIC;
                    self.call(name, xs, "pg_num_power", &[nm, nm], nm)?
                } else {
                    self.call(name, xs, "pg_power", &[f8, f8], f8)?
                }
            }
            "sign" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = self.settle_as(xs.remove(0), f8)?;
                if is_numeric(&a) {
                    Ex::new(format!("pg_num_sign({})", a.sql), PgType::NUMERIC)
                } else {
                    let s = self.coerce(a, f8, -1)?;
                    Ex::new(format!("CAST(sign({s}) AS REAL)"), f8)
                }
            }
            "gcd" | "lcm" => {
                self.check_arity(name, &xs, 2, 2)?;
                let ty = self.unify(&xs, name)?.unwrap_or(i4);
                match ty.scalar {
                    _ if ty.array => return Err(no_such_function(name, &[ty.format(-1)])),
                    Scalar::Numeric => {
                        self.call(name, xs, &format!("pg_num_{name}"), &[ty, ty], ty)?
                    }
                    Scalar::Int8 => {
                        let s = self.coerce_args(xs, &[ty, ty])?;
                        Ex::new(format!("pg_{name}({}, {}, 64)", s[0], s[1]), ty)
                    }
                    s if s.is_integer() => {
                        let s = self.coerce_args(xs, &[i4, i4])?;
                        Ex::new(format!("pg_{name}({}, {}, 32)", s[0], s[1]), i4)
                    }
                    _ => return Err(no_such_function(name, &[ty.format(-1), ty.format(-1)])),
                }
            }
            "width_bucket" => {
                self.check_arity(name, &xs, 4, 4)?;
                if xs[..3].iter().any(is_numeric) {
                    let nm = PgType::NUMERIC;
                    self.call(name, xs, "pg_num_width_bucket", &[nm, nm, nm, i4], i4)?
                } else {
                    self.call(name, xs, "pg_width_bucket", &[f8, f8, f8, i4], i4)?
                }
            }
            "scale" | "min_scale" => {
                self.call(name, xs, &format!("pg_num_{name}"), &[PgType::NUMERIC], i4)?
            }
            "trim_scale" => self.call(
                name,
                xs,
                "pg_num_trim_scale",
                &[PgType::NUMERIC],
                PgType::NUMERIC,
            )?,
            // -- date/time --
            "age" => {
                self.check_arity(name, &xs, 1, 2)?;
                let a0 = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                let ty = match a0.known() {
                    Some(t) if t == PgType::TIMESTAMP => t,
                    Some(t) if t == PgType::TIMESTAMPTZ || t == PgType::DATE => PgType::TIMESTAMPTZ,
                    _ => return Err(no_such_function(name, &[ty_name(&a0)])),
                };
                let a = self.coerce(a0, ty, -1)?;
                // age(x) is age(current_date, x).
                let (a, b) = match xs.pop() {
                    Some(b) => (a, self.coerce(b, ty, -1)?),
                    None if ty == PgType::TIMESTAMP => {
                        ("(pg_current_date() || ' 00:00:00')".into(), a)
                    }
                    None => ("pg_date_trunc('day', pg_now(), 1184)".into(), a),
                };
                Ex::new(format!("pg_age({a}, {b}, {})", ty.oid()), PgType::INTERVAL)
            }
            "to_number" => self.call(name, xs, "pg_to_number", &[t, t], PgType::NUMERIC)?,
            "make_time" => self.call(name, xs, "pg_make_time", &[i4, i4, f8], PgType::TIME)?,
            "make_timestamp" => self.call(
                name,
                xs,
                "pg_make_timestamp",
                &[i4, i4, i4, i4, i4, f8],
                PgType::TIMESTAMP,
            )?,
            "make_timestamptz" => {
                self.check_arity(name, &xs, 6, 7)?;
                let s = self.coerce_args(xs, &[i4, i4, i4, i4, i4, f8, t])?;
                Ex::new(
                    format!("pg_make_timestamptz({})", s.join(", ")),
                    PgType::TIMESTAMPTZ,
                )
            }
            "make_interval" => self.make_interval(xs, Vec::new())?,
            "justify_days" | "justify_hours" | "justify_interval" => self.call(
                name,
                xs,
                &format!("pg_{name}"),
                &[PgType::INTERVAL],
                PgType::INTERVAL,
            )?,
            "date_bin" => {
                self.check_arity(name, &xs, 3, 3)?;
                let stride = self.coerce(xs.remove(0), PgType::INTERVAL, -1)?;
                let src = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                let ty = match src.known() {
                    Some(t) if t == PgType::TIMESTAMP => t,
                    Some(t) if t == PgType::TIMESTAMPTZ || t == PgType::DATE => PgType::TIMESTAMPTZ,
                    _ => return Err(no_such_function(name, &["interval".into(), ty_name(&src)])),
                };
                let s = self.coerce(src, ty, -1)?;
                let o = self.coerce(xs.remove(0), ty, -1)?;
                Ex::new(format!("pg_date_bin({stride}, {s}, {o}, {})", ty.oid()), ty)
            }
            "isfinite" => {
                self.check_arity(name, &xs, 1, 1)?;
                let a = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                if a.known() == Some(PgType::INTERVAL) {
                    Ex::new(
                        format!("(CASE WHEN {} IS NULL THEN NULL ELSE 1 END)", a.sql),
                        PgType::BOOL,
                    )
                } else {
                    Ex::new(format!("pg_isfinite({})", a.sql), PgType::BOOL)
                }
            }
            "timezone" => {
                self.check_arity(name, &xs, 2, 2)?;
                let z = self.coerce(xs.remove(0), t, -1)?;
                let v = self.settle_as(xs.remove(0), PgType::TIMESTAMPTZ)?;
                let vt = v.known().unwrap_or(PgType::TIMESTAMPTZ);
                let out = match vt.scalar {
                    Scalar::Timestamp => PgType::TIMESTAMPTZ,
                    Scalar::Timestamptz | Scalar::Date => PgType::TIMESTAMP,
                    _ => return Err(no_such_function(name, &["text".into(), vt.format(-1)])),
                };
                Ex::new(
                    format!("pg_at_time_zone({}, {z}, {})", v.sql, vt.oid()),
                    out,
                )
            }
            // -- arrays --
            "array_ndims" | "array_dims" => {
                let at = self.array_type(&xs);
                let ret = if name == "array_ndims" { i4 } else { t };
                self.call(name, xs, &format!("pg_{name}"), &[at], ret)?
            }
            "array_position" => {
                self.check_arity(name, &xs, 2, 3)?;
                let at = self.array_type(&xs);
                let mut s = self.coerce_args(xs, &[at, at.element(), i4])?;
                if s.len() == 2 {
                    s.push("1".into());
                }
                Ex::new(
                    format!("pg_array_position({}, {})", s.join(", "), at.oid()),
                    i4,
                )
            }
            "array_positions" => {
                self.check_arity(name, &xs, 2, 2)?;
                let at = self.array_type(&xs);
                let s = self.coerce_args(xs, &[at, at.element()])?;
                Ex::new(
                    format!("pg_array_positions({}, {}, {})", s[0], s[1], at.oid()),
                    PgType::array_of(Scalar::Int4),
                )
            }
            "array_remove" => {
                self.check_arity(name, &xs, 2, 2)?;
                let at = self.array_type(&xs);
                let s = self.coerce_args(xs, &[at, at.element()])?;
                Ex::new(
                    format!("pg_array_remove({}, {}, {})", s[0], s[1], at.oid()),
                    at,
                )
            }
            "array_replace" => {
                self.check_arity(name, &xs, 3, 3)?;
                let at = self.array_type(&xs);
                let s = self.coerce_args(xs, &[at, at.element(), at.element()])?;
                Ex::new(
                    format!(
                        "pg_array_replace({}, {}, {}, {})",
                        s[0],
                        s[1],
                        s[2],
                        at.oid()
                    ),
                    at,
                )
            }
            "trim_array" => {
                let at = self.array_type(&xs);
                self.call(name, xs, "pg_trim_array", &[at, i4], at)?
            }
            // -- json --
            "to_json" | "to_jsonb" => {
                self.check_arity(name, &xs, 1, 1)?;
                if matches!(xs[0].lit, Some(Lit::Str(_))) && xs[0].ty == Ty::Unknown {
                    return Err(PgError::new(
                        code::DATATYPE_MISMATCH,
                        "could not determine polymorphic type because input has type unknown",
                    ));
                }
                let v = self.settle(xs.remove(0))?;
                let vt = v.known().unwrap_or(t);
                let frag = format!("pg_json_frag({}, {})", v.sql, vt.oid());
                if name == "to_json" {
                    Ex::new(frag, PgType::JSON)
                } else {
                    Ex::new(format!("pg_jsonb({frag})"), PgType::JSONB)
                }
            }
            "json_build_object" | "jsonb_build_object" | "json_build_array"
            | "jsonb_build_array" => {
                let object = name.ends_with("object");
                if object && !n.is_multiple_of(2) {
                    return Err(PgError::new(
                        code::INVALID_PARAMETER_VALUE,
                        "argument list must have even number of elements",
                    )
                    .with_hint(format!(
                        "The arguments of {name}() must consist of alternating keys and values."
                    )));
                }
                let mut parts = Vec::new();
                for (i, x) in xs.into_iter().enumerate() {
                    if object && i % 2 == 0 {
                        parts.push(self.text_of(x)?);
                    } else {
                        let x = self.settle(x)?;
                        let xt = x.known().unwrap_or(t);
                        parts.push(format!("pg_json_frag({}, {})", x.sql, xt.oid()));
                    }
                }
                let f = if object {
                    "pg_json_build_object"
                } else {
                    "pg_json_build_array"
                };
                let sql = format!("{f}({})", parts.join(", "));
                if name.starts_with("jsonb") {
                    Ex::new(format!("pg_jsonb({sql})"), PgType::JSONB)
                } else {
                    Ex::new(sql, PgType::JSON)
                }
            }
            "json_typeof" | "jsonb_typeof" => {
                let jt = Self::json_or_jsonb(name);
                self.call(name, xs, "pg_json_typeof", &[jt], t)?
            }
            "json_array_length" | "jsonb_array_length" => {
                let jt = Self::json_or_jsonb(name);
                self.call(name, xs, "pg_json_array_length", &[jt], i4)?
            }
            "json_extract_path"
            | "jsonb_extract_path"
            | "json_extract_path_text"
            | "jsonb_extract_path_text" => {
                if xs.is_empty() {
                    return Err(no_such_function(name, &[]));
                }
                let jt = Self::json_or_jsonb(name);
                let j = self.coerce(xs.remove(0), jt, -1)?;
                let mut keys = Vec::new();
                for k in xs {
                    keys.push(self.coerce(k, t, -1)?);
                }
                let as_text = name.ends_with("_text");
                Ex::new(
                    format!(
                        "pg_json_path({j}, json_array({}), {})",
                        keys.join(", "),
                        as_text as i32
                    ),
                    if as_text { t } else { jt },
                )
            }
            "jsonb_set" | "jsonb_insert" => {
                let jb = PgType::JSONB;
                self.call_opt(
                    name,
                    xs,
                    &format!("pg_{name}"),
                    &[jb, PgType::array_of(Scalar::Text), jb, PgType::BOOL],
                    &[if name == "jsonb_set" { "1" } else { "0" }],
                    jb,
                )?
            }
            "jsonb_strip_nulls" => self.call(
                name,
                xs,
                "pg_jsonb_strip_nulls",
                &[PgType::JSONB],
                PgType::JSONB,
            )?,
            "json_strip_nulls" => self.call(
                name,
                xs,
                "pg_json_strip_nulls",
                &[PgType::JSON],
                PgType::JSON,
            )?,
            // -- session --
            "pg_backend_pid" => {
                self.check_arity(name, &xs, 0, 0)?;
                Ex::new(self.env.pid.to_string(), i4)
            }
            "txid_current" | "pg_current_xact_id" => {
                self.check_arity(name, &xs, 0, 0)?;
                // The transaction's id, assigned by its session when it first asks and carried
                // in each statement's replicated inputs: stable within the transaction, unique,
                // increasing, and the same when the statement runs again anywhere. Asking makes
                // the transaction a writer, as in PostgreSQL.
                self.writes = true;
                Ex::new("pg_txid_current()", PgType::INT8)
            }
            _ => {
                *args = xs;
                return Ok(None);
            }
        };
        Ok(Some(x))
    }
}
