-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/1b4c6e320f79_address_scope_support_in_subnetpool.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
ALTER TABLE subnetpools ADD COLUMN address_scope_id VARCHAR(36);
