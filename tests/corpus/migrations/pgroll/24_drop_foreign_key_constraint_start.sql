-- source: xataio/pgroll/examples/24_drop_foreign_key_constraint.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; drop_constraint: duplicate column without the FK + up trigger
ALTER TABLE "posts" ADD COLUMN "_pgroll_new_user_id" integer;
CREATE OR REPLACE FUNCTION "_pgroll_trigger_posts_user_id"()
    RETURNS TRIGGER
    LANGUAGE PLPGSQL
    AS $$
    DECLARE
      "user_id" "public"."posts"."user_id"%TYPE := NEW."user_id";
      search_path text;
    BEGIN
      SELECT current_setting INTO search_path FROM current_setting('search_path');
      IF search_path != 'public_24_drop_foreign_key_constraint' THEN
        NEW."_pgroll_new_user_id" = user_id;
      END IF;
      RETURN NEW;
    END; $$;
CREATE OR REPLACE TRIGGER "_pgroll_trigger_posts_user_id"
    BEFORE UPDATE OR INSERT
    ON "public"."posts"
    FOR EACH ROW
    EXECUTE PROCEDURE "_pgroll_trigger_posts_user_id"();
