-- source: xataio/pgroll/examples/21_add_foreign_key_constraint.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; alter_column references: validate the FK on the duplicate column and swap columns
ALTER TABLE "posts" VALIDATE CONSTRAINT "fk_users_id";
DROP FUNCTION IF EXISTS "_pgroll_trigger_posts_user_id" CASCADE;
DROP FUNCTION IF EXISTS "_pgroll_trigger_posts__pgroll_new_user_id" CASCADE;
ALTER TABLE "posts" DROP COLUMN "user_id";
ALTER TABLE "posts" RENAME COLUMN "_pgroll_new_user_id" TO "user_id";
