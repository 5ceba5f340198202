-- source: nickbrandt/GitLab/ee/db/migrate/20170106172235_add_shared_runners_minutes_limit_to_namespace.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_column
ALTER TABLE "namespaces" ADD "shared_runners_minutes_limit" integer;
