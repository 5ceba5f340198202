-- source: xataio/pgroll/examples/09_drop_column.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; drop_column (start only hides it in the new version schema)
ALTER TABLE "fruits" DROP COLUMN "price";
DROP FUNCTION IF EXISTS "_pgroll_trigger_fruits_price" CASCADE;
