-- source: kaaveland/eugene/eugene/examples/E1/bad.sql (step 2.sql)
-- label: contract
-- why: eugene E1 bad: CHECK without NOT VALID on an existing table (rules.md #17 C†; doc: scans under ACCESS EXCLUSIVE)
set local lock_timeout = '2s';
alter table authors
    add constraint name_not_null
        check (name is not null);
