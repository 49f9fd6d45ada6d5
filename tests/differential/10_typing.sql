-- Result types: the type PostgreSQL gives each expression (aggregates, CASE, COALESCE, UNION,
-- VALUES, mixed arithmetic), and numeric values that are equal at different scales.

CREATE TABLE nums (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, n2 numeric(8,2), v varchar(10), c char(4), t text, b bool, d date, ts timestamp);
INSERT INTO nums VALUES (1, 1, 10, 100, 1.5, 2.5, 1.0, 1.5, 'a', 'x', 'p', true, '2024-01-01', '2024-01-01 10:00');
INSERT INTO nums VALUES (2, 2, 20, 200, 2.5, 3.5, 1.00, 2.25, 'b', 'yy', 'q', false, '2024-02-01', '2024-02-01 11:30');
INSERT INTO nums VALUES (3, NULL, NULL, NULL, NULL, NULL, 2.50, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT sum(i2), sum(i4), sum(i8), sum(f4), sum(f8), sum(n), sum(n2) FROM nums;
SELECT avg(i2), avg(i4), avg(i8), avg(f4), avg(f8), avg(n), avg(n2) FROM nums;
SELECT min(i2), max(i4), min(v), max(c), min(t), min(d), max(ts), min(n2) FROM nums;
-- error: 42883
SELECT max(b) FROM nums;
SELECT count(*), count(i4), count(DISTINCT n), count(DISTINCT b) FROM nums;
SELECT i2 + i2, i2 + i4, i4 + i8, i4 * n, i8 / n2, f4 + f4, f4 * i4, f8 - n, n2 + n2 FROM nums ORDER BY id;
SELECT coalesce(i4, n), coalesce(i2, i8), coalesce(v, t), coalesce(v, 'z'), coalesce(d, ts) FROM nums ORDER BY id;
SELECT CASE WHEN b THEN i4 ELSE n END, CASE WHEN b THEN v ELSE c END, CASE WHEN b THEN 1 ELSE 2.5 END FROM nums ORDER BY id;
SELECT greatest(i2, i4) FROM nums WHERE id = 1;
SELECT i4 FROM nums WHERE id = 1 UNION SELECT n FROM nums WHERE id = 3 ORDER BY 1;
-- rowsort
SELECT NULL UNION SELECT 1;
SELECT 1 UNION ALL SELECT NULL ORDER BY 1 NULLS FIRST;
SELECT 'a' UNION SELECT 'b' ORDER BY 1;
SELECT v FROM nums UNION SELECT t FROM nums ORDER BY 1 NULLS LAST;
SELECT 1, 'x' UNION ALL SELECT 2, NULL ORDER BY 1;
SELECT 1.5 AS a UNION SELECT 2 ORDER BY a;
VALUES (1, 1.5), (2, 3);
VALUES ('a', 1), (NULL, NULL);
SELECT * FROM (VALUES (1, 'one'), (2, NULL)) v(n, s) WHERE s IS NULL;

-- numeric equality ignores scale: 1.0, 1.00 and 1 are the same value.
SELECT n, count(*) FROM nums GROUP BY n ORDER BY n;
SELECT DISTINCT n FROM nums ORDER BY n;
SELECT count(*) FROM nums WHERE n = 1;
SELECT count(*) FROM nums a JOIN nums b ON a.n = b.n;
SELECT n FROM nums ORDER BY n DESC, id;
SELECT id FROM nums WHERE n IN (1, 2.5) ORDER BY id;
SELECT 1.0 = 1.00, 1.10 > 1.1, -0.0 = 0, 100 > 99.999;
SELECT max(n), min(n2) FROM nums;

-- Booleans, dates and strings in comparisons and ordering.
SELECT true > false, b < true FROM nums ORDER BY id;
SELECT id FROM nums ORDER BY b NULLS FIRST, id;
SELECT d < ts, d = '2024-01-01 00:00:00'::timestamp, ts::date = d FROM nums ORDER BY id;
SELECT c = 'x', c = 'x   ', c::text, length(c), c || '.', v || c FROM nums ORDER BY id;
SELECT 'abc' < 'abd', 'Z' < 'a', 'é' > 'z', '' < ' ';
SELECT t FROM (VALUES ('b'), ('B'), ('a'), ('_'), ('1')) x(t) ORDER BY t;

-- Division and modulo of negatives, integer casts that round.
SELECT -7 / 2, 7 / -2, -7 % 2, 7 % -2, (-7)::numeric / 2, -7.5::int, 7.5::int, -2.5::int8, 0.5::int2;
SELECT 2147483647::int8 * 2, (-32768)::int2, 9223372036854775807 - 1;
-- error: 22003
SELECT (-32768)::int2 * -1::int2;
-- error: 22003
SELECT 9223372036854775807 * 2;
-- error: 22003
SELECT -9223372036854775807 - 2;
