-- source: openstack/keystone/keystone/common/sql/data_migration_repo/versions/014_migrate_add_domain_id_to_user_table.py
-- label: migrate
-- why: Keystone data_migration_repo (keystone-manage db_sync --migrate runs this repo in the migrate step)
SELECT "user".id, local_user.domain_id FROM "user" JOIN local_user ON "user".id = local_user.user_id WHERE "user".domain_id IS NULL;

UPDATE "user" SET domain_id='default' WHERE "user".id = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

SELECT "user".id, nonlocal_user.domain_id FROM "user" JOIN nonlocal_user ON "user".id = nonlocal_user.user_id WHERE "user".domain_id IS NULL;

UPDATE "user" SET domain_id='federated' WHERE "user".id = '0f9e8d7c6b5a49382716a5b4c3d2e1f0';
