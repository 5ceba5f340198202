-- source: kaaveland/eugene/eugene/examples/E4/bad.sql (step 2.sql)
-- label: contract
-- why: eugene E4 bad: ADD COLUMN ... NOT NULL without default (rules.md #6 C) followed by a query under the lock
set local lock_timeout = '2s';
alter table authors
    add column email text not null;
select count(*) from authors;
