-- source: nickbrandt/GitLab/ee/db/migrate/20170208144550_add_index_to_mirrors_last_update_at_fields.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_concurrent_index x2
CREATE  INDEX CONCURRENTLY "index_projects_on_mirror_last_successful_update_at" ON "projects"  ("mirror_last_successful_update_at");
CREATE  INDEX CONCURRENTLY "index_remote_mirrors_on_last_successful_update_at" ON "remote_mirrors"  ("last_successful_update_at");
