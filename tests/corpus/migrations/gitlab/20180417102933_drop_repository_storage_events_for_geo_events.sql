-- source: nickbrandt/GitLab/ee/db/post_migrate/20180417102933_drop_repository_storage_events_for_geo_events.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column on four tables inside one transaction
BEGIN;
ALTER TABLE "geo_hashed_storage_migrated_events" DROP COLUMN "repository_storage_path";
ALTER TABLE "geo_repository_created_events" DROP COLUMN "repository_storage_path";
ALTER TABLE "geo_repository_deleted_events" DROP COLUMN "repository_storage_path";
ALTER TABLE "geo_repository_renamed_events" DROP COLUMN "repository_storage_path";
COMMIT;
