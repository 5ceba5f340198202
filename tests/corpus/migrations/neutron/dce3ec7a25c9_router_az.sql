-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/dce3ec7a25c9_router_az.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
ALTER TABLE router_extra_attributes ADD COLUMN availability_zone_hints VARCHAR(255);
