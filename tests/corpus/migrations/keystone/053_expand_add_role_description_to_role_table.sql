-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/053_expand_add_role_description_to_role_table.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE role ADD COLUMN description VARCHAR(255);
