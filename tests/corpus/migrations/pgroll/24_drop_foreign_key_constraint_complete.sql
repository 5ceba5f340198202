-- source: xataio/pgroll/examples/24_drop_foreign_key_constraint.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; drop_constraint: drop the old column that carries the FK and swap
DROP FUNCTION IF EXISTS "_pgroll_trigger_posts_user_id" CASCADE;
DROP FUNCTION IF EXISTS "_pgroll_trigger_posts__pgroll_new_user_id" CASCADE;
ALTER TABLE "posts" DROP COLUMN "user_id";
ALTER TABLE "posts" RENAME COLUMN "_pgroll_new_user_id" TO "user_id";
