-- psql's \copy in both directions, text and CSV.
\set VERBOSITY terse
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2), tags text[]);
\copy items FROM 'PSQLDIR/items.csv' WITH (FORMAT csv, HEADER true)
SELECT * FROM items ORDER BY id;
\copy items TO STDOUT
\copy (SELECT id, name FROM items WHERE price > 2 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)
\copy items (id, name) FROM 'PSQLDIR/bad.csv' WITH (FORMAT csv)
SELECT count(*) FROM items;
