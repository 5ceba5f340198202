-- source: openstack/keystone/keystone/common/sql/data_migration_repo/versions/012_migrate_add_domain_id_to_idp.py
-- label: migrate
-- why: Keystone data_migration_repo (keystone-manage db_sync --migrate runs this repo in the migrate step)
INSERT INTO project (id, name, enabled, description, domain_id, is_domain, parent_id, extra) VALUES ('5e1c0f8a9b7d4c2e8f6a4b2c0d9e7f5a', '5e1c0f8a9b7d4c2e8f6a4b2c0d9e7f5a', true, 'Auto generated federated domain for Identity Provider: myidp', '<<keystone.domain.root>>', true, NULL, '{}');

UPDATE identity_provider SET domain_id='5e1c0f8a9b7d4c2e8f6a4b2c0d9e7f5a' WHERE identity_provider.id = 'myidp';
