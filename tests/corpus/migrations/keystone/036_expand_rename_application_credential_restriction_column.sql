-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/036_expand_rename_application_credential_restriction_column.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE application_credential ADD COLUMN unrestricted BOOLEAN;
