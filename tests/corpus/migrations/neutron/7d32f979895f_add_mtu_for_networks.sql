-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/pike/expand/7d32f979895f_add_mtu_for_networks.py
-- label: expand
-- why: Neutron alembic branch 'expand' (pike/expand)
ALTER TABLE networks ADD COLUMN mtu INTEGER;
