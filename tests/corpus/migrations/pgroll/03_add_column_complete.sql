-- source: xataio/pgroll/examples/03_add_column.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; add_column: rename the new columns into place, validate and enforce NOT NULL, drop the helper check and triggers
ALTER TABLE "products" RENAME COLUMN "_pgroll_new_description" TO "description";
ALTER TABLE "products" RENAME COLUMN "_pgroll_new_stock" TO "stock";
ALTER TABLE "products" RENAME COLUMN "_pgroll_new_category" TO "category";
ALTER TABLE "products" VALIDATE CONSTRAINT "_pgroll_check_not_null_category";
ALTER TABLE "products" ALTER COLUMN "category" SET NOT NULL;
ALTER TABLE "products" DROP CONSTRAINT IF EXISTS "_pgroll_check_not_null_category";
DROP FUNCTION IF EXISTS "_pgroll_trigger_products__pgroll_new_description" CASCADE;
DROP FUNCTION IF EXISTS "_pgroll_trigger_products__pgroll_new_category" CASCADE;
