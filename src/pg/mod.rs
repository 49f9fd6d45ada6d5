//! The PostgreSQL front end: wire protocol, sessions, settings and COPY.

pub mod copy;
pub mod protocol;
pub mod server;
pub mod session;
pub mod settings;
