-- source: nickbrandt/GitLab/ee/db/migrate/20170403141442_add_elasticsearch_experimental_indexer_to_application_settings.rb
-- label: expand
-- why: GitLab regular migration (db/migrate, runs before the new code is deployed): expand step; add_column
ALTER TABLE "application_settings" ADD "elasticsearch_experimental_indexer" boolean;
