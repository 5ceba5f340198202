-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/016_expand_add_user_options.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE TABLE user_option (
    user_id VARCHAR(64) NOT NULL, 
    option_id VARCHAR(4) NOT NULL, 
    option_value TEXT, 
    PRIMARY KEY (user_id, option_id), 
    FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE CASCADE
);
