//! INSERT, UPDATE and DELETE: target columns, assignment coercion to column types (with type
//! modifiers), DEFAULT, ON CONFLICT, RETURNING, UPDATE … FROM and DELETE … USING.

use sqlparser::ast::{
    Assignment, AssignmentTarget, ConflictTarget, Delete, Expr, FromTable, Insert,
    OnConflictAction, OnInsert, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableFactor, TableObject, Update, UpdateTableFromKind,
};

use super::query::{col_ex, collation_for};
use super::scope::{Col, Rel, Scope, ident};
use super::{Ex, OutCol, Tag, Tr, object_name, quote, user_relation_name};
use crate::error::{PgError, PgResult, code};
use crate::sql::catalog::{Column, ConstraintKind, Identity, RelKind, Table};
use crate::sql::types::PgType;

fn table_rel(t: &Table, alias: &str, qualify: bool) -> Rel {
    Rel {
        name: Some(alias.to_string()),
        cols: t
            .columns
            .iter()
            .map(|c| Col {
                name: c.name.clone(),
                sql: if qualify {
                    format!("{}.{}", quote(alias), quote(&c.name))
                } else {
                    quote(&c.name)
                },
                ty: c.ty,
                typmod: c.typmod,
                table_oid: t.oid,
                attnum: c.attnum,
                collate: collation_for(c.ty),
                hidden: false,
            })
            .collect(),
        table: Some(t.name.clone()),
    }
}

fn is_default(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

impl Tr<'_> {
    pub fn dml(&mut self, stmt: &Statement) -> PgResult<(String, Vec<OutCol>, Tag)> {
        match stmt {
            Statement::Insert(i) => self.insert(i),
            Statement::Update(u) => self.update(u),
            Statement::Delete(d) => self.delete(d),
            other => Err(super::unsupported_statement(other)),
        }
    }

    fn target_table(&self, name: &sqlparser::ast::ObjectName) -> PgResult<Table> {
        let n = user_relation_name(name)?;
        match self.cat.table(&n) {
            Some(t) if t.kind == RelKind::View => {
                Err(PgError::unsupported(format!("writing to view \"{n}\"")))
            }
            Some(t) => Ok(t.clone()),
            None => Err(PgError::new(
                code::UNDEFINED_TABLE,
                format!("relation \"{n}\" does not exist"),
            )),
        }
    }

    /// The value for a column as SQLite must store it; wraps rowid primary keys so a NULL is a
    /// not-null violation (SQLite would otherwise pick a rowid).
    fn store_value(&mut self, x: Ex, c: &Column, t: &Table) -> PgResult<String> {
        let s = self.coerce(x, c.ty, c.typmod)?;
        if t.rowid_column().is_some_and(|r| r.name == c.name)
            && !s.chars().all(|ch| ch.is_ascii_digit() || ch == '-')
        {
            return Ok(format!(
                "pg_notnull({s}, {}, {})",
                super::sql_str(&c.name),
                super::sql_str(&t.name)
            ));
        }
        Ok(s)
    }

    fn default_sql(c: &Column) -> String {
        match &c.default {
            Some(d) => format!("({})", d.sqlite),
            None => "NULL".into(),
        }
    }

    fn returning(
        &mut self,
        items: &Option<Vec<SelectItem>>,
        sc: &Scope,
    ) -> PgResult<(String, Vec<OutCol>)> {
        let Some(items) = items else {
            return Ok((String::new(), Vec::new()));
        };
        let mut parts = Vec::new();
        let mut cols = Vec::new();
        let push = |tr: &mut Self,
                    name: String,
                    x: Ex,
                    parts: &mut Vec<String>,
                    cols: &mut Vec<OutCol>|
         -> PgResult<()> {
            let x = tr.settle(x)?;
            let (table_oid, attnum) = x.origin.unwrap_or((0, 0));
            parts.push(format!("{} AS {}", x.sql, quote(&name)));
            cols.push(OutCol {
                name,
                ty: x.known().unwrap_or(PgType::TEXT),
                typmod: x.typmod,
                table_oid,
                attnum,
                collate: x.collate,
            });
            Ok(())
        };
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let x = self.expr(e, sc)?;
                    let name = x.name.clone().unwrap_or_else(|| "?column?".into());
                    push(self, name, x, &mut parts, &mut cols)?;
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let x = self.expr(expr, sc)?;
                    push(self, ident(alias), x, &mut parts, &mut cols)?;
                }
                SelectItem::Wildcard(_) => {
                    for c in sc.star(None)? {
                        push(self, c.name.clone(), col_ex(&c), &mut parts, &mut cols)?;
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let q = object_name(n)?.1;
                    for c in sc.star(Some(&q))? {
                        push(self, c.name.clone(), col_ex(&c), &mut parts, &mut cols)?;
                    }
                }
                other => return Err(PgError::unsupported(format!("RETURNING {other}"))),
            }
        }
        Ok((format!(" RETURNING {}", parts.join(", ")), cols))
    }

    fn insert(&mut self, i: &Insert) -> PgResult<(String, Vec<OutCol>, Tag)> {
        if i.or.is_some()
            || i.ignore
            || i.overwrite
            || i.partitioned.is_some()
            || !i.after_columns.is_empty()
            || i.replace_into
            || i.priority.is_some()
            || i.insert_alias.is_some()
            || !i.assignments.is_empty()
            || i.settings.is_some()
            || i.format_clause.is_some()
        {
            return Err(PgError::unsupported("this form of INSERT"));
        }
        let TableObject::TableName(name) = &i.table else {
            return Err(PgError::unsupported("INSERT into a table function"));
        };
        let t = self.target_table(name)?;
        let alias = i.table_alias.as_ref().map(|a| ident(&a.alias));
        // Target columns.
        let targets: Vec<Column> = if i.columns.is_empty() {
            t.columns.clone()
        } else {
            let mut v = Vec::new();
            for c in &i.columns {
                let n = object_name(c)?.1;
                let col = t.column(&n).cloned().ok_or_else(|| {
                    PgError::new(
                        code::UNDEFINED_COLUMN,
                        format!("column \"{n}\" of relation \"{}\" does not exist", t.name),
                    )
                })?;
                if v.iter().any(|x: &Column| x.name == col.name) {
                    return Err(PgError::syntax(format!(
                        "column \"{n}\" specified more than once"
                    )));
                }
                v.push(col);
            }
            v
        };
        let root = Scope::default();
        let mut cols_sql: Vec<String> = targets.iter().map(|c| quote(&c.name)).collect();
        // A rowid primary key that gets no value and has no default must fail like NOT NULL.
        let mut extra_values: Vec<String> = Vec::new();
        if let Some(r) = t.rowid_column()
            && !targets.iter().any(|c| c.name == r.name)
            && r.default.is_none()
        {
            cols_sql.push(quote(&r.name));
            extra_values.push(format!(
                "pg_notnull(NULL, {}, {})",
                super::sql_str(&r.name),
                super::sql_str(&t.name)
            ));
        }
        // Defaults that call nextval() are written out, so the session sees the call and keeps
        // currval()/lastval() (SQLite would apply its own DEFAULT silently).
        for c in &t.columns {
            if !targets.iter().any(|x| x.name == c.name)
                && c.default
                    .as_ref()
                    .is_some_and(|d| d.sqlite.contains("pg_nextval"))
                && !cols_sql.contains(&quote(&c.name))
            {
                cols_sql.push(quote(&c.name));
                extra_values.push(Self::default_sql(c));
            }
        }
        let source_sql = match &i.source {
            None => {
                if !extra_values.is_empty() {
                    format!("VALUES ({})", extra_values.join(", "))
                } else {
                    cols_sql.clear();
                    "DEFAULT VALUES".into()
                }
            }
            Some(q) => match q.body.as_ref() {
                SetExpr::Values(v)
                    if q.order_by.is_none() && q.limit_clause.is_none() && q.with.is_none() =>
                {
                    let mut rows = Vec::new();
                    for row in &v.rows {
                        if row.len() > targets.len() {
                            return Err(PgError::syntax(
                                "INSERT has more expressions than target columns",
                            ));
                        }
                        if row.len() < targets.len() && !i.columns.is_empty() {
                            return Err(PgError::syntax(
                                "INSERT has more target columns than expressions",
                            ));
                        }
                        let mut vals = Vec::new();
                        for (k, c) in targets.iter().enumerate() {
                            match row.get(k) {
                                Some(e) if is_default(e) => vals.push(Self::default_sql(c)),
                                Some(e) => {
                                    if c.identity == Some(Identity::Always) {
                                        return Err(PgError::new(code::GENERATED_ALWAYS, format!("cannot insert a non-DEFAULT value into column \"{}\"", c.name))
                                            .with_detail(format!("Column \"{}\" is an identity column defined as GENERATED ALWAYS.", c.name))
                                            .with_hint("Use OVERRIDING SYSTEM VALUE to override."));
                                    }
                                    let x = self.expr(e, &root)?;
                                    vals.push(self.store_value(x, c, &t)?);
                                }
                                None => vals.push(Self::default_sql(c)),
                            }
                        }
                        vals.extend(extra_values.iter().cloned());
                        rows.push(format!("({})", vals.join(", ")));
                    }
                    format!("VALUES {}", rows.join(", "))
                }
                _ => {
                    let out = self.query(q, &root)?;
                    if out.cols.len() > targets.len() {
                        return Err(PgError::syntax(
                            "INSERT has more expressions than target columns",
                        ));
                    }
                    if out.cols.len() < targets.len() && !i.columns.is_empty() {
                        return Err(PgError::syntax(
                            "INSERT has more target columns than expressions",
                        ));
                    }
                    let a = self.alias("ins");
                    let (out_sql, names) = self.uniquely_named(&out);
                    let out = super::query::QueryOut {
                        sql: out_sql,
                        cols: out.cols,
                        untyped: out.untyped,
                    };
                    let mut vals = Vec::new();
                    for (k, c) in targets.iter().enumerate() {
                        match out.cols.get(k) {
                            Some(oc) => {
                                let mut x =
                                    Ex::new(format!("{}.{}", quote(&a), quote(&names[k])), oc.ty);
                                x.typmod = oc.typmod;
                                vals.push(self.store_value(x, c, &t)?);
                            }
                            None => vals.push(Self::default_sql(c)),
                        }
                    }
                    vals.extend(extra_values.iter().cloned());
                    // `WHERE true` keeps SQLite from reading ON CONFLICT as a join clause.
                    format!(
                        "SELECT {} FROM ({}) AS {} WHERE true",
                        vals.join(", "),
                        out.sql,
                        quote(&a)
                    )
                }
            },
        };
        let target_alias = alias.clone().unwrap_or_else(|| t.name.clone());
        let mut sc = Scope::default();
        sc.rels.push(table_rel(&t, &target_alias, false));
        let conflict = match &i.on {
            None => String::new(),
            Some(OnInsert::DuplicateKeyUpdate(_)) => {
                return Err(PgError::unsupported("ON DUPLICATE KEY UPDATE"));
            }
            Some(OnInsert::OnConflict(oc)) => {
                let target = match &oc.conflict_target {
                    None => String::new(),
                    Some(ConflictTarget::Columns(cs)) => {
                        let names: Vec<String> = cs.iter().map(ident).collect();
                        for n in &names {
                            if t.column(n).is_none() {
                                return Err(PgError::new(
                                    code::UNDEFINED_COLUMN,
                                    format!("column \"{n}\" does not exist"),
                                ));
                            }
                        }
                        if !self.has_unique_on(&t, &names) {
                            return Err(PgError::new(
                                code::INVALID_COLUMN_REFERENCE,
                                "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                            ));
                        }
                        format!(
                            "({})",
                            names
                                .iter()
                                .map(|n| quote(n))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                    Some(ConflictTarget::OnConstraint(n)) => {
                        let cname = object_name(n)?.1;
                        let con = t.constraints.iter().find(|c| {
                            c.name == cname
                                && matches!(
                                    c.kind,
                                    ConstraintKind::PrimaryKey | ConstraintKind::Unique
                                )
                        });
                        match con {
                            Some(c) => format!(
                                "({})",
                                c.columns
                                    .iter()
                                    .map(|n| quote(n))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            None => {
                                return Err(PgError::new(
                                    code::UNDEFINED_OBJECT,
                                    format!(
                                        "constraint \"{cname}\" for table \"{}\" does not exist",
                                        t.name
                                    ),
                                ));
                            }
                        }
                    }
                };
                match &oc.action {
                    OnConflictAction::DoNothing => format!(
                        " ON CONFLICT{} DO NOTHING",
                        if target.is_empty() {
                            String::new()
                        } else {
                            format!(" {target}")
                        }
                    ),
                    OnConflictAction::DoUpdate(du) => {
                        if target.is_empty() {
                            return Err(PgError::syntax("ON CONFLICT DO UPDATE requires inference specification or constraint name")
                                .with_hint("For example, ON CONFLICT (column_name)."));
                        }
                        let mut usc = Scope::default();
                        usc.rels.push(table_rel(&t, &target_alias, false));
                        let mut ex = table_rel(&t, "excluded", false);
                        for c in ex.cols.iter_mut() {
                            c.sql = format!("excluded.{}", quote(&c.name));
                        }
                        usc.rels.push(ex);
                        let sets = self.assignments(&du.assignments, &t, &usc)?;
                        let w = match &du.selection {
                            Some(e) => {
                                let x = self.expr(e, &usc)?;
                                format!(" WHERE {}", self.coerce(x, PgType::BOOL, -1)?)
                            }
                            None => String::new(),
                        };
                        format!(" ON CONFLICT {target} DO UPDATE SET {sets}{w}")
                    }
                }
            }
            Some(_) => return Err(PgError::unsupported("this ON clause of INSERT")),
        };
        let (ret, cols) = self.returning(&i.returning, &sc)?;
        let col_list = if cols_sql.is_empty() {
            String::new()
        } else {
            format!(" ({})", cols_sql.join(", "))
        };
        let alias_sql = match &alias {
            Some(a) => format!(" AS {}", quote(a)),
            None => String::new(),
        };
        Ok((
            format!(
                "INSERT INTO {}{alias_sql}{col_list} {source_sql}{conflict}{ret}",
                quote(&t.name)
            ),
            cols,
            Tag::Insert,
        ))
    }

    /// Is there a primary key, unique constraint or unique index on exactly these columns?
    fn has_unique_on(&self, t: &Table, names: &[String]) -> bool {
        let same =
            |cols: &[String]| cols.len() == names.len() && cols.iter().all(|c| names.contains(c));
        t.constraints.iter().any(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                && same(&c.columns)
        }) || self.cat.indexes_of(&t.name).any(|i| {
            i.unique
                && i.predicate.is_none()
                && i.key_columns
                    .iter()
                    .cloned()
                    .collect::<Option<Vec<String>>>()
                    .is_some_and(|cols| same(&cols))
        })
    }

    fn assignments(&mut self, list: &[Assignment], t: &Table, sc: &Scope) -> PgResult<String> {
        let mut sets = Vec::new();
        for a in list {
            let pairs: Vec<(String, &Expr)> = match &a.target {
                AssignmentTarget::ColumnName(n) => vec![(object_name(n)?.1, &a.value)],
                AssignmentTarget::Tuple(names) => {
                    let Expr::Tuple(vals) = &a.value else {
                        return Err(PgError::unsupported(
                            "multiple-column UPDATE from a subquery",
                        ));
                    };
                    if vals.len() != names.len() {
                        return Err(PgError::syntax(
                            "number of columns does not match number of values",
                        ));
                    }
                    names
                        .iter()
                        .zip(vals.iter())
                        .map(|(n, v)| Ok((object_name(n)?.1, v)))
                        .collect::<PgResult<_>>()?
                }
            };
            for (name, value) in pairs {
                let c = t.column(&name).cloned().ok_or_else(|| {
                    PgError::new(
                        code::UNDEFINED_COLUMN,
                        format!(
                            "column \"{name}\" of relation \"{}\" does not exist",
                            t.name
                        ),
                    )
                })?;
                let v = if is_default(value) {
                    Self::default_sql(&c)
                } else {
                    if c.identity == Some(Identity::Always) {
                        return Err(PgError::new(
                            code::GENERATED_ALWAYS,
                            format!("column \"{}\" can only be updated to DEFAULT", c.name),
                        )
                        .with_detail(format!(
                            "Column \"{}\" is an identity column defined as GENERATED ALWAYS.",
                            c.name
                        )));
                    }
                    let x = self.expr(value, sc)?;
                    self.store_value(x, &c, t)?
                };
                sets.push(format!("{} = {v}", quote(&c.name)));
            }
        }
        Ok(sets.join(", "))
    }

    fn update(&mut self, u: &Update) -> PgResult<(String, Vec<OutCol>, Tag)> {
        if u.or.is_some() || !u.order_by.is_empty() || u.limit.is_some() || u.output.is_some() {
            return Err(PgError::unsupported("this form of UPDATE"));
        }
        if !u.table.joins.is_empty() {
            return Err(PgError::unsupported("UPDATE with a join target"));
        }
        let TableFactor::Table { name, alias, .. } = &u.table.relation else {
            return Err(PgError::unsupported("UPDATE of a non-table"));
        };
        let t = self.target_table(name)?;
        let a = alias
            .as_ref()
            .map(|a| ident(&a.name))
            .unwrap_or_else(|| t.name.clone());
        let mut sc = Scope::default();
        sc.rels.push(table_rel(&t, &a, true));
        let root = Scope::default();
        let from_sql = match &u.from {
            None => String::new(),
            Some(UpdateTableFromKind::AfterSet(list))
            | Some(UpdateTableFromKind::BeforeSet(list)) => {
                let mut parts = Vec::new();
                for twj in list {
                    parts.push(self.from_item_pub(twj, &mut sc, &root)?);
                }
                format!(" FROM {}", parts.join(", "))
            }
        };
        let sets = self.assignments(&u.assignments, &t, &sc)?;
        let where_sql = match &u.selection {
            Some(w) => {
                let x = self.expr(w, &sc)?;
                format!(" WHERE {}", self.coerce(x, PgType::BOOL, -1)?)
            }
            None => String::new(),
        };
        // SQLite resolves RETURNING columns of the target only unqualified (not by alias).
        let mut rels = sc.rels.clone();
        rels[0] = table_rel(&t, &a, false);
        let rsc = Scope { rels, parent: None };
        let (ret, cols) = self.returning(&u.returning, &rsc)?;
        Ok((
            format!(
                "UPDATE {} AS {} SET {sets}{from_sql}{where_sql}{ret}",
                quote(&t.name),
                quote(&a)
            ),
            cols,
            Tag::Update,
        ))
    }

    fn delete(&mut self, d: &Delete) -> PgResult<(String, Vec<OutCol>, Tag)> {
        if !d.tables.is_empty() || !d.order_by.is_empty() || d.limit.is_some() || d.output.is_some()
        {
            return Err(PgError::unsupported("this form of DELETE"));
        }
        let list = match &d.from {
            FromTable::WithFromKeyword(l) | FromTable::WithoutKeyword(l) => l,
        };
        if list.len() != 1 || !list[0].joins.is_empty() {
            return Err(PgError::unsupported("DELETE from several tables"));
        }
        let TableFactor::Table { name, alias, .. } = &list[0].relation else {
            return Err(PgError::unsupported("DELETE from a non-table"));
        };
        let t = self.target_table(name)?;
        let a = alias
            .as_ref()
            .map(|a| ident(&a.name))
            .unwrap_or_else(|| t.name.clone());
        let mut sc = Scope::default();
        sc.rels.push(table_rel(&t, &a, true));
        let root = Scope::default();
        let (ret, cols) = {
            // SQLite resolves RETURNING columns of the target only unqualified (not by alias).
            let mut rsc = Scope::default();
            rsc.rels.push(table_rel(&t, &a, false));
            self.returning(&d.returning, &rsc)?
        };
        let sql = match &d.using {
            None => {
                let where_sql = match &d.selection {
                    Some(w) => {
                        let x = self.expr(w, &sc)?;
                        format!(" WHERE {}", self.coerce(x, PgType::BOOL, -1)?)
                    }
                    None => String::new(),
                };
                format!(
                    "DELETE FROM {} AS {}{where_sql}{ret}",
                    quote(&t.name),
                    quote(&a)
                )
            }
            Some(using) => {
                // DELETE … USING: select the doomed rowids with a join.
                let inner = self.alias("del");
                let mut isc = Scope::default();
                isc.rels.push(table_rel(&t, &inner, true));
                let mut parts = Vec::new();
                for twj in using {
                    parts.push(self.from_item_pub(twj, &mut isc, &root)?);
                }
                // References to the target by its name/alias must hit the inner copy.
                if let Some(r) = isc.rels.first_mut() {
                    r.name = Some(a.clone());
                }
                let where_sql = match &d.selection {
                    Some(w) => {
                        let x = self.expr(w, &isc)?;
                        format!(" WHERE {}", self.coerce(x, PgType::BOOL, -1)?)
                    }
                    None => String::new(),
                };
                format!(
                    "DELETE FROM {} AS {} WHERE rowid IN (SELECT {}.rowid FROM {} AS {}, {}{where_sql}){ret}",
                    quote(&t.name),
                    quote(&a),
                    quote(&inner),
                    quote(&t.name),
                    quote(&inner),
                    parts.join(", ")
                )
            }
        };
        Ok((sql, cols, Tag::Delete))
    }
}
