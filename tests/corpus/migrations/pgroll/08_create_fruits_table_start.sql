-- source: xataio/pgroll/examples/08_create_fruits_table.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; create_table
CREATE TABLE "fruits" ("id" serial NOT NULL PRIMARY KEY, "name" varchar(255) NOT NULL UNIQUE, "price" decimal(10,2) NOT NULL, "producer" varchar(255) NOT NULL);
