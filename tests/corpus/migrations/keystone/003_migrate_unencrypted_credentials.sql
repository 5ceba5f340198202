-- source: openstack/keystone/keystone/common/sql/data_migration_repo/versions/003_migrate_unencrypted_credentials.py
-- label: migrate
-- why: Keystone data_migration_repo (keystone-manage db_sync --migrate runs this repo in the migrate step)
SELECT credential.id, credential.user_id, credential.project_id, credential.blob, credential.type, credential.extra FROM credential;

UPDATE credential SET encrypted_blob='gAAAAABX...', key_hash='9b2c0d...' WHERE credential.id = '4c2e8b6f0d1a4f3e9a7b5c3d1e0f2a4b';
