//! The wire protocol over real TCP: extended protocol (named statements and portals, inferred
//! parameter types, row-limited Execute, binary formats), transaction status, failed
//! transactions, cancel, statement_timeout, concurrent isolated sessions, and bad input that
//! must get an error without hurting other sessions.

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::types::Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_infers_parameter_and_result_types() {
    let s = common::Bedrock::start();
    let c = s.client().await;
    c.batch_execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(20), price numeric(10,2), at timestamptz, tags text[])",
    )
    .await
    .unwrap();
    let st = c
        .prepare("SELECT id, name, price FROM items WHERE id = $1 AND price > $2 LIMIT $3")
        .await
        .unwrap();
    assert_eq!(st.params(), &[Type::INT8, Type::NUMERIC, Type::INT8]);
    let cols: Vec<Type> = st.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(cols, vec![Type::INT8, Type::VARCHAR, Type::NUMERIC]);
    let st = c
        .prepare("INSERT INTO items (id, name, at, tags) VALUES ($1, $2, $3, $4)")
        .await
        .unwrap();
    assert_eq!(
        st.params(),
        &[
            Type::INT8,
            Type::VARCHAR,
            Type::TIMESTAMPTZ,
            Type::TEXT_ARRAY
        ]
    );
    let st = c.prepare("SELECT $1::int4 + 1, $2").await.unwrap();
    assert_eq!(st.params(), &[Type::INT4, Type::TEXT]);
    assert_eq!(st.columns()[0].type_(), &Type::INT4);
    assert_eq!(st.columns()[1].type_(), &Type::TEXT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_round_trip_of_every_announced_type() {
    let s = common::Bedrock::start();
    let c = s.client().await;
    c.batch_execute(
        "CREATE TABLE v (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, t text, vc varchar(10), by bytea, d date, ts timestamp, u uuid, j json, jb jsonb, ai int4[], at text[])",
    )
    .await
    .unwrap();
    let d = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let ts = d.and_hms_micro_opt(13, 14, 15, 123456).unwrap();
    let ai: Vec<Option<i32>> = vec![Some(1), None, Some(3)];
    let at: Vec<String> = vec!["a b".into(), "c,d".into()];
    c.execute(
        "INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::uuid, $13::text::json, $14::text::jsonb, $15, $16)",
        &[&true, &-7i16, &123456i32, &-9_000_000_000i64, &1.5f32, &-2.25f64, &"héllo", &"short", &vec![0u8, 255, 10], &d, &ts, &"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &r#"{"k": [1, 2]}"#, &r#"{"b":1,"a":2}"#, &ai, &at],
    )
    .await
    .unwrap();
    let r = c.query_one("SELECT b, i2, i4, i8, f4, f8, t, vc, by, d, ts, u::text, j::text, jb::text, ai, at FROM v", &[]).await.unwrap();
    assert!(r.get::<_, bool>(0));
    assert_eq!(r.get::<_, i16>(1), -7);
    assert_eq!(r.get::<_, i32>(2), 123456);
    assert_eq!(r.get::<_, i64>(3), -9_000_000_000);
    assert_eq!(r.get::<_, f32>(4), 1.5);
    assert_eq!(r.get::<_, f64>(5), -2.25);
    assert_eq!(r.get::<_, &str>(6), "héllo");
    assert_eq!(r.get::<_, &str>(7), "short");
    assert_eq!(r.get::<_, Vec<u8>>(8), vec![0u8, 255, 10]);
    assert_eq!(r.get::<_, chrono::NaiveDate>(9), d);
    assert_eq!(r.get::<_, chrono::NaiveDateTime>(10), ts);
    assert_eq!(r.get::<_, &str>(11), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_eq!(r.get::<_, &str>(12), r#"{"k": [1, 2]}"#);
    assert_eq!(r.get::<_, &str>(13), r#"{"a": 2, "b": 1}"#);
    assert_eq!(r.get::<_, Vec<Option<i32>>>(14), ai);
    assert_eq!(r.get::<_, Vec<String>>(15), at);
    // varchar(10) is enforced on bound parameters too.
    let e = c
        .execute("INSERT INTO v (vc) VALUES ($1)", &[&"much too long"])
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "22001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portals_with_row_limits() {
    let s = common::Bedrock::start();
    let mut c = s.client().await;
    c.batch_execute(
        "CREATE TABLE n (i int); INSERT INTO n SELECT g FROM generate_series(1, 10) AS g",
    )
    .await
    .unwrap();
    let tx = c.transaction().await.unwrap();
    let st = tx.prepare("SELECT i FROM n ORDER BY i").await.unwrap();
    let portal = tx.bind(&st, &[]).await.unwrap();
    let first = tx.query_portal(&portal, 3).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let second = tx.query_portal(&portal, 4).await.unwrap();
    assert_eq!(
        second
            .iter()
            .map(|r| r.get::<_, i32>(0))
            .collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );
    let rest = tx.query_portal(&portal, 0).await.unwrap();
    assert_eq!(rest.len(), 3);
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_transaction_and_savepoints() {
    let s = common::Bedrock::start();
    let c = s.client().await;
    c.batch_execute("CREATE TABLE a (id int PRIMARY KEY)")
        .await
        .unwrap();
    c.batch_execute("BEGIN; INSERT INTO a VALUES (1)")
        .await
        .unwrap();
    let e = c
        .batch_execute("INSERT INTO a VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "23505");
    let e = c.batch_execute("SELECT 1").await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "25P02");
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(
        c.query_one("SELECT count(*) FROM a", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );
    // ROLLBACK TO SAVEPOINT recovers a failed block and keeps earlier work.
    c.batch_execute("BEGIN; INSERT INTO a VALUES (1); SAVEPOINT s1; INSERT INTO a VALUES (2)")
        .await
        .unwrap();
    assert!(c.batch_execute("INSERT INTO a VALUES (2)").await.is_err());
    c.batch_execute("ROLLBACK TO SAVEPOINT s1; INSERT INTO a VALUES (3); COMMIT")
        .await
        .unwrap();
    let ids: Vec<i32> = c
        .query("SELECT id FROM a ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1, 3]);
    // COMMIT of a failed block reports ROLLBACK.
    c.batch_execute("BEGIN").await.unwrap();
    let _ = c.batch_execute("SELECT 1/0").await;
    let mut raw = Raw::connect(s.port).await;
    raw.query(b"BEGIN").await;
    let (_, codes, status) = raw.query(b"SELECT 1/0").await;
    assert_eq!((codes, status), (vec!["22012".to_string()], b'E'));
    // The tag of COMMIT in a failed block is ROLLBACK, and the session is idle again.
    let mut b = b"COMMIT".to_vec();
    b.push(0);
    raw.send(b'Q', &b).await;
    let mut head = [0u8; 5];
    raw.s.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], b'C');
    let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize - 4;
    let mut body = vec![0u8; len];
    raw.s.read_exact(&mut body).await.unwrap();
    assert_eq!(body, b"ROLLBACK\0");
    let (_, codes, status) = raw.until_ready().await;
    assert_eq!((codes.len(), status), (0, b'I'));
    // tokio-postgres sees the same.
    let msgs = c.simple_query("COMMIT").await.unwrap();
    assert!(
        msgs.iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(0)))
    );
    assert_eq!(
        c.query_one("SELECT count(*) FROM a", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_isolated_and_writes_do_not_wait() {
    let s = common::Bedrock::start();
    let a = s.client().await;
    let b = s.client().await;
    a.batch_execute("CREATE TABLE iso (v int)").await.unwrap();
    a.batch_execute("BEGIN; INSERT INTO iso VALUES (1)")
        .await
        .unwrap();
    // b does not see a's uncommitted row, and its own write (no conflict) does not wait for
    // a's open transaction — as in PostgreSQL, where only conflicting rows wait.
    assert_eq!(
        b.query_one("SELECT count(*) FROM iso", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );
    tokio::time::timeout(
        Duration::from_secs(5),
        b.batch_execute("INSERT INTO iso VALUES (2)"),
    )
    .await
    .expect("a non-conflicting write must not wait for another session's transaction")
    .unwrap();
    assert_eq!(
        b.query_one("SELECT count(*) FROM iso", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        1
    );
    // a still sees only its own row, then commits on top of b's.
    assert_eq!(
        a.query_one("SELECT count(*) FROM iso WHERE v = 1", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        1
    );
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        b.query_one("SELECT count(*) FROM iso", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_statement_timeout_interrupt_sqlite() {
    let s = common::Bedrock::start();
    let c = s.client().await;
    let endless =
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";
    let token = c.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    });
    let e = c.simple_query(endless).await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("57014"), "{e:?}");
    canceller.await.unwrap();
    c.batch_execute("SET statement_timeout = 200")
        .await
        .unwrap();
    let e = c.simple_query(endless).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "57014");
    let msg = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(msg.contains("statement timeout"), "{msg}");
    // The session is still usable.
    c.batch_execute("SET statement_timeout = 0").await.unwrap();
    assert_eq!(
        c.query_one("SELECT 1", &[]).await.unwrap().get::<_, i32>(0),
        1
    );
}

/// A raw protocol connection for what no driver sends.
struct Raw {
    s: TcpStream,
}

impl Raw {
    async fn connect(port: u16) -> Raw {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut body = Vec::new();
        body.extend_from_slice(&196608i32.to_be_bytes());
        for kv in ["user", "postgres", "database", "postgres", ""] {
            body.extend_from_slice(kv.as_bytes());
            body.push(0);
        }
        let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        msg.extend(body);
        s.write_all(&msg).await.unwrap();
        let mut r = Raw { s };
        r.until_ready().await;
        r
    }

    async fn send(&mut self, ty: u8, body: &[u8]) {
        let mut m = vec![ty];
        m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        m.extend_from_slice(body);
        self.s.write_all(&m).await.unwrap();
    }

    /// Read messages until ReadyForQuery; returns (types seen, SQLSTATEs, status byte).
    async fn until_ready(&mut self) -> (Vec<u8>, Vec<String>, u8) {
        let mut types = Vec::new();
        let mut codes = Vec::new();
        loop {
            let mut head = [0u8; 5];
            self.s.read_exact(&mut head).await.unwrap();
            let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize - 4;
            let mut body = vec![0u8; len];
            self.s.read_exact(&mut body).await.unwrap();
            types.push(head[0]);
            if head[0] == b'E' {
                let mut i = 0;
                while i < body.len() && body[i] != 0 {
                    let f = body[i];
                    let end = body[i + 1..].iter().position(|c| *c == 0).unwrap() + i + 1;
                    if f == b'C' {
                        codes.push(String::from_utf8_lossy(&body[i + 1..end]).into_owned());
                    }
                    i = end + 1;
                }
            }
            if head[0] == b'Z' {
                return (types, codes, body[0]);
            }
        }
    }

    async fn query(&mut self, sql: &[u8]) -> (Vec<u8>, Vec<String>, u8) {
        let mut b = sql.to_vec();
        b.push(0);
        self.send(b'Q', &b).await;
        self.until_ready().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_status_bytes() {
    let s = common::Bedrock::start();
    let mut r = Raw::connect(s.port).await;
    assert_eq!(r.query(b"SELECT 1").await.2, b'I');
    assert_eq!(r.query(b"BEGIN").await.2, b'T');
    let (_, codes, st) = r.query(b"SELECT 1/0").await;
    assert_eq!((codes, st), (vec!["22012".to_string()], b'E'));
    let (_, codes, st) = r.query(b"SELECT 1").await;
    assert_eq!((codes, st), (vec!["25P02".to_string()], b'E'));
    assert_eq!(r.query(b"ROLLBACK").await.2, b'I');
    // A multi-statement Query is one implicit transaction: the error rolls back the insert.
    r.query(b"CREATE TABLE m (v int)").await;
    let (_, codes, st) = r.query(b"INSERT INTO m VALUES (1); SELECT 1/0").await;
    assert_eq!((codes, st), (vec!["22012".to_string()], b'I'));
    let (types, _, _) = r.query(b"SELECT count(*) FROM m").await;
    assert!(types.contains(&b'D'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_errors_and_others_keep_working() {
    let s = common::Bedrock::start();
    let other = s.client().await;
    let mut r = Raw::connect(s.port).await;
    // Invalid UTF-8 in a query: 22021, connection stays usable.
    let (_, codes, _) = r.query(b"SELECT '\xff\xfe'").await;
    assert_eq!(codes, vec!["22021".to_string()]);
    // A truncated Bind message: protocol violation error, then Sync recovers.
    r.send(b'B', b"\0\0\x00\x05").await;
    r.send(b'S', b"").await;
    let (_, codes, st) = r.until_ready().await;
    assert_eq!((codes, st), (vec!["08P01".to_string()], b'I'));
    // Unknown prepared statement: 26000.
    r.send(b'B', b"\0nope\0\0\0\0\0\0\0").await;
    r.send(b'S', b"").await;
    let (_, codes, _) = r.until_ready().await;
    assert_eq!(codes, vec!["26000".to_string()]);
    // Garbage SQL.
    let (_, codes, _) = r.query(b"SELEKT * FROMM").await;
    assert_eq!(codes, vec!["42601".to_string()]);
    assert_eq!(r.query(b"SELECT 1").await.1.len(), 0);
    // An oversized message is refused but the session goes on.
    let big = vec![b'x'; 300 * 1024 * 1024];
    let mut q = b"SELECT '".to_vec();
    q.extend_from_slice(&big[..]);
    q.extend_from_slice(b"'");
    let (_, codes, _) = r.query(&q).await;
    assert_eq!(codes, vec!["54000".to_string()]);
    assert_eq!(r.query(b"SELECT 1").await.1.len(), 0);
    // A nonsense message type closes only that connection.
    // PostgreSQL answers FATAL 08P01 and closes; so must we: everything up to EOF is read and
    // must be exactly one ErrorResponse carrying 08P01.
    r.send(b'!', b"").await;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), r.s.read_to_end(&mut rest))
        .await
        .expect("the connection must be closed after a nonsense message")
        .unwrap();
    assert_eq!(
        rest.first(),
        Some(&b'E'),
        "expected an ErrorResponse: {rest:?}"
    );
    let len = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
    assert_eq!(
        rest.len(),
        len + 1,
        "nothing may follow the error: {rest:?}"
    );
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains("SFATAL") && text.contains("C08P01"), "{text}");
    assert_eq!(
        other
            .query_one("SELECT 41 + 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        42
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_count_is_reported_and_fences_reads() {
    let s = common::Bedrock::start();
    let mut r = Raw::connect(s.port).await;
    r.query(b"CREATE TABLE f (v int)").await;
    let (types, _, _) = r.query(b"INSERT INTO f VALUES (1)").await;
    assert!(
        types.contains(&b'S'),
        "a committed write sends ParameterStatus bedrock.commit_count: {types:?}"
    );
    let (types, _, _) = r.query(b"SELECT * FROM f").await;
    assert!(!types.contains(&b'S'), "reads send no ParameterStatus");
    let c = s.client().await;
    let node: i64 = c
        .query_one("SHOW bedrock.node_commit_count", &[])
        .await
        .unwrap()
        .get::<_, String>(0)
        .parse()
        .unwrap();
    // The session's fence is the commit count of its last write; nothing else wrote since.
    let own: i64 = {
        c.batch_execute("CREATE TABLE g (v int)").await.unwrap();
        c.query_one("SHOW bedrock.commit_count", &[])
            .await
            .unwrap()
            .get::<_, String>(0)
            .parse()
            .unwrap()
    };
    assert_eq!(own, node + 1);
    let node = own;
    // A fence the node has not reached makes reads wait, then fail with 57014 naming the commit.
    c.batch_execute(&format!(
        "SET bedrock.commit_count = {}; SET bedrock.wait_timeout = '300ms'",
        node + 1
    ))
    .await
    .unwrap();
    let e = c.query("SELECT 1", &[]).await.unwrap_err();
    let db = e.as_db_error().unwrap();
    assert_eq!(db.code().code(), "57014");
    assert!(
        db.message().contains(&format!("commit {}", node + 1)),
        "{}",
        db.message()
    );
    // Once another session commits, the fenced read goes through.
    let c2 = s.client().await;
    c.batch_execute("SET bedrock.wait_timeout = '10s'")
        .await
        .unwrap();
    let reader = tokio::spawn(async move {
        c.query_one("SELECT count(*) FROM f", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    c2.batch_execute("INSERT INTO f VALUES (2)").await.unwrap();
    assert_eq!(reader.await.unwrap(), 2);
    // The consistency setting accepts QUORUM/ONE/ASYNC in any case, nothing else.
    c2.batch_execute("SET bedrock.consistency = 'async'")
        .await
        .unwrap();
    assert_eq!(
        c2.query_one("SHOW bedrock.consistency", &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "ASYNC"
    );
    let e = c2
        .batch_execute("SET bedrock.consistency = 'all'")
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "22023");
    c2.batch_execute("BEGIN; SET LOCAL bedrock.consistency = one")
        .await
        .unwrap();
    assert_eq!(
        c2.query_one("SHOW bedrock.consistency", &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "ONE"
    );
    c2.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        c2.query_one("SHOW bedrock.consistency", &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "ASYNC"
    );
    assert_eq!(
        c2.query_one("SHOW bedrock.state", &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "LEADING"
    );
}
