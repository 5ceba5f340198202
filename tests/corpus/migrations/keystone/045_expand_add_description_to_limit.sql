-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/045_expand_add_description_to_limit.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE registered_limit ADD COLUMN description TEXT;

ALTER TABLE "limit" ADD COLUMN description TEXT;
