-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/022_expand_add_default_project_id_index.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE INDEX ix_default_project_id ON "user" (default_project_id);
