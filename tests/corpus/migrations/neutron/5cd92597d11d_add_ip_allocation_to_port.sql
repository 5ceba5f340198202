-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/5cd92597d11d_add_ip_allocation_to_port.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
ALTER TABLE ports ADD COLUMN ip_allocation VARCHAR(16);
