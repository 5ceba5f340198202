-- source: xataio/pgroll/examples/18_change_column_type.json
-- label: migrate
-- why: pgroll start's backfill (pkg/backfill): touches rows in primary-key batches so the trigger fills the new column; data only
UPDATE "reviews" SET "id" = "id" WHERE ("id") IN (SELECT "id" FROM "reviews" WHERE ("id") > (0) ORDER BY "id" LIMIT 1000 FOR NO KEY UPDATE);
