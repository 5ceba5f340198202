-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/002_password_created_at_not_nullable.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE password DROP COLUMN created_at;

ALTER TABLE password ADD COLUMN created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL;
