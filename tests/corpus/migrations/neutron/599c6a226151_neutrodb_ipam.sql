-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/599c6a226151_neutrodb_ipam.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE ipamsubnets (
    id VARCHAR(36) NOT NULL, 
    neutron_subnet_id VARCHAR(36), 
    PRIMARY KEY (id)
);

CREATE TABLE ipamallocations (
    ip_address VARCHAR(64) NOT NULL, 
    status VARCHAR(36), 
    ipam_subnet_id VARCHAR(36) NOT NULL, 
    PRIMARY KEY (ip_address, ipam_subnet_id), 
    FOREIGN KEY(ipam_subnet_id) REFERENCES ipamsubnets (id) ON DELETE CASCADE
);

CREATE TABLE ipamallocationpools (
    id VARCHAR(36) NOT NULL, 
    ipam_subnet_id VARCHAR(36) NOT NULL, 
    first_ip VARCHAR(64) NOT NULL, 
    last_ip VARCHAR(64) NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(ipam_subnet_id) REFERENCES ipamsubnets (id) ON DELETE CASCADE
);

CREATE TABLE ipamavailabilityranges (
    allocation_pool_id VARCHAR(36) NOT NULL, 
    first_ip VARCHAR(64) NOT NULL, 
    last_ip VARCHAR(64) NOT NULL, 
    PRIMARY KEY (allocation_pool_id, first_ip, last_ip), 
    FOREIGN KEY(allocation_pool_id) REFERENCES ipamallocationpools (id) ON DELETE CASCADE
);

CREATE INDEX ix_ipamavailabilityranges_first_ip_allocation_pool_id ON ipamavailabilityranges (first_ip, allocation_pool_id);

CREATE INDEX ix_ipamavailabilityranges_last_ip_allocation_pool_id ON ipamavailabilityranges (last_ip, allocation_pool_id);
