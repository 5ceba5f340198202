-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/67daae611b6e_add_standard_attr_to_qos_policies.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
ALTER TABLE qos_policies ADD COLUMN standard_attr_id BIGINT;
