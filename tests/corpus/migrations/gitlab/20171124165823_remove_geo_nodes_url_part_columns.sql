-- source: nickbrandt/GitLab/ee/db/post_migrate/20171124165823_remove_geo_nodes_url_part_columns.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column x4
ALTER TABLE "geo_nodes" DROP COLUMN "schema";
ALTER TABLE "geo_nodes" DROP COLUMN "host";
ALTER TABLE "geo_nodes" DROP COLUMN "port";
ALTER TABLE "geo_nodes" DROP COLUMN "relative_url_root";
