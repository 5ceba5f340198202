-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/003_remove_unencrypted_blob_column_from_credential.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE credential DROP COLUMN blob;

DROP TRIGGER credential_update_read_only on credential;

DROP TRIGGER credential_insert_read_only on credential;

ALTER TABLE credential ALTER COLUMN encrypted_blob SET NOT NULL;

ALTER TABLE credential ALTER COLUMN key_hash SET NOT NULL;
