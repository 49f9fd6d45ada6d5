//! What the SQL layer adds to every SQLite connection the store opens: the shadow catalog's
//! tables, the function library, and the per-connection inputs of the non-deterministic
//! functions (the store calls it through [`crate::store::Extension`] and knows nothing else).

use std::any::Any;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::catalog::{Catalog, INTERNAL_SCHEMA};
use super::functions::{self, ExecContext, Shared};
use crate::log::StmtCtx;
use crate::store::{Conn, ConnState};

/// The SQL layer as a store extension.
#[derive(Debug, Default)]
pub struct SqlExtension;

impl crate::store::Extension for SqlExtension {
    fn schema(&self) -> &'static str {
        INTERNAL_SCHEMA
    }

    fn setup(&self, conn: &Connection) -> rusqlite::Result<Arc<dyn ConnState>> {
        let ctx: Shared = Arc::new(Mutex::new(ExecContext::default()));
        functions::register(conn, ctx.clone())?;
        Ok(Arc::new(FunctionState(ctx)))
    }
}

/// A connection's function context.
struct FunctionState(Shared);

impl ConnState for FunctionState {
    fn load(&self, ctx: &StmtCtx) {
        functions::lock(&self.0).load(ctx);
    }

    fn after_run(&self, ctx: &mut StmtCtx) {
        ctx.seq = functions::lock(&self.0).take_drawn();
    }

    fn before_apply(&self, conn: &Connection, sql: &str) -> rusqlite::Result<()> {
        // A write that read the system catalogs needs them materialised on this connection,
        // from the catalog as it stands at this point of the log.
        if sql.contains(super::pg_catalog::TABLE_PREFIX) {
            Catalog::load(conn)
                .and_then(|cat| super::pg_catalog::prepare_connection(conn, &cat))
                .map_err(|e| rusqlite::Error::ModuleError(e.to_string()))?;
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The function context of a connection opened with [`SqlExtension`] (a fresh one, never
/// shared, if the connection was opened some other way).
pub fn context(conn: &Conn) -> Shared {
    match conn.state().as_any().downcast_ref::<FunctionState>() {
        Some(s) => s.0.clone(),
        None => Arc::new(Mutex::new(ExecContext::default())),
    }
}
