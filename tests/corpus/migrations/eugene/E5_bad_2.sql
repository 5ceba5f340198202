-- source: kaaveland/eugene/eugene/examples/E5/bad.sql (step 2.sql)
-- label: contract
-- why: eugene E5 bad: ALTER COLUMN TYPE int -> bigint (rules.md #10 C, rewrite)
set local lock_timeout = '2s';
alter table prices
    alter price set data type bigint;
