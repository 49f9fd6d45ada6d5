//! Differential tests against real PostgreSQL 15. Every corpus file in tests/differential/*.sql
//! runs twice — over the simple protocol (a raw wire client, so RowDescription type OIDs and
//! typmods are visible) and over the extended protocol (tokio-postgres prepared statements,
//! binary results) — each time in a fresh PostgreSQL database and a fresh bedrock-pg process.
//! Result columns (names, type OIDs, typmods), rows, command tags, transaction status, SQLSTATEs
//! and, for the errors ORMs parse, messages must match. Deliberate differences are annotated in
//! the corpus (see corpus.rs). PostgreSQL 15 must be installed: without it the test fails.
//!
//! `DIFF_ONLY=name` runs only the files whose name contains `name` (for development; such a run
//! always fails at the end so it can never stand in for the full suite).

mod common;
#[path = "differential/corpus.rs"]
mod corpus;
#[path = "differential/wire.rs"]
mod wire;

use std::time::Duration;

use corpus::Record;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use wire::{Column, DbError, Outcome, Response};

/// The corpus must never shrink below this many statements.
const MIN_STATEMENTS: usize = 300;
const TIMEOUT: Duration = Duration::from_secs(30);

/// SQLSTATEs whose message text is compared too (drivers and ORMs parse these).
const MESSAGE_CODES: &[&str] = &[
    "23505", "23502", "23503", "23514", "42P01", "42703", "25P02",
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Simple,
    Extended,
}

/// A parameter bound in text format whatever its type, so the server infers it.
#[derive(Debug)]
struct TextParam(Option<String>);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    fn encode_format(&self, _ty: &Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }
    to_sql_checked!();
}

/// A result value in its binary wire form, whatever its type.
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(raw.to_vec()))
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// The outcome of one statement over the extended protocol.
#[derive(Debug, Clone, PartialEq)]
enum ExtOutcome {
    Done {
        params: Vec<u32>,
        columns: Vec<(String, u32)>,
        rows: Vec<Vec<Option<Vec<u8>>>>,
        affected: Option<u64>,
    },
    Error(DbError),
    /// A failure that is not a server error (protocol error, lost connection, timeout).
    Broken(String),
}

fn db_error(e: &tokio_postgres::Error) -> ExtOutcome {
    match e.as_db_error() {
        Some(d) => ExtOutcome::Error(DbError {
            code: d.code().code().to_string(),
            message: d.message().to_string(),
            detail: d.detail().map(str::to_string),
            position: match d.position() {
                Some(tokio_postgres::error::ErrorPosition::Original(p)) => Some(*p),
                _ => None,
            },
            constraint: d.constraint().map(str::to_string),
        }),
        None => ExtOutcome::Broken(e.to_string()),
    }
}

async fn run_extended(c: &tokio_postgres::Client, r: &Record) -> ExtOutcome {
    use futures::TryStreamExt;
    let fut = async {
        let stmt = match c.prepare(&r.sql).await {
            Ok(s) => s,
            Err(e) => return db_error(&e),
        };
        let params: Vec<TextParam> = r
            .params
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(TextParam)
            .collect();
        let stream = match c.query_raw(&stmt, params.iter()).await {
            Ok(s) => s,
            Err(e) => return db_error(&e),
        };
        futures::pin_mut!(stream);
        let mut rows = Vec::new();
        loop {
            match stream.try_next().await {
                Ok(Some(row)) => {
                    let mut vals = Vec::new();
                    for i in 0..row.len() {
                        match row.try_get::<_, Option<RawValue>>(i) {
                            Ok(v) => vals.push(v.map(|v| v.0)),
                            Err(e) => return ExtOutcome::Broken(format!("decode column {i}: {e}")),
                        }
                    }
                    rows.push(vals);
                }
                Ok(None) => break,
                Err(e) => return db_error(&e),
            }
        }
        ExtOutcome::Done {
            params: stmt.params().iter().map(Type::oid).collect(),
            columns: stmt
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.type_().oid()))
                .collect(),
            rows,
            affected: stream.rows_affected(),
        }
    };
    match tokio::time::timeout(TIMEOUT, fut).await {
        Ok(o) => o,
        Err(_) => ExtOutcome::Broken(format!("timed out after {TIMEOUT:?}")),
    }
}

/// Counters for the summary.
#[derive(Default)]
struct Tally {
    statements: usize,
    differences: usize,
    pending: usize,
    runs: usize,
    failures: Vec<String>,
    pending_notes: Vec<String>,
}

fn show_text_rows(rows: &[Vec<Option<String>>]) -> String {
    let mut s = String::new();
    for r in rows.iter().take(20) {
        let cells: Vec<String> = r
            .iter()
            .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
            .collect();
        s.push_str(&format!("\n      ({})", cells.join(" | ")));
    }
    if rows.len() > 20 {
        s.push_str(&format!("\n      … {} rows", rows.len()));
    }
    s
}

fn show_bin(v: &Option<Vec<u8>>) -> String {
    match v {
        None => "NULL".into(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n') => format!("{s:?}"),
            _ => format!(
                "0x{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
        },
    }
}

fn show_bin_rows(rows: &[Vec<Option<Vec<u8>>>]) -> String {
    let mut s = String::new();
    for r in rows.iter().take(20) {
        let cells: Vec<String> = r.iter().map(show_bin).collect();
        s.push_str(&format!("\n      ({})", cells.join(" | ")));
    }
    if rows.len() > 20 {
        s.push_str(&format!("\n      … {} rows", rows.len()));
    }
    s
}

fn show_error(e: &DbError) -> String {
    format!(
        "ERROR {} {:?} detail={:?} position={:?}",
        e.code, e.message, e.detail, e.position
    )
}

fn show_outcome(o: &Outcome) -> String {
    match o {
        Outcome::Done { columns, rows, tag } => {
            let cols = columns
                .as_ref()
                .map(|cs| {
                    cs.iter()
                        .map(|c| format!("{}:{}({})", c.name, c.type_oid, c.typmod))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "-".into());
            format!("{tag} [{cols}]{}", show_text_rows(rows))
        }
        Outcome::Empty => "(empty query)".into(),
        Outcome::Error(e) => show_error(e),
    }
}

fn show_response(r: &Result<Response, String>) -> String {
    match r {
        Ok(r) => {
            let parts: Vec<String> = r.outcomes.iter().map(show_outcome).collect();
            format!("status {} :: {}", r.status, parts.join("\n    ;; "))
        }
        Err(e) => format!("CLIENT FAILURE: {e}"),
    }
}

fn show_ext(o: &ExtOutcome) -> String {
    match o {
        ExtOutcome::Done {
            params,
            columns,
            rows,
            affected,
        } => {
            let cols: Vec<String> = columns.iter().map(|(n, t)| format!("{n}:{t}")).collect();
            format!(
                "params {params:?} columns [{}] affected {affected:?}{}",
                cols.join(", "),
                show_bin_rows(rows)
            )
        }
        ExtOutcome::Error(e) => show_error(e),
        ExtOutcome::Broken(s) => format!("CLIENT FAILURE: {s}"),
    }
}

/// Differences between two errors, empty when they match.
fn compare_errors(r: &Record, pg: &DbError, br: &DbError) -> Vec<String> {
    let mut d = Vec::new();
    if pg.code != br.code {
        d.push(format!("SQLSTATE {} vs {}", pg.code, br.code));
        return d;
    }
    if r.message_differs.is_none() && MESSAGE_CODES.contains(&pg.code.as_str()) {
        if pg.message != br.message {
            d.push(format!("message {:?} vs {:?}", pg.message, br.message));
        }
        // SQLite does not report the key values PostgreSQL puts in the detail of these two, so
        // bedrock-pg may omit the detail; if it sends one it must be PostgreSQL's.
        if matches!(pg.code.as_str(), "23505" | "23503")
            && br.detail.is_some()
            && pg.detail != br.detail
        {
            d.push(format!("detail {:?} vs {:?}", pg.detail, br.detail));
        }
        if pg.constraint != br.constraint {
            d.push(format!(
                "constraint {:?} vs {:?}",
                pg.constraint, br.constraint
            ));
        }
    }
    // Syntax errors must point somewhere; the exact character may differ between parsers.
    if pg.code == "42601"
        && pg.message.starts_with("syntax error")
        && pg.position.is_some()
        && br.position.is_none()
    {
        d.push("syntax error without a position".into());
    }
    d
}

fn sorted<T: Ord + Clone>(rows: &[T]) -> Vec<T> {
    let mut v = rows.to_vec();
    v.sort();
    v
}

fn compare_simple(r: &Record, pg: &Response, br: &Response) -> Vec<String> {
    let mut d = Vec::new();
    if pg.status != br.status {
        d.push(format!("transaction status {} vs {}", pg.status, br.status));
    }
    if pg.outcomes.len() != br.outcomes.len() {
        d.push(format!(
            "{} results vs {}",
            pg.outcomes.len(),
            br.outcomes.len()
        ));
        return d;
    }
    for (a, b) in pg.outcomes.iter().zip(&br.outcomes) {
        match (a, b) {
            (Outcome::Error(x), Outcome::Error(y)) => d.extend(compare_errors(r, x, y)),
            (
                Outcome::Done {
                    columns: ca,
                    rows: ra,
                    tag: ta,
                },
                Outcome::Done {
                    columns: cb,
                    rows: rb,
                    tag: tb,
                },
            ) => {
                if ta != tb {
                    d.push(format!("tag {ta:?} vs {tb:?}"));
                }
                if ca != cb {
                    let fmt = |c: &Option<Vec<Column>>| {
                        c.as_ref().map(|cs| {
                            cs.iter()
                                .map(|c| format!("{}:{}({})", c.name, c.type_oid, c.typmod))
                                .collect::<Vec<_>>()
                        })
                    };
                    d.push(format!("columns {:?} vs {:?}", fmt(ca), fmt(cb)));
                }
                if r.ignore_values.is_some() {
                    if ra.len() != rb.len() {
                        d.push(format!("{} rows vs {}", ra.len(), rb.len()));
                    }
                } else {
                    let (ra, rb) = if r.rowsort {
                        (sorted(ra), sorted(rb))
                    } else {
                        (ra.clone(), rb.clone())
                    };
                    if ra != rb {
                        d.push("rows differ".into());
                    }
                }
            }
            (Outcome::Empty, Outcome::Empty) => {}
            _ => d.push("different kinds of result".into()),
        }
    }
    d
}

fn compare_extended(r: &Record, pg: &ExtOutcome, br: &ExtOutcome) -> Vec<String> {
    let mut d = Vec::new();
    match (pg, br) {
        (ExtOutcome::Error(x), ExtOutcome::Error(y)) => d.extend(compare_errors(r, x, y)),
        (
            ExtOutcome::Done {
                params: pa,
                columns: ca,
                rows: ra,
                affected: aa,
            },
            ExtOutcome::Done {
                params: pb,
                columns: cb,
                rows: rb,
                affected: ab,
            },
        ) => {
            if pa != pb {
                d.push(format!("parameter types {pa:?} vs {pb:?}"));
            }
            if ca != cb {
                d.push(format!("columns {ca:?} vs {cb:?}"));
            }
            if aa != ab {
                d.push(format!("rows affected {aa:?} vs {ab:?}"));
            }
            if r.ignore_values.is_some() {
                if ra.len() != rb.len() {
                    d.push(format!("{} rows vs {}", ra.len(), rb.len()));
                }
            } else {
                let (ra, rb) = if r.rowsort {
                    (sorted(ra), sorted(rb))
                } else {
                    (ra.clone(), rb.clone())
                };
                if ra != rb {
                    d.push("rows differ".into());
                }
            }
        }
        _ => d.push("different kinds of result".into()),
    }
    d
}

/// Does PostgreSQL's outcome carry the SQLSTATE the corpus expects?
fn pg_has_code(outcomes: &[&DbError], code: &str) -> bool {
    outcomes.iter().any(|e| e.code == code)
}

/// Record the verdict for one statement in one mode.
fn judge(
    t: &mut Tally,
    r: &Record,
    mode: Mode,
    diffs: Vec<String>,
    pg_errors: Vec<&DbError>,
    br_error: Option<&DbError>,
    shown: impl Fn() -> String,
) {
    let at = format!("{}:{} [{:?}]", r.file, r.line, mode);
    if let Some(code) = &r.error
        && !pg_has_code(&pg_errors, code)
    {
        t.failures.push(format!(
            "{at} corpus expects PostgreSQL to fail with {code}\n  SQL: {}\n{}",
            r.sql,
            shown()
        ));
        return;
    }
    if let Some((code, _)) = &r.bedrock_error {
        if br_error.map(|e| e.code.as_str()) != Some(code.as_str()) {
            t.failures.push(format!(
                "{at} bedrock-pg must fail with {code}\n  SQL: {}\n{}",
                r.sql,
                shown()
            ));
        }
        return;
    }
    // A documented difference in output still has to succeed (or fail) like PostgreSQL.
    if r.differs.is_some() && pg_errors.is_empty() != br_error.is_none() {
        t.failures.push(format!(
            "{at} (marked differs) succeeded on one server and failed on the other\n  SQL: {}\n{}",
            r.sql,
            shown()
        ));
        return;
    }
    if r.differs.is_some() || diffs.is_empty() {
        if r.pending.is_some() && diffs.is_empty() {
            t.pending_notes.push(format!(
                "{at} is marked pending but now matches; remove the marker"
            ));
        }
        return;
    }
    let msg = format!("{at} {}\n  SQL: {}\n{}", diffs.join("; "), r.sql, shown());
    if r.pending.is_some() {
        t.pending_notes.push(format!(
            "PENDING ({}) {msg}",
            r.pending.as_deref().unwrap_or("")
        ));
    } else {
        t.failures.push(msg);
    }
}

/// Run a maintenance statement from the `template1` database.
fn pg_control(pg: &common::Postgres, sql: &str) {
    let mut c =
        wire::Conn::connect(pg.port, "postgres", "template1").expect("connect to PostgreSQL");
    let resp = c.query(sql).expect("PostgreSQL control query");
    for o in &resp.outcomes {
        if let Outcome::Error(e) = o {
            panic!("PostgreSQL control query {sql:?} failed: {e:?}");
        }
    }
}

fn run_simple_file(pg: &common::Postgres, dbname: &str, records: &[Record], t: &mut Tally) {
    let br = common::Bedrock::start();
    let mut pc = wire::Conn::connect(pg.port, "postgres", dbname).expect("connect to PostgreSQL");
    let mut bc = wire::Conn::connect(br.port, "postgres", "postgres").expect("connect to bedrock");
    for r in records {
        if r.skip_simple.is_some() {
            continue;
        }
        t.runs += 1;
        let p = pc.query(&r.sql);
        let b = bc.query(&r.sql);
        let shown = || {
            format!(
                "  postgres: {}\n  bedrock:  {}",
                show_response(&p),
                show_response(&b)
            )
        };
        let p_ok = match &p {
            Ok(p) => p,
            Err(e) => panic!("{}:{} PostgreSQL client failure: {e}", r.file, r.line),
        };
        let b_ok = match &b {
            Ok(b) => b,
            Err(_) => {
                t.failures.push(format!(
                    "{}:{} [Simple] bedrock-pg connection failed; rest of file not run\n  SQL: {}\n{}",
                    r.file,
                    r.line,
                    r.sql,
                    shown()
                ));
                return;
            }
        };
        let pg_errors: Vec<&DbError> = p_ok
            .outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Error(e) => Some(e),
                _ => None,
            })
            .collect();
        let br_error = b_ok.outcomes.iter().find_map(|o| match o {
            Outcome::Error(e) => Some(e),
            _ => None,
        });
        let diffs = compare_simple(r, p_ok, b_ok);
        judge(t, r, Mode::Simple, diffs, pg_errors, br_error, shown);
    }
}

async fn run_extended_file(pg: &common::Postgres, dbname: &str, records: &[Record], t: &mut Tally) {
    let br = common::Bedrock::start();
    let pc = common::connect(&format!(
        "host=127.0.0.1 port={} user=postgres dbname={dbname}",
        pg.port
    ))
    .await;
    let bc = br.client().await;
    for r in records {
        if r.skip_extended.is_some() {
            continue;
        }
        t.runs += 1;
        let p = run_extended(&pc, r).await;
        let b = run_extended(&bc, r).await;
        let shown = || format!("  postgres: {}\n  bedrock:  {}", show_ext(&p), show_ext(&b));
        if let ExtOutcome::Broken(e) = &p {
            panic!("{}:{} PostgreSQL client failure: {e}", r.file, r.line);
        }
        if let ExtOutcome::Broken(_) = &b
            && bc.is_closed()
        {
            t.failures.push(format!(
                "{}:{} [Extended] bedrock-pg connection lost; rest of file not run\n  SQL: {}\n{}",
                r.file,
                r.line,
                r.sql,
                shown()
            ));
            return;
        }
        let pg_errors: Vec<&DbError> = match &p {
            ExtOutcome::Error(e) => vec![e],
            _ => vec![],
        };
        let br_error = match &b {
            ExtOutcome::Error(e) => Some(e),
            _ => None,
        };
        let diffs = compare_extended(r, &p, &b);
        judge(t, r, Mode::Extended, diffs, pg_errors, br_error, shown);
    }
}

#[test]
fn differential_against_postgres_15() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read tests/differential")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let only = std::env::var("DIFF_ONLY").ok();
    let mut corpus = Vec::new();
    let mut tally = Tally::default();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).expect("read corpus file");
        let records = corpus::parse(&name, &text).unwrap_or_else(|e| panic!("corpus: {e}"));
        tally.statements += records.len();
        tally.differences += records.iter().filter(|r| r.is_difference()).count();
        tally.pending += records.iter().filter(|r| r.pending.is_some()).count();
        if only.as_ref().is_none_or(|o| name.contains(o.as_str())) {
            corpus.push((name, records));
        }
    }

    let pg = common::Postgres::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // Each run gets a fresh database that is still called `postgres`, like bedrock-pg's, so
    // current_database() agrees.
    let fresh = |pg: &common::Postgres| {
        pg_control(pg, "DROP DATABASE IF EXISTS postgres WITH (FORCE)");
        pg_control(pg, "CREATE DATABASE postgres TEMPLATE template0");
    };
    for (name, records) in &corpus {
        let before = tally.failures.len();
        fresh(&pg);
        run_simple_file(&pg, "postgres", records, &mut tally);
        fresh(&pg);
        rt.block_on(run_extended_file(&pg, "postgres", records, &mut tally));
        eprintln!(
            "differential: {name}: {} statements, {} failures",
            records.len(),
            tally.failures.len() - before
        );
    }

    for n in &tally.pending_notes {
        eprintln!("{n}\n");
    }
    for f in &tally.failures {
        eprintln!("MISMATCH {f}\n");
    }
    eprintln!(
        "differential: {} statements in {} files ({} documented differences, {} pending), {} runs, {} mismatches",
        tally.statements,
        files.len(),
        tally.differences,
        tally.pending,
        tally.runs,
        tally.failures.len()
    );
    assert!(
        tally.statements >= MIN_STATEMENTS,
        "the corpus has {} statements; it must keep at least {MIN_STATEMENTS}",
        tally.statements
    );
    assert!(
        tally.failures.is_empty(),
        "{} differences from PostgreSQL 15 (listed above)",
        tally.failures.len()
    );
    assert!(
        only.is_none(),
        "DIFF_ONLY is set: only part of the corpus ran, so this is not a passing run"
    );
}
