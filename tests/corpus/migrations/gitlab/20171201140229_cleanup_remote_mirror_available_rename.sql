-- source: nickbrandt/GitLab/ee/db/post_migrate/20171201140229_cleanup_remote_mirror_available_rename.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; cleanup_concurrent_column_rename
DROP TRIGGER IF EXISTS trigger_3b6213e2b360 ON application_settings;
DROP FUNCTION IF EXISTS trigger_3b6213e2b360();
ALTER TABLE "application_settings" DROP COLUMN "remote_mirror_available";
