-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/48153cb5f051_qos_db_changes.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE qos_policies (
    id VARCHAR(36) NOT NULL, 
    name VARCHAR(255), 
    description VARCHAR(255), 
    shared BOOLEAN NOT NULL, 
    tenant_id VARCHAR(255), 
    PRIMARY KEY (id)
);

CREATE INDEX ix_qos_policies_tenant_id ON qos_policies (tenant_id);

CREATE TABLE qos_network_policy_bindings (
    policy_id VARCHAR(36) NOT NULL, 
    network_id VARCHAR(36) NOT NULL, 
    FOREIGN KEY(policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE, 
    UNIQUE (network_id), 
    FOREIGN KEY(network_id) REFERENCES networks (id) ON DELETE CASCADE
);

CREATE TABLE qos_port_policy_bindings (
    policy_id VARCHAR(36) NOT NULL, 
    port_id VARCHAR(36) NOT NULL, 
    FOREIGN KEY(policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE, 
    UNIQUE (port_id), 
    FOREIGN KEY(port_id) REFERENCES ports (id) ON DELETE CASCADE
);

CREATE TABLE qos_bandwidth_limit_rules (
    id VARCHAR(36) NOT NULL, 
    qos_policy_id VARCHAR(36) NOT NULL, 
    max_kbps INTEGER, 
    max_burst_kbps INTEGER, 
    PRIMARY KEY (id), 
    UNIQUE (qos_policy_id), 
    FOREIGN KEY(qos_policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE
);
