-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/054_contract_drop_old_passoword_column.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE password DROP COLUMN password;
