-- Errors: SQLSTATEs (and, for the ones drivers and ORMs parse, messages and details).

CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE, qty int NOT NULL CHECK (qty >= 0));
CREATE TABLE c (id int PRIMARY KEY, p_id int NOT NULL REFERENCES p (id));
INSERT INTO p VALUES (1, 'a', 1), (2, 'b', 2);
INSERT INTO c VALUES (1, 1);

-- Integrity violations with their constraint names.
-- error: 23505
INSERT INTO p VALUES (1, 'z', 0);
-- error: 23505
INSERT INTO p VALUES (3, 'a', 0);
-- error: 23505
UPDATE p SET code = 'a' WHERE id = 2;
-- error: 23502
INSERT INTO p (id, code) VALUES (4, 'd');
-- error: 23502
INSERT INTO p VALUES (NULL, 'n', 1);
-- error: 23502
UPDATE p SET qty = NULL;
-- error: 23514
INSERT INTO p VALUES (5, 'e', -1);
-- error: 23514
UPDATE p SET qty = qty - 10 WHERE id = 1;
-- error: 23503
INSERT INTO c VALUES (2, 42);
-- error: 23503
DELETE FROM p WHERE id = 1;
-- error: 23503
UPDATE c SET p_id = 7;
CREATE TABLE named (a int CONSTRAINT a_positive CHECK (a > 0), b int, CONSTRAINT b_small CHECK (b < 10), CONSTRAINT named_uq UNIQUE (a, b));
-- error: 23514
INSERT INTO named VALUES (0, 1);
-- error: 23514
INSERT INTO named VALUES (1, 10);
INSERT INTO named VALUES (1, 1);
-- error: 23505
INSERT INTO named VALUES (1, 1);
INSERT INTO named VALUES (1, NULL), (1, NULL);
SELECT count(*) FROM named;

-- Undefined objects.
-- error: 42P01
SELECT * FROM missing;
-- error: 42P01
INSERT INTO missing VALUES (1);
-- error: 42P01
SELECT * FROM p JOIN missing ON true;
-- error: 42703
SELECT nope FROM p;
-- error: 42703
SELECT p.nope FROM p;
-- error: 42703
SELECT * FROM p WHERE nope = 1;
-- error: 42703
SELECT * FROM p ORDER BY nope;
-- error: 42P01
SELECT q.id FROM p;
-- error: 42883
SELECT no_such_function(1);
-- error: 42883
SELECT 'a'::text + 1;
-- error: 42704
SELECT 1::no_such_type;
-- error: 42704
CREATE TABLE bad_type (x no_such_type);
-- error: 42P07
CREATE TABLE p (id int);
-- error: 42701
CREATE TABLE dup_col (a int, a text);
-- error: 42701
ALTER TABLE p ADD COLUMN code text;
-- error: 42702
SELECT id FROM p, c;
-- error: 42712
SELECT * FROM p x, c x;

-- Syntax errors carry a position.
-- error: 42601
SELEC 1;
-- error: 42601
SELECT * FORM p;
-- error: 42601
SELECT (1 + 2;
-- error: 42601
INSERT INTO p VALUES (1,;
-- error: 42601
SELECT 'unterminated;
-- error: 42601
CREATE TABLE (id int);

-- Data exceptions.
-- error: 22P02
SELECT 'x'::int;
-- error: 22P02
INSERT INTO p VALUES ('1.5', 'q', 1);
-- error: 22P02
SELECT 'truth'::boolean;
SELECT 'abc'::varchar(2)::char(1) = 'a', CAST('toolong' AS varchar(3)), 'x'::varchar(1);
CREATE TABLE short (s varchar(3), c char(2));
INSERT INTO short VALUES ('abc', 'ab');
-- error: 22001
UPDATE short SET s = s || 'd';
-- error: 22001
INSERT INTO short VALUES ('abcd', 'a');
-- error: 22001
INSERT INTO short VALUES ('a', 'abc');
-- error: 22012
SELECT 10 / 0;
-- error: 22012
SELECT 10.5 / 0;
-- error: 22012
SELECT qty / 0 FROM p;
SELECT 1.0::float8 / 0;
-- error: 22003
SELECT 32767::int2 + 1::int2;
-- error: 22003
SELECT (-2147483648) * -1;
-- error: 22003
SELECT (10::numeric * 100)::numeric(3,1);
-- error: 22008
SELECT '2024-13-01'::date;
-- error: 22008
SELECT '25:00'::time;
-- error: 2201E
SELECT ln(0);
-- error: 2201W
SELECT 1 LIMIT -1;
-- error: 42704
SET no_such_setting = 1;
-- error: 22023
SET statement_timeout = 'forever';
-- error: 42704
SHOW no_such_setting;
-- error: 22023
SET TIME ZONE 'Nowhere/Special';

-- Unsupported constructs fail with 0A000 on bedrock-pg.
-- bedrock-error: 0A000 user-defined functions (CREATE FUNCTION) are not supported
CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;
-- bedrock-error: 0A000 schemas other than public are not supported
CREATE SCHEMA other;
-- bedrock-error: 0A000 SIMILAR TO has no faithful translation
SELECT 'abc' SIMILAR TO 'a%';
-- bedrock-error: 0A000 temporary tables are not supported
CREATE TEMP TABLE tt (id int);
-- bedrock-error: 0A000 multi-dimensional arrays are not supported
SELECT ARRAY[[1,2],[3,4]];
-- bedrock-error: 0A000 LISTEN/NOTIFY is not supported
LISTEN chan;
