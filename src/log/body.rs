//! The body of a commit: the ordered SQLite statements of the transactions it contains, each
//! with its bound values and the inputs of every non-deterministic function (transaction and
//! statement time, random seed, session time zone). A follower, or a replay of the journal,
//! executes exactly this and reaches the same content.

use rusqlite::types::Value;

use super::codec::{DecodeError, Reader, Writer};

/// Inputs that make a statement deterministic on every node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StmtCtx {
    /// Transaction start time (`now()`), microseconds since the Unix epoch, UTC.
    pub txn_micros: i64,
    /// Statement start time (`statement_timestamp()`, `clock_timestamp()`).
    pub stmt_micros: i64,
    /// Seed of the statement's random stream (`random()`, `gen_random_uuid()`).
    pub seed: u64,
    /// Session `TimeZone`, for functions that depend on it.
    pub zone: String,
    /// The values `nextval()` handed out while the statement ran, in order: executing the
    /// statement again (a follower, a replayed transaction) hands out exactly these.
    pub seq: Vec<SeqRun>,
    /// The transaction's id (`txid_current()`), 0 if it never asked.
    pub txid: i64,
}

/// Consecutive values one sequence handed out: `first`, `first + step`, … (`count` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRun {
    pub oid: u32,
    pub first: i64,
    pub step: i64,
    pub count: u32,
}

impl SeqRun {
    /// Append `v` to a list of runs, extending the last run when it continues it.
    pub fn push(runs: &mut Vec<SeqRun>, oid: u32, v: i64) {
        if let Some(last) = runs.last_mut()
            && last.oid == oid
        {
            if last.count == 1 && v != last.first {
                last.step = v.wrapping_sub(last.first);
                last.count = 2;
                return;
            }
            if last.count > 1
                && last.count < u32::MAX
                && last
                    .first
                    .checked_add(last.step.wrapping_mul(last.count as i64))
                    == Some(v)
            {
                last.count += 1;
                return;
            }
        }
        runs.push(SeqRun {
            oid,
            first: v,
            step: 0,
            count: 1,
        });
    }

    /// The `i`-th value of the run.
    pub fn value(&self, i: u32) -> i64 {
        self.first.wrapping_add(self.step.wrapping_mul(i as i64))
    }
}

/// One statement with its bound values.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Value>,
    pub ctx: StmtCtx,
}

/// The statements of one commit, in execution order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Body {
    pub statements: Vec<Statement>,
}

const BODY_VERSION: u8 = 1;

/// Smallest encoded statement: sql length, 4 × 8 bytes of context, zone length, run count,
/// param count.
const MIN_STATEMENT: usize = 4 + 32 + 4 + 4 + 4;

/// Encoded size of one [`SeqRun`].
const SEQ_RUN: usize = 4 + 8 + 8 + 4;

impl Body {
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self
            .statements
            .iter()
            .map(|s| s.sql.len() + 48 + s.params.len() * 9)
            .sum();
        let mut w = Writer::with_capacity(8 + size);
        w.u8(BODY_VERSION);
        w.u32(self.statements.len() as u32);
        for s in &self.statements {
            encode_statement(&mut w, s);
        }
        w.finish()
    }

    /// Decodes a body; zero bytes are the empty body (a new leader's no-op commit).
    pub fn decode(bytes: &[u8]) -> Result<Body, DecodeError> {
        if bytes.is_empty() {
            return Ok(Body::default());
        }
        let mut r = Reader::new(bytes);
        let v = r.u8()?;
        if v != BODY_VERSION {
            return Err(DecodeError::BadTag(v));
        }
        let n = r.len_prefix(MIN_STATEMENT)?;
        let mut statements = Vec::with_capacity(n);
        for _ in 0..n {
            statements.push(decode_statement(&mut r)?);
        }
        r.end()?;
        Ok(Body { statements })
    }
}

/// One statement's encoding (also used on its own, e.g. inside client requests).
pub fn encode_statement(w: &mut Writer, s: &Statement) {
    w.bytes(s.sql.as_bytes());
    w.i64(s.ctx.txn_micros);
    w.i64(s.ctx.stmt_micros);
    w.u64(s.ctx.seed);
    w.i64(s.ctx.txid);
    w.bytes(s.ctx.zone.as_bytes());
    w.u32(s.ctx.seq.len() as u32);
    for r in &s.ctx.seq {
        w.u32(r.oid);
        w.i64(r.first);
        w.i64(r.step);
        w.u32(r.count);
    }
    encode_values(w, &s.params);
}

pub fn decode_statement(r: &mut Reader) -> Result<Statement, DecodeError> {
    let sql = r.string()?;
    let txn_micros = r.i64()?;
    let stmt_micros = r.i64()?;
    let seed = r.u64()?;
    let txid = r.i64()?;
    let zone = r.string()?;
    let n = r.len_prefix(SEQ_RUN)?;
    let mut seq = Vec::with_capacity(n);
    for _ in 0..n {
        seq.push(SeqRun {
            oid: r.u32()?,
            first: r.i64()?,
            step: r.i64()?,
            count: r.u32()?,
        });
    }
    let ctx = StmtCtx {
        txn_micros,
        stmt_micros,
        seed,
        zone,
        seq,
        txid,
    };
    let params = decode_values(r)?;
    Ok(Statement { sql, params, ctx })
}

/// A list of SQLite values: a tag byte each, then the value.
pub fn encode_values(w: &mut Writer, values: &[Value]) {
    w.u32(values.len() as u32);
    for p in values {
        match p {
            Value::Null => w.u8(0),
            Value::Integer(i) => {
                w.u8(1);
                w.i64(*i);
            }
            Value::Real(f) => {
                w.u8(2);
                w.u64(f.to_bits());
            }
            Value::Text(t) => {
                w.u8(3);
                w.bytes(t.as_bytes());
            }
            Value::Blob(x) => {
                w.u8(4);
                w.bytes(x);
            }
        }
    }
}

pub fn decode_values(r: &mut Reader) -> Result<Vec<Value>, DecodeError> {
    let n = r.len_prefix(1)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(match r.u8()? {
            0 => Value::Null,
            1 => Value::Integer(r.i64()?),
            2 => Value::Real(f64::from_bits(r.u64()?)),
            3 => Value::Text(r.string()?),
            4 => Value::Blob(r.bytes()?),
            t => return Err(DecodeError::BadTag(t)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let b = Body {
            statements: vec![Statement {
                sql: "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)".into(),
                params: vec![
                    Value::Null,
                    Value::Integer(-5),
                    Value::Real(1.5),
                    Value::Text("é".into()),
                    Value::Blob(vec![0, 1, 2]),
                ],
                ctx: StmtCtx {
                    txn_micros: 1,
                    stmt_micros: 2,
                    seed: u64::MAX,
                    zone: "UTC".into(),
                    seq: vec![SeqRun {
                        oid: 16390,
                        first: 5,
                        step: 1,
                        count: 3,
                    }],
                    txid: 77,
                },
            }],
        };
        let bytes = b.encode();
        assert_eq!(Body::decode(&bytes), Ok(b));
        for cut in 1..bytes.len() {
            assert!(Body::decode(&bytes[..cut]).is_err());
        }
        assert!(Body::decode(&[9, 9, 9]).is_err());
        assert_eq!(Body::decode(&[]), Ok(Body::default()));
        assert!(Body::decode(&[1, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn sequence_runs() {
        let mut runs = Vec::new();
        for v in [1, 2, 3, 10, 20, 30, 7] {
            SeqRun::push(&mut runs, 1, v);
        }
        SeqRun::push(&mut runs, 2, 7);
        let flat: Vec<(u32, i64)> = runs
            .iter()
            .flat_map(|r| (0..r.count).map(move |i| (r.oid, r.value(i))))
            .collect();
        assert_eq!(
            flat,
            vec![
                (1, 1),
                (1, 2),
                (1, 3),
                (1, 10),
                (1, 20),
                (1, 30),
                (1, 7),
                (2, 7)
            ]
        );
        assert!(runs.len() <= 5, "{runs:?}");
    }
}
