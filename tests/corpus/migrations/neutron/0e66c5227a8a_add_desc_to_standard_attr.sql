-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/0e66c5227a8a_add_desc_to_standard_attr.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
ALTER TABLE standardattributes ADD COLUMN description VARCHAR(255);
