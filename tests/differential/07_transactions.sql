-- Transactions: status after each statement, rollback, savepoints, failed transactions (25P02),
-- implicit transactions of multi-statement queries.

CREATE TABLE t (id int PRIMARY KEY, v text);
BEGIN;
INSERT INTO t VALUES (1, 'committed');
COMMIT;
BEGIN;
INSERT INTO t VALUES (2, 'rolled back');
SELECT count(*) FROM t;
ROLLBACK;
SELECT * FROM t ORDER BY id;
START TRANSACTION;
UPDATE t SET v = 'updated' WHERE id = 1;
END;
SELECT v FROM t WHERE id = 1;

-- A failed transaction refuses everything until ROLLBACK.
BEGIN;
INSERT INTO t VALUES (3, 'three');
-- error: 23505
INSERT INTO t VALUES (1, 'dup');
-- error: 25P02
SELECT 1;
-- error: 25P02
INSERT INTO t VALUES (4, 'four');
ROLLBACK;
SELECT count(*) FROM t;
BEGIN;
-- error: 22012
SELECT 1 / 0;
COMMIT;
SELECT count(*) FROM t;

-- Savepoints.
BEGIN;
INSERT INTO t VALUES (10, 'a');
SAVEPOINT s1;
INSERT INTO t VALUES (11, 'b');
ROLLBACK TO SAVEPOINT s1;
INSERT INTO t VALUES (12, 'c');
SAVEPOINT s2;
-- error: 23505
INSERT INTO t VALUES (10, 'dup');
ROLLBACK TO s2;
INSERT INTO t VALUES (13, 'd');
RELEASE SAVEPOINT s2;
COMMIT;
SELECT id, v FROM t ORDER BY id;
BEGIN;
SAVEPOINT outer_sp;
UPDATE t SET v = 'inner' WHERE id = 10;
SAVEPOINT inner_sp;
DELETE FROM t;
ROLLBACK TO inner_sp;
RELEASE outer_sp;
SELECT id, v FROM t WHERE id = 10;
ROLLBACK;
SELECT v FROM t WHERE id = 10;
-- error: 25P01
ROLLBACK TO nowhere;
BEGIN;
-- error: 3B001
RELEASE nowhere;
ROLLBACK;

-- Transaction control outside a transaction, modes and isolation levels.
COMMIT;
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) FROM t;
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE;
COMMIT;
BEGIN READ ONLY;
SELECT count(*) FROM t;
-- error: 25006
INSERT INTO t VALUES (99, 'ro');
ROLLBACK;
BEGIN;
SET TRANSACTION READ ONLY;
-- error: 25006
UPDATE t SET v = 'x';
ROLLBACK;
SET LOCAL statement_timeout = '1s';
BEGIN;
SET LOCAL TIME ZONE 'Asia/Kolkata';
SELECT '2024-01-01 00:00:00+00'::timestamptz;
COMMIT;
SELECT '2024-01-01 00:00:00+00'::timestamptz;
BEGIN;
SET TIME ZONE 'Asia/Kolkata';
ROLLBACK;
SHOW TimeZone;
SET TIME ZONE 'UTC';

-- Multi-statement queries run as one implicit transaction (simple protocol only).
-- skip-extended: several statements in one query string need the simple protocol
INSERT INTO t VALUES (20, 'x'); INSERT INTO t VALUES (21, 'y'); SELECT count(*) FROM t;
-- skip-extended: several statements in one query string need the simple protocol
INSERT INTO t VALUES (22, 'x'); INSERT INTO t VALUES (20, 'dup'); INSERT INTO t VALUES (23, 'never');
SELECT id FROM t WHERE id >= 20 ORDER BY id;
-- skip-extended: several statements in one query string need the simple protocol
BEGIN; INSERT INTO t VALUES (30, 'explicit'); SELECT 1;
SELECT count(*) FROM t WHERE id = 30;
COMMIT;
-- skip-extended: several statements in one query string need the simple protocol
BEGIN; INSERT INTO t VALUES (30, 'dup'); SELECT 1;
ROLLBACK;
-- skip-extended: several statements in one query string need the simple protocol
SELECT 1; COMMIT; SELECT 2;
-- skip-extended: an empty query string is a simple-protocol case
;
-- skip-extended: several statements in one query string need the simple protocol
SELECT 1 AS a; SELECT 'two' AS b, 3 AS c;

-- Reads inside transactions see their own writes.
BEGIN;
INSERT INTO t VALUES (40, 'mine');
UPDATE t SET v = v || '!' WHERE id = 40;
SELECT v FROM t WHERE id = 40;
DELETE FROM t WHERE id = 40;
SELECT count(*) FROM t WHERE id = 40;
COMMIT;
SELECT count(*) FROM t;
-- Session-dependent functions may not feed a write (they would not replicate).
CREATE TABLE audit (who text);
-- bedrock-error: 0A000 current_setting() in a write would not replicate: followers do not share the session's settings
INSERT INTO audit VALUES (current_setting('application_name'));
SELECT set_config('application_name', 'diff', false), current_setting('application_name');
