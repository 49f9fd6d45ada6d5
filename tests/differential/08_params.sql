-- Bound parameters (extended protocol only): the types Describe reports for $n, inferred from
-- context as PostgreSQL does, and the values bound in text format.

CREATE TABLE pt (id int PRIMARY KEY, name text, price numeric(10,2), at timestamptz, flag bool, big bigint, tags text[], data jsonb, u uuid, d date);
-- params: 1 | one | 9.99 | 2024-01-01 10:00:00+00 | t | 9000000000 | {a,b} | {"k": 1} | a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 | 2024-02-29
INSERT INTO pt VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);
-- params: 2 | two | 0.5
INSERT INTO pt (id, name, price) VALUES ($1, $2, $3) RETURNING id, price;
-- params: 1
SELECT * FROM pt WHERE id = $1;
-- params: one
SELECT id FROM pt WHERE name = $1;
-- params: 5
SELECT id FROM pt WHERE price < $1 ORDER BY id;
-- params: 2024-01-01 09:00:00+00
SELECT id FROM pt WHERE at > $1;
-- params: 1
SELECT id FROM pt ORDER BY id LIMIT $1;
-- params: 1 | 1
SELECT id FROM pt ORDER BY id LIMIT $1 OFFSET $2;
-- params: 42
SELECT $1::int + 1;
-- params: 2.50
SELECT $1::numeric * 2;
-- params: hello
SELECT $1::text || '!';
-- params: {1,2}
SELECT id FROM pt WHERE id = ANY($1) ORDER BY id;
-- params: {one,zzz}
SELECT id FROM pt WHERE name = ANY($1::text[]);
-- params: 1.25 | 2
UPDATE pt SET price = price + $1 WHERE id = $2 RETURNING price;
-- params: f | 1
UPDATE pt SET flag = $1 WHERE id = $2;
-- params: NULL | 2
UPDATE pt SET name = $1 WHERE id = $2 RETURNING name IS NULL;
-- params: 3 | t%
SELECT count(*) FROM pt WHERE id < $1 AND name LIKE $2;
-- params: abc
SELECT $1;
-- params: 7
SELECT $1::bigint, $1::int4;
-- params: 2024-03-01
SELECT id FROM pt WHERE d < $1;
-- params: 1
DELETE FROM pt WHERE id = $1 RETURNING name;
-- params: 3 | x
INSERT INTO pt (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING *;
-- params: 3 | y
INSERT INTO pt (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING name;
-- params: 2
SELECT coalesce(name, 'none'), price FROM pt WHERE id = $1;
-- error: 22P02
-- params: notanumber
SELECT * FROM pt WHERE id = $1;
-- error: 23505
-- params: 3
INSERT INTO pt (id) VALUES ($1);
-- error: 22003
-- params: 9 | big | 123456789012
INSERT INTO pt (id, name, price) VALUES ($1, $2, $3);
-- params: toolong
SELECT $1::varchar(3), $1::char(2), length($1);
SELECT id, name, price, flag, big, tags, data, u, d FROM pt ORDER BY id;

-- Parameter types inferred from their context.
-- params: 1 | 2
SELECT id FROM pt WHERE id IN ($1, $2) ORDER BY id;
-- params: 1 | 3
SELECT id FROM pt WHERE id BETWEEN $1 AND $2 ORDER BY id;
-- params: fallback
SELECT coalesce(name, $1) FROM pt ORDER BY id;
-- params: x%
SELECT count(*) FROM pt WHERE name LIKE $1;
-- params: >
SELECT $1 || name FROM pt WHERE name IS NOT NULL ORDER BY id;
-- error: 42725
-- params: 5
SELECT d + $1 FROM pt WHERE d IS NOT NULL;
-- params: 5
SELECT d + $1::int FROM pt WHERE d IS NOT NULL;
-- error: 42725
SELECT '2024-01-01'::date + '1';
-- params: 1 day
SELECT at - $1::interval FROM pt WHERE at IS NOT NULL;
-- params: 2000-01-01 00:00:00
SELECT count(*) FROM pt WHERE at > $1;
-- params: 41
SELECT $1 + 1;
-- params: 7
SELECT price * $1 FROM pt WHERE price IS NOT NULL ORDER BY id;
-- params: NULL
SELECT $1::text IS NULL;
-- params: t
SELECT CASE WHEN $1 THEN 'yes' ELSE 'no' END;
-- params: {"k": 1}
SELECT count(*) FROM pt WHERE data = $1;
-- params: x
SELECT $1 = name FROM pt ORDER BY id;
