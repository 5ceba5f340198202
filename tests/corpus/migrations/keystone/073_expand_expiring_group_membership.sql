-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/073_expand_expiring_group_membership.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
ALTER TABLE identity_provider ADD COLUMN authorization_ttl INTEGER;

CREATE TABLE expiring_user_group_membership (
    user_id VARCHAR(64) NOT NULL, 
    group_id VARCHAR(64) NOT NULL, 
    idp_id VARCHAR(64) NOT NULL, 
    last_verified TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    PRIMARY KEY (user_id, group_id, idp_id), 
    FOREIGN KEY(user_id) REFERENCES "user" (id), 
    FOREIGN KEY(group_id) REFERENCES "group" (id), 
    FOREIGN KEY(idp_id) REFERENCES identity_provider (id) ON DELETE CASCADE
);
