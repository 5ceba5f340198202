-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/066_expand_add_role_and_project_option_tables.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE TABLE project_option (
    project_id VARCHAR(64) NOT NULL, 
    option_id VARCHAR(4) NOT NULL, 
    option_value TEXT, 
    PRIMARY KEY (project_id, option_id), 
    FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);

CREATE TABLE role_option (
    role_id VARCHAR(64) NOT NULL, 
    option_id VARCHAR(4) NOT NULL, 
    option_value TEXT, 
    PRIMARY KEY (role_id, option_id), 
    FOREIGN KEY(role_id) REFERENCES role (id) ON DELETE CASCADE
);
