//! A node: opens the store and serves PostgreSQL clients. In single-node mode it leads at once.

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::pg::server::{Node, serve};
use crate::store::{Store, StoreConfig};

/// Start serving; returns when the listener fails to bind (with a one-line error).
pub async fn run(config: Config) -> Result<(), String> {
    let store = Store::open(StoreConfig {
        path: config.db.clone(),
        synchronous: config.synchronous,
        max_journal_size: config.max_journal_size,
        clean: config.clean,
    })?;
    let listener = TcpListener::bind(config.server_host)
        .await
        .map_err(|e| format!("-serverHost {}: {e}", config.server_host))?;
    tracing::info!(
        node = %config.node_name,
        db = %config.db.display(),
        commit_count = store.commit_count(),
        "LEADING (single node); serving PostgreSQL clients on {}",
        config.server_host
    );
    let node = Node::new(store, config);
    serve(node, listener).await;
    Ok(())
}

/// Keep a handle type alive for embedding in tests.
pub type NodeRef = Arc<Node>;
