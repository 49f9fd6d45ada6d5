//! Robustness test for the function library: every function registered by the library's
//! modules is called with combinations of hostile arguments (NULLs, extreme integers and
//! floats, malformed JSON, arrays, intervals and templates, bytes, long strings). Errors are
//! expected; a panic (reported by rusqlite as "unwinding panic") or an abort is a failure.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::*;

const POOL: &[&str] = &[
    "NULL",
    "0",
    "1",
    "-1",
    "2",
    "9223372036854775807",
    "-9223372036854775808",
    "2147483648",
    "2.5",
    "-0.0",
    "1e308",
    "-1e308",
    "1e-320",
    "''",
    "'abc'",
    "'1.5'",
    "'-12345678901234567890.123456789'",
    "'NaN'",
    "'-Infinity'",
    "'{\"a\":[1,'",
    "'[1,\"x\",null,{\"b\":[]}]'",
    "'{\"a\":1,\"a\":{\"b\":null}}'",
    "'\"str\"'",
    "'[]'",
    "'{}'",
    "'2024-02-30 25:61:61'",
    "'2024-03-05 14:07:09.5+00'",
    "'infinity'",
    "'1 day 02:03:04'",
    "'-178000000 years'",
    "'{a,b}'",
    "x'00ff'",
    "'\\'",
    "'('",
    "'[[:<:]]*'",
    "'YYYY-MM-DD HH24:MI:SS.US TZ FMDDth'",
    "'9G999D99S PR EEEE'",
    "'FM0.00V99'",
    "'%s %I %L %*s %1$s %'",
    "'\\x01'",
    "'America/New_York'",
    "'UTC+25'",
    "'é'",
    // type oids our functions take as arguments
    "1184",
    "1114",
    "1082",
    "1083",
    "1186",
    "1700",
    "701",
    "700",
    "23",
    "20",
    "25",
    "16",
    "17",
    "3802",
    "114",
    "1007",
    "1009",
    "1231",
];

/// Deterministic pseudo-random pool indexes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % POOL.len() as u64) as usize
    }
}

fn library_connection() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    let ctx: Shared = Arc::new(Mutex::new(ExecContext::default()));
    conn.create_collation("pg_numeric", crate::sql::numeric::compare)
        .expect("collation");
    series::register(&conn).expect("series");
    register_core(&conn, ctx.clone()).expect("core");
    datetime::register(&conn, ctx.clone()).expect("datetime");
    numeric::register(&conn).expect("numeric");
    regex::register(&conn).expect("regex");
    text::register(&conn).expect("text");
    bytes::register(&conn).expect("bytes");
    format::register(&conn).expect("format");
    math::register(&conn).expect("math");
    transcendental::register(&conn).expect("transcendental");
    arrays::register(&conn, ctx.clone()).expect("arrays");
    json::register(&conn, ctx.clone()).expect("json");
    formatting::register(&conn, ctx.clone()).expect("formatting");
    calendar::register(&conn, ctx).expect("calendar");
    aggregates::register(&conn).expect("aggregates");
    conn
}

/// Run one statement to completion; true when it succeeded.
fn check(conn: &Connection, sql: &str, panics: &mut Vec<String>) -> bool {
    let r = conn.prepare(sql).and_then(|mut st| {
        let mut rows = st.query([])?;
        while rows.next()?.is_some() {}
        Ok(())
    });
    match r {
        Ok(()) => true,
        Err(e) => {
            if e.to_string().contains("unwinding panic") {
                panics.push(sql.to_string());
            }
            false
        }
    }
}

#[test]
fn hostile_arguments_never_panic() {
    let conn = library_connection();
    let fns: Vec<(String, String, i64)> = conn
        .prepare("SELECT name, type, narg FROM pragma_function_list WHERE builtin = 0")
        .expect("function list")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("function list rows");
    assert!(fns.len() > 100, "only {} functions registered", fns.len());
    // BEDROCK_FUZZ_SEED explores other argument combinations (the default is fixed so the
    // test is deterministic).
    let seed = std::env::var("BEDROCK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED);
    let mut rng = Lcg(seed);
    let mut panics = Vec::new();
    let mut calls = 0;
    let mut ok = 0;
    for (name, kind, narg) in &fns {
        if name == "pg_raise" {
            continue;
        }
        let arities: Vec<usize> = if *narg < 0 {
            (0..5).collect()
        } else {
            vec![*narg as usize]
        };
        for n in arities {
            for round in 0..150 {
                let args: Vec<&str> = (0..n)
                    .map(|_| if round == 0 { "NULL" } else { POOL[rng.next()] })
                    .collect();
                let call = format!("{name}({})", args.join(", "));
                let sql = match kind.as_str() {
                    "w" => format!(
                        "SELECT {call} OVER (ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
                         FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)"
                    ),
                    "a" => format!("SELECT {call} FROM (SELECT 1 UNION ALL SELECT 2)"),
                    _ => format!("SELECT {call}"),
                };
                if check(&conn, &sql, &mut panics) {
                    ok += 1;
                }
                calls += 1;
            }
        }
    }
    for round in 0..200 {
        let a: Vec<&str> = (0..3).map(|_| POOL[rng.next()]).collect();
        let sql = if round % 2 == 0 {
            format!(
                "SELECT value FROM pg_generate_series({}, {}, {}) LIMIT 5",
                a[0], a[1], a[2]
            )
        } else {
            format!(
                "SELECT value FROM pg_generate_series({}, {}) LIMIT 5",
                a[0], a[1]
            )
        };
        check(&conn, &sql, &mut panics);
    }
    assert!(calls > 5000, "only {calls} calls");
    // Most calls fail on purpose; enough must succeed for the run to exercise real paths.
    assert!(ok > calls / 10, "only {ok} of {calls} calls succeeded");
    assert!(panics.is_empty(), "panicked:\n{}", panics.join("\n"));
}
