-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/2023.2/expand/6f1145bff34c_port_hints.py
-- label: expand
-- why: Neutron alembic branch 'expand' (2023.2/expand)
CREATE TABLE porthints (
    port_id VARCHAR(36) NOT NULL, 
    hints VARCHAR(4095) NOT NULL, 
    PRIMARY KEY (port_id), 
    FOREIGN KEY(port_id) REFERENCES ports (id) ON DELETE CASCADE
);
