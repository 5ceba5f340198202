-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/063_contract_drop_limit_columns.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE "limit" DROP COLUMN service_id;

ALTER TABLE "limit" DROP COLUMN region_id;

ALTER TABLE "limit" DROP COLUMN resource_name;
