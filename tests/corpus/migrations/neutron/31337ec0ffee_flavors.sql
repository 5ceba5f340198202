-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/31337ec0ffee_flavors.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE flavors (
    id VARCHAR(36) NOT NULL, 
    name VARCHAR(255), 
    description VARCHAR(1024), 
    enabled BOOLEAN DEFAULT true NOT NULL, 
    service_type VARCHAR(36), 
    PRIMARY KEY (id)
);

CREATE TABLE serviceprofiles (
    id VARCHAR(36) NOT NULL, 
    description VARCHAR(1024), 
    driver VARCHAR(1024) NOT NULL, 
    enabled BOOLEAN DEFAULT true NOT NULL, 
    metainfo VARCHAR(4096), 
    PRIMARY KEY (id)
);

CREATE TABLE flavorserviceprofilebindings (
    service_profile_id VARCHAR(36) NOT NULL, 
    flavor_id VARCHAR(36) NOT NULL, 
    PRIMARY KEY (service_profile_id, flavor_id), 
    FOREIGN KEY(service_profile_id) REFERENCES serviceprofiles (id), 
    FOREIGN KEY(flavor_id) REFERENCES flavors (id)
);
