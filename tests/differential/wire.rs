//! A minimal blocking PostgreSQL simple-query client for the differential tests. tokio-postgres
//! does not expose the type OIDs of a simple-protocol RowDescription, so this speaks the wire
//! protocol directly and reports everything the comparison needs: column names, type OIDs and
//! typmods, text values, command tags, error fields and the transaction status.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One column of a RowDescription.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
    pub typmod: i32,
}

/// An ErrorResponse, reduced to the fields we compare.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub position: Option<u32>,
    pub constraint: Option<String>,
}

/// The outcome of one statement of a query string.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A statement that completed: its columns (None when no RowDescription was sent), rows and
    /// command tag.
    Done {
        columns: Option<Vec<Column>>,
        rows: Vec<Vec<Option<String>>>,
        tag: String,
    },
    Empty,
    Error(DbError),
}

/// The result of one Query message: the outcome of each statement and the transaction status
/// of the final ReadyForQuery (`I`, `T` or `E`).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub outcomes: Vec<Outcome>,
    pub status: char,
}

pub struct Conn {
    stream: TcpStream,
}

impl Conn {
    /// Connect with trust authentication and wait for the first ReadyForQuery.
    pub fn connect(port: u16, user: &str, database: &str) -> Result<Conn, String> {
        let stream =
            TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut c = Conn { stream };
        let mut body = Vec::new();
        body.extend_from_slice(&196608i32.to_be_bytes());
        for (k, v) in [
            ("user", user),
            ("database", database),
            ("client_encoding", "UTF8"),
        ] {
            body.extend_from_slice(k.as_bytes());
            body.push(0);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        msg.extend_from_slice(&body);
        c.stream.write_all(&msg).map_err(|e| e.to_string())?;
        loop {
            let (tag, payload) = c.read_message()?;
            match tag {
                b'R' => {
                    let code = i32::from_be_bytes(payload[0..4].try_into().unwrap());
                    if code != 0 {
                        return Err(format!("authentication method {code} is not supported"));
                    }
                }
                b'E' => return Err(format!("startup failed: {:?}", parse_error(&payload))),
                b'Z' => return Ok(c),
                _ => {}
            }
        }
    }

    fn read_message(&mut self) -> Result<(u8, Vec<u8>), String> {
        let mut head = [0u8; 5];
        self.stream
            .read_exact(&mut head)
            .map_err(|e| format!("read message header: {e}"))?;
        let len = i32::from_be_bytes(head[1..5].try_into().unwrap());
        if !(4..=1 << 30).contains(&len) {
            return Err(format!("bad message length {len}"));
        }
        let mut payload = vec![0u8; len as usize - 4];
        self.stream
            .read_exact(&mut payload)
            .map_err(|e| format!("read message body: {e}"))?;
        Ok((head[0], payload))
    }

    /// Send one Query message and collect everything up to ReadyForQuery.
    pub fn query(&mut self, sql: &str) -> Result<Response, String> {
        let mut msg = vec![b'Q'];
        msg.extend_from_slice(&((sql.len() + 5) as i32).to_be_bytes());
        msg.extend_from_slice(sql.as_bytes());
        msg.push(0);
        self.stream
            .write_all(&msg)
            .map_err(|e| format!("send query: {e}"))?;
        let mut outcomes = Vec::new();
        let mut columns: Option<Vec<Column>> = None;
        let mut rows = Vec::new();
        loop {
            let (tag, p) = self.read_message()?;
            match tag {
                b'T' => columns = Some(parse_row_description(&p)?),
                b'D' => rows.push(parse_data_row(&p)?),
                b'C' => outcomes.push(Outcome::Done {
                    columns: columns.take(),
                    rows: std::mem::take(&mut rows),
                    tag: cstr(&p, &mut 0)?,
                }),
                b'I' => outcomes.push(Outcome::Empty),
                b'E' => {
                    columns = None;
                    rows.clear();
                    outcomes.push(Outcome::Error(parse_error(&p)?));
                }
                b'Z' => {
                    let status = *p.first().ok_or("empty ReadyForQuery")? as char;
                    return Ok(Response { outcomes, status });
                }
                // Notices, ParameterStatus, NotificationResponse: not compared.
                b'N' | b'S' | b'A' => {}
                b'G' | b'H' => {
                    return Err("COPY is not supported by the differential client".into());
                }
                other => return Err(format!("unexpected message {:?}", other as char)),
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Terminate politely so servers don't log an unexpected EOF.
        let _ = self.stream.write_all(&[b'X', 0, 0, 0, 4]);
    }
}

fn cstr(p: &[u8], at: &mut usize) -> Result<String, String> {
    let rest = p.get(*at..).ok_or("truncated message")?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or("unterminated string")?;
    let s = String::from_utf8(rest[..end].to_vec()).map_err(|e| e.to_string())?;
    *at += end + 1;
    Ok(s)
}

fn be_i32(p: &[u8], at: &mut usize) -> Result<i32, String> {
    let b = p.get(*at..*at + 4).ok_or("truncated message")?;
    *at += 4;
    Ok(i32::from_be_bytes(b.try_into().unwrap()))
}

fn be_i16(p: &[u8], at: &mut usize) -> Result<i16, String> {
    let b = p.get(*at..*at + 2).ok_or("truncated message")?;
    *at += 2;
    Ok(i16::from_be_bytes(b.try_into().unwrap()))
}

fn parse_row_description(p: &[u8]) -> Result<Vec<Column>, String> {
    let mut at = 0;
    let n = be_i16(p, &mut at)?;
    let mut cols = Vec::new();
    for _ in 0..n {
        let name = cstr(p, &mut at)?;
        let _table = be_i32(p, &mut at)?;
        let _attnum = be_i16(p, &mut at)?;
        let type_oid = be_i32(p, &mut at)? as u32;
        let _len = be_i16(p, &mut at)?;
        let typmod = be_i32(p, &mut at)?;
        let _format = be_i16(p, &mut at)?;
        cols.push(Column {
            name,
            type_oid,
            typmod,
        });
    }
    Ok(cols)
}

fn parse_data_row(p: &[u8]) -> Result<Vec<Option<String>>, String> {
    let mut at = 0;
    let n = be_i16(p, &mut at)?;
    let mut vals = Vec::new();
    for _ in 0..n {
        let len = be_i32(p, &mut at)?;
        if len < 0 {
            vals.push(None);
        } else {
            let b = p
                .get(at..at + len as usize)
                .ok_or("truncated DataRow value")?;
            at += len as usize;
            vals.push(Some(String::from_utf8_lossy(b).into_owned()));
        }
    }
    Ok(vals)
}

fn parse_error(p: &[u8]) -> Result<DbError, String> {
    let mut e = DbError {
        code: String::new(),
        message: String::new(),
        detail: None,
        position: None,
        constraint: None,
    };
    let mut at = 0;
    while at < p.len() && p[at] != 0 {
        let field = p[at];
        at += 1;
        let v = cstr(p, &mut at)?;
        match field {
            b'C' => e.code = v,
            b'M' => e.message = v,
            b'D' => e.detail = Some(v),
            b'P' => e.position = v.parse().ok(),
            b'n' => e.constraint = Some(v),
            _ => {}
        }
    }
    Ok(e)
}
