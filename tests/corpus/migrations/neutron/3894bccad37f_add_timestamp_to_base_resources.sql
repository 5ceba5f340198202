-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/3894bccad37f_add_timestamp_to_base_resources.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
ALTER TABLE standardattributes ADD COLUMN created_at TIMESTAMP WITHOUT TIME ZONE;

ALTER TABLE standardattributes ADD COLUMN updated_at TIMESTAMP WITHOUT TIME ZONE;
