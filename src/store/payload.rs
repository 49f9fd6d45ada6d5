//! The replicated payload of one commit: the ordered SQLite statements of a transaction with their
//! bound values and the inputs of every non-deterministic function (transaction time, random seed,
//! session time zone), plus the idempotency ids of the client requests it contains. A follower
//! executes exactly this. The byte encoding is explicit and versioned, because the hash chain is
//! computed over it.

use rusqlite::types::Value;

/// Inputs that make a statement deterministic on every node.
#[derive(Debug, Clone, PartialEq)]
pub struct StmtCtx {
    /// Transaction start time (`now()`), microseconds since the Unix epoch, UTC.
    pub txn_micros: i64,
    /// Statement start time (`statement_timestamp()`, `clock_timestamp()`).
    pub stmt_micros: i64,
    /// Seed of the statement's random stream (`random()`, `gen_random_uuid()`).
    pub seed: u64,
    /// Session `TimeZone`, for functions that depend on it.
    pub zone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Value>,
    pub ctx: StmtCtx,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    pub request_ids: Vec<String>,
    pub statements: Vec<Statement>,
}

const VERSION: u8 = 1;

/// Why a payload could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad payload: {}", self.0)
    }
}

impl Payload {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(
            64 + self
                .statements
                .iter()
                .map(|s| s.sql.len() + 32)
                .sum::<usize>(),
        );
        b.push(VERSION);
        put_u32(&mut b, self.request_ids.len() as u32);
        for id in &self.request_ids {
            put_bytes(&mut b, id.as_bytes());
        }
        put_u32(&mut b, self.statements.len() as u32);
        for s in &self.statements {
            put_bytes(&mut b, s.sql.as_bytes());
            b.extend_from_slice(&s.ctx.txn_micros.to_be_bytes());
            b.extend_from_slice(&s.ctx.stmt_micros.to_be_bytes());
            b.extend_from_slice(&s.ctx.seed.to_be_bytes());
            put_bytes(&mut b, s.ctx.zone.as_bytes());
            put_u32(&mut b, s.params.len() as u32);
            for p in &s.params {
                match p {
                    Value::Null => b.push(0),
                    Value::Integer(i) => {
                        b.push(1);
                        b.extend_from_slice(&i.to_be_bytes());
                    }
                    Value::Real(f) => {
                        b.push(2);
                        b.extend_from_slice(&f.to_bits().to_be_bytes());
                    }
                    Value::Text(t) => {
                        b.push(3);
                        put_bytes(&mut b, t.as_bytes());
                    }
                    Value::Blob(x) => {
                        b.push(4);
                        put_bytes(&mut b, x);
                    }
                }
            }
        }
        b
    }

    pub fn decode(bytes: &[u8]) -> Result<Payload, DecodeError> {
        let mut r = Reader { b: bytes, pos: 0 };
        let v = r.u8()?;
        if v != VERSION {
            return Err(DecodeError(format!("unknown version {v}")));
        }
        let n = r.u32()?;
        let mut request_ids = Vec::new();
        for _ in 0..n {
            request_ids.push(r.string()?);
        }
        let n = r.u32()?;
        let mut statements = Vec::new();
        for _ in 0..n {
            let sql = r.string()?;
            let txn_micros = r.i64()?;
            let stmt_micros = r.i64()?;
            let seed = r.i64()? as u64;
            let zone = r.string()?;
            let np = r.u32()?;
            let mut params = Vec::new();
            for _ in 0..np {
                params.push(match r.u8()? {
                    0 => Value::Null,
                    1 => Value::Integer(r.i64()?),
                    2 => Value::Real(f64::from_bits(r.i64()? as u64)),
                    3 => Value::Text(r.string()?),
                    4 => Value::Blob(r.bytes()?.to_vec()),
                    t => return Err(DecodeError(format!("unknown value tag {t}"))),
                });
            }
            statements.push(Statement {
                sql,
                params,
                ctx: StmtCtx {
                    txn_micros,
                    stmt_micros,
                    seed,
                    zone,
                },
            });
        }
        if r.pos != bytes.len() {
            return Err(DecodeError("trailing bytes".into()));
        }
        Ok(Payload {
            request_ids,
            statements,
        })
    }
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put_bytes(b: &mut Vec<u8>, x: &[u8]) {
    put_u32(b, x.len() as u32);
    b.extend_from_slice(x);
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| DecodeError("length overflow".into()))?;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or_else(|| DecodeError("truncated".into()))?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn i64(&mut self) -> Result<i64, DecodeError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(i64::from_be_bytes(a))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("invalid utf-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let p = Payload {
            request_ids: vec!["node0:1".into()],
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
                },
            }],
        };
        let b = p.encode();
        assert_eq!(Payload::decode(&b).unwrap(), p);
        for cut in 0..b.len() {
            assert!(Payload::decode(&b[..cut]).is_err());
        }
        assert!(Payload::decode(&[9, 9, 9]).is_err());
    }
}
