-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/c415aab1c048_add_revisions_column.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
ALTER TABLE standardattributes ADD COLUMN revision_number BIGINT DEFAULT '0' NOT NULL;
