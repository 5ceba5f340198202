-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/024_expand_create_created_at_int_columns.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE password ADD COLUMN created_at_int BIGINT;

ALTER TABLE password ADD COLUMN expires_at_int BIGINT;
