-- Types: literals, casts, storage round trips and output formats of every type issue 2 lists.

-- Booleans.
CREATE TABLE t_bool (id int PRIMARY KEY, b bool);
INSERT INTO t_bool VALUES (1, true), (2, false), (3, NULL), (4, 't'), (5, 'yes'), (6, 'off'), (7, '1');
SELECT * FROM t_bool ORDER BY id;
SELECT id, NOT b, b AND true, b OR false, b IS TRUE, b IS NOT FALSE FROM t_bool ORDER BY id;
SELECT true::text, false::int, 1::bool, 'on'::boolean, 0::boolean;
SELECT count(*) FROM t_bool WHERE b;
-- error: 22P02
SELECT 'maybe'::bool;

-- Integers.
CREATE TABLE t_int (a int2, b int4, c int8);
INSERT INTO t_int VALUES (32767, 2147483647, 9223372036854775807), (-32768, -2147483648, -9223372036854775808), (0, 0, 0);
SELECT a, b, c FROM t_int ORDER BY b;
SELECT a + 1, b - 1, c / 2 FROM t_int WHERE a = 0;
SELECT a * 2 FROM t_int WHERE a = 0;
-- error: 22003
INSERT INTO t_int (a) VALUES (32768);
-- error: 22003
SELECT 2147483647 + 1;
-- error: 22003
SELECT 9223372036854775807 + 1;
SELECT 2147483647::int8 + 1, 3000000000, -2147483648;
SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, @ -5;
SELECT 2 ^ 10, |/ 16.0;
SELECT 5::int2 * 2::int2, 5::int2 + 1, 5 + 1::int8;
SELECT '42'::int, ' 17 '::int4, '-9'::int8, 42::text;
-- error: 22P02
SELECT '4x2'::int;
-- error: 22P02
SELECT ''::int;
-- error: 22012
SELECT 1 / 0;
-- error: 22012
SELECT 5 % 0;

-- Floating point.
SELECT 1.5::float8, 1e10::float4, 0.1::float8 + 0.2::float8, 2.5e-3::double precision;
-- differs: SQLite cannot hold a NaN (it stores and returns NULL), so NaN reads back as NULL
SELECT 'NaN'::float8;
SELECT 'Infinity'::float8, '-Infinity'::float4, -'Infinity'::float8;
-- error: 22003
-- pending: float arithmetic that overflows yields Infinity instead of 22003 (needs an overflow-checking SQL function)
SELECT '1e300'::float8 * 1e10::float8;
SELECT 1.0::float8 / 3, 123.456::float4, 100::real / 3;
SELECT 3.0::float8 = 3, 0.5::float4 < 1;
-- error: 22003
SELECT '1e400'::float8;

-- Numeric: exact arithmetic, typmods, large values and division scales.
CREATE TABLE t_num (id serial PRIMARY KEY, n numeric(12,2), x numeric);
INSERT INTO t_num (n, x) VALUES (1.005, 1.005), (12345678.9, 123456789012345678901234567890.123456789), (-0.5, 0), (NULL, -1e-20);
SELECT n, x FROM t_num ORDER BY id;
SELECT n * 2, x * x, n / 3, x + 1, -x FROM t_num ORDER BY id;
SELECT 1::numeric / 3, 10::numeric / 4, 2::numeric / 3 * 3, 1.000 / 7, 1 / 3.0;
SELECT 123456789012345678901234567890 / 7, 1e-10 / 3, 100000 / 0.0001;
SELECT 0.1 + 0.2, 0.1 + 0.2 = 0.3, 1.10 + 2.205, 1.50 * 2.0, 10.00 - 0.5;
SELECT sum(n), avg(n), min(x), max(x), count(n) FROM t_num;
SELECT 12.345::numeric(5,2), 12.355::numeric(5,2), 99999999999999999999::numeric + 1, 0.000::numeric;
SELECT 7.5 % 2, -7 % 2.5;
SELECT 2.0 ^ 3;
SELECT n FROM t_num WHERE n > 1 ORDER BY n;
SELECT 1::numeric = 1.0, 1.10 = 1.1, 2::numeric > 10;
-- error: 22003
INSERT INTO t_num (n) VALUES (12345678901.5);
-- error: 22003
SELECT 123.456::numeric(4,2);
-- error: 22012
SELECT 1::numeric / 0;
-- error: 22P02
SELECT 'abc'::numeric;

-- Character types and length enforcement.
CREATE TABLE t_text (id int PRIMARY KEY, v varchar(5), c char(3), t text);
INSERT INTO t_text VALUES (1, 'abc', 'x', 'hello'), (2, 'abcde', 'xyz', '');
-- error: 22001
INSERT INTO t_text VALUES (3, 'abcdef', 'x', 't');
-- error: 22001
INSERT INTO t_text VALUES (4, 'a', 'wxyz', 't');
INSERT INTO t_text VALUES (5, 'abcde   ', 'ab  ', 'trailing spaces are cut silently');
SELECT id, v, c, t, octet_length(v) FROM t_text ORDER BY id;
SELECT id, c || '|', length(c), c = 'x' FROM t_text ORDER BY id;
-- error: 22001
UPDATE t_text SET v = 'toolong' WHERE id = 1;
SELECT 'abc'::varchar(2), 'abc'::char(5), 'abc'::char(5) = 'abc  ', 'héllo'::varchar(3);
SELECT 'a' < 'b', 'B' < 'a', 'abc' || 'def', 'x' || 1 || true;

-- Binary data.
CREATE TABLE t_bytea (id int PRIMARY KEY, b bytea);
INSERT INTO t_bytea VALUES (1, '\x00ff10'), (2, 'abc'), (3, E'\\x41'), (4, NULL), (5, '');
SELECT id, b, length(b) FROM t_bytea ORDER BY id;
SELECT '\xdeadbeef'::bytea, 'a\\b'::bytea, '\x'::bytea = ''::bytea;
-- error: 22023
SELECT '\xzz'::bytea;

-- Dates, times, timestamps, intervals.
CREATE TABLE t_dt (id int PRIMARY KEY, d date, t time, ts timestamp, tz timestamptz, iv interval);
INSERT INTO t_dt VALUES (1, '2024-02-29', '13:45:10.5', '2024-02-29 13:45:10.123456', '2024-02-29 13:45:10+02', '1 day 2 hours');
INSERT INTO t_dt VALUES (2, '1999-12-31', '00:00', '1999-12-31 23:59:59', '1999-12-31 23:59:59 UTC', '-3 months 4 days');
INSERT INTO t_dt VALUES (3, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t_dt VALUES (4, 'January 5, 2023', '7:05 PM', '2023-01-05T19:05:00', '2023-01-05 19:05:00-08', '90 minutes');
SELECT * FROM t_dt ORDER BY id;
SELECT id, d + 1, ts + iv, tz - interval '1 hour', t + interval '30 minutes' FROM t_dt ORDER BY id;
SELECT id FROM t_dt WHERE tz > '2020-01-01' ORDER BY tz;
SET TIME ZONE 'America/New_York';
SELECT id, tz, tz::date, tz::timestamp FROM t_dt ORDER BY id;
INSERT INTO t_dt (id, tz, ts) VALUES (5, '2024-07-01 12:00', '2024-07-01 12:00');
SELECT tz, ts, ts::timestamptz FROM t_dt WHERE id = 5;
SHOW TIME ZONE;
SET TIME ZONE 'Europe/Paris';
SELECT tz FROM t_dt WHERE id IN (1, 5) ORDER BY id;
SET TIME ZONE 'UTC';
SELECT tz FROM t_dt WHERE id = 5;
SHOW TimeZone;
SELECT '2024-01-31'::date + 1, '2024-03-01'::date - '2024-02-01'::date, '2024-01-31'::date + interval '1 month';
SELECT '2024-01-01 10:00'::timestamp + interval '90 minutes', '10:00'::time + interval '3 hours', '23:30'::time + interval '1 hour';
SELECT interval '1 day' * 3, interval '1 hour' / 2, interval '1 year 2 months' + interval '3 days', -interval '1 day';
SELECT '2024-03-10 12:00'::timestamp - '2024-03-01 00:00'::timestamp, '2024-03-10'::date - 3;
SELECT interval '1 day' > interval '23 hours', interval '1 month' = interval '30 days', interval '36 hours';
SELECT '2024-02-29'::date < '2024-03-01', '2024-01-01 00:00:00+00'::timestamptz = '2023-12-31 19:00:00-05';
-- error: 22008
SELECT '2024-02-30'::date;
-- error: 22007
SELECT 'garbage'::timestamp;
-- error: 22007
SELECT '1 fortnight'::interval;

-- UUID, JSON, JSONB.
CREATE TABLE t_misc (id int PRIMARY KEY, u uuid, j json, jb jsonb);
INSERT INTO t_misc VALUES (1, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1, "a": [1, 2]}', '{"b": 1, "a": [1, 2]}');
INSERT INTO t_misc VALUES (2, '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a12}', '[]', '{"a": {"x": null}, "a": 2, "c": "é"}');
INSERT INTO t_misc VALUES (3, NULL, '  {"k" :  "v"}  ', '[1, 2.50, "three", true, null]');
SELECT * FROM t_misc ORDER BY id;
SELECT u FROM t_misc WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT jb -> 'a', jb ->> 'b', j -> 'a', jb -> 1, jb ->> 2 FROM t_misc ORDER BY id;
SELECT '{"x": 1}'::jsonb = '{ "x" : 1 }'::jsonb, '[1,2]'::json::text, '{"b":2,"a":1}'::jsonb::text;
SELECT '{"a": {"b": [10, 20]}}'::jsonb #> '{a,b,1}', '{"a": {"b": [10, 20]}}'::jsonb #>> '{a,b}';
SELECT '{"a":1, "b":2}'::jsonb @> '{"a":1}', '{"a":1}'::jsonb ? 'a', '{"a":1}'::jsonb ? 'z';
-- error: 22P02
SELECT 'not-a-uuid'::uuid;
-- error: 22P02
SELECT '{bad json'::jsonb;
-- error: 22P02
SELECT '[1,'::json;

-- One-dimensional arrays.
CREATE TABLE t_arr (id int PRIMARY KEY, a int[], ta text[], na numeric[]);
INSERT INTO t_arr VALUES (1, '{1,2,3}', '{"a b", c, NULL}', '{1.5, 2}');
INSERT INTO t_arr VALUES (2, ARRAY[4,5], ARRAY['x', 'has,comma', 'has"quote'], ARRAY[]::numeric[]);
INSERT INTO t_arr VALUES (3, NULL, '{}', NULL);
SELECT * FROM t_arr ORDER BY id;
SELECT id, a[1], a[3], ta[2] FROM t_arr ORDER BY id;
SELECT id, array_length(a, 1), cardinality(ta) FROM t_arr ORDER BY id;
SELECT id FROM t_arr WHERE 2 = ANY(a) OR 'c' = ANY(ta) ORDER BY id;
SELECT 1 = ANY(ARRAY[1,2]), 5 <> ALL(ARRAY[1,2]), 3 = ANY('{1,2}'::int[]), NULL::int = ANY(ARRAY[1]);
SELECT ARRAY[1,2] || 3, 0 || ARRAY[1], ARRAY[1,2] || ARRAY[3];
SELECT ARRAY[1,2] = ARRAY[1,2], ARRAY['a', NULL], '{1,2}'::int[], ARRAY[1.5, 2];
-- error: 22P02
SELECT '{1,x}'::int[];
