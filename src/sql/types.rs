//! PostgreSQL types as bedrock-pg knows them: OIDs, names, type modifiers, how each is stored in
//! SQLite, and how a declared type (`varchar(20)`, `timestamp with time zone`, `int[]`, `serial`)
//! maps onto them. Only built-in OIDs are ever announced to clients (never 705 `unknown`).

use sqlparser::ast::{
    ArrayElemTypeDef, CharacterLength, DataType, ExactNumberInfo, ObjectName, TimezoneInfo,
};

use crate::error::{PgError, PgResult, code};

/// The scalar (element) types we store and announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scalar {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    Varchar,
    Bpchar,
    Name,
    /// The single-byte `"char"` type of the catalogs.
    Char,
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Oid,
    Regclass,
    Regtype,
    Regproc,
    /// `pg_node_tree`, `int2vector`, `oidvector`, `aclitem` … shown as text by the catalogs.
    PgNodeTree,
    Int2Vector,
    OidVector,
}

/// How a value of a type sits in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Integer,
    Real,
    Text,
    Blob,
}

impl Storage {
    /// The column type used in `CREATE TABLE … STRICT`.
    pub fn sqlite_decl(self) -> &'static str {
        match self {
            Storage::Integer => "INTEGER",
            Storage::Real => "REAL",
            Storage::Text => "TEXT",
            Storage::Blob => "BLOB",
        }
    }
}

/// A PostgreSQL type: a scalar or a one-dimensional array of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PgType {
    pub scalar: Scalar,
    pub array: bool,
}

/// Broad PostgreSQL type categories (pg_type.typcategory), used for operator resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Boolean,
    Numeric,
    String,
    DateTime,
    Timespan,
    UserDefined,
    Array,
    Other,
}

struct ScalarInfo {
    scalar: Scalar,
    oid: u32,
    array_oid: u32,
    name: &'static str,
    /// pg_type.typlen (-1 = varlena, -2 = cstring).
    len: i16,
}

const SCALARS: &[ScalarInfo] = &[
    ScalarInfo {
        scalar: Scalar::Bool,
        oid: 16,
        array_oid: 1000,
        name: "bool",
        len: 1,
    },
    ScalarInfo {
        scalar: Scalar::Bytea,
        oid: 17,
        array_oid: 1001,
        name: "bytea",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Char,
        oid: 18,
        array_oid: 1002,
        name: "char",
        len: 1,
    },
    ScalarInfo {
        scalar: Scalar::Name,
        oid: 19,
        array_oid: 1003,
        name: "name",
        len: 64,
    },
    ScalarInfo {
        scalar: Scalar::Int8,
        oid: 20,
        array_oid: 1016,
        name: "int8",
        len: 8,
    },
    ScalarInfo {
        scalar: Scalar::Int2,
        oid: 21,
        array_oid: 1005,
        name: "int2",
        len: 2,
    },
    ScalarInfo {
        scalar: Scalar::Int2Vector,
        oid: 22,
        array_oid: 1006,
        name: "int2vector",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Int4,
        oid: 23,
        array_oid: 1007,
        name: "int4",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::Regproc,
        oid: 24,
        array_oid: 1008,
        name: "regproc",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::Text,
        oid: 25,
        array_oid: 1009,
        name: "text",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Oid,
        oid: 26,
        array_oid: 1028,
        name: "oid",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::OidVector,
        oid: 30,
        array_oid: 1013,
        name: "oidvector",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Json,
        oid: 114,
        array_oid: 199,
        name: "json",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::PgNodeTree,
        oid: 194,
        array_oid: 0,
        name: "pg_node_tree",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Float4,
        oid: 700,
        array_oid: 1021,
        name: "float4",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::Float8,
        oid: 701,
        array_oid: 1022,
        name: "float8",
        len: 8,
    },
    ScalarInfo {
        scalar: Scalar::Bpchar,
        oid: 1042,
        array_oid: 1014,
        name: "bpchar",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Varchar,
        oid: 1043,
        array_oid: 1015,
        name: "varchar",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Date,
        oid: 1082,
        array_oid: 1182,
        name: "date",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::Time,
        oid: 1083,
        array_oid: 1183,
        name: "time",
        len: 8,
    },
    ScalarInfo {
        scalar: Scalar::Timestamp,
        oid: 1114,
        array_oid: 1115,
        name: "timestamp",
        len: 8,
    },
    ScalarInfo {
        scalar: Scalar::Timestamptz,
        oid: 1184,
        array_oid: 1185,
        name: "timestamptz",
        len: 8,
    },
    ScalarInfo {
        scalar: Scalar::Interval,
        oid: 1186,
        array_oid: 1187,
        name: "interval",
        len: 16,
    },
    ScalarInfo {
        scalar: Scalar::Numeric,
        oid: 1700,
        array_oid: 1231,
        name: "numeric",
        len: -1,
    },
    ScalarInfo {
        scalar: Scalar::Regclass,
        oid: 2205,
        array_oid: 2210,
        name: "regclass",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::Regtype,
        oid: 2206,
        array_oid: 2211,
        name: "regtype",
        len: 4,
    },
    ScalarInfo {
        scalar: Scalar::Uuid,
        oid: 2950,
        array_oid: 2951,
        name: "uuid",
        len: 16,
    },
    ScalarInfo {
        scalar: Scalar::Jsonb,
        oid: 3802,
        array_oid: 3807,
        name: "jsonb",
        len: -1,
    },
];

fn info(s: Scalar) -> &'static ScalarInfo {
    // invariant: SCALARS lists every Scalar variant.
    SCALARS
        .iter()
        .find(|i| i.scalar == s)
        .expect("every scalar has info")
}

impl Scalar {
    pub fn oid(self) -> u32 {
        info(self).oid
    }

    pub fn array_oid(self) -> u32 {
        info(self).array_oid
    }

    /// The internal name (pg_type.typname).
    pub fn name(self) -> &'static str {
        info(self).name
    }

    pub fn typlen(self) -> i16 {
        info(self).len
    }

    pub fn storage(self) -> Storage {
        use Scalar::*;
        match self {
            Bool | Int2 | Int4 | Int8 | Oid | Regclass | Regtype | Regproc => Storage::Integer,
            Float4 | Float8 => Storage::Real,
            Bytea => Storage::Blob,
            _ => Storage::Text,
        }
    }

    pub fn category(self) -> Category {
        use Scalar::*;
        match self {
            Bool => Category::Boolean,
            Int2 | Int4 | Int8 | Float4 | Float8 | Numeric | Oid | Regclass | Regtype | Regproc => {
                Category::Numeric
            }
            Text | Varchar | Bpchar | Name | Char => Category::String,
            Date | Time | Timestamp | Timestamptz => Category::DateTime,
            Interval => Category::Timespan,
            _ => Category::UserDefined,
        }
    }

    pub fn is_integer(self) -> bool {
        matches!(self, Scalar::Int2 | Scalar::Int4 | Scalar::Int8)
    }

    pub fn is_float(self) -> bool {
        matches!(self, Scalar::Float4 | Scalar::Float8)
    }

    pub fn is_string(self) -> bool {
        self.category() == Category::String
    }

    /// Name as `format_type()` prints it.
    pub fn sql_name(self) -> &'static str {
        use Scalar::*;
        match self {
            Bool => "boolean",
            Int2 => "smallint",
            Int4 => "integer",
            Int8 => "bigint",
            Float4 => "real",
            Float8 => "double precision",
            Varchar => "character varying",
            Bpchar => "character",
            Char => "\"char\"",
            Time => "time without time zone",
            Timestamp => "timestamp without time zone",
            Timestamptz => "timestamp with time zone",
            other => other.name(),
        }
    }
}

impl PgType {
    pub const fn scalar(scalar: Scalar) -> PgType {
        PgType {
            scalar,
            array: false,
        }
    }

    pub const fn array_of(scalar: Scalar) -> PgType {
        PgType {
            scalar,
            array: true,
        }
    }

    pub const BOOL: PgType = PgType::scalar(Scalar::Bool);
    pub const INT2: PgType = PgType::scalar(Scalar::Int2);
    pub const INT4: PgType = PgType::scalar(Scalar::Int4);
    pub const INT8: PgType = PgType::scalar(Scalar::Int8);
    pub const FLOAT4: PgType = PgType::scalar(Scalar::Float4);
    pub const FLOAT8: PgType = PgType::scalar(Scalar::Float8);
    pub const NUMERIC: PgType = PgType::scalar(Scalar::Numeric);
    pub const TEXT: PgType = PgType::scalar(Scalar::Text);
    pub const VARCHAR: PgType = PgType::scalar(Scalar::Varchar);
    pub const BPCHAR: PgType = PgType::scalar(Scalar::Bpchar);
    pub const NAME: PgType = PgType::scalar(Scalar::Name);
    pub const CHAR: PgType = PgType::scalar(Scalar::Char);
    pub const BYTEA: PgType = PgType::scalar(Scalar::Bytea);
    pub const DATE: PgType = PgType::scalar(Scalar::Date);
    pub const TIME: PgType = PgType::scalar(Scalar::Time);
    pub const TIMESTAMP: PgType = PgType::scalar(Scalar::Timestamp);
    pub const TIMESTAMPTZ: PgType = PgType::scalar(Scalar::Timestamptz);
    pub const INTERVAL: PgType = PgType::scalar(Scalar::Interval);
    pub const UUID: PgType = PgType::scalar(Scalar::Uuid);
    pub const JSON: PgType = PgType::scalar(Scalar::Json);
    pub const JSONB: PgType = PgType::scalar(Scalar::Jsonb);
    pub const OID: PgType = PgType::scalar(Scalar::Oid);
    pub const REGCLASS: PgType = PgType::scalar(Scalar::Regclass);
    pub const REGTYPE: PgType = PgType::scalar(Scalar::Regtype);

    pub fn oid(self) -> u32 {
        if self.array {
            self.scalar.array_oid()
        } else {
            self.scalar.oid()
        }
    }

    pub fn from_oid(oid: u32) -> Option<PgType> {
        SCALARS.iter().find_map(|i| {
            if i.oid == oid {
                Some(PgType::scalar(i.scalar))
            } else if i.array_oid == oid && oid != 0 {
                Some(PgType::array_of(i.scalar))
            } else {
                None
            }
        })
    }

    /// pg_type.typname (`_int4` for arrays).
    pub fn name(self) -> String {
        if self.array {
            format!("_{}", self.scalar.name())
        } else {
            self.scalar.name().to_string()
        }
    }

    pub fn storage(self) -> Storage {
        if self.array {
            Storage::Text
        } else {
            self.scalar.storage()
        }
    }

    pub fn category(self) -> Category {
        if self.array {
            Category::Array
        } else {
            self.scalar.category()
        }
    }

    pub fn typlen(self) -> i16 {
        if self.array { -1 } else { self.scalar.typlen() }
    }

    pub fn element(self) -> PgType {
        PgType::scalar(self.scalar)
    }

    /// `format_type(oid, typmod)`.
    pub fn format(self, typmod: i32) -> String {
        let base = match (self.scalar, typmod) {
            (Scalar::Varchar, m) if m >= 4 => format!("character varying({})", m - 4),
            (Scalar::Bpchar, m) if m >= 4 => format!("character({})", m - 4),
            (Scalar::Numeric, m) if m >= 4 => {
                let m = m - 4;
                format!("numeric({},{})", (m >> 16) & 0xffff, m & 0xffff)
            }
            (Scalar::Timestamp, m) if m >= 0 => format!("timestamp({m}) without time zone"),
            (Scalar::Timestamptz, m) if m >= 0 => format!("timestamp({m}) with time zone"),
            (Scalar::Time, m) if m >= 0 => format!("time({m}) without time zone"),
            (s, _) => s.sql_name().to_string(),
        };
        if self.array {
            format!("{base}[]")
        } else {
            base
        }
    }
}

/// A declared column type: the type, its modifier, and the serial flavour if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredType {
    pub ty: PgType,
    /// pg_attribute.atttypmod: -1 when absent.
    pub typmod: i32,
    /// `serial` / `bigserial` / `smallserial`: an implicit sequence default.
    pub serial: bool,
}

impl DeclaredType {
    fn plain(ty: PgType) -> DeclaredType {
        DeclaredType {
            ty,
            typmod: -1,
            serial: false,
        }
    }
}

fn char_len(l: &Option<CharacterLength>) -> PgResult<i32> {
    match l {
        None | Some(CharacterLength::Max) => Ok(-1),
        Some(CharacterLength::IntegerLength { length, .. }) => {
            if *length == 0 || *length > 10_485_760 {
                return Err(PgError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("length for type varchar must be between 1 and 10485760, not {length}"),
                ));
            }
            Ok(*length as i32 + 4)
        }
    }
}

fn numeric_mod(info: &ExactNumberInfo) -> PgResult<i32> {
    match info {
        ExactNumberInfo::None => Ok(-1),
        ExactNumberInfo::Precision(p) => numeric_typmod(*p as i64, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => numeric_typmod(*p as i64, *s),
    }
}

pub fn numeric_typmod(p: i64, s: i64) -> PgResult<i32> {
    if !(1..=1000).contains(&p) {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("NUMERIC precision {p} must be between 1 and 1000"),
        ));
    }
    if !(-1000..=1000).contains(&s) || s > p || s < 0 {
        return Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("NUMERIC scale {s} must be between 0 and precision {p}"),
        ));
    }
    Ok((((p as i32) << 16) | (s as i32)) + 4)
}

/// (precision, scale) of a numeric typmod.
pub fn numeric_precision_scale(typmod: i32) -> Option<(u32, u32)> {
    if typmod < 4 {
        return None;
    }
    let m = typmod - 4;
    Some((((m >> 16) & 0xffff) as u32, (m & 0xffff) as u32))
}

fn time_precision(p: &Option<u64>) -> PgResult<i32> {
    match p {
        None => Ok(-1),
        Some(p) if *p <= 6 => Ok(*p as i32),
        Some(p) => Err(PgError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("precision {p} must be between 0 and 6"),
        )),
    }
}

/// Resolve a type name as written in SQL (`int4`, `character varying`, `timestamptz`, …).
pub fn type_by_name(name: &str) -> Option<DeclaredType> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.strip_prefix("pg_catalog.").unwrap_or(&n);
    if let Some(elem) = n.strip_suffix("[]") {
        let mut d = type_by_name(elem)?;
        if d.ty.array || d.serial {
            return None;
        }
        d.ty.array = true;
        return Some(d);
    }
    if let Some(elem) = n.strip_prefix('_') {
        let d = type_by_name(elem)?;
        if d.ty.array || d.serial {
            return None;
        }
        return Some(DeclaredType::plain(PgType::array_of(d.ty.scalar)));
    }
    let serial = |t| {
        Some(DeclaredType {
            ty: t,
            typmod: -1,
            serial: true,
        })
    };
    let s = match n {
        "bool" | "boolean" => Scalar::Bool,
        "int2" | "smallint" => Scalar::Int2,
        "int" | "int4" | "integer" => Scalar::Int4,
        "int8" | "bigint" => Scalar::Int8,
        "smallserial" | "serial2" => return serial(PgType::INT2),
        "serial" | "serial4" => return serial(PgType::INT4),
        "bigserial" | "serial8" => return serial(PgType::INT8),
        "float4" | "real" => Scalar::Float4,
        "float8" | "float" | "double precision" => Scalar::Float8,
        "numeric" | "decimal" => Scalar::Numeric,
        "text" => Scalar::Text,
        "varchar" | "character varying" => Scalar::Varchar,
        "bpchar" | "char" | "character" => {
            // `char` without a length is char(1), as in PostgreSQL.
            if n == "bpchar" {
                Scalar::Bpchar
            } else {
                return Some(DeclaredType {
                    ty: PgType::BPCHAR,
                    typmod: 5,
                    serial: false,
                });
            }
        }
        "\"char\"" => Scalar::Char,
        "name" => Scalar::Name,
        "bytea" => Scalar::Bytea,
        "date" => Scalar::Date,
        "time" | "time without time zone" => Scalar::Time,
        "timestamp" | "timestamp without time zone" => Scalar::Timestamp,
        "timestamptz" | "timestamp with time zone" => Scalar::Timestamptz,
        "interval" => Scalar::Interval,
        "uuid" => Scalar::Uuid,
        "json" => Scalar::Json,
        "jsonb" => Scalar::Jsonb,
        "oid" => Scalar::Oid,
        "regclass" => Scalar::Regclass,
        "regtype" => Scalar::Regtype,
        "regproc" | "regprocedure" => Scalar::Regproc,
        // Not separate types here: their values are plain OIDs.
        "regnamespace" | "regrole" | "regoper" | "regoperator" | "regconfig" => Scalar::Oid,
        "pg_node_tree" => Scalar::PgNodeTree,
        "int2vector" => Scalar::Int2Vector,
        "oidvector" => Scalar::OidVector,
        _ => return None,
    };
    Some(DeclaredType::plain(PgType::scalar(s)))
}

fn object_name_str(n: &ObjectName) -> String {
    n.0.iter()
        .map(|p| match p.as_ident() {
            Some(i) => i.value.clone(),
            None => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Resolve a sqlparser `DataType`, or fail with `42704 type "x" does not exist` / `0A000`.
pub fn declared_type(dt: &DataType) -> PgResult<DeclaredType> {
    use DataType as D;
    let plain = |s| Ok(DeclaredType::plain(PgType::scalar(s)));
    match dt {
        D::Bool | D::Boolean => plain(Scalar::Bool),
        D::SmallInt(_) | D::Int2(_) => plain(Scalar::Int2),
        D::Int(_) | D::Integer(_) | D::Int4(_) => plain(Scalar::Int4),
        D::BigInt(_) | D::Int8(_) => plain(Scalar::Int8),
        D::Real | D::Float4 => plain(Scalar::Float4),
        D::DoublePrecision | D::Float8 | D::Double(ExactNumberInfo::None) => plain(Scalar::Float8),
        D::Float(ExactNumberInfo::Precision(p)) if *p <= 24 => plain(Scalar::Float4),
        D::Float(ExactNumberInfo::None) | D::Float(ExactNumberInfo::Precision(_)) => {
            plain(Scalar::Float8)
        }
        D::Numeric(i) | D::Decimal(i) | D::Dec(i) => Ok(DeclaredType {
            ty: PgType::NUMERIC,
            typmod: numeric_mod(i)?,
            serial: false,
        }),
        D::Text => plain(Scalar::Text),
        D::Varchar(l) | D::CharacterVarying(l) | D::CharVarying(l) => Ok(DeclaredType {
            ty: PgType::VARCHAR,
            typmod: char_len(l)?,
            serial: false,
        }),
        D::Char(l) | D::Character(l) => Ok(DeclaredType {
            ty: PgType::BPCHAR,
            typmod: if l.is_none() { 5 } else { char_len(l)? },
            serial: false,
        }),
        D::Bytea => plain(Scalar::Bytea),
        D::Date => plain(Scalar::Date),
        D::Time(p, tz) => {
            if matches!(tz, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) {
                return Err(PgError::unsupported("type time with time zone"));
            }
            Ok(DeclaredType {
                ty: PgType::TIME,
                typmod: time_precision(p)?,
                serial: false,
            })
        }
        D::Timestamp(p, tz) => {
            let ty = match tz {
                TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => PgType::TIMESTAMPTZ,
                _ => PgType::TIMESTAMP,
            };
            Ok(DeclaredType {
                ty,
                typmod: time_precision(p)?,
                serial: false,
            })
        }
        D::Interval {
            fields: None,
            precision: None,
        } => plain(Scalar::Interval),
        D::Interval { .. } => Err(PgError::unsupported("interval with fields or precision")),
        D::Uuid => plain(Scalar::Uuid),
        D::JSON => plain(Scalar::Json),
        D::JSONB => plain(Scalar::Jsonb),
        D::Regclass => plain(Scalar::Regclass),
        D::Array(elem) => {
            let inner = match elem {
                ArrayElemTypeDef::SquareBracket(t, _) => t,
                ArrayElemTypeDef::AngleBracket(t) | ArrayElemTypeDef::Parenthesis(t) => t,
                ArrayElemTypeDef::Qualified(t, _) => t,
                ArrayElemTypeDef::None => {
                    return Err(PgError::unsupported("array type without element type"));
                }
            };
            let d = declared_type(inner)?;
            if d.ty.array {
                return Err(PgError::unsupported("multi-dimensional arrays"));
            }
            if d.serial {
                return Err(PgError::new(
                    code::SYNTAX_ERROR,
                    "array of serial is not implemented",
                ));
            }
            Ok(DeclaredType {
                ty: PgType::array_of(d.ty.scalar),
                typmod: d.typmod,
                serial: false,
            })
        }
        D::Custom(name, mods) => {
            let n = object_name_str(name);
            let mut d = type_by_name(&n).ok_or_else(|| {
                PgError::new(
                    code::UNDEFINED_OBJECT,
                    format!("type \"{n}\" does not exist"),
                )
            })?;
            if !mods.is_empty() {
                let nums: Vec<i64> = mods.iter().filter_map(|m| m.trim().parse().ok()).collect();
                if nums.len() != mods.len() {
                    return Err(PgError::syntax(format!(
                        "invalid type modifier for type {n}"
                    )));
                }
                d.typmod = match (d.ty.scalar, nums.as_slice()) {
                    (Scalar::Varchar | Scalar::Bpchar, [l]) => {
                        char_len(&Some(CharacterLength::IntegerLength {
                            length: *l as u64,
                            unit: None,
                        }))?
                    }
                    (Scalar::Numeric, [p]) => numeric_typmod(*p, 0)?,
                    (Scalar::Numeric, [p, s]) => numeric_typmod(*p, *s)?,
                    (Scalar::Timestamp | Scalar::Timestamptz | Scalar::Time, [p]) => {
                        time_precision(&Some(*p as u64))?
                    }
                    _ => {
                        return Err(PgError::syntax(format!(
                            "type modifier is not allowed for type \"{n}\""
                        )));
                    }
                };
            }
            Ok(d)
        }
        other => Err(PgError::unsupported(format!("type {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip() {
        for i in SCALARS {
            assert_eq!(PgType::from_oid(i.oid), Some(PgType::scalar(i.scalar)));
            if i.array_oid != 0 {
                assert_eq!(
                    PgType::from_oid(i.array_oid),
                    Some(PgType::array_of(i.scalar))
                );
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(type_by_name("int4").unwrap().ty, PgType::INT4);
        assert_eq!(
            type_by_name("_int4").unwrap().ty,
            PgType::array_of(Scalar::Int4)
        );
        assert_eq!(
            type_by_name("text[]").unwrap().ty,
            PgType::array_of(Scalar::Text)
        );
        assert!(type_by_name("serial").unwrap().serial);
        assert_eq!(PgType::VARCHAR.format(24), "character varying(20)");
        assert_eq!(
            PgType::NUMERIC.format(numeric_typmod(10, 2).unwrap()),
            "numeric(10,2)"
        );
        assert_eq!(
            numeric_precision_scale(numeric_typmod(10, 2).unwrap()),
            Some((10, 2))
        );
    }
}
