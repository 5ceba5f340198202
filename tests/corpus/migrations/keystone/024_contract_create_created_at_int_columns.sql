-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/024_contract_create_created_at_int_columns.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
UPDATE password SET created_at_int=1497975321000000, expires_at_int=1505751321000000 WHERE password.id = 17;

ALTER TABLE password ALTER COLUMN created_at_int SET NOT NULL;

ALTER TABLE password ALTER COLUMN created_at_int SET DEFAULT '0';
