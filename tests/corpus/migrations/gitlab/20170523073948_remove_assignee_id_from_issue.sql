-- source: gitlabhq/gitlabhq/db/post_migrate/20170523073948_remove_assignee_id_from_issue.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_column (assignees moved to issue_assignees)
ALTER TABLE "issues" DROP COLUMN "assignee_id";
