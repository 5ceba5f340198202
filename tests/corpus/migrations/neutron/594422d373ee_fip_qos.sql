-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/queens/expand/594422d373ee_fip_qos.py
-- label: expand
-- why: Neutron alembic branch 'expand' (queens/expand)
CREATE TABLE qos_fip_policy_bindings (
    policy_id VARCHAR(36) NOT NULL, 
    fip_id VARCHAR(36) NOT NULL, 
    FOREIGN KEY(policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE, 
    UNIQUE (fip_id), 
    FOREIGN KEY(fip_id) REFERENCES floatingips (id) ON DELETE CASCADE
);
