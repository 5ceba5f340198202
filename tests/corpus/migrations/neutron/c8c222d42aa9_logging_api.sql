-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/pike/expand/c8c222d42aa9_logging_api.py
-- label: expand
-- why: Neutron alembic branch 'expand' (pike/expand)
CREATE TABLE logs (
    project_id VARCHAR(255), 
    id VARCHAR(36) NOT NULL, 
    standard_attr_id BIGINT NOT NULL, 
    name VARCHAR(255), 
    resource_type VARCHAR(36) NOT NULL, 
    resource_id VARCHAR(36), 
    target_id VARCHAR(36), 
    event VARCHAR(255) NOT NULL, 
    enabled BOOLEAN, 
    PRIMARY KEY (id), 
    FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE, 
    UNIQUE (standard_attr_id)
);

CREATE INDEX ix_logs_resource_id ON logs (resource_id);

CREATE INDEX ix_logs_target_id ON logs (target_id);

CREATE INDEX ix_logs_project_id ON logs (project_id);
