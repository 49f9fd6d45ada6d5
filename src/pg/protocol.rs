//! PostgreSQL v3 frontend messages, decoded defensively: every length and count is checked
//! against the frame, strings must be valid UTF-8, and a malformed message becomes an error for
//! that client only. Backend messages are encoded with pgwire's message types.

use bytes::BytesMut;
use pgwire::messages::PgWireBackendMessage;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{PgError, code};

/// Largest regular message we accept (PostgreSQL's own limit is 1 GB).
pub const MAX_MESSAGE: usize = 256 * 1024 * 1024;
/// Largest startup packet (PostgreSQL: 10,000 bytes).
pub const MAX_STARTUP: usize = 10_000;

pub const SSL_REQUEST: i32 = 80877103;
pub const GSSENC_REQUEST: i32 = 80877104;
pub const CANCEL_REQUEST: i32 = 80877102;
pub const PROTOCOL_3_0: i32 = 196608;

/// What a client sent before the session starts.
#[derive(Debug)]
pub enum Startup {
    Ssl,
    GssEnc,
    Cancel {
        pid: i32,
        key: i32,
    },
    Start {
        version: i32,
        params: Vec<(String, String)>,
    },
}

/// A message of an established session.
#[derive(Debug)]
pub enum Frontend {
    Query(String),
    Parse {
        name: String,
        query: String,
        types: Vec<u32>,
    },
    Bind {
        portal: String,
        statement: String,
        param_formats: Vec<i16>,
        params: Vec<Option<Vec<u8>>>,
        result_formats: Vec<i16>,
    },
    Describe {
        kind: u8,
        name: String,
    },
    Execute {
        portal: String,
        max_rows: i32,
    },
    Close {
        kind: u8,
        name: String,
    },
    Sync,
    Flush,
    Terminate,
    CopyData(Vec<u8>),
    CopyDone,
    CopyFail(String),
    /// PasswordMessage / SASL responses (not used while authentication is `trust`).
    Password(Vec<u8>),
}

/// A message that could not be used.
#[derive(Debug)]
pub enum BadMessage {
    /// The stream itself is broken (bad length, unknown type): report and close.
    Fatal(PgError),
    /// The message was framed correctly but its content is invalid: report, keep going.
    Recoverable { error: PgError, extended: bool },
}

fn protocol(msg: impl Into<String>) -> PgError {
    PgError::fatal(code::PROTOCOL_VIOLATION, msg)
}

/// A cursor over one message body.
struct Body<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PgError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| {
                PgError::new(
                    code::PROTOCOL_VIOLATION,
                    "invalid message format: message is shorter than its fields",
                )
            })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn i16(&mut self) -> Result<i16, PgError> {
        let s = self.take(2)?;
        Ok(i16::from_be_bytes([s[0], s[1]]))
    }

    fn i32(&mut self) -> Result<i32, PgError> {
        let s = self.take(4)?;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn u8(&mut self) -> Result<u8, PgError> {
        Ok(self.take(1)?[0])
    }

    /// A NUL-terminated UTF-8 string.
    fn cstr(&mut self) -> Result<String, PgError> {
        let rest = &self.b[self.pos..];
        let n = rest.iter().position(|c| *c == 0).ok_or_else(|| {
            PgError::new(
                code::PROTOCOL_VIOLATION,
                "invalid string in message: missing terminator",
            )
        })?;
        let s = &rest[..n];
        self.pos += n + 1;
        utf8(s)
    }

    fn count(&mut self, elem_size: usize) -> Result<usize, PgError> {
        let n = self.i16()?;
        if n < 0 {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                "invalid message format: negative count",
            ));
        }
        let n = n as usize;
        if n.saturating_mul(elem_size) > self.b.len() - self.pos {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                "invalid message format: count exceeds message",
            ));
        }
        Ok(n)
    }

    fn end(&self) -> Result<(), PgError> {
        if self.pos != self.b.len() {
            return Err(PgError::new(
                code::PROTOCOL_VIOLATION,
                "invalid message format: trailing bytes",
            ));
        }
        Ok(())
    }
}

/// Strict UTF-8 with PostgreSQL's error for invalid input.
pub fn utf8(b: &[u8]) -> Result<String, PgError> {
    match std::str::from_utf8(b) {
        Ok(s) => {
            if s.contains('\0') {
                return Err(PgError::new(
                    code::CHARACTER_NOT_IN_REPERTOIRE,
                    "invalid byte sequence for encoding \"UTF8\": 0x00",
                ));
            }
            Ok(s.to_string())
        }
        Err(e) => {
            let at = e.valid_up_to();
            let bad: Vec<String> = b[at..]
                .iter()
                .take(2)
                .map(|x| format!("0x{x:02x}"))
                .collect();
            Err(PgError::new(
                code::CHARACTER_NOT_IN_REPERTOIRE,
                format!(
                    "invalid byte sequence for encoding \"UTF8\": {}",
                    bad.join(" ")
                ),
            ))
        }
    }
}

async fn read_exact<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> std::io::Result<bool> {
    match r.read_exact(buf).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Read the first packet of a connection. Ok(None) on EOF.
pub async fn read_startup<R: AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<Result<Startup, PgError>>> {
    let mut len = [0u8; 4];
    if !read_exact(r, &mut len).await? {
        return Ok(None);
    }
    let len = i32::from_be_bytes(len);
    if !(8..=MAX_STARTUP as i32).contains(&len) {
        return Ok(Some(Err(protocol("invalid length of startup packet"))));
    }
    let mut body = vec![0u8; len as usize - 4];
    if !read_exact(r, &mut body).await? {
        return Ok(None);
    }
    let mut b = Body { b: &body, pos: 0 };
    let code = match b.i32() {
        Ok(c) => c,
        Err(e) => return Ok(Some(Err(e))),
    };
    let parsed = (|| -> Result<Startup, PgError> {
        match code {
            SSL_REQUEST => Ok(Startup::Ssl),
            GSSENC_REQUEST => Ok(Startup::GssEnc),
            CANCEL_REQUEST => {
                let pid = b.i32()?;
                let key = b.i32()?;
                Ok(Startup::Cancel { pid, key })
            }
            v if v >> 16 == 3 => {
                let mut params = Vec::new();
                loop {
                    let k = b
                        .cstr()
                        .map_err(|e| PgError::fatal(code::PROTOCOL_VIOLATION, e.message.clone()))?;
                    if k.is_empty() {
                        break;
                    }
                    let v = b
                        .cstr()
                        .map_err(|e| PgError::fatal(code::PROTOCOL_VIOLATION, e.message.clone()))?;
                    params.push((k, v));
                }
                Ok(Startup::Start { version: v, params })
            }
            v => Err(PgError::fatal(
                code::PROTOCOL_VIOLATION,
                format!(
                    "unsupported frontend protocol {}.{}: server supports 3.0 to 3.0",
                    v >> 16,
                    v & 0xffff
                ),
            )),
        }
    })();
    Ok(Some(parsed))
}

/// Read one regular message. Ok(None) on EOF.
pub async fn read_message<R: AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<Result<Frontend, BadMessage>>> {
    let mut head = [0u8; 5];
    if !read_exact(r, &mut head).await? {
        return Ok(None);
    }
    let ty = head[0];
    let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len < 4 || len as usize > 1 << 30 {
        return Ok(Some(Err(BadMessage::Fatal(protocol(format!(
            "invalid message length {len}"
        ))))));
    }
    let len = len as usize - 4;
    let extended = matches!(ty, b'P' | b'B' | b'D' | b'E' | b'C' | b'H');
    if len > MAX_MESSAGE {
        // Drain it so the stream stays in step, then refuse it.
        let mut left = len;
        let mut chunk = vec![0u8; 64 * 1024];
        while left > 0 {
            let n = left.min(chunk.len());
            if !read_exact(r, &mut chunk[..n]).await? {
                return Ok(None);
            }
            left -= n;
        }
        return Ok(Some(Err(BadMessage::Recoverable {
            error: PgError::new(
                code::PROGRAM_LIMIT_EXCEEDED,
                format!("message of {len} bytes exceeds the {MAX_MESSAGE}-byte limit"),
            ),
            extended,
        })));
    }
    let mut body = vec![0u8; len];
    if !read_exact(r, &mut body).await? {
        return Ok(None);
    }
    Ok(Some(decode(ty, body).map_err(|error| {
        if error.severity == crate::error::Severity::Fatal {
            BadMessage::Fatal(error)
        } else {
            BadMessage::Recoverable { error, extended }
        }
    })))
}

fn decode(ty: u8, body: Vec<u8>) -> Result<Frontend, PgError> {
    let mut b = Body { b: &body, pos: 0 };
    let m = match ty {
        b'Q' => {
            let q = b.cstr()?;
            Frontend::Query(q)
        }
        b'P' => {
            let name = b.cstr()?;
            let query = b.cstr()?;
            let n = b.count(4)?;
            let mut types = Vec::with_capacity(n);
            for _ in 0..n {
                types.push(b.i32()? as u32);
            }
            Frontend::Parse { name, query, types }
        }
        b'B' => {
            let portal = b.cstr()?;
            let statement = b.cstr()?;
            let nf = b.count(2)?;
            let mut param_formats = Vec::with_capacity(nf);
            for _ in 0..nf {
                param_formats.push(b.i16()?);
            }
            let np = b.count(4)?;
            let mut params = Vec::with_capacity(np);
            for _ in 0..np {
                let l = b.i32()?;
                if l < -1 {
                    return Err(PgError::new(
                        code::PROTOCOL_VIOLATION,
                        "invalid parameter length",
                    ));
                }
                params.push(if l == -1 {
                    None
                } else {
                    Some(b.take(l as usize)?.to_vec())
                });
            }
            let nr = b.count(2)?;
            let mut result_formats = Vec::with_capacity(nr);
            for _ in 0..nr {
                result_formats.push(b.i16()?);
            }
            Frontend::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            }
        }
        b'D' => {
            let kind = b.u8()?;
            let name = b.cstr()?;
            if kind != b'S' && kind != b'P' {
                return Err(PgError::new(
                    code::PROTOCOL_VIOLATION,
                    format!("invalid DESCRIBE message subtype {kind}"),
                ));
            }
            Frontend::Describe { kind, name }
        }
        b'E' => {
            let portal = b.cstr()?;
            let max_rows = b.i32()?;
            Frontend::Execute { portal, max_rows }
        }
        b'C' => {
            let kind = b.u8()?;
            let name = b.cstr()?;
            if kind != b'S' && kind != b'P' {
                return Err(PgError::new(
                    code::PROTOCOL_VIOLATION,
                    format!("invalid CLOSE message subtype {kind}"),
                ));
            }
            Frontend::Close { kind, name }
        }
        b'S' => Frontend::Sync,
        b'H' => Frontend::Flush,
        b'X' => Frontend::Terminate,
        b'd' => return Ok(Frontend::CopyData(body)),
        b'c' => Frontend::CopyDone,
        b'f' => Frontend::CopyFail(
            String::from_utf8_lossy(body.strip_suffix(&[0]).unwrap_or(&body)).into_owned(),
        ),
        b'p' => return Ok(Frontend::Password(body)),
        other => {
            return Err(protocol(format!("invalid frontend message type {other}")));
        }
    };
    b.end()?;
    Ok(m)
}

/// Append an encoded backend message to an output buffer.
pub fn put(buf: &mut BytesMut, m: PgWireBackendMessage) {
    // Encoding only fails for messages over pgwire's size limits, which our messages never
    // reach except DataRow/RowDescription (whose limit is i32::MAX).
    if let Err(e) = m.encode(buf) {
        tracing::error!("could not encode backend message: {e}");
    }
}
