//! Test support: start a real bedrock-pg server (the built binary) or a real PostgreSQL 15 on a
//! free loopback port, connect with tokio-postgres, and clean up every process on drop.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (never 5432).
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let p = l.local_addr().expect("local addr").port();
        if p != 5432 {
            return p;
        }
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "bedrock-test-{tag}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        if Instant::now() > deadline {
            panic!("{what} did not start listening on port {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running bedrock-pg server process.
pub struct Bedrock {
    pub child: Child,
    pub port: u16,
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Bedrock {
    pub fn start() -> Bedrock {
        Bedrock::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Bedrock {
        let dir = TempDir::new("bedrock");
        let db = dir.path().join("test.db");
        Bedrock::start_on(dir, db, extra)
    }

    /// Start on an existing database file (restart after a crash).
    pub fn start_on(dir: TempDir, db: PathBuf, extra: &[&str]) -> Bedrock {
        let port = free_port();
        let mut args: Vec<String> = vec![
            "-db".into(),
            db.display().to_string(),
            "-serverHost".into(),
            format!("127.0.0.1:{port}"),
            "-nodeName".into(),
            "test".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_bedrock"))
            .args(&args)
            .env(
                "RUST_LOG",
                std::env::var("BEDROCK_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn bedrock");
        wait_for_port(port, &mut child, "bedrock");
        Bedrock {
            child,
            port,
            dir,
            db,
        }
    }

    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url()).await
    }

    /// SIGKILL the server, keeping its files (for crash tests).
    pub fn kill(mut self) -> (TempDir, PathBuf) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, TempDir(PathBuf::new()));
        (dir, self.db.clone())
    }
}

impl Drop for Bedrock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connect with tokio-postgres and drive the connection in the background.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A private PostgreSQL 15 instance (Debian's package), run as the `postgres` user.
pub struct Postgres {
    pub port: u16,
    pub dir: TempDir,
    bin: PathBuf,
}

impl Postgres {
    pub fn bin_dir() -> PathBuf {
        PathBuf::from(
            std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        )
    }

    pub fn start() -> Postgres {
        let bin = Postgres::bin_dir();
        assert!(
            bin.join("initdb").exists(),
            "PostgreSQL 15 is required for differential tests (.ci/run installs postgresql-15)"
        );
        let dir = TempDir::new("pg");
        let data = dir.path().join("data");
        let port = free_port();
        let run_as_postgres = |args: &[&str]| -> std::process::Output {
            let is_root = Command::new("id")
                .arg("-u")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
                .unwrap_or(false);
            let mut c = if is_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).args(args);
                c
            } else {
                let mut c = Command::new(args[0]);
                c.args(&args[1..]);
                c
            };
            c.output().expect("run postgres tool")
        };
        let _ = Command::new("chmod")
            .args(["777", &dir.path().display().to_string()])
            .status();
        let out = run_as_postgres(&[
            &bin.join("initdb").display().to_string(),
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=trust",
            "--locale=C",
            "--encoding=UTF8",
            "-N",
        ]);
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC",
            dir.path().display()
        );
        let out = run_as_postgres(&[
            &bin.join("pg_ctl").display().to_string(),
            "-D",
            &data.display().to_string(),
            "-o",
            &opts,
            "-l",
            &dir.path().join("log").display().to_string(),
            "-w",
            "start",
        ]);
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Postgres { port, dir, bin }
    }

    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url()).await
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &pg_ctl,
                "-D",
                &data.display().to_string(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}
