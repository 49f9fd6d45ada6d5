//! Stopping a session's statement: a CancelRequest from another connection, or the session's
//! own `statement_timeout`. The reason is one flag per session: a read connection's progress
//! handler is pointed at it while a read runs, and the writer watches it while it runs the
//! session's work (the writer runs statements of many sessions, so it never stops one that
//! belongs to somebody else).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::error::{PgError, code};
use crate::store::Progress;

/// Why a running statement is being stopped (values shared with [`Progress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    UserCancel = 1,
    Timeout = 2,
}

/// The cancel hook of one session.
#[derive(Default)]
pub struct Cancel {
    flag: Arc<AtomicU8>,
    interrupt: Mutex<Option<Arc<Progress>>>,
    pub notify: Notify,
}

impl Cancel {
    pub fn request(&self, why: StopReason) {
        self.flag.store(why as u8, Ordering::SeqCst);
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

    /// Start of a statement: forget earlier requests, watch this read connection (if any).
    pub fn arm(&self, h: Option<Arc<Progress>>) {
        self.flag.store(0, Ordering::SeqCst);
        *self.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = h;
    }

    pub fn disarm(&self) {
        *self.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The flag the writer watches while it runs this session's work.
    pub fn flag(&self) -> Arc<AtomicU8> {
        self.flag.clone()
    }

    pub fn reason(&self) -> Option<StopReason> {
        match self.flag.load(Ordering::SeqCst) {
            1 => Some(StopReason::UserCancel),
            2 => Some(StopReason::Timeout),
            _ => None,
        }
    }

    /// The error for the current stop request.
    pub fn error(&self) -> PgError {
        match self.reason() {
            Some(StopReason::Timeout) => PgError::new(
                code::QUERY_CANCELED,
                "canceling statement due to statement timeout",
            ),
            _ => PgError::new(
                code::QUERY_CANCELED,
                "canceling statement due to user request",
            ),
        }
    }
}
