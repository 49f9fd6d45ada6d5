//! The command line: both flag spellings start a server; unbuilt features and bad values refuse
//! to start with one line naming the flag, never a panic.

mod common;

use std::process::Command;

fn bedrock(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bedrock"))
        .args(args)
        .output()
        .expect("run bedrock");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unbuilt_features_and_bad_values_refuse_in_one_line() {
    let dir = common::TempDir::new("cli");
    let db = dir.path().join("x.db").display().to_string();
    for (args, flag) in [
        (vec!["-peerList", "node1:9001"], "peerList"),
        (vec!["-httpHost", "127.0.0.1:8080"], "httpHost"),
        (vec!["--password", "secret"], "password"),
        (vec!["-tlsCert", "c.pem", "-tlsKey", "k.pem"], "tlsCert"),
        (vec!["-clusterSecret", "s"], "clusterSecret"),
        (vec!["-fork"], "fork"),
        (vec!["-serverHost", "not-an-address"], "serverHost"),
        (vec!["-priority", "many"], "priority"),
        (vec!["-nodeNam", "x"], "-nodeNam"),
    ] {
        let mut all = vec!["-db", db.as_str()];
        all.extend(args.iter().copied());
        let (code, err) = bedrock(&all);
        assert_ne!(code, 0, "{args:?} must refuse to start");
        assert_ne!(code, 101, "{args:?} panicked: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            lines.len() <= 3,
            "{args:?}: expected a short message, got:\n{err}"
        );
        assert!(
            err.contains(flag),
            "{args:?}: the message must name {flag}: {err}"
        );
    }
}

#[test]
fn port_in_use_names_the_flag() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = common::TempDir::new("cli-port");
    let db = dir.path().join("x.db").display().to_string();
    let (code, err) = bedrock(&["-db", &db, "-serverHost", &format!("127.0.0.1:{port}")]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("-serverHost") && err.lines().count() == 1,
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gnu_long_forms_start_a_server() {
    let dir = common::TempDir::new("cli-long");
    let db = dir.path().join("long.db");
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bedrock"))
        .args([
            "--db",
            &db.display().to_string(),
            "--server-host",
            &format!("127.0.0.1:{port}"),
            "--node-name",
            "longform",
            "--clean",
            "--synchronous",
            "normal",
        ])
        .spawn()
        .expect("spawn");
    let url = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
    let mut client = None;
    for _ in 0..200 {
        if let Ok((c, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            tokio::spawn(async move {
                let _ = conn.await;
            });
            client = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let c = client.expect("server started with GNU long flags");
    let name: String = c
        .query_one("SHOW bedrock.node_name", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "longform");
    let _ = child.kill();
    let _ = child.wait();
}
