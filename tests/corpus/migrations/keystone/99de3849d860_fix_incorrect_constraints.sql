-- source: openstack/keystone/keystone/common/sql/migrations/versions/bobcat/contract/99de3849d860_fix_incorrect_constraints.py
-- label: contract
-- why: Keystone alembic branch 'contract' (bobcat/contract); keystone-manage db_sync --contract
ALTER TABLE access_rule DROP CONSTRAINT access_rule_external_id_key;

ALTER TABLE trust DROP CONSTRAINT duplicate_trust_constraint_expanded;
