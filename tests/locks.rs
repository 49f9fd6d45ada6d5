//! Lock waits that applications rely on, checked differentially: every scenario runs on a
//! private PostgreSQL 15 and on bedrock-pg, and both must give the same outcomes (SQLSTATEs,
//! rows) with the same timing class — a lock PostgreSQL answers at once must not wait here,
//! and a wait PostgreSQL ends when the holder commits must end here too.

mod common;

use std::time::{Duration, Instant};

use tokio_postgres::Client;

/// How a step ended, coarsely: what it returned (or its SQLSTATE) and how long it took.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Ok(String),
    Err(String),
}

async fn connect(url: &str) -> Client {
    tokio::time::timeout(Duration::from_secs(10), common::connect(url))
        .await
        .expect("connect timed out")
}

/// Run one statement with a hard bound; returns what it gave and how long it took.
async fn step(c: &Client, sql: &str) -> (Seen, Duration) {
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(20), c.simple_query(sql))
        .await
        .unwrap_or_else(|_| panic!("{sql}: no answer within 20 s"));
    let seen = match r {
        Ok(msgs) => {
            let rows: Vec<String> = msgs
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                        (0..r.len())
                            .map(|i| r.get(i).unwrap_or("NULL"))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    _ => None,
                })
                .collect();
            Seen::Ok(rows.join(";"))
        }
        Err(e) => Seen::Err(
            e.code()
                .map(|c| c.code().to_string())
                .unwrap_or_else(|| format!("closed: {e}")),
        ),
    };
    (seen, t.elapsed())
}

fn ok(rows: &str) -> Seen {
    Seen::Ok(rows.to_string())
}

fn err(code: &str) -> Seen {
    Seen::Err(code.to_string())
}

/// Fresh table `t(id, v)` with rows 1, 2, 3.
async fn setup(url: &str) -> Client {
    let c = connect(url).await;
    tokio::time::timeout(
        Duration::from_secs(20),
        c.batch_execute(
            "DROP TABLE IF EXISTS t; CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); \
             INSERT INTO t VALUES (1, 0), (2, 0), (3, 0)",
        ),
    )
    .await
    .expect("setup: no answer within 20 s (a transaction of the last scenario still open?)")
    .unwrap();
    c
}

/// Everything observed in the scenarios, in order, with timing classes instead of times.
async fn scenarios(url: &str) -> Vec<(String, Seen)> {
    let mut seen = Vec::new();
    let mut note = |what: &str, s: Seen| seen.push((what.to_string(), s));
    let quick = Duration::from_millis(900);

    // 1. FOR UPDATE NOWAIT on a row another transaction locked: 55P03 at once; another row
    //    is free.
    let a = setup(url).await;
    let b = connect(url).await;
    assert_eq!(step(&a, "BEGIN").await.0, ok(""));
    assert_eq!(
        step(&a, "SELECT v FROM t WHERE id = 1 FOR UPDATE").await.0,
        ok("0")
    );
    let (s, d) = step(&b, "SELECT v FROM t WHERE id = 1 FOR UPDATE NOWAIT").await;
    assert!(d < quick, "NOWAIT took {d:?}");
    note("nowait on a locked row", s);
    let (s, d) = step(&b, "SELECT v FROM t WHERE id = 2 FOR UPDATE NOWAIT").await;
    assert!(d < quick, "NOWAIT on a free row took {d:?}");
    note("nowait on a free row", s);
    // A plain read never waits for row locks.
    let (s, d) = step(&b, "SELECT v FROM t WHERE id = 1").await;
    assert!(d < quick);
    note("plain read of a locked row", s);

    // 2. SKIP LOCKED leaves the locked row out, at once.
    let (s, d) = step(
        &b,
        "SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .await;
    assert!(d < quick, "SKIP LOCKED took {d:?}");
    note("skip locked", s);

    // 3. lock_timeout bounds a wait for a row: 55P03 after it, not before.
    assert_eq!(step(&b, "SET lock_timeout = '300ms'").await.0, ok(""));
    let (s, d) = step(&b, "UPDATE t SET v = v + 1 WHERE id = 1").await;
    assert!(
        d >= Duration::from_millis(250) && d < Duration::from_secs(5),
        "lock_timeout wait took {d:?}"
    );
    note("lock_timeout", s);
    assert_eq!(step(&b, "SET lock_timeout = 0").await.0, ok(""));

    // 4. statement_timeout covers a lock wait too.
    assert_eq!(step(&b, "SET statement_timeout = 300").await.0, ok(""));
    let (s, d) = step(&b, "UPDATE t SET v = v + 1 WHERE id = 1").await;
    assert!(d >= Duration::from_millis(250) && d < Duration::from_secs(5));
    note("statement_timeout while waiting", s);
    assert_eq!(step(&b, "SET statement_timeout = 0").await.0, ok(""));

    // 5. A waiting writer is woken as soon as the holder commits, and sees its write.
    let url2 = url.to_string();
    let waiter = tokio::spawn(async move {
        let b2 = connect(&url2).await;
        step(&b2, "UPDATE t SET v = v + 10 WHERE id = 1 RETURNING v").await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the update must wait for the lock");
    assert_eq!(step(&a, "UPDATE t SET v = 5 WHERE id = 1").await.0, ok(""));
    let t = Instant::now();
    assert_eq!(step(&a, "COMMIT").await.0, ok(""));
    let (s, _) = waiter.await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "woken late: {:?}",
        t.elapsed()
    );
    note("woken by the commit", s);

    // 6. A deadlock: one of the two fails with 40P01, the other goes on.
    let a = setup(url).await;
    let b = connect(url).await;
    step(&a, "BEGIN").await;
    step(&b, "BEGIN").await;
    assert_eq!(step(&a, "UPDATE t SET v = 1 WHERE id = 1").await.0, ok(""));
    assert_eq!(step(&b, "UPDATE t SET v = 2 WHERE id = 2").await.0, ok(""));
    let a_wait = {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let a = a;
        tokio::spawn(async move {
            let r = step(&a, "UPDATE t SET v = 1 WHERE id = 2").await;
            // Whichever way it went, the transaction ends here.
            step(&a, "ROLLBACK").await;
            let _ = tx.send(r);
        });
        rx
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // PostgreSQL cancels the first waiter once its deadlock_timeout (1 s) passes; bedrock-pg
    // the one that closes the cycle, at once: either way one fails and the other goes on.
    let (sb, d) = step(&b, "UPDATE t SET v = 2 WHERE id = 1").await;
    assert!(d < Duration::from_secs(5), "deadlock found after {d:?}");
    if sb != ok("") {
        assert_eq!(step(&b, "ROLLBACK").await.0, ok(""));
    }
    let a = tokio::time::timeout(Duration::from_secs(5), a_wait)
        .await
        .expect("the other transaction must go on")
        .unwrap();
    let sa = a.0;
    assert_eq!(step(&b, "ROLLBACK").await.0, ok(""));
    let mut pair = [format!("{sa:?}"), format!("{sb:?}")];
    pair.sort();
    note("deadlock: one fails, one goes on", Seen::Ok(pair.join(" ")));

    // 7. LOCK TABLE keeps other writers out (55P03 with lock_timeout), not readers; outside a
    //    block it is an error.
    let a = setup(url).await;
    let b = connect(url).await;
    note(
        "lock table outside a block",
        step(&a, "LOCK TABLE t").await.0,
    );
    step(&a, "BEGIN").await;
    note(
        "lock table",
        step(&a, "LOCK TABLE t IN EXCLUSIVE MODE").await.0,
    );
    step(&b, "SET lock_timeout = '300ms'").await;
    let (s, d) = step(&b, "INSERT INTO t VALUES (4, 0)").await;
    assert!(d >= Duration::from_millis(250), "{d:?}");
    note("insert into a locked table", s);
    let (s, d) = step(&b, "SELECT count(*) FROM t").await;
    assert!(d < quick);
    note("read of a locked table", s);
    let (s, d) = step(&b, "BEGIN; LOCK TABLE t IN SHARE MODE NOWAIT").await;
    assert!(d < quick);
    note("lock table nowait", s);
    step(&b, "ROLLBACK").await;
    step(&a, "ROLLBACK").await;

    // 8. idle_in_transaction_session_timeout ends the session and frees its locks.
    let a = setup(url).await;
    let b = connect(url).await;
    step(&a, "SET idle_in_transaction_session_timeout = '300ms'").await;
    step(&a, "BEGIN").await;
    assert_eq!(step(&a, "UPDATE t SET v = 7 WHERE id = 3").await.0, ok(""));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (s, _) = step(&a, "SELECT 1").await;
    note(
        "after idle_in_transaction_session_timeout",
        match s {
            Seen::Err(e) if e.starts_with("closed") || e == "25P03" || e == "57P01" => {
                err("closed")
            }
            other => other,
        },
    );
    let (s, d) = step(&b, "UPDATE t SET v = v + 1 WHERE id = 3 RETURNING v").await;
    assert!(
        d < quick,
        "the timed-out session's lock was not freed: {d:?}"
    );
    note("row of the ended session", s);
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_waits_match_postgres() {
    let pg = common::Postgres::start();
    let expected = scenarios(&pg.url()).await;
    let want = vec![
        ("nowait on a locked row", err("55P03")),
        ("nowait on a free row", ok("0")),
        ("plain read of a locked row", ok("0")),
        ("skip locked", ok("2")),
        ("lock_timeout", err("55P03")),
        ("statement_timeout while waiting", err("57014")),
        ("woken by the commit", ok("15")),
        (
            "deadlock: one fails, one goes on",
            ok(r#"Err("40P01") Ok("")"#),
        ),
        ("lock table outside a block", err("25P01")),
        ("lock table", ok("")),
        ("insert into a locked table", err("55P03")),
        ("read of a locked table", ok("3")),
        ("lock table nowait", err("55P03")),
        ("after idle_in_transaction_session_timeout", err("closed")),
        ("row of the ended session", ok("1")),
    ];
    let want: Vec<(String, Seen)> = want.into_iter().map(|(a, b)| (a.to_string(), b)).collect();
    assert_eq!(
        expected, want,
        "the scenarios' expectations are PostgreSQL's"
    );
    drop(pg);
    let server = common::Bedrock::start();
    let got = scenarios(&server.url()).await;
    assert_eq!(got, want);
}
