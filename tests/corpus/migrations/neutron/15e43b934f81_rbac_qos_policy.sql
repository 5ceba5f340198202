-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/15e43b934f81_rbac_qos_policy.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE qospolicyrbacs (
    id VARCHAR(36) NOT NULL, 
    tenant_id VARCHAR(255), 
    target_tenant VARCHAR(255) NOT NULL, 
    action VARCHAR(255) NOT NULL, 
    object_id VARCHAR(36) NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(object_id) REFERENCES qos_policies (id) ON DELETE CASCADE, 
    UNIQUE (target_tenant, object_id, action)
);

CREATE INDEX ix_qospolicyrbacs_tenant_id ON qospolicyrbacs (tenant_id);
