-- source: gitlabhq/gitlabhq/db/post_migrate/20170526185901_remove_stage_id_index_from_builds.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_foreign_key + remove_concurrent_index
ALTER TABLE "ci_builds" DROP CONSTRAINT "fk_3a9eaa254d";
DROP INDEX CONCURRENTLY "index_ci_builds_on_stage_id";
