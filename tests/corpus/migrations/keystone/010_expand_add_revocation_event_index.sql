-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/010_expand_add_revocation_event_index.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE INDEX ix_revocation_event_issued_before ON revocation_event (issued_before);

CREATE INDEX ix_revocation_event_project_id_issued_before ON revocation_event (project_id, issued_before);

CREATE INDEX ix_revocation_event_user_id_issued_before ON revocation_event (user_id, issued_before);

CREATE INDEX ix_revocation_event_audit_id_issued_before ON revocation_event (audit_id, issued_before);
