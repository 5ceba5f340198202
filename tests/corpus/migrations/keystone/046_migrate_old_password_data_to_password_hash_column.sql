-- source: openstack/keystone/keystone/common/sql/data_migration_repo/versions/046_migrate_old_password_data_to_password_hash_column.py
-- label: migrate
-- why: Keystone data_migration_repo (keystone-manage db_sync --migrate runs this repo in the migrate step)
UPDATE password SET password_hash=password.password WHERE password.password_hash IS NULL;
