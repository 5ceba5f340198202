-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/19f26505c74f_auto_allocated_topology.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE auto_allocated_topologies (
    tenant_id VARCHAR(255) NOT NULL, 
    network_id VARCHAR(36) NOT NULL, 
    router_id VARCHAR(36), 
    PRIMARY KEY (tenant_id), 
    FOREIGN KEY(network_id) REFERENCES networks (id) ON DELETE CASCADE, 
    FOREIGN KEY(router_id) REFERENCES routers (id) ON DELETE SET NULL
);

ALTER TABLE externalnetworks ADD COLUMN is_default BOOLEAN DEFAULT false NOT NULL;
