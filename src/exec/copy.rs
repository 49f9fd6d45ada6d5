//! COPY FROM STDIN's rows: converted to the columns' types as they arrive, then written in
//! bounded pieces. A small COPY is one request (or part of its block's frame). A large one is
//! staged: its rows go in chunks into a hidden table, each chunk its own bounded journal entry
//! (invisible to clients), and a last small statement moves them into the target in one
//! transaction — so `pgbench -i -s 100` stays atomic without making one giant commit, and
//! neither a session nor the writer holds more than a chunk of rows.

use rusqlite::types::Value;

use super::session::{Block, Session};
use super::stmt::{Response, ResultSet};
use super::work::{SessionIn, StmtWork, Work};
use super::writer::TxnOp;
use crate::error::{PgError, PgResult, code};
use crate::log::Statement;
use crate::sql::catalog::Column;
use crate::sql::statement::{CopySource, CopyStmt};
use crate::sql::translate;
use crate::sql::values;

/// Bytes of converted rows held before they are written.
const CHUNK_BYTES: usize = 4 << 20;

/// A COPY of more rows than this returns freed heap memory to the OS when it ends.
const TRIM_AFTER_ROWS: u64 = 100_000;

/// A COPY FROM STDIN in progress.
pub struct CopyIn {
    table: String,
    cols: Vec<Column>,
    pending: Vec<Vec<Value>>,
    pending_bytes: usize,
    total: u64,
    /// The hidden table staged chunks went to, once the rows outgrew one chunk.
    staging: Option<String>,
}

impl CopyIn {
    /// Number of columns the client sends.
    pub fn columns(&self) -> usize {
        self.cols.len()
    }
}

/// A statement on internal tables: no catalog generation to check.
fn raw(sql: String, params: Vec<Value>, ctx: crate::log::StmtCtx, target: &str) -> StmtWork {
    StmtWork {
        generation: 0,
        stmt: Statement { sql, params, ctx },
        reads_catalog: false,
        target: Some(target.to_string()),
        session: SessionIn::default(),
        deadline_ms: 0,
        lock_timeout_ms: 0,
        locking: None,
    }
}

impl Session {
    /// Start COPY FROM STDIN: check the table and columns.
    pub fn copy_in_begin(&mut self, c: &CopyStmt) -> PgResult<CopyIn> {
        let CopySource::Table { name, columns } = &c.source else {
            return Err(PgError::unsupported("COPY (query) FROM"));
        };
        let cat = self.catalog();
        let t = cat.table(name).cloned().ok_or_else(|| {
            PgError::new(
                code::UNDEFINED_TABLE,
                format!("relation \"{name}\" does not exist"),
            )
        })?;
        let cols: Vec<Column> = if columns.is_empty() {
            t.columns.clone()
        } else {
            columns
                .iter()
                .map(|n| {
                    t.column(n).cloned().ok_or_else(|| {
                        PgError::new(
                            code::UNDEFINED_COLUMN,
                            format!("column \"{n}\" of relation \"{name}\" does not exist"),
                        )
                    })
                })
                .collect::<PgResult<_>>()?
        };
        if self.block_read_only() {
            return Err(PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                "cannot execute COPY FROM in a read-only transaction",
            ));
        }
        Ok(CopyIn {
            table: t.name.clone(),
            cols,
            pending: Vec::new(),
            pending_bytes: 0,
            total: 0,
            staging: None,
        })
    }

    /// Rows parsed from the client's data.
    pub async fn copy_in_rows(
        &mut self,
        st: &mut CopyIn,
        rows: Vec<Vec<Option<String>>>,
    ) -> PgResult<()> {
        let zone = self.settings.zone();
        for r in rows {
            let row = convert_row(r, &st.cols, &zone)?;
            // What the row weighs in a journal entry (char(n) is padded, numbers are 8 bytes).
            st.pending_bytes += row
                .iter()
                .map(|v| match v {
                    Value::Text(t) => t.len() + 5,
                    Value::Blob(b) => b.len() + 5,
                    _ => 9,
                })
                .sum::<usize>();
            st.pending.push(row);
        }
        if st.pending_bytes >= CHUNK_BYTES {
            self.stage_chunk(st).await?;
        }
        Ok(())
    }

    /// CopyDone: write what is left and finish. Returns the command tag.
    pub async fn copy_in_end(&mut self, mut st: CopyIn) -> PgResult<String> {
        let r = self.copy_in_finish(&mut st).await;
        if r.is_err() {
            self.drop_staging(&mut st).await;
        }
        if st.total > TRIM_AFTER_ROWS {
            // A bulk load freed a lot of heap: give it back now, not at the next trim.
            tokio::task::spawn_blocking(crate::memory::trim);
        }
        r
    }

    /// The COPY failed: forget its rows (and its staged chunks).
    pub async fn copy_in_abort(&mut self, mut st: CopyIn) {
        self.drop_staging(&mut st).await;
    }

    async fn copy_in_finish(&mut self, st: &mut CopyIn) -> PgResult<String> {
        let ctx = self.stmt_ctx();
        let col_list: Vec<String> = st.cols.iter().map(|c| translate::quote(&c.name)).collect();
        let statements = match st.staging.clone() {
            None => insert_statements(
                &translate::quote(&st.table),
                &col_list,
                std::mem::take(&mut st.pending),
                &ctx,
                &st.table,
            ),
            Some(staging) => {
                self.stage_chunk(st).await?;
                let src: Vec<String> = (0..st.cols.len()).map(|i| format!("c{i}")).collect();
                vec![raw(
                    format!(
                        "INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY rowid",
                        translate::quote(&st.table),
                        col_list.join(", "),
                        src.join(", "),
                        translate::quote(&staging)
                    ),
                    Vec::new(),
                    ctx.clone(),
                    &st.table,
                )]
            }
        };
        let total = st.total + statements_rows(&statements, st.cols.len(), st.staging.is_some());
        let autocommit = matches!(self.block, Block::Idle)
            || (matches!(self.block, Block::Open { implicit: true, .. }) && self.txn.is_none());
        if autocommit {
            let mut script = statements;
            if let Some(s) = st.staging.take() {
                script.push(raw(
                    format!("DROP TABLE {}", translate::quote(&s)),
                    Vec::new(),
                    ctx.clone(),
                    &st.table,
                ));
            }
            if !script.is_empty() {
                self.submit(Work::Script(script)).await?;
            }
        } else {
            for s in statements {
                self.txn_stmt_raw(s).await?;
            }
            // The staged rows are read again if the block's frame runs again: the hidden
            // table goes when the block ends.
            if let Some(s) = st.staging.take() {
                self.copy_staging.push(s);
            }
        }
        Ok(format!("COPY {total}"))
    }

    /// Write the pending rows as one staged chunk (its own bounded commit).
    async fn stage_chunk(&mut self, st: &mut CopyIn) -> PgResult<()> {
        if st.pending.is_empty() {
            return Ok(());
        }
        let ctx = self.stmt_ctx();
        let mut script = Vec::new();
        let staging = match &st.staging {
            Some(s) => s.clone(),
            None => {
                let name = format!("__bedrock_copy_{:016x}", crate::entropy::random_u64());
                let cols: Vec<String> = (0..st.cols.len()).map(|i| format!("c{i}")).collect();
                script.push(raw(
                    format!(
                        "CREATE TABLE {} ({})",
                        translate::quote(&name),
                        cols.join(", ")
                    ),
                    Vec::new(),
                    ctx.clone(),
                    &st.table,
                ));
                st.staging = Some(name.clone());
                name
            }
        };
        let cols: Vec<String> = (0..st.cols.len()).map(|i| format!("c{i}")).collect();
        let rows = std::mem::take(&mut st.pending);
        st.total += rows.len() as u64;
        st.pending_bytes = 0;
        script.extend(insert_statements(
            &translate::quote(&staging),
            &cols,
            rows,
            &ctx,
            &st.table,
        ));
        self.submit(Work::Script(script)).await.map(|_| ())
    }

    async fn drop_staging(&mut self, st: &mut CopyIn) {
        if let Some(s) = st.staging.take() {
            self.drop_tables(vec![s]).await;
        }
    }

    /// Drop hidden staging tables (best effort: what is left is dropped at the next start).
    pub(super) async fn drop_tables(&mut self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        let ctx = self.stmt_ctx();
        let script = names
            .iter()
            .map(|n| {
                raw(
                    format!("DROP TABLE IF EXISTS {}", translate::quote(n)),
                    Vec::new(),
                    ctx.clone(),
                    n,
                )
            })
            .collect();
        if let Err(e) = self.submit(Work::Script(script)).await {
            tracing::warn!("could not drop COPY staging tables {names:?}: {e}");
        }
    }

    /// A statement on internal tables in the block's frame.
    async fn txn_stmt_raw(&mut self, s: StmtWork) -> PgResult<()> {
        self.txn_do(TxnOp::Stmt(s)).await.map(|_| ())
    }

    /// COPY … TO STDOUT: the rows to render.
    pub async fn copy_out(&mut self, c: &CopyStmt) -> PgResult<ResultSet> {
        let query = match &c.source {
            CopySource::Table { name, columns } => {
                let cols = if columns.is_empty() {
                    "*".to_string()
                } else {
                    columns
                        .iter()
                        .map(|c| translate::quote(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("SELECT {cols} FROM {}", translate::quote(name))
            }
            CopySource::Query(q) => q.clone(),
        };
        let stmt = self.parse(query, vec![])?;
        let translate::Plan::Run(p) = &stmt.plan else {
            return Err(PgError::syntax("COPY query must be a SELECT"));
        };
        match self.run_prepared(p, &[], false).await? {
            Response::Rows(rs) => Ok(rs),
            _ => Err(PgError::syntax("COPY query must return rows")),
        }
    }
}

/// Multi-row INSERTs of `rows` (each within SQLite's parameter limit).
fn insert_statements(
    table_sql: &str,
    cols: &[String],
    rows: Vec<Vec<Value>>,
    ctx: &crate::log::StmtCtx,
    target: &str,
) -> Vec<StmtWork> {
    let ncols = cols.len().max(1);
    let per = (30_000 / ncols).clamp(1, 500);
    let mut out = Vec::new();
    for chunk in rows.chunks(per) {
        let mut groups = Vec::with_capacity(chunk.len());
        let mut params = Vec::with_capacity(chunk.len() * ncols);
        for row in chunk {
            let start = params.len();
            groups.push(format!(
                "({})",
                (1..=cols.len())
                    .map(|k| format!("?{}", start + k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            params.extend(row.iter().cloned());
        }
        out.push(raw(
            format!(
                "INSERT INTO {table_sql} ({}) VALUES {}",
                cols.join(", "),
                groups.join(", ")
            ),
            params,
            ctx.clone(),
            target,
        ));
    }
    out
}

/// Rows the final statements insert (direct inserts count their rows; a staged COPY counted
/// its rows as it staged them).
fn statements_rows(list: &[StmtWork], ncols: usize, staged: bool) -> u64 {
    if staged {
        return 0;
    }
    list.iter()
        .map(|s| (s.stmt.params.len() / ncols.max(1)) as u64)
        .sum()
}

/// Convert one row of COPY text fields into values for the target columns.
fn convert_row(
    r: Vec<Option<String>>,
    cols: &[Column],
    zone: &crate::sql::datetime::Zone,
) -> PgResult<Vec<Value>> {
    if r.len() < cols.len() {
        let missing = &cols[r.len()].name;
        return Err(PgError::new(
            code::BAD_COPY_FILE_FORMAT,
            format!("missing data for column \"{missing}\""),
        ));
    }
    if r.len() > cols.len() {
        return Err(PgError::new(
            code::BAD_COPY_FILE_FORMAT,
            "extra data after last expected column",
        ));
    }
    let mut vals = Vec::with_capacity(cols.len());
    for (f, c) in r.into_iter().zip(cols) {
        vals.push(match f {
            None => {
                if c.not_null {
                    return Err(PgError::new(
                        code::NOT_NULL_VIOLATION,
                        format!(
                            "null value in column \"{}\" violates not-null constraint",
                            c.name
                        ),
                    ));
                }
                Value::Null
            }
            Some(s) => values::apply_typmod(c.ty, c.typmod, values::from_text(c.ty, &s, zone)?)?,
        });
    }
    Ok(vals)
}
