-- source: nickbrandt/GitLab/ee/db/post_migrate/20180509091305_remove_project_mirror_data_created_at_updated_at.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column x2
ALTER TABLE "project_mirror_data" DROP COLUMN "created_at";
ALTER TABLE "project_mirror_data" DROP COLUMN "updated_at";
