-- source: openstack/keystone/keystone/common/sql/expand_repo/versions/033_expand_add_limits_tables.py
-- label: expand
-- why: Keystone expand_repo (keystone-manage db_sync --expand runs this repo in the expand step)
CREATE TABLE registered_limit (
    id VARCHAR(64) NOT NULL, 
    service_id VARCHAR(255), 
    region_id VARCHAR(64), 
    resource_name VARCHAR(255), 
    default_limit INTEGER NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (service_id, region_id, resource_name), 
    FOREIGN KEY(service_id) REFERENCES service (id), 
    FOREIGN KEY(region_id) REFERENCES region (id)
);

CREATE TABLE "limit" (
    id VARCHAR(64) NOT NULL, 
    project_id VARCHAR(64), 
    service_id VARCHAR(255), 
    region_id VARCHAR(64), 
    resource_name VARCHAR(255), 
    resource_limit INTEGER NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (project_id, service_id, region_id, resource_name), 
    FOREIGN KEY(project_id) REFERENCES project (id)
);

ALTER TABLE "limit" ADD FOREIGN KEY(service_id, region_id, resource_name) REFERENCES registered_limit (service_id, region_id, resource_name);
