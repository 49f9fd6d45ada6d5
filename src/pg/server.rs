//! The client listener: accepts connections, answers SSL/GSS negotiation and cancel requests,
//! and runs one session task per connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::session::Session;
use crate::config::Config;
use crate::store::Store;

/// Why a running statement is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    UserCancel = 1,
    Timeout = 2,
}

/// The cancel hook of one session: stops its running SQLite statement (through the
/// connection's progress handler) or its wait for the writer.
#[derive(Default)]
pub struct Cancel {
    interrupt: Mutex<Option<Arc<crate::store::Progress>>>,
    requested: AtomicU8,
    pub notify: Notify,
}

impl Cancel {
    pub fn request(&self, why: StopReason) {
        self.requested.store(why as u8, Ordering::SeqCst);
        if let Some(h) = self
            .interrupt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            h.request(why as u8);
        }
        self.notify.notify_waiters();
    }

    /// Start of a statement: forget earlier requests, watch this connection.
    pub fn arm(&self, h: Option<Arc<crate::store::Progress>>) {
        self.requested.store(0, Ordering::SeqCst);
        *self.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = h;
    }

    pub fn disarm(&self) {
        *self.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn reason(&self) -> Option<StopReason> {
        match self.requested.load(Ordering::SeqCst) {
            1 => Some(StopReason::UserCancel),
            2 => Some(StopReason::Timeout),
            _ => None,
        }
    }
}

/// What every session of this node shares.
pub struct Node {
    pub store: Arc<Store>,
    pub config: Config,
    cancels: Mutex<HashMap<i32, (i32, Arc<Cancel>)>>,
    next_pid: AtomicI32,
}

impl Node {
    pub fn new(store: Arc<Store>, config: Config) -> Arc<Node> {
        Arc::new(Node {
            store,
            config,
            cancels: Mutex::new(HashMap::new()),
            next_pid: AtomicI32::new(1000),
        })
    }

    /// Register a session; returns (pid, secret key, cancel hook).
    pub fn register(&self, secret: i32) -> (i32, Arc<Cancel>) {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let c = Arc::new(Cancel::default());
        self.cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pid, (secret, c.clone()));
        (pid, c)
    }

    pub fn unregister(&self, pid: i32) {
        self.cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&pid);
    }

    /// A CancelRequest: only acts when pid and secret match, as PostgreSQL does.
    pub fn cancel(&self, pid: i32, key: i32) {
        let hit = self
            .cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&pid)
            .filter(|(k, _)| *k == key)
            .map(|(_, c)| c.clone());
        if let Some(c) = hit {
            c.request(StopReason::UserCancel);
        }
    }

    pub fn session_count(&self) -> usize {
        self.cancels.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Accept clients forever.
pub async fn serve(node: Arc<Node>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                let node = node.clone();
                tokio::spawn(async move {
                    handle(node, sock).await;
                });
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn handle(node: Arc<Node>, sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let peer = sock.peer_addr().ok();
    if let Err(e) = Session::run(node, sock).await {
        tracing::debug!("connection {peer:?} ended: {e}");
    }
}
