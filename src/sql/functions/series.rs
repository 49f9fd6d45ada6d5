//! `pg_generate_series(start, stop [, step])`: an eponymous virtual table with PostgreSQL's
//! integer `generate_series` semantics — descending for negative steps, no rows for NULL
//! arguments, `22023` for a zero step, and no overflow at the ends of the bigint range.

use std::borrow::Cow;
use std::ffi::{CStr, c_int};
use std::marker::PhantomData;

use rusqlite::types::Type;
use rusqlite::vtab::{
    Context, Filters, IndexConstraintOp, IndexInfo, Module, VTab, VTabConfig, VTabConnection,
    VTabCursor,
};
use rusqlite::{Connection, Result, ffi};

use super::udf_err;
use crate::error::{PgError, code};

const MODULE_NAME: &CStr = c"pg_generate_series";

const COL_START: c_int = 1;
const COL_STOP: c_int = 2;
const COL_STEP: c_int = 3;

pub(super) fn register(conn: &Connection) -> Result<()> {
    const MODULE: Module<SeriesTab> = Module::eponymous_only_module();
    conn.create_module(MODULE_NAME, &MODULE, None)
}

#[repr(C)]
struct SeriesTab {
    base: ffi::sqlite3_vtab,
}

unsafe impl<'vtab> VTab<'vtab> for SeriesTab {
    type Aux = ();
    type Cursor = SeriesCursor<'vtab>;

    fn connect(
        db: &mut VTabConnection,
        _aux: Option<&()>,
        _module_name: &[u8],
        _database_name: &[u8],
        _table_name: &[u8],
        _args: &[&[u8]],
    ) -> Result<(Cow<'static, CStr>, Self)> {
        db.config(VTabConfig::Innocuous)?;
        Ok((
            Cow::Borrowed(c"CREATE TABLE x(value,start hidden,stop hidden,step hidden)"),
            SeriesTab {
                base: ffi::sqlite3_vtab::default(),
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<bool> {
        // idx_num bit i set = argument i (start, stop, step) is passed to filter.
        let mut slots: [Option<usize>; 3] = [None, None, None];
        for (i, c) in info.constraints().enumerate() {
            let col = c.column();
            if !(COL_START..=COL_STEP).contains(&col)
                || !c.is_usable()
                || c.operator() != IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ
            {
                continue;
            }
            slots[(col - COL_START) as usize] = Some(i);
        }
        let mut idx_num = 0;
        let mut n = 0;
        for (bit, slot) in slots.iter().enumerate() {
            if let Some(j) = slot {
                n += 1;
                idx_num |= 1 << bit;
                let mut u = info.constraint_usage(*j);
                u.set_argv_index(n);
                u.set_omit(true);
            }
        }
        if idx_num & 3 == 3 {
            info.set_estimated_cost(1.0);
            info.set_estimated_rows(1000);
        } else {
            info.set_estimated_cost(1e12);
            info.set_estimated_rows(i64::MAX);
        }
        info.set_idx_num(idx_num);
        Ok(true)
    }

    fn open(&mut self) -> Result<SeriesCursor<'_>> {
        Ok(SeriesCursor::default())
    }
}

#[derive(Default)]
#[repr(C)]
struct SeriesCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    value: i64,
    stop: i64,
    step: i64,
    done: bool,
    row_id: i64,
    phantom: PhantomData<&'vtab SeriesTab>,
}

unsafe impl VTabCursor for SeriesCursor<'_> {
    fn filter(&mut self, idx_num: c_int, _idx_str: Option<&str>, args: &Filters<'_>) -> Result<()> {
        self.row_id = 1;
        self.done = false;
        if idx_num & 3 != 3 || args.iter().any(|a| a.data_type() == Type::Null) {
            // Both bounds are required; NULL arguments give no rows (the function is strict).
            self.done = true;
            return Ok(());
        }
        self.value = args.get::<i64>(0)?;
        self.stop = args.get::<i64>(1)?;
        self.step = if idx_num & 4 != 0 {
            args.get::<i64>(2)?
        } else {
            1
        };
        if self.step == 0 {
            return Err(udf_err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                "step size cannot equal zero",
            )));
        }
        self.done = if self.step > 0 {
            self.value > self.stop
        } else {
            self.value < self.stop
        };
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        match self.value.checked_add(self.step) {
            Some(v) if (self.step > 0 && v <= self.stop) || (self.step < 0 && v >= self.stop) => {
                self.value = v;
                self.row_id += 1;
            }
            _ => self.done = true,
        }
        Ok(())
    }

    fn eof(&self) -> bool {
        self.done
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        match i {
            COL_STOP => ctx.set_result(self.stop),
            COL_STEP => ctx.set_result(self.step),
            _ => ctx.set_result(self.value),
        }
    }

    fn rowid(&self) -> Result<i64> {
        Ok(self.row_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(sql: &str) -> Result<Vec<i64>> {
        let c = Connection::open_in_memory()?;
        register(&c)?;
        let mut s = c.prepare(sql)?;
        let rows = s.query_map([], |r| r.get::<_, i64>(0))?;
        rows.collect()
    }

    #[test]
    fn like_postgres() {
        assert_eq!(
            series("SELECT value FROM pg_generate_series(1, 3)").unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(
            series("SELECT value FROM pg_generate_series(5, 1, -2)").unwrap(),
            vec![5, 3, 1]
        );
        assert!(
            series("SELECT value FROM pg_generate_series(1, 5, -1)")
                .unwrap()
                .is_empty()
        );
        assert!(
            series("SELECT value FROM pg_generate_series(1, NULL)")
                .unwrap()
                .is_empty()
        );
        assert!(series("SELECT value FROM pg_generate_series(1, 3, 0)").is_err());
        assert_eq!(
            series(
                "SELECT value FROM pg_generate_series(9223372036854775806, 9223372036854775807)"
            )
            .unwrap(),
            vec![i64::MAX - 1, i64::MAX]
        );
        assert_eq!(
            series("SELECT value FROM pg_generate_series(-9223372036854775807, -9223372036854775808, -1)")
                .unwrap(),
            vec![i64::MIN + 1, i64::MIN]
        );
        assert_eq!(
            series(
                "SELECT value FROM pg_generate_series(0, 9223372036854775807, 9223372036854775807)"
            )
            .unwrap(),
            vec![0, i64::MAX]
        );
    }
}
