-- source: nickbrandt/GitLab/ee/db/migrate/20170202114129_add_milestone_id_to_boards.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_column null: true
ALTER TABLE "boards" ADD "milestone_id" integer NULL;
