//! The one write path under concurrency: many clients' writes share commits (group commit),
//! yet each client gets its own outcome and nobody else's; interactive transactions that
//! interleave keep their atomicity; and the journal alone rebuilds the same content for a
//! mixed workload (DDL, COPY, sequences, now(), random(), savepoints rolled back, interleaved
//! transactions that were parked and replayed).

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::Client;

async fn client(url: &str) -> Client {
    tokio::time::timeout(Duration::from_secs(10), common::connect(url))
        .await
        .expect("connect timed out")
}

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("no answer within 30 s")
}

async fn group_commit(s: &common::Bedrock) -> String {
    let c = client(&s.url()).await;
    c.query_one("SHOW bedrock.group_commit", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_autocommit_writers_get_their_own_outcomes() {
    let s = common::Bedrock::start();
    let setup = client(&s.url()).await;
    setup
        .batch_execute(
            "CREATE TABLE w (id bigint PRIMARY KEY, writer int NOT NULL, n int NOT NULL); \
             INSERT INTO w VALUES (0, -1, 0)",
        )
        .await
        .unwrap();
    let url = s.url();
    let mut tasks = Vec::new();
    for writer in 0..16i32 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let c = client(&url).await;
            let insert = c
                .prepare("INSERT INTO w VALUES ($1, $2, $3) RETURNING id, writer")
                .await
                .unwrap();
            let mut failures = Vec::new();
            for n in 0..50i32 {
                // Writer 7 always also tries the one id that exists: it must get 23505 for
                // exactly those statements, and the others must never see its error.
                if writer == 7 && n % 5 == 0 {
                    let e = bounded(c.query(&insert, &[&0i64, &writer, &n]))
                        .await
                        .unwrap_err();
                    failures.push(e.code().map(|c| c.code().to_string()));
                    continue;
                }
                let id = (writer as i64) * 1000 + n as i64 + 1;
                let rows = bounded(c.query(&insert, &[&id, &writer, &n]))
                    .await
                    .unwrap_or_else(|e| panic!("writer {writer} #{n}: {e:?}"));
                assert_eq!(rows.len(), 1);
                assert_eq!(rows[0].get::<_, i64>(0), id, "someone else's RETURNING row");
                assert_eq!(rows[0].get::<_, i32>(1), writer);
            }
            failures
        }));
    }
    for (writer, t) in tasks.into_iter().enumerate() {
        let failures = t.await.unwrap();
        if writer == 7 {
            assert_eq!(failures.len(), 10);
            assert!(
                failures.iter().all(|c| c.as_deref() == Some("23505")),
                "{failures:?}"
            );
        } else {
            assert!(failures.is_empty());
        }
    }
    let n: i64 = setup
        .query_one("SELECT count(*) FROM w", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1 + 15 * 50 + 40);
    // The writes shared commits: fewer journal entries than statements.
    let stats = group_commit(&s).await;
    let field = |k: &str| -> f64 {
        stats
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{k} in {stats}"))
    };
    assert!(field("requests") >= 790.0, "{stats}");
    assert!(
        field("requests_per_commit") > 1.0,
        "16 concurrent writers should share commits: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn interleaved_transactions_stay_atomic() {
    let s = common::Bedrock::start();
    let setup = client(&s.url()).await;
    setup
        .batch_execute(
            "CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL); \
             INSERT INTO acct SELECT g, 1000 FROM generate_series(1, 20) g",
        )
        .await
        .unwrap();
    let url = s.url();
    let retries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..8i64 {
        let url = url.clone();
        let retries = retries.clone();
        tasks.push(tokio::spawn(async move {
            let c = client(&url).await;
            let mut done = 0;
            let mut i = 0i64;
            while done < 30 {
                i += 1;
                let from = (w * 7 + i) % 20 + 1;
                let to = (w * 3 + i * 11) % 20 + 1;
                if from == to {
                    continue;
                }
                // A transfer in an interactive transaction, with a read between the writes
                // (its frame is parked and replayed while others run).
                let r: Result<(), tokio_postgres::Error> = async {
                    c.batch_execute("BEGIN").await?;
                    c.execute(
                        "UPDATE acct SET balance = balance - 5 WHERE id = $1",
                        &[&(from as i32)],
                    )
                    .await?;
                    let _ = c
                        .query_one("SELECT balance FROM acct WHERE id = $1", &[&(from as i32)])
                        .await?;
                    c.execute(
                        "UPDATE acct SET balance = balance + 5 WHERE id = $1",
                        &[&(to as i32)],
                    )
                    .await?;
                    c.batch_execute("COMMIT").await?;
                    Ok(())
                }
                .await;
                match r {
                    Ok(()) => done += 1,
                    Err(e) => {
                        let code = e.code().map(|c| c.code().to_string());
                        assert!(
                            matches!(code.as_deref(), Some("40001") | Some("40P01")),
                            "transfer failed with {e:?}"
                        );
                        retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let _ = c.batch_execute("ROLLBACK").await;
                    }
                }
            }
        }));
    }
    for t in tasks {
        bounded(t).await.unwrap();
    }
    let total: i64 = setup
        .query_one("SELECT sum(balance)::bigint FROM acct", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 20 * 1000, "money was created or destroyed");
    let stats = group_commit(&s).await;
    assert!(stats.contains("parks="), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_journal_alone_rebuilds_a_mixed_workload() {
    let s = common::Bedrock::start();
    let a = client(&s.url()).await;
    let b = client(&s.url()).await;
    a.batch_execute(
        "CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL, made timestamptz DEFAULT now(), \
                             r float8 DEFAULT random(), u uuid DEFAULT gen_random_uuid()); \
         CREATE SEQUENCE tickets START 100; \
         CREATE INDEX items_label ON items (label)",
    )
    .await
    .unwrap();
    // Interleaved interactive transactions (parked and replayed), sequences, savepoints.
    a.batch_execute("BEGIN").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    for i in 0..10 {
        a.execute("INSERT INTO items (label) VALUES ($1)", &[&format!("a{i}")])
            .await
            .unwrap();
        b.execute("INSERT INTO items (label) VALUES ($1)", &[&format!("b{i}")])
            .await
            .unwrap();
        a.query_one("SELECT nextval('tickets')", &[]).await.unwrap();
    }
    a.batch_execute("SAVEPOINT s1; INSERT INTO items (label) VALUES ('gone'); ROLLBACK TO s1")
        .await
        .unwrap();
    b.batch_execute("ROLLBACK").await.unwrap();
    a.batch_execute("COMMIT").await.unwrap();
    // Autocommit writes, DDL, a failed statement, COPY (small and staged).
    a.batch_execute(
        "UPDATE items SET label = upper(label) WHERE id % 3 = 0; \
         ALTER TABLE items ADD COLUMN note text DEFAULT 'x'; \
         DELETE FROM items WHERE label = 'a9'",
    )
    .await
    .unwrap();
    assert!(
        a.batch_execute("INSERT INTO items (id, label) VALUES (1, 'dup')")
            .await
            .is_err()
    );
    let sink = a
        .copy_in("COPY items (label, note) FROM STDIN")
        .await
        .unwrap();
    {
        use futures::SinkExt;
        let mut sink = Box::pin(sink);
        let mut data = String::new();
        // Past one COPY chunk (4 MB), so it is staged in bounded journal entries.
        for i in 0..90_000 {
            data.push_str(&format!("copied {i} {}\tnote {i}\n", "x".repeat(40)));
        }
        sink.send(bytes::Bytes::from(data)).await.unwrap();
        sink.as_mut().finish().await.unwrap();
    }
    let n: i64 = a
        .query_one("SELECT count(*) FROM items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 10 + 90_000 - 1);
    // Kill the server: its journal must verify and replay to the same content.
    let (dir, db) = s.kill();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let checked = bedrock_pg::store::journal::verify_journal(&conn).unwrap();
    assert!(checked > 5);
    let biggest: i64 = conn
        .query_row(
            "SELECT max(length(payload)) FROM __bedrock_journal",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        biggest < 16 << 20,
        "a COPY must not make one giant journal entry: {biggest} bytes"
    );
    let staged: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE '__bedrock_copy_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(staged, 0, "COPY staging tables are dropped once used");
    let live = bedrock_pg::store::journal::content_checksum(&conn).unwrap();
    drop(conn);
    let replica = dir.path().join("replica.db");
    let (applied, replayed) = bedrock_pg::store::journal::replay_journal(
        &db,
        &replica,
        &bedrock_pg::sql::extension::SqlExtension,
    )
    .unwrap();
    assert_eq!(applied, checked);
    assert_eq!(
        replayed, live,
        "replaying the journal must rebuild identical content"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn txid_is_stable_within_a_transaction_and_unique() {
    let s = common::Bedrock::start();
    let a = client(&s.url()).await;
    let b = client(&s.url()).await;
    a.batch_execute("CREATE TABLE tx (v int)").await.unwrap();
    a.batch_execute("BEGIN").await.unwrap();
    let x1: i64 = a
        .query_one("SELECT txid_current()", &[])
        .await
        .unwrap()
        .get(0);
    a.execute("INSERT INTO tx VALUES (1)", &[]).await.unwrap();
    // Another session writes meanwhile: the first one's frame is parked and replayed, and its
    // txid must not change under it.
    b.execute("INSERT INTO tx VALUES (2)", &[]).await.unwrap();
    let x2: i64 = a
        .query_one("SELECT txid_current()", &[])
        .await
        .unwrap()
        .get(0);
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(x1, x2, "txid_current() is stable within a transaction");
    let y: i64 = b
        .query_one("SELECT txid_current()", &[])
        .await
        .unwrap()
        .get(0);
    let z: i64 = b
        .query_one("SELECT txid_current()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        y != x1 && z != y,
        "each transaction has its own id: {x1} {y} {z}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_copy_cut_by_a_crash_leaves_nothing() {
    let s = common::Bedrock::start();
    let a = client(&s.url()).await;
    a.batch_execute("CREATE TABLE big (n int, pad text)")
        .await
        .unwrap();
    let db = s.db.clone();
    let sink = a.copy_in("COPY big FROM STDIN").await.unwrap();
    let feeder = tokio::spawn(async move {
        use futures::SinkExt;
        let mut sink = Box::pin(sink);
        for chunk in 0..200 {
            let mut data = String::new();
            for i in 0..10_000 {
                data.push_str(&format!("{}\t{}\n", chunk * 10_000 + i, "p".repeat(60)));
            }
            if sink.send(bytes::Bytes::from(data)).await.is_err() {
                return;
            }
        }
        let _ = sink.as_mut().finish().await;
    });
    // Wait until chunks are staged (a hidden table exists in the file), then kill -9.
    let staged = |db: &std::path::Path| -> i64 {
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name LIKE '__bedrock_copy_%'",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while staged(&db) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "COPY never staged a chunk"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (dir, db) = s.kill();
    let _ = feeder.await;
    let s = common::Bedrock::start_on(dir, db.clone(), &[]);
    let c = client(&s.url()).await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM big", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "a COPY is all or nothing");
    let (_dir, db) = s.kill();
    assert_eq!(staged(&db), 0, "the staging table of the cut COPY is gone");
}
