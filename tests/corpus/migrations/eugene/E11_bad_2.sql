-- source: kaaveland/eugene/eugene/examples/E11/bad.sql (step 2.sql)
-- label: expand
-- why: eugene E11 bad: ADD COLUMN serial (rules.md #4 E with a rewrite)
set local lock_timeout = '2s';
alter table prices
    add column id serial;
