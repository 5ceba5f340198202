-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/037_contract_remove_service_and_region_fk_for_registered_limit.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE registered_limit DROP CONSTRAINT registered_limit_service_id_fkey;

ALTER TABLE registered_limit DROP CONSTRAINT registered_limit_region_id_fkey;
