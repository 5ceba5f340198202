-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/32e5974ada25_add_neutron_resources_table.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE standardattributes (
    id BIGSERIAL NOT NULL, 
    resource_type VARCHAR(255) NOT NULL, 
    PRIMARY KEY (id)
);

ALTER TABLE ports ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE networks ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE subnets ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE subnetpools ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE securitygroups ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE floatingips ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE routers ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE securitygrouprules ADD COLUMN standard_attr_id BIGINT;
