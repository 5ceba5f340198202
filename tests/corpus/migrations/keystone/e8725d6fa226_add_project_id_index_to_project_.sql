-- source: openstack/keystone/keystone/common/sql/migrations/versions/2025.2/expand/e8725d6fa226_add_project_id_index_to_project_.py
-- label: expand
-- why: Keystone alembic branch 'expand' (2025.2/expand); keystone-manage db_sync --expand
CREATE INDEX idx_project_id ON project_endpoint_group (project_id);
