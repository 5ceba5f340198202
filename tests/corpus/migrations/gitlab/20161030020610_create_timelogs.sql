-- source: nickbrandt/GitLab/ee/db/migrate/20161030020610_create_timelogs.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; create_table + add_index on the new table
CREATE TABLE "timelogs" ("id" serial primary key, "time_spent" integer NOT NULL, "trackable_id" integer, "trackable_type" character varying, "user_id" integer, "created_at" timestamp NOT NULL, "updated_at" timestamp NOT NULL);
CREATE  INDEX  "index_timelogs_on_trackable_type_and_trackable_id" ON "timelogs"  ("trackable_type", "trackable_id");
CREATE  INDEX  "index_timelogs_on_user_id" ON "timelogs"  ("user_id");
