//! The shadow catalog: every relation, column, constraint, index and sequence with its
//! PostgreSQL definition, type, typmod and a stable OID allocated at DDL time. It lives in the
//! database itself (`__bedrock_catalog`, one JSON document per object) so it replicates with the
//! data; `Catalog` is the in-memory snapshot the translator reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::types::PgType;
use crate::error::{PgError, PgResult, code};

/// First OID handed out to user objects (PostgreSQL's FirstNormalObjectId).
pub const FIRST_USER_OID: u32 = 16384;

/// OID of the `public` namespace, as in PostgreSQL.
pub const PUBLIC_NAMESPACE_OID: u32 = 2200;

/// SQL creating the internal tables. Internal names start with `__bedrock_`; clients can neither
/// see nor write them.
pub const INTERNAL_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS __bedrock_catalog(
    oid INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    def TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS __bedrock_sequence_state(
    oid INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    last_value INTEGER NOT NULL,
    is_called INTEGER NOT NULL,
    increment INTEGER NOT NULL,
    min_value INTEGER NOT NULL,
    max_value INTEGER NOT NULL,
    cycle INTEGER NOT NULL) STRICT;
";

/// An expression kept in both dialects: as the user wrote it (for `pg_get_expr`, `\d`) and as
/// SQLite runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredExpr {
    pub pg: String,
    pub sqlite: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Identity {
    Always,
    ByDefault,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub attnum: i16,
    pub name: String,
    #[serde(with = "pgtype_serde")]
    pub ty: PgType,
    pub typmod: i32,
    pub not_null: bool,
    pub default: Option<StoredExpr>,
    pub identity: Option<Identity>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }

    /// pg_constraint.confupdtype / confdeltype letter.
    pub fn letter(self) -> char {
        match self {
            FkAction::NoAction => 'a',
            FkAction::Restrict => 'r',
            FkAction::Cascade => 'c',
            FkAction::SetNull => 'n',
            FkAction::SetDefault => 'd',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check(StoredExpr),
    ForeignKey {
        ref_table: String,
        ref_columns: Vec<String>,
        on_delete: FkAction,
        on_update: FkAction,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    pub oid: u32,
    pub name: String,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
}

impl Constraint {
    /// pg_constraint.contype.
    pub fn contype(&self) -> char {
        match self.kind {
            ConstraintKind::PrimaryKey => 'p',
            ConstraintKind::Unique => 'u',
            ConstraintKind::Check(_) => 'c',
            ConstraintKind::ForeignKey { .. } => 'f',
        }
    }

    /// Whether this constraint is backed by an index of the same name.
    pub fn has_index(&self) -> bool {
        matches!(
            self.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelKind {
    Table,
    View,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub oid: u32,
    pub name: String,
    pub kind: RelKind,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    /// OID of the implicit composite row type (pg_class.reltype).
    pub row_type_oid: u32,
    /// For views: the PostgreSQL text of the defining query.
    pub view_def: Option<String>,
    /// Next attnum to hand out (attnums are never reused, as in PostgreSQL).
    pub next_attnum: i16,
    #[serde(default)]
    pub comment: Option<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    pub fn primary_key(&self) -> Option<&Constraint> {
        self.constraints
            .iter()
            .find(|c| c.kind == ConstraintKind::PrimaryKey)
    }

    /// The single integer primary-key column that SQLite keeps as the rowid, if any.
    pub fn rowid_column(&self) -> Option<&Column> {
        let pk = self.primary_key()?;
        if pk.columns.len() != 1 {
            return None;
        }
        self.column(&pk.columns[0])
            .filter(|c| !c.ty.array && c.ty.scalar.is_integer())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub oid: u32,
    pub name: String,
    pub table: String,
    pub unique: bool,
    /// Key expressions as SQLite runs them.
    pub keys_sqlite: Vec<String>,
    /// Key columns by name when the key is a plain column (None for expressions).
    pub key_columns: Vec<Option<String>>,
    /// The PostgreSQL definition (`CREATE [UNIQUE] INDEX … ON … USING btree (…)`).
    pub pg_def: String,
    pub predicate: Option<StoredExpr>,
    /// The constraint this index backs, if any.
    pub constraint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    pub oid: u32,
    pub name: String,
    #[serde(with = "pgtype_serde")]
    pub ty: PgType,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub start: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `OWNED BY table.column` (serial and identity columns).
    pub owned_by: Option<(String, String)>,
}

/// Every catalog object, keyed by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "object")]
pub enum Object {
    Table(Table),
    Index(Index),
    Sequence(Sequence),
}

impl Object {
    pub fn oid(&self) -> u32 {
        match self {
            Object::Table(t) => t.oid,
            Object::Index(i) => i.oid,
            Object::Sequence(s) => s.oid,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Object::Table(t) => &t.name,
            Object::Index(i) => &i.name,
            Object::Sequence(s) => &s.name,
        }
    }

    fn kind_str(&self) -> &'static str {
        match self {
            Object::Table(_) => "table",
            Object::Index(_) => "index",
            Object::Sequence(_) => "sequence",
        }
    }
}

mod pgtype_serde {
    use super::PgType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &PgType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(t.oid())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PgType, D::Error> {
        let oid = u32::deserialize(d)?;
        PgType::from_oid(oid)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown type oid {oid}")))
    }
}

/// An immutable snapshot of the catalog. Relation names share one namespace (`public`), as in
/// PostgreSQL: a table, an index and a sequence cannot have the same name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Bumped on every change; prepared statements re-translate when it moves.
    pub generation: u64,
    objects: BTreeMap<String, Object>,
    next_oid: u32,
}

impl Catalog {
    /// Load the catalog from the database.
    pub fn load(conn: &Connection) -> PgResult<Catalog> {
        let mut stmt = conn
            .prepare("SELECT def FROM __bedrock_catalog ORDER BY oid")
            .map_err(internal)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(internal)?;
        let mut cat = Catalog {
            generation: next_generation(),
            objects: BTreeMap::new(),
            next_oid: FIRST_USER_OID,
        };
        for def in rows {
            let def = def.map_err(internal)?;
            let obj: Object = serde_json::from_str(&def).map_err(|e| {
                PgError::new(code::DATA_CORRUPTED, format!("corrupt catalog entry: {e}"))
            })?;
            cat.next_oid = cat.next_oid.max(obj.oid() + 1);
            if let Object::Table(t) = &obj {
                cat.next_oid = cat.next_oid.max(t.row_type_oid + 1);
            }
            cat.objects.insert(obj.name().to_string(), obj);
        }
        let stored_next: Option<i64> = conn
            .query_row(
                "SELECT value FROM __bedrock_meta WHERE key = 'next_oid'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal)?;
        if let Some(n) = stored_next {
            cat.next_oid = cat.next_oid.max(n as u32);
        }
        Ok(cat)
    }

    pub fn get(&self, name: &str) -> Option<&Object> {
        self.objects.get(name)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        match self.objects.get(name) {
            Some(Object::Table(t)) => Some(t),
            _ => None,
        }
    }

    pub fn index(&self, name: &str) -> Option<&Index> {
        match self.objects.get(name) {
            Some(Object::Index(i)) => Some(i),
            _ => None,
        }
    }

    pub fn sequence(&self, name: &str) -> Option<&Sequence> {
        match self.objects.get(name) {
            Some(Object::Sequence(s)) => Some(s),
            _ => None,
        }
    }

    pub fn by_oid(&self, oid: u32) -> Option<&Object> {
        self.objects.values().find(|o| o.oid() == oid)
    }

    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.objects.values()
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.objects.values().filter_map(|o| match o {
            Object::Table(t) => Some(t),
            _ => None,
        })
    }

    pub fn indexes_of<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Index> + 'a {
        self.objects.values().filter_map(move |o| match o {
            Object::Index(i) if i.table == table => Some(i),
            _ => None,
        })
    }

    pub fn sequences(&self) -> impl Iterator<Item = &Sequence> {
        self.objects.values().filter_map(|o| match o {
            Object::Sequence(s) => Some(s),
            _ => None,
        })
    }
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A new catalog generation, unique across the process (so a rolled-back change is never
/// mistaken for a later one).
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A catalog being changed inside a write transaction. Every change is written to
/// `__bedrock_catalog` through `exec`, so it lands in the journal with the data.
pub struct CatalogTxn<'a> {
    pub cat: &'a mut Catalog,
}

impl CatalogTxn<'_> {
    /// Allocate a fresh OID (persisted, so OIDs are never reused even after drops).
    pub fn alloc_oid(
        &mut self,
        exec: &mut dyn FnMut(&str, Vec<rusqlite::types::Value>) -> PgResult<()>,
    ) -> PgResult<u32> {
        let oid = self.cat.next_oid;
        self.cat.next_oid += 1;
        exec(
            "INSERT INTO __bedrock_meta(key, value) VALUES ('next_oid', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            vec![rusqlite::types::Value::Integer(self.cat.next_oid as i64)],
        )?;
        Ok(oid)
    }

    /// Insert or replace an object.
    pub fn put(
        &mut self,
        obj: Object,
        exec: &mut dyn FnMut(&str, Vec<rusqlite::types::Value>) -> PgResult<()>,
    ) -> PgResult<()> {
        let def = serde_json::to_string(&obj).map_err(|e| PgError::internal(e.to_string()))?;
        exec(
            "INSERT OR REPLACE INTO __bedrock_catalog(oid, kind, name, def) VALUES (?1, ?2, ?3, ?4)",
            vec![
                rusqlite::types::Value::Integer(obj.oid() as i64),
                rusqlite::types::Value::Text(obj.kind_str().to_string()),
                rusqlite::types::Value::Text(obj.name().to_string()),
                rusqlite::types::Value::Text(def),
            ],
        )?;
        // A rename leaves the old key behind: drop any entry with this oid under another name.
        let oid = obj.oid();
        self.cat.objects.retain(|_, o| o.oid() != oid);
        self.cat.objects.insert(obj.name().to_string(), obj);
        self.cat.generation = next_generation();
        Ok(())
    }

    pub fn remove(
        &mut self,
        name: &str,
        exec: &mut dyn FnMut(&str, Vec<rusqlite::types::Value>) -> PgResult<()>,
    ) -> PgResult<Option<Object>> {
        let Some(obj) = self.cat.objects.remove(name) else {
            return Ok(None);
        };
        exec(
            "DELETE FROM __bedrock_catalog WHERE oid = ?1",
            vec![rusqlite::types::Value::Integer(obj.oid() as i64)],
        )?;
        if let Object::Sequence(s) = &obj {
            exec(
                "DELETE FROM __bedrock_sequence_state WHERE oid = ?1",
                vec![rusqlite::types::Value::Integer(s.oid as i64)],
            )?;
        }
        self.cat.generation = next_generation();
        Ok(Some(obj))
    }
}

fn internal(e: rusqlite::Error) -> PgError {
    PgError::internal(format!("catalog: {e}"))
}

/// Shared, swappable published catalog.
pub type CatalogRef = Arc<Catalog>;

/// Read the current value of a sequence (for `currval`-free introspection and tests).
pub fn sequence_state(conn: &Connection, oid: u32) -> PgResult<Option<(i64, bool)>> {
    conn.query_row(
        "SELECT last_value, is_called FROM __bedrock_sequence_state WHERE oid = ?1",
        params![oid as i64],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? != 0)),
    )
    .optional()
    .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_round_trip_through_json() {
        let t = Object::Table(Table {
            oid: 16384,
            name: "t".into(),
            kind: RelKind::Table,
            columns: vec![Column {
                attnum: 1,
                name: "id".into(),
                ty: PgType::INT4,
                typmod: -1,
                not_null: true,
                default: None,
                identity: None,
                comment: None,
            }],
            constraints: vec![],
            row_type_oid: 16385,
            view_def: None,
            next_attnum: 2,
            comment: None,
        });
        let s = serde_json::to_string(&t).unwrap();
        let back: Object = serde_json::from_str(&s).unwrap();
        assert_eq!(back, t);
    }
}
