-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/0f5bef0f87d4_add_qos_minimum_bandwidth_rules.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE TYPE directions AS ENUM ('egress', 'ingress');

CREATE TABLE qos_minimum_bandwidth_rules (
    id VARCHAR(36) NOT NULL, 
    qos_policy_id VARCHAR(36) NOT NULL, 
    min_kbps INTEGER, 
    direction directions DEFAULT 'egress' NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT qos_minimum_bandwidth_rules0qos_policy_id0direction UNIQUE (qos_policy_id, direction), 
    FOREIGN KEY(qos_policy_id) REFERENCES qos_policies (id) ON DELETE CASCADE
);

CREATE INDEX ix_qos_minimum_bandwidth_rules_qos_policy_id ON qos_minimum_bandwidth_rules (qos_policy_id);
