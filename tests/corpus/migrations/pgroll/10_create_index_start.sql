-- source: xataio/pgroll/examples/10_create_index.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; create_index
CREATE INDEX CONCURRENTLY "idx_fruits_name" ON "fruits" ("name");
