-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/031_expand_system_assignment_table.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE TABLE system_assignment (
    type VARCHAR(64) NOT NULL, 
    actor_id VARCHAR(64) NOT NULL, 
    target_id VARCHAR(64) NOT NULL, 
    role_id VARCHAR(64) NOT NULL, 
    inherited BOOLEAN NOT NULL, 
    PRIMARY KEY (type, actor_id, target_id, role_id, inherited)
);
