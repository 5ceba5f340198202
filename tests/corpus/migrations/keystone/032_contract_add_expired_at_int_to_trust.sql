-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/032_contract_add_expired_at_int_to_trust.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
UPDATE trust SET expires_at_int=1514764800000000 WHERE trust.id = 'f3e2d1c0b9a8476594a3b2c1d0e9f8a7';

ALTER TABLE trust DROP CONSTRAINT duplicate_trust_constraint;
