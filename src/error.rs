//! PostgreSQL errors as the whole server reports them: a SQLSTATE, a message and the optional
//! fields of an ErrorResponse. Every layer returns `PgError`, so a client always gets a real code.

use std::fmt;

/// SQLSTATE codes used across the server (PostgreSQL Appendix A).
pub mod code {
    pub const SUCCESSFUL_COMPLETION: &str = "00000";
    pub const WARNING: &str = "01000";
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const CARDINALITY_VIOLATION: &str = "21000";
    pub const STRING_DATA_RIGHT_TRUNCATION: &str = "22001";
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    pub const INVALID_DATETIME_FORMAT: &str = "22007";
    pub const DATETIME_FIELD_OVERFLOW: &str = "22008";
    pub const DIVISION_BY_ZERO: &str = "22012";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const SEQUENCE_GENERATOR_LIMIT_EXCEEDED: &str = "2200H";
    pub const GENERATED_ALWAYS: &str = "428C9";
    pub const INVALID_REGULAR_EXPRESSION: &str = "2201B";
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const INVALID_BINARY_REPRESENTATION: &str = "22P03";
    pub const BAD_COPY_FILE_FORMAT: &str = "22P04";
    pub const UNTRANSLATABLE_CHARACTER: &str = "22P05";
    pub const DATA_EXCEPTION: &str = "22000";
    pub const NOT_NULL_VIOLATION: &str = "23502";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const INVALID_CURSOR_STATE: &str = "24000";
    pub const ACTIVE_SQL_TRANSACTION: &str = "25001";
    pub const NO_ACTIVE_SQL_TRANSACTION: &str = "25P01";
    pub const IN_FAILED_SQL_TRANSACTION: &str = "25P02";
    pub const IDLE_IN_TRANSACTION_SESSION_TIMEOUT: &str = "25P03";
    pub const READ_ONLY_SQL_TRANSACTION: &str = "25006";
    pub const INVALID_SQL_STATEMENT_NAME: &str = "26000";
    pub const INVALID_TRANSACTION_TERMINATION: &str = "2D000";
    pub const INVALID_CURSOR_NAME: &str = "34000";
    pub const INVALID_SAVEPOINT_SPECIFICATION: &str = "3B001";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const STATEMENT_COMPLETION_UNKNOWN: &str = "40003";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    pub const SYNTAX_ERROR: &str = "42601";
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const UNDEFINED_FUNCTION: &str = "42883";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_PARAMETER: &str = "42P02";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const DUPLICATE_COLUMN: &str = "42701";
    pub const DUPLICATE_CURSOR: &str = "42P03";
    pub const DUPLICATE_PREPARED_STATEMENT: &str = "42P05";
    pub const DUPLICATE_TABLE: &str = "42P07";
    pub const DUPLICATE_OBJECT: &str = "42710";
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    pub const DATATYPE_MISMATCH: &str = "42804";
    pub const WRONG_OBJECT_TYPE: &str = "42809";
    pub const INVALID_COLUMN_REFERENCE: &str = "42P10";
    pub const GROUPING_ERROR: &str = "42803";
    pub const UNDEFINED_SCHEMA: &str = "3F000";
    pub const INVALID_SCHEMA_NAME: &str = "3F000";
    pub const CANNOT_COERCE: &str = "42846";
    pub const INVALID_TABLE_DEFINITION: &str = "42P16";
    pub const INVALID_COLUMN_DEFINITION: &str = "42611";
    pub const DEPENDENT_OBJECTS_STILL_EXIST: &str = "2BP01";
    pub const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
    pub const LOCK_NOT_AVAILABLE: &str = "55P03";
    pub const QUERY_CANCELED: &str = "57014";
    pub const CANT_CHANGE_RUNTIME_PARAM: &str = "55P02";
    pub const CANNOT_CONNECT_NOW: &str = "57P03";
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const INVALID_AUTHORIZATION: &str = "28000";
    pub const INVALID_CATALOG_NAME: &str = "3D000";
    pub const UNDEFINED_OBJECT_GENERIC: &str = "42704";
    pub const INTERNAL_ERROR: &str = "XX000";
    pub const DATA_CORRUPTED: &str = "XX001";
    pub const IO_ERROR: &str = "58030";
}

/// Severity of an error as sent in the `S`/`V` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Fatal,
}

/// A PostgreSQL error: everything an ErrorResponse can carry that we use. Boxed so that
/// `Result<T, PgError>` stays one pointer wide on the hot path.
#[derive(Debug, Clone, PartialEq)]
pub struct PgError(Box<ErrorFields>);

/// The fields of a `PgError` (reached through `Deref`, so `err.code` reads naturally).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorFields {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// 1-based character position in the statement text.
    pub position: Option<usize>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub constraint: Option<String>,
    /// Source location (line, column, 1-based) within the statement text, turned into
    /// `position` by the session, which knows where the statement sits in the query string.
    pub location: Option<(u64, u64)>,
}

pub type PgResult<T> = Result<T, PgError>;

impl std::ops::Deref for PgError {
    type Target = ErrorFields;
    fn deref(&self) -> &ErrorFields {
        &self.0
    }
}

impl std::ops::DerefMut for PgError {
    fn deref_mut(&mut self) -> &mut ErrorFields {
        &mut self.0
    }
}

impl PgError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        PgError(Box::new(ErrorFields {
            severity: Severity::Error,
            code,
            message: message.into(),
            detail: None,
            hint: None,
            position: None,
            table: None,
            column: None,
            constraint: None,
            location: None,
        }))
    }

    pub fn fatal(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = PgError::new(code, message);
        e.severity = Severity::Fatal;
        e
    }

    /// `0A000`: a construct we cannot translate faithfully.
    pub fn unsupported(what: impl fmt::Display) -> Self {
        PgError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("{what} is not supported by bedrock-pg"),
        )
    }

    pub fn syntax(message: impl Into<String>) -> Self {
        PgError::new(code::SYNTAX_ERROR, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        PgError::new(code::INTERNAL_ERROR, message)
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_position(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    pub fn with_constraint(mut self, constraint: impl Into<String>) -> Self {
        self.constraint = Some(constraint.into());
        self
    }

    /// Point the error at a token of the statement (from a sqlparser span).
    pub fn at(mut self, span: sqlparser::tokenizer::Span) -> Self {
        if span.start.line > 0 && self.position.is_none() && self.location.is_none() {
            self.location = Some((span.start.line, span.start.column));
        }
        self
    }

    /// Character position (1-based) of a line/column location in `text`.
    pub fn char_position(text: &str, line: u64, column: u64) -> usize {
        let mut pos = 0;
        for (i, l) in text.split('\n').enumerate() {
            if i as u64 + 1 == line {
                return pos + column as usize;
            }
            pos += l.chars().count() + 1;
        }
        pos
    }

    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// The fields of an ErrorResponse / NoticeResponse, in wire order.
    pub fn fields(&self) -> Vec<(u8, String)> {
        let sev = match self.severity {
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        };
        let mut f = vec![
            (b'S', sev.to_string()),
            (b'V', sev.to_string()),
            (b'C', self.code.to_string()),
            (b'M', self.message.clone()),
        ];
        if let Some(d) = &self.detail {
            f.push((b'D', d.clone()));
        }
        if let Some(h) = &self.hint {
            f.push((b'H', h.clone()));
        }
        if let Some(p) = self.position {
            f.push((b'P', p.to_string()));
        }
        if let Some(t) = &self.table {
            f.push((b's', "public".to_string()));
            f.push((b't', t.clone()));
        }
        if let Some(c) = &self.column {
            f.push((b'c', c.clone()));
        }
        if let Some(c) = &self.constraint {
            f.push((b'n', c.clone()));
        }
        f
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for PgError {}

/// Application-defined SQLite functions report PostgreSQL errors through SQLite as
/// `"<SQLSTATE>\u{1f}<message>"`; `from_sqlite_message` recovers them.
pub const UDF_ERROR_SEPARATOR: char = '\u{1f}';

impl PgError {
    /// Encode this error so it survives a trip through SQLite's error message.
    pub fn to_udf_message(&self) -> String {
        format!("{}{}{}", self.code, UDF_ERROR_SEPARATOR, self.message)
    }

    /// Decode an error raised by one of our SQLite functions, if `msg` is one.
    pub fn from_udf_message(msg: &str) -> Option<PgError> {
        let (code, message) = msg.split_once(UDF_ERROR_SEPARATOR)?;
        let code = known_code(code)?;
        Some(PgError::new(code, message))
    }
}

/// Map a SQLSTATE string back to the static code (UDF errors carry it as text).
fn known_code(c: &str) -> Option<&'static str> {
    use code::*;
    const ALL: &[&str] = &[
        FEATURE_NOT_SUPPORTED,
        CARDINALITY_VIOLATION,
        STRING_DATA_RIGHT_TRUNCATION,
        NUMERIC_VALUE_OUT_OF_RANGE,
        INVALID_DATETIME_FORMAT,
        DATETIME_FIELD_OVERFLOW,
        DIVISION_BY_ZERO,
        INVALID_PARAMETER_VALUE,
        INVALID_REGULAR_EXPRESSION,
        CHARACTER_NOT_IN_REPERTOIRE,
        INVALID_TEXT_REPRESENTATION,
        DATA_EXCEPTION,
        NOT_NULL_VIOLATION,
        UNIQUE_VIOLATION,
        CHECK_VIOLATION,
        FOREIGN_KEY_VIOLATION,
        UNDEFINED_OBJECT,
        UNDEFINED_TABLE,
        UNDEFINED_FUNCTION,
        OBJECT_NOT_IN_PREREQUISITE_STATE,
        READ_ONLY_SQL_TRANSACTION,
        DATATYPE_MISMATCH,
        SYNTAX_ERROR,
        QUERY_CANCELED,
        INTERNAL_ERROR,
        PROGRAM_LIMIT_EXCEEDED,
        UNDEFINED_COLUMN,
        INVALID_SCHEMA_NAME,
        SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
        INVALID_DATETIME_FORMAT,
        DATETIME_FIELD_OVERFLOW,
        NO_ACTIVE_SQL_TRANSACTION,
        GENERATED_ALWAYS,
        INVALID_BINARY_REPRESENTATION,
        STATEMENT_COMPLETION_UNKNOWN,
        SERIALIZATION_FAILURE,
        DEADLOCK_DETECTED,
        LOCK_NOT_AVAILABLE,
        CANNOT_CONNECT_NOW,
        UNTRANSLATABLE_CHARACTER,
        // Raised by the SQL function library (src/sql/functions, `xcode`).
        "22004",
        "22011",
        "2201E",
        "2201F",
        "2201G",
        "2202E",
        "54001",
    ];
    // Data-exception codes SQL functions raise that have no constant above.
    const MORE: &[&str] = &[
        "2201W", "2201X", "2201E", "2201F", "22011", "2202E", "22004", "22005", "2200G", "22016",
        "22019", "2201G", "22025", "2200B", "22027", "42725", "42P18", "55P02", "53100", "2BP01",
        "42P10", "42712", "22P06", "428C9", "0A000", "42883", "42846", "21000", "42803", "22030",
        "22032", "22033", "22034", "22035", "22036", "22037", "22038", "22039", "2203A", "2203B",
        "2203C", "2203D", "2203E", "2203F", "22031", "2200H", "22013", "22014", "22015", "2201B",
    ];
    ALL.iter().chain(MORE.iter()).copied().find(|k| *k == c)
}
