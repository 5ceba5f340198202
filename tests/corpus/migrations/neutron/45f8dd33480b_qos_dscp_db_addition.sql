-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/45f8dd33480b_qos_dscp_db_addition.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE TABLE qos_dscp_marking_rules (
    id VARCHAR(36) NOT NULL, 
    qos_policy_id VARCHAR(36) NOT NULL, 
    dscp_mark INTEGER, 
    PRIMARY KEY (id), 
    UNIQUE (qos_policy_id), 
    FOREIGN KEY(qos_policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE
);
