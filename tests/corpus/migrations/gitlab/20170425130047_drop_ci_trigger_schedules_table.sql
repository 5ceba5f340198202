-- source: gitlabhq/gitlabhq/db/post_migrate/20170425130047_drop_ci_trigger_schedules_table.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; drop_table
DROP TABLE "ci_trigger_schedules";
