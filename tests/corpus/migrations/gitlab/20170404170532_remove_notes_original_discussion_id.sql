-- source: gitlabhq/gitlabhq/db/post_migrate/20170404170532_remove_notes_original_discussion_id.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column
ALTER TABLE "notes" DROP COLUMN "original_discussion_id";
