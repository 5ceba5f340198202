-- source: nickbrandt/GitLab/ee/db/migrate/20170306180725_add_index_to_milestone_id_on_boards.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_concurrent_index
CREATE  INDEX CONCURRENTLY "index_boards_on_milestone_id" ON "boards"  ("milestone_id");
