-- source: gitlabhq/gitlabhq/db/post_migrate/20170213172852_remove_theme_id_from_users.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column
ALTER TABLE "users" DROP COLUMN "theme_id";
