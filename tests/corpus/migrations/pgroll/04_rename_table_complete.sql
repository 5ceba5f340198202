-- source: xataio/pgroll/examples/04_rename_table.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; rename_table
ALTER TABLE "customers" RENAME TO "clients";
