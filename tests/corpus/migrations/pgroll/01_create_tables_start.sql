-- source: xataio/pgroll/examples/01_create_tables.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; create_table x3
CREATE TABLE "customers" ("id" integer NOT NULL PRIMARY KEY, "name" varchar(255) NOT NULL UNIQUE, "credit_card" text);
CREATE TABLE "bills" ("id" integer NOT NULL PRIMARY KEY, "date" time with time zone NOT NULL, "quantity" integer NOT NULL);
CREATE TABLE "sellers" ("name" varchar(255) NOT NULL, "zip" integer NOT NULL, "description" varchar(255), PRIMARY KEY ("name", "zip"));
