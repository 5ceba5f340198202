-- source: xataio/pgroll/examples/11_drop_index.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; drop_index
DROP INDEX CONCURRENTLY IF EXISTS "idx_fruits_name";
