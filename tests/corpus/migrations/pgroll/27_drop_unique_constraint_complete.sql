-- source: xataio/pgroll/examples/27_drop_unique_constraint.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; drop_constraint (unique): drop the old column that carries the unique constraint and swap
DROP FUNCTION IF EXISTS "_pgroll_trigger_reviews_review" CASCADE;
DROP FUNCTION IF EXISTS "_pgroll_trigger_reviews__pgroll_new_review" CASCADE;
ALTER TABLE "reviews" DROP COLUMN "review";
ALTER TABLE "reviews" RENAME COLUMN "_pgroll_new_review" TO "review";
