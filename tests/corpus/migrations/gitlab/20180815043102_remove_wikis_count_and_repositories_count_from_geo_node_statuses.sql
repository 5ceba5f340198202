-- source: nickbrandt/GitLab/ee/db/post_migrate/20180815043102_remove_wikis_count_and_repositories_count_from_geo_node_statuses.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column x2
ALTER TABLE "geo_node_statuses" DROP COLUMN "wikis_count";
ALTER TABLE "geo_node_statuses" DROP COLUMN "repositories_count";
