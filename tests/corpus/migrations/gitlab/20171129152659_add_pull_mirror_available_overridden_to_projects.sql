-- source: nickbrandt/GitLab/ee/db/migrate/20171129152659_add_pull_mirror_available_overridden_to_projects.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_column
ALTER TABLE "projects" ADD "pull_mirror_available_overridden" boolean;
