-- source: kaaveland/eugene/eugene/examples/E5/good.sql (step 2.sql)
-- label: expand
-- why: eugene E5 good step 2: add the nullable replacement column (rules.md #1 E)
set local lock_timeout = '2s';
alter table prices
    add column new_price bigint;
