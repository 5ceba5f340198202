-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/062_expand_extract_redelegation_data_from_extras.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE trust ADD COLUMN redelegated_trust_id VARCHAR(64);

ALTER TABLE trust ADD COLUMN redelegation_count INTEGER;
