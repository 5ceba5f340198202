-- source: nickbrandt/GitLab/ee/db/post_migrate/20170510101016_remove_sync_time_from_project_mirrors_and_minimum_mirror_sync_time_from_application_settings.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_concurrent_index + remove_column x2
DROP INDEX CONCURRENTLY "index_projects_on_sync_time";
ALTER TABLE "projects" DROP COLUMN "sync_time";
ALTER TABLE "application_settings" DROP COLUMN "minimum_mirror_sync_time";
