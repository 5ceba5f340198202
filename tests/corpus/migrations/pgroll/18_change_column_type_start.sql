-- source: xataio/pgroll/examples/18_change_column_type.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; alter_column type: duplicate column + up trigger (the backfill is a separate step)
ALTER TABLE "reviews" ADD COLUMN "_pgroll_new_rating" integer;
CREATE OR REPLACE FUNCTION "_pgroll_trigger_reviews_rating"()
    RETURNS TRIGGER
    LANGUAGE PLPGSQL
    AS $$
    DECLARE
      "rating" "public"."reviews"."rating"%TYPE := NEW."rating";
      search_path text;
    BEGIN
      SELECT current_setting INTO search_path FROM current_setting('search_path');
      IF search_path != 'public_18_change_column_type' THEN
        NEW."_pgroll_new_rating" = CAST(rating AS integer);
      END IF;
      RETURN NEW;
    END; $$;
CREATE OR REPLACE TRIGGER "_pgroll_trigger_reviews_rating"
    BEFORE UPDATE OR INSERT
    ON "public"."reviews"
    FOR EACH ROW
    EXECUTE PROCEDURE "_pgroll_trigger_reviews_rating"();
