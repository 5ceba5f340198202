-- source: gitlabhq/gitlabhq/db/post_migrate/20170828170516_remove_user_external_mail_columns.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column
ALTER TABLE "users" DROP COLUMN "external_email";
