-- sysbench's sbtest1 table for oltp_read_only.pgbench, loaded with :rows rows (psql -v rows=N).
-- The data is deterministic, so both servers hold the same rows: k is a permutation of 1..rows
-- (sysbench draws it at random), c and pad are md5 digests cut to sysbench's lengths (119 and
-- 59 characters; sysbench uses groups of random digits), so ORDER BY c really sorts.
-- The secondary index is created after the load, as sysbench does.
DROP TABLE IF EXISTS sbtest1;
CREATE TABLE sbtest1 (
    id integer NOT NULL PRIMARY KEY,
    k integer NOT NULL DEFAULT 0,
    c char(120) NOT NULL DEFAULT '',
    pad char(60) NOT NULL DEFAULT ''
);
INSERT INTO sbtest1 (id, k, c, pad)
SELECT g,
       (g * 7919) % :rows + 1,
       md5(g || 'a') || md5(g || 'b') || md5(g || 'c') || substr(md5(g || 'd'), 1, 23),
       md5(g || 'e') || substr(md5(g || 'f'), 1, 27)
FROM generate_series(1, :rows) AS g;
CREATE INDEX k_1 ON sbtest1 (k);
ANALYZE sbtest1;
