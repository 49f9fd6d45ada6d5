//! The SQL layer: PostgreSQL's dialect parsed with sqlparser, classified, typed and translated to
//! SQLite; the shadow catalog; and the functions SQLite needs to behave like PostgreSQL.

pub mod datetime;
pub mod numeric;
pub mod types;
pub mod values;
