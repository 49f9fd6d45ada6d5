-- Queries: joins, subqueries, CTEs, window functions, set operations, grouping, ordering, paging.

CREATE TABLE dept (id int PRIMARY KEY, name text NOT NULL, budget numeric(10,2));
CREATE TABLE emp (id int PRIMARY KEY, name text NOT NULL, dept_id int REFERENCES dept(id), salary int, manager_id int, hired date);
INSERT INTO dept VALUES (1, 'eng', 1000.00), (2, 'sales', 500.50), (3, 'empty', NULL);
INSERT INTO emp VALUES (1, 'ann', 1, 120, NULL, '2020-01-15'), (2, 'ben', 1, 100, 1, '2021-03-01'), (3, 'cat', 2, 90, 1, '2021-07-30'), (4, 'dan', 2, 90, 3, '2022-02-02'), (5, 'eve', NULL, 70, 1, '2023-11-11'), (6, 'fay', 1, NULL, 2, NULL);

-- Joins.
SELECT e.name, d.name FROM emp e JOIN dept d ON d.id = e.dept_id ORDER BY e.id;
SELECT e.name, d.name AS dept FROM emp e LEFT JOIN dept d ON d.id = e.dept_id ORDER BY e.id;
SELECT e.name, d.name FROM emp e RIGHT JOIN dept d ON d.id = e.dept_id ORDER BY d.id, e.id;
SELECT e.name, d.name FROM emp e FULL JOIN dept d ON d.id = e.dept_id ORDER BY e.id NULLS FIRST, d.id;
SELECT * FROM emp e INNER JOIN dept d ON e.dept_id = d.id WHERE d.budget > 600 ORDER BY e.id;
SELECT e.name, m.name AS manager FROM emp e LEFT JOIN emp m ON m.id = e.manager_id ORDER BY e.id;
-- rowsort
SELECT e.name, d.name FROM emp e, dept d WHERE e.dept_id = d.id AND d.id = 2;
-- rowsort
SELECT d.name, e.name FROM dept d CROSS JOIN emp e WHERE e.id < 3;
CREATE TABLE a (id int, x text);
CREATE TABLE b (id int, y text);
CREATE TABLE scratch (id int);
INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3');
INSERT INTO b VALUES (2, 'b2'), (3, 'b3'), (4, 'b4');
SELECT * FROM a JOIN b USING (id) ORDER BY id;
SELECT * FROM a FULL JOIN b USING (id) ORDER BY id;
SELECT id, x, y FROM a LEFT JOIN b USING (id) ORDER BY id;
SELECT * FROM a NATURAL JOIN b ORDER BY id;
SELECT a.*, b.y FROM a LEFT OUTER JOIN b ON a.id = b.id AND b.y <> 'b3' ORDER BY a.id;
-- error: 42702
SELECT id FROM a JOIN b ON a.id = b.id;

-- Subqueries.
SELECT name FROM emp WHERE salary > (SELECT avg(salary) FROM emp) ORDER BY name;
SELECT name FROM emp WHERE dept_id IN (SELECT id FROM dept WHERE budget > 600) ORDER BY name;
SELECT name FROM emp WHERE dept_id NOT IN (SELECT id FROM dept WHERE budget > 600) ORDER BY name;
SELECT name FROM dept d WHERE EXISTS (SELECT 1 FROM emp e WHERE e.dept_id = d.id) ORDER BY name;
SELECT name FROM dept d WHERE NOT EXISTS (SELECT 1 FROM emp e WHERE e.dept_id = d.id);
SELECT name, (SELECT count(*) FROM emp e WHERE e.dept_id = d.id) AS n FROM dept d ORDER BY id;
SELECT t.dept_id, t.total FROM (SELECT dept_id, sum(salary) AS total FROM emp GROUP BY dept_id) t WHERE t.total > 100 ORDER BY t.dept_id;
SELECT name FROM emp WHERE salary = ANY (SELECT salary FROM emp WHERE dept_id = 2) ORDER BY id;
SELECT name FROM emp WHERE salary > ALL (SELECT salary FROM emp WHERE dept_id = 2) ORDER BY id;
-- error: 21000
SELECT (SELECT id FROM emp) AS too_many;
SELECT e.name, (SELECT m.name FROM emp m WHERE m.id = e.manager_id) AS boss FROM emp e ORDER BY e.id;
SELECT name, (SELECT d.name FROM dept d WHERE d.id = e.dept_id ORDER BY d.id) FROM emp e ORDER BY id;
SELECT (SELECT max(salary) FROM emp), (SELECT name FROM emp ORDER BY id LIMIT 1), (SELECT id FROM emp WHERE id = 99);
-- error: 21000
SELECT id FROM dept WHERE id = (SELECT dept_id FROM emp WHERE salary = 90);

-- Grouping.
SELECT dept_id, count(*), sum(salary), avg(salary), min(hired), max(name) FROM emp GROUP BY dept_id ORDER BY dept_id NULLS FIRST;
SELECT dept_id, count(salary) FROM emp GROUP BY dept_id HAVING count(*) > 1 ORDER BY dept_id;
SELECT d.name, count(e.id) AS n FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.name ORDER BY n DESC, d.name;
SELECT salary, count(*) FROM emp GROUP BY 1 ORDER BY 1 NULLS LAST;
SELECT count(DISTINCT salary), count(DISTINCT dept_id), sum(DISTINCT salary) FROM emp;
SELECT string_agg(name, ', ' ORDER BY name) FROM emp;
SELECT dept_id, string_agg(name, '/' ORDER BY id DESC) FROM emp GROUP BY dept_id ORDER BY dept_id;
SELECT array_agg(id ORDER BY id) FROM emp WHERE dept_id = 1;
SELECT bool_and(salary > 80), bool_or(salary > 110), every(id > 0) FROM emp;
SELECT count(*) FILTER (WHERE salary > 90), sum(salary) FILTER (WHERE dept_id = 1) FROM emp;
SELECT count(*), sum(salary), avg(salary), max(salary) FROM emp WHERE id > 100;
-- error: 42803
SELECT name, count(*) FROM emp;
-- error: 42803
SELECT dept_id, name FROM emp GROUP BY dept_id;
SELECT length("name") AS l, count(*) FROM emp GROUP BY length(name) ORDER BY l;
SELECT e.id, e.name, count(m.id) FROM emp e LEFT JOIN emp m ON m.manager_id = e.id GROUP BY e.id ORDER BY e.id;
SELECT d.name, sum(e.salary) FROM dept d JOIN emp e ON e.dept_id = d.id GROUP BY d.id ORDER BY d.name;
SELECT salary + 1 AS s, count(*) FROM emp GROUP BY salary + 1 ORDER BY s NULLS FIRST;
SELECT dept_id, count(*), rank() OVER (ORDER BY count(*) DESC, dept_id) FROM emp GROUP BY dept_id ORDER BY dept_id NULLS FIRST;
SELECT (SELECT count(*) FROM emp e2 WHERE e2.dept_id = d.id) AS n, d.name FROM dept d ORDER BY d.id;
SELECT dept_id, count(*) FROM emp GROUP BY dept_id HAVING max(salary) > 95 ORDER BY count(*) DESC, dept_id;
-- error: 42803
SELECT e.name, count(*) FROM emp e JOIN dept d ON d.id = e.dept_id GROUP BY d.id;
-- error: 42803
SELECT dept_id, count(*) FROM emp GROUP BY dept_id ORDER BY salary;
-- error: 42803
SELECT dept_id FROM emp GROUP BY dept_id HAVING salary > 1;

-- Ordering and paging.
SELECT name, salary FROM emp ORDER BY salary DESC NULLS LAST, name;
SELECT name, salary FROM emp ORDER BY salary ASC NULLS FIRST, name;
SELECT name, salary FROM emp ORDER BY salary, name;
SELECT name, salary FROM emp ORDER BY salary DESC, name;
SELECT name FROM emp ORDER BY id LIMIT 2;
SELECT name FROM emp ORDER BY id LIMIT 2 OFFSET 3;
SELECT name FROM emp ORDER BY id OFFSET 4;
SELECT name FROM emp ORDER BY id FETCH FIRST 3 ROWS ONLY;
SELECT name FROM emp ORDER BY id OFFSET 1 ROWS FETCH NEXT 1 ROW ONLY;
SELECT name FROM emp ORDER BY id LIMIT ALL;
SELECT name AS n FROM emp ORDER BY n DESC LIMIT 1;
SELECT name, salary FROM emp ORDER BY 2 DESC NULLS LAST, 1 LIMIT 3;
SELECT DISTINCT dept_id FROM emp ORDER BY dept_id NULLS FIRST;
SELECT DISTINCT ON (dept_id) dept_id, name, salary FROM emp ORDER BY dept_id, salary DESC NULLS LAST, name;
SELECT DISTINCT ON (salary) salary, name FROM emp ORDER BY salary NULLS FIRST, name DESC;

-- Set operations.
SELECT id FROM a UNION SELECT id FROM b ORDER BY id;
SELECT id FROM a UNION ALL SELECT id FROM b ORDER BY id;
SELECT 1, 2 UNION SELECT 3, 4 ORDER BY 1 DESC;
SELECT 1 AS x, 2 AS x UNION SELECT 3, 4 ORDER BY 2;
SELECT id FROM a INTERSECT SELECT id FROM b ORDER BY 1;
SELECT id FROM a EXCEPT SELECT id FROM b ORDER BY 1;
SELECT x FROM a UNION SELECT y FROM b ORDER BY 1 DESC LIMIT 3;
SELECT 1 AS n UNION SELECT 2 UNION SELECT 1 ORDER BY n;
-- rowsort
SELECT id, x FROM a UNION ALL SELECT id, y FROM b;
-- error: 42601
SELECT id FROM a UNION SELECT id, y FROM b;

-- CTEs.
WITH rich AS (SELECT * FROM emp WHERE salary >= 100) SELECT name FROM rich ORDER BY name;
WITH d AS (SELECT id, name FROM dept), e AS (SELECT dept_id, count(*) AS n FROM emp GROUP BY dept_id) SELECT d.name, coalesce(e.n, 0) FROM d LEFT JOIN e ON e.dept_id = d.id ORDER BY d.id;
WITH RECURSIVE nums(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 5) SELECT n, n * n FROM nums;
WITH RECURSIVE chain AS (SELECT id, name, manager_id, 0 AS depth FROM emp WHERE manager_id IS NULL UNION ALL SELECT e.id, e.name, e.manager_id, c.depth + 1 FROM emp e JOIN chain c ON e.manager_id = c.id) SELECT name, depth FROM chain ORDER BY depth, name;
-- bedrock-error: 0A000 data-modifying statements in WITH are not translated (SQLite has no such CTEs)
WITH moved AS (DELETE FROM b WHERE id = 4 RETURNING *) SELECT * FROM moved;
-- bedrock-error: 0A000 data-modifying statements in WITH are not translated (SQLite has no such CTEs)
WITH ins AS (INSERT INTO scratch VALUES (5) RETURNING id) SELECT id * 10 FROM ins;

-- Window functions.
SELECT name, salary, row_number() OVER (ORDER BY salary DESC NULLS LAST, name) FROM emp ORDER BY name;
SELECT name, dept_id, rank() OVER (PARTITION BY dept_id ORDER BY salary DESC), dense_rank() OVER (ORDER BY salary) FROM emp ORDER BY id;
SELECT name, salary, sum(salary) OVER (ORDER BY id) AS running, avg(salary) OVER () AS overall FROM emp ORDER BY id;
SELECT name, lag(name) OVER (ORDER BY id), lead(name, 2) OVER (ORDER BY id), first_value(name) OVER (PARTITION BY dept_id ORDER BY id) FROM emp ORDER BY id;
SELECT name, count(*) OVER (PARTITION BY dept_id) AS n, max(salary) OVER w FROM emp WINDOW w AS (PARTITION BY dept_id) ORDER BY id;
SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM emp ORDER BY id;
SELECT name, ntile(2) OVER (ORDER BY id), percent_rank() OVER (ORDER BY id), cume_dist() OVER (ORDER BY id) FROM emp ORDER BY id;

-- Misc query forms.
SELECT 1, 'two', 3.0, NULL, true;
SELECT 1 AS one, 2 AS "Two", 3 "three";
SELECT * FROM (VALUES (1, 'one'), (2, 'two')) AS v(n, word) ORDER BY n;
VALUES (1, 'a'), (2, 'b');
SELECT count(*) FROM emp WHERE hired BETWEEN '2021-01-01' AND '2022-12-31';
SELECT name FROM emp WHERE salary IS NULL OR hired IS NULL;
SELECT e.* FROM emp e WHERE e.id = 3;
SELECT emp.name, dept.name FROM emp, dept WHERE emp.dept_id = dept.id AND emp.id = 1;
SELECT name FROM emp WHERE id = 1 FOR UPDATE;
SELECT e.name FROM emp e JOIN dept d ON d.id = e.dept_id WHERE e.id = 2 FOR UPDATE OF e;
SELECT name FROM emp WHERE id = 1 FOR SHARE;
SELECT * FROM generate_series(1, 5);
SELECT g, g * 2 FROM generate_series(10, 0, -3) AS g;
SELECT count(*) FROM generate_series(1, 100) s(i) WHERE i % 7 = 0;
-- bedrock-error: 0A000 set-returning functions in the select list are refused; generate_series works in FROM
SELECT generate_series(1, 3) AS n;
SELECT * FROM public.emp WHERE id = 1;
SELECT pg_catalog.length('ABC'), pg_catalog.count(*) FROM public.dept;
SELECT x.id FROM a x WHERE x.id IN (1, 2, 5) ORDER BY x.id DESC;
SELECT name FROM emp WHERE dept_id = 1 AND (salary > 110 OR salary IS NULL) ORDER BY id;
SELECT CASE WHEN salary >= 100 THEN 'high' WHEN salary >= 80 THEN 'mid' ELSE 'low' END AS band, count(*) FROM emp GROUP BY 1 ORDER BY 1;
