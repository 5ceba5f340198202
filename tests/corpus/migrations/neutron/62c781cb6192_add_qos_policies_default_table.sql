-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/pike/expand/62c781cb6192_add_qos_policies_default_table.py
-- label: expand
-- why: Neutron alembic branch 'expand' (pike/expand)
CREATE TABLE qos_policies_default (
    qos_policy_id VARCHAR(36) NOT NULL, 
    project_id VARCHAR(255) NOT NULL, 
    PRIMARY KEY (project_id), 
    FOREIGN KEY(qos_policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE
);
