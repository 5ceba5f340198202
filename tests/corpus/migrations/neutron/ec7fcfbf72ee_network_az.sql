-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/ec7fcfbf72ee_network_az.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
ALTER TABLE networks ADD COLUMN availability_zone_hints VARCHAR(255);
