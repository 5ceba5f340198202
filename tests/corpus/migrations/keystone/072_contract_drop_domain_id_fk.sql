-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/072_contract_drop_domain_id_fk.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE "user" DROP CONSTRAINT user_domain_id_fkey;

ALTER TABLE identity_provider DROP CONSTRAINT identity_provider_domain_id_fkey;
