//! The consensus core: priority Paxos and two-phase commit as a pure state machine (DESIGN.md §3–§7).
