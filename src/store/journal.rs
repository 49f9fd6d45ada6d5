//! Reading the journal (`__bedrock_journal`, DESIGN.md §3) and what is derived from it: the
//! durable tip, entries for catch-up, the request-id index, the election state in
//! `__bedrock_meta`; and the offline tools built on it: verifying the hash chain, a content
//! checksum of the user tables, and rebuilding a database from the journal alone.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Conn, Extension, LOCAL_TABLES, Role, STORE_SCHEMA, quote_ident};
use crate::config::Synchronous;
use crate::log::{Body, Entry, Envelope, Hash, LogPos, RequestId, ZERO_HASH, chain};

fn hash_of(n: i64, h: &[u8]) -> rusqlite::Result<Hash> {
    h.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Blob,
            format!("journal commit {n}: hash is {} bytes, not 32", h.len()).into(),
        )
    })
}

/// The durable tip: the last journal row (the empty log if there is none). A hash of the wrong
/// length is a damaged journal, never the empty hash.
pub fn read_tip(conn: &Connection) -> rusqlite::Result<LogPos> {
    let row: Option<(i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT commit_count, term, hash FROM __bedrock_journal ORDER BY commit_count DESC LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match row {
        None => LogPos::default(),
        Some((n, term, h)) => LogPos {
            count: n as u64,
            term: term as u64,
            hash: hash_of(n, &h)?,
        },
    })
}

/// The journal row at `count`, if it is still in the window.
pub fn read_entry(conn: &Connection, count: u64) -> rusqlite::Result<Option<Entry>> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT term, hash, payload FROM __bedrock_journal WHERE commit_count = ?1",
        )?
        .query_row(params![count as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((term, h, payload)) => Ok(Some(Entry {
            count,
            term: term as u64,
            hash: hash_of(count as i64, &h)?,
            payload,
        })),
    }
}

/// The commit and recorded result of request `id`, from the index that outlives the journal.
pub fn find_request(conn: &Connection, id: RequestId) -> rusqlite::Result<Option<(u64, Vec<u8>)>> {
    conn.prepare_cached("SELECT commit_count, result FROM __bedrock_requests WHERE id = ?1")?
        .query_row(params![&id.0.to_be_bytes()[..]], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })
        .optional()
}

/// Delete up to `limit` journal rows at or below `floor` (trimming to `-maxJournalSize` a few
/// rows per commit, so no commit pays for a big delete).
pub(super) fn trim(conn: &Connection, floor: u64, limit: u32) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "DELETE FROM __bedrock_journal WHERE commit_count IN \
         (SELECT commit_count FROM __bedrock_journal WHERE commit_count <= ?1 ORDER BY commit_count LIMIT ?2)",
    )?
    .execute(params![floor as i64, limit])?;
    Ok(())
}

/// The durable election state: (term, name voted for in it).
pub fn read_hard_state(conn: &Connection) -> rusqlite::Result<(u64, Option<String>)> {
    let get = |key: &str| -> rusqlite::Result<Option<rusqlite::types::Value>> {
        conn.query_row(
            "SELECT value FROM __bedrock_meta WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()
    };
    let term = match get("term")? {
        Some(rusqlite::types::Value::Integer(t)) if t >= 0 => t as u64,
        _ => 0,
    };
    let vote = match get("vote")? {
        Some(rusqlite::types::Value::Text(v)) if !v.is_empty() => Some(v),
        _ => None,
    };
    Ok((term, vote))
}

/// The cluster id this database belongs to (made at creation).
pub fn cluster_id(conn: &Connection) -> rusqlite::Result<u64> {
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM __bedrock_meta WHERE key = 'cluster_id'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|s| u64::from_str_radix(&s, 16).ok())
        .unwrap_or(0))
}

/// Recompute the hash chain over the journal window and decode every payload. Returns the
/// number of commits checked.
pub fn verify_journal(conn: &Connection) -> Result<u64, String> {
    let mut stmt = conn
        .prepare("SELECT commit_count, hash, payload FROM __bedrock_journal ORDER BY commit_count")
        .map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut prev: Option<(u64, Hash)> = None;
    let mut checked = 0;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let n: i64 = r.get(0).map_err(|e| e.to_string())?;
        let h: Vec<u8> = r.get(1).map_err(|e| e.to_string())?;
        let p: Vec<u8> = r.get(2).map_err(|e| e.to_string())?;
        let hash = hash_of(n, &h).map_err(|e| e.to_string())?;
        if let Some((pn, ph)) = prev {
            if n as u64 != pn + 1 {
                return Err(format!("gap in journal between {pn} and {n}"));
            }
            if chain(&ph, &p) != hash {
                return Err(format!("commit {n}: hash does not match the chain"));
            }
        } else if n == 1 && chain(&ZERO_HASH, &p) != hash {
            return Err("commit 1: hash does not match the chain".into());
        }
        let envelope = Envelope::decode(&p).map_err(|e| format!("commit {n}: {e}"))?;
        Body::decode(&envelope.body).map_err(|e| format!("commit {n}: body: {e}"))?;
        prev = Some((n as u64, hash));
        checked += 1;
    }
    Ok(checked)
}

/// A checksum of the content of every user table (and the replicated catalog), so nodes can
/// compare state: SHA-256 over tables in name order, rows in rowid order.
pub fn content_checksum(conn: &Connection) -> rusqlite::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let tables: Vec<String> = {
        let mut st = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )?;
        st.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?
            .into_iter()
            .filter(|t| !LOCAL_TABLES.contains(&t.as_str()))
            .collect()
    };
    for t in tables {
        h.update(t.as_bytes());
        h.update([0]);
        let mut st = conn
            .prepare(&format!("SELECT * FROM {} ORDER BY rowid", quote_ident(&t)))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM {}", quote_ident(&t))))?;
        let n = st.column_count();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            for i in 0..n {
                match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => h.update([0]),
                    rusqlite::types::ValueRef::Integer(v) => {
                        h.update([1]);
                        h.update(v.to_be_bytes());
                    }
                    rusqlite::types::ValueRef::Real(v) => {
                        h.update([2]);
                        h.update(v.to_bits().to_be_bytes());
                    }
                    rusqlite::types::ValueRef::Text(v) => {
                        h.update([3]);
                        h.update((v.len() as u64).to_be_bytes());
                        h.update(v);
                    }
                    rusqlite::types::ValueRef::Blob(v) => {
                        h.update([4]);
                        h.update((v.len() as u64).to_be_bytes());
                        h.update(v);
                    }
                }
            }
        }
    }
    Ok(h.finalize().into())
}

/// Rebuild a database from another one's journal alone, as a follower would: a fresh file with
/// the internal schema, then every journaled body applied in order, each in its own
/// transaction. Returns the number of commits applied and the content checksum of the result.
/// Requires the journal to start at commit 1 (nothing trimmed).
pub fn replay_journal(
    src: &Path,
    dst: &Path,
    ext: &dyn Extension,
) -> Result<(u64, [u8; 32]), String> {
    let source = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let replica =
        Conn::open(dst, Synchronous::Off, Role::Writer, ext).map_err(|e| e.to_string())?;
    replica
        .conn
        .execute_batch(STORE_SCHEMA)
        .and_then(|_| replica.conn.execute_batch(ext.schema()))
        .map_err(|e| e.to_string())?;
    let mut w = super::WriteConn::new(replica, LogPos::default(), u64::MAX);
    let mut st = source
        .prepare(
            "SELECT commit_count, term, hash, payload FROM __bedrock_journal ORDER BY commit_count",
        )
        .map_err(|e| e.to_string())?;
    let mut rows = st.query([]).map_err(|e| e.to_string())?;
    let mut n = 0u64;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let count: i64 = r.get(0).map_err(|e| e.to_string())?;
        if count as u64 != n + 1 {
            return Err(format!(
                "journal does not start at 1 or has a gap at {count}"
            ));
        }
        let h: Vec<u8> = r.get(2).map_err(|e| e.to_string())?;
        let entry = Entry {
            count: count as u64,
            term: r.get::<_, i64>(1).map_err(|e| e.to_string())? as u64,
            hash: hash_of(count, &h).map_err(|e| e.to_string())?,
            payload: r.get(3).map_err(|e| e.to_string())?,
        };
        w.apply_entry(&entry)?;
        n += 1;
    }
    let sum = content_checksum(&w.conn().conn).map_err(|e| e.to_string())?;
    Ok((n, sum))
}
