//! The client listener: accepts connections and runs one protocol session per connection
//! (SSL/GSS negotiation and cancel requests are answered by the session's startup).

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use super::session::Session;
use crate::exec::Shared;

/// Accept clients forever.
pub async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    handle(shared, sock).await;
                });
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn handle(shared: Arc<Shared>, sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let peer = sock.peer_addr().ok();
    if let Err(e) = Session::run(shared, sock).await {
        tracing::debug!("connection {peer:?} ended: {e}");
    }
}
