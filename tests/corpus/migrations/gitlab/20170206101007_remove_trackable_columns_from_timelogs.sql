-- source: gitlabhq/gitlabhq/db/post_migrate/20170206101007_remove_trackable_columns_from_timelogs.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column x2
ALTER TABLE "timelogs" DROP COLUMN "trackable_id";
ALTER TABLE "timelogs" DROP COLUMN "trackable_type";
