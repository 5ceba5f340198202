-- source: kaaveland/eugene/eugene/examples/E1/good.sql (step 3.sql)
-- label: migrate
-- why: eugene E1 good step 3: VALIDATE CONSTRAINT in its own migration (rules.md #20 M)
set local lock_timeout = '2s';
alter table authors
    validate constraint name_not_null;
