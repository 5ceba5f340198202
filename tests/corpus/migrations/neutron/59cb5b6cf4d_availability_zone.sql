-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/59cb5b6cf4d_availability_zone.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
ALTER TABLE agents ADD COLUMN availability_zone VARCHAR(255);
