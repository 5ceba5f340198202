-- source: kaaveland/eugene/eugene/examples/W14/good.sql (step 4.sql)
-- label: contract
-- why: eugene W14 good step 4: PRIMARY KEY USING INDEX on an existing table (rules.md #22 C†)
alter table authors
    add constraint authors_name_pkey
        primary key using index authors_name_key;
