-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/pike/expand/804a3c76314c_add_data_plane_status_to_port.py
-- label: expand
-- why: Neutron alembic branch 'expand' (pike/expand)
CREATE TABLE portdataplanestatuses (
    port_id VARCHAR(36) NOT NULL, 
    data_plane_status VARCHAR(16), 
    PRIMARY KEY (port_id), 
    FOREIGN KEY(port_id) REFERENCES ports (id) ON DELETE CASCADE
);
