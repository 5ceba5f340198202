-- source: nickbrandt/GitLab/ee/db/post_migrate/20180605213516_fix_partial_index_to_project_repository_states_checksum_columns.rb
-- label: contract
-- why: GitLab post-deployment migration (db/post_migrate, runs after the new code is live): contract step; replaces a partial index (remove_concurrent_index_by_name + add_concurrent_index)
DROP INDEX CONCURRENTLY "idx_repository_states_on_checksums_partial";
CREATE  INDEX CONCURRENTLY "idx_repository_states_outdated_checksums" ON "project_repository_states"  ("project_id") WHERE (repository_verification_checksum IS NULL AND last_repository_verification_failure is NULL) OR (wiki_verification_checksum IS NULL AND last_wiki_verification_failure IS NULL);
