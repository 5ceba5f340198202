-- source: nickbrandt/GitLab/ee/db/migrate/20160601102211_create_path_locks_table.rb
-- label: expand
-- why: Rails create_table in db/migrate (regular migration = expand): new table with indexes and FKs
CREATE TABLE "path_locks" ("id" serial primary key, "path" character varying NOT NULL, "project_id" integer, "user_id" integer, "created_at" timestamp NOT NULL, "updated_at" timestamp NOT NULL);
CREATE  INDEX  "index_path_locks_on_path" ON "path_locks"  ("path");
CREATE  INDEX  "index_path_locks_on_project_id" ON "path_locks"  ("project_id");
CREATE  INDEX  "index_path_locks_on_user_id" ON "path_locks"  ("user_id");
ALTER TABLE "path_locks" ADD CONSTRAINT "fk_rails_5fcdf3a2b6"
FOREIGN KEY ("project_id")
  REFERENCES "projects" ("id")
;
ALTER TABLE "path_locks" ADD CONSTRAINT "fk_rails_762cdcf942"
FOREIGN KEY ("user_id")
  REFERENCES "users" ("id")
;
