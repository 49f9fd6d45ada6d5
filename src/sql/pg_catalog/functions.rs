//! Catalog functions as the translator emits them: mostly SQL over the catalog TEMP tables
//! (`pg_get_indexdef`, `obj_description`, `pg_table_is_visible`, …), or calls of the SQLite
//! functions in `sql::functions::catalog` (`pg_format_type`, `pg_to_regclass`, …).

use super::{AUX_TABLE, DATABASE_OWNER_OID, SUPERUSER_OID, pgc, system_relation_oid};
use crate::error::{PgError, PgResult};
use crate::sql::translate::{Ex, Lit, Tr, Ty, sql_str};
use crate::sql::types::{PgType, Scalar};

/// Rows and typed columns of a set-returning function in FROM.
pub type TableFunction = (String, Vec<(String, PgType)>);

fn next(it: &mut std::vec::IntoIter<Ex>) -> PgResult<Ex> {
    it.next()
        .ok_or_else(|| PgError::internal("catalog function arguments"))
}

impl Tr<'_> {
    fn oid_arg(&mut self, x: Ex) -> PgResult<String> {
        self.coerce(x, PgType::OID, -1)
    }

    /// A `regclass` argument: an OID, or a name (literal or text value) resolved to one.
    fn regclass_arg(&mut self, x: Ex) -> PgResult<String> {
        Ok(self.cast(x, PgType::REGCLASS, -1)?.sql)
    }

    fn text_arg(&mut self, x: Ex) -> PgResult<String> {
        match x.ty {
            Ty::Known(t) if !t.array && t.storage() == crate::sql::types::Storage::Text => {
                Ok(x.sql)
            }
            _ => self.coerce(x, PgType::TEXT, -1),
        }
    }

    /// Settle the types of arguments a function ignores (so parameters get described).
    fn ignore_args(&mut self, it: std::vec::IntoIter<Ex>) -> PgResult<()> {
        for x in it {
            self.settle(x)?;
        }
        Ok(())
    }

    /// `(SELECT def FROM aux WHERE …)`: a definition the catalog build stored.
    fn aux_def(&mut self, oid: &str, sub: &str, pretty: Option<&str>) -> String {
        self.reads_catalog = true;
        let kind = match pretty {
            Some(p) => format!("CASE WHEN {p} THEN 1 ELSE 0 END"),
            None => "0".into(),
        };
        format!(
            "(SELECT __pgc_d.def FROM {AUX_TABLE} AS __pgc_d WHERE __pgc_d.oid = {oid} AND __pgc_d.sub = {sub} AND __pgc_d.kind = {kind})"
        )
    }

    /// Catalog functions (`format_type`, `pg_table_is_visible`, …); None if `name` with this
    /// many arguments is not one.
    pub fn catalog_function(&mut self, name: &str, args: Vec<Ex>) -> PgResult<Option<Ex>> {
        let n = args.len();
        let mut it = args.into_iter();
        let user = sql_str(&self.env.user);
        let x = match (name, n) {
            ("format_type", 2) => {
                self.reads_catalog = true;
                let o = self.oid_arg(next(&mut it)?)?;
                let m = self.coerce(next(&mut it)?, PgType::INT4, -1)?;
                Ex::new(
                    format!(
                        "CASE WHEN ({o}) IS NULL THEN NULL ELSE COALESCE(pg_format_type({o}, {m}), \
                         (SELECT __pgc_t.typname FROM {} AS __pgc_t WHERE __pgc_t.oid = {o}), '???') END",
                        pgc("pg_type")
                    ),
                    PgType::TEXT,
                )
            }
            ("pg_table_is_visible", 1) => {
                self.reads_catalog = true;
                let o = self.oid_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "(SELECT __pgc_c.relnamespace IN (11, 2200) FROM {} AS __pgc_c WHERE __pgc_c.oid = {o})",
                        pgc("pg_class")
                    ),
                    PgType::BOOL,
                )
            }
            ("pg_type_is_visible", 1) => {
                self.reads_catalog = true;
                let o = self.oid_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "(SELECT __pgc_t.typnamespace IN (11, 2200) FROM {} AS __pgc_t WHERE __pgc_t.oid = {o})",
                        pgc("pg_type")
                    ),
                    PgType::BOOL,
                )
            }
            (
                "pg_function_is_visible"
                | "pg_operator_is_visible"
                | "pg_opclass_is_visible"
                | "pg_opfamily_is_visible"
                | "pg_collation_is_visible"
                | "pg_conversion_is_visible"
                | "pg_ts_config_is_visible"
                | "pg_statistics_obj_is_visible",
                1,
            ) => {
                let o = self.oid_arg(next(&mut it)?)?;
                Ex::new(
                    format!("CASE WHEN ({o}) IS NULL THEN NULL ELSE 1 END"),
                    PgType::BOOL,
                )
            }
            ("pg_get_expr", 2 | 3) => {
                // The stored expression (adbin, conbin, indpred) is already its text.
                let e = self.text_arg(next(&mut it)?)?;
                let r = next(&mut it)?;
                self.oid_arg(r)?;
                if let Some(p) = it.next() {
                    self.coerce(p, PgType::BOOL, -1)?;
                }
                Ex::new(e, PgType::TEXT)
            }
            ("pg_get_indexdef", 1) => {
                let o = self.oid_arg(next(&mut it)?)?;
                Ex::new(self.aux_def(&o, "0", None), PgType::TEXT)
            }
            ("pg_get_indexdef", 3) => {
                let o = self.oid_arg(next(&mut it)?)?;
                let k = self.coerce(next(&mut it)?, PgType::INT4, -1)?;
                let p = self.coerce(next(&mut it)?, PgType::BOOL, -1)?;
                Ex::new(self.aux_def(&o, &k, Some(&p)), PgType::TEXT)
            }
            ("pg_get_constraintdef", 1 | 2) => {
                let o = self.oid_arg(next(&mut it)?)?;
                let p = match it.next() {
                    Some(p) => Some(self.coerce(p, PgType::BOOL, -1)?),
                    None => None,
                };
                Ex::new(self.aux_def(&o, "0", p.as_deref()), PgType::TEXT)
            }
            ("pg_get_viewdef", 1 | 2) => {
                let v = next(&mut it)?;
                let o = match v.ty {
                    Ty::Known(t) if !t.scalar.is_string() => self.oid_arg(v)?,
                    _ => self.regclass_arg(v)?,
                };
                let p = match it.next() {
                    Some(p) => match p.ty {
                        Ty::Known(t) if t.scalar.is_integer() => {
                            self.settle(p)?;
                            Some("1".to_string())
                        }
                        _ => Some(self.coerce(p, PgType::BOOL, -1)?),
                    },
                    None => None,
                };
                Ex::new(self.aux_def(&o, "0", p.as_deref()), PgType::TEXT)
            }
            ("pg_get_serial_sequence", 2) => {
                self.reads_catalog = true;
                let t = self.text_arg(next(&mut it)?)?;
                let c = self.text_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "(SELECT __pgc_d.def FROM {AUX_TABLE} AS __pgc_d WHERE __pgc_d.kind = 2 AND __pgc_d.oid = pg_to_regclass({t}) \
                         AND __pgc_d.sub = (SELECT __pgc_a.attnum FROM {} AS __pgc_a WHERE __pgc_a.attrelid = __pgc_d.oid AND __pgc_a.attname = {c}))",
                        pgc("pg_attribute")
                    ),
                    PgType::TEXT,
                )
            }
            ("pg_get_userbyid", 1) => {
                let o = self.oid_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "CASE {o} WHEN {SUPERUSER_OID} THEN {user} WHEN {DATABASE_OWNER_OID} THEN 'pg_database_owner' \
                         ELSE 'unknown (OID=' || ({o}) || ')' END"
                    ),
                    PgType::NAME,
                )
            }
            ("obj_description", 1 | 2) => {
                self.reads_catalog = true;
                let o = self.oid_arg(next(&mut it)?)?;
                let class = match it.next() {
                    Some(c) => {
                        let lit = match &c.lit {
                            Some(Lit::Str(s)) => system_relation_oid(s.trim()),
                            _ => None,
                        };
                        let cond = match lit {
                            Some(oid) => oid.to_string(),
                            None => {
                                let s = self.text_arg(c)?;
                                format!(
                                    "(SELECT __pgc_c.oid FROM {} AS __pgc_c WHERE __pgc_c.relname = {s} AND __pgc_c.relnamespace = 11)",
                                    pgc("pg_class")
                                )
                            }
                        };
                        format!(" AND __pgc_d.classoid = {cond}")
                    }
                    None => String::new(),
                };
                Ex::new(
                    format!(
                        "(SELECT __pgc_d.description FROM {} AS __pgc_d WHERE __pgc_d.objoid = {o}{class} AND __pgc_d.objsubid = 0 LIMIT 1)",
                        pgc("pg_description")
                    ),
                    PgType::TEXT,
                )
            }
            ("col_description", 2) => {
                self.reads_catalog = true;
                let o = self.oid_arg(next(&mut it)?)?;
                let a = self.coerce(next(&mut it)?, PgType::INT4, -1)?;
                Ex::new(
                    format!(
                        "(SELECT __pgc_d.description FROM {} AS __pgc_d WHERE __pgc_d.objoid = {o} AND __pgc_d.classoid = 1259 AND __pgc_d.objsubid = {a})",
                        pgc("pg_description")
                    ),
                    PgType::TEXT,
                )
            }
            ("shobj_description", 2) => {
                self.reads_catalog = true;
                let o = self.oid_arg(next(&mut it)?)?;
                self.text_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "(SELECT __pgc_d.description FROM {} AS __pgc_d WHERE __pgc_d.objoid = {o} LIMIT 1)",
                        pgc("pg_shdescription")
                    ),
                    PgType::TEXT,
                )
            }
            ("to_regclass", 1) => {
                let t = self.text_arg(next(&mut it)?)?;
                Ex::new(format!("pg_to_regclass({t})"), PgType::REGCLASS)
            }
            ("to_regtype", 1) => {
                let t = self.text_arg(next(&mut it)?)?;
                Ex::new(format!("pg_to_regtype({t})"), PgType::REGTYPE)
            }
            ("to_regproc" | "to_regprocedure", 1) => {
                let t = self.text_arg(next(&mut it)?)?;
                Ex::new(
                    format!("pg_to_regproc({t})"),
                    PgType::scalar(Scalar::Regproc),
                )
            }
            ("to_regnamespace", 1) => {
                self.reads_catalog = true;
                let t = self.text_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "(SELECT __pgc_n.oid FROM {} AS __pgc_n WHERE __pgc_n.nspname = {t})",
                        pgc("pg_namespace")
                    ),
                    PgType::OID,
                )
            }
            ("to_regrole", 1) => {
                let t = self.text_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "CASE {t} WHEN {user} THEN {SUPERUSER_OID} WHEN 'pg_database_owner' THEN {DATABASE_OWNER_OID} END"
                    ),
                    PgType::OID,
                )
            }
            ("pg_encoding_to_char", 1) => {
                let e = self.coerce(next(&mut it)?, PgType::INT4, -1)?;
                Ex::new(
                    format!("CASE {e} WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END"),
                    PgType::NAME,
                )
            }
            ("pg_char_to_encoding", 1) => {
                let e = self.text_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "CASE upper({e}) WHEN 'UTF8' THEN 6 WHEN 'UTF-8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END"
                    ),
                    PgType::INT4,
                )
            }
            (
                "has_table_privilege"
                | "has_schema_privilege"
                | "has_database_privilege"
                | "has_column_privilege"
                | "has_sequence_privilege"
                | "has_function_privilege"
                | "has_any_column_privilege"
                | "has_tablespace_privilege"
                | "has_type_privilege"
                | "has_language_privilege"
                | "pg_has_role",
                2..=4,
            ) => {
                // Every session is the superuser: every privilege is held.
                self.ignore_args(it)?;
                Ex::new("1", PgType::BOOL)
            }
            ("pg_relation_size" | "pg_table_size", 1 | 2) => {
                self.reads_catalog = true;
                let o = self.regclass_arg(next(&mut it)?)?;
                self.ignore_args(it)?;
                Ex::new(
                    format!(
                        "(SELECT COALESCE(SUM(__pgc_s.pgsize), 0) FROM dbstat AS __pgc_s WHERE __pgc_s.name = \
                         (SELECT __pgc_c.relname FROM {} AS __pgc_c WHERE __pgc_c.oid = {o} AND __pgc_c.oid >= 16384))",
                        pgc("pg_class")
                    ),
                    PgType::INT8,
                )
            }
            ("pg_total_relation_size" | "pg_indexes_size", 1) => {
                self.reads_catalog = true;
                let o = self.regclass_arg(next(&mut it)?)?;
                let own = if name == "pg_total_relation_size" {
                    format!(
                        "SELECT __pgc_c.relname FROM {} AS __pgc_c WHERE __pgc_c.oid = {o} AND __pgc_c.oid >= 16384 UNION ALL ",
                        pgc("pg_class")
                    )
                } else {
                    String::new()
                };
                Ex::new(
                    format!(
                        "(SELECT COALESCE(SUM(__pgc_s.pgsize), 0) FROM dbstat AS __pgc_s WHERE __pgc_s.name IN \
                         ({own}SELECT __pgc_c2.relname FROM {} AS __pgc_i JOIN {} AS __pgc_c2 ON __pgc_c2.oid = __pgc_i.indexrelid WHERE __pgc_i.indrelid = {o}))",
                        pgc("pg_index"),
                        pgc("pg_class")
                    ),
                    PgType::INT8,
                )
            }
            ("pg_database_size", 1) => {
                self.ignore_args(it)?;
                Ex::new(
                    "(SELECT __pgc_p.page_count * __pgc_s.page_size FROM pragma_page_count() AS __pgc_p, pragma_page_size() AS __pgc_s)",
                    PgType::INT8,
                )
            }
            ("pg_size_pretty", 1) => {
                let v = next(&mut it)?;
                let v = match v.ty {
                    Ty::Known(t) if t.scalar == Scalar::Numeric => {
                        self.coerce(v, PgType::NUMERIC, -1)?
                    }
                    _ => self.coerce(v, PgType::INT8, -1)?,
                };
                Ex::new(format!("pg_size_pretty({v})"), PgType::TEXT)
            }
            ("pg_sequence_last_value", 1) => {
                let o = self.regclass_arg(next(&mut it)?)?;
                Ex::new(
                    format!(
                        "(SELECT CASE WHEN __pgc_s.is_called THEN __pgc_s.last_value END FROM main.\"__bedrock_sequence_state\" AS __pgc_s WHERE __pgc_s.oid = {o})"
                    ),
                    PgType::INT8,
                )
            }
            ("pg_relation_is_publishable", 1) => {
                self.regclass_arg(next(&mut it)?)?;
                Ex::new("0", PgType::BOOL)
            }
            ("pg_partition_ancestors" | "pg_partition_root", 1) => {
                // No partitioned tables exist: no ancestors, no root.
                self.regclass_arg(next(&mut it)?)?;
                Ex::new("NULL", PgType::REGCLASS)
            }
            (
                "pg_get_partkeydef"
                | "pg_get_statisticsobjdef"
                | "pg_get_statisticsobjdef_columns"
                | "pg_get_statisticsobjdef_expressions"
                | "pg_get_triggerdef"
                | "pg_get_ruledef"
                | "pg_get_functiondef"
                | "pg_get_function_arguments"
                | "pg_get_function_identity_arguments"
                | "pg_get_function_result"
                | "pg_get_function_sqlbody"
                | "pg_get_partition_constraintdef",
                1 | 2,
            ) => {
                // None of these objects exist (no triggers, rules, partitions, functions).
                let o = self.oid_arg(next(&mut it)?)?;
                self.ignore_args(it)?;
                Ex::new(
                    format!("CASE WHEN ({o}) IS NULL THEN NULL ELSE NULL END"),
                    PgType::TEXT,
                )
            }
            ("pg_tablespace_location", 1) => {
                self.oid_arg(next(&mut it)?)?;
                Ex::new("''", PgType::TEXT)
            }
            ("pg_is_in_recovery", 0) => Ex::new("0", PgType::BOOL),
            ("pg_my_temp_schema", 0) => Ex::new("0", PgType::OID),
            ("pg_is_other_temp_schema", 1) => {
                self.oid_arg(next(&mut it)?)?;
                Ex::new("0", PgType::BOOL)
            }
            _ => return Ok(None),
        };
        Ok(Some(x))
    }

    /// Catalog set-returning functions in FROM (`pg_partition_ancestors`,
    /// `information_schema._pg_expandarray`, `generate_subscripts`); None if not one.
    pub fn catalog_table_function(
        &mut self,
        name: &str,
        args: Vec<Ex>,
        names: &[String],
        default_col: &str,
        ordinality: bool,
    ) -> PgResult<Option<TableFunction>> {
        let n = args.len();
        let mut it = args.into_iter();
        let col = |i: usize, d: &str| names.get(i).cloned().unwrap_or_else(|| d.to_string());
        let q = crate::sql::translate::quote;
        let (body, mut cols) = match (name, n) {
            ("pg_partition_ancestors", 1) => {
                self.regclass_arg(next(&mut it)?)?;
                let c = col(0, default_col);
                (
                    format!("SELECT NULL AS {} WHERE 0", q(&c)),
                    vec![(c, PgType::REGCLASS)],
                )
            }
            ("pg_partition_tree", 1) => {
                self.regclass_arg(next(&mut it)?)?;
                let cs = [
                    (col(0, "relid"), PgType::REGCLASS),
                    (col(1, "parentrelid"), PgType::REGCLASS),
                    (col(2, "isleaf"), PgType::BOOL),
                    (col(3, "level"), PgType::INT4),
                ];
                let list: Vec<String> = cs
                    .iter()
                    .map(|(c, _)| format!("NULL AS {}", q(c)))
                    .collect();
                (format!("SELECT {} WHERE 0", list.join(", ")), cs.to_vec())
            }
            ("_pg_expandarray", 1) => {
                let (a, elem, _) = self.array_like(next(&mut it)?)?;
                let (x, nn) = (col(0, "x"), col(1, "n"));
                (
                    format!(
                        "SELECT value AS {}, key + 1 AS {} FROM json_each({a}) ORDER BY key",
                        q(&x),
                        q(&nn)
                    ),
                    vec![(x, elem), (nn, PgType::INT4)],
                )
            }
            ("generate_subscripts", 2 | 3) => {
                let (a, _, base) = self.array_like(next(&mut it)?)?;
                let dim = self.coerce(next(&mut it)?, PgType::INT4, -1)?;
                let desc = match it.next() {
                    Some(r) => self.coerce(r, PgType::BOOL, -1)?,
                    None => "0".into(),
                };
                let c = col(0, default_col);
                (
                    format!(
                        "SELECT key + {base} AS {} FROM json_each({a}) WHERE {dim} = 1 \
                         ORDER BY CASE WHEN {desc} THEN -key ELSE key END",
                        q(&c)
                    ),
                    vec![(c, PgType::INT4)],
                )
            }
            ("pg_options_to_table", 1) => {
                let (a, _, _) = self.array_like(next(&mut it)?)?;
                let (k, v) = (col(0, "option_name"), col(1, "option_value"));
                (
                    format!(
                        "SELECT substr(value, 1, instr(value, '=') - 1) AS {}, substr(value, instr(value, '=') + 1) AS {} FROM json_each({a})",
                        q(&k),
                        q(&v)
                    ),
                    vec![(k, PgType::TEXT), (v, PgType::TEXT)],
                )
            }
            _ => return Ok(None),
        };
        if ordinality {
            let o = col(cols.len(), "ordinality");
            cols.push((o.clone(), PgType::INT8));
            return Ok(Some((
                format!("SELECT *, row_number() OVER () AS {} FROM ({body})", q(&o)),
                cols,
            )));
        }
        Ok(Some((body, cols)))
    }

    /// An array or int2vector/oidvector argument: its SQL, element type, and first subscript.
    fn array_like(&mut self, x: Ex) -> PgResult<(String, PgType, i64)> {
        match x.ty {
            Ty::Known(t) if !t.array && t.scalar == Scalar::Int2Vector => {
                Ok((x.sql, PgType::INT2, 0))
            }
            Ty::Known(t) if !t.array && t.scalar == Scalar::OidVector => {
                Ok((x.sql, PgType::OID, 0))
            }
            Ty::Known(t) if t.array => Ok((x.sql, t.element(), 1)),
            _ => {
                let s = self.coerce(x, PgType::array_of(Scalar::Text), -1)?;
                Ok((s, PgType::TEXT, 1))
            }
        }
    }
}
