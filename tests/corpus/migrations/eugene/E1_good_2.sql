-- source: kaaveland/eugene/eugene/examples/E1/good.sql (step 2.sql)
-- label: contract
-- why: eugene E1 good step 2: ADD CONSTRAINT ... NOT VALID (rules.md #19 C†: new rows checked, old app may violate)
set local lock_timeout = '2s';
alter table authors
    add constraint name_not_null
        check (name is not null) not valid;
