//! Isolation as announced, checked differentially against PostgreSQL 15: READ COMMITTED reads
//! see each statement's latest commits; REPEATABLE READ and SERIALIZABLE blocks read from one
//! snapshot; a repeatable-read transaction that writes after what it read changed fails with
//! 40001; write skew under SERIALIZABLE makes one of the two fail.

mod common;

use std::time::Duration;

use tokio_postgres::Client;

async fn connect(url: &str) -> Client {
    tokio::time::timeout(Duration::from_secs(10), common::connect(url))
        .await
        .expect("connect timed out")
}

/// Run a statement with a hard bound: the first value of the first row, or the SQLSTATE.
async fn q(c: &Client, sql: &str) -> String {
    let r = tokio::time::timeout(Duration::from_secs(20), c.simple_query(sql))
        .await
        .unwrap_or_else(|_| panic!("{sql}: no answer within 20 s"));
    match r {
        Ok(msgs) => msgs
            .iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap_or_else(|| "ok".into()),
        Err(e) => e
            .code()
            .map(|c| c.code().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

async fn scenarios(url: &str) -> Vec<(&'static str, String)> {
    let mut seen = Vec::new();
    let a = connect(url).await;
    let b = connect(url).await;
    a.batch_execute(
        "DROP TABLE IF EXISTS acct; CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL); \
         INSERT INTO acct VALUES (1, 100), (2, 100)",
    )
    .await
    .unwrap();

    // READ COMMITTED: each statement sees what committed before it.
    q(&a, "BEGIN").await;
    seen.push((
        "rc first read",
        q(&a, "SELECT v FROM acct WHERE id = 1").await,
    ));
    q(&b, "UPDATE acct SET v = 101 WHERE id = 1").await;
    seen.push((
        "rc second read",
        q(&a, "SELECT v FROM acct WHERE id = 1").await,
    ));
    q(&a, "COMMIT").await;

    // REPEATABLE READ: the block keeps the snapshot of its first read.
    q(&a, "BEGIN ISOLATION LEVEL REPEATABLE READ").await;
    seen.push((
        "rr first read",
        q(&a, "SELECT v FROM acct WHERE id = 1").await,
    ));
    q(&b, "UPDATE acct SET v = 102 WHERE id = 1").await;
    seen.push((
        "rr second read",
        q(&a, "SELECT v FROM acct WHERE id = 1").await,
    ));
    seen.push(("rr sum", q(&a, "SELECT sum(v) FROM acct").await));
    seen.push(("rr commit", q(&a, "COMMIT").await));
    seen.push(("after rr", q(&a, "SELECT v FROM acct WHERE id = 1").await));

    // SET TRANSACTION ISOLATION LEVEL and default_transaction_isolation work the same way.
    q(&a, "SET default_transaction_isolation = 'serializable'").await;
    q(&a, "BEGIN").await;
    seen.push((
        "default serializable read",
        q(&a, "SELECT v FROM acct WHERE id = 2").await,
    ));
    q(&b, "UPDATE acct SET v = 200 WHERE id = 2").await;
    seen.push((
        "default serializable reread",
        q(&a, "SELECT v FROM acct WHERE id = 2").await,
    ));
    q(&a, "COMMIT").await;
    q(&a, "SET default_transaction_isolation = 'read committed'").await;

    // REPEATABLE READ that writes a row changed since its snapshot: 40001.
    q(&a, "BEGIN ISOLATION LEVEL REPEATABLE READ").await;
    seen.push((
        "rr read before write",
        q(&a, "SELECT v FROM acct WHERE id = 1").await,
    ));
    q(&b, "UPDATE acct SET v = 103 WHERE id = 1").await;
    seen.push((
        "rr write after a concurrent update",
        q(&a, "UPDATE acct SET v = v + 1 WHERE id = 1").await,
    ));
    q(&a, "ROLLBACK").await;
    seen.push((
        "row after the failed rr",
        q(&a, "SELECT v FROM acct WHERE id = 1").await,
    ));

    // Write skew under SERIALIZABLE: each reads both rows, then writes the other one's.
    q(&a, "UPDATE acct SET v = 100").await;
    q(&a, "BEGIN ISOLATION LEVEL SERIALIZABLE").await;
    q(&b, "BEGIN ISOLATION LEVEL SERIALIZABLE").await;
    seen.push(("skew a reads", q(&a, "SELECT sum(v) FROM acct").await));
    seen.push(("skew b reads", q(&b, "SELECT sum(v) FROM acct").await));
    let wa = q(&a, "UPDATE acct SET v = v - 150 WHERE id = 1").await;
    let wb = q(&b, "UPDATE acct SET v = v - 150 WHERE id = 2").await;
    let ca = q(&a, "COMMIT").await;
    let cb = q(&b, "COMMIT").await;
    // Exactly one of the two transactions fails with 40001 (at its write or its COMMIT).
    let failed = [&wa, &wb, &ca, &cb]
        .iter()
        .filter(|s| s.as_str() == "40001")
        .count();
    let a_ok = wa == "ok" && ca == "ok";
    let b_ok = wb == "ok" && cb == "ok";
    seen.push((
        "skew: one commits, one fails with 40001",
        format!("{}", failed >= 1 && (a_ok != b_ok)),
    ));
    q(&a, "ROLLBACK").await;
    q(&b, "ROLLBACK").await;
    seen.push(("sum after the skew", q(&a, "SELECT sum(v) FROM acct").await));

    // A read-only REPEATABLE READ block never fails, whatever commits meanwhile.
    q(&a, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await;
    q(&a, "SELECT count(*) FROM acct").await;
    q(&b, "INSERT INTO acct VALUES (3, 0)").await;
    seen.push((
        "rr read-only count",
        q(&a, "SELECT count(*) FROM acct").await,
    ));
    seen.push(("rr read-only commit", q(&a, "COMMIT").await));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn isolation_levels_match_postgres() {
    let want = vec![
        ("rc first read", "100"),
        ("rc second read", "101"),
        ("rr first read", "101"),
        ("rr second read", "101"),
        ("rr sum", "201"),
        ("rr commit", "ok"),
        ("after rr", "102"),
        ("default serializable read", "100"),
        ("default serializable reread", "100"),
        ("rr read before write", "102"),
        ("rr write after a concurrent update", "40001"),
        ("row after the failed rr", "103"),
        ("skew a reads", "200"),
        ("skew b reads", "200"),
        ("skew: one commits, one fails with 40001", "true"),
        ("sum after the skew", "50"),
        ("rr read-only count", "2"),
        ("rr read-only commit", "ok"),
    ];
    let want: Vec<(&str, String)> = want.into_iter().map(|(a, b)| (a, b.to_string())).collect();
    let pg = common::Postgres::start();
    assert_eq!(
        scenarios(&pg.url()).await,
        want,
        "the expectations are PostgreSQL's"
    );
    drop(pg);
    let server = common::Bedrock::start();
    assert_eq!(scenarios(&server.url()).await, want);
}
