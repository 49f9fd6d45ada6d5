//! Durability: SIGKILL the server in the middle of a write storm, restart it on the same file,
//! and check that every acknowledged write is there, the journal's hash chain verifies, and
//! replaying the journal alone rebuilds exactly the same content (what a follower would do).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn storm(port: u16, acked: Arc<Mutex<Vec<i64>>>, writer: i64) {
    let url = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
    // The server is up when the storm starts: a failed connect is a failed test, not a
    // writer that quietly does nothing.
    let (c, conn) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_postgres::connect(&url, tokio_postgres::NoTls),
    )
    .await
    .unwrap_or_else(|_| panic!("writer {writer}: connect timed out"))
    .unwrap_or_else(|e| panic!("writer {writer}: cannot connect: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut seq = 0i64;
    loop {
        seq += 1;
        let id = writer * 10_000_000 + seq;
        let r = if seq % 5 == 0 {
            // A multi-statement explicit transaction: both rows or neither.
            c.batch_execute(&format!(
                "BEGIN; INSERT INTO acked VALUES ({id}, {writer}, now()::text); INSERT INTO acked VALUES ({}, {writer}, 'pair'); COMMIT",
                -id
            ))
            .await
        } else {
            c.execute(
                "INSERT INTO acked VALUES ($1, $2, $3)",
                &[&id, &(writer as i32), &format!("w{writer} #{seq}")],
            )
            .await
            .map(|_| ())
        };
        match r {
            Ok(()) => {
                let mut a = acked.lock().unwrap();
                a.push(id);
                if seq % 5 == 0 {
                    a.push(-id);
                }
            }
            Err(e) if e.is_closed() || e.as_db_error().is_none() => return, // the server died
            Err(e) => panic!("writer {writer}: unexpected error {e:?}"),
        }
    }
}

/// Concurrent writers in each round (the 16-client storm).
const WRITERS: i64 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_during_write_storm_loses_no_acknowledged_write() {
    let mut server = common::Bedrock::start();
    {
        let c = server.client().await;
        c.batch_execute(
            "CREATE TABLE acked (id bigint PRIMARY KEY, writer int NOT NULL, note text)",
        )
        .await
        .unwrap();
    }
    // Every round's acknowledgements are checked on their own: each round must acknowledge
    // writes, and each must find all of its own (and all earlier rounds') after the restart.
    let mut acked_before: Vec<i64> = Vec::new();
    for round in 0..3 {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            tasks.push(tokio::spawn(storm(
                server.port,
                acked.clone(),
                round * WRITERS + w + 1,
            )));
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let (dir, db) = server.kill();
        for t in tasks {
            if let Err(e) = t.await
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        server = common::Bedrock::start_on(dir, db, &[]);
        let c = server.client().await;
        let present: std::collections::HashSet<i64> = c
            .query("SELECT id FROM acked", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let acked_now = acked.lock().unwrap().clone();
        assert!(
            !acked_now.is_empty(),
            "round {round}: the storm acknowledged nothing"
        );
        for (what, ids) in [
            ("this round", &acked_now),
            ("earlier rounds", &acked_before),
        ] {
            let missing: Vec<&i64> = ids.iter().filter(|id| !present.contains(id)).collect();
            assert!(
                missing.is_empty(),
                "round {round}: {} acknowledged writes of {what} lost, e.g. {:?}",
                missing.len(),
                &missing[..missing.len().min(5)]
            );
        }
        acked_before.extend(acked_now);
        // Transactions are atomic: a pair is both there or both absent.
        for id in present.iter().filter(|id| **id < 0) {
            assert!(
                present.contains(&-id),
                "round {round}: half of transaction {id} survived"
            );
        }
    }
    // The journal verifies and replays to the same content.
    let (dir, db) = server.kill();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let checked = bedrock_pg::store::journal::verify_journal(&conn).unwrap();
    assert!(checked > 0);
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
