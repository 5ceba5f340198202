-- source: xataio/pgroll/examples/07_drop_table.json
-- label: contract
-- why: pgroll complete (contract): DDL pgroll runs once the old version is retired; drop_table
DROP TABLE IF EXISTS "_pgroll_deleted_products";
