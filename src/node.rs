//! A node: opens the store, starts the writer, and drives the consensus core — the one write
//! path (DESIGN.md §2). One task owns `cluster::Node`: it feeds it ticks, the sessions' writes
//! and the writer's completions, and performs its outputs in order (docs/protocol.md §2): the
//! hard state is durable before anything after it is performed, storage outputs go to the
//! writer one after another and their completions come back in that order. With an empty
//! `-peerList` the node is a one-voter cluster and leads at once; the client port opens once
//! it leads.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::cluster::{self, HardState, Input, Journal, Member, NodeId, Outcome, Output, State};
use crate::config::Config;
use crate::exec::{self, CoreMsg, Published, Shared, Status, writer};
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

/// A started node: the shared state sessions use, and the task driving the core.
pub struct Started {
    pub shared: Arc<Shared>,
}

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
    let (core_tx, core_rx) = mpsc::unbounded_channel();
    let writer = writer::spawn(
        write_conn,
        catalog,
        published.clone(),
        slots.clone(),
        core_tx.clone(),
    )?;
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
    let shared = Shared::new(
        store,
        config.clone(),
        published,
        writer.clone(),
        core_tx,
        slots,
    );
    let (node, outs) = cluster::Node::new(cfg, hard, &journal)?;
    let (leading_tx, leading_rx) = oneshot::channel();
    let mut driver = Driver {
        node,
        journal,
        writer,
        shared: shared.clone(),
        names,
        replies: HashMap::new(),
        leading: Some(leading_tx),
    };
    driver.perform(outs).await;
    tokio::spawn(driver.run(core_rx));
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
    shared.store.return_reader(reader);
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
    let _ = shared.core.send(CoreMsg::Write(exec::Submit {
        id: shared.ids.next(),
        consistency: cluster::Consistency::Quorum,
        body: exec::work::Work::Script(script).encode(),
        timeout_ticks: 3000,
        reply,
    }));
    match rx.await {
        Ok(Outcome::Committed { .. }) => Ok(()),
        other => Err(format!(
            "cannot drop leftover COPY staging tables: {other:?}"
        )),
    }
}

/// Most client requests in one commit.
const MAX_BATCH: usize = 1024;

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

struct Driver {
    node: cluster::Node,
    journal: DbJournal,
    writer: writer::Handle,
    shared: Arc<Shared>,
    names: Vec<String>,
    /// Sessions waiting for the answer to their write.
    replies: HashMap<RequestId, oneshot::Sender<Outcome>>,
    /// Told once the node leads.
    leading: Option<oneshot::Sender<()>>,
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<CoreMsg>) {
        let mut ticks = tokio::time::interval(std::time::Duration::from_millis(exec::TICK_MS));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { return };
                    self.handle(msg).await;
                    // Take everything already queued before ticking again.
                    while let Ok(m) = rx.try_recv() {
                        self.handle(m).await;
                    }
                }
                _ = ticks.tick() => {
                    let outs = self.node.step(&self.journal, Input::Tick);
                    self.perform(outs).await;
                }
            }
        }
    }

    async fn handle(&mut self, msg: CoreMsg) {
        let input = match msg {
            CoreMsg::Write(s) => {
                self.replies.insert(s.id, s.reply);
                Input::ClientWrite {
                    id: s.id,
                    consistency: s.consistency,
                    body: s.body,
                    timeout: Some(s.timeout_ticks),
                }
            }
            CoreMsg::Storage(input, tip) => {
                if let Some(t) = tip {
                    self.journal.tip = t;
                }
                input
            }
        };
        let outs = self.node.step(&self.journal, input);
        self.perform(outs).await;
    }

    /// Perform the core's outputs, in order.
    async fn perform(&mut self, outs: Vec<Output>) {
        for o in outs {
            match o {
                Output::Send { to, .. } => {
                    tracing::debug!("no transport yet: dropping a message for {to}");
                }
                Output::PersistHardState(hs) => {
                    let vote = hs.vote.and_then(|v| self.names.get(v.0).cloned());
                    let (done, rx) = oneshot::channel();
                    self.writer.send(writer::Command::PersistHardState {
                        term: hs.term,
                        vote,
                        done,
                    });
                    // Durable before anything after it is performed.
                    match rx.await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::error!("{e}; stopping");
                            std::process::exit(1);
                        }
                        Err(_) => {
                            tracing::error!("the writer stopped; stopping");
                            std::process::exit(1);
                        }
                    }
                }
                Output::Execute { batch, requests } => {
                    self.writer
                        .send(writer::Command::Execute { batch, requests });
                }
                Output::Commit { entry, batch } => {
                    self.writer.send(writer::Command::Commit { entry, batch });
                }
                Output::Rollback { batch } => {
                    self.writer.send(writer::Command::Rollback { batch });
                }
                Output::RequestSnapshot { .. } => {
                    // One node has no peer to fetch from.
                    let outs = self.node.step(
                        &self.journal,
                        Input::SnapshotFailed {
                            reason: "no peers".into(),
                        },
                    );
                    Box::pin(self.perform(outs)).await;
                }
                Output::Reply { id, outcome } => {
                    if let Some(tx) = self.replies.remove(&id) {
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
                        Some(self.shared.config.node_name.clone())
                    } else {
                        self.node
                            .leader()
                            .and_then(|l| self.names.get(l.0).cloned())
                    };
                    self.shared.set_status(Status {
                        state: to,
                        term,
                        leader,
                    });
                    if to == State::Leading
                        && let Some(tx) = self.leading.take()
                    {
                        let _ = tx.send(());
                    }
                }
            }
        }
    }
}
