-- source: nickbrandt/GitLab/ee/db/migrate/20170207150212_add_indexes_to_mirrors.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_concurrent_index x2
CREATE  INDEX CONCURRENTLY "index_projects_on_sync_time" ON "projects"  ("sync_time");
CREATE  INDEX CONCURRENTLY "index_remote_mirrors_on_sync_time" ON "remote_mirrors"  ("sync_time");
