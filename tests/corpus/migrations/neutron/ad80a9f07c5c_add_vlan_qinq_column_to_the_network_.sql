-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/2025.1/expand/ad80a9f07c5c_add_vlan_qinq_column_to_the_network_.py
-- label: expand
-- why: Neutron alembic branch 'expand' (2025.1/expand)
ALTER TABLE networks ADD COLUMN qinq BOOLEAN;
