-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/a5648cfeeadf_add_subnet_service_types.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE TABLE subnet_service_types (
    subnet_id VARCHAR(36) NOT NULL, 
    service_type VARCHAR(255) NOT NULL, 
    PRIMARY KEY (subnet_id, service_type), 
    FOREIGN KEY(subnet_id) REFERENCES subnets (id) ON DELETE CASCADE
);
