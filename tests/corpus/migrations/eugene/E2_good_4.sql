-- source: kaaveland/eugene/eugene/examples/E2/good.sql (step 4.sql)
-- label: contract
-- why: eugene E2 good step 4: SET NOT NULL after a validated check is cheap but still restricts writers (rules.md #14 C)
set local lock_timeout = '2s';
-- eugene trace knows name has a valid not null check, but eugene lint doesn't
-- eugene: ignore E2
alter table authors
    alter name set not null;
