-- source: openstack/keystone/keystone/common/sql/migrations/versions/2026.1/expand/742c857f1dfb_add_index_in_revocation_event.py
-- label: expand
-- why: Keystone alembic branch 'expand' (2026.1/expand); keystone-manage db_sync --expand
CREATE INDEX ix_revocation_event_project_id_user_id ON revocation_event (project_id, user_id);

CREATE INDEX ix_revocation_event_composite ON revocation_event (issued_before, user_id, project_id, audit_id);
