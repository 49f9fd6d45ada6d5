//! A node: opens the store, starts the writer, and drives the consensus core — the one write
//! path (DESIGN.md §2). `cluster::Node` lives behind one lock ([`NodeCore`]); whoever has an
//! input steps it right away — a session submitting a write, the writer reporting a completed
//! storage output, the tick task every 10 ms — and the outputs are performed in the order the
//! core produced them (docs/protocol.md §2): storage outputs go, under the same lock, to the
//! writer's queue, which performs them one after another (the hard state first: anything the
//! core produced after a `PersistHardState` is queued behind it), and answers go straight to
//! the sessions waiting for them. So a write travels session → writer → session, with no hop
//! through another task. With an empty `-peerList` the node is a one-voter cluster and leads
//! at once; the client port accepts connections once it leads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::cluster::{self, HardState, Input, Journal, Member, NodeId, Outcome, Output, State};
use crate::config::Config;
use crate::exec::{self, Published, Shared, Status, Submit, writer};
use crate::log::{Entry, LogPos, RequestId};
use crate::sql::catalog::Catalog;
use crate::sql::extension::SqlExtension;
use crate::store::{Conn, Store, StoreConfig, journal};

/// The durable journal as the core reads it: the cached durable tip (updated as the writer
/// reports commits) and a read connection for entries and the request-id index.
struct DbJournal {
    conn: Conn,
    tip: LogPos,
}

impl Journal for DbJournal {
    fn tip(&self) -> LogPos {
        self.tip
    }

    fn entry(&self, count: u64) -> Option<Entry> {
        journal::read_entry(&self.conn.conn, count).unwrap_or_else(|e| {
            tracing::error!("journal: cannot read commit {count}: {e}");
            None
        })
    }

    fn find_request(&self, id: RequestId) -> Option<(u64, Vec<u8>)> {
        journal::find_request(&self.conn.conn, id).unwrap_or_else(|e| {
            tracing::error!("journal: cannot look up request {id}: {e}");
            None
        })
    }
}

/// What the core's lock protects.
struct CoreState {
    node: cluster::Node,
    journal: DbJournal,
    /// Sessions waiting for the answer to their write.
    replies: HashMap<RequestId, oneshot::Sender<Outcome>>,
    /// Told once the node leads.
    leading: Option<oneshot::Sender<()>>,
}

/// The consensus core of this node and where its outputs go.
pub struct NodeCore {
    state: Mutex<CoreState>,
    writer: writer::Handle,
    status: Arc<Mutex<Status>>,
    names: Vec<String>,
    me: String,
}

impl NodeCore {
    fn lock(&self) -> std::sync::MutexGuard<'_, CoreState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Step the core with `input` and perform what it asks.
    fn step(&self, st: &mut CoreState, input: Input) {
        let outs = st.node.step(&st.journal, input);
        self.route(st, outs);
    }

    /// Perform the core's outputs in order.
    fn route(&self, st: &mut CoreState, outs: Vec<Output>) {
        let mut held: Option<Vec<Output>> = None;
        for o in outs {
            // After a PersistHardState nothing may be performed before it is durable: the
            // rest goes to the writer's queue behind it.
            if let Some(h) = held.as_mut()
                && !matches!(
                    o,
                    Output::Execute { .. } | Output::Commit { .. } | Output::Rollback { .. }
                )
            {
                h.push(o);
                continue;
            }
            match o {
                Output::PersistHardState(hs) => {
                    if let Some(h) = held.take()
                        && !h.is_empty()
                    {
                        self.writer.send(writer::Command::Perform(h));
                    }
                    let vote = hs.vote.and_then(|v| self.names.get(v.0).cloned());
                    self.writer.send(writer::Command::PersistHardState {
                        term: hs.term,
                        vote,
                    });
                    held = Some(Vec::new());
                }
                Output::Execute { batch, requests } => {
                    self.flush_held(&mut held);
                    self.writer
                        .send(writer::Command::Execute { batch, requests });
                }
                Output::Commit { entry, batch } => {
                    self.flush_held(&mut held);
                    self.writer.send(writer::Command::Commit { entry, batch });
                }
                Output::Rollback { batch } => {
                    self.flush_held(&mut held);
                    self.writer.send(writer::Command::Rollback { batch });
                }
                other => self.perform_one(st, other),
            }
        }
        self.flush_held(&mut held);
    }

    fn flush_held(&self, held: &mut Option<Vec<Output>>) {
        if let Some(h) = held.as_mut()
            && !h.is_empty()
        {
            self.writer
                .send(writer::Command::Perform(std::mem::take(h)));
        }
    }

    /// An output that is not a storage output.
    fn perform_one(&self, st: &mut CoreState, o: Output) {
        match o {
            Output::Send { to, .. } => {
                tracing::debug!("no transport yet: dropping a message for {to}");
            }
            Output::Reply { id, outcome } => {
                if let Some(tx) = st.replies.remove(&id) {
                    let _ = tx.send(outcome);
                }
            }
            Output::StateChanged {
                from,
                to,
                term,
                reason,
            } => {
                tracing::info!(term, "{from} -> {to}: {reason}");
                let leader = if to.is_leader() {
                    Some(self.me.clone())
                } else {
                    st.node.leader().and_then(|l| self.names.get(l.0).cloned())
                };
                *self.status.lock().unwrap_or_else(|p| p.into_inner()) = Status {
                    state: to,
                    term,
                    leader,
                };
                if to == State::Leading
                    && let Some(tx) = st.leading.take()
                {
                    let _ = tx.send(());
                }
            }
            Output::RequestSnapshot { .. } => {
                // One node has no peer to fetch from.
                self.step(
                    st,
                    Input::SnapshotFailed {
                        reason: "no peers".into(),
                    },
                );
            }
            storage @ (Output::PersistHardState(_)
            | Output::Execute { .. }
            | Output::Commit { .. }
            | Output::Rollback { .. }) => self.route(st, vec![storage]),
        }
    }

    fn tick(&self) {
        let mut st = self.lock();
        self.step(&mut st, Input::Tick);
    }
}

impl exec::Core for NodeCore {
    fn submit(&self, s: Submit) {
        let mut st = self.lock();
        st.replies.insert(s.id, s.reply);
        self.step(
            &mut st,
            Input::ClientWrite {
                id: s.id,
                consistency: s.consistency,
                body: s.body,
                timeout: Some(s.timeout_ticks),
            },
        );
    }

    fn completed(&self, input: Input, tip: Option<LogPos>) {
        let mut st = self.lock();
        if let Some(t) = tip {
            st.journal.tip = t;
        }
        self.step(&mut st, input);
    }

    fn perform(&self, outputs: Vec<Output>) {
        let mut st = self.lock();
        for o in outputs {
            self.perform_one(&mut st, o);
        }
    }
}

/// A started node: the shared state sessions use.
pub struct Started {
    pub shared: Arc<Shared>,
}

/// Most client requests in one commit.
const MAX_BATCH: usize = 1024;

/// Ticks between returns of freed heap memory to the OS (10 s).
const TRIM_TICKS: u64 = 1000;

/// Open the store, start the writer and the core, and wait until this node leads.
pub async fn start(config: Config) -> Result<Started, String> {
    let ext = Arc::new(SqlExtension);
    let (store, write_conn) = Store::open(
        StoreConfig {
            path: config.db.clone(),
            synchronous: config.synchronous,
            max_journal_size: config.max_journal_size,
            clean: config.clean,
        },
        ext,
    )?;
    store.start_checkpointer()?;
    let what = |e: rusqlite::Error| format!("-db {}: {e}", config.db.display());
    let catalog = Arc::new(
        Catalog::load(&write_conn.conn().conn)
            .map_err(|e| format!("-db {}: {}", config.db.display(), e.message))?,
    );
    let (term, vote) = journal::read_hard_state(&write_conn.conn().conn).map_err(what)?;
    let cluster_id = journal::cluster_id(&write_conn.conn().conn).map_err(what)?;
    let tip = write_conn.tip();
    let published = Arc::new(Published::new(catalog.clone(), tip.count));
    let slots = Arc::new(exec::work::Slots::default());
    let members = vec![Member {
        name: config.node_name.clone(),
        priority: config.priority.max(1),
    }];
    let mut cfg = cluster::Config::new(cluster_id, members, NodeId(0));
    cfg.quorum_checkpoint = config.quorum_checkpoint.max(1);
    cfg.max_batch = MAX_BATCH;
    let names: Vec<String> = cfg.members.iter().map(|m| m.name.clone()).collect();
    let hard = HardState {
        term,
        vote: vote.and_then(|v| names.iter().position(|n| *n == v).map(NodeId)),
    };
    let journal = DbJournal {
        conn: store.reader().map_err(what)?,
        tip,
    };
    let (node, outs) = cluster::Node::new(cfg, hard, &journal)?;
    let (writer, inbox) = writer::channel();
    let (leading_tx, leading_rx) = oneshot::channel();
    let status = Arc::new(Mutex::new(Status {
        state: State::Searching,
        term,
        leader: None,
    }));
    let core = Arc::new(NodeCore {
        state: Mutex::new(CoreState {
            node,
            journal,
            replies: HashMap::new(),
            leading: Some(leading_tx),
        }),
        writer: writer.clone(),
        status: status.clone(),
        names,
        me: config.node_name.clone(),
    });
    writer::spawn(
        inbox,
        write_conn,
        catalog,
        published.clone(),
        slots.clone(),
        core.clone(),
    )?;
    {
        let mut st = core.lock();
        core.route(&mut st, outs);
    }
    let ticker = core.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_millis(exec::TICK_MS));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            ticks.tick().await;
            ticker.tick();
            n += 1;
            if n.is_multiple_of(TRIM_TICKS) {
                // Off the runtime: trimming a large heap takes a moment.
                tokio::task::spawn_blocking(crate::memory::trim);
            }
        }
    });
    let shared = Shared::new(
        store,
        config.clone(),
        published,
        writer,
        core,
        slots,
        status,
    );
    match tokio::time::timeout(std::time::Duration::from_secs(30), leading_rx).await {
        Ok(Ok(())) => {}
        _ => return Err("the node did not become leader of its one-node cluster".into()),
    }
    drop_leftover_staging(&shared).await?;
    Ok(Started { shared })
}

/// COPY staging tables left by a crash mid-COPY are dropped (through the journal, like any
/// other write).
async fn drop_leftover_staging(shared: &Arc<Shared>) -> Result<(), String> {
    let reader = shared.store.reader().map_err(|e| e.to_string())?;
    let names: Vec<String> = reader
        .conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE '\\_\\_bedrock\\_copy\\_%' ESCAPE '\\'",
        )
        .and_then(|mut st| {
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(|e| e.to_string())?;
    shared.store.return_reader(reader, false);
    if names.is_empty() {
        return Ok(());
    }
    tracing::info!(
        "dropping {} COPY staging tables left by a crash",
        names.len()
    );
    let script = names
        .iter()
        .map(|n| exec::work::StmtWork {
            generation: 0,
            stmt: crate::log::Statement {
                sql: format!("DROP TABLE IF EXISTS {}", crate::store::quote_ident(n)),
                params: Vec::new(),
                ctx: crate::log::StmtCtx {
                    zone: "UTC".into(),
                    ..Default::default()
                },
            },
            reads_catalog: false,
            target: None,
            session: Default::default(),
            deadline_ms: 0,
            lock_timeout_ms: 0,
            locking: None,
        })
        .collect();
    let (reply, rx) = oneshot::channel();
    shared.core.submit(Submit {
        id: shared.ids.next(),
        consistency: cluster::Consistency::Quorum,
        body: exec::work::Work::Script(script).encode(),
        timeout_ticks: 3000,
        reply,
    });
    match rx.await {
        Ok(Outcome::Committed { .. }) => Ok(()),
        other => Err(format!(
            "cannot drop leftover COPY staging tables: {other:?}"
        )),
    }
}

/// Start serving; returns when the listener fails to bind (with a one-line error).
pub async fn run(config: Config) -> Result<(), String> {
    // Bound first so that a port in use fails at once with one line; connections are
    // accepted only once the node leads.
    let listener = TcpListener::bind(config.server_host)
        .await
        .map_err(|e| format!("-serverHost {}: {e}", config.server_host))?;
    let started = start(config.clone()).await?;
    tracing::info!(
        node = %config.node_name,
        db = %config.db.display(),
        commit_count = started.shared.published.commit_count(),
        "LEADING (single node); serving PostgreSQL clients on {}",
        config.server_host
    );
    crate::pg::server::serve(started.shared, listener).await;
    Ok(())
}
