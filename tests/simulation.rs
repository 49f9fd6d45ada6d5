//! Deterministic simulation of the consensus core (issue 3). See tests/common_sim for the
//! simulator and docs/protocol.md for the invariants and the fault-injection results.
//!
//! - `cargo test --test simulation` runs the default number of random seeds (SIM_SEEDS, default
//!   1000) plus the scenario, regression and fault-injection tests.
//! - `SIM_SEEDS=10000 cargo test --release --test simulation` runs more seeds
//!   (SIM_SEED_START shifts the range).
//! - `SIM_SEED=1234 cargo test --release --test simulation -- replay --nocapture` replays one
//!   seed; add SIM_TRACE=1 to print every event.

mod common_sim;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bedrock_pg::cluster::Faults;
use common_sim::run_seed;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs seeds `start..start+count` on every core; returns the failure reports.
fn run_seeds(start: u64, count: u64, faults: &Faults, stop_at_first: bool) -> Vec<(u64, String)> {
    let next = AtomicU64::new(start);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= start + count {
                        break;
                    }
                    if stop_at_first && !failures.lock().map(|f| f.is_empty()).unwrap_or(true) {
                        break;
                    }
                    if let Err(report) = run_seed(seed, faults)
                        && let Ok(mut f) = failures.lock()
                    {
                        f.push((seed, report));
                    }
                }
            });
        }
    });
    let mut f = failures.into_inner().unwrap_or_default();
    f.sort_by_key(|(s, _)| *s);
    f
}

#[test]
fn random_seeds() {
    let start = env_u64("SIM_SEED_START", 0);
    let count = env_u64("SIM_SEEDS", 1000);
    let failures = run_seeds(start, count, &Faults::default(), false);
    if !failures.is_empty() {
        let seeds: Vec<u64> = failures.iter().map(|(s, _)| *s).collect();
        panic!(
            "{} of {count} seeds failed: {seeds:?}\n\nfirst failure:\n{}",
            failures.len(),
            failures[0].1
        );
    }
}

/// SIM_FAULT=uptodate|perma|durable|reexecute replays with one deliberate bug switched on.
fn faults_from_env() -> Faults {
    let mut f = Faults::default();
    match std::env::var("SIM_FAULT").unwrap_or_default().as_str() {
        "uptodate" => f.skip_up_to_date_check = true,
        "perma" => f.count_permafollowers = true,
        "durable" => f.approve_before_durable = true,
        "reexecute" => f.reexecute_escalated = true,
        _ => {}
    }
    f
}

#[test]
fn replay() {
    let seed = env_u64("SIM_SEED", 0);
    match run_seed(seed, &faults_from_env()) {
        Ok(stats) => println!("seed {seed} passed: {stats:?}"),
        Err(report) => panic!("{report}"),
    }
}

/// Runs seeds with a deliberate bug until the simulator catches it; returns the first seed.
fn first_catching_seed(faults: &Faults, limit: u64) -> Option<(u64, String)> {
    let mut chunk_start = 0;
    while chunk_start < limit {
        let failures = run_seeds(chunk_start, 64.min(limit - chunk_start), faults, true);
        if let Some(f) = failures.into_iter().next() {
            return Some(f);
        }
        chunk_start += 64;
    }
    None
}

fn assert_caught(name: &str, faults: Faults) {
    let limit = env_u64("SIM_FAULT_SEEDS", 3000);
    match first_catching_seed(&faults, limit) {
        Some((seed, report)) => {
            let first_line = report.lines().next().unwrap_or_default().to_string();
            println!("{name}: caught by seed {seed}: {first_line}");
        }
        None => panic!("{name}: the simulator did not catch this bug in {limit} seeds"),
    }
}

#[test]
fn fault_skip_up_to_date_check_is_caught() {
    assert_caught(
        "skip up-to-date check",
        Faults {
            skip_up_to_date_check: true,
            ..Faults::default()
        },
    );
}

#[test]
fn fault_count_permafollowers_is_caught() {
    assert_caught(
        "count permafollowers",
        Faults {
            count_permafollowers: true,
            ..Faults::default()
        },
    );
}

#[test]
fn fault_approve_before_durable_is_caught() {
    assert_caught(
        "approve before durable",
        Faults {
            approve_before_durable: true,
            ..Faults::default()
        },
    );
}

#[test]
fn fault_reexecute_escalated_is_caught() {
    assert_caught(
        "re-execute escalated id",
        Faults {
            reexecute_escalated: true,
            ..Faults::default()
        },
    );
}
