-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/8675309a5c4f_rbac_network.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE networkrbacs (
    id VARCHAR(36) NOT NULL, 
    object_id VARCHAR(36) NOT NULL, 
    tenant_id VARCHAR(255), 
    target_tenant VARCHAR(255) NOT NULL, 
    action VARCHAR(255) NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(object_id) REFERENCES networks (id) ON DELETE CASCADE, 
    CONSTRAINT uniq_networkrbacs0tenant_target0object_id0action UNIQUE (action, object_id, target_tenant)
);

CREATE INDEX ix_networkrbacs_tenant_id ON networkrbacs (tenant_id);
