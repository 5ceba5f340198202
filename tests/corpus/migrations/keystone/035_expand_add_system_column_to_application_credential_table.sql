-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/035_expand_add_system_column_to_application_credential_table.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE application_credential ADD COLUMN system VARCHAR(64);
