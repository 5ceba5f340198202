-- source: kaaveland/eugene/eugene/examples/E1/bad.sql (step 1.sql)
-- label: expand
-- why: eugene example step 1: new table (rules.md #41 E)
create table authors(
    id integer generated always as identity
        primary key,
    name text
);
