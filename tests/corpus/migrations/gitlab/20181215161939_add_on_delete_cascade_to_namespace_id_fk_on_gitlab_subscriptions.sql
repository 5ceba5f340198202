-- source: nickbrandt/GitLab/ee/db/post_migrate/20181215161939_add_on_delete_cascade_to_namespace_id_fk_on_gitlab_subscriptions.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; remove_foreign_key then add_concurrent_foreign_key (NOT VALID + VALIDATE)
ALTER TABLE "gitlab_subscriptions" DROP CONSTRAINT "fk_rails_bd0c4019c3";
SET statement_timeout TO 0;
ALTER TABLE gitlab_subscriptions
ADD CONSTRAINT fk_e2595d00a1
FOREIGN KEY (namespace_id)
REFERENCES namespaces (id)
ON DELETE CASCADE
NOT VALID;
ALTER TABLE gitlab_subscriptions VALIDATE CONSTRAINT fk_e2595d00a1;
RESET ALL;
