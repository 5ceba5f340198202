-- source: openstack/keystone/keystone/common/sql/data_migration_repo/versions/015_migrate_update_federated_user_domain.py
-- label: migrate
-- why: Keystone data_migration_repo (keystone-manage db_sync --migrate runs this repo in the migrate step)
SELECT federated_user.user_id, identity_provider.domain_id FROM federated_user JOIN identity_provider ON federated_user.idp_id = identity_provider.id;

UPDATE "user" SET domain_id='5e1c0f8a9b7d4c2e8f6a4b2c0d9e7f5a' WHERE "user".domain_id IS NULL AND "user".id = 'c0ffee00c0ffee00c0ffee00c0ffee00';
