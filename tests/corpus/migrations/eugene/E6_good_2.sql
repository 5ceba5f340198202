-- source: kaaveland/eugene/eugene/examples/E6/good.sql (step 2.sql)
-- label: expand
-- why: eugene E6 good: CREATE INDEX CONCURRENTLY (rules.md #25/#26 E)
create index concurrently
    authors_name_idx on authors (name);
