//! `nextval`, `currval`, `setval`, `lastval` over `__bedrock_sequence_state`. The state is an
//! ordinary replicated table, so a follower replaying a statement that calls `nextval` gets the
//! same numbers; `ExecContext::seq_high` lets a rollback re-apply what was handed out, and a
//! statement executed again (a replayed transaction) gets the values recorded in its `StmtCtx`.

use rusqlite::functions::Context;
use rusqlite::{OptionalExtension, params};

use super::{DET, Shared, VOLATILE, lock, sql_result, udf_err};
use crate::error::{PgError, PgResult, code};

struct SeqRow {
    name: String,
    last: i64,
    called: bool,
    inc: i64,
    min: i64,
    max: i64,
    cycle: bool,
}

fn load(f: &Context<'_>, oid: i64) -> PgResult<SeqRow> {
    // SAFETY: we only run statements on the connection; we never close it or touch the
    // statement this function runs in.
    let conn = unsafe { f.get_connection() }.map_err(|e| PgError::internal(e.to_string()))?;
    let mut st = conn
        .prepare_cached(
            "SELECT name, last_value, is_called, increment, min_value, max_value, cycle \
             FROM __bedrock_sequence_state WHERE oid = ?1",
        )
        .map_err(|e| PgError::internal(e.to_string()))?;
    st.query_row(params![oid], |r| {
        Ok(SeqRow {
            name: r.get(0)?,
            last: r.get(1)?,
            called: r.get::<_, i64>(2)? != 0,
            inc: r.get(3)?,
            min: r.get(4)?,
            max: r.get(5)?,
            cycle: r.get::<_, i64>(6)? != 0,
        })
    })
    .optional()
    .map_err(|e| PgError::internal(e.to_string()))?
    .ok_or_else(|| {
        PgError::new(
            code::UNDEFINED_TABLE,
            format!("could not open relation with OID {oid}"),
        )
    })
}

fn store(f: &Context<'_>, oid: i64, last: i64, called: bool) -> PgResult<()> {
    // SAFETY: as in `load`.
    let conn = unsafe { f.get_connection() }.map_err(|e| PgError::internal(e.to_string()))?;
    let mut st = conn
        .prepare_cached(
            "UPDATE __bedrock_sequence_state SET last_value = ?2, is_called = ?3 WHERE oid = ?1",
        )
        .map_err(|e| PgError::internal(e.to_string()))?;
    st.execute(params![oid, last, called as i64]).map_err(|e| {
        if let rusqlite::Error::SqliteFailure(err, _) = &e
            && err.code == rusqlite::ErrorCode::ReadOnly
        {
            return PgError::new(
                code::READ_ONLY_SQL_TRANSACTION,
                "cannot execute nextval() in a read-only transaction",
            );
        }
        PgError::internal(e.to_string())
    })?;
    Ok(())
}

fn next(f: &Context<'_>, ctx: &Shared) -> PgResult<i64> {
    let oid = f
        .get::<i64>(0)
        .map_err(|e| PgError::internal(e.to_string()))?;
    let s = load(f, oid)?;
    let replayed = lock(ctx).replayed_value(oid as u32);
    let v = if let Some(v) = replayed {
        // Re-executing a statement: the value it got the first time. The sequence never
        // moves back (values handed out by others meanwhile stay handed out).
        let keep = if s.called && ((s.inc > 0 && s.last > v) || (s.inc < 0 && s.last < v)) {
            s.last
        } else {
            v
        };
        store(f, oid, keep, true)?;
        let mut g = lock(ctx);
        g.drew(oid as u32, v);
        g.currval.insert(oid as u32, v);
        g.lastval = Some(v);
        let high = g.seq_high.entry(oid as u32).or_insert(v);
        if (s.inc > 0 && v > *high) || (s.inc < 0 && v < *high) {
            *high = v;
        }
        return Ok(v);
    } else if !s.called {
        s.last
    } else {
        match s.last.checked_add(s.inc) {
            Some(v) if v <= s.max && v >= s.min => v,
            _ if s.cycle => {
                if s.inc > 0 {
                    s.min
                } else {
                    s.max
                }
            }
            _ => {
                let (which, bound) = if s.inc > 0 {
                    ("maximum", s.max)
                } else {
                    ("minimum", s.min)
                };
                return Err(PgError::new(
                    code::SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
                    format!(
                        "nextval: reached {which} value of sequence \"{}\" ({bound})",
                        s.name
                    ),
                ));
            }
        }
    };
    store(f, oid, v, true)?;
    let mut g = lock(ctx);
    g.drew(oid as u32, v);
    g.currval.insert(oid as u32, v);
    g.lastval = Some(v);
    let high = g.seq_high.entry(oid as u32).or_insert(v);
    if (s.inc > 0 && v > *high) || (s.inc < 0 && v < *high) {
        *high = v;
    }
    Ok(v)
}

pub(super) fn register(conn: &rusqlite::Connection, ctx: Shared) -> rusqlite::Result<()> {
    let c = ctx.clone();
    conn.create_scalar_function("pg_nextval", 1, VOLATILE, move |f| sql_result(next(f, &c)))?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_currval", 1, VOLATILE, move |f| {
        let oid = f.get::<i64>(0)?;
        let g = lock(&c);
        match g.currval.get(&(oid as u32)) {
            Some(v) => Ok(*v),
            None => {
                drop(g);
                let name = load(f, oid)
                    .map(|s| s.name)
                    .unwrap_or_else(|_| oid.to_string());
                Err(udf_err(PgError::new(
                    code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format!("currval of sequence \"{name}\" is not yet defined in this session"),
                )))
            }
        }
    })?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_lastval", 0, VOLATILE, move |_| {
        lock(&c).lastval.ok_or_else(|| {
            udf_err(PgError::new(
                code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                "lastval is not yet defined in this session",
            ))
        })
    })?;
    for n in [2, 3] {
        let c = ctx.clone();
        conn.create_scalar_function("pg_setval", n, VOLATILE, move |f| {
            let oid = f.get::<i64>(0)?;
            let v = f.get::<i64>(1)?;
            let called = if n == 3 { f.get::<bool>(2)? } else { true };
            let s = sql_result(load(f, oid))?;
            if v < s.min || v > s.max {
                return Err(udf_err(PgError::new(
                    code::NUMERIC_VALUE_OUT_OF_RANGE,
                    format!(
                        "setval: value {v} is out of bounds for sequence \"{}\" ({}..{})",
                        s.name, s.min, s.max
                    ),
                )));
            }
            sql_result(store(f, oid, v, called))?;
            let mut g = lock(&c);
            if called {
                g.currval.insert(oid as u32, v);
            }
            g.seq_high.remove(&(oid as u32));
            Ok(v)
        })?;
    }
    let _ = DET;
    Ok(())
}
