-- source: kaaveland/eugene/eugene/examples/E3/bad.sql (step 1.sql)
-- label: expand
-- why: eugene E3 bad: new table with a json column (rules.md #41/#8: expand, lint only)
create table authors (
    id integer generated always as identity
        primary key,
    name text not null,
    meta json
);
