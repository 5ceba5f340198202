-- source: nickbrandt/GitLab/ee/db/post_migrate/20170427111108_remove_sync_time_column_from_remote_mirrors.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_concurrent_index + remove_column
DROP INDEX CONCURRENTLY "index_remote_mirrors_on_sync_time";
ALTER TABLE "remote_mirrors" DROP COLUMN "sync_time";
