-- source: xataio/pgroll/examples/20_create_posts_table.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; create_table
CREATE TABLE "posts" ("id" serial NOT NULL PRIMARY KEY, "title" varchar(255) NOT NULL, "user_id" integer);
