-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/d3435b514502_add_device_id_index_to_port.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE INDEX ix_ports_device_id ON ports (device_id);
