-- source: kaaveland/eugene/eugene/examples/E2/bad.sql (step 2.sql)
-- label: contract
-- why: eugene E2 bad: SET NOT NULL (rules.md #14 C)
set local lock_timeout = '2s';
alter table authors
    alter column name set not null;
