-- source: xataio/pgroll/examples/13_rename_column.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; alter_column rename (start only renames it in the new version's view)
ALTER TABLE "employees" RENAME COLUMN "role" TO "job_title";
