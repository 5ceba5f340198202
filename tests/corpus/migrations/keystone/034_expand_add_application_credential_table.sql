-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/034_expand_add_application_credential_table.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE TABLE application_credential (
    internal_id SERIAL NOT NULL, 
    id VARCHAR(64) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    secret_hash VARCHAR(255) NOT NULL, 
    description TEXT, 
    user_id VARCHAR(64) NOT NULL, 
    project_id VARCHAR(64) NOT NULL, 
    expires_at BIGINT, 
    allow_application_credential_creation BOOLEAN, 
    PRIMARY KEY (internal_id), 
    CONSTRAINT duplicate_app_cred_constraint UNIQUE (user_id, name)
);

CREATE TABLE application_credential_role (
    application_credential_id INTEGER NOT NULL, 
    role_id VARCHAR(64) NOT NULL, 
    PRIMARY KEY (application_credential_id, role_id), 
    FOREIGN KEY(application_credential_id) REFERENCES application_credential (internal_id) ON DELETE CASCADE
);
