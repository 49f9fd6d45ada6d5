//! Row and table locks of interactive transactions, as PostgreSQL keeps them: a transaction
//! that updates or deletes a row, or selects it `FOR UPDATE` / `FOR SHARE`, holds it until it
//! ends; `LOCK TABLE` holds a whole table against other writers. Another transaction that
//! needs such a row waits (bounded by `lock_timeout` and `statement_timeout`), or fails at
//! once with `NOWAIT`, or skips it with `SKIP LOCKED`; a wait that would close a cycle is a
//! deadlock (`40P01`), found when the wait starts.
//!
//! Parked frames keep their locks: that is what keeps a parked transaction's writes valid
//! when it runs again. Rows a transaction inserted are not locked (nobody else can see them
//! before it commits, and their rowids may be reused meanwhile).

use std::collections::{HashMap, HashSet};

use super::TxnId;

/// A lockable thing: a row of a table, or (rowid `None`) the whole table.
pub type Key = (String, Option<i64>);

#[derive(Debug, Default)]
pub struct Locks {
    /// Holders of each key: transaction and whether exclusively.
    held: HashMap<Key, Vec<(TxnId, bool)>>,
    /// Keys each transaction holds.
    by_txn: HashMap<TxnId, HashSet<Key>>,
    /// Who each waiting transaction waits for.
    waits: HashMap<TxnId, TxnId>,
}

impl Locks {
    /// Another transaction holding `key` in a way that conflicts with taking it (exclusively
    /// or not) for `txn` (`None`: an autocommit statement, which holds nothing).
    pub fn conflict(&self, txn: Option<TxnId>, key: &Key, exclusive: bool) -> Option<TxnId> {
        let table_key = (key.0.clone(), None);
        for k in [key, &table_key] {
            if let Some(hs) = self.held.get(k) {
                for (h, ex) in hs {
                    if Some(*h) != txn && (exclusive || *ex) {
                        return Some(*h);
                    }
                }
            }
            if key.1.is_none() {
                break;
            }
        }
        if key.1.is_none() {
            // A table lock conflicts with any other transaction's row locks in that table.
            for (k, hs) in &self.held {
                if k.0 == key.0 && k.1.is_some() {
                    for (h, ex) in hs {
                        if Some(*h) != txn && (exclusive || *ex) {
                            return Some(*h);
                        }
                    }
                }
            }
        }
        None
    }

    /// Whether another transaction holds `table`/`rowid` in a way a `FOR UPDATE` (exclusive)
    /// or `FOR SHARE` request of `txn` would wait for: `SKIP LOCKED` leaves those rows out.
    pub fn locked_for(&self, txn: Option<TxnId>, table: &str, rowid: i64, exclusive: bool) -> bool {
        self.conflict(txn, &(table.to_string(), Some(rowid)), exclusive)
            .is_some()
    }

    pub fn acquire(&mut self, txn: TxnId, key: Key, exclusive: bool) {
        let hs = self.held.entry(key.clone()).or_default();
        match hs.iter_mut().find(|(h, _)| *h == txn) {
            Some(e) => e.1 |= exclusive,
            None => hs.push((txn, exclusive)),
        }
        self.by_txn.entry(txn).or_default().insert(key);
    }

    /// Forget everything `txn` holds (it ended, or it is about to take its locks again).
    pub fn release(&mut self, txn: TxnId) {
        if let Some(keys) = self.by_txn.remove(&txn) {
            for k in keys {
                if let Some(hs) = self.held.get_mut(&k) {
                    hs.retain(|(h, _)| *h != txn);
                    if hs.is_empty() {
                        self.held.remove(&k);
                    }
                }
            }
        }
        self.waits.remove(&txn);
    }

    pub fn holds_any(&self, txn: TxnId) -> bool {
        self.by_txn.get(&txn).is_some_and(|k| !k.is_empty())
    }

    /// Record that `waiter` waits for `blocker`, unless that closes a cycle (a deadlock):
    /// then false.
    pub fn wait(&mut self, waiter: TxnId, blocker: TxnId) -> bool {
        let mut at = blocker;
        let mut seen = HashSet::new();
        while let Some(next) = self.waits.get(&at) {
            if *next == waiter {
                return false;
            }
            if !seen.insert(*next) {
                break;
            }
            at = *next;
        }
        if blocker == waiter {
            return false;
        }
        self.waits.insert(waiter, blocker);
        true
    }

    pub fn stop_waiting(&mut self, waiter: TxnId) {
        self.waits.remove(&waiter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str, r: i64) -> Key {
        (t.to_string(), Some(r))
    }

    #[test]
    fn modes_and_tables() {
        let mut l = Locks::default();
        l.acquire(1, row("t", 5), false);
        assert_eq!(
            l.conflict(Some(2), &row("t", 5), false),
            None,
            "shared + shared"
        );
        assert_eq!(l.conflict(Some(2), &row("t", 5), true), Some(1));
        assert_eq!(
            l.conflict(Some(1), &row("t", 5), true),
            None,
            "its own lock"
        );
        assert_eq!(l.conflict(None, &row("t", 6), true), None);
        l.acquire(3, ("u".into(), None), true);
        assert_eq!(l.conflict(None, &row("u", 1), true), Some(3), "table lock");
        assert_eq!(
            l.conflict(Some(2), &("t".into(), None), true),
            Some(1),
            "rows held"
        );
        l.release(1);
        assert_eq!(l.conflict(Some(2), &row("t", 5), true), None);
        assert!(!l.holds_any(1));
    }

    #[test]
    fn deadlocks_are_found() {
        let mut l = Locks::default();
        assert!(l.wait(1, 2));
        assert!(l.wait(2, 3));
        assert!(!l.wait(3, 1), "1 -> 2 -> 3 -> 1");
        l.stop_waiting(2);
        assert!(l.wait(3, 1));
    }
}

/// A row a statement changed: (it was inserted, table, rowid).
pub type Touched = (bool, std::sync::Arc<str>, i64);

/// What the writer's connection reports while a statement runs, and the lock table its SQL
/// function `pg_row_locked()` (SKIP LOCKED) reads.
#[derive(Clone, Default)]
pub struct LockCtx {
    pub locks: std::sync::Arc<std::sync::Mutex<Locks>>,
    /// Rows the running statement changed.
    pub touched: std::sync::Arc<std::sync::Mutex<Vec<Touched>>>,
    /// The transaction the running statement belongs to (0: an autocommit statement).
    pub current: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Record touched rows at all: the statement belongs to a transaction, or somebody
    /// holds locks (an autocommit statement then has to check against them).
    pub recording: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Bumped for every statement, so the hook records a table's inserts once per statement.
    pub epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl LockCtx {
    pub fn locks(&self) -> std::sync::MutexGuard<'_, Locks> {
        self.locks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Before a statement of `txn` (None: autocommit) runs.
    pub fn start(&self, txn: Option<TxnId>) {
        use std::sync::atomic::Ordering;
        self.touched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.current.store(txn.unwrap_or(0), Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let record = txn.is_some() || !self.locks().held.is_empty();
        self.recording.store(record, Ordering::SeqCst);
    }

    /// What the statement's changes need: the rows it updated or deleted (held exclusively),
    /// and the tables it inserted into (only checked against table locks).
    pub fn take_touched(&self) -> Vec<Need> {
        let mut t = self.touched.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(t.len());
        let mut seen_insert: HashSet<std::sync::Arc<str>> = HashSet::new();
        for (insert, table, rowid) in t.drain(..) {
            if insert {
                if seen_insert.insert(table.clone()) {
                    out.push(Need::InsertInto(table.to_string()));
                }
            } else {
                out.push(Need::Row((table.to_string(), Some(rowid)), true));
            }
        }
        out
    }
}

/// What a statement needs from the lock table.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// A row (or table) to hold, exclusively or not.
    Row(Key, bool),
    /// Inserting into a table: no other transaction may hold the table against writers.
    InsertInto(String),
}

impl Locks {
    /// The transaction (other than `txn`) that keeps the statement from getting `need`.
    pub fn blocker(&self, txn: Option<TxnId>, need: &Need) -> Option<TxnId> {
        match need {
            Need::Row(key, exclusive) => self.conflict(txn, key, *exclusive),
            Need::InsertInto(table) => self
                .held
                .get(&(table.clone(), None))
                .and_then(|hs| hs.iter().find(|(h, _)| Some(*h) != txn).map(|(h, _)| *h)),
        }
    }
}

/// Internal tables are never locked.
pub fn is_internal(table: &str) -> bool {
    table.starts_with("__bedrock") || table.starts_with("sqlite_")
}
