-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/047_contract_expand_update_pk_for_unified_limit.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE "limit" DROP CONSTRAINT limit_project_id_fkey;

ALTER TABLE "limit" DROP CONSTRAINT limit_project_id_service_id_region_id_resource_name_key;

ALTER TABLE registered_limit DROP CONSTRAINT registered_limit_service_id_region_id_resource_name_key;
