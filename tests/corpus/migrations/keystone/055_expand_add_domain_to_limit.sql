-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/055_expand_add_domain_to_limit.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE "limit" ADD COLUMN domain_id VARCHAR(64);
