-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/064_expand_add_remote_id_attribute_to_federation_protocol_table.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE federation_protocol ADD COLUMN remote_id_attribute VARCHAR(64);
