//! psql scripts, differentially: each tests/psql/*.sql runs through the real `psql` against
//! PostgreSQL 15 and against bedrock-pg, and the two outputs (results, command tags, errors
//! with their wording) must be identical.

mod common;

use std::path::Path;
use std::process::Command;

fn run_psql(port: u16, db: &str, script: &Path, dir: &Path) -> String {
    let text = std::fs::read_to_string(script)
        .expect("read script")
        .replace("PSQLDIR", &dir.display().to_string());
    let tmp = std::env::temp_dir().join(format!("psql-{}-{}.sql", std::process::id(), port));
    std::fs::write(&tmp, text).expect("write script");
    let out = Command::new("psql")
        .args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-a",
            "-f",
        ])
        .arg(&tmp)
        .env("PGTZ", "UTC")
        .env("PGOPTIONS", "")
        .output()
        .expect("psql must be installed (.ci/run installs postgresql-client-15)");
    let _ = std::fs::remove_file(&tmp);
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str("\n--- stderr ---\n");
    // psql prefixes errors with the script path; drop that so both runs compare.
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        let l = match line.find(".sql:") {
            Some(i) => line[i + 5..].to_string(),
            None => line.to_string(),
        };
        s.push_str(&l);
        s.push('\n');
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_scripts_match_postgresql() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/psql");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 3);
    let pg = common::Postgres::start();
    let mut failures = Vec::new();
    for script in &scripts {
        let name = script.file_stem().unwrap().to_string_lossy().to_string();
        let db = format!("s_{name}");
        let admin = pg.client().await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
        let expected = run_psql(pg.port, &db, script, &dir);
        let bedrock = common::Bedrock::start();
        let actual = run_psql(bedrock.port, "postgres", script, &dir);
        if expected != actual {
            failures.push(format!(
                "=== {name}: PostgreSQL\n{expected}\n=== {name}: bedrock-pg\n{actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
