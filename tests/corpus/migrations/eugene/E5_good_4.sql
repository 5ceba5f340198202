-- source: kaaveland/eugene/eugene/examples/E5/good.sql (step 4.sql)
-- label: contract
-- why: eugene E5 good step 4: validate, drop the old column and rename the new one into place (rules.md #31/#34 C)
set local lock_timeout = '2s';
alter table prices
    validate constraint check_new_price_not_null,
    drop column price;
-- eugene: ignore E4
-- this has to run in the same transaction as dropping the old price column
alter table prices
    rename column new_price to price;
