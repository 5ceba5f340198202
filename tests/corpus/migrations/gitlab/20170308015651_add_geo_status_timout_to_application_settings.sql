-- source: nickbrandt/GitLab/ee/db/migrate/20170308015651_add_geo_status_timout_to_application_settings.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_column with a constant default
ALTER TABLE "application_settings" ADD "geo_status_timeout" integer DEFAULT 10;
