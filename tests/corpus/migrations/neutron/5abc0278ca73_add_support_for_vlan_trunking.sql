-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/5abc0278ca73_add_support_for_vlan_trunking.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE TABLE trunks (
    admin_state_up BOOLEAN DEFAULT true NOT NULL, 
    tenant_id VARCHAR(255), 
    id VARCHAR(36) NOT NULL, 
    name VARCHAR(255), 
    port_id VARCHAR(36) NOT NULL, 
    status VARCHAR(16) DEFAULT 'ACTIVE' NOT NULL, 
    standard_attr_id BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(port_id) REFERENCES ports (id) ON DELETE CASCADE, 
    FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE, 
    UNIQUE (port_id), 
    UNIQUE (standard_attr_id)
);

CREATE INDEX ix_trunks_tenant_id ON trunks (tenant_id);

CREATE TABLE subports (
    port_id VARCHAR(36) NOT NULL, 
    trunk_id VARCHAR(36) NOT NULL, 
    segmentation_type VARCHAR(32) NOT NULL, 
    segmentation_id INTEGER NOT NULL, 
    PRIMARY KEY (port_id), 
    FOREIGN KEY(port_id) REFERENCES ports (id) ON DELETE CASCADE, 
    FOREIGN KEY(trunk_id) REFERENCES trunks (id) ON DELETE CASCADE, 
    CONSTRAINT uniq_subport0trunk_id0segmentation_type0segmentation_id UNIQUE (trunk_id, segmentation_type, segmentation_id)
);
