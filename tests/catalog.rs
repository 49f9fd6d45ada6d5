//! pg_catalog and information_schema over real TCP: psql 15's own `\d`-family queries
//! (verbatim from client-captures/psql_E_dt_d_l_dn_du.txt and psql -E), the real psql binary,
//! tokio-postgres's type lookup, ORM connect-time probes, and differential comparison with
//! PostgreSQL 15 after the same DDL.

mod common;

use std::process::Command;

use tokio_postgres::{Client, SimpleQueryMessage};

/// The schema every test builds (identical on bedrock-pg and PostgreSQL).
const SCHEMA: &str = "
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    name text DEFAULT 'anon',
    created_at timestamptz DEFAULT now(),
    data jsonb,
    score numeric(10,2) DEFAULT 0,
    tags text[],
    flag boolean NOT NULL DEFAULT true,
    code char(3),
    blob bytea,
    uid uuid,
    born date,
    at_time time,
    ts timestamp(3),
    span interval,
    ratio double precision,
    r real,
    small smallint,
    big bigint DEFAULT -1
);
CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title text NOT NULL,
    body text,
    CONSTRAINT title_len CHECK (length(title) > 0)
);
CREATE INDEX posts_title_idx ON posts (title);
CREATE UNIQUE INDEX posts_user_title ON posts (user_id, title);
CREATE INDEX posts_lower ON posts (lower(title)) WHERE body IS NOT NULL;
CREATE VIEW active_users AS SELECT id, email FROM users WHERE flag;
CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
COMMENT ON TABLE users IS 'the users';
COMMENT ON COLUMN users.email IS 'login';
";

type Rows = Vec<Vec<Option<String>>>;

async fn rows(c: &Client, sql: &str) -> Rows {
    let msgs = c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("query failed: {e:?}\n{sql}"));
    msgs.into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn row(vals: &[&str]) -> Vec<Option<String>> {
    vals.iter()
        .map(|v| if *v == "<null>" { None } else { s(v) })
        .collect()
}

// ---- psql 15 queries, verbatim (OIDs as psql substitutes them: `'{OID}'`) ----

fn list_query(kinds: &str) -> String {
    format!(
        "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ({kinds})
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"
    )
}

const DI: &str = "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\",
 c2.relname as \"Table\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
     LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid
WHERE c.relkind IN ('i','I','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;";

const LIST_DATABASES: &str = "SELECT d.datname as \"Name\",
       pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\",
       pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\",
       d.datcollate as \"Collate\",
       d.datctype as \"Ctype\",
       d.daticulocale as \"ICU Locale\",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS \"Locale Provider\",
       pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\"
FROM pg_catalog.pg_database d
ORDER BY 1;";

const LIST_SCHEMAS: &str = "SELECT n.nspname AS \"Name\",
  pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;";

const LIST_ROLES: &str = "SELECT r.rolname, r.rolsuper, r.rolinherit,
  r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
  r.rolconnlimit, r.rolvaliduntil,
  ARRAY(SELECT b.rolname
        FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid)
        WHERE m.member = r.oid) as memberof
, r.rolreplication
, r.rolbypassrls
FROM pg_catalog.pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY 1;";

fn lookup(name: &str) -> String {
    format!(
        "SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^({name})$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;"
    )
}

/// The queries `\d <table>` sends after the lookup, in order ({OID} is the table's).
const DESCRIBE_TABLE: &[&str] = &[
    "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '{OID}';",
    "SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '{OID}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;",
    "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '{OID}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;",
    "SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '{OID}' AND r.contype = 'c'
ORDER BY 1;",
    "SELECT true as sametable, conname,
  pg_catalog.pg_get_constraintdef(r.oid, true) as condef,
  conrelid::pg_catalog.regclass AS ontable
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '{OID}' AND r.contype = 'f'
     AND conparentid = 0
ORDER BY conname",
    "SELECT conname, conrelid::pg_catalog.regclass AS ontable,
       pg_catalog.pg_get_constraintdef(oid, true) AS condef
  FROM pg_catalog.pg_constraint c
 WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors('{OID}')
                     UNION ALL VALUES ('{OID}'::pg_catalog.regclass))
       AND contype = 'f' AND conparentid = 0
ORDER BY conname;",
    "SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '{OID}' ORDER BY 1;",
    "SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '{OID}'
ORDER BY nsp, stxname;",
    "SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='{OID}' and pg_catalog.pg_relation_is_publishable('{OID}')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '{OID}'
UNION
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('{OID}')
ORDER BY 1;",
    "SELECT t.tgname, pg_catalog.pg_get_triggerdef(t.oid, true), t.tgenabled, t.tgisinternal,
  CASE WHEN t.tgparentid != 0 THEN
    (SELECT u.tgrelid::pg_catalog.regclass
     FROM pg_catalog.pg_trigger AS u,
          pg_catalog.pg_partition_ancestors(t.tgrelid) WITH ORDINALITY AS a(relid, depth)
     WHERE u.tgname = t.tgname AND u.tgrelid = a.relid
           AND u.tgparentid = 0
     ORDER BY a.depth LIMIT 1)
  END AS parent
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = '{OID}' AND (NOT t.tgisinternal OR (t.tgisinternal AND t.tgenabled = 'D'))
ORDER BY 1;",
    "SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '{OID}'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;",
    "SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '{OID}'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;",
];

/// The queries `\d <index>` sends after the relation query.
const DESCRIBE_INDEX: &[&str] = &[
    "SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  CASE WHEN a.attnum <= (SELECT i.indnkeyatts FROM pg_catalog.pg_index i WHERE i.indexrelid = '{OID}') THEN 'yes' ELSE 'no' END AS is_key,
  pg_catalog.pg_get_indexdef(a.attrelid, a.attnum, TRUE) AS indexdef
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '{OID}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;",
    "SELECT i.indisunique, i.indisprimary, i.indisclustered, i.indisvalid,
  (NOT i.indimmediate) AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x') AND condeferrable) AS condeferrable,
  (NOT i.indimmediate) AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x') AND condeferred) AS condeferred,
i.indisreplident,
i.indnullsnotdistinct,
  a.amname, c2.relname, pg_catalog.pg_get_expr(i.indpred, i.indrelid, true)
FROM pg_catalog.pg_index i, pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_am a
WHERE i.indexrelid = c.oid AND c.oid = '{OID}' AND c.relam = a.oid
AND i.indrelid = c2.oid;",
];

/// The queries `\d <sequence>` sends after the relation query.
const DESCRIBE_SEQUENCE: &[&str] = &[
    "SELECT pg_catalog.format_type(seqtypid, NULL) AS \"Type\",
       seqstart AS \"Start\",
       seqmin AS \"Minimum\",
       seqmax AS \"Maximum\",
       seqincrement AS \"Increment\",
       CASE WHEN seqcycle THEN 'yes' ELSE 'no' END AS \"Cycles?\",
       seqcache AS \"Cache\"
FROM pg_catalog.pg_sequence
WHERE seqrelid = '{OID}';",
    "SELECT pg_catalog.quote_ident(nspname) || '.' ||
   pg_catalog.quote_ident(relname) || '.' ||
   pg_catalog.quote_ident(attname),
   d.deptype
FROM pg_catalog.pg_class c
INNER JOIN pg_catalog.pg_depend d ON c.oid=d.refobjid
INNER JOIN pg_catalog.pg_namespace n ON n.oid=c.relnamespace
INNER JOIN pg_catalog.pg_attribute a ON (
 a.attrelid=c.oid AND
 a.attnum=d.refobjsubid)
WHERE d.classid='pg_catalog.pg_class'::pg_catalog.regclass
 AND d.refclassid='pg_catalog.pg_class'::pg_catalog.regclass
 AND d.objid='{OID}'
 AND d.deptype IN ('a', 'i')",
];

/// `\d name`: psql's lookup, then the describe queries with the OID it found.
async fn describe(c: &Client, name: &str, queries: &[&str]) -> Vec<Rows> {
    let found = rows(c, &lookup(name)).await;
    assert_eq!(found.len(), 1, "lookup of {name}: {found:?}");
    let oid = found[0][0].clone().unwrap_or_default();
    assert_eq!(found[0][1].as_deref(), Some("public"));
    assert_eq!(found[0][2].as_deref(), Some(name));
    let mut out = vec![rows(c, &DESCRIBE_TABLE[0].replace("{OID}", &oid)).await];
    for q in queries {
        out.push(rows(c, &q.replace("{OID}", &oid)).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describe_queries() {
    let b = common::Bedrock::start();
    let c = b.client().await;
    c.batch_execute(SCHEMA).await.unwrap();

    // \dt and \d
    assert_eq!(
        rows(&c, &list_query("'r','p',''")).await,
        vec![
            row(&["public", "ident", "table", "postgres"]),
            row(&["public", "posts", "table", "postgres"]),
            row(&["public", "users", "table", "postgres"]),
        ]
    );
    let all = rows(&c, &list_query("'r','p','v','m','S','f',''")).await;
    let names: Vec<(String, String)> = all
        .iter()
        .map(|r| (r[1].clone().unwrap(), r[2].clone().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("active_users", "view"),
            ("ident", "table"),
            ("ident_id_seq", "sequence"),
            ("posts", "table"),
            ("posts_id_seq", "sequence"),
            ("users", "table"),
            ("users_id_seq", "sequence"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // \di
    assert_eq!(
        rows(&c, DI).await,
        vec![
            row(&["public", "ident_pkey", "index", "postgres", "ident"]),
            row(&["public", "posts_lower", "index", "postgres", "posts"]),
            row(&["public", "posts_pkey", "index", "postgres", "posts"]),
            row(&["public", "posts_title_idx", "index", "postgres", "posts"]),
            row(&["public", "posts_user_title", "index", "postgres", "posts"]),
            row(&["public", "users_email_key", "index", "postgres", "users"]),
            row(&["public", "users_pkey", "index", "postgres", "users"]),
        ]
    );

    // \d users
    let d = describe(&c, "users", &DESCRIBE_TABLE[1..]).await;
    let rel = &d[0][0];
    assert_eq!(rel[0].as_deref(), Some("0"), "relchecks");
    assert_eq!(rel[1].as_deref(), Some("r"), "relkind");
    assert_eq!(rel[2].as_deref(), Some("t"), "relhasindex");
    assert_eq!(rel[14].as_deref(), Some("heap"), "amname");
    let cols = &d[1];
    let col = |name: &str| {
        cols.iter()
            .find(|r| r[0].as_deref() == Some(name))
            .unwrap_or_else(|| panic!("column {name} in {cols:?}"))
            .clone()
    };
    assert_eq!(
        col("id"),
        row(&[
            "id",
            "integer",
            "nextval('users_id_seq'::regclass)",
            "t",
            "<null>",
            "",
            ""
        ])
    );
    assert_eq!(
        col("email")[..4],
        row(&["email", "character varying(255)", "<null>", "t"])[..]
    );
    assert_eq!(col("name")[1..3], row(&["text", "'anon'::text"])[..]);
    assert_eq!(
        col("created_at")[1..4],
        row(&["timestamp with time zone", "now()", "f"])[..]
    );
    assert_eq!(col("score")[1..3], row(&["numeric(10,2)", "0"])[..]);
    assert_eq!(col("tags")[1], s("text[]"));
    assert_eq!(col("flag")[1..4], row(&["boolean", "true", "t"])[..]);
    assert_eq!(col("code")[1], s("character(3)"));
    assert_eq!(col("ts")[1], s("timestamp(3) without time zone"));
    assert_eq!(col("at_time")[1], s("time without time zone"));
    assert_eq!(col("ratio")[1], s("double precision"));
    assert_eq!(col("big")[1..3], row(&["bigint", "'-1'::integer"])[..]);
    assert_eq!(cols.len(), 19);
    // Indexes
    assert_eq!(
        d[2],
        vec![
            row(&[
                "users_pkey",
                "t",
                "t",
                "f",
                "t",
                "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)",
                "PRIMARY KEY (id)",
                "p",
                "f",
                "f",
                "f",
                "0"
            ]),
            row(&[
                "users_email_key",
                "f",
                "t",
                "f",
                "t",
                "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)",
                "UNIQUE (email)",
                "u",
                "f",
                "f",
                "f",
                "0"
            ]),
        ]
    );
    assert!(d[3].is_empty(), "no check constraints on users");
    assert!(d[4].is_empty(), "users has no foreign keys");
    // Referenced by
    assert_eq!(
        d[5],
        vec![row(&[
            "posts_user_id_fkey",
            "posts",
            "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"
        ])]
    );
    for (i, r) in d.iter().enumerate().skip(6) {
        assert!(r.is_empty(), "query {i} of \\d users: {r:?}");
    }

    // \d posts
    let d = describe(&c, "posts", &DESCRIBE_TABLE[1..]).await;
    assert_eq!(d[0][0][0].as_deref(), Some("1"), "relchecks");
    assert_eq!(
        d[1][0][..4],
        row(&["id", "bigint", "nextval('posts_id_seq'::regclass)", "t"])[..]
    );
    let idx: Vec<(Option<String>, Option<String>)> =
        d[2].iter().map(|r| (r[0].clone(), r[5].clone())).collect();
    assert_eq!(
        idx,
        vec![
            (
                s("posts_pkey"),
                s("CREATE UNIQUE INDEX posts_pkey ON public.posts USING btree (id)")
            ),
            (
                s("posts_lower"),
                s(
                    "CREATE INDEX posts_lower ON public.posts USING btree (lower(title)) WHERE body IS NOT NULL"
                )
            ),
            (
                s("posts_title_idx"),
                s("CREATE INDEX posts_title_idx ON public.posts USING btree (title)")
            ),
            (
                s("posts_user_title"),
                s(
                    "CREATE UNIQUE INDEX posts_user_title ON public.posts USING btree (user_id, title)"
                )
            ),
        ]
    );
    assert_eq!(d[3], vec![row(&["title_len", "CHECK (length(title) > 0)"])]);
    assert_eq!(
        d[4],
        vec![row(&[
            "t",
            "posts_user_id_fkey",
            "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
            "posts"
        ])]
    );

    // \d ident: an identity column
    let d = describe(&c, "ident", &DESCRIBE_TABLE[1..2]).await;
    assert_eq!(
        d[1][0],
        row(&["id", "integer", "<null>", "t", "<null>", "a", ""])
    );

    // \d active_users: a view
    let d = describe(&c, "active_users", &DESCRIBE_TABLE[1..2]).await;
    assert_eq!(d[0][0][1].as_deref(), Some("v"));
    assert_eq!(
        d[1],
        vec![
            row(&["id", "integer", "<null>", "f", "<null>", "", ""]),
            row(&[
                "email",
                "character varying(255)",
                "<null>",
                "f",
                "<null>",
                "",
                ""
            ]),
        ]
    );

    // \d posts_user_title: an index
    let d = describe(&c, "posts_user_title", DESCRIBE_INDEX).await;
    assert_eq!(d[0][0][1].as_deref(), Some("i"));
    assert_eq!(
        d[1],
        vec![
            row(&["user_id", "integer", "yes", "user_id"]),
            row(&["title", "text", "yes", "title"]),
        ]
    );
    assert_eq!(
        d[2],
        vec![row(&[
            "t", "f", "f", "t", "f", "f", "f", "f", "btree", "posts", "<null>"
        ])]
    );

    // \d users_id_seq: a sequence owned by users.id
    let d = describe(&c, "users_id_seq", DESCRIBE_SEQUENCE).await;
    assert_eq!(d[0][0][1].as_deref(), Some("S"));
    assert_eq!(
        d[1],
        vec![row(&["integer", "1", "1", "2147483647", "1", "no", "1"])]
    );
    assert_eq!(d[2], vec![row(&["public.users.id", "a"])]);
    let d = describe(&c, "ident_id_seq", DESCRIBE_SEQUENCE).await;
    assert_eq!(d[2], vec![row(&["public.ident.id", "i"])]);

    // \l, \dn, \du
    let dbs = rows(&c, LIST_DATABASES).await;
    assert_eq!(dbs.len(), 1);
    assert_eq!(
        dbs[0][..3],
        row(&["postgres", "postgres", "UTF8"])[..],
        "{dbs:?}"
    );
    assert_eq!(dbs[0][6].as_deref(), Some("libc"));
    assert_eq!(
        rows(&c, LIST_SCHEMAS).await,
        vec![row(&["public", "pg_database_owner"])]
    );
    assert_eq!(
        rows(&c, LIST_ROLES).await,
        vec![row(&[
            "postgres", "t", "t", "t", "t", "t", "-1", "<null>", "{}", "t", "t"
        ])]
    );
}

/// Run a psql meta-command against a server and return its output.
fn psql(port: u16, cmd: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-P",
            "pager=off",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            cmd,
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql is installed (CI installs postgresql-client-15)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stderr.is_empty(),
        "psql {cmd} failed: {stderr}\n{stdout}"
    );
    stdout
}

fn has_line(out: &str, want: &str) -> bool {
    out.lines().any(|l| l.trim_end() == want.trim_end())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_psql_meta_commands() {
    let b = common::Bedrock::start();
    let c = b.client().await;
    c.batch_execute(SCHEMA).await.unwrap();
    let port = b.port;
    tokio::task::spawn_blocking(move || {
        let out = psql(port, "\\dt");
        for l in [
            " public | ident | table | postgres",
            " public | posts | table | postgres",
            " public | users | table | postgres",
            "(3 rows)",
        ] {
            assert!(has_line(&out, l), "\\dt: missing {l:?} in\n{out}");
        }
        let out = psql(port, "\\d users");
        for l in [
            "                                          Table \"public.users\"",
            " id         | integer                        |           | not null | nextval('users_id_seq'::regclass)",
            " email      | character varying(255)         |           | not null | ",
            " created_at | timestamp with time zone       |           |          | now()",
            "Indexes:",
            "    \"users_pkey\" PRIMARY KEY, btree (id)",
            "    \"users_email_key\" UNIQUE CONSTRAINT, btree (email)",
            "Referenced by:",
            "    TABLE \"posts\" CONSTRAINT \"posts_user_id_fkey\" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
        ] {
            assert!(has_line(&out, l), "\\d users: missing {l:?} in\n{out}");
        }
        let out = psql(port, "\\d posts");
        for l in [
            "    \"posts_pkey\" PRIMARY KEY, btree (id)",
            "    \"posts_title_idx\" btree (title)",
            "    \"posts_user_title\" UNIQUE, btree (user_id, title)",
            "Check constraints:",
            "    \"title_len\" CHECK (length(title) > 0)",
            "Foreign-key constraints:",
            "    \"posts_user_id_fkey\" FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
        ] {
            assert!(has_line(&out, l), "\\d posts: missing {l:?} in\n{out}");
        }
        let out = psql(port, "\\di");
        for l in [
            " public | posts_title_idx  | index | postgres | posts",
            " public | users_pkey       | index | postgres | users",
            "(7 rows)",
        ] {
            assert!(has_line(&out, l), "\\di: missing {l:?} in\n{out}");
        }
        let out = psql(port, "\\l");
        assert!(
            has_line(
                &out,
                " postgres | postgres | UTF8     | C       | C     |            | libc            | "
            ),
            "\\l:\n{out}"
        );
        let out = psql(port, "\\dn");
        assert!(has_line(&out, " public | pg_database_owner"), "\\dn:\n{out}");
        let out = psql(port, "\\du");
        assert!(
            has_line(
                &out,
                " postgres  | Superuser, Create role, Create DB, Replication, Bypass RLS | {}"
            ),
            "\\du:\n{out}"
        );
        let out = psql(port, "\\d users_id_seq");
        assert!(has_line(&out, "Owned by: public.users.id"), "\\d seq:\n{out}");
        let out = psql(port, "\\d posts_user_title");
        assert!(
            has_line(&out, "unique, btree, for table \"public.posts\""),
            "\\d index:\n{out}"
        );
    })
    .await
    .unwrap();
}

/// The same meta-commands on PostgreSQL 15 and bedrock-pg print the same thing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_output_matches_postgres() {
    let pg = common::Postgres::start();
    let b = common::Bedrock::start();
    pg.client().await.batch_execute(SCHEMA).await.unwrap();
    b.client().await.batch_execute(SCHEMA).await.unwrap();
    let (pp, bp) = (pg.port, b.port);
    tokio::task::spawn_blocking(move || {
        let mut diffs = Vec::new();
        for cmd in [
            "\\dt",
            "\\d",
            "\\di",
            "\\ds",
            "\\dv",
            "\\dn",
            "\\du",
            "\\d users",
            "\\d posts",
            "\\d ident",
            "\\d active_users",
            "\\d posts_title_idx",
            "\\d users_pkey",
            "\\d posts_lower",
            "\\d users_id_seq",
            "\\d ident_id_seq",
            "\\d+ users",
            "\\d+ posts",
            "\\dT",
            "\\dconfig search_path",
        ] {
            let want = psql(pp, cmd);
            let got = psql(bp, cmd);
            if want != got {
                diffs.push(format!(
                    "{cmd}\n--- PostgreSQL\n{want}\n--- bedrock-pg\n{got}"
                ));
            }
        }
        assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    })
    .await
    .unwrap();
}

/// asyncpg's type introspection (asyncpg/introspection.py, from client-captures/asyncpg.txt)
/// for int4[], jsonb and timestamptz[].
const ASYNCPG_TYPEINFO: &str = r#"WITH RECURSIVE typeinfo_tree(
    oid, ns, name, kind, basetype, elemtype, elemdelim,
    range_subtype, attrtypoids, attrnames, depth)
AS (
    SELECT
        ti.oid, ti.ns, ti.name, ti.kind, ti.basetype,
        ti.elemtype, ti.elemdelim, ti.range_subtype,
        ti.attrtypoids, ti.attrnames, 0
    FROM
            (
        SELECT
            t.oid                           AS oid,
            ns.nspname                      AS ns,
            t.typname                       AS name,
            t.typtype                       AS kind,
            (CASE WHEN t.typtype = 'd' THEN
                (WITH RECURSIVE typebases(oid, depth) AS (
                    SELECT
                        t2.typbasetype      AS oid,
                        0                   AS depth
                    FROM
                        pg_type t2
                    WHERE
                        t2.oid = t.oid

                    UNION ALL

                    SELECT
                        t2.typbasetype      AS oid,
                        tb.depth + 1        AS depth
                    FROM
                        pg_type t2,
                        typebases tb
                    WHERE
                       tb.oid = t2.oid
                       AND t2.typbasetype != 0
               ) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)

               ELSE NULL
            END)                            AS basetype,
            t.typelem                       AS elemtype,
            elem_t.typdelim                 AS elemdelim,
            COALESCE(
                range_t.rngsubtype,
                multirange_t.rngsubtype)    AS range_subtype,
            (CASE WHEN t.typtype = 'c' THEN
                (SELECT
                    array_agg(ia.atttypid ORDER BY ia.attnum)
                FROM
                    pg_attribute ia
                    INNER JOIN pg_class c
                        ON (ia.attrelid = c.oid)
                WHERE
                    ia.attnum > 0 AND NOT ia.attisdropped
                    AND c.reltype = t.oid)

                ELSE NULL
            END)                            AS attrtypoids,
            (CASE WHEN t.typtype = 'c' THEN
                (SELECT
                    array_agg(ia.attname::text ORDER BY ia.attnum)
                FROM
                    pg_attribute ia
                    INNER JOIN pg_class c
                        ON (ia.attrelid = c.oid)
                WHERE
                    ia.attnum > 0 AND NOT ia.attisdropped
                    AND c.reltype = t.oid)

                ELSE NULL
            END)                            AS attrnames
        FROM
            pg_catalog.pg_type AS t
            INNER JOIN pg_catalog.pg_namespace ns ON (
                ns.oid = t.typnamespace)
            LEFT JOIN pg_type elem_t ON (
                t.typlen = -1 AND
                t.typelem != 0 AND
                t.typelem = elem_t.oid
            )
            LEFT JOIN pg_range range_t ON (
                t.oid = range_t.rngtypid
            )
            LEFT JOIN pg_range multirange_t ON (
                t.oid = multirange_t.rngmultitypid
            )
    )
 AS ti
    WHERE
        ti.oid = any(ARRAY[1007, 3802, 1185]::oid[])

    UNION ALL

    SELECT
        ti.oid, ti.ns, ti.name, ti.kind, ti.basetype,
        ti.elemtype, ti.elemdelim, ti.range_subtype,
        ti.attrtypoids, ti.attrnames, tt.depth + 1
    FROM
            (
        SELECT
            t.oid                           AS oid,
            ns.nspname                      AS ns,
            t.typname                       AS name,
            t.typtype                       AS kind,
            (CASE WHEN t.typtype = 'd' THEN
                (WITH RECURSIVE typebases(oid, depth) AS (
                    SELECT
                        t2.typbasetype      AS oid,
                        0                   AS depth
                    FROM
                        pg_type t2
                    WHERE
                        t2.oid = t.oid

                    UNION ALL

                    SELECT
                        t2.typbasetype      AS oid,
                        tb.depth + 1        AS depth
                    FROM
                        pg_type t2,
                        typebases tb
                    WHERE
                       tb.oid = t2.oid
                       AND t2.typbasetype != 0
               ) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)

               ELSE NULL
            END)                            AS basetype,
            t.typelem                       AS elemtype,
            elem_t.typdelim                 AS elemdelim,
            COALESCE(
                range_t.rngsubtype,
                multirange_t.rngsubtype)    AS range_subtype,
            (CASE WHEN t.typtype = 'c' THEN
                (SELECT
                    array_agg(ia.atttypid ORDER BY ia.attnum)
                FROM
                    pg_attribute ia
                    INNER JOIN pg_class c
                        ON (ia.attrelid = c.oid)
                WHERE
                    ia.attnum > 0 AND NOT ia.attisdropped
                    AND c.reltype = t.oid)

                ELSE NULL
            END)                            AS attrtypoids,
            (CASE WHEN t.typtype = 'c' THEN
                (SELECT
                    array_agg(ia.attname::text ORDER BY ia.attnum)
                FROM
                    pg_attribute ia
                    INNER JOIN pg_class c
                        ON (ia.attrelid = c.oid)
                WHERE
                    ia.attnum > 0 AND NOT ia.attisdropped
                    AND c.reltype = t.oid)

                ELSE NULL
            END)                            AS attrnames
        FROM
            pg_catalog.pg_type AS t
            INNER JOIN pg_catalog.pg_namespace ns ON (
                ns.oid = t.typnamespace)
            LEFT JOIN pg_type elem_t ON (
                t.typlen = -1 AND
                t.typelem != 0 AND
                t.typelem = elem_t.oid
            )
            LEFT JOIN pg_range range_t ON (
                t.oid = range_t.rngtypid
            )
            LEFT JOIN pg_range multirange_t ON (
                t.oid = multirange_t.rngmultitypid
            )
    )
 ti,
        typeinfo_tree tt
    WHERE
        (tt.elemtype IS NOT NULL AND ti.oid = tt.elemtype)
        OR (tt.attrtypoids IS NOT NULL AND ti.oid = any(tt.attrtypoids))
        OR (tt.range_subtype IS NOT NULL AND ti.oid = tt.range_subtype)
        OR (tt.basetype IS NOT NULL AND ti.oid = tt.basetype)
)

SELECT DISTINCT
    *,
    basetype::regtype::text AS basetype_name,
    elemtype::regtype::text AS elemtype_name,
    range_subtype::regtype::text AS range_subtype_name
FROM
    typeinfo_tree
ORDER BY
    depth DESC"#;

/// Catalog queries that do not depend on OIDs give PostgreSQL's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_rows_match_postgres() {
    let pg_server = common::Postgres::start();
    let b = common::Bedrock::start();
    let pg = pg_server.client().await;
    let br = b.client().await;
    pg.batch_execute(SCHEMA).await.unwrap();
    br.batch_execute(SCHEMA).await.unwrap();
    let queries = [
        // is_insertable_into / is_updatable differ on purpose: views are read-only here.
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        "SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type, \
         character_maximum_length, character_octet_length, numeric_precision, numeric_precision_radix, \
         numeric_scale, datetime_precision, udt_schema, udt_name, is_identity, identity_generation \
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 3",
        "SELECT constraint_name, table_name, constraint_type, is_deferrable, initially_deferred \
         FROM information_schema.table_constraints WHERE table_schema = 'public' \
         AND constraint_name NOT LIKE '%not_null' ORDER BY 1",
        "SELECT constraint_name, table_name, column_name, ordinal_position, position_in_unique_constraint \
         FROM information_schema.key_column_usage WHERE table_schema = 'public' ORDER BY 1, 4",
        "SELECT constraint_name, unique_constraint_name, match_option, update_rule, delete_rule \
         FROM information_schema.referential_constraints ORDER BY 1",
        "SELECT constraint_name, table_name, column_name FROM information_schema.constraint_column_usage \
         WHERE table_schema = 'public' ORDER BY 1, 3",
        "SELECT constraint_name, check_clause FROM information_schema.check_constraints \
         WHERE constraint_name NOT LIKE '%not_null' AND constraint_schema = 'public' ORDER BY 1",
        "SELECT sequence_name, data_type, numeric_precision, start_value, minimum_value, maximum_value, \
         increment, cycle_option FROM information_schema.sequences ORDER BY 1",
        "SELECT schema_name FROM information_schema.schemata ORDER BY 1",
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2",
        "SELECT tablename, hasindexes FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
        "SELECT sequencename, data_type, start_value, min_value, max_value, increment_by, cycle, cache_size \
         FROM pg_sequences ORDER BY 1",
        "SELECT relname, relkind, relnatts, relhasindex, relpersistence, relchecks, relhasrules \
         FROM pg_class WHERE relnamespace = 2200 ORDER BY 1",
        "SELECT c.relname, a.attname, a.attnum, a.atttypid::regtype, a.atttypmod, a.attnotnull, a.atthasdef, \
         a.attidentity, a.attlen, a.attbyval, a.attalign, a.attndims, a.attcollation \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         WHERE c.relnamespace = 2200 AND a.attnum > 0 ORDER BY 1, 3",
        "SELECT c.conname, c.contype, c.confupdtype, c.confdeltype, c.confmatchtype, c.conkey, c.confkey, \
         c.confrelid::regclass, pg_get_constraintdef(c.oid), pg_get_constraintdef(c.oid, true) \
         FROM pg_constraint c WHERE c.connamespace = 2200 ORDER BY 1",
        "SELECT i.indexrelid::regclass, i.indrelid::regclass, i.indnatts, i.indisunique, i.indisprimary, \
         i.indkey, i.indoption, pg_get_indexdef(i.indexrelid), pg_get_indexdef(i.indexrelid, 1, true) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 2200 ORDER BY 1",
        "SELECT s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, \
         s.seqcache, s.seqcycle FROM pg_sequence s ORDER BY 1",
        "SELECT obj_description('users'::regclass, 'pg_class'), col_description('users'::regclass, 2), \
         col_description('users'::regclass, 1)",
        "SELECT pg_get_serial_sequence('users', 'id'), pg_get_serial_sequence('public.posts', 'id'), \
         pg_get_serial_sequence('ident', 'id'), pg_get_serial_sequence('users', 'email')",
        "SELECT format_type(23, -1), format_type(1043, 36), format_type(1700, 655366), format_type(1184, 3), \
         format_type(1007, -1), format_type(0, NULL), format_type(2278, NULL), format_type(99999, NULL), \
         format_type(NULL, NULL)",
        "SELECT 'users'::regclass::text, 'pg_class'::regclass::oid, 'pg_catalog.pg_type'::regclass::oid, \
         'int4'::regtype::text, 'character varying'::regtype::oid, 'text[]'::regtype::text, \
         to_regclass('nope') IS NULL, to_regtype('nope') IS NULL, to_regclass('users')::text",
        "SELECT t.typname, t.typtype, t.typlen, t.typbyval, t.typcategory, t.typelem::regtype, t.typarray, \
         t.typinput, t.typoutput, t.typreceive, t.typsend, t.typalign, t.typstorage, t.typdelim, t.typcollation \
         FROM pg_type t WHERE t.oid IN (16, 20, 23, 25, 1043, 1700, 1184, 3802, 2950, 1007, 1009) ORDER BY t.oid",
        "SELECT typname, typtype, typcategory, typrelid::regclass FROM pg_type WHERE typnamespace = 2200 \
         AND typtype = 'c' ORDER BY 1",
        "SELECT nspname FROM pg_namespace ORDER BY 1",
        "SELECT amname, amtype FROM pg_am ORDER BY 1",
        "SELECT d.deptype, d.refobjsubid, d.classid::regclass, d.refclassid::regclass \
         FROM pg_depend d WHERE d.objid = 'users_id_seq'::regclass AND d.refobjid = 'users'::regclass",
        "SELECT has_table_privilege('users', 'SELECT'), has_schema_privilege('public', 'USAGE'), \
         pg_table_is_visible('users'::regclass), pg_type_is_visible(23), pg_encoding_to_char(6), \
         pg_get_userbyid(10), pg_size_pretty(123456789::bigint), pg_size_pretty(10240::bigint)",
        "SELECT relname FROM pg_class WHERE relname IN ('pg_class', 'pg_type', 'pg_attribute', 'pg_roles') ORDER BY 1",
        "SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1",
        "SELECT usename, usesuper FROM pg_user ORDER BY 1",
        "SELECT datname, pg_encoding_to_char(encoding), datallowconn FROM pg_database WHERE datname = current_database()",
    ];
    let mut diffs = Vec::new();
    for q in queries.iter().copied().chain([ASYNCPG_TYPEINFO]) {
        let mut want = rows(&pg, q).await;
        let mut got = rows(&br, q).await;
        if q == ASYNCPG_TYPEINFO {
            // Its ORDER BY depth leaves ties in no particular order.
            want.sort();
            got.sort();
        }
        if want != got {
            let mut d = format!(
                "{q}\n  rows: PostgreSQL {}, bedrock-pg {}",
                want.len(),
                got.len()
            );
            for i in 0..want.len().max(got.len()) {
                if want.get(i) != got.get(i) {
                    d.push_str(&format!(
                        "\n  PostgreSQL: {:?}\n  bedrock-pg: {:?}",
                        want.get(i),
                        got.get(i)
                    ));
                }
            }
            diffs.push(d);
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// tokio-postgres's type lookup (src/prepare.rs) and catalog columns in binary format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_type_lookup() {
    let b = common::Bedrock::start();
    let c = b.client().await;
    c.batch_execute(SCHEMA).await.unwrap();
    const TYPEINFO: &str = "SELECT t.typname, t.typtype, t.typelem, r.rngsubtype, t.typbasetype, n.nspname, t.typrelid \
FROM pg_catalog.pg_type t \
LEFT OUTER JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid \
INNER JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid \
WHERE t.oid = $1";
    const TYPEINFO_FALLBACK: &str = "SELECT t.typname, t.typtype, t.typelem, NULL::OID, t.typbasetype, n.nspname, t.typrelid \
FROM pg_catalog.pg_type t \
INNER JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid \
WHERE t.oid = $1";
    const TYPEINFO_ENUM: &str =
        "SELECT enumlabel FROM pg_catalog.pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder";
    const TYPEINFO_COMPOSITE: &str = "SELECT attname, atttypid \
FROM pg_catalog.pg_attribute \
WHERE attrelid = $1 \
AND NOT attisdropped \
AND attnum > 0 \
ORDER BY attnum";
    for q in [TYPEINFO, TYPEINFO_FALLBACK] {
        let st = c.prepare(q).await.unwrap();
        assert_eq!(st.params(), &[tokio_postgres::types::Type::OID]);
        let r = c.query_one(&st, &[&1007u32]).await.unwrap();
        let name: String = r.get(0);
        let typtype: i8 = r.get(1);
        let elem: u32 = r.get(2);
        let range: Option<u32> = r.get(3);
        let base: u32 = r.get(4);
        let nsp: String = r.get(5);
        let relid: u32 = r.get(6);
        assert_eq!(
            (
                name.as_str(),
                typtype as u8,
                elem,
                range,
                base,
                nsp.as_str(),
                relid
            ),
            ("_int4", b'b', 23, None, 0, "pg_catalog", 0)
        );
    }
    // A table's row type is a composite whose attributes tokio-postgres reads next.
    let users: u32 = c
        .query_one("SELECT oid FROM pg_class WHERE relname = 'users'", &[])
        .await
        .unwrap()
        .get(0);
    let rowtype: u32 = c
        .query_one(
            "SELECT reltype FROM pg_catalog.pg_class WHERE oid = $1",
            &[&users],
        )
        .await
        .unwrap()
        .get(0);
    let r = c.query_one(TYPEINFO, &[&rowtype]).await.unwrap();
    assert_eq!(r.get::<_, String>(0), "users");
    assert_eq!(r.get::<_, i8>(1) as u8, b'c');
    assert_eq!(r.get::<_, String>(5), "public");
    assert_eq!(r.get::<_, u32>(6), users);
    let attrs = c.query(TYPEINFO_COMPOSITE, &[&users]).await.unwrap();
    let first: Vec<(String, u32)> = attrs.iter().take(2).map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        first,
        vec![("id".to_string(), 23), ("email".to_string(), 1043)]
    );
    assert!(
        c.query(TYPEINFO_ENUM, &[&rowtype])
            .await
            .unwrap()
            .is_empty()
    );
    // Catalog arrays and vectors in binary.
    let r = c
        .query_one(
            "SELECT i.indkey, c.conkey, c.conname::text FROM pg_index i JOIN pg_constraint c ON c.conindid = i.indexrelid \
             WHERE c.conname = $1",
            &[&"posts_pkey"],
        )
        .await
        .unwrap();
    let conkey: Vec<i16> = r.get(1);
    assert_eq!(conkey, vec![1]);
    // regclass parameters may be given by name.
    let st = c
        .prepare_typed(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0",
            &[tokio_postgres::types::Type::TEXT],
        )
        .await
        .unwrap();
    let n: i64 = c.query_one(&st, &[&"posts"]).await.unwrap().get(0);
    assert_eq!(n, 4);
}

/// The catalog follows DDL on every connection, rolls back with the transaction, and never
/// shows internal objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_follows_ddl() {
    let b = common::Bedrock::start();
    let c1 = b.client().await;
    let c2 = b.client().await;
    let tables =
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 2200 ORDER BY 1";
    assert!(rows(&c1, tables).await.is_empty());
    assert!(rows(&c2, tables).await.is_empty());
    c1.batch_execute("CREATE TABLE a (x int)").await.unwrap();
    assert_eq!(rows(&c1, tables).await, vec![row(&["a"])]);
    assert_eq!(rows(&c2, tables).await, vec![row(&["a"])]);
    // DDL inside a transaction is visible to it, and gone after ROLLBACK.
    c1.batch_execute("BEGIN; CREATE TABLE b (y text)")
        .await
        .unwrap();
    assert_eq!(rows(&c1, tables).await, vec![row(&["a"]), row(&["b"])]);
    assert_eq!(rows(&c2, tables).await, vec![row(&["a"])]);
    c1.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(rows(&c1, tables).await, vec![row(&["a"])]);
    c1.batch_execute("ALTER TABLE a ADD COLUMN z text NOT NULL DEFAULT 'q'")
        .await
        .unwrap();
    assert_eq!(
        rows(
            &c2,
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns \
             WHERE table_name = 'a' ORDER BY ordinal_position"
        )
        .await,
        vec![
            row(&["x", "integer", "YES", "<null>"]),
            row(&["z", "text", "NO", "'q'::text"]),
        ]
    );
    c1.batch_execute("DROP TABLE a").await.unwrap();
    assert!(rows(&c2, tables).await.is_empty());
    // Internal objects are invisible everywhere.
    for q in [
        "SELECT count(*) FROM pg_class WHERE relname LIKE '%bedrock%' OR relname LIKE 'sqlite%'",
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%bedrock%' OR table_name LIKE 'sqlite%'",
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%bedrock%'",
    ] {
        assert_eq!(rows(&c1, q).await, vec![row(&["0"])], "{q}");
    }
    // A user relation cannot take a system catalog's place.
    let e = c1
        .batch_execute("SELECT * FROM __bedrock_pgc_pg_class")
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42P01"), "{e:?}");
}

/// What ORMs and drivers send at connect time (client-captures/).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orm_connect_probes() {
    let b = common::Bedrock::start();
    let c = b.client().await;
    c.batch_execute(SCHEMA).await.unwrap();
    // SQLAlchemy has_table (psycopg2 inlines the literals).
    let r = rows(
        &c,
        "SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
  WHERE pg_catalog.pg_class.relname IN ('users') AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm'])
    AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != 'pg_catalog'",
    )
    .await;
    assert_eq!(r, vec![row(&["users"])]);
    // SQLAlchemy (psycopg 3) type probe.
    let r = c
        .query(
            "SELECT typname AS name, oid, typarray AS array_oid, oid::regtype::text AS regtype, typdelim AS delimiter FROM pg_type t WHERE t.oid = to_regtype($1) ORDER BY t.oid",
            &[&"hstore"],
        )
        .await
        .unwrap();
    assert!(r.is_empty());
    let r = c
        .query(
            "SELECT typname AS name, oid, typarray AS array_oid, oid::regtype::text AS regtype, typdelim AS delimiter FROM pg_type t WHERE t.oid = to_regtype($1) ORDER BY t.oid",
            &[&"jsonb"],
        )
        .await
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].get::<_, String>(3), "jsonb");
    assert_eq!(r[0].get::<_, u32>(2), 3807);
    // Django's table list.
    let r = rows(
        &c,
        "SELECT c.relname, CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('m', 'v') THEN 'v' ELSE 't' END,
            obj_description(c.oid, 'pg_class')
     FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v') AND n.nspname NOT IN ('pg_catalog', 'pg_toast') AND pg_catalog.pg_table_is_visible(c.oid)
     ORDER BY 1",
    )
    .await;
    assert_eq!(
        r,
        vec![
            row(&["active_users", "v", "<null>"]),
            row(&["ident", "t", "<null>"]),
            row(&["posts", "t", "<null>"]),
            row(&["users", "t", "the users"]),
        ]
    );
    // Rails' type map probe and table existence check.
    let r = rows(
        &c,
        "SELECT t.oid, t.typname FROM pg_type as t WHERE t.typname IN ('int2','int4','int8','oid','float4','float8','numeric','bool','timestamp','timestamptz') ORDER BY 1",
    )
    .await;
    assert_eq!(r.len(), 10);
    let r = rows(
        &c,
        "SELECT t.oid, t.typname, t.typelem, t.typdelim, t.typinput, r.rngsubtype, t.typtype, t.typbasetype
       FROM pg_type as t LEFT JOIN pg_range as r ON oid = rngtypid
      WHERE t.typname IN ('json', 'jsonb', 'uuid') OR t.typtype IN ('r','e','d')
         OR t.typinput = 'array_in(cstring,oid,integer)'::regprocedure OR t.typelem != 0
      ORDER BY 1",
    )
    .await;
    assert!(r.iter().any(|x| x[1].as_deref() == Some("jsonb")));
    assert!(
        r.iter()
            .any(|x| x[1].as_deref() == Some("_int4") && x[4].as_deref() == Some("array_in"))
    );
    let r = rows(
        &c,
        "SELECT c.relname FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY (current_schemas(false)) AND c.relname = 'users' AND c.relkind IN ('r','p')",
    )
    .await;
    assert_eq!(r, vec![row(&["users"])]);
    // pgjdbc getTables uses 'pg_class'::regclass and the description join.
    let r = rows(
        &c,
        "SELECT c.relname, d.description FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c
      LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass)
      WHERE c.relnamespace = n.oid AND n.nspname LIKE 'public' AND c.relkind = 'r' ORDER BY 1",
    )
    .await;
    assert_eq!(
        r,
        vec![
            row(&["ident", "<null>"]),
            row(&["posts", "<null>"]),
            row(&["users", "the users"]),
        ]
    );
    // pg_settings reflects the session.
    c.batch_execute("SET application_name = 'catalog-test'")
        .await
        .unwrap();
    let r = rows(
        &c,
        "SELECT setting FROM pg_settings WHERE name = 'application_name'",
    )
    .await;
    assert_eq!(r, vec![row(&["catalog-test"])]);
}

/// A write that reads the catalogs replays to the same content (a follower, or a node rebuilt
/// from its journal, materialises the catalogs from the replicated shadow catalog).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_reads_in_writes_replay() {
    let server = common::Bedrock::start();
    let c = server.client().await;
    c.batch_execute(SCHEMA).await.unwrap();
    c.batch_execute(
        "CREATE TABLE names (n text, cols int);
         INSERT INTO names SELECT c.relname, c.relnatts FROM pg_catalog.pg_class c WHERE c.relnamespace = 2200;
         INSERT INTO names SELECT table_name, ordinal_position FROM information_schema.columns WHERE column_name = 'id';
         INSERT INTO names VALUES (format_type(1043, 24), 0), ('users'::regclass::text, 'posts'::regclass::int);",
    )
    .await
    .unwrap();
    let live_rows = rows(&c, "SELECT count(*) FROM names").await;
    assert_eq!(live_rows, vec![row(&["21"])]);
    drop(c);
    let (dir, db) = server.kill();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let live = bedrock_pg::store::journal::content_checksum(&conn).unwrap();
    drop(conn);
    let replica = dir.path().join("replica.db");
    let (_, replayed) = bedrock_pg::store::journal::replay_journal(
        &db,
        &replica,
        &bedrock_pg::sql::extension::SqlExtension,
    )
    .unwrap();
    assert_eq!(
        replayed, live,
        "replaying catalog-reading writes must give the same content"
    );
}
