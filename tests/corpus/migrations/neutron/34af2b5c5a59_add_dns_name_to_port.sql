-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/34af2b5c5a59_add_dns_name_to_port.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
ALTER TABLE ports ADD COLUMN dns_name VARCHAR(255);
