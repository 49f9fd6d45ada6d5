-- DML: INSERT forms, UPDATE, DELETE, RETURNING, ON CONFLICT, command tags and row counts.

CREATE TABLE acct (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) DEFAULT 0, tags text[], updated timestamptz);
INSERT INTO acct (id, owner, balance) VALUES (1, 'alice', 100.00);
INSERT INTO acct (id, owner, balance) VALUES (2, 'bob', 50.5), (3, 'carol', 0), (4, 'dave', 1234567.89);
INSERT INTO acct (id, owner) VALUES (5, 'erin') RETURNING *;
INSERT INTO acct (owner, id) VALUES ('frank', 6) RETURNING id AS new_id, owner || '!', balance + 1 AS plus;
SELECT * FROM acct ORDER BY id;
UPDATE acct SET balance = balance + 10 WHERE id <= 2;
UPDATE acct SET balance = balance * 2, owner = owner || '!' WHERE owner = 'carol' RETURNING id, owner, balance;
UPDATE acct SET tags = ARRAY['vip'] WHERE balance > 1000 RETURNING tags;
UPDATE acct SET balance = 0 WHERE id = 999;
UPDATE acct SET updated = '2024-05-05 10:00:00+00' WHERE id IN (1, 2);
SELECT id, owner, balance, tags, updated FROM acct ORDER BY id;
DELETE FROM acct WHERE id = 6 RETURNING owner;
DELETE FROM acct WHERE owner LIKE 'z%';
SELECT count(*) FROM acct;

-- INSERT … SELECT and friends.
CREATE TABLE acct_copy (id int PRIMARY KEY, owner text, balance numeric);
INSERT INTO acct_copy SELECT id, owner, balance FROM acct WHERE balance > 0;
INSERT INTO acct_copy (id, owner) SELECT id + 100, 'copy of ' || owner FROM acct WHERE id < 3 RETURNING id;
SELECT * FROM acct_copy ORDER BY id;
INSERT INTO acct_copy VALUES (200, 'x', 1), (201, 'y', 2.5) RETURNING balance * 2;
UPDATE acct_copy SET balance = a.balance FROM acct a WHERE a.id + 100 = acct_copy.id;
SELECT id, balance FROM acct_copy WHERE id > 100 ORDER BY id;
DELETE FROM acct_copy USING acct WHERE acct.id = acct_copy.id AND acct.balance < 100;
SELECT id FROM acct_copy ORDER BY id;
UPDATE acct_copy c SET owner = c.owner || '?' WHERE c.id = 200 RETURNING c.*;
DELETE FROM acct_copy WHERE id IN (SELECT id FROM acct WHERE owner = 'alice') RETURNING *;
UPDATE acct_copy SET balance = (SELECT max(balance) FROM acct) WHERE id = 201 RETURNING balance;
INSERT INTO acct_copy VALUES (300, NULL, NULL);
UPDATE acct_copy SET (owner, balance) = ('pair', 3) WHERE id = 300 RETURNING *;

-- ON CONFLICT.
CREATE TABLE kv (k text PRIMARY KEY, v int NOT NULL, n int DEFAULT 1);
INSERT INTO kv VALUES ('a', 1), ('b', 2);
INSERT INTO kv VALUES ('a', 10) ON CONFLICT DO NOTHING;
INSERT INTO kv VALUES ('a', 10) ON CONFLICT (k) DO NOTHING RETURNING *;
INSERT INTO kv VALUES ('a', 10) ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + 1 RETURNING *;
INSERT INTO kv VALUES ('c', 3), ('b', 20) ON CONFLICT (k) DO UPDATE SET v = kv.v + excluded.v RETURNING k, v, n;
INSERT INTO kv VALUES ('b', 0) ON CONFLICT (k) DO UPDATE SET n = 99 WHERE kv.v > 100;
INSERT INTO kv AS t VALUES ('d', 4) ON CONFLICT (k) DO UPDATE SET v = t.v + 1;
INSERT INTO kv AS t VALUES ('d', 4) ON CONFLICT (k) DO UPDATE SET v = t.v + 1 RETURNING v;
SELECT * FROM kv ORDER BY k;
CREATE TABLE uq (id int PRIMARY KEY, code text UNIQUE, hits int DEFAULT 0);
INSERT INTO uq VALUES (1, 'x');
INSERT INTO uq VALUES (2, 'x') ON CONFLICT (code) DO UPDATE SET hits = uq.hits + 1;
INSERT INTO uq VALUES (1, 'y') ON CONFLICT ON CONSTRAINT uq_pkey DO NOTHING;
-- error: 23505
INSERT INTO uq VALUES (3, 'x') ON CONFLICT (id) DO NOTHING;
-- error: 42P10
INSERT INTO uq VALUES (3, 'z') ON CONFLICT (hits) DO NOTHING;
SELECT * FROM uq ORDER BY id;

-- Errors in DML.
-- error: 23502
INSERT INTO acct (id) VALUES (50);
-- error: 23502
UPDATE acct SET owner = NULL WHERE id = 1;
-- error: 23505
UPDATE acct SET id = 2 WHERE id = 1;
-- error: 42703
INSERT INTO acct (id, nope) VALUES (1, 2);
-- error: 42703
UPDATE acct SET nope = 1;
-- error: 42601
INSERT INTO acct (id, owner) VALUES (1);
-- error: 22P02
INSERT INTO acct (id, owner) VALUES ('one', 'x');
-- error: 22003
INSERT INTO acct (id, owner, balance) VALUES (60, 'x', 12345678901);
-- error: 42P01
DELETE FROM nope;
INSERT INTO acct (id, owner, balance) VALUES ('61', 'text id', '12.5');
INSERT INTO acct (id, owner, balance) VALUES (62, 'expr', 1 + 2 * 3);
INSERT INTO acct (id, owner, balance) VALUES (63, 'rounding', 1.005), (64, 'rounding', 1.015);
SELECT id, balance FROM acct WHERE id > 60 ORDER BY id;

-- Upserts and multi-row updates that depend on row values.
CREATE TABLE counters (name text PRIMARY KEY, c bigint NOT NULL DEFAULT 0);
INSERT INTO counters (name) VALUES ('hits') ON CONFLICT (name) DO UPDATE SET c = counters.c + 1;
INSERT INTO counters (name) VALUES ('hits') ON CONFLICT (name) DO UPDATE SET c = counters.c + 1;
INSERT INTO counters (name) VALUES ('hits') ON CONFLICT (name) DO UPDATE SET c = counters.c + 1 RETURNING c;
UPDATE counters SET c = c * 10 RETURNING name, c;
DELETE FROM counters;
SELECT count(*) FROM counters;
