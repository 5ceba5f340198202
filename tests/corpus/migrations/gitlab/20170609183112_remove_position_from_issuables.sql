-- source: gitlabhq/gitlabhq/db/post_migrate/20170609183112_remove_position_from_issuables.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column x2
ALTER TABLE "issues" DROP COLUMN "position";
ALTER TABLE "merge_requests" DROP COLUMN "position";
