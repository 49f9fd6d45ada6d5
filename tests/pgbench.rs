//! pgbench, unchanged: `pgbench -i -s 1` (COPY … WITH (FREEZE ON), VACUUM, ALTER TABLE … ADD
//! PRIMARY KEY, TRUNCATE) and then every builtin script in every query mode for 10 seconds,
//! each with zero failed transactions.

mod common;

use std::process::Command;

fn pgbench(port: u16, args: &[&str]) -> String {
    let out = Command::new("pgbench")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(args)
        .arg("postgres")
        .output()
        .expect("pgbench must be installed (.ci/run installs postgresql-client-15)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

#[test]
fn pgbench_init_and_every_builtin_in_every_mode() {
    let s = common::Bedrock::start();
    let init = pgbench(s.port, &["-i", "-s", "1"]);
    assert!(init.contains("done in"), "{init}");
    let secs = std::env::var("PGBENCH_SECONDS").unwrap_or_else(|_| "10".into());
    for mode in ["simple", "extended", "prepared"] {
        for script in ["tpcb-like", "simple-update", "select-only"] {
            let out = pgbench(
                s.port,
                &[
                    "-n", "-T", &secs, "-c", "4", "-j", "2", "-M", mode, "-b", script,
                ],
            );
            let processed = out
                .lines()
                .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            assert!(
                processed > 0,
                "{mode}/{script}: no transactions processed\n{out}"
            );
            assert!(
                out.contains("number of failed transactions: 0 (0.000%)"),
                "{mode}/{script}: failed transactions\n{out}"
            );
        }
    }
    // The balances add up: every account update has its history row (tpcb-like and
    // simple-update), and tpcb-like moved the same delta through branches and tellers.
    let mut psql = Command::new("psql");
    psql.args([
        "-h",
        "127.0.0.1",
        "-p",
        &s.port.to_string(),
        "-U",
        "postgres",
        "-At",
        "-c",
    ]);
    let out = psql
        .arg("SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(delta) FROM pgbench_history) AND (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT sum(tbalance) FROM pgbench_tellers) AND (SELECT count(*) FROM pgbench_history) > 0")
        .output()
        .expect("psql");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "t",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
