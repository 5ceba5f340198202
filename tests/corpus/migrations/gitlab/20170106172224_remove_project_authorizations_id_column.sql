-- source: gitlabhq/gitlabhq/db/post_migrate/20170106172224_remove_project_authorizations_id_column.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column
ALTER TABLE "project_authorizations" DROP COLUMN "id";
