//! The differential corpus format. A file is a sequence of records; a record is zero or more
//! directive lines followed by one SQL statement (possibly several lines) whose last line ends
//! with `;`. A directive is a comment line `-- name` or `-- name: value`:
//!
//! - `rowsort` — compare rows ignoring order (the query has no ORDER BY that fixes it);
//! - `error: SQLSTATE` — PostgreSQL must fail with this code (keeps the corpus honest);
//! - `differs: reason` — a deliberate difference: run on both, compare nothing;
//! - `bedrock-error: SQLSTATE reason` — a deliberate difference: bedrock-pg must fail with this
//!   code (0A000 for an unsupported construct); PostgreSQL's outcome is not compared;
//! - `ignore-values: reason` — a deliberate difference in values (OIDs, EXPLAIN text): compare
//!   column names, types, tags and row counts only;
//! - `message-differs: reason` — compare the SQLSTATE of the error but not its text;
//! - `pending: note` — a known gap owned elsewhere (e.g. a missing function): run on both,
//!   report the difference without failing;
//! - `skip-simple: reason` / `skip-extended: reason` — run in one protocol only;
//! - `params: v1 | v2 | NULL` — bind these text parameters (extended protocol only).
//!
//! Other comment lines are plain comments; a lower-case word followed by `:` or the end of the
//! line that is not a known directive is rejected, so a typo cannot silently disable a check.

#[derive(Debug, Clone, Default)]
pub struct Record {
    pub file: String,
    pub line: usize,
    pub sql: String,
    pub rowsort: bool,
    pub error: Option<String>,
    pub differs: Option<String>,
    pub bedrock_error: Option<(String, String)>,
    pub ignore_values: Option<String>,
    pub message_differs: Option<String>,
    pub pending: Option<String>,
    pub skip_simple: Option<String>,
    pub skip_extended: Option<String>,
    pub params: Option<Vec<Option<String>>>,
}

impl Record {
    /// A deliberate, documented difference from PostgreSQL.
    pub fn is_difference(&self) -> bool {
        self.differs.is_some()
            || self.bedrock_error.is_some()
            || self.ignore_values.is_some()
            || self.message_differs.is_some()
    }
}

/// Parse one corpus file.
pub fn parse(file: &str, text: &str) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let mut cur = Record::default();
    let mut sql_lines: Vec<&str> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if let Some((name, value)) = directive(trimmed) {
            if !sql_lines.is_empty() {
                return Err(format!("{file}:{lineno}: directive inside a statement"));
            }
            apply(&mut cur, name, value).map_err(|e| format!("{file}:{lineno}: {e}"))?;
            continue;
        }
        if sql_lines.is_empty() && (trimmed.is_empty() || trimmed.starts_with("--")) {
            continue;
        }
        if sql_lines.is_empty() {
            cur.line = lineno;
        }
        sql_lines.push(line);
        if trimmed.ends_with(';') && !trimmed.starts_with("--") {
            let mut sql = sql_lines.join("\n");
            sql.pop(); // the terminating ';'
            cur.sql = sql.trim().to_string();
            cur.file = file.to_string();
            if cur.params.is_some() && cur.skip_simple.is_none() {
                cur.skip_simple =
                    Some("bound parameters exist only in the extended protocol".into());
            }
            out.push(std::mem::take(&mut cur));
            sql_lines.clear();
        }
    }
    if !sql_lines.is_empty() {
        return Err(format!(
            "{file}: statement at line {} lacks a terminating ';'",
            cur.line
        ));
    }
    Ok(out)
}

/// `-- name` / `-- name: value` where name is a lower-case word.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("-- ")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
        .unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    let (name, after) = rest.split_at(end);
    if after.is_empty() {
        Some((name, ""))
    } else {
        after.strip_prefix(':').map(|v| (name, v.trim()))
    }
}

fn need(value: &str, name: &str) -> Result<String, String> {
    if value.is_empty() {
        Err(format!("directive `{name}` needs a reason"))
    } else {
        Ok(value.to_string())
    }
}

fn apply(r: &mut Record, name: &str, value: &str) -> Result<(), String> {
    match name {
        "rowsort" => r.rowsort = true,
        "error" => r.error = Some(need(value, name)?),
        "differs" => r.differs = Some(need(value, name)?),
        "ignore-values" => r.ignore_values = Some(need(value, name)?),
        "message-differs" => r.message_differs = Some(need(value, name)?),
        "pending" => r.pending = Some(need(value, name)?),
        "skip-simple" => r.skip_simple = Some(need(value, name)?),
        "skip-extended" => r.skip_extended = Some(need(value, name)?),
        "bedrock-error" => {
            let (code, reason) = value.split_once(' ').unwrap_or((value, ""));
            if code.len() != 5 || reason.trim().is_empty() {
                return Err("bedrock-error needs `SQLSTATE reason`".into());
            }
            r.bedrock_error = Some((code.to_string(), reason.trim().to_string()));
        }
        "params" => {
            let vals = value
                .split('|')
                .map(|v| v.trim())
                .map(|v| (v != "NULL").then(|| v.to_string()))
                .collect();
            r.params = Some(vals);
        }
        other => return Err(format!("unknown directive `{other}`")),
    }
    Ok(())
}
