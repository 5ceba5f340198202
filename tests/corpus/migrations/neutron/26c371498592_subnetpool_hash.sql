-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/26c371498592_subnetpool_hash.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
ALTER TABLE subnetpools ADD COLUMN hash VARCHAR(36) DEFAULT '' NOT NULL;
