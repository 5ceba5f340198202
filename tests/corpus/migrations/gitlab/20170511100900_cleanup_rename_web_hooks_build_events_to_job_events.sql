-- source: gitlabhq/gitlabhq/db/post_migrate/20170511100900_cleanup_rename_web_hooks_build_events_to_job_events.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; cleanup_concurrent_column_rename (drops rename triggers and the old column)
DROP TRIGGER IF EXISTS trigger_688beaaec90d ON web_hooks;
DROP FUNCTION IF EXISTS trigger_688beaaec90d();
ALTER TABLE "web_hooks" DROP COLUMN "build_events";
