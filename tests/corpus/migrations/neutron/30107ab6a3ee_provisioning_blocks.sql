-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/30107ab6a3ee_provisioning_blocks.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE TABLE provisioningblocks (
    standard_attr_id BIGINT NOT NULL, 
    entity VARCHAR(255) NOT NULL, 
    PRIMARY KEY (standard_attr_id, entity), 
    FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE
);
