-- source: xataio/pgroll/examples/18_change_column_type.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; alter_column type: drop triggers, drop the old column, rename the new one
DROP FUNCTION IF EXISTS "_pgroll_trigger_reviews_rating" CASCADE;
DROP FUNCTION IF EXISTS "_pgroll_trigger_reviews__pgroll_new_rating" CASCADE;
ALTER TABLE "reviews" DROP COLUMN "rating";
ALTER TABLE "reviews" RENAME COLUMN "_pgroll_new_rating" TO "rating";
