-- source: kaaveland/eugene/eugene/examples/E9/bad.sql (step 2.sql)
-- label: expand
-- why: eugene E9 bad: nullable ADD COLUMN without lock_timeout (rules.md #1 E; the hint is about lock queueing, not phase)
alter table authors add column email text;
