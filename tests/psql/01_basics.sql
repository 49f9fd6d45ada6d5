-- Tables, inserts, queries, transactions, errors, as psql prints them.
\set VERBOSITY terse
CREATE TABLE users (id serial PRIMARY KEY, email varchar(40) UNIQUE NOT NULL, balance numeric(12,2) DEFAULT 0, active boolean DEFAULT true, born date);
INSERT INTO users (email, balance, born) VALUES ('ada@example.com', 10.50, '1815-12-10'), ('bob@example.com', 3, NULL);
SELECT * FROM users ORDER BY id;
UPDATE users SET balance = balance * 1.1 WHERE email LIKE 'ada%';
SELECT email, balance, active FROM users ORDER BY balance DESC;
INSERT INTO users (email) VALUES ('ada@example.com');
INSERT INTO users (email) VALUES (NULL);
INSERT INTO users (email) VALUES ('this-address-is-much-too-long@example.com');
SELECT 1/0;
SELECT * FROM missing;
BEGIN;
INSERT INTO users (email) VALUES ('carol@example.com');
SELECT count(*) FROM users;
SELECT broken FROM users;
SELECT 1;
ROLLBACK;
SELECT count(*) FROM users;
BEGIN;
DELETE FROM users WHERE email = 'bob@example.com' RETURNING id, email;
COMMIT;
SELECT id, email FROM users ORDER BY id;
SELECT 'a' || 'b' AS s, 2 + 3 * 4 AS n, 7 / 2 AS i, 7.0 / 2 AS d, true AND NULL AS b, NULL::int IS NULL AS isnull;
SELECT x, x * x AS sq FROM generate_series(1, 4) AS x;
