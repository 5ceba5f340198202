-- source: nickbrandt/GitLab/ee/db/migrate/20170106172236_create_table_namespace_statistics.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; create_table with a unique index and FK on the new table
CREATE TABLE "namespace_statistics" ("id" serial primary key, "namespace_id" integer NOT NULL, "shared_runners_seconds" integer DEFAULT 0 NOT NULL, "shared_runners_seconds_last_reset" timestamp);
CREATE UNIQUE INDEX  "index_namespace_statistics_on_namespace_id" ON "namespace_statistics"  ("namespace_id");
ALTER TABLE "namespace_statistics" ADD CONSTRAINT "fk_rails_0f5d2d8f1f"
FOREIGN KEY ("namespace_id")
  REFERENCES "namespaces" ("id")
 ON DELETE CASCADE;
