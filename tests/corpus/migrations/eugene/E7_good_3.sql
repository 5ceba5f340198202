-- source: kaaveland/eugene/eugene/examples/E7/good.sql (step 3.sql)
-- label: contract
-- why: eugene E7 good step 3: UNIQUE USING INDEX on an existing table (rules.md #21 C†: duplicates from the old app now fail)
set local lock_timeout = '2s';
alter table authors
    add constraint unique_name
        unique using index authors_name_unique;
