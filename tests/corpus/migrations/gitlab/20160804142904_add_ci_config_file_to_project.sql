-- source: gitlabhq/gitlabhq/db/migrate/20160804142904_add_ci_config_file_to_project.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_column
ALTER TABLE "projects" ADD "ci_config_path" character varying;
