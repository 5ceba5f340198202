-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/012_contract_add_domain_id_to_idp.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE identity_provider ALTER COLUMN domain_id SET NOT NULL;

ALTER TABLE identity_provider ADD CONSTRAINT identity_provider_domain_id_key UNIQUE (domain_id);

DROP TRIGGER idp_insert_read_only on identity_provider;
