-- source: xataio/pgroll/examples/16_set_not_null.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; set_not_null: validate the NOT VALID check, SET NOT NULL, swap columns
ALTER TABLE "reviews" VALIDATE CONSTRAINT "_pgroll_check_not_null_review";
ALTER TABLE "reviews" ALTER COLUMN "_pgroll_new_review" SET NOT NULL;
ALTER TABLE "reviews" DROP CONSTRAINT IF EXISTS "_pgroll_check_not_null_review";
DROP FUNCTION IF EXISTS "_pgroll_trigger_reviews_review" CASCADE;
DROP FUNCTION IF EXISTS "_pgroll_trigger_reviews__pgroll_new_review" CASCADE;
ALTER TABLE "reviews" DROP COLUMN "review";
ALTER TABLE "reviews" RENAME COLUMN "_pgroll_new_review" TO "review";
