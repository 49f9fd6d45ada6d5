//! Statements as the executor keeps them: the PostgreSQL text, its parse and its translation
//! against a catalog generation, with the parameter and result types that Describe reports.

use rusqlite::types::Value;

use crate::sql::statement::{CopyStmt, Parsed};
use crate::sql::translate::{OutCol, Plan};
use crate::sql::types::PgType;

/// A statement prepared with Parse (or the one statement of a simple Query).
pub struct Stmt {
    pub text: String,
    pub parsed: Parsed,
    pub declared: Vec<Option<PgType>>,
    pub plan: Plan,
    pub generation: u64,
}

impl Stmt {
    /// Parameter types to announce and bind with.
    pub fn param_types(&self) -> Vec<(PgType, i32)> {
        match &self.plan {
            Plan::Run(p) => p.params.clone(),
            _ => self
                .declared
                .iter()
                .map(|t| (t.unwrap_or(PgType::TEXT), -1))
                .collect(),
        }
    }

    /// Result columns, if the statement returns rows.
    pub fn columns(&self) -> Option<Vec<OutCol>> {
        match &self.plan {
            Plan::Run(p) if !p.columns.is_empty() => Some(p.columns.clone()),
            Plan::Show(name) if name == "all" => Some(vec![
                text_col("name"),
                text_col("setting"),
                text_col("description"),
            ]),
            Plan::Show(name) => Some(vec![text_col(&show_column_name(name))]),
            _ => None,
        }
    }
}

pub fn text_col(name: &str) -> OutCol {
    OutCol {
        name: name.to_string(),
        ty: PgType::TEXT,
        typmod: -1,
        table_oid: 0,
        attnum: 0,
        collate: None,
    }
}

pub fn show_column_name(name: &str) -> String {
    match name {
        "transaction isolation level" => "transaction_isolation".into(),
        "time zone" => "TimeZone".into(),
        n => super::settings::canonical(n)
            .map(String::from)
            .unwrap_or_else(|| n.to_string()),
    }
}

/// The rows of an executed statement, waiting to be sent.
pub struct ResultSet {
    pub cols: Vec<OutCol>,
    pub rows: Vec<Vec<Value>>,
    pub tag: String,
    /// Rows already sent (Execute with a row limit sends them in parts).
    pub sent: usize,
}

/// What running a statement produced.
pub enum Response {
    Rows(ResultSet),
    Done(String),
    /// COPY FROM STDIN: the protocol collects the data and hands it to
    /// [`super::Session::copy_in`].
    CopyIn(CopyStmt),
    /// COPY TO STDOUT: the protocol renders the rows of [`super::Session::copy_out`].
    CopyOut(CopyStmt),
    Empty,
}
