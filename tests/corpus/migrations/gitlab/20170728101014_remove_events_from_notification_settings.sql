-- source: gitlabhq/gitlabhq/db/post_migrate/20170728101014_remove_events_from_notification_settings.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column
ALTER TABLE "notification_settings" DROP COLUMN "events";
