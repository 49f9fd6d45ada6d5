-- Settings and transactions.
\set VERBOSITY terse
SHOW TimeZone;
SET TIME ZONE 'America/New_York';
SELECT '2024-07-01 12:00:00+00'::timestamptz AS t;
RESET TimeZone;
SELECT '2024-07-01 12:00:00+00'::timestamptz AS t;
SET statement_timeout = '5s';
SHOW statement_timeout;
SET application_name = 'psql-test';
SELECT current_setting('application_name');
BEGIN READ ONLY;
CREATE TABLE nope (x int);
ROLLBACK;
SET nonexistent_setting = 1;
SELECT set_config('custom.flag', 'on', false), current_setting('custom.flag');
