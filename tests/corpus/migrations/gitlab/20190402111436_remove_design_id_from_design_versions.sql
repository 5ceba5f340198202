-- source: nickbrandt/GitLab/ee/db/post_migrate/20190402111436_remove_design_id_from_design_versions.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_foreign_key + remove_column
ALTER TABLE "design_management_versions" DROP CONSTRAINT "fk_rails_bbcb3fbb4e";
ALTER TABLE "design_management_versions" DROP COLUMN "design_management_design_id";
