-- source: kaaveland/eugene/eugene/examples/E7/good.sql (step 2.sql)
-- label: contract
-- why: eugene E7 good step 2: CREATE UNIQUE INDEX CONCURRENTLY on an existing table (rules.md #27 C†)
create unique index concurrently
    authors_name_unique on authors(name);
