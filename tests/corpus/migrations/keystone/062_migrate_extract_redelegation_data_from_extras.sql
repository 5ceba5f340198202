-- source: openstack/keystone/keystone/common/sql/data_migration_repo/versions/062_migrate_extract_redelegation_data_from_extras.py
-- label: migrate
-- why: Keystone data_migration_repo (keystone-manage db_sync --migrate runs this repo in the migrate step)
SELECT trust.id, trust.trustor_user_id, trust.trustee_user_id, trust.project_id, trust.impersonation, trust.deleted_at, trust.expires_at, trust.remaining_uses, trust.extra FROM trust;

UPDATE trust SET redelegated_trust_id=NULL, redelegation_count=3, extra='{}' WHERE trust.id = '8a7b6c5d4e3f201918273645a5b4c3d2';
