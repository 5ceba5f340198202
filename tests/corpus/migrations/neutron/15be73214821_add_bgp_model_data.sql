-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/15be73214821_add_bgp_model_data.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE bgp_speakers (
    id VARCHAR(36) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    local_as INTEGER NOT NULL, 
    ip_version INTEGER NOT NULL, 
    tenant_id VARCHAR(255), 
    advertise_floating_ip_host_routes BOOLEAN NOT NULL, 
    advertise_tenant_networks BOOLEAN NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_bgp_speakers_tenant_id ON bgp_speakers (tenant_id);

CREATE TABLE bgp_peers (
    id VARCHAR(36) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    auth_type VARCHAR(16) NOT NULL, 
    password VARCHAR(255), 
    peer_ip VARCHAR(64) NOT NULL, 
    remote_as INTEGER NOT NULL, 
    tenant_id VARCHAR(255), 
    PRIMARY KEY (id)
);

CREATE INDEX ix_bgp_peers_tenant_id ON bgp_peers (tenant_id);

CREATE TABLE bgp_speaker_network_bindings (
    bgp_speaker_id VARCHAR(36) NOT NULL, 
    network_id VARCHAR(36), 
    ip_version INTEGER NOT NULL, 
    PRIMARY KEY (network_id, bgp_speaker_id, ip_version), 
    FOREIGN KEY(bgp_speaker_id) REFERENCES bgp_speakers (id) ON DELETE CASCADE, 
    FOREIGN KEY(network_id) REFERENCES networks (id) ON DELETE CASCADE
);

CREATE TABLE bgp_speaker_peer_bindings (
    bgp_speaker_id VARCHAR(36) NOT NULL, 
    bgp_peer_id VARCHAR(36) NOT NULL, 
    PRIMARY KEY (bgp_speaker_id, bgp_peer_id), 
    FOREIGN KEY(bgp_speaker_id) REFERENCES bgp_speakers (id) ON DELETE CASCADE, 
    FOREIGN KEY(bgp_peer_id) REFERENCES bgp_peers (id) ON DELETE CASCADE
);
