//! Counters of the write path, for `SHOW bedrock.group_commit` and the benchmarks: how many
//! client requests share a commit (and its fsync), the distribution of batch sizes, and how
//! often interactive transactions were parked and replayed.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the batch-size buckets (the last one is open).
const BUCKETS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, u64::MAX];

#[derive(Debug, Default)]
pub struct Stats {
    /// Journal entries committed by the writer (one SQLite COMMIT, one fsync each).
    pub commits: AtomicU64,
    /// Client requests in them.
    pub requests: AtomicU64,
    sizes: [AtomicU64; 8],
    /// Interactive transactions' frames rolled back because someone else needed the writer.
    pub parks: AtomicU64,
    /// Frames run again, and the statements run again in them.
    pub replays: AtomicU64,
    pub replayed_statements: AtomicU64,
    /// Replays whose results differed (the transaction got 40001).
    pub replay_conflicts: AtomicU64,
}

impl Stats {
    pub fn batch(&self, requests: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(requests as u64, Ordering::Relaxed);
        let n = requests as u64;
        let i = BUCKETS
            .iter()
            .position(|b| n <= *b)
            .unwrap_or(BUCKETS.len() - 1);
        self.sizes[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// One line: `commits=… requests=… per_commit=… sizes=1:…,2:…,…`.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let commits = get(&self.commits);
        let requests = get(&self.requests);
        let mut sizes = Vec::new();
        let mut lo = 1;
        for (i, hi) in BUCKETS.iter().enumerate() {
            let label = match *hi {
                u64::MAX => format!("{lo}+"),
                h if h == lo => format!("{h}"),
                h => format!("{lo}-{h}"),
            };
            sizes.push(format!("{label}:{}", get(&self.sizes[i])));
            lo = hi.saturating_add(1);
        }
        format!(
            "commits={commits} requests={requests} requests_per_commit={:.2} batch_sizes={} parks={} replays={} replayed_statements={} replay_conflicts={}",
            if commits == 0 {
                0.0
            } else {
                requests as f64 / commits as f64
            },
            sizes.join(","),
            get(&self.parks),
            get(&self.replays),
            get(&self.replayed_statements),
            get(&self.replay_conflicts),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_buckets() {
        let s = super::Stats::default();
        s.batch(1);
        s.batch(3);
        s.batch(100);
        let r = s.render();
        assert!(r.contains("commits=3 requests=104"), "{r}");
        assert!(r.contains("1:1,2:0,3-4:1,"), "{r}");
        assert!(r.contains("65+:1"), "{r}");
    }
}
