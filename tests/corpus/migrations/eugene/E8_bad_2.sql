-- source: kaaveland/eugene/eugene/examples/E8/bad.sql (step 2.sql)
-- label: contract
-- why: eugene E8 bad: ADD CONSTRAINT ... EXCLUDE (rules.md #23 C†)
set local lock_timeout = '2s';
alter table authors
    add constraint authors_name_excl
        exclude (name with =);
