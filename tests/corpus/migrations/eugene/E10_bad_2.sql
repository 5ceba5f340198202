-- source: kaaveland/eugene/eugene/examples/E10/bad.sql (step 2.sql)
-- label: contract
-- why: eugene E10 bad: ADD COLUMN jsonb plus ALTER COLUMN TYPE int -> bigint (rules.md #10 C)
set local lock_timeout = '2s';
alter table authors add column meta jsonb;

-- eugene: ignore E5, E4
-- causes table rewrite, but this example isnt't about that
alter table prices
    alter price set data type bigint;
