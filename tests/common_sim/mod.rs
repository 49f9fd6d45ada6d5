//! A deterministic simulator for the consensus core: N real [`Node`]s over a simulated network
//! (loss, duplication, reordering, delay, symmetric and one-way partitions) and simulated disks
//! (in-order writes with latency; a crash loses everything not yet durable), driven by one seed.
//! Invariants are checked after every tick; see `check` and `final_checks`.

#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use bedrock_pg::cluster::{
    Config, Consistency, Entry, Executed, Faults, ForkInfo, HardState, Input, Journal, LogPos,
    Member, Message, Node, NodeId, Outcome, Output, RequestId, State, Timing,
};
use bedrock_pg::log::{Envelope, chain};

// ---------------------------------------------------------------------------------------------
// Randomness

/// splitmix64: small, fast, and the whole run follows from one seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// Disk

/// A storage operation the core asked for, not durable until it completes.
#[derive(Debug, Clone)]
pub enum Op {
    Exec {
        batch: u64,
        requests: Vec<(RequestId, Vec<u8>)>,
    },
    Commit {
        entry: Entry,
    },
    Snapshot {
        from: usize,
        must_contain: LogPos,
        fork: Option<ForkInfo>,
    },
}

/// One node's disk: the durable journal (the whole history; the journal window only limits what
/// [`Journal::entry`] returns), the request-id index, the hard state, and queued operations.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    pub log: Vec<Entry>,
    pub ids: HashMap<RequestId, (u64, Vec<u8>)>,
    pub hard: HardState,
    pub window: u64,
    pub queue: VecDeque<(u64, Op)>,
    pub quarantined: u32,
}

impl Journal for Disk {
    fn tip(&self) -> LogPos {
        self.log.last().map(Entry::pos).unwrap_or_default()
    }
    fn entry(&self, count: u64) -> Option<Entry> {
        let len = self.log.len() as u64;
        if count == 0 || count > len || count + self.window <= len {
            return None;
        }
        Some(self.log[count as usize - 1].clone())
    }
    fn find_request(&self, id: RequestId) -> Option<(u64, Vec<u8>)> {
        self.ids.get(&id).cloned()
    }
}

impl Disk {
    /// Hash at `n` in the node's view: durable, or queued for commit.
    pub fn view_hash(&self, n: u64) -> Option<[u8; 32]> {
        if n == 0 {
            return Some([0; 32]);
        }
        if let Some(e) = self.log.get(n as usize - 1) {
            return Some(e.hash);
        }
        self.queue.iter().find_map(|(_, op)| match op {
            Op::Commit { entry } if entry.count == n => Some(entry.hash),
            _ => None,
        })
    }

    fn rebuild_ids(&mut self) -> Result<(), String> {
        self.ids.clear();
        for e in &self.log {
            let p = Envelope::decode(&e.payload).map_err(|err| format!("bad payload: {err}"))?;
            for r in p.requests {
                if let Some((n, _)) = self.ids.insert(r.id, (e.count, r.result)) {
                    return Err(format!(
                        "invariant 5: request {} recorded at {} and {}",
                        r.id, n, e.count
                    ));
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Network

#[derive(Debug)]
struct InFlight {
    at: u64,
    seq: u64,
    from: usize,
    to: usize,
    msg: Message,
}

impl PartialEq for InFlight {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for InFlight {
    // Reversed: BinaryHeap pops the earliest delivery first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Debug, Default)]
pub struct Net {
    heap: BinaryHeap<InFlight>,
    seq: u64,
    /// `cut[a][b]`: messages from a to b are dropped.
    pub cut: Vec<Vec<bool>>,
    pub loss: f64,
    pub dup: f64,
    pub slow: f64,
    pub sent: u64,
}

impl Net {
    fn new(n: usize) -> Self {
        Net {
            cut: vec![vec![false; n]; n],
            ..Net::default()
        }
    }

    fn send(&mut self, rng: &mut Rng, now: u64, from: usize, to: usize, msg: Message) {
        self.sent += 1;
        if self.cut[from][to] || rng.chance(self.loss) {
            return;
        }
        let copies = if rng.chance(self.dup) { 2 } else { 1 };
        for c in 0..copies {
            let mut delay = rng.range(1, 3);
            if rng.chance(self.slow) {
                delay += rng.range(3, 20);
            }
            self.seq += 1;
            let _ = c;
            self.heap.push(InFlight {
                at: now + delay,
                seq: self.seq,
                from,
                to,
                msg: msg.clone(),
            });
        }
    }

    fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        if self.heap.peek().is_some_and(|m| m.at <= now) {
            self.heap.pop()
        } else {
            None
        }
    }

    pub fn heal(&mut self) {
        for row in &mut self.cut {
            row.iter_mut().for_each(|c| *c = false);
        }
        self.loss = 0.0;
        self.dup = 0.0;
        self.slow = 0.0;
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration of a run

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub priorities: Vec<u32>,
    pub quorum_checkpoint: u64,
    pub window: u64,
    pub max_batch: usize,
    pub timing: Timing,
    pub faults: Faults,
    /// Ticks of random faults and writes.
    pub chaos_ticks: u64,
    /// Ticks of writes after healing, before waiting for convergence.
    pub heal_write_ticks: u64,
    /// Most ticks after healing for invariant 6 to hold.
    pub heal_bound: u64,
    pub p_write: f64,
    pub p_fault: f64,
    /// Disk latency range (ticks).
    pub disk_latency: (u64, u64),
    /// Probability that a commit fails on disk (during the chaos phase).
    pub p_commit_fail: f64,
    /// Extra disk latency per node (scripted scenarios).
    pub disk_extra: Vec<u64>,
}

pub fn sim_timing() -> Timing {
    Timing {
        heartbeat: 3,
        election: 24,
        stagger: 8,
        status: 4,
        retransmit: 10,
        escalate_retry: 20,
        request_timeout: 400,
        handover: 60,
    }
}

impl SimConfig {
    /// The shape of a seed's run follows from the seed: 3 or 5 voters with or without
    /// permafollowers, shuffled priorities, and varied bounds.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let shapes: [(usize, usize); 6] = [(3, 0), (3, 0), (5, 0), (3, 1), (3, 2), (5, 1)];
        let (voters, perma) = rng.pick(&shapes);
        let mut prios: Vec<u32> = (1..=voters as u32).map(|p| p * 100).collect();
        for i in (1..prios.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            prios.swap(i, j);
        }
        prios.extend(std::iter::repeat_n(0, perma));
        SimConfig {
            seed,
            priorities: prios,
            quorum_checkpoint: rng.pick(&[1, 3, 10, 100]),
            window: rng.pick(&[6, 30, 1_000_000]),
            max_batch: rng.pick(&[1, 4, 64]),
            timing: sim_timing(),
            faults: Faults::default(),
            chaos_ticks: 700,
            heal_write_ticks: 60,
            heal_bound: 1500,
            p_write: rng.pick(&[0.1, 0.3, 0.6]),
            p_fault: rng.pick(&[0.01, 0.03, 0.06]),
            disk_latency: rng.pick(&[(0, 1), (0, 3), (1, 6)]),
            p_commit_fail: rng.pick(&[0.0, 0.0, 0.002]),
            disk_extra: Vec::new(),
        }
    }

    pub fn plain(priorities: Vec<u32>) -> Self {
        SimConfig {
            seed: 1,
            priorities,
            quorum_checkpoint: 100,
            window: 1_000_000,
            max_batch: 64,
            timing: sim_timing(),
            faults: Faults::default(),
            chaos_ticks: 0,
            heal_write_ticks: 0,
            heal_bound: 2000,
            p_write: 0.0,
            p_fault: 0.0,
            disk_latency: (0, 2),
            p_commit_fail: 0.0,
            disk_extra: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client requests

#[derive(Debug, Clone)]
pub struct ClientReq {
    pub origin: usize,
    pub consistency: Consistency,
    pub fails: bool,
    pub submitted: u64,
    pub outcome: Option<Outcome>,
    pub answered_at: u64,
    /// Its node crashed before answering: the client is gone, any outcome is fine.
    pub lost_with_crash: bool,
}

// ---------------------------------------------------------------------------------------------
// The simulator

pub struct SimNode {
    pub core: Option<Node>,
    pub disk: Disk,
    /// Commit point already checked against the canonical chain.
    checked: u64,
    last_ready: u64,
    pub crashes: u32,
    /// Paused (like SIGSTOP) until this tick: no ticks, no deliveries, no disk completions.
    pub paused_until: u64,
}

pub struct Sim {
    pub cfg: SimConfig,
    pub rng: Rng,
    pub now: u64,
    pub configs: Vec<Config>,
    pub nodes: Vec<SimNode>,
    pub net: Net,
    pub reqs: BTreeMap<RequestId, ClientReq>,
    next_req: u128,
    /// Invariant 1: the leader of each term.
    leaders: HashMap<u64, usize>,
    /// Invariants 2-4: hashes of the committed prefix, as claimed by any node's commit point.
    /// With each hash, the lowest term of a node claiming it committed: the commit happened in
    /// that term or earlier, so every leader of a later term must hold it.
    canon: Vec<([u8; 32], u64)>,
    /// Every (commit count, term, hash) a leader proposed for a request id.
    proposed: HashMap<RequestId, Vec<(u64, u64, [u8; 32])>>,
    /// What each leader sent at each (term, commit count): never two different transactions.
    sent: HashMap<(u64, u64), [u8; 32]>,
    /// Disk failures are injected only while this is set (the chaos phase).
    pub chaos: bool,
    pub trace: bool,
    recent: VecDeque<String>,
    pub stats: Stats,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub committed: u64,
    pub unknown: u64,
    pub refused: u64,
    pub failed: u64,
    pub elections: u64,
    pub snapshots: u64,
    pub forks_recovered: u64,
    pub lost_async: u64,
    pub converge_ticks: u64,
    pub final_commits: u64,
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Self {
        let n = cfg.priorities.len();
        let members: Vec<Member> = cfg
            .priorities
            .iter()
            .enumerate()
            .map(|(i, p)| Member {
                name: format!("node{i}"),
                priority: *p,
            })
            .collect();
        let configs: Vec<Config> = (0..n)
            .map(|i| {
                let mut c = Config::new(7, members.clone(), NodeId(i));
                c.timing = cfg.timing.clone();
                c.quorum_checkpoint = cfg.quorum_checkpoint;
                c.max_batch = cfg.max_batch;
                c.max_inflight = 16;
                c.sync_batch = 20;
                c.faults = cfg.faults.clone();
                c
            })
            .collect();
        let nodes = (0..n)
            .map(|_| SimNode {
                core: None,
                disk: Disk {
                    window: cfg.window,
                    ..Disk::default()
                },
                checked: 0,
                last_ready: 0,
                crashes: 0,
                paused_until: 0,
            })
            .collect();
        let mut sim = Sim {
            rng: Rng::new(cfg.seed),
            cfg,
            now: 0,
            configs,
            nodes,
            net: Net::new(n),
            reqs: BTreeMap::new(),
            next_req: 1,
            leaders: HashMap::new(),
            canon: Vec::new(),
            proposed: HashMap::new(),
            sent: HashMap::new(),
            chaos: false,
            trace: std::env::var("SIM_TRACE").is_ok_and(|v| v != "0"),
            recent: VecDeque::new(),
            stats: Stats::default(),
        };
        for i in 0..n {
            sim.restart(i).expect("fresh start");
        }
        sim
    }

    pub fn n(&self) -> usize {
        self.nodes.len()
    }

    pub fn alive(&self, i: usize) -> bool {
        self.nodes[i].core.is_some()
    }

    pub fn core(&self, i: usize) -> Option<&Node> {
        self.nodes[i].core.as_ref()
    }

    pub fn event(&mut self, line: String) {
        let line = format!("[t={:5}] {line}", self.now);
        if self.trace {
            println!("{line}");
        }
        if self.recent.len() >= 400 {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// The last events before a failure, for the report.
    pub fn recent_events(&self) -> String {
        let mut s = String::new();
        let skip = self.recent.len().saturating_sub(80);
        for l in self.recent.iter().skip(skip) {
            let _ = writeln!(s, "  {l}");
        }
        s
    }

    // ----- faults -----

    pub fn crash(&mut self, i: usize) {
        if self.nodes[i].core.take().is_none() {
            return;
        }
        let node = &mut self.nodes[i];
        node.paused_until = 0;
        node.disk.queue.clear();
        node.checked = 0;
        node.crashes += 1;
        for r in self.reqs.values_mut() {
            if r.origin == i && r.outcome.is_none() {
                r.lost_with_crash = true;
            }
        }
        self.event(format!("CRASH node{i}"));
    }

    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        if self.alive(i) {
            return Ok(());
        }
        let (node, outs) = Node::new(
            self.configs[i].clone(),
            self.nodes[i].disk.hard,
            &self.nodes[i].disk,
        )?;
        self.nodes[i].core = Some(node);
        self.nodes[i].checked = 0;
        self.event(format!(
            "START node{i} term={} tip={}",
            self.nodes[i].disk.hard.term,
            self.nodes[i].disk.log.len()
        ));
        self.handle(i, outs)
    }

    pub fn cut(&mut self, a: usize, b: usize) {
        self.net.cut[a][b] = true;
    }

    pub fn isolate(&mut self, i: usize) {
        for j in 0..self.n() {
            if j != i {
                self.net.cut[i][j] = true;
                self.net.cut[j][i] = true;
            }
        }
        self.event(format!("ISOLATE node{i}"));
    }

    pub fn heal(&mut self) {
        self.net.heal();
        self.event("HEAL network".into());
    }

    // ----- clients -----

    pub fn submit(&mut self, i: usize, consistency: Consistency, fails: bool) -> RequestId {
        let id = RequestId(self.next_req);
        self.next_req += 1;
        self.reqs.insert(
            id,
            ClientReq {
                origin: i,
                consistency,
                fails,
                submitted: self.now,
                outcome: None,
                answered_at: 0,
                lost_with_crash: !self.alive(i),
            },
        );
        let body = if fails {
            format!("fail {id}")
        } else {
            format!("write {id}")
        };
        let _ = self.input(
            i,
            Input::ClientWrite {
                id,
                consistency,
                body: body.into_bytes(),
                timeout: None,
            },
        );
        id
    }

    // ----- driving the cores -----

    fn input(&mut self, i: usize, input: Input) -> Result<(), String> {
        let outs = {
            let SimNode { core, disk, .. } = &mut self.nodes[i];
            let Some(core) = core.as_mut() else {
                return Ok(());
            };
            core.step(disk, input)
        };
        self.handle(i, outs)
    }

    fn queue_op(&mut self, i: usize, op: Op) {
        let (lo, hi) = self.cfg.disk_latency;
        let mut lat = self.rng.range(lo, hi);
        if matches!(op, Op::Snapshot { .. }) {
            lat += self.rng.range(3, 15);
        }
        lat += self.cfg.disk_extra.get(i).copied().unwrap_or(0);
        let node = &mut self.nodes[i];
        let ready = (self.now + lat).max(node.last_ready);
        node.last_ready = ready;
        node.disk.queue.push_back((ready, op));
    }

    fn handle(&mut self, i: usize, outs: Vec<Output>) -> Result<(), String> {
        for o in outs {
            match o {
                Output::Send { to, msg } => {
                    if let Message::BeginTransaction { entry, .. } = &msg {
                        self.check_proposal(i, entry.term, entry.count, entry.hash)?;
                    }
                    if to.0 < self.n() {
                        self.net.send(&mut self.rng, self.now, i, to.0, msg);
                    }
                }
                Output::PersistHardState(h) => self.nodes[i].disk.hard = h,
                Output::Execute { batch, requests } => {
                    self.queue_op(i, Op::Exec { batch, requests })
                }
                Output::Rollback { batch } => {
                    self.nodes[i]
                        .disk
                        .queue
                        .retain(|(_, op)| !matches!(op, Op::Exec { batch: b, .. } if *b == batch));
                }
                Output::Commit { entry, batch } => {
                    if self.core(i).is_some_and(|c| c.state().is_leader()) {
                        self.check_proposal(i, entry.term, entry.count, entry.hash)?;
                    }
                    if batch.is_some() {
                        // The bound is on client commits (a new leader's no-op carries none).
                        self.check_checkpoint(i, entry.count)?;
                    }
                    if batch.is_some() {
                        let p = Envelope::decode(&entry.payload)
                            .map_err(|e| format!("leader built a bad payload: {e}"))?;
                        for r in p.requests {
                            self.proposed.entry(r.id).or_default().push((
                                entry.count,
                                entry.term,
                                entry.hash,
                            ));
                            if let Some(req) = self.reqs.get(&r.id)
                                && let Some(Outcome::Refused { .. }) = req.outcome
                            {
                                return Err(format!(
                                    "request {} was answered Refused, then proposed at {}",
                                    r.id, entry.count
                                ));
                            }
                        }
                    }
                    self.queue_op(i, Op::Commit { entry });
                }
                Output::RequestSnapshot {
                    from,
                    must_contain,
                    fork,
                } => {
                    self.event(format!(
                        "node{i} requests snapshot from node{} (must contain {}, fork {:?})",
                        from.0,
                        must_contain.count,
                        fork.as_ref().map(|f| f.detected_at)
                    ));
                    self.queue_op(
                        i,
                        Op::Snapshot {
                            from: from.0,
                            must_contain,
                            fork,
                        },
                    );
                }
                Output::Reply { id, outcome } => self.on_reply(i, id, outcome)?,
                Output::StateChanged {
                    from,
                    to,
                    term,
                    reason,
                } => {
                    self.event(format!("node{i} {from} -> {to} term={term}: {reason}"));
                    if to == State::Leading && from != State::StandingDown {
                        self.stats.elections += 1;
                        self.check_new_leader(i, term)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Two-phase commit: once a transaction at commit count n left the leader of a term, that
    /// leader never proposes a different one at n.
    fn check_proposal(
        &mut self,
        i: usize,
        term: u64,
        n: u64,
        hash: [u8; 32],
    ) -> Result<(), String> {
        match self.sent.insert((term, n), hash) {
            Some(prev) if prev != hash => Err(format!(
                "node{i} proposed two different transactions at commit {n} in term {term}"
            )),
            _ => Ok(()),
        }
    }

    /// `-quorumCheckpoint`: when the leader adds commit n, at most `quorum_checkpoint` of its
    /// commits lie beyond what a majority of voters durably holds of its history.
    fn check_checkpoint(&self, i: usize, n: u64) -> Result<(), String> {
        let leader = &self.nodes[i].disk;
        let mut held: Vec<u64> = Vec::new();
        for (j, node) in self.nodes.iter().enumerate() {
            if self.cfg.priorities[j] == 0 {
                continue;
            }
            let d = &node.disk;
            // Longest durable prefix of node j that is the leader's history (binary search:
            // the hash chain makes agreement a prefix property).
            let (mut lo, mut hi) = (0u64, (d.log.len() as u64).min(n - 1));
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                if leader.view_hash(mid) == Some(d.log[mid as usize - 1].hash) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            held.push(lo);
        }
        held.sort_unstable_by(|a, b| b.cmp(a));
        let majority = held.len() / 2 + 1;
        let mm = held.get(majority - 1).copied().unwrap_or(0);
        if n.saturating_sub(mm) > self.cfg.quorum_checkpoint {
            return Err(format!(
                "-quorumCheckpoint: node{i} adds commit {n} while a majority durably holds only {mm} (bound {})",
                self.cfg.quorum_checkpoint
            ));
        }
        Ok(())
    }

    fn on_reply(&mut self, i: usize, id: RequestId, outcome: Outcome) -> Result<(), String> {
        let now = self.now;
        let Some(req) = self.reqs.get_mut(&id) else {
            return Err(format!("reply for unknown request {id}"));
        };
        if req.origin != i {
            return Err(format!(
                "request {id} answered on node{i}, submitted on node{}",
                req.origin
            ));
        }
        if let Some(prev) = &req.outcome {
            return Err(format!(
                "request {id} answered twice: {prev:?} then {outcome:?}"
            ));
        }
        match &outcome {
            Outcome::Committed { .. } => self.stats.committed += 1,
            Outcome::Unknown => self.stats.unknown += 1,
            Outcome::Refused { .. } => self.stats.refused += 1,
            Outcome::Failed { .. } => self.stats.failed += 1,
        }
        if req.fails && matches!(outcome, Outcome::Committed { .. }) {
            return Err(format!("failing request {id} answered committed"));
        }
        if !req.fails && matches!(outcome, Outcome::Failed { .. }) {
            return Err(format!("request {id} that cannot fail answered failed"));
        }
        req.outcome = Some(outcome.clone());
        req.answered_at = now;
        let consistency = req.consistency;
        if let Outcome::Refused { .. } = outcome {
            // "Definitely not committed": nobody may hold it, and nobody may propose it later.
            for (j, n) in self.nodes.iter().enumerate() {
                let queued = n.disk.queue.iter().any(|(_, op)| match op {
                    Op::Commit { entry } => Envelope::decode(&entry.payload)
                        .is_ok_and(|p| p.requests.iter().any(|r| r.id == id)),
                    _ => false,
                });
                if n.disk.ids.contains_key(&id) || queued {
                    return Err(format!(
                        "request {id} answered Refused but node{j} holds it"
                    ));
                }
            }
        }
        let short = match &outcome {
            Outcome::Committed { commit_count, .. } => format!("Committed at {commit_count}"),
            Outcome::Failed { .. } => "Failed".to_string(),
            other => format!("{other:?}"),
        };
        self.event(format!("REPLY node{i} {} {consistency:?}: {short}", id.0));
        Ok(())
    }

    /// Completes due disk operations of node `i`, in order; once its writer has nothing left
    /// to do, tells the core so (`Input::WriterReady`: the leader's next batch may start).
    fn run_disk(&mut self, i: usize) -> Result<(), String> {
        let mut completed = false;
        loop {
            if !self.alive(i) {
                return Ok(());
            }
            let due = self.nodes[i]
                .disk
                .queue
                .front()
                .is_some_and(|(t, _)| *t <= self.now);
            if !due {
                if completed && self.nodes[i].disk.queue.is_empty() {
                    self.input(i, Input::WriterReady)?;
                }
                return Ok(());
            }
            completed = true;
            let Some((_, op)) = self.nodes[i].disk.queue.pop_front() else {
                return Ok(());
            };
            let input = match op {
                Op::Exec { batch, requests } => {
                    let mut body = Vec::new();
                    let mut results = Vec::new();
                    for (id, b) in requests {
                        let ok = !b.starts_with(b"fail");
                        if ok {
                            body.extend_from_slice(&b);
                            body.push(b';');
                        }
                        results.push(Executed {
                            id,
                            ok,
                            result: format!("INSERT 0 1 ({id})").into_bytes(),
                        });
                    }
                    Input::Executed {
                        batch,
                        body,
                        results,
                    }
                }
                Op::Commit { entry } => {
                    if self.chaos && self.rng.chance(self.cfg.p_commit_fail) {
                        // The disk failed: this commit and every later one never happen.
                        let disk = &mut self.nodes[i].disk;
                        disk.queue
                            .retain(|(_, op)| !matches!(op, Op::Commit { .. }));
                        self.event(format!("DISK FAILURE node{i} at commit {}", entry.count));
                        self.input(
                            i,
                            Input::CommitFailed {
                                count: entry.count,
                                reason: "simulated disk failure".into(),
                            },
                        )?;
                        continue;
                    }
                    let disk = &mut self.nodes[i].disk;
                    let tip = disk.tip();
                    if entry.count != tip.count + 1
                        || chain(&tip.hash, &entry.payload) != entry.hash
                    {
                        return Err(format!(
                            "node{i} asked to commit {} on top of {} that does not chain",
                            entry.count, tip.count
                        ));
                    }
                    let p = Envelope::decode(&entry.payload)
                        .map_err(|e| format!("node{i} commits a bad payload: {e}"))?;
                    for r in p.requests {
                        if let Some((n, _)) = disk.ids.get(&r.id) {
                            return Err(format!(
                                "invariant 5: node{i} applies request {} twice (commits {n} and {})",
                                r.id, entry.count
                            ));
                        }
                        if let Some(req) = self.reqs.get(&r.id) {
                            if matches!(req.outcome, Some(Outcome::Refused { .. })) {
                                return Err(format!(
                                    "node{i} applies request {} that was answered Refused",
                                    r.id
                                ));
                            }
                            if req.fails {
                                return Err(format!("node{i} applies failing request {}", r.id));
                            }
                        }
                        disk.ids.insert(r.id, (entry.count, r.result));
                    }
                    let count = entry.count;
                    disk.log.push(entry);
                    Input::Committed { count }
                }
                Op::Snapshot {
                    from,
                    must_contain,
                    fork,
                } => self.install_snapshot(i, from, must_contain, fork)?,
            };
            self.input(i, input)?;
        }
    }

    fn install_snapshot(
        &mut self,
        i: usize,
        from: usize,
        must_contain: LogPos,
        fork: Option<ForkInfo>,
    ) -> Result<Input, String> {
        let reachable = self.alive(from) && !self.net.cut[from][i] && !self.net.cut[i][from];
        if !reachable {
            return Ok(Input::SnapshotFailed {
                reason: format!("node{from} unreachable"),
            });
        }
        let src = &self.nodes[from].disk;
        let len = src.log.len() as u64;
        let ok = if must_contain.count > len {
            false
        } else if must_contain.count == 0 || must_contain.count + src.window <= len {
            true // nothing to check, or older than the source's journal window
        } else {
            src.log[must_contain.count as usize - 1].hash == must_contain.hash
        };
        if !ok {
            return Ok(Input::SnapshotFailed {
                reason: "snapshot does not hold the required commit".into(),
            });
        }
        let log = src.log.clone();
        let ids = src.ids.clone();
        let disk = &mut self.nodes[i].disk;
        if let Some(f) = &fork {
            disk.quarantined += 1;
            self.stats.forks_recovered += 1;
            // Which commits diverged: first count where the old file and the snapshot differ.
            let first = disk
                .log
                .iter()
                .zip(log.iter())
                .position(|(a, b)| a.hash != b.hash)
                .map(|p| p as u64 + 1)
                .unwrap_or(disk.log.len().min(log.len()) as u64 + 1);
            let line = format!(
                "node{i} FORKED: moved aside; commits {}..={} diverged (detected at {}); re-seeded from node{from} at {}",
                first,
                f.local_tip.count,
                f.detected_at,
                log.len()
            );
            disk.log = log;
            disk.ids = ids;
            self.event(line);
        } else {
            disk.log = log;
            disk.ids = ids;
            self.event(format!(
                "node{i} installed snapshot from node{from} at {len}"
            ));
        }
        self.stats.snapshots += 1;
        self.nodes[i].checked = 0;
        let tip = self.nodes[i].disk.tip();
        Ok(Input::SnapshotInstalled { tip })
    }

    /// One tick: deliver due messages, complete due disk writes, tick every live node, check.
    pub fn tick(&mut self) -> Result<(), String> {
        self.now += 1;
        if self.net.heap.len() > 200_000 {
            let mut kinds: BTreeMap<(usize, usize, &'static str), usize> = BTreeMap::new();
            for m in self.net.heap.iter() {
                *kinds.entry((m.from, m.to, m.msg.name())).or_default() += 1;
            }
            let mut top: Vec<_> = kinds.into_iter().collect();
            top.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
            top.truncate(6);
            return Err(format!(
                "message storm: {} messages in flight, most common {top:?}",
                self.net.heap.len()
            ));
        }
        let mut held = Vec::new();
        while let Some(mut m) = self.net.pop_due(self.now) {
            if !self.alive(m.to) || self.net.cut[m.from][m.to] {
                continue;
            }
            if self.nodes[m.to].paused_until > self.now {
                // A paused process reads its socket when it wakes up.
                m.at = self.nodes[m.to].paused_until;
                held.push(m);
                continue;
            }
            // Every message crosses the wire encoding, as it will in the server.
            let bytes = m.msg.encode();
            let msg = Message::decode(&bytes).map_err(|e| format!("decode failed: {e}"))?;
            if msg != m.msg {
                return Err(format!("encoding changed {}", m.msg.name()));
            }
            self.input(
                m.to,
                Input::Message {
                    from: NodeId(m.from),
                    msg,
                },
            )?;
        }
        for m in held {
            self.net.heap.push(m);
        }
        for i in 0..self.n() {
            if self.nodes[i].paused_until <= self.now {
                self.run_disk(i)?;
                self.input(i, Input::Tick)?;
                self.run_disk(i)?;
            }
        }
        if self.trace && self.now.is_multiple_of(50) {
            println!("{}", self.describe());
        }
        self.check()
    }

    pub fn run_for(&mut self, ticks: u64) -> Result<(), String> {
        for _ in 0..ticks {
            self.tick()?;
        }
        Ok(())
    }

    /// Runs until `cond` holds, at most `bound` ticks.
    pub fn run_until(
        &mut self,
        bound: u64,
        what: &str,
        mut cond: impl FnMut(&Sim) -> bool,
    ) -> Result<u64, String> {
        for t in 0..bound {
            if cond(self) {
                return Ok(t);
            }
            self.tick()?;
        }
        if cond(self) {
            return Ok(bound);
        }
        Err(format!(
            "{what}: not reached within {bound} ticks\n{}",
            self.describe()
        ))
    }

    // ----- invariants -----

    /// Checks run after every tick.
    fn check(&mut self) -> Result<(), String> {
        for i in 0..self.n() {
            let Some(core) = self.nodes[i].core.as_ref() else {
                continue;
            };
            // 1. At most one leader per term.
            if core.state().is_leader() {
                let term = core.term();
                match self.leaders.get(&term) {
                    Some(&l) if l != i => {
                        return Err(format!(
                            "invariant 1: node{l} and node{i} both lead term {term}"
                        ));
                    }
                    Some(_) => {}
                    None => {
                        self.leaders.insert(term, i);
                    }
                }
            }
            // 2. The committed prefix a node claims agrees with every other node's claim.
            let cp = core.commit_point();
            let claim_term = core.term();
            let from = self.nodes[i].checked;
            if cp > from {
                for n in from + 1..=cp {
                    let Some(h) = self.nodes[i].disk.view_hash(n) else {
                        return Err(format!(
                            "invariant 2: node{i} claims commit point {cp} but lacks commit {n}"
                        ));
                    };
                    let idx = n as usize - 1;
                    if idx < self.canon.len() {
                        if self.canon[idx].0 != h {
                            return Err(format!(
                                "invariant 2: node{i} disagrees on committed commit {n}"
                            ));
                        }
                        self.canon[idx].1 = self.canon[idx].1.min(claim_term);
                    } else {
                        // Extending the canon: commits before n must be there already.
                        while self.canon.len() < idx {
                            let k = self.canon.len() as u64 + 1;
                            let Some(hk) = self.nodes[i].disk.view_hash(k) else {
                                return Err(format!(
                                    "node{i} lacks commit {k} below its commit point"
                                ));
                            };
                            self.canon.push((hk, claim_term));
                        }
                        self.canon.push((h, claim_term));
                    }
                }
                self.nodes[i].checked = cp;
            }
        }
        Ok(())
    }

    /// Invariant 3, leader completeness: a new leader holds every commit known committed in
    /// an earlier term. A leader of a stale term can still be elected late (e.g. after a
    /// pause), but every node it needs has moved on, so it can commit nothing.
    fn check_new_leader(&mut self, i: usize, term: u64) -> Result<(), String> {
        let disk = &self.nodes[i].disk;
        for (k, (h, claim_term)) in self.canon.iter().enumerate() {
            let n = k as u64 + 1;
            if term > *claim_term && disk.view_hash(n) != Some(*h) {
                return Err(format!(
                    "invariant 3: node{i}, leader of term {term}, lacks committed commit {n}"
                ));
            }
        }
        Ok(())
    }

    /// Invariant 6's condition: one leader, the highest-priority voter, everyone at the same
    /// commit count and hash, nothing pending.
    pub fn converged(&self) -> bool {
        let top = self
            .cfg
            .priorities
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| **p)
            .map(|(i, _)| i)
            .unwrap_or(0);
        let Some(leader) = self.core(top) else {
            return false;
        };
        if leader.state() != State::Leading {
            return false;
        }
        let tip = leader.tip();
        if leader.commit_point() != tip.count || leader.durable() != tip {
            return false;
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(core) = n.core.as_ref() else {
                return false;
            };
            if i != top && core.state() != State::Following {
                return false;
            }
            if core.pending_requests() != 0 || !n.disk.queue.is_empty() || n.disk.tip() != tip {
                return false;
            }
        }
        self.reqs
            .values()
            .all(|r| r.outcome.is_some() || r.lost_with_crash)
    }

    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            match n.core.as_ref() {
                Some(c) => {
                    let _ = writeln!(
                        s,
                        "  node{i} prio={} {} term={} leader={:?} tip={} durable={} cp={} pending={} queue={} {:?}",
                        self.cfg.priorities[i],
                        c.state(),
                        c.term(),
                        c.leader().map(|l| l.0),
                        c.tip().count,
                        c.durable().count,
                        c.commit_point(),
                        c.pending_requests(),
                        n.disk.queue.len(),
                        n.disk.queue.front().map(|(t, op)| (
                            t,
                            match op {
                                Op::Exec { batch, .. } => format!("exec {batch}"),
                                Op::Commit { entry } => format!("commit {}", entry.count),
                                Op::Snapshot { from, .. } => format!("snapshot from {from}"),
                            }
                        ))
                    );
                }
                None => {
                    let _ = writeln!(s, "  node{i} DOWN tip={}", n.disk.log.len());
                }
            }
        }
        s
    }

    /// After convergence: invariants 4 and 5 on the final history, and every answer honest.
    pub fn final_checks(&mut self) -> Result<(), String> {
        let final_log = self.nodes[0].disk.log.clone();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.disk.log.len() != final_log.len()
                || n.disk.log.last().map(|e| e.hash) != final_log.last().map(|e| e.hash)
            {
                return Err(format!("invariant 6: node{i} did not converge"));
            }
        }
        // 5. No id twice in the final history.
        let mut at: HashMap<RequestId, u64> = HashMap::new();
        for e in &final_log {
            let p = Envelope::decode(&e.payload).map_err(|e| e.to_string())?;
            for r in p.requests {
                if let Some(prev) = at.insert(r.id, e.count) {
                    return Err(format!(
                        "invariant 5: request {} in commits {prev} and {}",
                        r.id, e.count
                    ));
                }
            }
        }
        // The canon is a prefix of the final history.
        for (k, (h, _)) in self.canon.iter().enumerate() {
            if final_log.get(k).map(|e| e.hash) != Some(*h) {
                return Err(format!("invariant 4: committed commit {} lost", k + 1));
            }
        }
        let final_term = final_log.last().map(|e| e.term).unwrap_or(0);
        let mut lost_by_term: BTreeMap<u64, HashSet<u64>> = BTreeMap::new();
        for (id, r) in &self.reqs {
            let held = at.get(id).copied();
            match &r.outcome {
                Some(Outcome::Committed { commit_count, .. }) => {
                    if held == Some(*commit_count) {
                        continue;
                    }
                    // 4. Lost: never a QUORUM write; others only with a failed leader, bounded.
                    if r.consistency == Consistency::Quorum {
                        return Err(format!(
                            "invariant 4: QUORUM request {id} acknowledged at {commit_count} is lost (now at {held:?})"
                        ));
                    }
                    let term = self
                        .proposed
                        .get(id)
                        .and_then(|v| v.iter().find(|(n, _, _)| n == commit_count))
                        .map(|(_, t, _)| *t)
                        .unwrap_or(0);
                    if term >= final_term {
                        return Err(format!(
                            "invariant 4: {:?} request {id} of the final leader's term lost",
                            r.consistency
                        ));
                    }
                    lost_by_term.entry(term).or_default().insert(*commit_count);
                    self.stats.lost_async += 1;
                }
                Some(Outcome::Refused { .. }) | Some(Outcome::Failed { .. }) => {
                    if held.is_some() {
                        return Err(format!(
                            "request {id} answered {:?} but committed",
                            r.outcome
                        ));
                    }
                }
                Some(Outcome::Unknown) | None => {}
            }
        }
        for (term, commits) in lost_by_term {
            if commits.len() as u64 > self.cfg.quorum_checkpoint {
                return Err(format!(
                    "invariant 4: {} acknowledged commits of term {term} lost, more than -quorumCheckpoint {}",
                    commits.len(),
                    self.cfg.quorum_checkpoint
                ));
            }
        }
        self.stats.final_commits = final_log.len() as u64;
        Ok(())
    }

    // ----- helpers for scripted scenarios -----

    /// Whether node `i`'s log (durable or queued) holds request `id`.
    pub fn holds(&self, i: usize, id: RequestId) -> bool {
        let d = &self.nodes[i].disk;
        d.ids.contains_key(&id)
            || d.queue.iter().any(|(_, op)| match op {
                Op::Commit { entry } => Envelope::decode(&entry.payload)
                    .is_ok_and(|p| p.requests.iter().any(|r| r.id == id)),
                _ => false,
            })
    }

    /// The node in LEADING (not standing down), if exactly one is.
    pub fn leading(&self) -> Option<usize> {
        let v: Vec<usize> = (0..self.n())
            .filter(|&i| self.core(i).is_some_and(|c| c.state() == State::Leading))
            .collect();
        (v.len() == 1).then(|| v[0])
    }

    pub fn wait_leader(&mut self, bound: u64) -> Result<usize, String> {
        self.run_until(bound, "a leader", |s| s.leading().is_some())?;
        self.leading().ok_or_else(|| "no leader".to_string())
    }

    /// Submits a write and runs until it is answered.
    pub fn write(&mut self, i: usize, c: Consistency, bound: u64) -> Result<Outcome, String> {
        let id = self.submit(i, c, false);
        self.run_until(bound, "an answer", |s| s.reqs[&id].outcome.is_some())?;
        Ok(self.reqs[&id].outcome.clone().unwrap_or(Outcome::Unknown))
    }

    /// Runs until every live node holds the same durable tip as the leader and nothing is queued.
    pub fn wait_synced(&mut self, bound: u64) -> Result<u64, String> {
        self.run_until(bound, "every live node synchronized", |s| {
            let Some(l) = s.leading() else {
                return false;
            };
            let tip = s.nodes[l].disk.tip();
            (0..s.n()).all(|i| {
                !s.alive(i) || (s.nodes[i].disk.tip() == tip && s.nodes[i].disk.queue.is_empty())
            })
        })
    }

    // ----- the random run -----

    pub fn leader_now(&self) -> Option<usize> {
        (0..self.n()).find(|&i| self.core(i).is_some_and(|c| c.state().is_leader()))
    }

    fn random_write(&mut self) {
        let i = self.rng.below(self.n() as u64) as usize;
        if !self.alive(i) {
            return;
        }
        let c = self
            .rng
            .pick(&[Consistency::Async, Consistency::One, Consistency::Quorum]);
        let fails = self.rng.chance(0.05);
        self.submit(i, c, fails);
    }

    fn random_fault(&mut self) -> Result<(), String> {
        let n = self.n();
        let dead: Vec<usize> = (0..n).filter(|&i| !self.alive(i)).collect();
        let live: Vec<usize> = (0..n).filter(|&i| self.alive(i)).collect();
        match self.rng.below(17) {
            0..=2 if !live.is_empty() => {
                let i = self.rng.pick(&live);
                self.crash(i);
            }
            3..=4 => {
                if let Some(l) = self.leader_now() {
                    self.crash(l);
                }
            }
            5..=8 if !dead.is_empty() => {
                let i = self.rng.pick(&dead);
                self.restart(i)?;
            }
            9 => {
                // Symmetric partition into two random groups.
                let side: Vec<bool> = (0..n).map(|_| self.rng.chance(0.5)).collect();
                for a in 0..n {
                    for b in 0..n {
                        if side[a] != side[b] {
                            self.net.cut[a][b] = true;
                        }
                    }
                }
                self.event(format!("PARTITION {side:?}"));
            }
            10 => {
                let i = self.rng.below(n as u64) as usize;
                self.isolate(i);
            }
            11 => {
                let a = self.rng.below(n as u64) as usize;
                let b = self.rng.below(n as u64) as usize;
                if a != b {
                    self.net.cut[a][b] = true;
                    self.event(format!("ONE-WAY CUT node{a} -> node{b}"));
                }
            }
            12 => {
                let a = self.rng.below(n as u64) as usize;
                for b in 0..n {
                    self.net.cut[a][b] = false;
                    self.net.cut[b][a] = false;
                }
                self.event(format!("RECONNECT node{a}"));
            }
            13 => {
                self.net.heal();
                self.event("HEAL links".into());
            }
            14 => {
                // Pause a node (often the leader) for up to two election timeouts.
                let i = match self.leader_now() {
                    Some(l) if self.rng.chance(0.5) => l,
                    _ => self.rng.below(n as u64) as usize,
                };
                let ticks = self.rng.range(1, 2 * self.cfg.timing.election);
                self.nodes[i].paused_until = self.now + ticks;
                self.event(format!("PAUSE node{i} for {ticks} ticks"));
            }
            _ => {
                self.net.loss = self.rng.pick(&[0.0, 0.0, 0.02, 0.1, 0.3]);
                self.net.dup = self.rng.pick(&[0.0, 0.05, 0.2]);
                self.net.slow = self.rng.pick(&[0.0, 0.05, 0.2]);
                let (l, d, s) = (self.net.loss, self.net.dup, self.net.slow);
                self.event(format!("NETWORK loss={l} dup={d} slow={s}"));
            }
        }
        Ok(())
    }

    /// The whole random run of one seed: chaos, healing, convergence, final checks.
    pub fn run_random(&mut self) -> Result<(), String> {
        self.chaos = true;
        for _ in 0..self.cfg.chaos_ticks {
            if self.rng.chance(self.cfg.p_write) {
                self.random_write();
            }
            if self.rng.chance(self.cfg.p_fault) {
                self.random_fault()?;
            }
            self.tick()?;
        }
        // Heal: everyone up, every link up, a clean network and disks, nobody paused.
        self.chaos = false;
        self.heal();
        for node in &mut self.nodes {
            node.paused_until = node.paused_until.min(self.now);
        }
        for i in 0..self.n() {
            self.restart(i)?;
        }
        for _ in 0..self.cfg.heal_write_ticks {
            if self.rng.chance(self.cfg.p_write) {
                self.random_write();
            }
            self.tick()?;
        }
        let t = self.run_until(
            self.cfg.heal_bound,
            "invariant 6 (convergence after healing)",
            |s| s.converged(),
        )?;
        self.stats.converge_ticks = t;
        // And the healed cluster still takes writes at every level.
        let ids: Vec<RequestId> = (0..self.n())
            .map(|i| {
                let c = [Consistency::Async, Consistency::One, Consistency::Quorum][i % 3];
                self.submit(i, c, false)
            })
            .collect();
        self.run_until(400, "writes after healing", |s| {
            ids.iter().all(|id| s.reqs[id].outcome.is_some()) && s.converged()
        })?;
        for id in &ids {
            if !matches!(self.reqs[id].outcome, Some(Outcome::Committed { .. })) {
                return Err(format!(
                    "write {id} after healing answered {:?}",
                    self.reqs[id].outcome
                ));
            }
        }
        self.final_checks()
    }
}

/// Runs one seed; on failure returns the report (seed, reason, replay command, last events).
pub fn run_seed(seed: u64, faults: &Faults) -> Result<Stats, String> {
    let mut cfg = SimConfig::from_seed(seed);
    cfg.faults = faults.clone();
    let mut sim = Sim::new(cfg);
    match sim.run_random() {
        Ok(()) => Ok(sim.stats),
        Err(e) => Err(format!(
            "seed {seed} failed: {e}\nreplay: SIM_SEED={seed} cargo test --release --test simulation -- replay --nocapture\nlast events:\n{}\nstate:\n{}",
            sim.recent_events(),
            sim.describe()
        )),
    }
}
