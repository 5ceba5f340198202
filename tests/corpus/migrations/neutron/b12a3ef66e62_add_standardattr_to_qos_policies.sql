-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/b12a3ef66e62_add_standardattr_to_qos_policies.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
INSERT INTO standardattributes (resource_type, description) VALUES ('qos_policies', 'gold') RETURNING standardattributes.id;

UPDATE qos_policies SET standard_attr_id=1 WHERE qos_policies.id = '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4';

ALTER TABLE qos_policies ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE qos_policies ADD CONSTRAINT uniq_qos_policies0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE qos_policies DROP COLUMN description;

ALTER TABLE qos_policies ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;
