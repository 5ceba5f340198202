-- source: xataio/pgroll/examples/37_create_partial_index.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; create_index with predicate
CREATE INDEX CONCURRENTLY "idx_fruits_id_gt_10" ON "fruits" ("id") WHERE id > 10;
