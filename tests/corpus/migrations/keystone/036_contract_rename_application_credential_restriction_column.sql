-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/036_contract_rename_application_credential_restriction_column.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE application_credential DROP COLUMN allow_application_credential_creation;
