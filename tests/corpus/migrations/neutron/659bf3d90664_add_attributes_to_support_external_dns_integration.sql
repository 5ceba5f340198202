-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/659bf3d90664_add_attributes_to_support_external_dns_integration.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE networkdnsdomains (
    network_id VARCHAR(36) NOT NULL, 
    dns_domain VARCHAR(255) NOT NULL, 
    PRIMARY KEY (network_id), 
    FOREIGN KEY(network_id) REFERENCES networks (id) ON DELETE CASCADE
);

CREATE TABLE floatingipdnses (
    floatingip_id VARCHAR(36) NOT NULL, 
    dns_name VARCHAR(255) NOT NULL, 
    dns_domain VARCHAR(255) NOT NULL, 
    published_dns_name VARCHAR(255) NOT NULL, 
    published_dns_domain VARCHAR(255) NOT NULL, 
    PRIMARY KEY (floatingip_id), 
    FOREIGN KEY(floatingip_id) REFERENCES floatingips (id) ON DELETE CASCADE
);

CREATE TABLE portdnses (
    port_id VARCHAR(36) NOT NULL, 
    current_dns_name VARCHAR(255) NOT NULL, 
    current_dns_domain VARCHAR(255) NOT NULL, 
    previous_dns_name VARCHAR(255) NOT NULL, 
    previous_dns_domain VARCHAR(255) NOT NULL, 
    PRIMARY KEY (port_id), 
    FOREIGN KEY(port_id) REFERENCES ports (id) ON DELETE CASCADE
);
